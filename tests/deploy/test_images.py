"""The container images (docker/*.Dockerfile), checked without a docker engine.

Statically: a small Dockerfile parser (line continuations, comments, stages, FROM ... AS name,
COPY --from=stage, flags, exec and shell forms) and a .dockerignore matcher, then the rules the
images must keep: pinned base images, a non-root final stage, build-context paths that exist
and are not ignored, no compilers in the final stage, a portable llama.cpp build, the CPU
torch, no torch anywhere near the backend, healthchecks, ports and entrypoints.

Then each image's start command runs here, outside docker: the same entrypoint script, with
the environment its Dockerfile sets (container paths such as /app/var and /data mapped to
temporary folders, /app to this repository), its build-time collectstatic, its HEALTHCHECK
command, and SIGTERM as `docker stop` sends it.
"""

from __future__ import annotations

import ast
import http.client
import json
import os
import posixpath
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from scripts.stack import ManagedProcess, free_port, http_ok

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
BACKEND = DOCKER / "backend.Dockerfile"
MODEL_SERVICE = DOCKER / "model_service.Dockerfile"
DOCKERFILES = [BACKEND, MODEL_SERVICE]
VENV_BIN = Path(sys.executable).parent

COMPILERS = {"build-essential", "gcc", "g++", "cc", "c++", "clang", "cmake", "make", "ninja-build"}
# Packages that must never reach the backend image.
TORCH_STACK = {"torch", "sentence-transformers", "transformers", "llama-cpp-python"}
TORCH_MODULES = {"torch", "sentence_transformers", "transformers", "llama_cpp"}


# --- A small Dockerfile parser ---------------------------------------------------------------


@dataclass
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, ...
    value: str  # everything after the keyword, continuation lines joined
    line: int

    def flags(self) -> tuple[dict[str, str], str]:
        """Leading `--name=value` (or bare `--name`) flags, and the rest."""
        flags: dict[str, str] = {}
        rest = self.value.strip()
        while match := re.match(r"--([A-Za-z][\w-]*)(?:=(\S*))?\s+", rest):
            flags[match.group(1)] = match.group(2) or ""
            rest = rest[match.end() :]
        return flags, rest

    def command(self) -> list[str]:
        """ENTRYPOINT/CMD/RUN arguments: exec form (JSON) as is, shell form through sh -c."""
        _, rest = self.flags()
        if rest.startswith("["):
            return json.loads(rest)
        return ["/bin/sh", "-c", rest]


@dataclass
class Stage:
    index: int
    base: str
    name: str | None
    from_line: int
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None


