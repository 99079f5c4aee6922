"""`sync`: the index follows its sources; the record beside it remembers what came from where."""

import json
import os
import signal
import subprocess
import sys
import threading

import pytest

from bot.store import Store
from bot.sync import SyncRecord, sync
from tests import webserver as web
from tests.test_cli import briefing

webserver = web.webserver  # the loopback server fixture


def story(folder, name, body):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.md"
    path.write_text(f"---\ntitle: {name.title()}\nsource: Wire\n---\n{body}\n", encoding="utf-8")
    return path


def indexed(settings) -> list[str]:
    return [row["article_id"] for row in Store(settings).articles()]


def test_a_folder_synced_adds_replaces_and_prunes_only_when_asked(make_settings, tmp_path):
    settings = make_settings()
    folder = tmp_path / "desk"
    story(folder, "ferry", "The ferry sailed at dawn.")
    story(folder, "tram", "The tram line opened.")

    [first] = sync([str(folder)], settings)
    assert sorted(first.report.added) == ["ferry", "tram"]
    record = SyncRecord.load(settings)
    assert record.sources[str(folder.resolve())].articles == ["ferry", "tram"]

    [again] = sync([], settings)  # no sources named: every recorded one
    assert sorted(again.report.unchanged) == ["ferry", "tram"] and again.report.passages == 0

    story(folder, "tram", "The tram line closed for repairs.")
    (folder / "ferry.md").unlink()
    [changed] = sync([str(folder)], settings)
    assert changed.report.replaced == ["tram"] and changed.gone == ["ferry"]
    assert "1 no longer in the source, kept (--prune removes them)" in changed.summary()
    assert indexed(settings) == ["ferry", "tram"]

    [pruned] = sync([str(folder)], settings, prune=True)
    assert pruned.pruned == ["ferry"] and indexed(settings) == ["tram"]
    assert SyncRecord.load(settings).sources[str(folder.resolve())].articles == ["tram"]


def test_prune_never_removes_what_a_broken_or_other_source_still_holds(make_settings, tmp_path):
    settings = make_settings()
    desk, archive = tmp_path / "desk", tmp_path / "archive"
    story(desk, "ferry", "The ferry sailed at dawn.")
    story(desk, "tram", "The tram line opened.")
    story(archive, "ferry", "The ferry sailed at dawn.")
    sync([str(desk), str(archive)], settings)

    (desk / "ferry.md").unlink()
    (desk / "tram.md").write_bytes(b"\xff\xfe not utf-8")
    [broken] = sync([str(desk)], settings, prune=True)
    assert broken.loaded.failures and broken.pruned == []
    assert "not pruned, because part of it could not be read" in broken.loaded.warnings[-1]

    story(desk, "tram", "The tram line opened.")
    [fixed] = sync([str(desk)], settings, prune=True)
    assert fixed.pruned == ["ferry"]
    assert indexed(settings) == ["ferry", "tram"]  # the archive still holds the ferry


def test_the_cli_syncs_lists_sources_and_exits_1_when_an_input_failed(tmp_path):
    home, folder = tmp_path / "home", tmp_path / "desk"
    story(folder, "ferry", "The ferry sailed at dawn.")
    (folder / "bad.jsonl").write_text("{nope\n")
    result = briefing("sync", str(folder), home=home)
    assert result.returncode == 1
    assert f"{folder.resolve()}: 1 added, 0 replaced, 0 unchanged" in result.stdout
    assert f"briefing: error: {folder.resolve() / 'bad.jsonl'}:1: not valid JSON" in result.stderr
    sources = briefing("sources", home=home)
    assert f"1 articles  {folder.resolve()}" in sources.stdout and "1 sources" in sources.stdout
    record = json.loads((home / "sources-articles.json").read_text())
    assert record["sources"][str(folder.resolve())]["articles"] == ["ferry"]


