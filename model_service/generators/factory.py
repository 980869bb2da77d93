"""Parse MODEL_GENERATOR and load the generator it names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from model_service.config import Settings
from model_service.generators.base import Generator, GeneratorLoadError
from model_service.generators.packaged import (
    DEFAULT_ALIASES,
    QWEN_CODER_1_5B,
    SMOLLM2_ALIASES,
    assemble,
    smollm2_path,
)

GeneratorKind = Literal["llama-cpp", "hf", "openai", "none"]

_KIND_ALIASES: dict[str, GeneratorKind] = {
    "llama-cpp": "llama-cpp",
    "llama_cpp": "llama-cpp",
    "llamacpp": "llama-cpp",
    "hf": "hf",
    "transformers": "hf",
    "openai": "openai",
}

USAGE = (
    "MODEL_GENERATOR must be one of: llama-cpp:default, llama-cpp:smollm2, "
    "llama-cpp:<path/to/model.gguf>, hf:<hub id or directory>[#<file.gguf>], "
    "openai:<base url>[#<model>], or none."
)


@dataclass(frozen=True)
class GeneratorSpec:
    """What MODEL_GENERATOR asks for: an engine kind, a target, and an optional detail after
    '#' (the GGUF file inside a directory for hf:, the model name for openai:)."""

    kind: GeneratorKind
    target: str = ""
    detail: str | None = None

    @classmethod
    def parse(cls, value: str) -> GeneratorSpec:
        value = value.strip()
        if value.casefold() in ("none", "off", "disabled"):
            return cls("none")
        if value.casefold() in ("", "default"):
            return cls("llama-cpp", "default")
        kind_text, sep, rest = value.partition(":")
        kind = _KIND_ALIASES.get(kind_text.strip().casefold())
        if not sep or kind is None:
            raise GeneratorLoadError(f"Unrecognised MODEL_GENERATOR {value!r}. {USAGE}")
        target, _, detail = rest.strip().partition("#")
        if kind in ("hf", "openai") and not target.strip():
            raise GeneratorLoadError(f"MODEL_GENERATOR {value!r} names no model or URL. {USAGE}")
        return cls(kind, target.strip() or "default", detail.strip() or None)


def gguf_file(spec: GeneratorSpec, settings: Settings) -> tuple[Path, str | None]:
    """The GGUF file a llama-cpp: spec names (assembling the packaged default if needed), and
    the model id to report for it (None: the file's name)."""
    name = spec.target.casefold()
    if name in DEFAULT_ALIASES:
        return assemble(QWEN_CODER_1_5B, settings.model_cache_dir), QWEN_CODER_1_5B.model_id
    if name in SMOLLM2_ALIASES:
        return smollm2_path(), "smollm2-135m-instruct-q4_1"
    return Path(spec.target), None


def load_generator(settings: Settings) -> Generator | None:
    """Load the configured generator (blocking; seconds to a minute). None for `none`."""
    spec = GeneratorSpec.parse(settings.generator)
    if spec.kind == "none":
        return None
    if spec.kind == "llama-cpp":
        from model_service.generators.llama_cpp import LlamaCppGenerator

        path, model_id = gguf_file(spec, settings)
        return LlamaCppGenerator.load(
            path,
            model_id=model_id,
            context_length=settings.generator_context,
            threads=settings.threads,
            state_cache_bytes=settings.generator_state_cache_mb << 20,
        )
    if spec.kind == "hf":
        from model_service.generators.transformers_hf import TransformersGenerator

        return TransformersGenerator.load(
            spec.target,
            device=settings.device,
            threads=settings.threads,
            gguf_file=spec.detail,
            context_length=settings.generator_context,
        )
    from model_service.generators.openai_upstream import OpenAIUpstreamGenerator

    return OpenAIUpstreamGenerator.connect(
        spec.target,
        model=spec.detail,
        api_key=settings.generator_api_key,
        timeout=settings.generator_timeout_s,
    )
