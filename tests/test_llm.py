"""Model files: the bundled default is assembled and verified; bad files get clear errors."""

import hashlib
import os
import subprocess
import sys

import pytest

from bot import llm
from bot.errors import ModelError
from bot.llm import (
    DEFAULT_MODEL_SHA256,
    DEFAULT_MODEL_SIZE,
    TINY_MODEL_SHA256,
    check_gguf,
    load_chat_model,
    tiny_model_path,
)


def test_default_model_is_assembled_with_the_published_hash(default_model_file):
    assert default_model_file.stat().st_size == DEFAULT_MODEL_SIZE
    digest = hashlib.sha256()
    with default_model_file.open("rb") as handle:
        while block := handle.read(8 << 20):
            digest.update(block)
    assert digest.hexdigest() == DEFAULT_MODEL_SHA256


def test_an_assembly_with_the_wrong_hash_is_refused_and_leaves_nothing(tmp_path, monkeypatch):
    parts = [tmp_path / "part01.bin", tmp_path / "part02.bin"]
    for part in parts:
        part.write_bytes(b"not the model")
    monkeypatch.setattr(llm, "_default_model_parts", lambda: parts)
    target = tmp_path / "models" / "model.gguf"
    with pytest.raises(ModelError, match="model.gguf: assembled model has sha256"):
        llm.assemble_default_model(target)
    assert list(target.parent.iterdir()) == []


def test_tiny_model_file_is_the_published_one():
    digest = hashlib.sha256(tiny_model_path().read_bytes()).hexdigest()
    assert digest == TINY_MODEL_SHA256


def test_missing_and_non_gguf_files_are_refused(tmp_path):
    with pytest.raises(ModelError, match="nope.gguf: model file not found"):
        check_gguf(tmp_path / "nope.gguf")
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"\x00" * 1024)
    with pytest.raises(ModelError, match="junk.gguf: not a GGUF model file"):
        check_gguf(junk)


def test_truncated_gguf_fails_with_a_clear_error(tmp_path, make_settings):
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(tiny_model_path().read_bytes()[:100_000])
    with pytest.raises(ModelError, match="truncated.gguf: the model failed to load"):
        load_chat_model(make_settings(llm_model=str(truncated)))


def test_cli_reports_a_corrupt_model_in_one_line(tmp_path):
    junk = tmp_path / "corrupt.gguf"
    junk.write_bytes(b"GGUF" + b"\x00" * 4096)
    env = os.environ | {"BRIEFING_HOME": str(tmp_path / "home"), "BRIEFING_LLM_MODEL": str(junk)}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "Who?"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("briefing: error: ") and "corrupt.gguf" in last


def test_the_default_model_runs_with_the_rope_base_it_was_trained_with(default_model):
    """langchain-community's ChatLlamaCpp passed a RoPE base of 10,000, which this project
    kept until the eighth session; Qwen2.5's GGUF says 1,000,000 (0 asks llama.cpp for it)."""
    llama = default_model.client
    trained = float(llama.metadata["qwen2.rope.freq_base"])
    assert trained == 1_000_000
    assert llama.context_params.rope_freq_base in (0.0, trained)
