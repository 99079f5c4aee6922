"""Every kind of input, one at a time: article files, folders, HTML pages, feeds and URLs.

Each input gives a Loaded: its articles, plus one-line failures and warnings that name it, so
one bad input never stops the rest of a batch.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.articles import RECORD_SUFFIXES, TEXT_SUFFIXES, Article, id_from_url, load_file, read_bytes
from bot.config import Settings
from bot.errors import ArticleError

PAGE_SUFFIXES = {".html", ".htm"}
FEED_SUFFIXES = {".xml", ".rss", ".atom"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | RECORD_SUFFIXES | PAGE_SUFFIXES | FEED_SUFFIXES
FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/xml", "text/xml"}
PAGE_TYPES = {"text/html", "application/xhtml+xml"}
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


@dataclass
class Loaded:
    """What one input gave. A failure means something in it was not read; a warning does not."""

    source: str
    articles: list[Article] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def is_url(spec: str) -> bool:
    return bool(_URL.match(spec))


def load_inputs(
    specs: Sequence[str | Path], settings: Settings, fetch_pages: bool = False
) -> list[Loaded]:
    return [load_input(str(spec), settings, fetch_pages) for spec in specs]


def load_input(spec: str, settings: Settings, fetch_pages: bool = False) -> Loaded:
    """The articles of one file, folder, feed or URL; problems are recorded, never raised."""
    loaded = Loaded(spec)
    if is_url(spec):
        _attempt(loaded, lambda: _load_url(spec, settings, fetch_pages, loaded))
        return loaded
    path = Path(spec)
    if path.is_dir():
        for file in files_in(path):
            _attempt(loaded, lambda f=file: _load_path(f, settings, fetch_pages, loaded))
    elif not path.exists():
        loaded.failures.append(f"{path}: no such file or folder")
    elif path.suffix.lower() not in SUPPORTED_SUFFIXES:
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        loaded.failures.append(f"{path}: unsupported file type (expected one of {supported})")
    else:
        _attempt(loaded, lambda: _load_path(path, settings, fetch_pages, loaded))
    return loaded


def load_paths(paths: Sequence[str | Path], settings: Settings | None = None) -> list[Article]:
    """Every article in the inputs, or ArticleError on the first problem (evals and tests)."""
    articles = []
    for loaded in load_inputs(paths, settings or Settings()):
        if loaded.failures:
            raise ArticleError(loaded.failures[0])
        articles.extend(loaded.articles)
    return articles


def files_in(folder: Path) -> Iterator[Path]:
    """The readable article files under a folder, recursively, skipping hidden ones."""
    for file in sorted(folder.rglob("*")):
        hidden = any(part.startswith(".") for part in file.relative_to(folder).parts)
        if file.is_file() and not hidden and file.suffix.lower() in SUPPORTED_SUFFIXES:
            yield file


def _attempt(loaded: Loaded, load: Callable[[], list[Article]]) -> None:
    try:
        loaded.articles.extend(load())
    except ArticleError as err:
        loaded.failures.append(str(err))


def _load_path(path: Path, settings: Settings, fetch_pages: bool, loaded: Loaded) -> list[Article]:
    suffix = path.suffix.lower()
    if suffix in PAGE_SUFFIXES:
        from bot.pages import article_from_html

        return [article_from_html(read_bytes(path, settings.max_input_mb), str(path))]
    if suffix in FEED_SUFFIXES:
        from bot.feeds import articles_from_feed

        data = read_bytes(path, settings.max_input_mb)
        return articles_from_feed(data, str(path), settings, fetch_pages, loaded.warnings.append)
    return load_file(path, settings.max_input_mb, loaded.warnings.append, loaded.failures.append)


def _load_url(url: str, settings: Settings, fetch_pages: bool, loaded: Loaded) -> list[Article]:
    """A feed or a page, told apart by content type and, failing that, by a look inside."""
    from bot.feeds import articles_from_feed, looks_like_feed
    from bot.fetch import fetch
    from bot.pages import article_from_html

    download = fetch(url, settings)
    if looks_like_feed(download.data) or download.content_type in FEED_TYPES:
        return articles_from_feed(download.data, url, settings, fetch_pages, loaded.warnings.append)
    if download.content_type in PAGE_TYPES or b"<html" in download.data[:2048].lower():
        return [article_from_html(download.data, url, url=url, article_id=id_from_url(url))]
    kind = download.content_type or "unknown"
    raise ArticleError(f"{url}: unsupported content type {kind} (expected a feed or a web page)")