@dataclass
class Dockerfile:
    path: Path
    stages: list[Stage]

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def stage(self, ref: str) -> Stage | None:
        """A stage by name (FROM ... AS name) or index, as COPY --from and FROM refer to it."""
        for stage in self.stages:
            if stage.name == ref.lower() or str(stage.index) == ref:
                return stage
        return None

    def lineage(self, stage: Stage) -> list[Stage]:
        """The stage and the earlier stages it is built FROM (their instructions carry over)."""
        chain = [stage]
        while (parent := self.stage(chain[-1].base)) is not None and parent.index < chain[-1].index:
            chain.append(parent)
        return chain[::-1]

    def env(self, stage: Stage) -> dict[str, str]:
        values: dict[str, str] = {}
        for ancestor in self.lineage(stage):
            for instruction in ancestor.all("ENV"):
                values.update(parse_env(instruction.value))
        return values


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, instruction text): comments dropped, `\\` continuations joined."""
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and buffer):
            continue  # comments and blank lines are dropped, also inside a continuation
        if not stripped:
            continue
        if not buffer:
            start = number
        line = raw.rstrip()
        if line.endswith("\\"):
            buffer.append(line[:-1])
            continue
        buffer.append(line)
        yield start, "".join(buffer).strip()
        buffer = []
    if buffer:
        raise ValueError(f"line {start}: the file ends inside a line continuation")


def parse_dockerfile(path: Path) -> Dockerfile:
    text = path.read_text()
    assert not re.match(r"\s*#\s*escape\s*=", text), "escape directives are not supported"
    stages: list[Stage] = []
    for line, logical in logical_lines(text):
        keyword, _, value = logical.partition(" ")
        instruction = Instruction(keyword.upper(), value.strip(), line)
        assert not re.search(r"<<-?\s*['\"]?[A-Za-z_]", value) or instruction.keyword not in {
            "RUN",
            "COPY",
        }, f"{path.name}:{line}: heredocs are not supported by this parser"
        if instruction.keyword == "FROM":
            _, rest = instruction.flags()
            match = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", rest, flags=re.IGNORECASE)
            assert match, f"{path.name}:{line}: cannot read FROM {rest!r}"
            name = match.group(2).lower() if match.group(2) else None
            stages.append(Stage(len(stages), match.group(1), name, line))
        else:
            assert stages, f"{path.name}:{line}: {instruction.keyword} before the first FROM"
            stages[-1].instructions.append(instruction)
    assert stages, f"{path.name} has no FROM"
    return Dockerfile(path, stages)


def parse_env(value: str) -> dict[str, str]:
    """ENV key=value ... (quotes allowed), or the legacy ENV key value."""
    tokens = shlex.split(value)
    if tokens and "=" not in tokens[0]:
        return {tokens[0]: value.split(None, 1)[1] if len(tokens) > 1 else ""}
    return dict(token.split("=", 1) for token in tokens)


def copy_sources(instruction: Instruction) -> tuple[dict[str, str], list[str]]:
    """(flags, sources) of a COPY or ADD."""
    flags, rest = instruction.flags()
    parts = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
    assert len(parts) >= 2, f"line {instruction.line}: COPY needs a source and a destination"
    return flags, parts[:-1]


def shell_commands(run: str) -> list[list[str]]:
    """A RUN's shell text split into simple commands (on &&, ||, ;, |), each as words."""
    commands = []
    for part in re.split(r"&&|\|\||;|\|", run):
        words = shlex.split(part, comments=False)
        while words and re.fullmatch(r"[A-Za-z_]\w*=.*", words[0]):
            words = words[1:]  # VAR=value prefixes
        if words:
            commands.append(words)
    return commands


def apt_installed(stage: Stage) -> set[str]:
    packages: set[str] = set()
    for run in stage.all("RUN"):
        _, text = run.flags()
        for words in shell_commands(text):
            if words[0] in {"apt-get", "apt"} and "install" in words:
                after = words[words.index("install") + 1 :]
                packages.update(w.split("=")[0] for w in after if not w.startswith("-"))
    return packages


# --- .dockerignore --------------------------------------------------------------------------


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Docker's pattern syntax (Go filepath.Match plus `**`) as a regular expression."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*" and pattern[i + 1 : i + 2] == "*":
            i += 2
            if pattern[i : i + 1] == "/":
                i += 1
                out.append("(?:.*/)?")
            else:
                out.append(".*")
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and (end := pattern.find("]", i + 1)) > i:
            body = pattern[i + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith(("!", "^")) else body) + "]")
            i = end
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out))


class DockerIgnore:
    """What `docker build` leaves out of the context: a path is out when the last pattern that
    matches it, or one of its parent folders, is not a `!` exception."""

    def __init__(self, text: str) -> None:
        self.rules: list[tuple[re.Pattern[str], bool, str]] = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            pattern = posixpath.normpath(line.lstrip("!").strip()).lstrip("/")
            self.rules.append((_glob_regex(pattern), negated, pattern))

    def excluded(self, path: str) -> bool:
        parts = posixpath.normpath(path).lstrip("/").split("/")
        candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        out = False
        for regex, negated, _ in self.rules:
            if any(regex.fullmatch(candidate) for candidate in candidates):
                out = not negated
        return out

    def files(self, root: Path, source: str) -> list[Path]:
        """The files of the build context under `source` (a file or a folder)."""
        start = root / source
        if start.is_file():
            return [] if self.excluded(source) else [start]
        may_reinclude = any(negated for _, negated, _ in self.rules)
        found = []
        for folder, dirs, names in os.walk(start):
            rel = Path(folder).relative_to(root).as_posix()
            if not may_reinclude:
                dirs[:] = [d for d in dirs if not self.excluded(f"{rel}/{d}")]
            found += [Path(folder, n) for n in names if not self.excluded(f"{rel}/{n}")]
        return found


