"""LlamaCppChat, our chat model over llama-cpp-python, under LangChain's standard test suites
(SmolLM2, the tiny model) and on what the bot relies on: settings, stop, usage, the lock."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests

from bot.judge import LlamaJudge, judge_for
from bot.llm import LlamaCppChat, tiny_model_path

TINY = {"model_path": str(tiny_model_path()), "n_ctx": 1024}


class Declared:
    """What LlamaCppChat does and does not do, in the standard suites' own terms."""

    @property
    def chat_model_class(self) -> type[LlamaCppChat]:
        return LlamaCppChat

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return TINY

    @property
    def standard_chat_model_params(self) -> dict[str, Any]:
        # short replies keep the suites quick on 2 cores
        return super().standard_chat_model_params | {"max_tokens": 24}

    @property
    def has_tool_calling(self) -> bool:
        return False

    @property
    def has_tool_choice(self) -> bool:
        return False

    @property
    def has_structured_output(self) -> bool:
        return False

    @property
    def supports_json_mode(self) -> bool:
        return False

    @property
    def supports_image_inputs(self) -> bool:
        return False

    @property
    def supports_image_urls(self) -> bool:
        return False

    @property
    def supports_pdf_inputs(self) -> bool:
        return False

    @property
    def supports_audio_inputs(self) -> bool:
        return False

    @property
    def supports_video_inputs(self) -> bool:
        return False

    @property
    def supports_anthropic_inputs(self) -> bool:
        return False

    @property
    def supports_image_tool_message(self) -> bool:
        return False

    @property
    def supports_pdf_tool_message(self) -> bool:
        return False

    @property
    def returns_usage_metadata(self) -> bool:
        return True

    @property
    def supports_model_override(self) -> bool:
        return False  # one instance is one GGUF file


class TestLlamaCppChatUnit(Declared, ChatModelUnitTests):
    pass


class TestLlamaCppChatIntegration(Declared, ChatModelIntegrationTests):
    pass


@pytest.fixture(scope="module")
def tiny() -> LlamaCppChat:
    return LlamaCppChat(**TINY, max_tokens=24)


def test_invoke_and_stream_give_the_same_reply_and_count_its_tokens(tiny):
    question = [SystemMessage("Answer briefly."), HumanMessage("Name three colours.")]
    reply = tiny.invoke(question)
    streamed = list(tiny.stream(question))
    assert "".join(c.text for c in streamed) == reply.text and len(streamed) > 2
    [last] = [c for c in streamed if c.usage_metadata]
    assert last is streamed[-1] and last.usage_metadata == reply.usage_metadata
    # llama-cpp-python's own count of the same prompt (its non-streamed reply carries usage)
    turns = [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "Name three colours."},
    ]  # noqa: E501
    direct = tiny.client.create_chat_completion(messages=turns, max_tokens=24, temperature=0)
    assert reply.usage_metadata["input_tokens"] == direct["usage"]["prompt_tokens"]
    assert reply.usage_metadata["output_tokens"] >= direct["usage"]["completion_tokens"] > 0
    assert direct["choices"][0]["message"]["content"].startswith(reply.text[:10])


def test_a_stop_sequence_ends_the_reply_before_it(tiny):
    full = tiny.invoke("Count from 1 to 10, separated by commas.").text
    word = full.split()[2]
    cut = tiny.invoke("Count from 1 to 10, separated by commas.", stop=[word]).text
    assert word not in cut and full.startswith(cut) and len(cut) < len(full)
    assert (
        LlamaCppChat(**TINY, max_tokens=24, stop=[word], client=tiny.client)
        .invoke("Count from 1 to 10, separated by commas.")
        .text
        == cut
    )


def test_one_instance_is_never_entered_twice_at_once(tiny, monkeypatch):
    generating = []
    generate = tiny.client.generate

    def recorded(*args, **kwargs):
        generating.append(tiny.lock.locked())
        yield from generate(*args, **kwargs)

    monkeypatch.setattr(tiny.client, "generate", recorded)
    replies = []
    with tiny.lock:  # as if another thread (or the judge) were using the model
        caller = threading.Thread(target=lambda: replies.append(tiny.invoke("Hi").text))
        caller.start()
        caller.join(timeout=2)
        assert caller.is_alive() and generating == []  # waiting for the lock, not generating
    caller.join(timeout=60)
    assert replies and replies[0] and generating == [True]


def test_the_judge_reads_the_same_llama_under_the_same_lock(tiny):
    judge = judge_for(tiny)
    assert isinstance(judge, LlamaJudge)
    assert judge.llama is tiny.client and judge.lock is tiny.lock
    p = judge.p_yes([("system", "Reply Yes or No."), ("user", "Is the sky blue?")])
    assert 0.0 < p < 1.0


def test_the_settings_reach_llama_cpp(tiny_settings):
    from bot.llm import load_chat_model

    model = load_chat_model(tiny_settings.model_copy(update={"llm_threads": 1}))
    assert isinstance(model, LlamaCppChat)
    assert (model.temperature, model.max_tokens) == (0.0, tiny_settings.max_answer_tokens)
    assert model.client.n_ctx() == tiny_settings.llm_context
    assert model.client.context_params.n_threads == 1
    assert model.client.lookup_tokens == tiny_settings.lookup_tokens == model.lookup_tokens > 0


PASSAGE = (
    "The harbour of Vell closed on Tuesday after a storm damaged the north pier, and the "
    "ferries to Arlo will sail from the south quay until the repairs are finished in June."
)


def test_prompt_lookup_checks_guessed_tokens_in_batches(monkeypatch):
    """The reply quotes the prompt, so the tokens guessed from it are checked several at a
    time: fewer model calls than tokens written (one call a token without lookup)."""
    model = LlamaCppChat(**TINY, max_tokens=48, lookup_tokens=10)
    calls = []
    evaluate = model.client.eval

    def counted(tokens):
        calls.append(len(tokens))
        evaluate(tokens)

    monkeypatch.setattr(model.client, "eval", counted)
    reply = model.invoke([HumanMessage(f"Repeat this sentence exactly:\n{PASSAGE}")])
    written = reply.usage_metadata["output_tokens"]
    assert PASSAGE[:40] in reply.text  # it did quote the prompt
    assert written > 20 and len(calls) - 1 < written / 2  # the first call reads the prompt
    assert max(calls[1:]) > 1


def test_the_judge_reads_the_last_tokens_probability_after_a_batch_of_guesses():
    """A judge's prompt that differs from the cached one in its last few tokens is read in one
    batch as short as the guesses, which holds every token's logits: the judge must read the
    last token's, as it would without lookup."""
    asked = [("system", "Reply Yes or No."), ("user", f"{PASSAGE}\n\nDid the harbour close?")]
    again = [asked[0], (asked[1][0], asked[1][1].replace("close?", "open?"))]
    looking = judge_for(LlamaCppChat(**TINY, lookup_tokens=10))
    plain = judge_for(LlamaCppChat(**TINY))
    looking.p_yes(asked)
    before = looking.evaluated
    p = looking.p_yes(again)
    assert looking.evaluated - before <= 11  # only the changed end was read, in one batch
    assert p == pytest.approx(plain.p_yes(again), abs=0.02)
