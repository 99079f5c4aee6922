"""Ingest with progress bars: read every input, then index its articles one by one."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from bot.articles import Article, missing_package_line
from bot.config import Settings
from bot.sources import Loaded, load_input, load_paths
from bot.store import IngestReport, Store


@dataclass
class IngestResult:
    report: IngestReport
    loaded: list[Loaded]

    @property
    def failures(self) -> list[str]:
        return [line for item in self.loaded for line in item.failures]

    @property
    def warnings(self) -> list[str]:
        return [line for item in self.loaded for line in item.warnings]


def ingest_inputs(
    specs: Sequence[str | Path],
    settings: Settings,
    store: Store | None = None,
    fetch_pages: bool = False,
) -> IngestResult:
    """Index what can be read from each input; a bad one is reported and the rest go in."""
    loaded = read_inputs(specs, settings, fetch_pages)
    report = index_articles([a for item in loaded for a in item.articles], settings, store)
    return IngestResult(report, loaded)


def ingest_paths(
    paths: Sequence[str | Path], settings: Settings, store: Store | None = None
) -> IngestReport:
    """Strict: ArticleError on the first bad input, before anything is written (evals)."""
    return index_articles(load_paths(paths, settings), settings, store)


def read_inputs(specs: Sequence[str | Path], settings: Settings, fetch_pages: bool) -> list[Loaded]:
    specs = [str(spec) for spec in specs]
    with tqdm(specs, unit="input", desc="Reading", disable=None if len(specs) > 1 else True) as bar:
        return [read_input(spec, settings, fetch_pages) for spec in bar]


def read_input(spec: str, settings: Settings, fetch_pages: bool = False) -> Loaded:
    """load_input, where an import that fails on the way (a broken install) is one line.

    The readers of feeds, pages and URLs turn their own failed imports into a failure of the
    one file they read; this catches any other, for the whole input, so the batch goes on.
    """
    try:
        return load_input(spec, settings, fetch_pages)
    except ImportError as err:
        return Loaded(spec, failures=[missing_package_line(spec, "reading it", err)])


class Stopped(Exception):
    """Raised between two whole articles when a stop was asked for (see bot.sync.watch)."""


def index_articles(
    articles: list[Article],
    settings: Settings,
    store: Store | None = None,
    stop: threading.Event | None = None,
) -> IngestReport:
    """Index the articles; when `stop` is set, raise Stopped after the article being written."""
    store = store or Store(settings)
    with tqdm(total=len(articles), unit="article", desc="Ingesting", disable=None) as bar:

        def done(_: Article) -> None:
            bar.update()
            if stop is not None and stop.is_set():
                raise Stopped

        return store.ingest(articles, on_article=done)
