"""fine-tune/build_data.py: deterministic, truthful, leak-free request→intent pairs."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import build_data
import pytest
from build_data import (
    BuildOptions,
    HeldOutGuard,
    build,
    feedback_pairs,
    held_out_texts,
    load_catalog,
    serving_enrichment,
)
from qa_format import HELD_OUT_FILE, TRAIN_FILE, Pair, read_pairs, write_pairs

from model_service.enrichment import MOOD_WORDS, title_named
from model_service.prompts.answer_format import ANSWER_FIELDS
from movie_constraints import GENRES

SMALL = 400


@pytest.fixture(scope="module")
def small_build() -> build_data.BuildReport:
    return build(BuildOptions(count=SMALL, feedback=None))


@pytest.fixture(scope="module")
def committed() -> list[Pair]:
    return read_pairs(TRAIN_FILE)


@pytest.fixture(scope="module")
def catalog_titles() -> set[str]:
    return {film.title for film in load_catalog()}


def _bytes(pairs: list[Pair], path: Path) -> bytes:
    write_pairs(pairs, path)
    return path.read_bytes()


def test_same_seed_gives_a_byte_identical_file(tmp_path, small_build):
    again = build(BuildOptions(count=SMALL, feedback=None))
    assert _bytes(small_build.pairs, tmp_path / "a.jsonl") == _bytes(
        again.pairs, tmp_path / "b.jsonl"
    )
    other = build(BuildOptions(count=SMALL, seed=14, feedback=None))
    assert _bytes(other.pairs, tmp_path / "c.jsonl") != (tmp_path / "a.jsonl").read_bytes()


def test_the_committed_file_is_the_default_build(committed):
    """data/qa/train.jsonl is what `make qa-data` writes (without rated chats)."""
    assert len(committed) >= 3000
    synthetic = [p for p in committed if p.source == "synthetic"]
    rebuilt = build(BuildOptions(feedback=None)).pairs
    assert [p.to_json() for p in synthetic] == [p.to_json() for p in rebuilt]


def test_pairs_are_well_formed(committed, catalog_titles):
    assert len({p.id for p in committed}) == len(committed)
    for pair in committed:
        answer = pair.answer
        assert list(answer) == list(ANSWER_FIELDS)
        assert set(answer["genres"]) <= set(GENRES) and len(answer["genres"]) <= 2
        assert len(answer["keywords"]) <= 3 and len(answer["reference_titles"]) <= 3
        assert answer["search_text"].strip()
        user_text = " ".join([*(c for r, c in pair.history if r == "user"), pair.message])
        for title in answer["reference_titles"]:
            if pair.source == "synthetic":
                assert title in catalog_titles, title  # spelled exactly as in the catalog
            assert title_named(title, user_text), (title, user_text)
            # the search text describes the kind of film, it does not name it
            assert not title_named(title, answer["search_text"]), pair
        json.loads(pair.target())
        assert pair.prompt("smollm")[-1].content.endswith(" ".join(pair.message.split()))


def test_enrichment_is_what_the_service_returns_for_the_answer(committed):
    for pair in committed[:: max(1, len(committed) // 400)]:
        assert pair.enrichment == serving_enrichment(pair.answer, pair.message, pair.history)
        assert set(pair.enrichment["moods"]) <= MOOD_WORDS
        assert not set(pair.enrichment["genres"]) & set(pair.enrichment["exclude_genres"])


def test_requests_are_varied(committed):
    templates = Counter(p.template for p in committed if p.source == "synthetic")
    assert len(templates) >= 10 and min(templates.values()) >= 50, templates
    assert sum(1 for p in committed if p.history) / len(committed) >= 0.1
    messages = [p.message for p in committed]
    assert len(set(messages)) / len(messages) > 0.95
    lowercase = sum(1 for m in messages if m == m.lower())
    assert 0.3 < lowercase / len(messages) < 0.9
    # follow-ups carry a user request and an assistant reply before them
    for pair in committed:
        if pair.history:
            assert [role for role, _ in pair.history[:2]] == ["user", "assistant"]


def test_no_request_is_near_a_held_out_one(committed):
    guard = HeldOutGuard(held_out_texts(HELD_OUT_FILE))
    assert len(guard) >= 100
    for pair in committed:
        for text in [pair.message, *(c for r, c in pair.history if r == "user")]:
            assert guard.match(text) is None, text


def test_the_guard_catches_near_duplicates():
    guard = HeldOutGuard(["Best 80s action movies?", "horror comedy", "a german war movie"])
    assert guard.match("best 80s action movies") == "Best 80s action movies?"
    assert guard.match("Horror comedies please") == "horror comedy"
    assert guard.match("a German war film") == "a german war movie"
    assert guard.match("german war movies!!") == "a german war movie"
    assert guard.match("a quiet japanese drama about grief") is None
    assert guard.match("something like Heat") is None


def test_requests_near_held_out_ones_are_dropped(tmp_path):
    # A held-out set that states the commonest phrasing of every catalog title.
    held = tmp_path / "held.jsonl"
    with held.open("w") as out:
        for number, film in enumerate(load_catalog()):
            row = {"id": f"h{number}", "message": f"something like {film.title}"}
            out.write(json.dumps(row) + "\n")
    report = build(BuildOptions(count=300, feedback=None, held_out=held))
    dropped = report.stats["dropped: near a held-out request (quality set)"]
    assert dropped > 0
    guard = HeldOutGuard(held_out_texts(held))
    assert all(guard.match(p.message) is None for p in report.pairs)
    assert "near a held-out request" in report.summary()


FEEDBACK_ROWS = [
    {  # thumbs up, with the enrichment the service returned
        "message_id": 11,
        "request": "something cozy with a dog in it",
        "history": [],
        "intent": "recommend",
        "understanding": {"search_text": "cozy dog"},
        "enrichment": {
            "genres": ["Family", "Comedy", "Animation"],
            "exclude_genres": [],
            "themes": ["dog"],
            "moods": ["cozy"],
            "reference_titles": [],
            "year_min": None,
            "year_max": None,
            "language": None,
            "search_text": "cozy family comedy about a dog",
            "fallback": False,
        },
        "rating": 1,
        "movie_ratings": {},
    },
    {  # thumbs up, no enrichment (the rules explained it): the understanding teaches
        "message_id": 12,
        "request": "more like Heat but from the 80s",
        "history": [
            {"role": "user", "content": "films about bank robbers"},
            {"role": "assistant", "content": "Try Heat (1995) or Inside Man (2006)."},
        ],
        "intent": "similar",
        "understanding": {
            "linked_titles": [{"id": 949, "title": "Heat", "confidence": 0.9}],
            "constraints": {"genres": ["Crime"], "year_min": 1980, "year_max": 1989},
            "search_text": "heist crime film",
        },
        "enrichment": None,
        "rating": 1,
        "movie_ratings": {"949": 1},
    },
    {  # thumbs down: skipped
        "message_id": 13,
        "request": "a scary one",
        "understanding": {"search_text": "scary"},
        "enrichment": {"genres": ["Horror"], "search_text": "scary horror film"},
        "rating": -1,
        "movie_ratings": {},
    },
    {  # only a film rated down: skipped
        "message_id": 14,
        "request": "sci-fi please",
        "enrichment": {"genres": ["Science Fiction"], "search_text": "science fiction"},
        "rating": None,
        "movie_ratings": {"78": -1},
    },
    {  # rated up, but a chit-chat turn: nothing to learn
        "message_id": 15,
        "request": "thanks!",
        "understanding": {"constraints": {}},
        "enrichment": None,
        "rating": 1,
        "movie_ratings": {},
    },
    {  # no reply rating, every film rated up: kept
        "message_id": 16,
        "request": "a romantic comedy set in paris",
        "enrichment": {"genres": ["Romance", "Comedy"], "search_text": "romantic comedy paris"},
        "rating": None,
        "movie_ratings": {"194": 1, "4348": 1},
    },
]


@pytest.fixture
def feedback_file(tmp_path) -> Path:
    path = tmp_path / "feedback.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in FEEDBACK_ROWS) + "\n", encoding="utf-8")
    return path


def test_thumbs_up_turns_become_pairs(feedback_file):
    stats: Counter = Counter()
    pairs = feedback_pairs(feedback_file, stats)
    assert [p.id for p in pairs] == ["fb-11", "fb-12", "fb-16"]
    assert all(p.source == "feedback" for p in pairs)
    cozy, heat, paris = pairs
    assert cozy.answer == {
        "reference_titles": [],
        "genres": ["Family", "Comedy"],
        "keywords": ["dog", "cozy"],
        "search_text": "cozy family comedy about a dog",
    }
    assert heat.history == (
        ("user", "films about bank robbers"),
        ("assistant", "Try Heat (1995) or Inside Man (2006)."),
    )
    assert heat.answer["reference_titles"] == ["Heat"]
    assert heat.answer["genres"] == ["Crime"]
    assert heat.answer["search_text"] == "heist crime film"
    assert heat.enrichment["year_min"] == 1980 and heat.enrichment["year_max"] == 1989
    assert paris.answer["genres"] == ["Romance", "Comedy"]
    assert stats["feedback rows"] == 6
    assert stats["feedback skipped: thumbs down"] == 2
    assert stats["feedback skipped: no enrichment or search text"] == 1


def test_feedback_is_merged_into_the_build(feedback_file, tmp_path):
    report = build(BuildOptions(count=50, feedback=feedback_file))
    sources = Counter(p.source for p in report.pairs)
    assert sources == {"synthetic": 50, "feedback": 3}
    assert "feedback" in report.summary()
    missing = build(BuildOptions(count=50, feedback=tmp_path / "absent.jsonl"))
    assert Counter(p.source for p in missing.pairs) == {"synthetic": 50}


def test_cli_writes_the_file_and_a_summary(tmp_path, capsys, feedback_file):
    out = tmp_path / "train.jsonl"
    code = build_data.main(
        ["--count", "60", "--seed", "3", "--out", str(out), "--feedback", str(feedback_file)]
    )
    assert code == 0
    pairs = read_pairs(out)
    assert len(pairs) == 63
    printed = capsys.readouterr().out
    assert "by template:" in printed and "by source:" in printed and "wrote 63 pairs" in printed
    with pytest.raises(SystemExit):
        build_data.main(["--count", "0"])
