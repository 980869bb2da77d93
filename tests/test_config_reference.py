"""Every environment variable Marquee reads is documented: in .env.example and in docs.txt's
configuration reference (section 5). Read from the code, so a new setting cannot slip by."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Where settings are read: the services, the CLIs, the images' entrypoints and compose.
SOURCES = ["backend/config", "backend/clients", "model_service", "scripts", "prepare-databases",
           "movie_constraints", "docker", "docker-compose.yml"]  # fmt: skip
_PY_READS = re.compile(
    r"""(?:\benv(?:_bool|_list)?|getenv|environ\.get|env\.get|_(?:int|float)_from_env\(\s*env,)"""
    r"""\(?\s*["']([A-Z][A-Z0-9_]{2,})["']|environ\[["']([A-Z][A-Z0-9_]{2,})["']\]"""
)
_SHELL_READS = re.compile(r"\$\{([A-Z][A-Z0-9_]{2,})")
# Not Marquee's settings: the platform's own, and names a script only sets for a child.
NOT_OURS = {"XDG_CACHE_HOME", "HOME", "PATH", "PYTHONUNBUFFERED", "PYTHONPATH", "APP_DIR",
            "DJANGO_SETTINGS_MODULE_DEFAULT"}  # fmt: skip


def _files():
    for name in SOURCES:
        path = REPO / name
        if path.is_file():
            yield path
            continue
        for file in path.rglob("*"):
            if file.suffix in {".py", ".sh", ".yml"} and "tests" not in file.parts:
                yield file


def variables_read() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for file in _files():
        text = file.read_text()
        names = {a or b for a, b in _PY_READS.findall(text)}  # Python, also inside a script
        if file.suffix != ".py":
            # Shell and compose: real expansions only, not those in comments.
            code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
            names |= set(_SHELL_READS.findall(code))
        for name in names - NOT_OURS:
            found.setdefault(name, set()).add(str(file.relative_to(REPO)))
    return found


def _reference_section() -> str:
    text = (REPO / "docs.txt").read_text()
    start = text.index("5. CONFIGURATION REFERENCE")
    return text[start : text.index("\n6. ", start)]


def test_the_scan_finds_the_settings_we_know():
    found = variables_read()
    for name in ("DATABASE_URL", "MODEL_GENERATOR", "CHAT_RATE_LIMIT", "QDRANT_API_KEY",
                 "POSTGRES_PASSWORD", "BACKEND_WORKERS", "EMBED_MAX_BATCH"):  # fmt: skip
        assert name in found, name


def test_every_variable_is_in_env_example_and_the_reference():
    example = (REPO / ".env.example").read_text()
    reference = _reference_section()
    missing = {
        name: sorted(where)
        for name, where in variables_read().items()
        if not re.search(rf"\b{name}\b", example) or not re.search(rf"\b{name}\b", reference)
    }
    assert not missing, (
        "document these in .env.example and docs.txt section 5 (name: where it is read):\n"
        + "\n".join(f"  {name}: {', '.join(where)}" for name, where in sorted(missing.items()))
    )
