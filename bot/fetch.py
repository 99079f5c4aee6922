"""Download one web address (a feed or a page) with a time limit and a size cap.

Every failure becomes an ArticleError whose one-line message starts with the address, so the
CLI can report it as it does a bad file.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from bot.articles import import_for
from bot.config import Settings
from bot.errors import ArticleError

if TYPE_CHECKING:
    import httpx

USER_AGENT = "briefing-bot/0.1"


@dataclass(frozen=True)
class Download:
    url: str
    """The final address, after redirects."""
    data: bytes
    content_type: str
    """Lower-cased media type without parameters ("text/html"); "" when the server sent none."""


def fetch(url: str, settings: Settings) -> Download:
    """The body of `url`; ArticleError naming the URL on any network, HTTP or size problem."""
    if urlparse(url).scheme.lower() not in ("http", "https"):
        raise ArticleError(f"{url}: not a web address (only http:// and https:// are fetched)")
    httpx = import_for("httpx", url, "downloading feeds and pages")
    timeout = settings.fetch_timeout
    try:
        with httpx.Client(
            timeout=timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT}
        ) as client:
            with client.stream("GET", url) as response:
                return _read(url, response, settings)
    except httpx.TimeoutException as err:
        raise ArticleError(f"{url}: timed out after {timeout:g} s") from err
    except httpx.ConnectError as err:
        raise ArticleError(f"{url}: cannot connect ({_reason(err)})") from err
    except httpx.HTTPError as err:
        # The rest: protocol errors, too many redirects, a redirect to an unsupported scheme.
        raise ArticleError(f"{url}: download failed ({_reason(err)})") from err


def _read(url: str, response: httpx.Response, settings: Settings) -> Download:
    if response.is_error:
        raise ArticleError(f"{url}: HTTP {response.status_code} {response.reason_phrase}".strip())
    limit = int(settings.max_input_mb * 1_000_000)
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(url, settings)  # refuse early instead of downloading the lot
    data = _body(url, response, settings, limit)
    if not data.strip():
        raise ArticleError(f"{url}: empty response")
    content_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return Download(url=str(response.url), data=data, content_type=content_type)


def _body(url: str, response: httpx.Response, settings: Settings, limit: int) -> bytes:
    """The (decompressed) body, stopping at `limit` bytes.

    httpx's timeout applies to each read, so a server trickling bytes could hold us forever;
    the deadline below caps the whole download at the same number of seconds.
    """
    deadline = time.monotonic() + settings.fetch_timeout
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise _too_large(url, settings)
        if time.monotonic() > deadline:
            raise ArticleError(f"{url}: timed out after {settings.fetch_timeout:g} s")
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(url: str, settings: Settings) -> ArticleError:
    return ArticleError(
        f"{url}: larger than the {settings.max_input_mb:g} MB limit (BRIEFING_MAX_INPUT_MB)"
    )


def _reason(err: Exception) -> str:
    """The error's own words on one line (some httpx errors carry none)."""
    return " ".join(str(err).split()) or type(err).__name__
