"""Load articles from files and folders into one Article shape (see ../shared/GUIDE.md)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import frontmatter
import yaml

from bot.errors import ArticleError

TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
RECORD_SUFFIXES = {".json", ".jsonl"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | RECORD_SUFFIXES


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


def load_paths(paths: Iterable[str | Path]) -> list[Article]:
    """Every article in the given files and folders (recursively); ArticleError on bad input."""
    articles: list[Article] = []
    for path in paths:
        for file in _expand(Path(path)):
            articles.extend(load_file(file))
    return articles


def _expand(path: Path) -> Iterator[Path]:
    if not path.exists():
        raise ArticleError(f"{path}: no such file or folder")
    if path.is_dir():
        for file in sorted(path.rglob("*")):
            hidden = any(part.startswith(".") for part in file.relative_to(path).parts)
            if file.is_file() and not hidden and file.suffix.lower() in SUPPORTED_SUFFIXES:
                yield file
        return
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise ArticleError(f"{path}: unsupported file type (expected one of {supported})")
    yield path


def load_file(path: Path) -> list[Article]:
    """The articles in one file: one for a text file, one per record for JSON/JSONL."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ArticleError(f"{path}: cannot read ({err})") from err
    if path.suffix.lower() in RECORD_SUFFIXES:
        return _records(path, raw)
    try:
        post = frontmatter.loads(raw)
    except yaml.YAMLError as err:
        raise ArticleError(f"{path}: bad front matter ({err})") from err
    article = from_record({**post.metadata, "text": post.content}, default_id=path.stem)
    if not article.text:
        raise ArticleError(f"{path}: the article has no text")
    return [article]


def _records(path: Path, raw: str) -> list[Article]:
    if path.suffix.lower() == ".jsonl":
        lines = [(n, line) for n, line in enumerate(raw.splitlines(), 1) if line.strip()]
    else:
        lines = [(1, raw)]
    articles = []
    for line_no, line in lines:
        try:
            data = json.loads(line)
        except json.JSONDecodeError as err:
            raise ArticleError(f"{path}:{line_no}: not valid JSON ({err.msg})") from err
        for index, record in enumerate(data if isinstance(data, list) else [data]):
            if not isinstance(record, dict) or not str(record.get("text") or "").strip():
                raise ArticleError(f"{path}:{line_no}: record {index} has no 'text'")
            articles.append(from_record(record, default_id=f"{path.stem}-{line_no}-{index}"))
    return articles


def from_record(record: dict, default_id: str) -> Article:
    """An Article from loose metadata: missing title or date is fine, dates become ISO strings."""
    text = str(record.get("text") or "").strip()
    article_id = str(record.get("id") or default_id)
    return Article(
        id=article_id,
        title=str(record.get("title") or article_id.replace("-", " ").replace("_", " ")),
        source=str(record.get("source") or ""),
        published=_iso_date(record.get("published") or record.get("date")),
        url=str(record["url"]) if record.get("url") else None,
        text=text,
    )


def _iso_date(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    text = str(value).strip()
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        return text  # keep an odd date as written rather than drop it
