"""Sanity checks for the held-out conversational evaluation set in data/conversations/.

conversations.jsonl is what `make eval` replays through the chat pipeline; these tests only
check its shape and its links to the demo catalog, never how well the system scores on it.
"""

import json
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONVERSATIONS = ROOT / "data" / "conversations" / "conversations.jsonl"
CATALOG = ROOT / "data" / "demo" / "movies.jsonl"
INTENT_FILES = sorted((ROOT / "data" / "intents").glob("*.jsonl"))
QUALITY = ROOT / "data" / "enrichment" / "quality.jsonl"

KEYS = {"id", "turns", "good", "notes"}
TURN_KEYS = {"role", "content"}
ID_PATTERN = re.compile(r"^c\d{3,}$")
MIN_CONVERSATIONS = 70
MIN_MULTI_TURN_SHARE = 0.40
MIN_GOOD = 1
MAX_GOOD = 20


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


def _read_jsonl(path: Path) -> list[dict]:
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


def _user_texts(row: dict) -> list[str]:
    return [turn["content"] for turn in row["turns"] if turn["role"] == "user"]


@pytest.fixture(scope="module")
def conversations() -> list[dict]:
    return _read_jsonl(CONVERSATIONS)


@pytest.fixture(scope="module")
def catalog_ids() -> set[int]:
    return {row["tmdb_id"] for row in _read_jsonl(CATALOG)}


def test_conversation_rows_have_expected_shape(conversations):
    for i, row in enumerate(conversations, start=1):
        assert set(row) == KEYS, f"line {i}: keys {sorted(row)}"
        assert isinstance(row["id"], str) and ID_PATTERN.match(row["id"]), f"line {i}: bad id"
        assert isinstance(row["notes"], str) and row["notes"].strip(), f"{row['id']}: no notes"
        assert isinstance(row["turns"], list) and row["turns"], f"{row['id']}: no turns"
        for turn in row["turns"]:
            assert isinstance(turn, dict) and set(turn) == TURN_KEYS, f"{row['id']}: bad turn"
            assert turn["role"] in {"user", "assistant"}, f"{row['id']}: role {turn['role']!r}"
            assert isinstance(turn["content"], str) and turn["content"].strip(), (
                f"{row['id']}: empty turn"
            )
        good = row["good"]
        assert isinstance(good, list), f"{row['id']}: good is not a list"
        assert all(isinstance(g, int) and not isinstance(g, bool) for g in good), (
            f"{row['id']}: good ids must be integers"
        )


def test_conversation_ids_unique(conversations):
    dupes = [k for k, n in Counter(row["id"] for row in conversations).items() if n > 1]
    assert not dupes, f"duplicate ids: {dupes}"


def test_conversation_count(conversations):
    assert len(conversations) >= MIN_CONVERSATIONS


def test_conversation_roles_alternate_and_end_with_user(conversations):
    for row in conversations:
        roles = [turn["role"] for turn in row["turns"]]
        expected = ["user" if i % 2 == 0 else "assistant" for i in range(len(roles))]
        assert roles == expected, f"{row['id']}: roles {roles} do not alternate from user"
        assert roles[-1] == "user", f"{row['id']}: last turn is not the user's"


def test_conversation_multi_turn_share(conversations):
    multi = sum(1 for row in conversations if len(_user_texts(row)) > 1)
    share = multi / len(conversations)
    assert share >= MIN_MULTI_TURN_SHARE, f"only {share:.0%} of conversations are multi-turn"


def test_conversation_good_ids_in_catalog(conversations, catalog_ids):
    for row in conversations:
        good = row["good"]
        assert MIN_GOOD <= len(good) <= MAX_GOOD, f"{row['id']}: {len(good)} good ids"
        assert len(set(good)) == len(good), f"{row['id']}: repeated good ids"
        unknown = sorted(set(good) - catalog_ids)
        assert not unknown, f"{row['id']}: ids not in the demo catalog: {unknown}"


def test_conversation_user_texts_not_duplicated(conversations):
    owners: dict[str, set[str]] = {}
    for row in conversations:
        for text in _user_texts(row):
            owners.setdefault(_normalise(text), set()).add(row["id"])
    dupes = {text: sorted(ids) for text, ids in owners.items() if len(ids) > 1}
    assert not dupes, f"user texts used in more than one conversation: {dupes}"


def test_conversation_user_texts_not_copied_from_other_sets(conversations):
    other = set()
    for path in INTENT_FILES:
        other |= {_normalise(row["text"]) for row in _read_jsonl(path)}
    if QUALITY.exists():
        for row in _read_jsonl(QUALITY):
            other.add(_normalise(row["message"]))
            other |= {_normalise(turn["content"]) for turn in row.get("history", [])}
    leaked = sorted(
        f"{row['id']}: {text}"
        for row in conversations
        for text in _user_texts(row)
        if _normalise(text) in other
    )
    assert not leaked, f"user texts copied from the intent/enrichment data: {leaked}"
