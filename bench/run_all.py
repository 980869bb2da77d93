"""`make bench`: run every benchmark in turn; each prints its own figures and targets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SCRIPTS = [
    "bench_embeddings.py",
    "bench_search.py",
    "bench_ingest.py",
    "bench_generation.py",
    "bench_chat.py",
    "bench_load.py",
    "bench_ui.py",
]


def main() -> int:
    failed = []
    for name in SCRIPTS:
        print(f"\n=== {name} ===", flush=True)
        code = subprocess.call([sys.executable, str(BENCH / name)], cwd=BENCH.parent)
        if code != 0:
            failed.append(name)
    if failed:
        print(f"\nbenchmarks that failed to run: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
