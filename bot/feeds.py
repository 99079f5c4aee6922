"""Turn an RSS or Atom feed into Articles with feedparser, one per entry.

Entry ids are stable across runs (guid, else link, else a hash of the text), so re-reading
a feed updates its articles instead of duplicating them. Feeds often carry only a teaser;
with `fetch_pages` the linked page is downloaded and its main text used instead.
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import io
import re
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from bot.articles import Article, id_from_url, import_for, parse_date
from bot.config import Settings
from bot.errors import ArticleError
from bot.fetch import fetch
from bot.pages import article_from_html

if TYPE_CHECKING:
    from feedparser import FeedParserDict

Warn = Callable[[str], None]
# feedparser and lxml are imported when a feed is read, through import_for: when one is missing
# or broken, that feed fails in one line and the other inputs still go in.
PURPOSE = "reading RSS/Atom feeds"

# Optional BOM, whitespace, XML declaration, comments, stylesheet PIs and a doctype may come
# before the root element; the root's name is all that tells a feed from an HTML page.
_FEED_START = re.compile(
    rb"\s*(?:<\?xml[^>]*\?>\s*|<!--.*?-->\s*|<\?xml-stylesheet[^>]*\?>\s*|<!DOCTYPE[^>]*>\s*)*"
    rb"<(?:rss|feed|rdf:RDF)[\s>/]",
    re.DOTALL | re.IGNORECASE,
)
_BLOCK_TAGS = (
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
    "pre", "table", "tr", "section", "article", "figure", "figcaption", "header", "footer", "hr",
)  # fmt: skip


def looks_like_feed(data: bytes) -> bool:
    """True when the first kilobyte starts an RSS, Atom or RSS 1.0 (RDF) document."""
    head = data[:1024]
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if head.startswith(bom):
            head = head[len(bom) :].decode(codec, errors="ignore").encode("utf-8")
    head = head.removeprefix(codecs.BOM_UTF8)
    return _FEED_START.match(head) is not None


def articles_from_feed(
    data: bytes,
    origin: str,
    settings: Settings,
    fetch_pages: bool = False,
    warn: Warn | None = None,
) -> list[Article]:
    """One Article per feed entry with text; ArticleError naming `origin` for a bad feed.

    Problems with single entries (no text, an unreadable date, a page that cannot be fetched)
    are reported through `warn`, one line each, and do not stop the rest.
    """
    feedparser = import_for("feedparser", origin, PURPOSE)
    import_for("lxml.html", origin, PURPOSE)  # for entries written in HTML
    # A stream, not bytes: feedparser tries open() on bytes first, so b"/etc/passwd" served by
    # a hostile site would be read as a local file; a stream is only ever read.
    parsed = feedparser.parse(io.BytesIO(data))
    problem = _problem(parsed)
    if not parsed.entries:
        if problem:
            raise ArticleError(f"{origin}: not a valid RSS/Atom feed ({problem})")
        if not parsed.get("version"):
            raise ArticleError(f"{origin}: not a valid RSS/Atom feed (no <rss> or <feed> root)")
        raise ArticleError(f"{origin}: the feed has no entries")
    feed_title = _clean(parsed.feed.get("title"))
    default_source = feed_title or urlparse(origin).hostname or ""
    notes: list[str] = []  # held back so a feed that fails as a whole gives only its error
    articles = []
    for entry in parsed.entries:
        article = _article(entry, origin, default_source, settings, fetch_pages, notes.append)
        if article is not None:
            articles.append(article)
    if problem:
        if not articles:
            raise ArticleError(f"{origin}: not a valid RSS/Atom feed ({problem})")
        notes.insert(0, f"{origin}: the feed is not well-formed ({problem}); read what it could")
    for note in notes:
        (warn or _ignore)(note)
    return articles


def _ignore(_line: str) -> None:
    pass


def _problem(parsed: FeedParserDict) -> str:
    """Why feedparser flagged the feed; "" for none or for notes such as a wrong charset."""
    from feedparser.exceptions import ThingsNobodyCaresAboutButMe

    error = parsed.get("bozo_exception")
    if not parsed.get("bozo") or error is None or isinstance(error, ThingsNobodyCaresAboutButMe):
        return ""
    reason = getattr(error, "getMessage", lambda: str(error))()
    return " ".join(str(reason).split()) or type(error).__name__


def _article(
    entry: FeedParserDict,
    origin: str,
    default_source: str,
    settings: Settings,
    fetch_pages: bool,
    warn: Warn,
) -> Article | None:
    link = (entry.get("link") or "").strip() or None
    content = _content_text(entry)
    own_text = content or _summary_text(entry)
    title = _clean(entry.get("title"))
    article_id = _entry_id(entry, link, title, own_text)
    label = f"{origin}: entry {(title or article_id)[:60]!r}"
    published, raw_date = _entry_date(entry)
    if raw_date and published is None:
        warn(f"{label}: date {raw_date[:40]!r} not understood; stored without a date")
    text = own_text
    if not content and fetch_pages and link:
        page = _page(link, article_id, settings, warn)
        if page is not None:
            text, published = page.text, published or page.published
    if not text:
        warn(f"{label}: no text; skipped")
        return None
    return Article(
        id=article_id,
        title=title or article_id,
        source=_clean(entry.get("source", {}).get("title")) or default_source,
        published=published,
        url=link,
        text=text,
    )


def _entry_id(entry: FeedParserDict, link: str | None, title: str, text: str) -> str:
    """guid, else link, through id_from_url (so feed and URL agree); else title slug + hash."""
    key = (entry.get("id") or "").strip() or link
    if key:
        return id_from_url(key)
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "entry"
    return f"{slug}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"


def _entry_date(entry: FeedParserDict) -> tuple[str | None, str]:
    """(ISO date or None, the raw date text) from the entry's published or updated date."""
    # dict.get: feedparser's own get() maps a missing "updated" to "published", with a warning.
    raw = _clean(dict.get(entry, "published") or dict.get(entry, "updated"))
    published = parse_date(raw)
    parsed = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    if published is None and parsed:
        # feedparser reads a few formats dateutil does not (it converts them to UTC).
        published = dt.date(*parsed[:3]).isoformat()
    return published, raw


