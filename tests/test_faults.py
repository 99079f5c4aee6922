"""Faults, for real: a data directory that is read-only or full at ingest, a Chroma server that
dies mid-question, a chat page SIGKILLed mid-answer. Each is one line naming the place, and
the index is left whole."""

from __future__ import annotations

import errno
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest

from bot.config import SAMPLE_CORPUS, Settings
from bot.errors import StoreError
from bot.ingest import ingest_inputs
from bot.llm import tiny_model_path
from bot.retrieval import Retriever
from bot.store import Store
from tests.conftest import MODELS_DIR
from tests.loopback import chat_page, chat_server
from tests.test_cli import briefing
from tests.test_hostile import last_reply
from tests.test_servers import ChromaServer

QUESTION = "Who issued the joint statement?"
T = TypeVar("T")


def mount(*args: str) -> None:
    """`mount ARGS`, or skip: only root may mount, and only where the container allows it."""
    try:
        done = subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        pytest.skip("no mount command here")
    if done.returncode != 0:
        pytest.skip(f"cannot mount here: {done.stderr.strip()}")


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """The folder cannot be written: its write permissions taken away, or, for root (whom
    permissions do not stop), a read-only bind mount over it."""
    if os.geteuid() != 0:
        subprocess.run(["chmod", "-R", "a-w", str(folder)], check=True)
        try:
            yield
        finally:
            subprocess.run(["chmod", "-R", "u+w", str(folder)], check=True)
        return
    mount("--bind", str(folder), str(folder))
    try:
        mount("-o", "remount,ro,bind", str(folder))
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@contextmanager
def small_disk(folder: Path, megabytes: int = 4) -> Iterator[Path]:
    """A real file system of that size mounted at the folder (tmpfs): it fills up for real."""
    if os.geteuid() != 0:
        pytest.skip("a full disk needs a small file system, and mounting one needs root")
    folder.mkdir(parents=True, exist_ok=True)
    mount("-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(folder))
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def fill(folder: Path) -> Path:
    """Write a file until the disk is full; remove it to free the space."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as out:  # unbuffered: nothing left to flush on close
        try:
            while True:
                out.write(b"\0" * 65536)
        except OSError as err:
            assert err.errno == errno.ENOSPC
    return filler


def within(seconds: float, work: Callable[[], T]) -> T:
    """work()'s result; the test fails if it has not returned in time (a stall lasts forever)."""
    outcome: list = []
    thread = threading.Thread(target=lambda: outcome.append(work()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"still running after {seconds} s"
    return outcome[0]


def ferry(folder: Path, n: int = 1) -> Path:
    """A folder of n short articles about ferries at Vell (the sample is about Syria)."""
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        body = f"The night ferry {k} to Vell sailed on time."
        (folder / f"ferry-{k}.md").write_text(f"---\ntitle: Ferry {k}\nsource: Wire\n---\n{body}\n")
    return folder


def one_line_error(result: subprocess.CompletedProcess, place: Path | str) -> str:
    """The CLI failed with exactly one line naming the place; that line."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith(f"briefing: error: {place}"), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def assert_sample_searchable(settings: Settings, store: Store | None = None) -> None:
    """The sample article is listed, and found by both searches a question runs."""
    store = store or Store(settings)
    assert [row["article_id"] for row in store.articles()] == ["homs-falls"]
    retriever = Retriever(store, settings)
    assert [p.article_id for p in retriever.keyword_search("joint statement", 3)][:1] == [
        "homs-falls"
    ]
    assert retriever.retrieve(QUESTION)[0].article_id == "homs-falls"


def test_ingest_into_a_read_only_data_directory_is_one_line_and_keeps_the_index(tmp_path):
    home = tmp_path / "home"
    assert briefing("ingest", str(SAMPLE_CORPUS), home=home).returncode == 0
    news = ferry(tmp_path / "news")
    with read_only(home):
        failed = briefing("ingest", str(news), home=home)
    assert "cannot write the index: " in one_line_error(failed, home)  # read-only, no permission
    assert "homs-falls" in briefing("list", home=home).stdout
    assert_sample_searchable(Settings(home=home))  # nothing half-written trips a search
    again = briefing("ingest", str(news), home=home)  # writable again: it goes in
    assert again.returncode == 0 and "1 added" in again.stdout, again.stderr


def test_ingest_onto_a_full_disk_is_one_line_and_keeps_the_index(tmp_path):
    """The page's "Add to index" path (its store already open, as in a running page), then
    `briefing ingest`, on a real file system that is full."""
    with small_disk(tmp_path / "disk") as disk:
        settings = Settings(home=disk / "home")
        store = Store(settings)
        ingest_inputs([SAMPLE_CORPUS], settings, store)
        news = ferry(tmp_path / "news", n=30)
        filler = fill(disk)

        with pytest.raises(StoreError, match="the disk is full") as raised:
            ingest_inputs([news], settings, store)
        assert str(raised.value).startswith(str(settings.home))
        assert_sample_searchable(settings, store)  # even while the disk is still full
        line = one_line_error(briefing("ingest", str(news), home=settings.home), settings.home)
        assert "the disk is full" in line
        with pytest.raises(StoreError, match="the disk is full"):  # the page's retry, still full
            ingest_inputs([news], settings, store)

        filler.unlink()
        assert "1 articles" in briefing("list", home=settings.home).stdout
        assert_sample_searchable(settings, store)
        # The failed client once kept a lock that stalled this write for good.
        assert within(60, lambda: ingest_inputs([news], settings, store)).report.passages == 30
        found = Retriever(store, settings).keyword_search("night ferry Vell", 30)
        assert len({p.article_id for p in found}) == 30


def test_an_index_folder_that_cannot_be_opened_is_one_line_and_opens_once_mended(tmp_path):
    """In one process, as in a page that retries: chromadb must not keep the failed client."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "chroma").write_text("a file where the index folder belongs")
    with pytest.raises(StoreError, match="cannot open the index") as raised:
        Store(Settings(home=home))
    assert str(raised.value).startswith(str(home / "chroma"))
    assert "cannot open the index" in one_line_error(briefing("list", home=home), home / "chroma")
    (home / "chroma").unlink()
    ingest_inputs([SAMPLE_CORPUS], Settings(home=home), Store(Settings(home=home)))
    assert_sample_searchable(Settings(home=home))


def test_a_sync_record_that_cannot_be_saved_is_one_line_and_the_old_one_stays(tmp_path):
    """The record of what `briefing sync` took from where, on a real disk that fills up."""
    from bot.sync import SourceState, SyncRecord

    with small_disk(tmp_path / "disk") as disk:
        record = SyncRecord(disk / "sources-articles.json")
        record.save()
        before = record.path.read_text()
        filler = fill(disk)
        stories = [f"story-{k}" for k in range(2000)]
        record.sources["news"] = SourceState(stories, "2026-11-26T08:00:00", "1 added")
        with pytest.raises(StoreError, match="cannot save the sync record: the disk is full"):
            record.save()
        assert record.path.read_text() == before and not list(disk.glob("*.tmp"))
        filler.unlink()
        record.save()
        assert "story-1999" in record.path.read_text()


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path).start()
    try:
        yield server
    finally:
        server.kill()


def tiny_page_env(home: Path, **more: str) -> dict[str, str]:
    """A chat page with the tiny model (the index is the point here, not the answers)."""
    env = {"BRIEFING_HOME": str(home), "BRIEFING_MODELS_DIR": str(MODELS_DIR)}
    tiny = {"BRIEFING_LLM_MODEL": str(tiny_model_path()), "BRIEFING_MIN_ANSWERABLE": "0"}
    return env | tiny | more  # SmolLM2 is too weak to judge whether the passages answer


def test_chroma_dying_mid_question_is_one_line_from_briefing_ask(
    chroma, tmp_path, tiny_model, monkeypatch, capsys
):
    from bot import cli
    from bot.embeddings import embed

    home, env = tmp_path / "home", {"BRIEFING_CHROMA_URL": chroma.url}
    assert briefing("ingest", str(SAMPLE_CORPUS), home=home, extra_env=env).returncode == 0
    monkeypatch.setenv("BRIEFING_HOME", str(home))
    monkeypatch.setenv("BRIEFING_CHROMA_URL", chroma.url)

    def dies_while_the_model_loads(settings: Settings):  # the index is open by now
        chroma.kill()
        return tiny_model

    monkeypatch.setattr("bot.answer.load_chat_model", dies_while_the_model_loads)
    embed(["warm up"])  # MiniLM's loading bar is not the output under test
    capsys.readouterr()
    assert cli.main(["ask", QUESTION]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"briefing: error: {chroma.url}: cannot reach the Chroma server"), err
    assert err.count("\n") == 1 and "Traceback" not in err
    # Asked again by a process started after the kill: the same line.
    line = one_line_error(briefing("ask", QUESTION, home=home, extra_env=env), chroma.url)
    assert "cannot reach the Chroma server (BRIEFING_CHROMA_URL)" in line


def test_the_page_answers_chroma_dying_with_an_error_and_recovers_on_its_restart(chroma, tmp_path):
    from gradio_client import Client, handle_file

    env = tiny_page_env(tmp_path / "home", BRIEFING_CHROMA_URL=chroma.url)
    with chat_page(tmp_path / "chat.log", env) as url:  # it ingests the sample into the server
        client = Client(url, verbose=False, analytics_enabled=False)
        assert client.predict(QUESTION, [], api_name="/ask")[2] is not None

        chroma.kill()
        failed = client.predict(QUESTION, [], api_name="/ask")
        reply = last_reply(failed).replace("\\", "")  # the page escapes Markdown
        assert reply.startswith(f"Error: {chroma.url}: cannot reach the Chroma server"), reply
        assert failed[2] is None
        article = tmp_path / "bridge.txt"
        article.write_text("Bridge reopens\n\nThe bridge reopened on Monday after repairs.")
        added = client.predict([handle_file(str(article))], api_name="/add_files")[0]
        added = added.replace("\\", "")
        assert added.startswith(f"Error: {chroma.url}: cannot reach the Chroma server"), added

        chroma.start()  # the same port, the same data folder
        again = client.predict(QUESTION, [], api_name="/ask")
        answer = again[2]
        assert answer is not None and not last_reply(again).startswith("Error"), again
        assert answer["abstained"] or answer["citations"][0]["article_id"] == "homs-falls"


def streaming(job) -> bool:
    """Has /ask sent a draft of the answer (the model is writing) but not the answer yet?"""
    return any(out[2] is None and last_reply(out) not in ("", "…") for out in job.outputs())


def test_a_chat_page_killed_mid_answer_restarts_on_an_intact_index(tmp_path):
    from gradio_client import Client

    home = tmp_path / "home"
    settings = Settings(home=home)
    page = chat_server(tmp_path / "chat.log", tiny_page_env(home)).start(300)
    try:  # the page ingests the sample into the empty index as it starts
        listed = briefing("list", home=home).stdout
        assert "homs-falls" in listed
        job = Client(page.url, verbose=False).submit(QUESTION, [], api_name="/ask")
        deadline = time.monotonic() + 120
        while not streaming(job) and not job.done() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert streaming(job) and not job.done(), "the kill did not land while the answer streamed"
        page.kill()  # SIGKILL

        page.start(300)  # the same port, the same data directory
        assert briefing("list", home=home).stdout == listed
        found = Retriever(Store(settings), settings).keyword_search("joint statement", 3)
        assert found and found[0].article_id == "homs-falls"
        answer = Client(page.url, verbose=False).predict(QUESTION, [], api_name="/ask")[2]
        assert answer["citations"] and answer["citations"][0]["article_id"] == "homs-falls"
    finally:
        page.kill()
