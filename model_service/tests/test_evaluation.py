"""Tests of the enrichment quality set and its scorer (no model needed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from model_service.evaluation import (
    DEFAULT_QUALITY_SET,
    GENRES,
    METRICS,
    QualityCase,
    field_counts,
    load_quality_set,
    normalise_title,
    prediction_problem,
    score_enrichment,
    titles_match,
)


def prediction(**fields: Any) -> dict[str, Any]:
    """A well-formed /v1/enrich response with empty defaults, overridden by `fields`."""
    base: dict[str, Any] = {
        "genres": [],
        "exclude_genres": [],
        "themes": [],
        "moods": [],
        "reference_titles": [],
        "year_min": None,
        "year_max": None,
        "language": None,
        "search_text": "a movie",
        "fallback": False,
        "model": "test",
        "latency_ms": 1,
    }
    base.update(fields)
    return base


def perfect(case: QualityCase) -> dict[str, Any]:
    expect = case.expect
    return prediction(
        genres=list(expect.get("genres", [])),
        exclude_genres=list(expect.get("exclude_genres", [])),
        reference_titles=list(expect.get("reference_titles", [])),
        year_min=expect.get("year_min"),
        year_max=expect.get("year_max"),
        language=expect.get("language"),
        search_text=case.message,
    )


def case(case_id: str, **expect: Any) -> QualityCase:
    return QualityCase(id=case_id, message="a request", expect=expect)


@pytest.fixture(scope="module")
def shipped() -> list[QualityCase]:
    return load_quality_set()


# --- the shipped set -------------------------------------------------------------------------


def test_shipped_set_loads_and_is_large_enough(shipped: list[QualityCase]) -> None:
    counts = field_counts(shipped)
    assert counts["cases"] >= 70
    assert counts["with_expectation"] >= 60
    assert counts["with_history"] >= 3
    # Every metric must have enough cases to mean something.
    for key in ("genres", "exclude_genres", "years", "language", "reference_titles"):
        assert counts[key] >= 5, key


def test_shipped_set_uses_the_genre_vocabulary(shipped: list[QualityCase]) -> None:
    for c in shipped:
        for key in ("genres", "exclude_genres"):
            assert set(c.expect.get(key, ())) <= set(GENRES), c.id


def test_shipped_ids_are_unique_and_histories_alternate(shipped: list[QualityCase]) -> None:
    assert len({c.id for c in shipped}) == len(shipped)
    for c in shipped:
        roles = [role for role, _ in c.history]
        # The message is the next user turn, so history must end with the assistant.
        assert roles == ["user", "assistant"] * (len(roles) // 2), c.id


def test_default_path_is_under_the_repo_root() -> None:
    repo_root = Path(__file__).resolve().parents[2]
    assert repo_root / "data" / "enrichment" / "quality.jsonl" == DEFAULT_QUALITY_SET


# --- loader validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "x", "message": "hi", "expect": {"genres": ["Sci-Fi"]}}', "unknown genre"),
        ('{"id": "x", "message": "hi", "expect": {"year_min": 199}}', "plausible"),
        ('{"id": "x", "message": "hi", "expect": {"year_min": "1990"}}', "integer"),
        ('{"id": "x", "message": "hi", "expect": {"year_max": true}}', "integer"),
        (
            '{"id": "x", "message": "hi", "expect": {"year_min": 2000, "year_max": 1990}}',
            "after",
        ),
        ('{"id": "x", "message": "hi", "expect": {"language": "French"}}', "ISO 639-1"),
        ('{"id": "x", "message": "hi", "expect": {"mood": ["sad"]}}', "unknown expect keys"),
        ('{"id": "x", "message": "hi", "expect": {"genres": []}}', "non-empty"),
        (
            '{"id": "x", "message": "hi", "expect": {"genres": ["War"], '
            '"exclude_genres": ["War"]}}',
            "both wanted and excluded",
        ),
        ('{"id": "x", "message": "", "expect": {}}', "message"),
        ('{"id": "x", "message": "hi", "history": [{"role": "bot", "content": "a"}]}', "history"),
        ("not json", "invalid JSON"),
    ],
)
def test_bad_lines_name_the_line(tmp_path: Path, line: str, message: str) -> None:
    good = json.dumps({"id": "ok", "message": "hello", "expect": {"genres": ["Drama"]}})
    path = tmp_path / "set.jsonl"
    path.write_text(f"{good}\n\n{line}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=message) as info:
        load_quality_set(path)
    assert "set.jsonl line 3" in str(info.value)


def test_duplicate_ids_are_rejected(tmp_path: Path) -> None:
    line = json.dumps({"id": "q1", "message": "hello"})
    path = tmp_path / "set.jsonl"
    path.write_text(f"{line}\n{line}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2: duplicate id"):
        load_quality_set(path)


# --- scoring ---------------------------------------------------------------------------------


def test_perfect_predictions_score_one_everywhere(shipped: list[QualityCase]) -> None:
    report = score_enrichment(shipped, [perfect(c) for c in shipped])
    for name in METRICS:
        expected = 0.0 if name in ("language_false_positive_rate", "fallback_rate") else 1.0
        assert report.value(name) == expected, name
    assert report.failures == ()
    assert report.metric("valid_rate").n == len(shipped)
    counts = field_counts(shipped)
    assert report.metric("genre_recall").n == counts["genres"]
    assert report.metric("year_exact").n == counts["years"]
    assert report.metric("language_exact").n == counts["language"]
    assert report.metric("language_false_positive_rate").n == len(shipped) - counts["language"]
    assert report.metric("reference_found").n == counts["reference_titles"]


@pytest.mark.parametrize("garbage", [{}, None, "Drama", 42, [], {"genres": "Drama"}])
def test_empty_or_garbage_predictions_score_zero(shipped: list[QualityCase], garbage: Any) -> None:
    report = score_enrichment(shipped, [garbage] * len(shipped))
    for name in METRICS:
        assert report.value(name) == 0.0, name
    assert {f.field for f in report.failures} == {"valid"}
    assert len(report.failures) == len(shipped)


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"genres": ["Drama", 3]}, "genres"),
        ({"themes": None}, "themes"),
        ({"year_min": "1990"}, "year_min"),
        ({"year_max": 1999.0}, "year_max"),
        ({"year_min": False}, "year_min"),
        ({"language": ["fr"]}, "language"),
        ({"search_text": "   "}, "search_text"),
    ],
)
def test_malformed_fields_make_a_prediction_invalid(bad: dict[str, Any], reason: str) -> None:
    assert prediction_problem(prediction()) is None
    problem = prediction_problem(prediction(**bad))
    assert problem is not None and reason in problem
    for key in ("year_min", "language", "search_text", "moods"):
        missing = prediction()
        del missing[key]
        assert key in (prediction_problem(missing) or ""), key


def test_partial_predictions_give_exact_fractions() -> None:
    cases = [
        case("a", genres=["Comedy", "Drama"], year_min=1990, year_max=1999, language="fr"),
        case("b", genres=["Horror"], exclude_genres=["Comedy", "Romance"], year_min=2011),
        case("c", reference_titles=["Heat", "Ocean's Eleven", "Inception"]),
        case("d"),
    ]
    predictions = [
        # a: 1 of 2 genres plus 2 extras, right years, language in upper case.
        prediction(
            genres=["comedy", "Action", "Crime"], year_min=1990, year_max=1999, language="FR"
        ),
        # b: genre right, 1 of 2 exclusions, year_max set although the request gives none.
        prediction(genres=["Horror"], exclude_genres=["Romance"], year_min=2011, year_max=2024),
        # c: two of three titles, spelled differently; sets a language nobody asked for.
        prediction(reference_titles=["The Heat", "Oceans 11", "Interstellar"], language="en"),
        # d: malformed.
        {"genres": ["Drama"]},
    ]
    report = score_enrichment(cases, predictions)
    assert report.value("valid_rate") == pytest.approx(3 / 4)
    assert report.metric("valid_rate").n == 4
    assert report.value("genre_recall") == pytest.approx(2 / 3)  # Comedy + Horror of 3
    assert report.value("genre_precision") == pytest.approx(2 / 4)  # of 4 predicted
    assert report.metric("genre_recall").n == 2
    assert report.value("exclude_recall") == pytest.approx(1 / 2)
    assert report.value("year_exact") == pytest.approx(1 / 2)
    assert report.value("language_exact") == 1.0
    assert report.metric("language_exact").n == 1
    assert report.value("language_false_positive_rate") == pytest.approx(1 / 3)  # b, c, d
    assert report.value("reference_found") == pytest.approx(2 / 3)
    assert report.metric("reference_found").n == 1
    assert report.value("fallback_rate") == 0.0

    got = {(f.case_id, f.field) for f in report.failures}
    assert got == {
        ("a", "genres"),
        ("b", "exclude_genres"),
        ("b", "years"),
        ("c", "language"),
        ("c", "reference_titles"),
        ("d", "valid"),
    }
    years = next(f for f in report.failures if f.field == "years")
    assert years.expected == (2011, None) and years.got == (2011, 2024)


def test_metrics_without_cases_are_none_and_lengths_must_match() -> None:
    report = score_enrichment([case("a", genres=["War"])], [prediction(genres=["war"])])
    assert report.value("genre_recall") == 1.0
    assert report.value("year_exact") is None
    assert report.metric("year_exact").n == 0
    assert report.value("reference_found") is None
    with pytest.raises(ValueError, match="1 cases but 2 predictions"):
        score_enrichment([case("a")], [prediction(), prediction()])


def test_fallback_and_empty_language_are_reported() -> None:
    cases = [case("a"), case("b")]
    report = score_enrichment(cases, [prediction(fallback=True, language=""), prediction()])
    assert report.value("fallback_rate") == pytest.approx(1 / 2)
    # "" means "no language": not a false positive.
    assert report.value("language_false_positive_rate") == 0.0


def test_report_renders_as_text_and_dict() -> None:
    cases = [case("a", genres=["Drama"], year_min=1980, year_max=1989)]
    report = score_enrichment(cases, [prediction(genres=["Comedy"])])
    text = report.to_text(max_failures=5)
    lines = text.splitlines()
    assert lines[0].split() == ["metric", "value", "n"]
    assert any(line.split() == ["genre_recall", "0.000", "1"] for line in lines)
    assert any(line.split() == ["reference_found", "-", "0"] for line in lines)
    assert "1 cases, 2 failures" in text
    assert "a  genres: expected ['Drama'], got ['Comedy']" in text
    assert "a  years: expected [1980, 1989], got [None, None]" in text
    assert "more" not in report.to_text(max_failures=2)
    assert "... 1 more" in report.to_text(max_failures=1)

    data = report.to_dict()
    json.dumps(data)  # must be serialisable as is
    assert data["cases"] == 1
    assert data["metrics"]["genre_recall"] == {"value": 0.0, "n": 1}
    assert data["metrics"]["year_exact"] == {"value": 0.0, "n": 1}
    assert {"case_id": "a", "field": "years", "expected": [1980, 1989], "got": [None, None]} in (
        data["failures"]
    )


# --- lenient title matching ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("the godfather", "Godfather"),
        ("Amélie", "Amelie"),
        ("Ocean's Eleven", "Oceans 11"),
        ("Inception (2010)", "inception"),
        ("Crouching Tiger, Hidden Dragon", "crouching tiger hidden dragon"),
        ("Lord of the Rings", "The Lord of the Rings: The Fellowship of the Ring"),
        ("harry potter", "Harry Potter and the Philosopher's Stone"),
        ("Fast & Furious", "fast and furious"),
        ("Léon: The Professional", "Leon the Professional"),
    ],
)
def test_titles_that_match(a: str, b: str) -> None:
    assert titles_match(a, b)
    assert titles_match(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Alien", "Aliens vs Predator"),
        ("Alien", "Alien vs. Predator"),  # one-word titles never match by containment
        ("Heat", "In the Heat of the Night"),
        ("The Godfather", "The Godfather Part II"),
        ("Alien", "Aliens"),
        ("The", "The Thing"),
        ("", ""),
        ("Heat", "..."),
    ],
)
def test_titles_that_do_not_match(a: str, b: str) -> None:
    assert not titles_match(a, b)
    assert not titles_match(b, a)


def test_normalise_title() -> None:
    assert normalise_title("The Girl with the Dragon Tattoo") == "girl with the dragon tattoo"
    assert normalise_title("  AMÉLIE!! ") == "amelie"
    assert normalise_title("The") == "the"
