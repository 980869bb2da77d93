"""Sanity checks for the intent-router data in data/intents/.

exemplars.jsonl feeds the similarity router; labelled.jsonl is the held-out measuring set.
"""

import json
from collections import Counter
from pathlib import Path

import pytest

INTENT_DIR = Path(__file__).resolve().parents[2] / "data" / "intents"
EXEMPLARS = INTENT_DIR / "exemplars.jsonl"
LABELLED = INTENT_DIR / "labelled.jsonl"

INTENTS = {"recommend", "similar", "movie_info", "faq", "chitchat", "out_of_scope"}
MIN_EXEMPLARS_PER_INTENT = 15
MIN_LABELLED_TOTAL = 200
MIN_LABELLED_PER_INTENT = 25


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


def _load(path: Path) -> list[dict]:
    rows = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            pytest.fail(f"{path.name}:{lineno}: blank line")
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            pytest.fail(f"{path.name}:{lineno}: invalid JSON ({exc})")
        if not isinstance(row, dict):
            pytest.fail(f"{path.name}:{lineno}: not a JSON object")
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def exemplar_rows() -> list[dict]:
    return _load(EXEMPLARS)


@pytest.fixture(scope="module")
def labelled_rows() -> list[dict]:
    return _load(LABELLED)


def test_intent_exemplars_have_expected_keys_and_labels(exemplar_rows):
    for i, row in enumerate(exemplar_rows, start=1):
        assert set(row) == {"intent", "text"}, f"line {i}: keys {sorted(row)}"
        assert row["intent"] in INTENTS, f"line {i}: unknown intent {row['intent']!r}"
        assert isinstance(row["text"], str) and row["text"].strip(), f"line {i}: empty text"


def test_intent_labelled_has_expected_keys_and_labels(labelled_rows):
    for i, row in enumerate(labelled_rows, start=1):
        assert set(row) == {"id", "intent", "text"}, f"line {i}: keys {sorted(row)}"
        assert isinstance(row["id"], str) and row["id"], f"line {i}: bad id"
        assert row["intent"] in INTENTS, f"line {i}: unknown intent {row['intent']!r}"
        assert isinstance(row["text"], str) and row["text"].strip(), f"line {i}: empty text"


def test_intent_exemplars_cover_every_intent(exemplar_rows):
    counts = Counter(row["intent"] for row in exemplar_rows)
    short = {i: counts[i] for i in INTENTS if counts[i] < MIN_EXEMPLARS_PER_INTENT}
    assert not short, f"too few exemplars: {short}"


def test_intent_labelled_size_and_coverage(labelled_rows):
    assert len(labelled_rows) >= MIN_LABELLED_TOTAL
    counts = Counter(row["intent"] for row in labelled_rows)
    short = {i: counts[i] for i in INTENTS if counts[i] < MIN_LABELLED_PER_INTENT}
    assert not short, f"too few labelled examples: {short}"


def test_intent_labelled_ids_unique(labelled_rows):
    dupes = [k for k, n in Counter(row["id"] for row in labelled_rows).items() if n > 1]
    assert not dupes, f"duplicate ids: {dupes}"


@pytest.mark.parametrize("which", ["exemplars", "labelled"])
def test_intent_no_duplicate_texts_within_file(which, exemplar_rows, labelled_rows):
    rows = exemplar_rows if which == "exemplars" else labelled_rows
    counts = Counter(_normalise(row["text"]) for row in rows)
    dupes = [t for t, n in counts.items() if n > 1]
    assert not dupes, f"duplicate texts in {which}: {dupes}"


def test_intent_no_overlap_between_exemplars_and_labelled(exemplar_rows, labelled_rows):
    exemplar_texts = {_normalise(row["text"]) for row in exemplar_rows}
    leaked = sorted(
        row["text"] for row in labelled_rows if _normalise(row["text"]) in exemplar_texts
    )
    assert not leaked, f"labelled texts also used as exemplars: {leaked}"
