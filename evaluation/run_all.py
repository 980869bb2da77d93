"""`make eval`: run every quality evaluation in turn; each prints its metrics beside baselines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EVALUATION = Path(__file__).resolve().parent
SCRIPTS = ["eval_intents.py", "eval_chat.py", "eval_similar.py"]


def main() -> int:
    failed = []
    for name in SCRIPTS:
        print(f"\n=== {name} ===", flush=True)
        code = subprocess.call([sys.executable, str(EVALUATION / name)], cwd=EVALUATION.parent)
        if code != 0:
            failed.append(name)
    if failed:
        print(f"\nevaluations that failed to run: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
