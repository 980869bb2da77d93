#!/usr/bin/env python
"""Score an enrichment model on the held-out quality set (data/enrichment/quality.jsonl).

    # a model, loaded by the model service's own loader and run exactly as /v1/enrich runs it
    .venv/bin/python fine-tune/evaluate.py --model llama-cpp:smollm2
    .venv/bin/python fine-tune/evaluate.py --model hf:var/fine-tune/smollm2-lora-merged
    .venv/bin/python fine-tune/evaluate.py --model none            # the rules alone
    # predictions already made: one /v1/enrich response per line ({"id": ..., ...} or in order)
    .venv/bin/python fine-tune/evaluate.py --predictions preds.jsonl
    # two results (JSON files written by this script) or two models, side by side with deltas
    .venv/bin/python fine-tune/evaluate.py --compare llama-cpp:smollm2 hf:var/fine-tune/tuned
    # + the retrieval effect: hit@8 of the chat pipeline on data/conversations (slow: starts a
    #   model service per model and runs evaluation/eval_chat.py's core with replies off)
    .venv/bin/python fine-tune/evaluate.py --model hf:var/fine-tune/tuned --retrieval

A model is judged on what the service returns for each held-out request: the prompt of its
family (model_service.prompts), generation through the service's queue, parse_model_json and
the merge with the rules (model_service.enrichment.EnrichmentService, called in-process), all
with the service's settings (MODEL_THREADS, ENRICH_TIMEOUT_S, ENRICH_JSON_SCHEMA, ... from the
environment; --threads and --timeout override two of them). Scores come from
model_service.evaluation (valid rate, genre recall / precision, exclusions, years, language,
reference titles, fallbacks), plus genre F1 and the raw answer's JSON validity: strictly valid
JSON, JSON only after the service's repair, and JSON that fits the answer schema. Each run
writes a JSON report (--out; default var/fine-tune/eval/<name>.json) and prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import importlib.util
import json
import logging
import re
import statistics
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from qa_format import ENRICHMENT_FIELDS  # noqa: E402

from model_service.config import Settings  # noqa: E402
from model_service.enrichment import EnrichmentService, parse_model_json  # noqa: E402
from model_service.evaluation import (  # noqa: E402
    DEFAULT_QUALITY_SET,
    METRICS,
    QualityCase,
    QualityReport,
    load_quality_set,
    score_enrichment,
)
from model_service.generation_queue import GenerationQueue  # noqa: E402
from model_service.generators.base import (  # noqa: E402
    ChatMessage,
    Finish,
    GenerationEvent,
    Generator,
    SamplingParams,
    TextDelta,
)
from model_service.generators.factory import load_generator  # noqa: E402
from model_service.prompts.answer_format import ANSWER_FIELDS, ENRICHMENT_SCHEMA  # noqa: E402
from model_service.registry import ModelSlot  # noqa: E402

EVAL_DIR = REPO / "var" / "fine-tune" / "eval"
DEFAULT_BASE = "llama-cpp:smollm2"
# Extra figures beside model_service.evaluation.METRICS, in report order.
JSON_METRICS = ("json_valid_rate", "json_parsed_rate", "schema_valid_rate")
DERIVED_METRICS = ("genre_f1",)
REPORT_METRICS = (*METRICS[:3], "genre_f1", *METRICS[3:], *JSON_METRICS)
# Metrics where lower is better (the deltas' sign reads the other way).
LOWER_IS_BETTER = frozenset(("language_false_positive_rate", "fallback_rate"))
ENRICH_FIELDS = (*ENRICHMENT_FIELDS, "fallback")


# --- the model, as the service runs it -------------------------------------------------------


class RecordingGenerator:
    """Wraps a generator and keeps the text and Finish of its latest generation (the
    evaluation runs one request at a time), so the raw answer can be judged as JSON."""

    def __init__(self, inner: Generator) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.family = inner.family
        self.context_length = inner.context_length
        self.supports_json_schema = inner.supports_json_schema
        self.text: str | None = None
        self.finish: Finish | None = None

    def reset(self) -> None:
        self.text, self.finish = None, None

    def count_prompt_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return self.inner.count_prompt_tokens(messages)

    def generate(
        self, messages: Sequence[ChatMessage], params: SamplingParams, cancel: threading.Event
    ) -> Iterator[GenerationEvent]:
        if params.max_tokens <= 1:  # the warm-up
            yield from self.inner.generate(messages, params, cancel)
            return
        self.text = ""
        for event in self.inner.generate(messages, params, cancel):
            if isinstance(event, TextDelta):
                self.text += event.text
            elif isinstance(event, Finish):
                self.finish = event
            yield event

    def close(self) -> None:
        self.inner.close()


@dataclass
class CaseResult:
    id: str
    message: str
    prediction: dict[str, Any]  # the /v1/enrich response fields
    raw: str | None = None  # the model's text; None when no model answered
    json_status: str = "none"  # valid | repaired | invalid | none
    schema_valid: bool | None = None
    latency_ms: float = 0.0
    completion_tokens: int | None = None
    fallback_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def json_status(raw: str | None) -> str:
    """How the raw answer reads as JSON: strictly valid, valid after the service's repair
    (fences, prose around it, truncation), invalid, or none (no answer at all)."""
    if raw is None:
        return "none"
    try:
        if isinstance(json.loads(raw.strip()), dict):
            return "valid"
    except ValueError:
        pass
    return "repaired" if parse_model_json(raw) is not None else "invalid"


def fits_answer_schema(raw: str | None) -> bool | None:
    """Whether the raw answer is strictly valid JSON that fits ENRICHMENT_SCHEMA (every field,
    no other, lists of strings within their limits, genres of the catalog vocabulary)."""
    if raw is None:
        return None
    try:
        value = json.loads(raw.strip())
    except ValueError:
        return False
    if not isinstance(value, dict) or set(value) != set(ANSWER_FIELDS):
        return False
    properties = ENRICHMENT_SCHEMA["properties"]
    for name in ANSWER_FIELDS:
        spec, item = properties[name], value[name]
        if spec["type"] == "string":
            if not isinstance(item, str):
                return False
            continue
        if not isinstance(item, list) or not all(isinstance(v, str) for v in item):
            return False
        if len(item) > spec.get("maxItems", len(item)):
            return False
        allowed = spec["items"].get("enum")
        if allowed is not None and any(v not in allowed for v in item):
            return False
    return True


def settings_for(
    spec: str, *, threads: int | None = None, timeout: float | None = None
) -> Settings:
    """The service's settings from the environment, with MODEL_GENERATOR = `spec`."""
    settings = dataclasses.replace(Settings.from_env(), generator=spec)
    if threads:
        settings = dataclasses.replace(settings, threads=threads)
    if timeout:
        settings = dataclasses.replace(settings, enrich_timeout_s=timeout)
    return settings


