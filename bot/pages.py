"""Turn one downloaded or saved HTML page into an Article with trafilatura.

trafilatura finds the main text and the metadata (title, site name, date, canonical URL);
this module only decides the character set, rejects pages with no article, and maps the
result onto the Article shape.
"""

from __future__ import annotations

import codecs
from email.message import Message
from pathlib import PurePath
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from bot.articles import Article, id_from_url, import_for, parse_date
from bot.errors import ArticleError

if TYPE_CHECKING:
    from trafilatura.settings import Document

# trafilatura (and lxml under it) are imported when a page is read, through import_for: when
# one is missing or broken, that page fails in one line and feeds and article files still go in.
PURPOSE = "reading HTML pages"

# The charset declaration must sit near the top (the HTML standard's prescan reads 1024 bytes).
_PRESCAN_BYTES = 4096


def article_from_html(
    data: bytes, origin: str, url: str | None = None, article_id: str | None = None
) -> Article:
    """The article in an HTML page; ArticleError naming `origin` when it has no article text.

    `origin` names the input in messages (a file path or a URL); `url` is the page's address
    when known, used for the id and for resolving the site name.
    """
    import_for("trafilatura", origin, PURPOSE)  # and lxml, which it imports
    document = _extract(data, url)
    if document is None or not (document.text or "").strip():
        raise ArticleError(f"{origin}: no article text found in the HTML")
    title = (document.title or "").strip()
    url = url or document.url or None
    if article_id is None:
        article_id = id_from_url(url) if url else PurePath(origin).stem
    return Article(
        id=article_id,
        title=title or article_id.replace("-", " "),
        source=(document.sitename or "").strip() or (urlparse(url).hostname if url else "") or "",
        published=parse_date(document.date),
        url=url,
        text=_body_text(document.text, title),
    )


def _extract(data: bytes, url: str | None) -> Document | None:
    """trafilatura's main text and metadata, or None when the page holds no article."""
    from trafilatura import bare_extraction
    from trafilatura.settings import set_date_params

    html: bytes | str = _decode_declared(data) or data
    # The default (balanced) mode falls back to the raw text of <body> when it finds little,
    # so a page of menus "succeeds"; precision mode has no such fallback and tells us whether
    # there is an article at all. Short real articles pass both (see tests/test_pages.py).
    if bare_extraction(html, url=url, favor_precision=True, include_comments=False) is None:
        return None
    return bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        # No extensive search: it turns a footer's "(c) 2023" into 2023-01-01.
        date_extraction_params=set_date_params(False),
    )


def _decode_declared(data: bytes) -> str | None:
    """The page decoded with its own <meta charset>, or None to let trafilatura guess.

    trafilatura tries UTF-8 and then statistical detection, ignoring the declaration, which
    misreads short windows-1252 pages; declared-and-valid wins, as it does in browsers.
    """
    charset = _declared_charset(data[:_PRESCAN_BYTES])
    if charset is None:
        return None
    try:
        return data.decode(charset)
    except (LookupError, UnicodeDecodeError):
        return None


def _declared_charset(head: bytes) -> str | None:
    import lxml.etree
    import lxml.html

    try:
        tree = lxml.html.fromstring(head)
    except (lxml.etree.ParserError, ValueError):
        return None
    labels = tree.xpath("//meta/@charset")
    for content in tree.xpath("//meta[@content and @http-equiv]/@content"):
        header = Message()
        header["content-type"] = content
        labels.append(header.get_content_charset() or "")
    for label in labels:
        try:
            name = codecs.lookup(label.strip()).name
        except LookupError:
            continue
        # As browsers do: pages labelled latin-1 or ASCII are really windows-1252 (the euro sign).
        return "cp1252" if name in ("iso8859-1", "ascii") else name
    return None


def _body_text(text: str, title: str) -> str:
    """Non-empty lines, without a first line that only repeats the headline."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > 1 and title and lines[0] == title:
        lines = lines[1:]
    return "\n".join(lines)
