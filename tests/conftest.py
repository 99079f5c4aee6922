"""Shared fixtures: real Chroma in temp dirs, the real MiniLM, real GGUF models loaded once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

for name, value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
}.items():
    os.environ[name] = value

from bot.config import SAMPLE_CORPUS, Settings  # noqa: E402
from bot.ingest import ingest_paths  # noqa: E402
from bot.judge import judge_for  # noqa: E402
from bot.llm import default_model_path, load_chat_model, tiny_model_path  # noqa: E402
from bot.store import Store  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
# The default model is assembled once per checkout and reused by later runs.
MODELS_DIR = REPO / ".briefing" / "models"


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return MODELS_DIR


BOT = [sys.executable, "-m", "bot"]
"""`briefing`, as a user runs it, in a subprocess."""


def sample_cli_env(home: Path) -> dict[str, str]:
    """The environment of a `briefing` user whose data home holds the sample corpus (ingested
    here, by the CLI) and the default model."""
    env = os.environ | {"BRIEFING_HOME": str(home), "BRIEFING_MODELS_DIR": str(MODELS_DIR)}
    subprocess.run([*BOT, "ingest", str(SAMPLE_CORPUS)], env=env, check=True, timeout=300)
    return env


@pytest.fixture
def make_settings(tmp_path: Path):
    """Settings for a fresh, empty data home; keyword arguments override fields."""

    def make(**overrides) -> Settings:
        values = {"home": tmp_path / "home", "models_dir": MODELS_DIR} | overrides
        return Settings(**values)

    return make


@pytest.fixture(scope="session")
def tiny_settings(tmp_path_factory) -> Settings:
    return Settings(
        home=tmp_path_factory.mktemp("tiny-home"),
        models_dir=MODELS_DIR,
        llm_model=str(tiny_model_path()),
        min_answerable=0,  # SmolLM2 is too weak to judge: it says No to the passages it needs
    )


@pytest.fixture(scope="session")
def tiny_model(tiny_settings):
    return load_chat_model(tiny_settings)


@pytest.fixture(scope="session")
def default_settings(tmp_path_factory) -> Settings:
    return Settings(home=tmp_path_factory.mktemp("default-home"), models_dir=MODELS_DIR)


@pytest.fixture(scope="session")
def default_model_file(default_settings) -> Path:
    return default_model_path(default_settings)


@pytest.fixture(scope="session")
def default_model(default_settings, default_model_file):
    return load_chat_model(default_settings)


@pytest.fixture(scope="session")
def default_judge(default_model):
    """The default model as the judge, as in the product (a scripted model cannot judge)."""
    return judge_for(default_model)


@pytest.fixture(scope="session")
def sample_store(default_settings) -> Store:
    """The sample corpus, indexed once for the session."""
    store = Store(default_settings)
    ingest_paths([SAMPLE_CORPUS], default_settings, store=store)
    return store


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
