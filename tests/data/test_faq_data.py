"""Sanity checks for data/faq/faq.jsonl, the answers Marquee gives to questions about itself."""

import json
import re
from collections import Counter
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "data"
FAQ = DATA / "faq" / "faq.jsonl"
LABELLED = DATA / "intents" / "labelled.jsonl"
MIN_ENTRIES = 20
MAX_ANSWER_CHARS = 500  # 1-3 short sentences


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


@pytest.fixture(scope="module")
def entries() -> list[dict]:
    rows = []
    for lineno, line in enumerate(FAQ.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            pytest.fail(f"faq.jsonl:{lineno}: blank line")
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            pytest.fail(f"faq.jsonl:{lineno}: invalid JSON ({exc})")
        if not isinstance(row, dict):
            pytest.fail(f"faq.jsonl:{lineno}: not a JSON object")
        rows.append(row)
    return rows


def test_faq_entries_have_expected_keys_and_types(entries):
    for i, row in enumerate(entries, start=1):
        assert set(row) == {"id", "question", "answer", "alternates"}, f"line {i}: {sorted(row)}"
        for key in ("id", "question", "answer"):
            assert isinstance(row[key], str) and row[key].strip(), f"line {i}: empty {key}"
        assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", row["id"]), f"line {i}: id not a slug"
        assert isinstance(row["alternates"], list) and row["alternates"], f"line {i}: alternates"
        for alternate in row["alternates"]:
            assert isinstance(alternate, str) and alternate.strip(), f"line {i}: empty alternate"


def test_faq_has_enough_entries_with_unique_ids(entries):
    assert len(entries) >= MIN_ENTRIES
    dupes = [k for k, n in Counter(row["id"] for row in entries).items() if n > 1]
    assert not dupes, f"duplicate ids: {dupes}"


def test_faq_answers_are_short(entries):
    long = [row["id"] for row in entries if len(row["answer"]) > MAX_ANSWER_CHARS]
    assert not long, f"answers over {MAX_ANSWER_CHARS} characters: {long}"


def test_faq_no_phrasing_belongs_to_two_entries(entries):
    owners: dict[str, set[str]] = {}
    for row in entries:
        for text in (row["question"], *row["alternates"]):
            owners.setdefault(_normalise(text), set()).add(row["id"])
    shared = {text: ids for text, ids in owners.items() if len(ids) > 1}
    assert not shared, f"phrasings used by several entries: {shared}"


def test_faq_phrasings_are_not_taken_from_the_held_out_intent_set(entries):
    held_out = {
        _normalise(json.loads(line)["text"])
        for line in LABELLED.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    leaked = [
        text
        for row in entries
        for text in (row["question"], *row["alternates"])
        if _normalise(text) in held_out
    ]
    assert not leaked, f"phrasings copied from labelled.jsonl: {leaked}"