def _page(link: str, article_id: str, settings: Settings, warn: Warn) -> Article | None:
    """The linked page as an Article, or None (with a warning) when it cannot be had."""
    try:
        download = fetch(link, settings)
        return article_from_html(download.data, link, url=link, article_id=article_id)
    except ArticleError as err:
        warn(f"{link}: page not used, keeping the feed's summary ({err})")
        return None


def _content_text(entry: FeedParserDict) -> str:
    """The longest full-content body the entry carries, as plain text ("" when none)."""
    texts = [_as_text(part.get("value"), part.get("type")) for part in entry.get("content", [])]
    return max(texts, key=len, default="")


def _summary_text(entry: FeedParserDict) -> str:
    detail = entry.get("summary_detail") or {}
    return _as_text(entry.get("summary"), detail.get("type"))


def _as_text(value: str | None, media_type: str | None) -> str:
    if not value or not value.strip():
        return ""
    if media_type and "html" not in media_type:
        return "\n".join(_clean(line) for line in value.splitlines() if line.strip())
    return _html_text(value)


def _html_text(html: str) -> str:
    """Plain text of an HTML fragment, one line per paragraph (block element or <br>)."""
    import lxml.etree
    import lxml.html

    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return ""
    for element in root.iter(*_BLOCK_TAGS):
        element.text = "\n" + (element.text or "")
        element.tail = "\n" + (element.tail or "")
    lines = (_clean(line) for line in root.text_content().splitlines())
    return "\n".join(line for line in lines if line)


def _clean(value: object) -> str:
    """One line of text with runs of whitespace collapsed ("" for None)."""
    return " ".join(str(value or "").split())
