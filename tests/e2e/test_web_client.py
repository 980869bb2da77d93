"""The web client end to end, in headless Chromium, against a real stack: the built frontend
served by the backend (gunicorn), the demo catalog, and a model service (SmolLM2 on llama.cpp
for speed). The browser side lives in frontend/e2e/web.e2e.test.mjs (node:test +
playwright-core); each test here runs one of its phases:

- full: chat streaming (cards before `done`, the reply growing), more like this, feedback
  stored, the conversation back after a reload, Stop, Explore, screenshots, no overflow at 360 px;
- degraded: the model service stopped — the banner, and cards still shown;
- default-model: a fresh model service with the default language model (Qwen 1.5B);
- rate-limited: the backend restarted with CHAT_RATE_LIMIT=2/minute — the wait is shown, the
  refused text kept, sending blocked until the wait is over.

Screenshots are written to var/screenshots/ and their paths printed (pytest -s shows them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.stack import SMALL_GENERATOR, SeparateServices, child_env, free_port

REPO = Path(__file__).resolve().parents[2]
FRONTEND = REPO / "frontend"
E2E_FILE = FRONTEND / "e2e" / "web.e2e.test.mjs"
SCREENSHOT_DIR = REPO / "var" / "screenshots"
NODE_TIMEOUT = 300  # seconds, per phase

pytestmark = pytest.mark.slow


def _prerequisites() -> tuple[str, str]:
    """(node, chromium), or fail saying which make target provides what is missing."""
    if not (FRONTEND / "dist" / "index.html").is_file():
        pytest.fail(
            "frontend/dist/index.html is missing: build the web client with `make frontend`"
        )
    if not (FRONTEND / "node_modules" / "playwright-core").is_dir():
        pytest.fail("frontend/node_modules/playwright-core is missing: run `make frontend`")
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: install Node.js >= 20.19, then run `make frontend`")
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not (Path(chromium).is_file() and os.access(chromium, os.X_OK)):
        pytest.fail(f"Chromium not found at {chromium}: run `make browser` (or set CHROMIUM)")
    built = (FRONTEND / "dist" / "index.html").stat().st_mtime
    if any(_modified_after(path, built) for path in (FRONTEND / "src").rglob("*")):
        print("note: frontend/src changed after the last build; `make frontend` rebuilds it")
    return node, chromium


def _modified_after(path: Path, moment: float) -> bool:
    try:  # an editor's temporary file may be gone already
        return path.is_file() and path.stat().st_mtime > moment
    except OSError:
        return False


class Stack(SeparateServices):
    """The backend and whichever model service currently answers at its MODEL_SERVICE_URL."""

    def restart_backend(self, **extra: str) -> None:
        """A new backend process on the same port and data, with `extra` in its environment."""
        self.stop_backend()
        self.start_backend(**extra)


def _run(cmd: list[str], env: dict[str, str], timeout: float) -> None:
    result = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )  # fmt: skip
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def browser_tools() -> tuple[str, str]:
    return _prerequisites()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, browser_tools):
    var = tmp_path_factory.mktemp("web-client")
    model_port = free_port()
    env = child_env(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        MARQUEE_VAR_DIR=str(var),
        DATABASE_URL="",  # the embedded SQLite default
        QDRANT_URL="",  # the embedded index
        MODEL_SERVICE_URL=f"http://127.0.0.1:{model_port}",
        MODEL_THREADS="2",
    )
    env.pop("FRONTEND_DIST", None)  # the repository's build
    for name in ("MODEL_GENERATOR", "GEN_WARMUP"):  # each phase chooses its language model
        env.pop(name, None)
    running = Stack(env, var / "logs", model_port=model_port, backend_port=free_port())
    try:
        running.start_model("model_service_smollm2.log", **SMALL_GENERATOR)
        _run([sys.executable, "backend/manage.py", "migrate", "--noinput", "-v", "0"], env, 120)
        _run([sys.executable, "prepare-databases/prepare.py", "ingest", "--source", "demo",
              "--no-progress"], env, 300)  # fmt: skip
        running.start_backend()
        yield running
    finally:
        running.stop_backend()
        running.stop_model()


def run_phase(stack: Stack, tools: tuple[str, str], phase: str) -> None:
    node, chromium = tools
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "BASE_URL": stack.base_url,
        "CHROMIUM": chromium,
        "SCREENSHOT_DIR": str(SCREENSHOT_DIR),
        "E2E_PHASE": phase,
    }
    cmd = [node, "--test", "--test-reporter=spec", str(E2E_FILE)]
    try:
        result = subprocess.run(
            cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=NODE_TIMEOUT
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        partial = exc.stdout or b""  # bytes even with text=True
        print(partial.decode(errors="replace") if isinstance(partial, bytes) else partial)
        pytest.fail(f"the browser phase {phase!r} took longer than {NODE_TIMEOUT} s")
    output = result.stdout + result.stderr
    print(output)  # screenshot paths and step timings: shown with -s and on failure
    if result.returncode != 0:
        # node's closing summary lists the failed steps; the whole output is printed above.
        summary = output[output.rfind("✖ failing tests:") :] if "✖ failing tests:" in output else ""
        pytest.fail(
            f"browser phase {phase!r} failed (node exited {result.returncode}); its output is "
            f"above.\n{summary[:6000]}\n{stack.log_tail('backend.log', 20)}"
        )


def test_full_chat_feedback_reload_stop_and_explore(stack, browser_tools):
    run_phase(stack, browser_tools, "full")


def test_degraded_when_the_model_service_is_down(stack, browser_tools):
    stack.stop_model()
    run_phase(stack, browser_tools, "degraded")


def test_default_language_model_streams_a_reply(stack, browser_tools):
    stack.stop_model()
    # The default generator, as `make run` starts it: no MODEL_GENERATOR, default warm-up.
    stack.start_model("model_service_default.log")
    run_phase(stack, browser_tools, "default-model")


def test_rate_limited_chat_shows_the_wait_and_keeps_the_text(stack, browser_tools):
    stack.stop_model()  # turns answer by search alone: fast, so the limit is reached at once
    stack.restart_backend(CHAT_RATE_LIMIT="2/minute")
    run_phase(stack, browser_tools, "rate-limited")
