"""Download one web address (a feed or a page) with a time limit and a size cap.

Every failure becomes an ArticleError whose one-line message starts with the address, so the
CLI can report it as it does a bad file.
"""

from __future__ import annotations

import ipaddress
import socket
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
MAX_REDIRECTS = 10


@dataclass(frozen=True)
class Download:
    url: str
    """The final address, after redirects."""
    data: bytes
    content_type: str
    """Lower-cased media type without parameters ("text/html"); "" when the server sent none."""


def fetch(url: str, settings: Settings) -> Download:
    """The body of `url`; ArticleError naming the URL on any network, HTTP or size problem, and
    on an address inside the network (see _check_host)."""
    if urlparse(url).scheme.lower() not in ("http", "https"):
        raise ArticleError(f"{url}: not a web address (only http:// and https:// are fetched)")
    httpx = import_for("httpx", url, "downloading feeds and pages")
    timeout = settings.fetch_timeout
    try:
        # Redirects are followed by hand, so that every hop's address is checked.
        with httpx.Client(
            timeout=timeout, follow_redirects=False, headers={"User-Agent": USER_AGENT}
        ) as client:
            request = client.build_request("GET", url)
            for _ in range(MAX_REDIRECTS + 1):
                _check_host(url, str(request.url), settings)
                response = client.send(request, stream=True)
                try:
                    _check_peer(url, response, settings)
                    if not response.next_request:
                        return _read(url, response, settings)
                    request = response.next_request
                finally:
                    response.close()
            raise ArticleError(f"{url}: more than {MAX_REDIRECTS} redirects")
    except httpx.TimeoutException as err:
        raise ArticleError(f"{url}: timed out after {timeout:g} s") from err
    except httpx.ConnectError as err:
        raise ArticleError(f"{url}: cannot connect ({_reason(err)})") from err
    except httpx.HTTPError as err:
        # The rest: protocol errors, too many redirects, a redirect to an unsupported scheme.
        raise ArticleError(f"{url}: download failed ({_reason(err)})") from err


def _check_host(url: str, target: str, settings: Settings) -> None:
    """Refuse a target whose host resolves to a loopback, private, link-local or otherwise
    non-public address (unless BRIEFING_FETCH_ALLOW_PRIVATE): every address it resolves to."""
    if settings.fetch_allow_private:
        return
    parts = urlparse(target)
    if parts.scheme.lower() not in ("http", "https"):
        raise ArticleError(f"{url}: redirected to {target}, which is not a web address")
    host = parts.hostname or ""
    try:
        addresses = resolve(host)
    except (OSError, UnicodeError) as err:
        raise ArticleError(f"{url}: cannot resolve {host!r} ({_reason(err)})") from err
    for address in addresses:
        _refuse_private(url, target, address)


def resolve(host: str) -> list[str]:
    """Every IP address the host name stands for."""
    found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return [address[0] for *_, address in found]


def _check_peer(url: str, response: httpx.Response, settings: Settings) -> None:
    """The address actually connected to, checked again: a name may resolve differently on
    the second lookup (DNS rebinding)."""
    stream = response.extensions.get("network_stream")
    peer = stream.get_extra_info("server_addr") if stream else None
    if peer and not settings.fetch_allow_private:
        _refuse_private(url, str(response.url), peer[0])


def _refuse_private(url: str, target: str, ip: str) -> None:
    address = ipaddress.ip_address(ip.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if not address.is_global or address.is_multicast:
        via = "" if target == url else f" (redirected to {target})"
        raise ArticleError(
            f"{url}: refused, {address} is a loopback, private or link-local address{via}; "
            "set BRIEFING_FETCH_ALLOW_PRIVATE=1 to fetch from such addresses"
        )


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
