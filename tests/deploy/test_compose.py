"""Static checks of docker-compose.yml: no Docker engine needed.

`docker-compose config` (Debian's 1.29, installed by `make compose-tools`; or Compose v2 with
DOCKER_COMPOSE_BIN="docker compose") validates and resolves the file with dummy secrets; the
resolved services are then checked for what a deployment relies on: secrets only from the
environment, healthchecks, named volumes, one published port, pinned images, start order.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"

# Required secrets: no default anywhere, compose stops when one is missing or empty.
SECRETS = ("POSTGRES_PASSWORD", "QDRANT_API_KEY", "DJANGO_SECRET_KEY", "MODEL_SERVICE_API_KEY")
DUMMY = {
    "POSTGRES_PASSWORD": "dummy-postgres-password-0001",
    "QDRANT_API_KEY": "dummy-qdrant-api-key-0002",
    "DJANGO_SECRET_KEY": "dummy-django-secret-key-0003-at-least-32-characters",
    "MODEL_SERVICE_API_KEY": "dummy-model-service-api-key-0004",
}
# Container variables that carry a secret, and the .env variable each must come from.
SECRET_ENV_KEYS = {
    "POSTGRES_PASSWORD": "POSTGRES_PASSWORD",
    "QDRANT_API_KEY": "QDRANT_API_KEY",
    "QDRANT__SERVICE__API_KEY": "QDRANT_API_KEY",
    "DJANGO_SECRET_KEY": "DJANGO_SECRET_KEY",
    "MODEL_SERVICE_API_KEY": "MODEL_SERVICE_API_KEY",
}
# Optional credentials: passed through when set, empty otherwise.
OPTIONAL_SECRETS = ("GEN_API_KEY", "TMDB_API_KEY")

DEFAULT_SERVICES = {"postgres", "qdrant", "model_service", "backend"}
PROFILE_SERVICES = {
    "prepare": "prepare",
    "qdrant-node1": "qdrant-cluster",
    "qdrant-node2": "qdrant-cluster",
    "qdrant-node3": "qdrant-cluster",
}
ONE_SHOT = {"prepare"}
ALL_PROFILES = ("prepare", "qdrant-cluster")


def compose_command() -> list[str]:
    configured = os.environ.get("DOCKER_COMPOSE_BIN", "").strip()
    if configured:
        return shlex.split(configured)
    found = shutil.which("docker-compose") or (
        "/usr/bin/docker-compose" if os.access("/usr/bin/docker-compose", os.X_OK) else None
    )
    if found is None:
        pytest.fail(
            "docker-compose not found: run `make compose-tools` (Debian: apt-get install "
            "--no-install-recommends docker-compose), or set DOCKER_COMPOSE_BIN "
            '(e.g. "docker compose")'
        )
    return [found]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Path:
    """An empty env file and HOME, so neither a developer's .env nor ~/.docker leaks in."""
    root = tmp_path_factory.mktemp("compose")
    (root / "empty.env").write_text("")
    (root / "home").mkdir()
    return root


def run_compose(
    sandbox: Path, *args: str, env: dict[str, str] | None = None, secrets: bool = True
) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(sandbox / "home")}
    if secrets:
        environment.update(DUMMY)
    environment.update(env or {})
    command = [
        *compose_command(),
        "--env-file", str(sandbox / "empty.env"),
        "-f", str(COMPOSE_FILE),
        "--project-directory", str(REPO),
        *args,
    ]  # fmt: skip
    return subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=60, check=False
    )


