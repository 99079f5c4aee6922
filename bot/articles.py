"""The Article shape (see ../shared/GUIDE.md), and reading it from text and JSON files.

Other inputs (HTML pages, feeds, URLs) live in bot.pages, bot.feeds and bot.sources."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import json
import re
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType
from urllib.parse import urldefrag, urlparse

import frontmatter
import yaml
from dateutil import parser as date_parser

from bot.errors import ArticleError

TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
RECORD_SUFFIXES = {".json", ".jsonl"}


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    source: str
    published: str | None
    url: str | None
    text: str

    @property
    def content_hash(self) -> str:
        """Changes whenever anything a reader sees changes, so re-ingest can skip unchanged ones."""
        payload = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


Report = Callable[[str], None]
"""Receives one line about a problem with an input; the line names the input."""


def load_file(
    path: Path, max_mb: float = 20.0, warn: Report | None = None, skip: Report | None = None
) -> list[Article]:
    """The articles in one Markdown/text file (one) or JSON/JSONL file (one per record).

    ArticleError naming the file when nothing can be read from it. A bad record among good
    ones is passed to `skip` and the rest are kept; without `skip` it is an error too.
    """
    raw = decode_utf8(read_bytes(path, max_mb), str(path))
    if path.suffix.lower() in RECORD_SUFFIXES:
        return _records(path, raw, warn, skip)
    try:
        post = frontmatter.loads(raw)
    except yaml.YAMLError as err:
        raise ArticleError(f"{path}: bad front matter ({_first_line(err)})") from err
    record = {**post.metadata, "text": post.content}
    article = from_record(record, path.stem, _named(str(path), warn))
    if not article.text:
        raise ArticleError(f"{path}: the article has no text")
    return [article]


def _records(path: Path, raw: str, warn: Report | None, skip: Report | None) -> list[Article]:
    if path.suffix.lower() == ".jsonl":
        lines = [(n, line) for n, line in enumerate(raw.splitlines(), 1) if line.strip()]
    else:
        lines = [(1, raw)]
    articles, bad = [], []
    for line_no, line in lines:
        try:
            articles.extend(_parse_records(path, line_no, line, warn))
        except ArticleError as err:
            if skip is None:
                raise
            bad.append(str(err))
    if bad and not articles:
        raise ArticleError(bad[0] + (f" (and {len(bad) - 1} more bad lines)" if bad[1:] else ""))
    for reason in bad:
        skip(reason)  # type: ignore[misc]  # bad is only filled when skip is set
    return articles


def _parse_records(path: Path, line_no: int, line: str, warn: Report | None) -> list[Article]:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as err:
        raise ArticleError(f"{path}:{line_no}: not valid JSON ({err.msg})") from err
    articles = []
    for index, record in enumerate(data if isinstance(data, list) else [data]):
        if not isinstance(record, dict) or not str(record.get("text") or "").strip():
            raise ArticleError(f"{path}:{line_no}: record {index} has no 'text'")
        default_id = f"{path.stem}-{line_no}-{index}"
        articles.append(from_record(record, default_id, _named(f"{path}:{line_no}", warn)))
    return articles


def _named(origin: str, warn: Report | None) -> Report | None:
    return (lambda line: warn(f"{origin}: {line}")) if warn else None


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def from_record(
    record: dict, default_id: str, warn: Callable[[str], None] | None = None
) -> Article:
    """An Article from loose metadata: missing title or date is fine, dates become ISO strings.

    A date that cannot be read is dropped and reported through `warn` (one line).
    """
    text = str(record.get("text") or "").strip()
    article_id = str(record.get("id") or default_id)
    raw_date = record.get("published") or record.get("date")
    published = parse_date(raw_date)
    if raw_date and published is None and warn:
        warn(f"date {str(raw_date)[:40]!r} not understood; stored without a date")
    return Article(
        id=article_id,
        title=str(record.get("title") or article_id.replace("-", " ").replace("_", " ")),
        source=str(record.get("source") or ""),
        published=published,
        url=str(record["url"]) if record.get("url") else None,
        text=text,
    )


def parse_date(value: object) -> str | None:
    """An ISO date (YYYY-MM-DD) from a date, datetime or a date written in most common ways.

    None when absent or unreadable; feeds and pages write dates in many styles
    ("Sat, 07 Dec 2024 10:00:00 GMT", "7 December 2024", "2024-12-07T10:00Z").
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        pass
    try:
        return date_parser.parse(text, fuzzy=False).date().isoformat()
    except (ValueError, OverflowError):
        return None


