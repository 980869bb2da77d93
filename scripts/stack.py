"""Start, watch and stop Marquee's processes: what `make run` runs, and what tests and the
ingestion CLI use to get a model service when none is running."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ManagedProcess:
    """A child process with a readiness URL, stopped gently (SIGINT, then SIGTERM, then SIGKILL)."""

    def __init__(self, name: str, cmd: list[str], ready_url: str, env: dict[str, str]) -> None:
        self.name, self.cmd, self.ready_url, self.env = name, cmd, ready_url, env
        self.proc: subprocess.Popen | None = None

    def start(self, log_path: Path | None = None) -> ManagedProcess:
        """Start the process; its output goes to `log_path` when given (benchmarks keep their
        own output readable), else to ours."""
        # Own process group: Ctrl-C in the terminal reaches us, and we stop children in order.
        output = None
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            output = log_path.open("ab")
        self.proc = subprocess.Popen(
            self.cmd, cwd=REPO, env=self.env, start_new_session=True,
            stdout=output, stderr=subprocess.STDOUT if output else None,
        )  # fmt: skip
        if output is not None:
            output.close()  # the child holds its own copy
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                code = self.proc.returncode if self.proc else None
                raise RuntimeError(f"{self.name} exited with code {code} while starting")
            if http_ok(self.ready_url):
                return
            time.sleep(0.25)
        raise TimeoutError(f"{self.name} was not ready at {self.ready_url} after {timeout:.0f}s")

    def pause(self) -> None:
        """SIGSTOP the process group: the process keeps its port but answers nothing (a hung
        dependency, for the reliability tests). `resume()` lets it go on."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGCONT)

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.resume()  # a paused (SIGSTOP) process cannot act on SIGINT or SIGTERM
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            try:
                return self.proc.wait(timeout=timeout if sig != signal.SIGKILL else 5)
            except subprocess.TimeoutExpired:
                continue
        return self.proc.returncode


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.update(extra)
    return env


def model_service_process(host: str, port: int, env: dict[str, str]) -> ManagedProcess:
    return ManagedProcess(
        "model service",
        [PYTHON, "-m", "model_service"],
        f"http://{host}:{port}/readyz",
        {**env, "MODEL_SERVICE_HOST": host, "MODEL_SERVICE_PORT": str(port)},
    )


def backend_process(host: str, port: int, env: dict[str, str]) -> ManagedProcess:
    # One worker process: it owns the embedded index; threads serve requests concurrently.
    cmd = [
        PYTHON, "-m", "gunicorn", "config.wsgi:application",
        "--chdir", str(REPO / "backend"), "--bind", f"{host}:{port}",
        "--workers", "1", "--worker-class", "gthread", "--threads", env.get("BACKEND_THREADS", "8"),
        "--timeout", "120", "--graceful-timeout", "10", "--access-logfile", "-",
    ]  # fmt: skip
    return ManagedProcess("backend", cmd, f"http://{host}:{port}/api/health/", env)


# The language model tests and benchmarks serve: SmolLM2 on llama.cpp, fast on two cores.
SMALL_GENERATOR = {"MODEL_GENERATOR": "llama-cpp:smollm2", "GEN_WARMUP": "0"}


@contextlib.contextmanager
def local_model_service(
    env: dict[str, str], *, log_path: Path | None = None, timeout: float = 300
) -> Iterator[tuple[str, ManagedProcess]]:
    """A model service with `env` on a free loopback port, for the duration: yields its URL
    and its process (to stop or pause it)."""
    port = free_port()
    proc = model_service_process("127.0.0.1", port, env)
    try:
        proc.start(log_path).wait_ready(timeout)
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.stop()


class SeparateServices:
    """A model service and a backend on fixed ports, started and stopped one at a time (tests
    stop one, break it or restart it with other settings), sharing `env`. Each writes its log
    under `logs`; one that does not become ready fails with the end of its log."""

    def __init__(self, env: dict[str, str], logs: Path, *, model_port: int, backend_port: int):
        self.env, self.logs = env, logs
        self.model_port, self.backend_port = model_port, backend_port
        self.model: ManagedProcess | None = None
        self.backend: ManagedProcess | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.backend_port}"

    def start_model(self, log_name: str = "model_service.log", **extra: str) -> None:
        self.model = model_service_process("127.0.0.1", self.model_port, {**self.env, **extra})
        self._start(self.model, log_name, timeout=300)

    def stop_model(self) -> None:
        if self.model is not None:
            self.model.stop()

    def start_backend(self, log_name: str = "backend.log", **extra: str) -> None:
        self.backend = backend_process("127.0.0.1", self.backend_port, {**self.env, **extra})
        self._start(self.backend, log_name, timeout=120)

    def stop_backend(self) -> None:
        if self.backend is not None:
            self.backend.stop()

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.logs / name
        if not path.is_file():
            return ""
        text = path.read_text(errors="replace").splitlines()[-lines:]
        return f"--- last lines of {path} ---\n" + "\n".join(text)

    def _start(self, process: ManagedProcess, log_name: str, timeout: float) -> None:
        process.start(self.logs / log_name)
        try:
            process.wait_ready(timeout)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"{exc}\n{self.log_tail(log_name)}") from exc


