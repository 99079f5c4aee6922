"""Beyond one machine: a real `chroma run` server that the test starts, kills and restarts,
and bot processes that share it and see each other's writes on the next question."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from bot.config import SAMPLE_CORPUS, Settings
from bot.store import Store
from tests.conftest import MODELS_DIR, free_port
from tests.loopback import LoopbackServer
from tests.test_cli import briefing

CHROMA = Path(sys.executable).with_name("chroma")


class ChromaServer(LoopbackServer):
    """`chroma run` on 127.0.0.1 at a free port, over a data folder that outlives it."""

    def __init__(self, folder: Path):
        def command(port: int) -> list[str]:
            args = [str(CHROMA), "run", "--path", str(folder / "data")]
            return args + ["--host", "127.0.0.1", "--port", str(port)]

        super().__init__(command, folder / "chroma.log", health="/api/v2/heartbeat")


@pytest.fixture
def chroma(tmp_path):
    server = ChromaServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


def on_server(home: Path, chroma: ChromaServer, **overrides) -> Settings:
    return Settings(home=home, models_dir=MODELS_DIR, chroma_url=chroma.url, **overrides)


def test_the_index_lives_on_the_server_through_a_kill_and_restart(chroma, tmp_path, tiny_model):
    from bot.answer import Briefer

    env = {"BRIEFING_CHROMA_URL": chroma.url}
    home = tmp_path / "home"
    ingested = briefing("ingest", str(SAMPLE_CORPUS), home=home, extra_env=env)
    assert ingested.returncode == 0 and "1 added" in ingested.stdout, ingested.stderr
    settings = on_server(home, chroma)
    before = Store(settings).articles()
    briefer = Briefer(settings, chat_model=tiny_model)
    passages = briefer.relevant_passages("Who issued the joint statement?")
    assert passages and passages[0].article_id == "homs-falls"
    assert briefer.ask("Who issued the joint statement?").answer  # answered through the server

    chroma.kill()
    chroma.start()
    assert Store(settings).articles() == before
    listed = briefing("list", home=home, extra_env=env)
    assert "homs-falls  Syrian rebels capture Homs" in listed.stdout
    assert not (home / "chroma").exists()  # nothing was kept locally


def story(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.md"
    path.write_text(f"---\ntitle: {name.title()}\nsource: Wire\n---\n{body}\n", encoding="utf-8")
    return path


def test_a_bot_process_sees_another_ones_writes_on_the_next_question(chroma, tmp_path):
    """This process answers (as a chat page would); a second process, on another machine (its
    own data directory), adds, replaces (with the same passage count, which a count-keyed
    keyword index missed) and removes an article."""
    from bot.retrieval import Retriever

    env = {"BRIEFING_CHROMA_URL": chroma.url}
    home, desk = tmp_path / "home", tmp_path / "desk"
    settings = on_server(tmp_path / "reader", chroma)
    story(desk, "ferry", "The night ferry to Vell sailed on time.")
    assert briefing("ingest", str(desk), home=home, extra_env=env).returncode == 0
    retriever = Retriever(Store(settings), settings)

    def found(words: str) -> list[str]:
        return [p.article_id for p in retriever.keyword_search(words, 5)]

    assert found("ferry") == ["ferry"] and found("lighthouse") == []
    story(desk, "beacon", "The lighthouse beacon at Vell was repaired.")
    assert briefing("ingest", str(desk), home=home, extra_env=env).returncode == 0
    assert found("lighthouse") == ["beacon"]  # an addition

    story(desk, "beacon", "The harbour beacon at Vell was switched off.")  # one passage still
    assert briefing("ingest", str(desk), home=home, extra_env=env).returncode == 0
    assert found("switched") == ["beacon"] and found("repaired") == []  # a replacement

    assert briefing("remove", "beacon", home=home, extra_env=env).returncode == 0
    assert found("beacon") == [] and found("ferry") == ["ferry"]  # a removal
    assert [p.article_id for p in retriever.retrieve("beacon at Vell", 5)] == ["ferry"]


def test_no_server_at_the_url_is_one_line(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    result = briefing("list", home=tmp_path, extra_env={"BRIEFING_CHROMA_URL": url})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"briefing: error: {url}")
    assert result.stderr.count("\n") == 1


if os.name != "posix":  # the server is started as a subprocess and killed with SIGKILL
    pytest.skip("POSIX only", allow_module_level=True)
