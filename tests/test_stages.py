"""evals/stages.py: the model's time on a question set, put down to the steps of an answer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.llm import tiny_model_path
from tests.conftest import MODELS_DIR

REPO = Path(__file__).parent.parent


def test_every_model_call_is_put_down_to_a_step_of_the_answer(tmp_path):
    env = {
        "BRIEFING_HOME": str(tmp_path / "home"),
        "BRIEFING_MODELS_DIR": str(MODELS_DIR),
        "BRIEFING_LLM_MODEL": str(tiny_model_path()),
        "BRIEFING_MIN_ANSWERABLE": "0.0001",  # the tiny model's judge asked, never refusing
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(REPO),
    }
    result = subprocess.run(
        [sys.executable, REPO / "evals/stages.py", REPO / "evals/seed.jsonl", "--limit", "2"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = {
        line.split("|")[1].strip(): [float(cell) for cell in line.split("|")[2:5]]
        for line in result.stdout.splitlines()
        if line.startswith("| ") and not line.startswith("| step")
    }
    assert "2 questions: answer p50" in result.stdout
    # the seed set's first two questions are answered: the judge asks, then the model drafts
    assert {"answerability judge", "draft"} <= set(rows) and "other" not in rows
    assert all(seconds > 0 and tokens > 0 and calls > 0 for seconds, tokens, calls in rows.values())
