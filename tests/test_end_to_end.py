"""The default 1.5B model on the sample corpus, through `briefing ask --json` as a user runs it."""

import json
import subprocess

import pytest

from tests.conftest import BOT, sample_cli_env

COUNTRIES = ["Qatar", "Saudi Arabia", "Jordan", "Egypt", "Iraq", "Iran", "Turkey", "Russia"]


@pytest.fixture(scope="module")
def ask_json(tmp_path_factory, default_model_file):
    env = sample_cli_env(tmp_path_factory.mktemp("e2e-home"))

    def ask(question: str) -> dict:
        result = subprocess.run(
            [*BOT, "ask", question, "--json"], env=env, capture_output=True, text=True, timeout=600
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    return ask


@pytest.mark.slow
def test_the_joint_statement_names_all_eight_countries_with_a_citation(ask_json):
    answer = ask_json("Who issued the joint statement?")
    assert not answer["abstained"]
    for country in COUNTRIES:
        assert country in answer["answer"]
    assert any("joint statement" in c["passage"] for c in answer["citations"])
    assert "[1]" in answer["answer"]


@pytest.mark.slow
def test_a_question_the_article_cannot_answer_abstains(ask_json):
    answer = ask_json("How many civilians were killed in the fighting for Homs?")
    assert answer["abstained"] is True
    assert answer["citations"] == []