async def _enrich_cases(
    generator: Generator | None, cases: Sequence[QualityCase], settings: Settings
) -> tuple[list[CaseResult], float]:
    """Every case through an EnrichmentService over `generator` (None: rules only), in order;
    also returns the warm-up's seconds."""
    from model_service.app import warm_up

    recorder = RecordingGenerator(generator) if generator is not None else None
    queue = slot = None
    warmup_s = 0.0
    if recorder is not None:
        queue = GenerationQueue(
            recorder,  # type: ignore[arg-type]
            concurrency=1,
            max_waiting=settings.generator_queue,
            timeout_s=settings.generator_timeout_s,
        )
        slot = ModelSlot("generator", recorder.model_id)
        slot.set_ready(queue, name=recorder.model_id)
        if settings.generator_warmup:  # as the service does at start: not part of any case
            started = time.perf_counter()
            await warm_up(queue)
            warmup_s = time.perf_counter() - started
    service = EnrichmentService(
        slot,
        timeout_s=settings.enrich_timeout_s,
        cache_size=0,  # every case is a first request
        json_schema=settings.enrich_json_schema,
    )
    results = []
    try:
        for case in cases:
            if recorder is not None:
                recorder.reset()
            started = time.perf_counter()
            result = await service.enrich(case.message, case.history)
            latency = (time.perf_counter() - started) * 1000
            raw = recorder.text if recorder is not None else None
            finish = recorder.finish if recorder is not None else None
            data = result.to_dict()
            results.append(
                CaseResult(
                    id=case.id,
                    message=case.message,
                    prediction={name: data[name] for name in ENRICH_FIELDS},
                    raw=raw,
                    json_status=json_status(raw),
                    schema_valid=fits_answer_schema(raw),
                    latency_ms=round(latency, 1),
                    completion_tokens=finish.completion_tokens if finish else None,
                    fallback_reason=result.fallback_reason,
                )
            )
    finally:
        if queue is not None:
            await queue.close()
    return results, warmup_s