def test_watch_picks_up_a_new_article_and_stops_on_ctrl_c(tmp_path):
    """Every step waits for the watcher's own words, never for the clock.

    The watcher starts with SIGINT ignored, as a shell starts a script's background jobs (and
    this whole suite, when it runs in the background): Ctrl-C must stop it all the same.
    """
    home, folder = tmp_path / "home", tmp_path / "desk"
    story(folder, "ferry", "The ferry sailed at dawn.")
    inherited = signal.signal(signal.SIGINT, signal.SIG_IGN)  # the child inherits SIG_IGN
    try:
        watcher = subprocess.Popen(
            [sys.executable, "-m", "bot", "sync", str(folder), "--watch", "0.5"],
            env=os.environ | {"BRIEFING_HOME": str(home)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
    finally:
        signal.signal(signal.SIGINT, inherited)
    seen: list[str] = []

    def wait_for(words: str) -> None:
        for line in watcher.stdout:
            seen.append(line)
            if words in line:
                return
        raise AssertionError(f"the watcher ended without saying {words!r}; it said {seen}")

    # Not a deadline for any step: only a hung watcher's end, so that it fails CI, not stalls it.
    hung = threading.Timer(600, watcher.kill)
    hung.start()
    try:
        wait_for("Syncing every 0.5 s")
        wait_for(": 1 added, 0 replaced, 0 unchanged")
        arriving = story(tmp_path / "incoming", "tram", "The tram line opened.")
        os.replace(arriving, folder / arriving.name)  # whole, never half-written, to the watcher
        wait_for(": 1 added, 0 replaced, 1 unchanged")
        watcher.send_signal(signal.SIGINT)
        wait_for("stopped")
        assert watcher.wait() == 0
    finally:
        hung.cancel()
        watcher.kill()
        watcher.wait()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_watcher_stops_mid_round_on_a_signal_and_leaves_every_article_whole(
    tmp_path, make_settings, signum
):
    """Wherever the signal lands (reading, embedding, writing, waiting), the watcher says
    "stopped", exits 0 and leaves only whole articles: the next sync replaces none."""
    home, folder = tmp_path / "home", tmp_path / "desk"
    for n in range(120):
        story(folder, f"story-{n:03}", f"Item {n}: the council met about the harbour wall. " * 20)
    watcher = subprocess.Popen(
        [sys.executable, "-m", "bot", "sync", str(folder), "--watch", "3600"],
        env=os.environ | {"BRIEFING_HOME": str(home)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    hung = threading.Timer(600, watcher.kill)  # only a hung watcher's end, never a deadline
    hung.start()
    try:
        assert "Syncing every 3600 s" in watcher.stdout.readline()
        while not (home / "chroma").exists() and watcher.poll() is None:
            threading.Event().wait(0.05)  # signal once the round has begun
        watcher.send_signal(signum)
        said = watcher.stdout.read()
        assert watcher.wait() == 0 and said.rstrip().endswith("stopped"), said
    finally:
        hung.cancel()
        watcher.kill()
        watcher.wait()
    [outcome] = sync([str(folder)], make_settings(home=home))
    assert outcome.report.replaced == []  # no half-written article to complete
    assert len(outcome.report.added) + len(outcome.report.unchanged) == 120


def rss(*items: tuple[str, str, str]) -> bytes:
    """A feed of (guid, title, full text) items, each linking to /news/<guid>."""
    entries = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title>"
        f"<link>https://coast.example/news/{guid}</link>"
        f"<pubDate>Mon, 09 Dec 2024 08:00:00 GMT</pubDate><description>{text}</description></item>"
        for guid, title, text in items
    )
    channel = f"<channel><title>Coast News</title>{entries}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


FERRY = ("ferry", "Ferry sails", "The night ferry sailed on time.")
TRAM = ("tram", "Tram opens", "The tram line opened to passengers.")
PIER = ("pier", "Pier shut", "The pier was shut after the storm.")


def test_a_feed_on_loopback_is_followed_entry_by_entry(make_settings, webserver):
    settings = make_settings()
    feed = webserver.url + "/coast.rss"
    webserver.routes["/coast.rss"] = (200, "application/rss+xml", rss(FERRY, TRAM))
    [first] = sync([feed], settings)
    assert len(first.report.added) == 2 and not first.loaded.failures
    assert sorted(row["title"] for row in Store(settings).articles()) == [
        "Ferry sails",
        "Tram opens",
    ]

    changed_tram = ("tram", "Tram opens", "The tram line opened, two years late.")
    webserver.routes["/coast.rss"] = (200, "application/rss+xml", rss(changed_tram, PIER))
    [second] = sync([feed], settings)
    assert len(second.report.added) == 1 and len(second.report.replaced) == 1
    assert len(second.gone) == 1 and len(indexed(settings)) == 3  # the ferry is kept

    [third] = sync([feed], settings, prune=True)
    assert len(third.report.unchanged) == 2 and third.report.passages == 0
    assert sorted(row["title"] for row in Store(settings).articles()) == ["Pier shut", "Tram opens"]


def test_one_story_from_two_feeds_and_a_record_is_stored_once(make_settings, webserver, tmp_path):
    settings = make_settings()
    webserver.routes["/a.rss"] = (200, "application/rss+xml", rss(FERRY))
    other_guid = ("ferry-copy", "Ferry sails!", FERRY[2])  # same words, another id
    webserver.routes["/b.rss"] = (200, "application/rss+xml", rss(other_guid))
    record = tmp_path / "wire.jsonl"
    record.write_text(json.dumps({"id": "wire-ferry", "text": FERRY[2]}) + "\n")

    outcomes = sync([webserver.url + "/a.rss", webserver.url + "/b.rss", str(record)], settings)
    assert [len(o.report.added) for o in outcomes] == [1, 0, 0]
    assert [len(o.report.duplicates) for o in outcomes] == [0, 1, 1]
    assert len(indexed(settings)) == 1


def test_a_url_that_times_out_is_named_and_the_rest_of_the_batch_goes_in(tmp_path, webserver):
    webserver.slow("/slow.rss", seconds=5)
    webserver.routes["/coast.rss"] = (200, "application/rss+xml", rss(FERRY))
    env_home = tmp_path / "home"
    result = briefing(
        "ingest", webserver.url + "/slow.rss", webserver.url + "/coast.rss",
        home=env_home, extra_env={"BRIEFING_FETCH_TIMEOUT": "1"},
    )  # fmt: skip
    assert result.returncode == 1
    assert f"briefing: error: {webserver.url}/slow.rss: timed out after 1 s" in result.stderr
    assert "briefing: 1 of 2 inputs had errors" in result.stderr
    assert "1 added" in result.stdout
