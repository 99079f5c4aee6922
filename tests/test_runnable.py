"""The chain as a LangChain Runnable: invoke, stream and batch give the answer JSON (GUIDE.md),
the same as Briefer.ask; and the README's "From LangChain code" example runs as written."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
from langchain_core.language_models import FakeListChatModel
from langchain_core.runnables import Runnable

from bot.answer import ABSTAIN_ANSWER, Briefer
from bot.errors import QuestionError
from tests.judges import SureJudge

ANSWER_KEYS = {"question", "answer", "abstained", "citations", "timings", "model"}
README = Path(__file__).resolve().parent.parent / "README.md"
STATEMENT = "Eight countries including Qatar and Russia issued a joint statement [1]."


def scripted_briefer(settings, store, *replies: str) -> Briefer:
    model = FakeListChatModel(responses=list(replies))
    return Briefer(settings, store=store, chat_model=model, judge=SureJudge())


def test_invoke_returns_the_answer_json_that_ask_gives(default_settings, sample_store):
    briefer = scripted_briefer(default_settings, sample_store, STATEMENT, STATEMENT)
    chain = briefer.as_runnable()
    assert isinstance(chain, Runnable)
    answer = chain.invoke({"question": "Who issued the joint statement?", "history": []})
    assert set(answer) == ANSWER_KEYS and not answer["abstained"]
    assert answer["citations"][0]["article_id"] == "homs-falls"
    expected = briefer.ask("Who issued the joint statement?").to_dict()
    assert {k: v for k, v in answer.items() if k != "timings"} == {
        k: v for k, v in expected.items() if k != "timings"
    }


def test_stream_yields_the_draft_as_written_then_the_checked_answer(default_settings, sample_store):
    draft = "Qatar and Russia issued it [1]. The Eiffel Tower is in Paris [2]."
    chain = scripted_briefer(default_settings, sample_store, draft).as_runnable()
    events = list(chain.stream({"question": "Who issued the joint statement?"}))
    drafts, final = events[:-1], events[-1]
    assert len(drafts) > 1 and all(set(e) == {"draft"} for e in drafts)
    assert "".join(e["draft"] for e in drafts) == draft
    assert set(final) == ANSWER_KEYS
    assert "Russia" in final["answer"] and "Eiffel" not in final["answer"]  # checked


def test_batch_answers_each_question_in_order(default_settings, sample_store):
    chain = scripted_briefer(
        default_settings, sample_store, STATEMENT, ABSTAIN_ANSWER
    ).as_runnable()
    first, second = chain.batch(
        [{"question": "Who issued the joint statement?"}, {"question": "Who is the mayor?"}]
    )
    assert first["question"] == "Who issued the joint statement?" and first["citations"]
    assert second["question"] == "Who is the mayor?" and second["abstained"]


def test_history_as_of_and_details_reach_the_chain(default_settings, sample_store):
    briefer = scripted_briefer(
        default_settings,
        sample_store,
        "Who issued the joint statement about Homs?",
        STATEMENT,
    )
    history = [
        {"role": "user", "content": "What happened in Homs?"},
        {"role": "assistant", "content": "Rebels captured it [1]."},
    ]
    inputs = {"question": "Who issued it?", "history": history, "as_of": "2024-12-08"}
    answer = briefer.as_runnable().invoke(inputs | {"details": True})
    details = answer.pop("details")
    assert set(answer) == ANSWER_KEYS
    assert details["standalone_question"] == "Who issued the joint statement about Homs?"
    assert details["draft"] == STATEMENT and "homs-falls" in details["retrieved"]
    # asked before the article existed: nothing to cite, so no draft at all
    early = briefer.as_runnable().invoke({"question": "Who captured Homs?", "as_of": "2020-01-01"})
    assert early["abstained"] and early["citations"] == []


def test_bad_input_is_a_question_error(default_settings, sample_store):
    chain = scripted_briefer(default_settings, sample_store, "x").as_runnable()
    with pytest.raises(QuestionError, match="empty"):
        chain.invoke({"history": []})
    with pytest.raises(QuestionError, match="not a date"):
        chain.invoke({"question": "Who?", "as_of": "last week"})


def readme_example() -> str:
    section = README.read_text().split("### From LangChain code", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


@pytest.mark.slow
def test_the_readme_example_runs_as_written(tmp_path, monkeypatch, models_dir, default_model_file):
    monkeypatch.setenv("BRIEFING_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BRIEFING_MODELS_DIR", str(models_dir))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(readme_example(), str(README), "exec"), {"__name__": "readme"})
    lines = printed.getvalue().splitlines()
    assert "Russia" in lines[0] and "[1]" in lines[0]  # the invoked answer, with its citation
    assert "Syrian rebels capture Homs" in printed.getvalue()  # a cited source, by title