def run_generator(
    generator: Generator | None,
    cases: Sequence[QualityCase],
    settings: Settings,
    *,
    name: str,
    model: str,
    load_s: float = 0.0,
) -> dict[str, Any]:
    """Score `generator` (already loaded; None = rules only) on `cases`: the report dict."""
    started = time.perf_counter()
    results, warmup_s = asyncio.run(_enrich_cases(generator, cases, settings))
    total_s = time.perf_counter() - started - warmup_s
    report = score_enrichment(cases, [r.prediction for r in results])
    runtime = {
        "load_s": round(load_s, 2),
        "warmup_s": round(warmup_s, 2),
        "total_s": round(total_s, 2),
        **latency_stats([r.latency_ms for r in results]),
        "threads": settings.threads,
        "timeouts": sum(1 for r in results if "took longer" in (r.fallback_reason or "")),
    }
    tokens = [r.completion_tokens for r in results if r.completion_tokens is not None]
    if tokens:
        runtime["completion_tokens_mean"] = round(statistics.mean(tokens), 1)
    return build_result(
        report,
        results,
        name=name,
        model=model,
        model_id=generator.model_id if generator is not None else "rules",
        family=generator.family if generator is not None else None,
        runtime=runtime,
        settings={
            "enrich_timeout_s": settings.enrich_timeout_s,
            "enrich_json_schema": settings.enrich_json_schema,
        },
    )