@pytest.fixture(scope="module")
def dockerignore() -> DockerIgnore:
    path = REPO / ".dockerignore"
    assert path.is_file(), ".dockerignore is missing: the whole repository would be sent"
    return DockerIgnore(path.read_text())


def test_parser_reads_continuations_stages_and_flags(tmp_path):
    path = tmp_path / "x.Dockerfile"
    path.write_text(
        "# comment\nFROM python:3.11.7-slim AS Build\nRUN apt-get update \\\n"
        "# inside\n && apt-get install -y --no-install-recommends gcc \\\n"
        "    make\nFROM build AS final\n"
        'ENV A=1 B="two words"\nENV C 3 4\nCOPY --from=build --chown=1:1 /w /w\n'
        'CMD ["python", "-m", "x"]\n'
    )
    parsed = parse_dockerfile(path)
    assert [(s.base, s.name) for s in parsed.stages] == [
        ("python:3.11.7-slim", "build"),
        ("build", "final"),
    ]
    assert apt_installed(parsed.stages[0]) == {"gcc", "make"}
    assert [s.index for s in parsed.lineage(parsed.final)] == [0, 1]
    assert parsed.env(parsed.final) == {"A": "1", "B": "two words", "C": "3 4"}
    flags, sources = copy_sources(parsed.final.all("COPY")[0])
    assert flags == {"from": "build", "chown": "1:1"} and sources == ["/w"]
    assert parsed.final.last("CMD").command() == ["python", "-m", "x"]


def test_dockerignore_matcher_follows_docker_rules():
    ignore = DockerIgnore("var\n**/node_modules\n*.egg-info\ndata/*.csv\n!data/keep.csv\n")
    assert ignore.excluded("var") and ignore.excluded("var/index/x.bin")
    assert not ignore.excluded("backend/var.py")
    assert ignore.excluded("frontend/node_modules/react/index.js")
    assert ignore.excluded("node_modules/x")
    assert ignore.excluded("marquee.egg-info/PKG-INFO")
    assert not ignore.excluded("sub/marquee.egg-info")  # no slash: the context root only
    assert ignore.excluded("data/a.csv") and not ignore.excluded("data/keep.csv")
    assert not ignore.excluded("data/sub/a.csv")


# --- Static rules ---------------------------------------------------------------------------


@pytest.fixture(scope="module", params=DOCKERFILES, ids=lambda p: p.name)
def image(request) -> Dockerfile:
    return parse_dockerfile(request.param)


def test_base_images_are_pinned_to_exact_versions(image):
    for stage in image.stages:
        if image.stage(stage.base) is not None:
            continue  # built on an earlier stage
        assert "$" not in stage.base, f"FROM {stage.base}: a build argument is not a pin"
        reference, _, digest = stage.base.partition("@")
        _, _, tag = reference.rpartition(":") if ":" in reference.split("/")[-1] else ("", "", "")
        assert tag or digest, f"FROM {stage.base}: untagged (means latest)"
        assert tag != "latest", f"FROM {stage.base}: latest is not a pin"
        if digest:
            assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest), stage.base
        else:
            assert re.fullmatch(r"\d+\.\d+\.\d+(?:[-.][A-Za-z0-9]+)*", tag), (
                f"FROM {stage.base}: use an exact version tag (e.g. 3.11.7-slim-bookworm)"
            )


def test_final_stage_runs_as_a_non_root_user(image):
    user = image.final.last("USER")
    assert user is not None, f"{image.path.name}: the final stage runs as root"
    name = user.value.split(":")[0]
    assert name not in {"root", "0"}, f"{image.path.name}: USER {user.value}"
    # A numeric uid must exist: created in this stage.
    if name.isdigit():
        runs = " ".join(r.value for r in image.final.all("RUN"))
        assert re.search(rf"useradd\b[^&;]*--uid {name}\b", runs), f"uid {name} is not created"


