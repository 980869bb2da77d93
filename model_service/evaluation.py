"""The held-out enrichment quality set and a model-free scorer for /v1/enrich predictions."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from movie_constraints import GENRES, title_words

DEFAULT_QUALITY_SET = Path(__file__).resolve().parents[1] / "data" / "enrichment" / "quality.jsonl"

EXPECT_KEYS = frozenset(
    {"genres", "exclude_genres", "reference_titles", "year_min", "year_max", "language"}
)
# Fields of an /v1/enrich response that a well-formed prediction must hold as lists of str.
LIST_FIELDS = ("genres", "exclude_genres", "themes", "moods", "reference_titles")
ROLES = frozenset({"user", "assistant"})
# Wide enough for any release year; narrow enough to catch typos such as 199 or 20199.
YEAR_BOUNDS = (1870, 2100)
_LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")

# Metric names in report order.
METRICS = (
    "valid_rate",
    "genre_recall",
    "genre_precision",
    "exclude_recall",
    "year_exact",
    "language_exact",
    "language_false_positive_rate",
    "reference_found",
    "fallback_rate",
)


@dataclass(frozen=True)
class QualityCase:
    """One request of the quality set and the attributes a good enrichment must get right."""

    id: str
    message: str
    history: tuple[tuple[str, str], ...] = ()
    expect: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Metric:
    """A score in [0, 1] over the `n` cases it applies to; `value` is None when n is 0."""

    name: str
    value: float | None
    n: int


@dataclass(frozen=True)
class Failure:
    """One case where a prediction missed an expected attribute (or was malformed)."""

    case_id: str
    field: str
    expected: Any
    got: Any


@dataclass(frozen=True)
class QualityReport:
    cases: int
    metrics: tuple[Metric, ...]
    failures: tuple[Failure, ...]

    def metric(self, name: str) -> Metric:
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise KeyError(name)

    def value(self, name: str) -> float | None:
        return self.metric(name).value

    def to_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "metrics": {m.name: {"value": m.value, "n": m.n} for m in self.metrics},
            "failures": [
                {
                    "case_id": f.case_id,
                    "field": f.field,
                    "expected": _jsonable(f.expected),
                    "got": _jsonable(f.got),
                }
                for f in self.failures
            ],
        }

    def to_text(self, max_failures: int = 0) -> str:
        """A table of metric, value and n; then up to `max_failures` failures, one a line."""
        width = max(len(m.name) for m in self.metrics)
        lines = [f"{'metric':<{width}}  {'value':>6}  {'n':>4}"]
        for m in self.metrics:
            value = "-" if m.value is None else f"{m.value:.3f}"
            lines.append(f"{m.name:<{width}}  {value:>6}  {m.n:>4}")
        lines.append(f"{self.cases} cases, {len(self.failures)} failures")
        for f in self.failures[:max_failures]:
            lines.append(
                f"  {f.case_id}  {f.field}: expected {_jsonable(f.expected)!r}, "
                f"got {_jsonable(f.got)!r}"
            )
        if 0 < max_failures < len(self.failures):
            lines.append(f"  ... {len(self.failures) - max_failures} more")
        return "\n".join(lines)


# --- loading -------------------------------------------------------------------------------


def load_quality_set(path: Path | None = None) -> list[QualityCase]:
    """Read and validate the quality set; a bad line raises ValueError naming it."""
    path = path or DEFAULT_QUALITY_SET
    cases: list[QualityCase] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path.name} line {number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: invalid JSON ({exc.msg})") from exc
        case = parse_case(raw, where)
        if case.id in seen:
            raise ValueError(f"{where}: duplicate id {case.id!r}")
        seen.add(case.id)
        cases.append(case)
    return cases


def parse_case(raw: Any, where: str = "case") -> QualityCase:
    """Validate one decoded line of the quality set; `where` prefixes every error message."""
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected a JSON object")
    unknown = set(raw) - {"id", "message", "history", "expect"}
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    case_id, message = raw.get("id"), raw.get("message")
    if not isinstance(case_id, str) or not case_id.strip():
        raise ValueError(f"{where}: id must be a non-empty string")
    if not isinstance(message, str) or not message.strip():
        raise ValueError(f"{where}: message must be a non-empty string")
    history = raw.get("history", [])
    if not isinstance(history, list):
        raise ValueError(f"{where}: history must be a list")
    turns: list[tuple[str, str]] = []
    for index, turn in enumerate(history):
        if (
            not isinstance(turn, dict)
            or turn.get("role") not in ROLES
            or not isinstance(turn.get("content"), str)
            or not turn["content"].strip()
        ):
            raise ValueError(
                f"{where}: history[{index}] must be {{role: user|assistant, content: text}}"
            )
        turns.append((turn["role"], turn["content"]))
    expect = raw.get("expect", {})
    _validate_expect(expect, where)
    return QualityCase(id=case_id, message=message, history=tuple(turns), expect=dict(expect))


def _validate_expect(expect: Any, where: str) -> None:
    if not isinstance(expect, dict):
        raise ValueError(f"{where}: expect must be an object")
    unknown = set(expect) - EXPECT_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown expect keys {sorted(unknown)}")
    for key in ("genres", "exclude_genres"):
        if key not in expect:
            continue
        values = expect[key]
        if not isinstance(values, list) or not values:
            raise ValueError(f"{where}: expect.{key} must be a non-empty list")
        for genre in values:
            if genre not in GENRES:
                raise ValueError(f"{where}: expect.{key} has unknown genre {genre!r}")
        if len(set(values)) != len(values):
            raise ValueError(f"{where}: expect.{key} repeats a genre")
    both = set(expect.get("genres", ())) & set(expect.get("exclude_genres", ()))
    if both:
        raise ValueError(f"{where}: {sorted(both)} both wanted and excluded")
    if "reference_titles" in expect:
        titles = expect["reference_titles"]
        if (
            not isinstance(titles, list)
            or not titles
            or not all(isinstance(t, str) and t.strip() for t in titles)
        ):
            raise ValueError(f"{where}: expect.reference_titles must be a non-empty list of text")
    for key in ("year_min", "year_max"):
        if key not in expect:
            continue
        year = expect[key]
        # bool is an int subclass; true/false is never a year.
        if not isinstance(year, int) or isinstance(year, bool):
            raise ValueError(f"{where}: expect.{key} must be an integer year, got {year!r}")
        if not YEAR_BOUNDS[0] <= year <= YEAR_BOUNDS[1]:
            raise ValueError(f"{where}: expect.{key} {year} is not a plausible release year")
    if "year_min" in expect and "year_max" in expect and expect["year_min"] > expect["year_max"]:
        raise ValueError(f"{where}: expect.year_min is after expect.year_max")
    if "language" in expect and (
        not isinstance(expect["language"], str) or not _LANGUAGE_CODE.match(expect["language"])
    ):
        raise ValueError(
            f"{where}: expect.language must be a lowercase ISO 639-1 code such as 'fr', "
            f"got {expect['language']!r}"
        )


def field_counts(cases: Sequence[QualityCase]) -> dict[str, int]:
    """How many cases state each expected field (years counted once), for summaries."""
    counts = {
        "cases": len(cases),
        "with_expectation": sum(1 for c in cases if c.expect),
        "with_history": sum(1 for c in cases if c.history),
        "genres": sum(1 for c in cases if "genres" in c.expect),
        "exclude_genres": sum(1 for c in cases if "exclude_genres" in c.expect),
        "years": sum(1 for c in cases if _states_years(c)),
        "language": sum(1 for c in cases if "language" in c.expect),
        "reference_titles": sum(1 for c in cases if "reference_titles" in c.expect),
    }
    return counts


# --- scoring -------------------------------------------------------------------------------


def prediction_problem(prediction: Any) -> str | None:
    """Why a prediction is not a well-formed /v1/enrich response, or None if it is."""
    if not isinstance(prediction, Mapping):
        return f"not an object ({type(prediction).__name__})"
    for key in LIST_FIELDS:
        value = prediction.get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"{key} is not a list of strings"
    for key in ("year_min", "year_max"):
        if key not in prediction:
            return f"{key} is missing"
        year = prediction[key]
        if year is not None and (not isinstance(year, int) or isinstance(year, bool)):
            return f"{key} is not an integer or null"
    if "language" not in prediction:
        return "language is missing"
    if prediction["language"] is not None and not isinstance(prediction["language"], str):
        return "language is not a string or null"
    search_text = prediction.get("search_text")
    if not isinstance(search_text, str) or not search_text.strip():
        return "search_text is missing or empty"
    return None


def score_enrichment(
    cases: Sequence[QualityCase], predictions: Sequence[Mapping[str, Any]]
) -> QualityReport:
    """Score one prediction per case (same order); malformed predictions earn no credit."""
    if len(cases) != len(predictions):
        raise ValueError(f"{len(cases)} cases but {len(predictions)} predictions")
    tally = {name: [0, 0] for name in METRICS}  # hits, total (items or cases)
    applies = dict.fromkeys(METRICS, 0)  # cases each metric applies to
    failures: list[Failure] = []

    def add(name: str, hits: int, total: int) -> None:
        tally[name][0] += hits
        tally[name][1] += total

    for case, prediction in zip(cases, predictions, strict=True):
        expect = case.expect
        problem = prediction_problem(prediction)
        valid = problem is None
        applies["valid_rate"] += 1
        add("valid_rate", int(valid), 1)
        if not valid:
            failures.append(Failure(case.id, "valid", None, problem))
        # A malformed prediction is scored as an empty one, so it misses every expectation
        # and sets no language (it cannot count as a language false positive).
        pred: Mapping[str, Any] = prediction if valid else {}

        applies["fallback_rate"] += 1
        add("fallback_rate", int(valid and pred.get("fallback") is True), 1)

        if "genres" in expect:
            wanted = {g.casefold() for g in expect["genres"]}
            got = _genre_set(pred.get("genres"))
            applies["genre_recall"] += 1
            applies["genre_precision"] += 1
            add("genre_recall", len(wanted & got), len(wanted))
            add("genre_precision", len(wanted & got), len(got))
            if valid and not wanted <= got:
                failures.append(Failure(case.id, "genres", expect["genres"], pred["genres"]))

        if "exclude_genres" in expect:
            wanted = {g.casefold() for g in expect["exclude_genres"]}
            got = _genre_set(pred.get("exclude_genres"))
            applies["exclude_recall"] += 1
            add("exclude_recall", len(wanted & got), len(wanted))
            if valid and not wanted <= got:
                failures.append(
                    Failure(
                        case.id, "exclude_genres", expect["exclude_genres"], pred["exclude_genres"]
                    )
                )

        if _states_years(case):
            wanted_years = (expect.get("year_min"), expect.get("year_max"))
            got_years = (pred.get("year_min"), pred.get("year_max"))
            applies["year_exact"] += 1
            add("year_exact", int(valid and got_years == wanted_years), 1)
            if valid and got_years != wanted_years:
                failures.append(Failure(case.id, "years", wanted_years, got_years))

        got_language = _language(pred.get("language"))
        if "language" in expect:
            applies["language_exact"] += 1
            hit = got_language == expect["language"].casefold()
            add("language_exact", int(hit), 1)
            if valid and not hit:
                failures.append(Failure(case.id, "language", expect["language"], got_language))
        else:
            applies["language_false_positive_rate"] += 1
            add("language_false_positive_rate", int(got_language is not None), 1)
            if got_language is not None:
                failures.append(Failure(case.id, "language", None, got_language))

        if "reference_titles" in expect:
            got_titles = list(pred.get("reference_titles") or [])
            found = [t for t in expect["reference_titles"] if _title_found(t, got_titles)]
            applies["reference_found"] += 1
            add("reference_found", len(found), len(expect["reference_titles"]))
            if valid and len(found) < len(expect["reference_titles"]):
                failures.append(
                    Failure(case.id, "reference_titles", expect["reference_titles"], got_titles)
                )

    metrics = []
    for name in METRICS:
        hits, total = tally[name]
        # None: the metric applies to no case. Precision with nothing predicted is 0 (no
        # credit), not undefined.
        value = None if applies[name] == 0 else (hits / total if total else 0.0)
        metrics.append(Metric(name, value, applies[name]))
    return QualityReport(cases=len(cases), metrics=tuple(metrics), failures=tuple(failures))


def _states_years(case: QualityCase) -> bool:
    return "year_min" in case.expect or "year_max" in case.expect


def _genre_set(values: Any) -> set[str]:
    return {v.strip().casefold() for v in values or () if v.strip()}


def _language(value: Any) -> str | None:
    # An empty string is how some generators say "no language"; treat it as null.
    if isinstance(value, str) and value.strip():
        return value.strip().casefold()
    return None


# --- titles --------------------------------------------------------------------------------

_TRAILING_YEAR = re.compile(r"\(\s*\d{4}\s*\)\s*$")


def normalise_title(title: str) -> str:
    """Title words (movie_constraints.title_words) without a trailing "(1995)" or leading "the"."""
    words = title_words(_TRAILING_YEAR.sub(" ", title))
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return " ".join(words)


def titles_match(a: str, b: str) -> bool:
    """Lenient title equality: equal once normalised, or one contains the other as whole words.

    Containment needs at least two words in the shorter title: "Lord of the Rings" matches
    "The Lord of the Rings: The Fellowship of the Ring", but a one-word title is too generic to
    match by containment ("Alien" is not "Alien vs. Predator", "Heat" is not "In the Heat of the
    Night").
    """
    wa, wb = normalise_title(a).split(), normalise_title(b).split()
    if not wa or not wb:
        return False
    if wa == wb:
        return True
    short, long = sorted((wa, wb), key=len)
    if len(short) < 2:
        return False
    return any(long[i : i + len(short)] == short for i in range(len(long) - len(short) + 1))


def _title_found(title: str, candidates: Sequence[str]) -> bool:
    return any(titles_match(title, candidate) for candidate in candidates)


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
