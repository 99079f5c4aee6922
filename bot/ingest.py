"""Ingest with a progress bar: load every input first, so bad input changes nothing in the index."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from bot.articles import load_paths
from bot.config import Settings
from bot.store import IngestReport, Store


def ingest_paths(
    paths: Sequence[str | Path], settings: Settings, store: Store | None = None
) -> IngestReport:
    """Read all the paths, then index the articles. Raises ArticleError before writing anything."""
    articles = load_paths(paths)
    store = store or Store(settings)
    with tqdm(total=len(articles), unit="article", desc="Ingesting", disable=None) as bar:
        return store.ingest(articles, on_article=lambda _: bar.update())