def test_copied_paths_exist_and_are_in_the_build_context(image, dockerignore):
    for stage in image.stages:
        for instruction in stage.all("COPY") + stage.all("ADD"):
            flags, sources = copy_sources(instruction)
            if "from" in flags:
                source_stage = image.stage(flags["from"])
                assert source_stage is not None and source_stage.index < stage.index, (
                    f"{image.path.name}:{instruction.line}: --from={flags['from']} is not an "
                    "earlier stage (an external image would need a pinned reference)"
                )
                continue
            for source in sources:
                assert not source.startswith(("/", "..")), f"{source}: outside the context"
                matches = sorted(REPO.glob(source)) if any(c in source for c in "*?[") else []
                paths = matches or [REPO / source]
                for path in paths:
                    rel = path.relative_to(REPO).as_posix()
                    assert path.exists(), f"{image.path.name}:{instruction.line}: {rel} missing"
                    assert not dockerignore.excluded(rel), (
                        f"{image.path.name}:{instruction.line}: {rel} is excluded by "
                        ".dockerignore, so the build would not find it"
                    )
                    assert dockerignore.files(REPO, rel), f"{rel}: nothing of it is sent"


def test_dockerignore_keeps_local_state_out_of_the_context(dockerignore):
    for path in [
        ".git/HEAD",
        ".venv/bin/python",
        "var/marquee.sqlite3",
        "var/index/segment",
        ".env",
        "frontend/node_modules/react/package.json",
        "frontend/dist/index.html",
        "backend/catalog/__pycache__/models.cpython-311.pyc",
        "model_service/__pycache__/app.cpython-311.pyc",
        ".pytest_cache/v/cache/nodeids",
        ".ruff_cache/CACHEDIR.TAG",
        "marquee.egg-info/PKG-INFO",
        "backend/tests/conftest.py",
        "tests/deploy/test_images.py",
    ]:
        assert dockerignore.excluded(path), f"{path} would be sent to the docker daemon"
    for path in ["backend/manage.py", "data/demo/movies.jsonl", "frontend/src/main.tsx"]:
        assert not dockerignore.excluded(path), path


def test_no_compilers_in_the_final_stage(image):
    for stage in image.lineage(image.final):
        found = {
            p for p in apt_installed(stage) if p in COMPILERS or re.fullmatch(r"g(cc|\+\+)-\d+", p)
        }
        assert not found, f"{image.path.name}: the final image installs {sorted(found)}"


def test_model_service_compiles_llama_cpp_portably_in_a_builder_stage():
    image = parse_dockerfile(MODEL_SERVICE)
    assert "llama-cpp-python" in (REPO / "requirements" / "model-service.txt").read_text()
    builds = []  # (stage, RUN) that may compile llama-cpp-python
    for stage in image.stages:
        for run in stage.all("RUN"):
            _, text = run.flags()
            for words in shell_commands(text):
                pip = words[:2] in (["pip", "wheel"], ["pip", "install"]) or words[:4] in (
                    ["python", "-m", "pip", "wheel"],
                    ["python", "-m", "pip", "install"],
                )
                names_it = "llama-cpp-python" in text or "model-service.txt" in text
                if pip and names_it and "--no-index" not in words:
                    builds.append((stage, run))
    assert builds, "no stage builds llama-cpp-python"
    for stage, run in builds:
        assert stage is not image.final, "llama-cpp-python must be built in a builder stage"
        assert {"build-essential", "cmake"} <= apt_installed(stage)
        cmake_args = image.env(stage).get("CMAKE_ARGS", "") + " " + run.value
        assert "-DGGML_NATIVE=OFF" in cmake_args, (
            f"line {run.line}: set CMAKE_ARGS=-DGGML_NATIVE=OFF where llama-cpp-python is built"
        )
    # The final stage installs the builder's wheels, with no index (so nothing compiles there).
    installs = [r for r in image.final.all("RUN") if "pip install" in r.value]
    assert installs and all("--no-index" in r.value for r in installs)
    for run in installs:
        flags, _ = run.flags()
        mount = flags.get("mount", "")
        assert "from=" in mount or "--find-links" in run.value
    # torch: the CPU build of the pinned version, from the PyTorch CPU index.
    (torch,) = [r for s in image.stages for r in s.all("RUN") if "download.pytorch.org" in r.value]
    assert "--index-url https://download.pytorch.org/whl/cpu" in torch.value
    assert re.search(r"\btorch==2\.13\.0\b", torch.value)
    assert re.search(
        r"(?m)^torch==2\.13\.0$", (REPO / "requirements/model-service.txt").read_text()
    )


