"""Keep the index in step with its sources: feeds, folders, files and URLs.

A record beside the index (home/sources-<collection>.json) holds, for each source, the ids of
the articles it gave and when it was last synced. From it, sync knows which articles vanished
from a source (removed only with prune), and `briefing sync` with no arguments re-syncs all.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bot.config import Settings
from bot.errors import BriefingError, StoreError, write_failure
from bot.ingest import Stopped, index_articles, read_input
from bot.sources import Loaded, is_url
from bot.store import IngestReport, Store


@dataclass
class SourceState:
    articles: list[str]
    last_sync: str
    result: str


@dataclass
class SyncRecord:
    path: Path
    sources: dict[str, SourceState] = field(default_factory=dict)

    @classmethod
    def load(cls, settings: Settings) -> SyncRecord:
        path = settings.home / f"sources-{settings.collection}.json"
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            sources = {key: SourceState(**value) for key, value in data["sources"].items()}
        except (ValueError, KeyError, TypeError) as err:
            raise BriefingError(f"{path}: unreadable sync record ({err}); move it away") from err
        return cls(path, sources)

    def save(self) -> None:
        """Write to a temporary file, then rename: a crash never leaves half a record."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"sources": {key: asdict(state) for key, state in self.sources.items()}}
        temporary = self.path.with_suffix(".tmp")
        try:
            temporary.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
            os.replace(temporary, self.path)
        except OSError as err:  # a full or read-only disk: the old record stays as it was
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
            reason = write_failure(err)
            if reason is None:
                raise
            raise StoreError(f"{self.path}: cannot save the sync record: {reason}") from err

    def claimed_elsewhere(self, article_id: str, key: str) -> bool:
        return any(article_id in s.articles for k, s in self.sources.items() if k != key)


@dataclass
class SyncOutcome:
    source: str
    loaded: Loaded
    report: IngestReport
    gone: list[str]
    pruned: list[str]

    def summary(self) -> str:
        line = f"{self.source}: {self.report.summary()}"
        kept = len(self.gone) - len(self.pruned)
        if self.pruned:
            line += f"; {len(self.pruned)} pruned"
        if kept:
            line += f"; {kept} no longer in the source, kept (--prune removes them)"
        return line


def source_key(spec: str) -> str:
    """One name per source: URLs as given, paths made absolute (so ./corpus == corpus)."""
    return spec if is_url(spec) else str(Path(spec).resolve())


def sync(
    specs: Sequence[str],
    settings: Settings,
    store: Store | None = None,
    prune: bool = False,
    fetch_pages: bool = False,
    stop: threading.Event | None = None,
) -> list[SyncOutcome]:
    """Bring the index in step with each source; with no specs, every recorded source.

    When `stop` is set, Stopped is raised at the next safe point (after a whole article)."""
    record = SyncRecord.load(settings)
    keys = [source_key(spec) for spec in specs] or list(record.sources)
    if not keys:
        raise BriefingError("nothing to sync yet: name a feed, folder, file or URL")
    store = store or Store(settings)
    outcomes = []
    for key in keys:
        if stop is not None and stop.is_set():
            raise Stopped
        outcomes.append(_sync_one(key, record, store, settings, prune, fetch_pages, stop))
    return outcomes


def _sync_one(
    key: str,
    record: SyncRecord,
    store: Store,
    settings: Settings,
    prune: bool,
    fetch_pages: bool,
    stop: threading.Event | None = None,
) -> SyncOutcome:
    loaded = read_input(key, settings, fetch_pages)
    report = index_articles(loaded.articles, settings, store, stop)
    current = {report.indexed_id(article.id) for article in loaded.articles}
    previous = record.sources.get(key)
    gone = sorted(set(previous.articles) - current) if previous else []
    pruned: list[str] = []
    if prune and gone and loaded.failures:
        loaded.warnings.append(f"{key}: not pruned, because part of it could not be read")
    elif prune:
        for article_id in gone:
            if not record.claimed_elsewhere(article_id, key):  # another source still has it
                store.remove(article_id)
        pruned = gone
    outcome = SyncOutcome(key, loaded, report, gone, pruned)
    kept = set(gone) - set(pruned)
    record.sources[key] = SourceState(
        articles=sorted(current | kept),
        last_sync=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        result=outcome.summary(),
    )
    record.save()
    return outcome


def watch(
    specs: Sequence[str],
    settings: Settings,
    every_s: float,
    on_round: Callable[[list[SyncOutcome]], None],
    prune: bool = False,
    fetch_pages: bool = False,
) -> None:
    """Sync, wait, repeat until SIGINT (Ctrl-C) or SIGTERM; one Store (one embedder) for all.

    A signal only sets a flag: the wait ends at once, and a round stops after the article it
    is writing (every article is written whole). An exception raised wherever a signal lands
    could leave a library's lock held and hang the exit; a flag cannot. A second signal
    interrupts at once (KeyboardInterrupt). The handlers are set whatever the process
    inherited: a shell starts a script's background jobs with SIGINT ignored.
    """
    stop = threading.Event()
    restore = _stop_on_signals(stop)
    try:
        store = Store(settings)
        while not stop.is_set():
            on_round(sync(specs, settings, store, prune, fetch_pages, stop))
            stop.wait(every_s)
    except Stopped:
        pass
    finally:
        restore()


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _stop_on_signals(stop: threading.Event) -> Callable[[], None]:
    """SIGINT and SIGTERM set `stop` (the second raises KeyboardInterrupt); returns what puts
    the old handlers back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # only the main thread receives signals

    def handle(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = {signum: signal.signal(signum, handle) for signum in STOP_SIGNALS}

    def restore() -> None:
        for signum, handler in previous.items():
            if handler is not None:  # None: set outside Python, cannot be put back
                signal.signal(signum, handler)

    return restore
