"""The web client's weight and how soon it can be typed into.

    python bench/bench_ui.py [--runs 15] [--explore-runs 5] [--explore-seconds 6]

Prints:
- the production bundle of the chat page: every JS file frontend/dist/index.html loads at once
  (its module script and modulepreload links), raw and gzip-compressed (level 9), against the
  target of 250 kB gzip for all of them; the stylesheets beside it; then each lazily loaded chunk
  (the Explore page) on its own;
- navigation start → #chat-input attached, enabled and focusable, in headless Chromium on
  loopback: a backend (gunicorn, as scripts/stack.py runs it; no model service, the page does not
  need one) serves the build and frontend/bench/bench_ui.mjs opens the page in fresh browser
  contexts; median / p95 / max against the target of 1 s;
- the Explore page with 10,000 points, against the issue's "stays smooth with 10,000 points": the
  browser answers GET /api/catalog/map/ itself (page.route) with a synthetic map from a seeded PRNG
  (clustered points, the 19 TMDB genres, titles "Film n"), since what the canvas costs depends on
  the number of points, not on which films they are; navigation start → the first frame with all
  the points drawn (fresh contexts, 1280x800), then a few seconds of scripted wheel zooms, drag
  pans and hover moves: frame intervals from requestAnimationFrame timestamps (median / p95 / max,
  share over 16.7 and 33.3 ms), the map's draw() time, the renderer main thread's busy time and
  long tasks; beside it the same script on 1,000 points and 1 s without input, for scale.
Figures only: nothing here fails on time. Needs `make frontend` and `make browser`.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DIST = REPO / "frontend" / "dist"
BENCH_JS = REPO / "frontend" / "bench" / "bench_ui.mjs"
VAR_DIR = REPO / "var" / "bench-ui"
TARGET_GZIP_KB = 250.0
sys.path[:0] = [str(REPO)]


class _InitialAssets(HTMLParser):
    """The scripts, module preloads and stylesheets index.html names."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.styles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        rel = values.get("rel", "").lower().split()
        if tag == "script" and values.get("src"):
            self.scripts.append(values["src"])
        elif tag == "link" and "modulepreload" in rel and values.get("href"):
            self.scripts.append(values["href"])
        elif tag == "link" and "stylesheet" in rel and values.get("href"):
            self.styles.append(values["href"])


def _dist_file(url: str) -> Path:
    """/static/assets/index-abc.js → frontend/dist/assets/index-abc.js (Vite's base is /static/)."""
    path = url.split("?", 1)[0].split("#", 1)[0]
    for prefix in ("/static/", "static/", "/"):
        if path.startswith(prefix):
            path = path[len(prefix) :]
            break
    return DIST / path


def _sizes(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    return len(data), len(gzip.compress(data, compresslevel=9, mtime=0))


def _kb(size: int) -> str:
    return f"{size / 1000:.1f} kB"


def report_bundle() -> None:
    parser = _InitialAssets()
    parser.feed((DIST / "index.html").read_text(encoding="utf-8"))
    initial = list(dict.fromkeys(_dist_file(url) for url in parser.scripts))
    print("chat page, JS loaded at once (index.html's script + modulepreload links):")
    total_raw = total_gzip = 0
    for path in initial:
        raw, packed = _sizes(path)
        total_raw, total_gzip = total_raw + raw, total_gzip + packed
        print(f"  {path.relative_to(DIST)}: {_kb(raw)} raw, {_kb(packed)} gzip")
    print(
        f"  total: {_kb(total_raw)} raw, {_kb(total_gzip)} gzip (target <= {TARGET_GZIP_KB:.0f} "
        f"kB gzip; {total_gzip / 1000 / TARGET_GZIP_KB:.2f}x of target)"
    )
    for url in parser.styles:
        raw, packed = _sizes(_dist_file(url))
        print(
            f"  stylesheet {_dist_file(url).relative_to(DIST)}: {_kb(raw)} raw, {_kb(packed)} gzip"
        )
    lazy = sorted(p for p in (DIST / "assets").glob("*.js") if p not in initial)
    for path in lazy:
        raw, packed = _sizes(path)
        print(f"lazily loaded chunk {path.relative_to(DIST)}: {_kb(raw)} raw, {_kb(packed)} gzip")
    for path in sorted(
        p for p in (DIST / "assets").glob("*.css") if p not in map(_dist_file, parser.styles)
    ):
        raw, packed = _sizes(path)
        print(
            f"lazily loaded stylesheet {path.relative_to(DIST)}: {_kb(raw)} raw, {_kb(packed)} gzip"
        )


def start_backend():
    from scripts.stack import backend_process, child_env, free_port

    port, nobody = free_port(), free_port()
    env = child_env(
        MARQUEE_VAR_DIR=str(VAR_DIR),
        DATABASE_URL="",
        QDRANT_URL="",
        DJANGO_SETTINGS_MODULE="config.settings.local",
        MODEL_SERVICE_URL=f"http://127.0.0.1:{nobody}",  # none: the page loads without it
    )
    env.pop("FRONTEND_DIST", None)
    subprocess.run(
        [sys.executable, "backend/manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=REPO, env=env, check=True,
    )  # fmt: skip
    log = VAR_DIR / "logs" / "backend.log"
    print(f"backend log: {log}", flush=True)
    backend = backend_process("127.0.0.1", port, env).start(log)
    backend.wait_ready(120)
    return backend, f"http://127.0.0.1:{port}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--explore-runs", type=int, default=5, help="Explore loads (0: none)")
    parser.add_argument("--explore-seconds", type=float, default=6.0, help="scripted input")
    args = parser.parse_args()
    if not (DIST / "index.html").is_file():
        print("frontend/dist/index.html is missing: build the web client with `make frontend`")
        return 1
    report_bundle()

    node = shutil.which("node")
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if node is None or not (REPO / "frontend" / "node_modules" / "playwright-core").is_dir():
        print("node or frontend/node_modules/playwright-core is missing: run `make frontend`")
        return 1
    if not (Path(chromium).is_file() and os.access(chromium, os.X_OK)):
        print(f"Chromium not found at {chromium}: run `make browser` (or set CHROMIUM)")
        return 1
    backend, base = start_backend()
    try:
        env = {
            **os.environ,
            "BASE_URL": base,
            "CHROMIUM": chromium,
            "RUNS": str(args.runs),
            "EXPLORE_RUNS": str(args.explore_runs),
            "EXPLORE_SECONDS": str(args.explore_seconds),
        }
        result = subprocess.run([node, str(BENCH_JS)], cwd=REPO, env=env, timeout=300)
        return result.returncode
    finally:
        backend.stop()


if __name__ == "__main__":
    sys.exit(main())