def id_from_url(url: str) -> str:
    """A stable, readable article id for a web address: its last path part plus a short hash.

    The hash keeps two sites' "/world/index.html" apart; the same address always gives the
    same id, so a story that arrives by feed and again by URL is one article.
    """
    address = urldefrag(url.strip())[0].rstrip("/")
    parsed = urlparse(address)
    parts = [part for part in re.split(r"[/:]", parsed.path) if part]  # also tag:x,2024:slug
    last = parts[-1] if parts else parsed.hostname or "page"
    slug = re.sub(r"[^a-z0-9]+", "-", last.lower().rsplit(".", 1)[0]).strip("-")[:60] or "page"
    return f"{slug}-{hashlib.sha1(address.encode()).hexdigest()[:8]}"


def import_for(module: str, origin: str, purpose: str) -> ModuleType:
    """The module that reading `origin` needs; ArticleError in one line when it will not import.

    Feeds, pages and URLs need packages that plain article files do not. When one of them is
    missing or broken (a partial install, an old pip that skipped an extra), that input fails
    with a line naming the package and the command that installs it, and the rest go in.
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ArticleError(missing_package_line(origin, purpose, err)) from err


# Import names whose package on PyPI is called something else.
_PACKAGE_NAMES = {
    "dateutil": "python-dateutil",
    "frontmatter": "python-frontmatter",
    "sgmllib": "feedparser-sgmllib",
    "yaml": "pyyaml",
}


def missing_package(err: ImportError) -> str:
    """The pip name of the package an ImportError is about ("" when it cannot be told)."""
    text = str(err)
    # lxml.html.clean's own error names the project it moved to; others name the module.
    found = re.search(r"separate project ([\w.-]+?)\.?(?:\s|$)", text)
    if found:
        return found.group(1)
    name = err.name or (re.findall(r"No module named '([\w.]+)'", text) or [""])[0]
    top = name.split(".")[0]
    return _PACKAGE_NAMES.get(top, top)


def missing_package_line(origin: str, purpose: str, err: ImportError) -> str:
    """One line for an input that cannot be read because an import failed."""
    package = missing_package(err)
    if not package:
        return f"{origin}: {purpose} failed to import a package ({_first_line(err)})"
    return (
        f"{origin}: {purpose} needs the Python package {package}, which is missing or broken "
        f"({_first_line(err)}); install it with: {sys.executable} -m pip install {package}"
    )


def read_bytes(path: Path, max_mb: float) -> bytes:
    """A file's bytes; ArticleError naming the file when it is empty, too large or unreadable."""
    try:
        size = path.stat().st_size
        if size > max_mb * 1_000_000:
            raise ArticleError(
                f"{path}: too large ({size / 1_000_000:.1f} MB; the limit is {max_mb:g} MB, "
                "set BRIEFING_MAX_INPUT_MB to change it)"
            )
        data = path.read_bytes()
    except OSError as err:
        raise ArticleError(f"{path}: cannot read ({err.strerror or err})") from err
    if not data.strip():
        raise ArticleError(f"{path}: empty file")
    return data


def decode_utf8(data: bytes, origin: str) -> str:
    """Text from UTF-8 bytes (a BOM is fine); ArticleError naming the first bad byte otherwise."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        bad = data[err.start]
        raise ArticleError(
            f"{origin}: not UTF-8 text (byte 0x{bad:02x} at offset {err.start}); save it as UTF-8"
        ) from err
