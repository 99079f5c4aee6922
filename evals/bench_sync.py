"""Time `sync` of a generated 1,000-entry RSS feed served on loopback: first sync and re-sync.

Baseline in the same run: ingesting the same articles from a local JSONL file (no HTTP, no
feed parsing), so the feed's own cost shows. Run: python evals/bench_sync.py [--entries N]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bot.config import Settings
from bot.embeddings import embed
from bot.ingest import ingest_inputs
from bot.store import Store
from bot.sync import sync

TOWNS = ["Northport", "Fenwick", "Holm", "Eastport", "Millbrook", "Ashby", "Corran", "Dunmore"]
TOPICS = ["ferry", "library", "bridge", "school", "harbour", "market", "tram", "hospital"]


def story(n: int) -> dict:
    town, topic = TOWNS[n % len(TOWNS)], TOPICS[(n // len(TOWNS)) % len(TOPICS)]
    text = (
        f"{town} council met on day {n} to discuss the {topic}. "
        f"Officials said the {topic} plan number {n} would cost {n * 1000 + 250} pounds. "
        f"Residents of {town} asked for a public meeting before any decision. "
        f"A final vote on item {n} is expected next month, the council said."
    )
    return {"id": f"story-{n}", "title": f"{town} {topic} plan {n}", "text": text}


def feed_xml(stories: list[dict]) -> str:
    items = "".join(
        f"<item><guid>https://bench.example/{s['id']}</guid><title>{s['title']}</title>"
        f"<link>https://bench.example/{s['id']}</link>"
        f"<pubDate>Mon, 09 Dec 2024 08:00:00 GMT</pubDate><description>{s['text']}</description>"
        "</item>"
        for s in stories
    )
    channel = f"<channel><title>Bench</title>{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'


def timed(label: str, count: int, work) -> float:
    start = time.perf_counter()
    summary = work()
    seconds = time.perf_counter() - start
    print(f"{label:<34} {seconds:7.2f} s  {count / seconds:8.1f} articles/s   ({summary})")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1000)
    args = parser.parse_args()
    stories = [story(n) for n in range(args.entries)]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "bench.rss").write_text(feed_xml(stories))
        (folder / "bench.jsonl").write_text("\n".join(json.dumps(s) for s in stories))
        handler = partial(SimpleHTTPRequestHandler, directory=str(folder))
        handler.log_message = lambda *a: None  # type: ignore[method-assign]
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}/bench.rss"

        feed_settings = Settings(home=folder / "feed-home")
        file_settings = Settings(home=folder / "file-home")
        embed(["warm up"])  # loading the model is not timed
        n = args.entries
        store = Store(feed_settings)
        timed(
            "baseline: ingest JSONL file",
            n,
            lambda: ingest_inputs([folder / "bench.jsonl"], file_settings).report.summary(),
        )
        timed("feed: first sync", n, lambda: sync([url], feed_settings, store)[0].summary())
        timed(
            "feed: re-sync (nothing changed)",
            n,
            lambda: sync([url], feed_settings, store)[0].summary(),
        )
        server.shutdown()


if __name__ == "__main__":
    main()