def requirement_lines(path: Path) -> Iterator[str]:
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith(("-r ", "--requirement ")):
            yield from requirement_lines(path.parent / line.split(None, 1)[1])
        elif line and not line.startswith("-"):
            yield line


def test_backend_image_carries_no_torch(dockerignore):
    image = parse_dockerfile(BACKEND)
    text = "\n".join(r.value for s in image.stages for r in s.all("RUN"))
    assert "torch" not in text and "model-service.txt" not in text
    files = {
        src
        for s in image.stages
        for c in s.all("COPY")
        if "from" not in copy_sources(c)[0]
        for src in copy_sources(c)[1]
    }
    requirement_files = sorted(f for f in files if f.startswith("requirements/"))
    assert requirement_files == ["requirements/backend.txt"]
    # The requirement files, and everything they pull in (read from the installed packages).
    wanted = [Requirement(line) for line in requirement_lines(REPO / "requirements/backend.txt")]
    assert not {canonicalize_name(r.name) for r in wanted} & TORCH_STACK
    seen: set[str] = set()
    while wanted:
        requirement = wanted.pop()
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(requirement.name) or []
        except metadata.PackageNotFoundError:
            continue  # not installed here: only a marker-excluded dependency can be missing
        for line in requires:
            dependency = Requirement(line)
            markers = dependency.marker
            if markers is None or any(
                markers.evaluate({"extra": extra}) for extra in requirement.extras or {""}
            ):
                wanted.append(dependency)
    assert "django" in seen and "gunicorn" in seen
    assert not seen & TORCH_STACK, f"requirements/backend.txt pulls in {seen & TORCH_STACK}"
    # And no Python file that goes into the image imports them.
    imports_torch, scanned = [], set()
    for source in sorted(files):
        for path in dockerignore.files(REPO, source):
            if path.suffix != ".py":
                continue
            scanned.add(path.relative_to(REPO).as_posix())
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                if any(n.split(".")[0] in TORCH_MODULES for n in names):
                    imports_torch.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert {"backend/manage.py", "prepare-databases/prepare.py"} <= scanned
    assert not any(path.startswith("backend/tests/") for path in scanned)  # they use torch
    assert not imports_torch, f"backend image code imports torch & co: {imports_torch}"


PORTS = {
    BACKEND: ("BACKEND_PORT", "8000", "/api/health/"),
    MODEL_SERVICE: ("MODEL_SERVICE_PORT", "8001", "/healthz"),
}


def test_healthcheck_and_exposed_port(image):
    variable, port, path = PORTS[image.path]
    exposed = [p.split("/")[0] for e in image.final.all("EXPOSE") for p in e.value.split()]
    assert exposed == [port]
    assert image.env(image.final).get(variable) == port
    healthcheck = image.final.last("HEALTHCHECK")
    assert healthcheck is not None, f"{image.path.name}: no HEALTHCHECK"
    flags, rest = healthcheck.flags()
    assert {"interval", "timeout", "start-period", "retries"} <= set(flags)
    assert rest.startswith("CMD ["), "HEALTHCHECK CMD in exec form"
    command = json.loads(rest[len("CMD") :])
    assert command[:2] == ["python", "-c"] and "urllib" in command[2] and path in command[2]
    ast.parse(command[2])  # valid Python