def resolved(sandbox: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """The resolved configuration, every profile enabled (Compose v2 prints only those)."""
    profiles = [arg for name in ALL_PROFILES for arg in ("--profile", name)]
    result = run_compose(sandbox, *profiles, "config", env=env)
    assert result.returncode == 0, f"docker-compose config failed:\n{result.stderr}"
    config = yaml.safe_load(result.stdout)
    assert isinstance(config, dict) and "services" in config, result.stdout[:500]
    return config


@pytest.fixture(scope="module")
def config(sandbox) -> dict[str, Any]:
    return resolved(sandbox)


@pytest.fixture(scope="module")
def services(config) -> dict[str, dict[str, Any]]:
    return config["services"]


@pytest.fixture(scope="module")
def raw_text() -> str:
    return COMPOSE_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def raw(raw_text) -> dict[str, Any]:
    """The file as written (anchors merged), before compose interpolates anything."""
    return yaml.safe_load(raw_text)


# -- normalising the two output dialects (Compose 1.29: short strings; v2: long mappings) --


def ports(service: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(host_ip, published, target) for each published port."""
    out = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            published = str(port.get("published", ""))
            out.append((port.get("host_ip", ""), published, str(port["target"])))
            continue
        spec = str(port).split("/")[0]
        parts = spec.rsplit(":", 2)
        if len(parts) == 3:
            out.append((parts[0], parts[1], parts[2]))
        elif len(parts) == 2:
            out.append(("", parts[0], parts[1]))
        else:
            out.append(("", "", parts[0]))
    return out


def mounts(service: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(source, target, read_only) for each mount."""
    out = []
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            out.append((volume.get("source", ""), volume["target"], bool(volume.get("read_only"))))
            continue
        parts = str(volume).split(":")
        mode = parts[2] if len(parts) > 2 else "rw"
        out.append((parts[0], parts[1], "ro" in mode.split(",")))
    return out


def seconds(duration: str | int | float) -> float:
    """Seconds in a compose duration: 1.29 prints "5m", v2 "5m0s"."""
    if isinstance(duration, int | float):
        return float(duration)
    units = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|us|ns|m|s)", duration)
    assert parts, f"unreadable duration {duration!r}"
    return sum(float(n) * units[u] for n, u in parts)


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def healthcheck_text(service: dict[str, Any]) -> str:
    test = service.get("healthcheck", {}).get("test", [])
    return " ".join(test) if isinstance(test, list) else str(test)


def image_tag(image: str) -> str:
    name, _, tag = image.rpartition(":")
    return tag if name and "/" not in tag else ""


# -- compose accepts the file, and refuses it without a secret --------------------------------


def test_config_resolves_with_every_secret_set(sandbox, services):
    assert set(services) == DEFAULT_SERVICES | set(PROFILE_SERVICES)
    for name in DEFAULT_SERVICES:
        assert not services[name].get("profiles"), f"{name} must start by default"
    for name, profile in PROFILE_SERVICES.items():
        assert services[name].get("profiles") == [profile], name
    quiet = run_compose(sandbox, "config", "-q")
    assert quiet.returncode == 0, quiet.stderr


@pytest.mark.parametrize("secret", SECRETS)
@pytest.mark.parametrize("how", ["unset", "empty"])
def test_missing_secret_stops_compose_and_names_it(sandbox, secret, how):
    env = {k: v for k, v in DUMMY.items() if k != secret}
    if how == "empty":
        env[secret] = ""
    result = run_compose(sandbox, "config", "-q", env=env, secrets=False)
    assert result.returncode != 0, f"compose accepted the file without {secret}"
    message = result.stderr + result.stdout
    assert f"set {secret} in .env" in message, message


@pytest.mark.parametrize("profile", ALL_PROFILES)
def test_profiles_resolve(sandbox, profile):
    by_flag = run_compose(sandbox, "--profile", profile, "config", "-q")
    assert by_flag.returncode == 0, by_flag.stderr
    by_env = run_compose(sandbox, "config", "-q", env={"COMPOSE_PROFILES": profile})
    assert by_env.returncode == 0, by_env.stderr
    listed = run_compose(sandbox, "config", "--profiles")
    assert listed.returncode == 0, listed.stderr
    assert profile in listed.stdout.split()


def test_build_contexts_exist(services):
    for name in ("backend", "model_service", "prepare"):
        build = services[name]["build"]
        assert (Path(build["context"]) / build["dockerfile"]).is_file(), name


# -- secrets ------------------------------------------------------------------------------------


def test_no_secret_has_a_default(raw_text):
    for secret in SECRETS:
        uses = re.findall(r"\$\{" + secret + r"([^A-Za-z0-9_][^}]*)?\}", raw_text)
        assert uses, f"{secret} is not used"
        for rest in uses:
            assert rest.startswith(":?"), f"${{{secret}{rest}}}: a secret must be ${{{secret}:?…}}"
        bare = re.findall(r"(?<!\$)\$" + secret + r"\b", raw_text)
        assert not bare, f"${secret} without braces cannot require a value"
    for optional in OPTIONAL_SECRETS:
        for rest in re.findall(r"\$\{" + optional + r"([^}]*)\}", raw_text):
            assert rest in ("", ":-", "-"), f"{optional} must default to empty, not {rest!r}"


def test_secret_variables_hold_no_literal_value(raw):
    for name, service in raw["services"].items():
        for key, value in environment(service).items():
            if key in SECRET_ENV_KEYS:
                source = SECRET_ENV_KEYS[key]
                assert re.fullmatch(r"\$\{" + source + r":\?[^}]+\}", value), (
                    f"{name}: {key} must be exactly ${{{source}:?message}}, not {value!r}"
                )
            if key == "DATABASE_URL":
                assert re.fullmatch(
                    r"postgres://marquee:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432/marquee",
                    value,
                ), f"{name}: DATABASE_URL {value!r}"
            if key in OPTIONAL_SECRETS:
                assert value == "${" + key + ":-}", f"{name}: {key} {value!r}"


def test_secrets_reach_the_services_that_need_them(services):
    postgres = environment(services["postgres"])
    assert postgres["POSTGRES_PASSWORD"] == DUMMY["POSTGRES_PASSWORD"]
    for name in ("qdrant", "qdrant-node1", "qdrant-node2", "qdrant-node3"):
        assert environment(services[name])["QDRANT__SERVICE__API_KEY"] == DUMMY["QDRANT_API_KEY"]
    model = environment(services["model_service"])
    assert model["MODEL_SERVICE_API_KEY"] == DUMMY["MODEL_SERVICE_API_KEY"]
    for name in ("backend", "prepare"):
        env = environment(services[name])
        assert env["DJANGO_SECRET_KEY"] == DUMMY["DJANGO_SECRET_KEY"], name
        assert env["QDRANT_API_KEY"] == DUMMY["QDRANT_API_KEY"], name
        assert env["MODEL_SERVICE_API_KEY"] == DUMMY["MODEL_SERVICE_API_KEY"], name
        assert env["DATABASE_URL"] == (
            f"postgres://marquee:{DUMMY['POSTGRES_PASSWORD']}@postgres:5432/marquee"
        ), name


# -- services -----------------------------------------------------------------------------------


def test_backend_configuration(services):
    env = environment(services["backend"])
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    assert env["QDRANT_URL"] == "http://qdrant:6333"
    assert env["MODEL_SERVICE_URL"] == "http://model_service:8001"
    assert env["DJANGO_ALLOWED_HOSTS"]
    assert "DJANGO_CSRF_TRUSTED_ORIGINS" in env


def test_backend_and_prepare_wait_for_healthy_dependencies(services):
    for name in ("backend", "prepare"):
        depends_on = services[name]["depends_on"]
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
        for dependency in ("postgres", "qdrant", "model_service"):
            assert depends_on[dependency]["condition"] == "service_healthy", (name, dependency)


def test_long_running_services_have_healthchecks(services):
    for name, service in services.items():
        if name in ONE_SHOT:
            assert service.get("restart") in ("no", None), name
            continue
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"
        assert service.get("restart") == "unless-stopped", name
    qdrant = healthcheck_text(services["qdrant"])
    assert "/dev/tcp/127.0.0.1/6333" in qdrant and "/readyz" in qdrant
    assert "curl" not in qdrant and "wget" not in qdrant, "the qdrant image has neither"
    assert "pg_isready" in healthcheck_text(services["postgres"])
    model = services["model_service"]["healthcheck"]
    assert "/readyz" in healthcheck_text(services["model_service"])
    assert seconds(model["start_period"]) >= 120, "the language model takes minutes to load"
    assert "/api/health/" in healthcheck_text(services["backend"])


def test_named_volumes_exist_and_are_used(config, services):
    declared = set(config.get("volumes") or {})
    used = set()
    for name, service in services.items():
        for source, _target, _ro in mounts(service):
            if source and not source.startswith(("/", ".", "~")):
                assert source in declared, f"{name} mounts undeclared volume {source}"
                used.add(source)
    assert declared == used, f"declared but unused: {sorted(declared - used)}"
    expected = {
        "postgres": {"/var/lib/postgresql/data"},
        "qdrant": {"/qdrant/storage", "/qdrant/snapshots"},
        "model_service": {"/data/models"},
        "backend": {"/app/var"},
    }
    for name, targets in expected.items():
        named = {t for s, t, _ in mounts(services[name]) if s in declared}
        assert targets <= named, f"{name}: {targets - named} not on a named volume"
    model = services["model_service"]
    assert environment(model)["MODEL_CACHE_DIR"] == "/data/models"


def test_only_the_backend_publishes_a_port(services):
    for name, service in services.items():
        if name != "backend":
            assert not service.get("ports"), f"{name} must not publish ports"
    assert ports(services["backend"]) == [("127.0.0.1", "8000", "8000")]


def test_images_are_pinned(services):
    for name, service in services.items():
        image = service.get("image", "")
        assert image, f"{name} has no image name"
        tag = image_tag(image)
        assert tag and tag != "latest", f"{name}: {image!r} is not pinned"
        if "build" not in service:
            # An exact release: v1.20.0, 16.10-bookworm (PostgreSQL numbers releases major.minor).
            assert re.fullmatch(r"v?\d+\.\d+(\.\d+)?(-[a-z0-9.]+)?", tag), (
                f"{name}: {image!r} needs an exact version"
            )
    assert services["prepare"]["image"] == services["backend"]["image"]
    assert services["prepare"]["build"] == services["backend"]["build"]
    assert re.fullmatch(r"postgres:16\.\d+-bookworm", services["postgres"]["image"])


def test_qdrant_image_matches_the_client(services):
    pins = (REPO / "requirements" / "backend.txt").read_text()
    client = re.search(r"^qdrant-client==(\d+)\.(\d+)\.\d+", pins, re.MULTILINE)
    assert client, "qdrant-client is not pinned in requirements/backend.txt"
    major, minor = int(client[1]), int(client[2])
    for name in ("qdrant", "qdrant-node1", "qdrant-node2", "qdrant-node3"):
        server = re.fullmatch(r"qdrant/qdrant:v(\d+)\.(\d+)\.\d+", services[name]["image"])
        assert server, f"{name}: {services[name]['image']}"
        assert int(server[1]) == major and abs(int(server[2]) - minor) <= 1, (
            f"{name}: Qdrant {server[0]} is outside qdrant-client {major}.{minor}'s range"
        )


def test_prepare_ingests_the_demo_catalog_by_default(services):
    prepare = services["prepare"]
    assert prepare["entrypoint"][-1] == "prepare-databases/prepare.py"
    assert prepare["command"][:3] == ["ingest", "--source", "demo"]
    assert (str(REPO / "data"), "/catalog", True) in mounts(prepare)
    assert (REPO / "prepare-databases" / "prepare.py").is_file()


def test_settings_from_the_environment(sandbox):
    services = resolved(
        sandbox,
        env={
            "MARQUEE_BIND": "0.0.0.0",
            "MARQUEE_PORT": "9000",
            "CATALOG_DIR": "/srv/catalogs/tmdb",
            "SOURCE": "tmdb-csv",
            "DATA": "/catalog/top10K-TMDB-movies.csv",
            "MODEL_GENERATOR": "openai:http://gpu-host:8000/v1",
            "MARQUEE_QDRANT_URL": "http://qdrant-cluster:6333",
        },
    )["services"]
    assert ports(services["backend"]) == [("0.0.0.0", "9000", "8000")]
    prepare = services["prepare"]
    assert prepare["command"] == [
        "ingest", "--source", "tmdb-csv", "--data", "/catalog/top10K-TMDB-movies.csv",
    ]  # fmt: skip
    assert ("/srv/catalogs/tmdb", "/catalog", True) in mounts(prepare)
    assert environment(services["model_service"])["MODEL_GENERATOR"] == (
        "openai:http://gpu-host:8000/v1"
    )
    assert environment(services["backend"])["QDRANT_URL"] == "http://qdrant-cluster:6333"


def test_qdrant_cluster_profile(services):
    nodes = ["qdrant-node1", "qdrant-node2", "qdrant-node3"]
    for index, name in enumerate(nodes):
        node = services[name]
        env = environment(node)
        assert env["QDRANT__CLUSTER__ENABLED"] == "true", name
        assert env["QDRANT__STORAGE__COLLECTION__REPLICATION_FACTOR"] == "2", name
        assert env["QDRANT__STORAGE__COLLECTION__SHARD_NUMBER_PER_NODE"] == "2", name
        command = node["command"]
        assert command[0] == "./qdrant", name
        assert command[command.index("--uri") + 1] == f"http://{name}:6335", name
        if index == 0:
            assert "--bootstrap" not in command
        else:
            assert command[command.index("--bootstrap") + 1] == "http://qdrant-node1:6335"
            assert node["depends_on"]["qdrant-node1"]["condition"] == "service_healthy"
        aliases = node["networks"]["default"]["aliases"]
        assert "qdrant-cluster" in aliases, name
        targets = {t for _s, t, _ro in mounts(node)}
        assert "/qdrant/storage" in targets, name