def evaluate_model(
    spec: str,
    cases: Sequence[QualityCase],
    *,
    name: str | None = None,
    threads: int | None = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Load `spec` (a MODEL_GENERATOR value) with the service's loader and score it."""
    settings = settings_for(spec, threads=threads, timeout=timeout)
    started = time.perf_counter()
    generator = load_generator(settings)
    load_s = time.perf_counter() - started
    try:
        return run_generator(
            generator, cases, settings, name=name or slug(spec), model=spec, load_s=load_s
        )
    finally:
        if generator is not None:
            generator.close()


# --- scoring and reports ---------------------------------------------------------------------


def latency_stats(latencies: Sequence[float]) -> dict[str, float]:
    if not latencies:
        return {}
    ordered = sorted(latencies)
    return {
        "mean_ms": round(statistics.mean(ordered), 1),
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
        "max_ms": round(ordered[-1], 1),
    }


def genre_f1(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None:
        return None
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def build_result(
    report: QualityReport,
    results: Sequence[CaseResult],
    *,
    name: str,
    model: str | None,
    model_id: str | None = None,
    family: str | None = None,
    runtime: Mapping[str, Any] | None = None,
    settings: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON report: quality metrics (model_service.evaluation), genre F1, JSON validity
    of the raw answers, runtime, failures and every case."""
    scored = report.to_dict()
    metrics: dict[str, dict[str, Any]] = dict(scored["metrics"])
    precision, recall = report.value("genre_precision"), report.value("genre_recall")
    metrics["genre_f1"] = {
        "value": genre_f1(precision, recall),
        "n": report.metric("genre_recall").n,
    }
    answered = [r for r in results if r.json_status != "none"]
    n = len(answered)

    def rate(hits: int) -> float | None:
        return hits / n if n else None

    metrics["json_valid_rate"] = {
        "value": rate(sum(1 for r in answered if r.json_status == "valid")),
        "n": n,
    }
    metrics["json_parsed_rate"] = {
        "value": rate(sum(1 for r in answered if r.json_status in ("valid", "repaired"))),
        "n": n,
    }
    metrics["schema_valid_rate"] = {
        "value": rate(sum(1 for r in answered if r.schema_valid)),
        "n": n,
    }
    return {
        "name": name,
        "model": model,
        "model_id": model_id,
        "family": family,
        "quality_set": str(DEFAULT_QUALITY_SET.relative_to(REPO)),
        "cases": report.cases,
        "metrics": {key: metrics[key] for key in REPORT_METRICS if key in metrics},
        "runtime": dict(runtime or {}),
        "settings": dict(settings or {}),
        "failures": scored["failures"],
        "results": [r.to_dict() for r in results],
    }


def score_predictions(
    cases: Sequence[QualityCase], rows: Sequence[Mapping[str, Any]], *, name: str
) -> dict[str, Any]:
    """Score /v1/enrich responses made elsewhere: matched to cases by "id" when every row has
    one, else by order. A row may carry the model's text as "raw" to judge its JSON."""
    if rows and all("id" in row for row in rows):
        by_id = {str(row["id"]): row for row in rows}
        missing = [case.id for case in cases if case.id not in by_id]
        if missing:
            raise ValueError(f"no prediction for {len(missing)} cases, e.g. {missing[:5]}")
        ordered = [by_id[case.id] for case in cases]
    else:
        if len(rows) != len(cases):
            raise ValueError(f"{len(cases)} cases but {len(rows)} predictions")
        ordered = list(rows)
    results = []
    for case, row in zip(cases, ordered, strict=True):
        prediction = row.get("prediction", row) if isinstance(row, Mapping) else row
        raw = row.get("raw") if isinstance(row, Mapping) else None
        results.append(
            CaseResult(
                id=case.id,
                message=case.message,
                prediction=dict(prediction) if isinstance(prediction, Mapping) else prediction,
                raw=raw,
                json_status=json_status(raw),
                schema_valid=fits_answer_schema(raw),
                latency_ms=float(row.get("latency_ms", 0.0)) if isinstance(row, Mapping) else 0,
            )
        )
    report = score_enrichment(cases, [r.prediction for r in results])
    return build_result(report, results, name=name, model=None)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-")[:80] or "model"


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def result_table(result: Mapping[str, Any], max_failures: int = 0) -> str:
    """A readable table of one report."""
    metrics = result["metrics"]
    width = max(len(k) for k in metrics)
    title = result.get("model") or result["name"]
    lines = [
        f"{title}  ({result.get('model_id') or '-'}, family {result.get('family') or '-'}, "
        f"{result['cases']} cases)",
        f"  {'metric':<{width}}  {'value':>6}  {'n':>4}",
    ]
    for key, metric in metrics.items():
        lines.append(f"  {key:<{width}}  {_fmt(metric['value']):>6}  {metric['n']:>4}")
    runtime = result.get("runtime") or {}
    if runtime:
        lines.append(
            "  runtime: "
            + ", ".join(f"{k} {v}" for k, v in runtime.items() if not isinstance(v, dict))
        )
    retrieval = result.get("retrieval")
    if retrieval:
        lines.append(f"  retrieval: {_retrieval_line(retrieval)}")
    failures = result.get("failures") or []
    if max_failures:
        lines.append(f"  failures ({len(failures)}):")
        for failure in failures[:max_failures]:
            lines.append(
                f"    {failure['case_id']}  {failure['field']}: expected "
                f"{failure['expected']!r}, got {failure['got']!r}"
            )
    return "\n".join(lines)


def _retrieval_line(retrieval: Mapping[str, Any]) -> str:
    return (
        f"hit@8 {retrieval['hit']:.3f} on {retrieval['conversations']} conversations; "
        f"enriched {retrieval['enrich_calls']} turns ({retrieval['enrich_fallbacks']} fell "
        f"back); degraded {retrieval['degraded']}; plan p50 {retrieval['plan_p50_ms']:.0f} ms"
    )


def _label(result: Mapping[str, Any]) -> str:
    """ "llama-cpp:smollm2 (smollm2-135m-instruct-q4_1)": the spec, shortened, and the model."""
    model = str(result.get("model") or result["name"])
    if len(model) > 40:
        model = f"{model.partition(':')[0]}:…{model[-30:]}"
    model_id = result.get("model_id")
    return f"{model} ({model_id})" if model_id and model_id not in model else model


def compare_table(a: Mapping[str, Any], b: Mapping[str, Any]) -> str:
    """Two reports side by side with B - A (+ means better, whichever way a metric points)."""
    keys = [k for k in a["metrics"] if k in b["metrics"]]
    width = max(len(k) for k in [*keys, "metric"])
    lines = [
        f"  A = {_label(a)}",
        f"  B = {_label(b)}",
        f"  {'metric':<{width}}  {'A':>9}  {'B':>9}  {'B-A':>9}",
    ]
    for key in keys:
        va, vb = a["metrics"][key]["value"], b["metrics"][key]["value"]
        delta = "-"
        if va is not None and vb is not None:
            diff = vb - va
            mark = ""
            if abs(diff) >= 0.0005:
                better = diff < 0 if key in LOWER_IS_BETTER else diff > 0
                mark = " +" if better else " -"
            delta = f"{diff:+.3f}{mark}"
        lines.append(f"  {key:<{width}}  {_fmt(va):>9}  {_fmt(vb):>9}  {delta:>9}")
    for key in ("load_s", "total_s", "mean_ms", "p50_ms", "p95_ms", "completion_tokens_mean"):
        ra, rb = (a.get("runtime") or {}).get(key), (b.get("runtime") or {}).get(key)
        if ra is None and rb is None:
            continue
        diff = f"{rb - ra:+.1f}" if ra is not None and rb is not None else "-"
        lines.append(f"  {key:<{width}}  {_fmt(ra):>9}  {_fmt(rb):>9}  {diff:>9}")
    ra, rb = a.get("retrieval"), b.get("retrieval")
    if ra and rb:
        diff = rb["hit"] - ra["hit"]
        lines.append(
            f"  {'hit@8 (chat)':<{width}}  {ra['hit']:>9.3f}  {rb['hit']:>9.3f}  {diff:>+9.3f}"
        )
    return "\n".join(lines)


# --- retrieval: the chat pipeline with each model's enrichment -------------------------------


class _CountingClient:
    """A ModelServiceClient that counts enrichment calls and fallbacks."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.enrich_calls = 0
        self.enrich_fallbacks = 0

    def enrich(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self.enrich_calls += 1
        result = self._inner.enrich(*args, **kwargs)
        self.enrich_fallbacks += bool(result.get("fallback"))
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _eval_chat_module() -> Any:
    path = REPO / "evaluation" / "eval_chat.py"
    spec = importlib.util.spec_from_file_location("marquee_eval_chat", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def _model_service(spec: str, threads: int | None) -> Iterator[str]:
    """A model service of our own on a free port, serving `spec` as its language model."""
    from scripts.stack import child_env, free_port, model_service_process

    extra = {"MODEL_GENERATOR": spec, "MODEL_SERVICE_LOG_LEVEL": "WARNING"}
    if threads:
        extra["MODEL_THREADS"] = str(threads)
    port = free_port()
    proc = model_service_process("127.0.0.1", port, child_env(**extra)).start()
    try:
        proc.wait_ready(900)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.stop()


def retrieval_hits(
    spec: str, *, limit: int | None = None, threads: int | None = None
) -> dict[str, Any]:
    """hit@8 of the chat pipeline over data/conversations with `spec` as the service's
    language model: evaluation/eval_chat.py's demo catalog and run_ours, replies off."""
    eval_chat = _eval_chat_module()
    eval_chat.setup(eval_chat.VAR_DIR)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from clients.model_service import ModelServiceClient

    conversations = eval_chat.load_conversations(limit)
    started = time.perf_counter()
    with _model_service(spec, threads) as url:
        client = _CountingClient(ModelServiceClient(url, timeout=120))
        eval_chat.ensure_demo_catalog(client)
        ours = eval_chat.run_ours(client, conversations, reply=False)
    return {
        "model": spec,
        "conversations": len(conversations),
        "hit": ours["hit"],
        "degraded": ours["degraded"],
        "intents": ours["intents"],
        "enrich_calls": client.enrich_calls,
        "enrich_fallbacks": client.enrich_fallbacks,
        "plan_p50_ms": statistics.median(ours["plan_ms"]) if ours["plan_ms"] else 0.0,
        "misses": [m[0] for m in ours["misses"]],
        "seconds": round(time.perf_counter() - started, 1),
    }


# --- command line ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EvalOptions:
    model: str | None = None
    predictions: Path | None = None
    compare: tuple[str, str] | None = None
    retrieval: bool = False
    base: str = DEFAULT_BASE
    name: str | None = None
    limit: int | None = None
    retrieval_limit: int | None = None
    threads: int | None = None
    timeout: float | None = None
    out: Path | None = None
    quality_set: Path = DEFAULT_QUALITY_SET
    failures: int = 10


def parse_args(argv: Sequence[str] | None = None) -> EvalOptions:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--model", help="MODEL_GENERATOR value: hf:<dir>[#<gguf>], "
                      "llama-cpp:<gguf>, llama-cpp:smollm2, none (rules only), ...")  # fmt: skip
    what.add_argument("--predictions", type=Path, help="JSONL of /v1/enrich responses")
    what.add_argument(
        "--compare", nargs=2, metavar=("A", "B"), help="two report JSON files or model specs"
    )
    parser.add_argument(
        "--retrieval",
        action="store_true",
        help="also hit@8 of the chat pipeline (slow); with --model, beside --base",
    )
    parser.add_argument("--base", default=DEFAULT_BASE, help=f"base model ({DEFAULT_BASE})")
    parser.add_argument("--name", help="label for the report (default: from the model)")
    parser.add_argument("--limit", type=int, help="first N held-out cases only")
    parser.add_argument(
        "--retrieval-limit", type=int, help="first N conversations only, for --retrieval"
    )
    parser.add_argument("--threads", type=int, help="MODEL_THREADS for the run")
    parser.add_argument("--timeout", type=float, help="ENRICH_TIMEOUT_S for the run")
    parser.add_argument("--out", type=Path, help="report JSON (default var/fine-tune/eval/)")
    parser.add_argument("--quality-set", type=Path, default=DEFAULT_QUALITY_SET)
    parser.add_argument("--failures", type=int, default=10, help="failures to print (10)")
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    return EvalOptions(
        model=args.model,
        predictions=args.predictions,
        compare=tuple(args.compare) if args.compare else None,
        retrieval=args.retrieval,
        base=args.base,
        name=args.name,
        limit=args.limit,
        retrieval_limit=args.retrieval_limit,
        threads=args.threads,
        timeout=args.timeout,
        out=args.out,
        quality_set=args.quality_set,
        failures=args.failures,
    )


def _cases(options: EvalOptions) -> list[QualityCase]:
    cases = load_quality_set(options.quality_set)
    return cases[: options.limit] if options.limit else cases


def _load_or_run(target: str, options: EvalOptions, cases: Sequence[QualityCase]) -> dict:
    path = Path(target)
    if target.endswith(".json") and path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    print(f"evaluating {target} on {len(cases)} held-out requests…", flush=True)
    result = evaluate_model(target, cases, threads=options.threads, timeout=options.timeout)
    _write(result, None)
    return result


def _write(result: Mapping[str, Any], out: Path | None) -> Path:
    path = out or EVAL_DIR / f"{slug(str(result['name']))}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    cases = _cases(options)

    if options.compare:
        a, b = (_load_or_run(target, options, cases) for target in options.compare)
        if options.retrieval:
            for result in (a, b):
                if result.get("model") and not result.get("retrieval"):
                    print(f"retrieval with {result['model']}…", flush=True)
                    result["retrieval"] = retrieval_hits(
                        result["model"], limit=options.retrieval_limit, threads=options.threads
                    )
        print(compare_table(a, b))
        if options.out:
            path = _write({"name": "compare", "a": a, "b": b}, options.out)
            print(f"wrote {_shown(path)}")
        return 0

    if options.predictions:
        rows = [
            json.loads(line)
            for line in options.predictions.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        result = score_predictions(
            cases, rows[: len(cases)] if options.limit else rows,
            name=options.name or options.predictions.stem,
        )  # fmt: skip
    else:
        assert options.model is not None
        print(f"evaluating {options.model} on {len(cases)} held-out requests…", flush=True)
        result = evaluate_model(
            options.model,
            cases,
            name=options.name,
            threads=options.threads,
            timeout=options.timeout,
        )
        if options.retrieval:
            print(f"retrieval with {options.model}…", flush=True)
            result["retrieval"] = retrieval_hits(
                options.model, limit=options.retrieval_limit, threads=options.threads
            )
            if options.base and options.base != options.model:
                print(f"retrieval with the base {options.base}…", flush=True)
                base = retrieval_hits(
                    options.base, limit=options.retrieval_limit, threads=options.threads
                )
                result["retrieval_base"] = base
    path = _write(result, options.out)
    print(result_table(result, max_failures=options.failures))
    base = result.get("retrieval_base")
    if base:
        print(f"  retrieval, base {base['model']}: {_retrieval_line(base)}")
        print(f"  hit@8 delta (model - base): {result['retrieval']['hit'] - base['hit']:+.3f}")
    print(f"wrote {_shown(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