@pytest.mark.parametrize("script", ["entrypoint-backend.sh", "entrypoint-model-service.sh"])
def test_entrypoint_scripts_are_executable_posix_sh(script):
    path = DOCKER / script
    assert path.is_file() and os.access(path, os.X_OK), f"{path} is missing or not executable"
    text = path.read_text()
    assert text.startswith("#!/bin/sh\n")
    assert re.search(r"(?m)^set -eu$", text)
    assert re.search(r"(?m)^exec python -m ", text), "the server must be exec'd (signals)"
    result = subprocess.run(["sh", "-n", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_entrypoints_are_copied_to_where_the_images_run_them(image):
    entrypoint = image.final.last("ENTRYPOINT")
    assert entrypoint is not None
    command = entrypoint.command()
    scripts = [a for a in command if a.endswith(".sh")]
    assert len(scripts) == 1 and scripts[0].startswith("/app/docker/entrypoint-"), command
    workdir = image.final.last("WORKDIR").value
    copied = {
        posixpath.join(workdir, c.value.split()[-1])
        for c in image.final.all("COPY")
        if "docker/entrypoint" in c.value
    }
    assert scripts[0] in copied, f"{scripts[0]} is not copied into the image"
    assert (REPO / scripts[0].removeprefix("/app/")).is_file()


# --- The images' start commands, outside docker ---------------------------------------------


def container_paths(tmp_path: Path) -> list[tuple[str, Path]]:
    """Container path -> path here: the repository is /app, volumes and home are temporary."""
    return [
        ("/app/var", tmp_path / "var"),
        ("/app/static", tmp_path / "static"),
        ("/data", tmp_path / "data"),
        ("/home/marquee", tmp_path / "home"),
        ("/app", REPO),
    ]


def to_host(value: str, paths: list[tuple[str, Path]]) -> str:
    for prefix, host in paths:
        if value == prefix or value.startswith(prefix + "/"):
            return str(host) + value[len(prefix) :]
    return value


def image_env(image: Dockerfile, paths: list[tuple[str, Path]], **overrides: str | None) -> dict:
    """The environment a container of `image` starts with, mapped to this machine."""
    home = dict(paths)["/home/marquee"]
    home.mkdir(parents=True, exist_ok=True)
    env = {"PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin", "HOME": str(home)}
    env["LANG"] = "C.UTF-8"
    for name, value in image.env(image.final).items():
        mapped = to_host(value, paths)
        assert not (mapped.startswith("/") and mapped == value and not Path(value).exists()), (
            f"ENV {name}={value}: a container path this test does not map"
        )
        env[name] = mapped
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def image_command(image: Dockerfile, paths, *args: str) -> list[str]:
    command = image.final.last("ENTRYPOINT").command()
    cmd = image.final.last("CMD")
    command += list(args) or (cmd.command() if cmd else [])
    workdir = image.final.last("WORKDIR").value
    assert Path(to_host(workdir, paths)) == REPO  # ManagedProcess runs in REPO
    return [to_host(part, paths) for part in command]


def run_healthcheck(image: Dockerfile, env: dict) -> subprocess.CompletedProcess:
    _, rest = image.final.last("HEALTHCHECK").flags()
    command = json.loads(rest[len("CMD") :])
    return subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=30)


def fetch(port: int, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """GET without following redirects; as through a TLS proxy unless headers say otherwise."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        connection.request("GET", path, headers={"X-Forwarded-Proto": "https", **(headers or {})})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def stop_with_sigterm(process: ManagedProcess, limit: float = 10.0) -> tuple[int, float]:
    """SIGTERM to the process itself, as `docker stop` sends it to PID 1; (code, seconds)."""
    started = time.monotonic()
    process.proc.send_signal(signal.SIGTERM)
    try:
        code = process.proc.wait(timeout=limit + 20)
    except subprocess.TimeoutExpired:
        process.stop()
        raise AssertionError(f"{process.name} ignored SIGTERM for {limit + 20:.0f} s") from None
    return code, time.monotonic() - started


@pytest.fixture
def database_url() -> Iterator[str | None]:
    """A temporary PostgreSQL database on the test server (DATABASE_URL, else the local one),
    dropped afterwards; None when no PostgreSQL answers (the image's SQLite default then)."""
    import psycopg
    from psycopg import sql

    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith(("postgres://", "postgresql://")):
        server = "postgres://postgres@127.0.0.1:5432/test"
    parts = urlsplit(server)
    admin = urlunsplit(parts._replace(path="/postgres"))
    name = f"marquee_deploy_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as exc:
        print(f"note: no PostgreSQL at {parts.hostname}:{parts.port} ({exc}); using SQLite")
        yield None
        return
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def backend_env(tmp_path: Path, **overrides: str | None) -> tuple[Dockerfile, list, dict]:
    image = parse_dockerfile(BACKEND)
    paths = container_paths(tmp_path)
    settings = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "MODEL_SERVICE_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens there
        "QDRANT_URL": None,
        "DATABASE_URL": None,
        **overrides,
    }
    return image, paths, image_env(image, paths, **settings)


def run_entrypoint(image, paths, env, *args, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run(
        image_command(image, paths, *args),
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_backend_entrypoint_refuses_several_workers_with_the_embedded_index(tmp_path):
    image, paths, env = backend_env(tmp_path, BACKEND_WORKERS="3")
    result = run_entrypoint(image, paths, env, timeout=20)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "QDRANT_URL" in result.stderr and "BACKEND_WORKERS=3" in result.stderr
    image, paths, env = backend_env(tmp_path, BACKEND_WORKERS="many")
    result = run_entrypoint(image, paths, env, timeout=20)
    assert result.returncode == 2 and "positive whole number" in result.stderr


def test_backend_entrypoint_gives_up_on_an_unreachable_database_with_a_clear_message(tmp_path):
    # Several workers are accepted with a Qdrant server; the wait is bounded.
    closed = free_port()
    image, paths, env = backend_env(
        tmp_path,
        DATABASE_URL=f"postgres://marquee:secret@127.0.0.1:{closed}/marquee",
        DATABASE_WAIT_SECONDS="3",
        QDRANT_URL=f"http://127.0.0.1:{free_port()}",
        BACKEND_WORKERS="3",
    )
    started = time.monotonic()
    result = run_entrypoint(image, paths, env, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert time.monotonic() - started < 30
    assert f"giving up: the database at 127.0.0.1:{closed}/marquee is unreachable" in (
        result.stderr
    )
    assert "DATABASE_URL" in result.stderr and "secret" not in result.stderr


def test_backend_entrypoint_reports_a_missing_secret_key_and_runs_other_commands(tmp_path):
    image, paths, env = backend_env(tmp_path, DJANGO_SECRET_KEY=None)
    result = run_entrypoint(image, paths, env, timeout=60)
    assert result.returncode == 2
    assert "configuration error: DJANGO_SECRET_KEY must be set" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_entrypoint(image, paths, env, "python", "-c", "print('as given')", timeout=30)
    assert result.returncode == 0 and result.stdout == "as given\n"


@pytest.mark.slow
def test_backend_image_start_command_serves_api_spa_and_static_files(tmp_path, database_url):
    port = free_port()
    image, paths, env = backend_env(tmp_path, DATABASE_URL=database_url, BACKEND_PORT=str(port))
    # The build step: collectstatic, exactly as the Dockerfile runs it.
    (collect,) = [r for r in image.final.all("RUN") if "collectstatic" in r.value]
    built = subprocess.run(
        collect.command(), cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert built.returncode == 0, built.stdout + built.stderr
    static_root = Path(env["DJANGO_STATIC_ROOT"])
    assert (static_root / "admin" / "css" / "base.css").is_file()

    log = tmp_path / "backend.log"
    backend = ManagedProcess("backend image", image_command(image, paths), "", env)
    backend.start(log_path=log)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert backend.alive(), f"the entrypoint exited:\n{log.read_text()}"
            try:
                status, _, body = fetch(port, "/api/health/")
                if status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"no /api/health/ after 90 s:\n{log.read_text()}"
            time.sleep(0.25)
        health = json.loads(body)
        # Degraded (no model service), yet healthy: the database answers, migrated and empty.
        assert health["status"] == "degraded", health
        assert health["database"]["ok"] and health["movies"] == 0
        assert health["index"]["ok"] and not health["model_service"]["ok"]
        assert "starting gunicorn on 0.0.0.0" in log.read_text()
        if database_url:
            assert "Applying catalog.0001" in log.read_text()

        # Plain http is redirected to https (the production settings): why the healthcheck
        # and a TLS proxy send X-Forwarded-Proto.
        status, headers, _ = fetch(port, "/api/health/", {"X-Forwarded-Proto": "http"})
        assert status == 301 and headers["location"].startswith("https://")
        status, _, _ = fetch(port, "/api/health/", {"Host": "evil.example"})
        assert status == 400  # ALLOWED_HOSTS

        assert run_healthcheck(image, env).returncode == 0

        index = Path(env["FRONTEND_DIST"]) / "index.html"
        status, headers, body = fetch(port, "/")
        if index.is_file():
            assert status == 200 and body == index.read_bytes()
            assert headers["content-type"].startswith("text/html")
            assets = re.findall(r'"(/static/assets/[^"]+\.(?:js|css))"', index.read_text())
            assert assets, "index.html names no asset"
            for asset in assets:
                status, headers, body = fetch(port, asset, {"Accept-Encoding": "gzip"})
                assert status == 200, asset
                assert "immutable" in headers["cache-control"]
                assert headers.get("content-encoding") == "gzip", asset
        else:
            assert status == 503 and b"has not been built" in body
        status, headers, body = fetch(port, "/static/admin/css/base.css")
        assert status == 200 and headers["content-type"].startswith("text/css") and body

        code, seconds = stop_with_sigterm(backend)
        assert code == 0, log.read_text()
        assert seconds < 10, f"took {seconds:.1f} s to stop (docker kills after 10 s)"
        assert run_healthcheck(image, env).returncode != 0
    finally:
        backend.stop()


@pytest.mark.slow
def test_backend_frontend_stage_builds_from_exactly_what_it_copies(tmp_path, dockerignore):
    """The node stage replayed here: its COPYs (through .dockerignore) into a scratch root,
    its RUNs there, so a source file the build needs but the stage does not copy is caught."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed (make frontend needs it too)")
    image = parse_dockerfile(BACKEND)
    (copy_dist,) = [c for c in image.final.all("COPY") if "from" in c.flags()[0]]
    stage = image.stage(copy_dist.flags()[0]["from"])
    assert stage.base.startswith("node:")
    root = tmp_path / "root"
    env = dict(os.environ)  # npm's own cache and registry settings, as `make frontend` uses
    cwd = root
    for instruction in stage.instructions:
        if instruction.keyword == "WORKDIR":
            cwd = root / instruction.value.lstrip("/")
            cwd.mkdir(parents=True, exist_ok=True)
        elif instruction.keyword == "ENV":
            env.update(parse_env(instruction.value))
        elif instruction.keyword == "COPY":
            _, sources = copy_sources(instruction)
            dest = instruction.value.split()[-1]
            target = cwd / dest
            for source in sources:
                for path in dockerignore.files(REPO, source):
                    rel = path.relative_to(REPO / source) if (REPO / source).is_dir() else None
                    out = (
                        target / rel
                        if rel is not None
                        else (target / path.name if dest.endswith("/") else target)
                    )
                    out.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, out)
        elif instruction.keyword == "RUN":
            result = subprocess.run(
                instruction.command(), cwd=cwd, env=env, capture_output=True, text=True, timeout=600
            )
            assert result.returncode == 0, (
                f"RUN {instruction.value}:\n{result.stdout}{result.stderr}"
            )
        else:
            raise AssertionError(f"{instruction.keyword}: not replayed by this test")
    dist = root / copy_dist.value.split()[-2].lstrip("/")
    assert (dist / "index.html").is_file()
    assert list((dist / "assets").glob("index-*.js.gz")), "precompressed assets"
    shutil.rmtree(cwd / "node_modules", ignore_errors=True)


@pytest.mark.slow
def test_model_service_image_start_command_serves_health_and_readiness(tmp_path):
    image = parse_dockerfile(MODEL_SERVICE)
    paths = container_paths(tmp_path)
    port = free_port()
    env = image_env(image, paths, MODEL_GENERATOR="none", MODEL_SERVICE_PORT=str(port))
    assert env["MODEL_SERVICE_HOST"] == "0.0.0.0" and env["HF_HUB_OFFLINE"] == "1"
    log = tmp_path / "model_service.log"
    service = ManagedProcess(
        "model service image", image_command(image, paths), f"http://127.0.0.1:{port}/readyz", env
    )
    service.start(log_path=log)
    try:
        try:
            service.wait_ready(180)
        except (RuntimeError, TimeoutError) as exc:
            raise AssertionError(f"{exc}\n{log.read_text()}") from None
        assert http_ok(f"http://127.0.0.1:{port}/healthz")
        status, _, body = fetch(port, "/readyz")
        ready = json.loads(body)
        assert status == 200 and ready["status"] == "ready"
        assert list(ready["models"]) == ["embeddings"]
        assert Path(env["MODEL_CACHE_DIR"]).is_dir()  # the volume's folder, created if needed
        assert run_healthcheck(image, env).returncode == 0
        code, seconds = stop_with_sigterm(service)
        assert code == 0, log.read_text()
        assert seconds < 10, f"took {seconds:.1f} s to stop (docker kills after 10 s)"
        assert run_healthcheck(image, env).returncode != 0
    finally:
        service.stop()