@contextlib.contextmanager
def ensure_model_service(url: str, *, timeout: float = 300) -> Iterator[ManagedProcess | None]:
    """Use the model service at `url` if it answers; start one for the duration if it is local."""
    if http_ok(f"{url}/readyz"):
        yield None
        return
    parsed = urlparse(url)
    if parsed.hostname not in {"127.0.0.1", "localhost"}:
        raise RuntimeError(f"The model service at {url} is not ready; start it first.")
    port = parsed.port or 80
    if not port_free(parsed.hostname, port):
        raise RuntimeError(
            f"Port {port} is taken but {url}/readyz does not answer ready; "
            "wait for the model service to finish loading, or free the port."
        )
    print(f"Starting a model service at {url} for this command…", file=sys.stderr)
    # Only embeddings are needed here: no language model to load (seconds, ~2 GB of RAM).
    proc = model_service_process(parsed.hostname, port, child_env(MODEL_GENERATOR="none")).start()
    try:
        proc.wait_ready(timeout)
        yield proc
    finally:
        proc.stop()


POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_available(admin_url: str = POSTGRES_ADMIN_URL) -> bool:
    """Whether a PostgreSQL server answers at `admin_url` (and psycopg is installed)."""
    try:
        import psycopg
    except ImportError:
        return False
    try:
        with psycopg.connect(admin_url, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@contextlib.contextmanager
def temporary_postgres_database(
    prefix: str = "marquee_tmp", admin_url: str = POSTGRES_ADMIN_URL
) -> Iterator[str]:
    """A new, empty PostgreSQL database for the duration (tests, benchmarks): yields its URL,
    then drops it, closing whatever connections are still open to it. Only that database is
    touched; the server and its other databases are left alone."""
    import uuid

    import psycopg
    from psycopg import sql

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parsed = urlparse(admin_url)
    try:
        yield parsed._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _run(cmd: list[str], env: dict[str, str]) -> None:
    subprocess.run(cmd, cwd=REPO, env=env, check=True)


def run_stack(host: str, backend_port: int, model_port: int) -> int:
    for name, port in (("backend", backend_port), ("model service", model_port)):
        if not port_free(host, port):
            print(
                f"Port {port} ({name}) is already in use: is Marquee already running? "
                f"Stop it, or choose another port (BACKEND_PORT / MODEL_SERVICE_PORT).",
                file=sys.stderr,
            )
            return 2
    model_url = f"http://{host}:{model_port}"
    env = child_env(MODEL_SERVICE_URL=os.environ.get("MODEL_SERVICE_URL", model_url))
    procs: list[ManagedProcess] = []
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        raise KeyboardInterrupt

    # Explicitly, for both: a shell starting us in the background would have SIGINT ignored.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        _run([PYTHON, "backend/manage.py", "migrate", "--noinput", "-v", "0"], env)
        print(f"Starting the model service on {model_url} (loading models)…", flush=True)
        model = model_service_process(host, model_port, env).start()
        procs.append(model)
        model.wait_ready(300)
        _run(
            [PYTHON, "prepare-databases/prepare.py", "ingest", "--source", "demo", "--if-empty"],
            env,
        )
        backend = backend_process(host, backend_port, env).start()
        procs.append(backend)
        backend.wait_ready(120)
        print(
            f"\nMarquee is running at http://{host}:{backend_port}/  "
            f"(API docs: http://{host}:{backend_port}/api/docs/). Press Ctrl-C to stop.\n",
            flush=True,
        )
        while all(p.alive() for p in procs):
            time.sleep(0.5)
        dead = next(p for p in procs if not p.alive())
        print(
            f"{dead.name} exited unexpectedly (code {dead.proc.returncode}); stopping.",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print("\nStopping Marquee…", flush=True)
        return 0
    except (RuntimeError, TimeoutError, subprocess.CalledProcessError) as exc:
        print(f"make run failed: {exc}", file=sys.stderr)
        return 1
    finally:
        for proc in reversed(procs):
            proc.stop()
        if stopping or procs:
            print("Stopped.", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description="Run Marquee: model service + backend.")
    parser.add_argument("--host", default=os.environ.get("MARQUEE_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("BACKEND_PORT", "8000")))
    parser.add_argument(
        "--model-port", type=int, default=int(os.environ.get("MODEL_SERVICE_PORT", "8001"))
    )
    args = parser.parse_args()
    return run_stack(args.host, args.port, args.model_port)


if __name__ == "__main__":
    sys.exit(main())
