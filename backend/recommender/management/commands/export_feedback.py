"""`manage.py export_feedback [--output PATH]`: rated chat turns as JSONL for fine-tune/."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from recommender.selectors import feedback_export_rows


class Command(BaseCommand):
    help = "Write every rated assistant turn (request, enrichment, reply, ratings) as JSON lines."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            default=settings.VAR_DIR / "exports" / "feedback.jsonl",
            help="where to write (default: var/exports/feedback.jsonl)",
        )

    def handle(self, *args, output: Path, **options) -> None:
        output.parent.mkdir(parents=True, exist_ok=True)
        partial = output.with_suffix(output.suffix + ".partial")
        count = 0
        with partial.open("w", encoding="utf-8") as out:
            for row in feedback_export_rows():
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
        partial.replace(output)  # readers never see a half-written file
        self.stdout.write(f"exported {count} rated turns to {output}")
