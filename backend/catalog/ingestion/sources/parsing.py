"""Defensive field parsers and a streaming CSV reader shared by the file-based sources."""

from __future__ import annotations

import ast
import csv
import math
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from catalog.ingestion.records import SkippedRow
from catalog.ingestion.sources.base import SourceError

# Kaggle's credits.csv holds cast/crew lists of several MB in one field; csv's default is 128 KB.
# 2**31 - 1 is the largest value the C implementation accepts on every platform.
_FIELD_SIZE_LIMIT = min(sys.maxsize, 2**31 - 1)

_YEAR_PREFIX = re.compile(r"^\s*(\d{4})(?!\d)")
MAX_ID = 2**31 - 1
MIN_YEAR = 1870
MAX_YEAR = 2100


def clean_text(value: object) -> str:
    """A stripped string; anything that is not a string (None, numbers from JSON) becomes ""."""
    return value.strip() if isinstance(value, str) else ""


def parse_int(value: object) -> int | None:
    """An int from "42", " 42 ", "42.0" or 42; None for anything else (never raises)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if math.isfinite(number) and number.is_integer() else None


def parse_float(value: object) -> float | None:
    """A finite float from a number or numeric string; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def parse_positive_int(value: object) -> int | None:
    """Like parse_int, but 0 and negatives (TMDB's "unknown" runtime) become None."""
    number = parse_int(value)
    if number is None:
        number = _rounded(parse_float(value))
    return number if number is not None and number > 0 else None


def _rounded(value: float | None) -> int | None:
    return round(value) if value is not None else None


def parse_date(value: object) -> date | None:
    """A date from ISO "YYYY-MM-DD" (time part ignored); None when absent or invalid."""
    text = clean_text(value)
    if len(text) < 10:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def parse_year(value: object) -> int | None:
    """A plausible release year from 1999, "1999" or "1999-03-31"; None otherwise."""
    year = parse_int(value)
    if year is None:
        match = _YEAR_PREFIX.match(value) if isinstance(value, str) else None
        year = int(match.group(1)) if match else None
    return year if year is not None and MIN_YEAR <= year <= MAX_YEAR else None


def release_year(release_date: date | None, fallback: object = None) -> int | None:
    """The year of release_date when known, else the fallback parsed as a year."""
    if release_date is not None:
        return release_date.year
    return parse_year(fallback)


def clean_names(values: Iterable[object]) -> tuple[str, ...]:
    """Stripped, non-empty strings in order, without repeats (non-strings are dropped)."""
    out: list[str] = []
    for value in values:
        text = " ".join(clean_text(value).split())
        if text and text not in out:
            out.append(text)
    return tuple(out)


def parse_literal(text: str) -> Any:
    """A Python literal (the Kaggle files store lists of dicts as repr text); None if invalid.

    ast.literal_eval only builds literals, so a hostile field cannot run code.
    """
    text = text.strip()
    if not text:
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def literal_names(text: str) -> tuple[str, ...]:
    """The "name" values of a literal list of dicts such as "[{'id': 16, 'name': 'Animation'}]"."""
    value = parse_literal(text)
    if not isinstance(value, list):
        return ()
    return clean_names(item.get("name") for item in value if isinstance(item, dict))


def top_cast(cast: object, size: int = 5) -> tuple[str, ...]:
    """The first `size` names of a TMDB cast list ([{name, order}, ...]) in billing order."""
    if not isinstance(cast, list):
        return ()
    members = [member for member in cast if isinstance(member, dict)]
    # Members without a usable order go last, keeping their list order (sort is stable).
    members.sort(key=lambda member: _billing_order(member.get("order")))
    return clean_names(member.get("name") for member in members)[:size]


def _billing_order(value: object) -> int:
    order = parse_int(value)
    return order if order is not None else sys.maxsize


def director_name(crew: object) -> str:
    """The first crew member whose job is "Director" in a TMDB crew list; "" when none."""
    if not isinstance(crew, list):
        return ""
    for member in crew:
        if isinstance(member, dict) and member.get("job") == "Director":
            name = clean_text(member.get("name"))
            if name:
                return name
    return ""


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One CSV record: its fields by column name and the physical line it starts on."""

    line: int
    values: dict[str, str]


def iter_csv(
    path: Path,
    *,
    required: Sequence[str],
    what: str,
    exact_width: bool = True,
    id_column: str | None = None,
) -> Iterator[CsvRow | SkippedRow]:
    """Stream a UTF-8 CSV with a header row.

    Raises SourceError when a required column is missing from the header or the file is not
    UTF-8. A record whose field count differs from the header's (Kaggle's shifted rows) is a
    SkippedRow "malformed row"; with exact_width=False only too-short records are (for files
    that sometimes carry trailing empty columns). id_column, when given, is quoted in the
    detail of such rows.
    """
    csv.field_size_limit(_FIELD_SIZE_LIMIT)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = _read_header(reader, path, required, what)
            width = len(header)
            last_line = reader.line_num
            while True:
                start = last_line + 1
                try:
                    fields = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    if reader.line_num == last_line:  # no progress: stop rather than loop
                        raise SourceError(f"{what} {path} is not readable CSV: {exc}") from exc
                    last_line = reader.line_num
                    yield SkippedRow("malformed row", str(exc), start)
                    continue
                last_line = reader.line_num
                if not fields or (len(fields) == 1 and not fields[0].strip()):
                    continue  # blank line
                if len(fields) < width or (exact_width and len(fields) != width):
                    problem = _width_problem(header, fields, id_column)
                    yield SkippedRow("malformed row", problem, start)
                    continue
                yield CsvRow(start, dict(zip(header, fields, strict=False)))
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{what} {path} is not UTF-8 text ({exc.reason} at byte {exc.start}). "
            "Re-save it as UTF-8."
        ) from exc


def _read_header(reader: Any, path: Path, required: Iterable[str], what: str) -> list[str]:
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise SourceError(f"{what} {path} is empty; expected a CSV header row.") from None
    except csv.Error as exc:
        raise SourceError(f"{what} {path} is not readable CSV: {exc}") from exc
    missing = [name for name in required if name not in header]
    if missing:
        raise SourceError(
            f"{what} {path} lacks the column(s) {', '.join(missing)}; "
            f"its header is: {', '.join(header) or '(empty)'}. Is this the right file?"
        )
    return header


def _width_problem(header: list[str], fields: list[str], id_column: str | None) -> str:
    detail = f"{len(fields)} fields, expected {len(header)}"
    # A shifted record shows in its id field (Kaggle's broken rows have a date there).
    if id_column in header and header.index(id_column) < len(fields):
        detail += f"; {id_column} field {fields[header.index(id_column)]!r}"
    text = ",".join(fields)
    preview = text if len(text) <= 80 else text[:79] + "…"
    return f"{detail}: {preview}"


def parse_id(value: object) -> int | None:
    """A positive integer id (TMDB, MovieLens, user ids); None when absent or not one.

    Ids above 2**31 - 1 are refused too: no real one is, and the database column is 32-bit.
    """
    number = parse_int(value)
    return number if number is not None and 0 < number <= MAX_ID else None


def id_problem(raw: object) -> str:
    """The skip reason for an id parse_id rejected: "missing id" or "invalid id"."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return "missing id"
    return "invalid id"
