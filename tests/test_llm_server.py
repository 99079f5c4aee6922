"""BRIEFING_LLM=openai against loopback OpenAI-compatible servers: llama-cpp-python's own
server with the tiny model, streaming real answers; and tests/webserver.py answering
/v1/chat/completions with a recorded stream, for a server that is down or slow (one line
naming its URL, within BRIEFING_LLM_TIMEOUT)."""

from __future__ import annotations

import json
import sys

import pytest

from bot.answer import Briefer
from bot.config import SAMPLE_CORPUS
from bot.errors import ModelError
from bot.ingest import ingest_paths
from bot.llm import tiny_model_path
from bot.store import Store
from tests import webserver as web
from tests.conftest import free_port
from tests.loopback import LoopbackServer
from tests.test_cli import briefing
from tests.webserver import Route

webserver = web.webserver  # the loopback server fixture

ANSWER = "Qatar, Saudi Arabia, Jordan, Egypt, Iraq, Iran, Turkey and Russia issued it [1]."


def sse(text: str) -> bytes:
    """`text` as an OpenAI chat-completion stream, a few words a chunk."""
    words = text.split(" ")
    pieces = [" ".join(words[i : i + 3]) + " " for i in range(0, len(words), 3)]
    chunks = [{"role": "assistant", "content": ""}] + [{"content": p} for p in pieces]
    events = [
        {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "tiny",
         "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
        for delta in chunks
    ]  # fmt: skip
    body = "".join(f"data: {json.dumps(event)}\n\n" for event in events) + "data: [DONE]\n\n"
    return body.encode()


@pytest.fixture(scope="module")
def indexed_home(tmp_path_factory, default_settings):
    home = tmp_path_factory.mktemp("llm-server-home")
    settings = default_settings.model_copy(update={"home": home})
    ingest_paths([SAMPLE_CORPUS], settings, store=Store(settings))
    return home


def server_settings(make_settings, indexed_home, url: str, **overrides):
    """The bot on a model server, asking it once a question (min_answerable=0: these servers
    are the tiny model or a recording, neither of which can judge the passages)."""
    server = {"llm": "openai", "llm_base_url": url, "llm_model": "tiny", "min_answerable": 0}
    return make_settings(home=indexed_home, **server | overrides)


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    """llama-cpp-python's OpenAI-compatible server with the tiny model, on loopback."""

    def command(port: int) -> list[str]:
        args = [sys.executable, "-m", "llama_cpp.server", "--model", str(tiny_model_path())]
        return args + ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096"]

    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    server = LoopbackServer(command, log, health="/v1/models").start()
    try:
        yield server
    finally:
        server.kill()


def test_answers_stream_from_llama_cpp_pythons_own_server(
    llama_server, make_settings, indexed_home
):
    settings = server_settings(make_settings, indexed_home, llama_server.url + "/v1")
    events = list(Briefer(settings).stream("Who issued the joint statement?"))
    *chunks, answer = events
    assert len(chunks) > 1  # streamed, piece by piece
    assert answer.question == "Who issued the joint statement?"
    assert "".join(chunks).strip()  # the tiny model wrote something; the check decides the rest
    for citation in answer.citations:  # whatever stood is cited from the sample corpus
        assert citation.article_id == "homs-falls"
    assert answer.abstained == (answer.citations == [])


def test_answers_stream_from_an_openai_compatible_server(webserver, make_settings, indexed_home):
    route = Route(content_type="text/event-stream", body=sse(ANSWER), send_length=False)
    webserver.routes["/v1/chat/completions"] = route
    settings = server_settings(make_settings, indexed_home, webserver.url + "/v1")
    events = list(Briefer(settings).stream("Who issued the joint statement?"))
    *chunks, answer = events
    assert len(chunks) > 3 and "".join(chunks).strip() == ANSWER  # token by token, not at once
    assert "Russia" in answer.answer and answer.citations[0].article_id == "homs-falls"
    [hit] = [h for h in webserver.hits if h.path == "/v1/chat/completions"]
    assert hit.method == "POST"


def test_a_server_that_is_down_is_one_line_naming_it(make_settings, indexed_home):
    url = f"http://127.0.0.1:{free_port()}/v1"
    briefer = Briefer(server_settings(make_settings, indexed_home, url))
    with pytest.raises(ModelError) as caught:
        briefer.ask("Who issued the joint statement?")
    assert str(caught.value).startswith(f"{url}: cannot reach the model server")
    assert "\n" not in str(caught.value)


def test_a_server_model_that_says_the_passages_hold_no_answer_is_not_asked_to_draft(
    webserver, make_settings, indexed_home
):
    route = Route(content_type="text/event-stream", body=sse("No."), send_length=False)
    webserver.routes["/v1/chat/completions"] = route
    url = webserver.url + "/v1"
    settings = server_settings(make_settings, indexed_home, url, min_answerable=0.5)
    answer = Briefer(settings).ask("Who issued the joint statement?")
    assert answer.abstained and answer.draft is None and answer.p_answerable == 0.0
    asked = [h for h in webserver.hits if h.path == "/v1/chat/completions"]
    assert len(asked) == 1  # the judge's question only: no draft was asked for


def test_a_slow_server_gives_up_after_the_timeout(webserver, make_settings, indexed_home):
    webserver.slow("/v1/chat/completions", seconds=600)  # the test ends it early
    url = webserver.url + "/v1"
    briefer = Briefer(server_settings(make_settings, indexed_home, url, llm_timeout=2))
    with pytest.raises(ModelError) as caught:
        briefer.ask("Who issued the joint statement?")
    message = f"{url}: the model server did not answer within 2 s (BRIEFING_LLM_TIMEOUT)"
    assert str(caught.value) == message
    route = Route(content_type="text/event-stream", body=sse(ANSWER), send_length=False)
    webserver.routes["/v1/chat/completions"] = route  # the server is back: so is the bot
    assert "Russia" in briefer.ask("Who issued the joint statement?").answer


def test_the_cli_names_a_slow_server_in_one_line(webserver, indexed_home, models_dir):
    webserver.slow("/v1/chat/completions", seconds=600)
    url = webserver.url + "/v1"
    env = {"BRIEFING_LLM": "openai", "BRIEFING_LLM_BASE_URL": url, "BRIEFING_LLM_TIMEOUT": "2"}
    env |= {"BRIEFING_MODELS_DIR": str(models_dir)}
    result = briefing("ask", "Who issued the joint statement?", home=indexed_home, extra_env=env)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert errors == [
        f"briefing: error: {url}: the model server did not answer within 2 s (BRIEFING_LLM_TIMEOUT)"
    ]
    assert "Traceback" not in result.stderr
