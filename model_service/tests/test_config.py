"""Settings.from_env: defaults, parsing, the packaged-model aliases and clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from model_service.config import Settings, SettingsError, packaged_minilm_path


def test_defaults_serve_the_packaged_minilm_on_localhost():
    settings = Settings.from_env({})

    assert Path(settings.embedding_model) == packaged_minilm_path()
    assert (packaged_minilm_path() / "model.safetensors").is_file()
    assert settings.device == "cpu"
    assert settings.threads == (os.cpu_count() or 1)
    assert settings.embed_max_batch == 64
    assert 0 < settings.embed_batch_wait_ms <= 10
    assert settings.embed_max_inputs == 512
    assert settings.embed_max_input_chars == 20_000
    assert (settings.host, settings.port) == ("127.0.0.1", 8001)
    assert settings.embed_encode_workers is None  # decided at load: one per CPU thread


@pytest.mark.parametrize("alias", ["minilm", "default", "MiniLM", " default "])
def test_minilm_and_default_mean_the_packaged_model(alias):
    settings = Settings.from_env({"MODEL_EMBEDDING": alias})

    assert Path(settings.embedding_model) == packaged_minilm_path()


@pytest.mark.parametrize("name", ["BAAI/bge-small-en-v1.5", "/models/my-finetuned-minilm"])
def test_other_models_pass_through_unchanged(name):
    assert Settings.from_env({"MODEL_EMBEDDING": name}).embedding_model == name


def test_every_variable_is_read():
    settings = Settings.from_env(
        {
            "MODEL_DEVICE": "cuda:1",
            "MODEL_THREADS": "3",
            "EMBED_MAX_BATCH": "128",
            "EMBED_BATCH_WAIT_MS": "0.5",
            "EMBED_ENCODE_BATCH": "32",
            "EMBED_ENCODE_WORKERS": "2",
            "EMBED_MAX_INPUTS": "1024",
            "EMBED_MAX_INPUT_CHARS": "5000",
            "MODEL_SERVICE_HOST": "0.0.0.0",
            "MODEL_SERVICE_PORT": "9000",
            "MODEL_SERVICE_LOG_LEVEL": "debug",
        }
    )

    assert settings.device == "cuda:1"
    assert settings.threads == 3
    assert settings.embed_max_batch == 128
    assert settings.embed_batch_wait_ms == 0.5
    assert settings.embed_encode_batch == 32
    assert settings.embed_encode_workers == 2
    assert settings.embed_max_inputs == 1024
    assert settings.embed_max_input_chars == 5000
    assert (settings.host, settings.port) == ("0.0.0.0", 9000)
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MODEL_THREADS": "many"}, "MODEL_THREADS must be an integer, got 'many'"),
        ({"MODEL_THREADS": "0"}, "MODEL_THREADS must be at least 1, got 0"),
        ({"EMBED_BATCH_WAIT_MS": "soon"}, "EMBED_BATCH_WAIT_MS must be a number"),
        ({"EMBED_BATCH_WAIT_MS": "-1"}, "EMBED_BATCH_WAIT_MS must be at least 0.0"),
        ({"MODEL_SERVICE_PORT": "70000"}, "MODEL_SERVICE_PORT must be between 1 and 65535"),
        ({"MODEL_SERVICE_LOG_LEVEL": "loud"}, "MODEL_SERVICE_LOG_LEVEL must be one of"),
    ],
)
def test_bad_values_name_the_variable(env, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_settings_are_frozen():
    settings = Settings.from_env({})

    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]
