"""A loopback HTTP server for tests: serves a folder's files plus routes a test can change.

    from tests.webserver import Route, serve

    with serve(root=DATA, routes={"/feed.xml": (200, "application/rss+xml", FEED)}) as web:
        fetch(web.url + "/feed.xml", settings)
        web.routes["/feed.xml"] = (200, "application/rss+xml", NEWER_FEED)  # "update the feed"
        web.slow("/slow", seconds=5)           # answers only after 5 s (timeout tests)
        web.redirect("/old", "/feed.xml")      # 302 to another path (or a full URL)
        web.routes["/gone"] = Route(status=410)
        assert web.hits[-1].path == "/feed.xml"

Or as a pytest fixture (an empty server; set `web.root` or `web.routes`) in a test module:

    from tests import webserver as web

    webserver = web.webserver  # the fixture, by its name

    def test_x(webserver):
        webserver.routes["/a"] = (200, "text/plain", b"hi")

Paths not in `routes` and not under `root` get a 404.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# The bot refuses to fetch loopback addresses (SSRF) unless told to; this server is one, so
# every test that imports it (and every bot process it starts) allows them.
os.environ["BRIEFING_FETCH_ALLOW_PRIVATE"] = "1"

CONTENT_TYPES = {
    ".xml": "application/rss+xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".html": "text/html",
    ".htm": "text/html",
    ".json": "application/json",
    ".jsonl": "application/jsonl",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
}


@dataclass
class Route:
    """One canned answer. A (status, content_type, body) tuple in `routes` means the same."""

    status: int = 200
    content_type: str = "text/plain"
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering."""
    send_length: bool = True
    """False: no Content-Length, the body ends when the connection closes."""


@dataclass(frozen=True)
class Hit:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]


class WebServer:
    """A running server; `routes` and `root` may be changed between requests."""

    def __init__(self, root: Path | None = None, routes: dict | None = None) -> None:
        self.root = Path(root) if root else None
        self.routes: dict[str, Route | tuple[int, str, bytes]] = dict(routes or {})
        self.hits: list[Hit] = []
        self.stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._httpd.handle_error = lambda request, address: None  # clients hang up in tests
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        # A short poll interval: shutdown() waits for it, once per test.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def slow(self, path: str, seconds: float, body: bytes = b"late") -> None:
        self.routes[path] = Route(body=body, delay=seconds)

    def redirect(self, path: str, target: str, status: int = 302) -> None:
        location = target if "://" in target else self.url + target
        self.routes[path] = Route(status=status, headers={"Location": location})

    def route_for(self, path: str) -> Route:
        """The answer for a request path: a route (with or without its query), a file, or 404."""
        for key in (path, urlsplit(path).path):
            if key in self.routes:
                route = self.routes[key]
                return route if isinstance(route, Route) else Route(*route)
        return self._file(urlsplit(path).path) or Route(404, body=b"not found")

    def _file(self, path: str) -> Route | None:
        if self.root is None:
            return None
        root = self.root.resolve()
        file = (root / path.lstrip("/")).resolve()
        if not file.is_file() or not file.is_relative_to(root):
            return None
        kind = CONTENT_TYPES.get(file.suffix.lower(), "application/octet-stream")
        return Route(content_type=kind, body=file.read_bytes())

    def start(self) -> WebServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()  # ends slow answers early
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def _handler_for(server: WebServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer(send_body=True)

        def do_HEAD(self) -> None:
            self._answer(send_body=False)

        def do_POST(self) -> None:  # a model server's API (tests/test_llm_server.py)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._answer(send_body=True)

        def _answer(self, send_body: bool) -> None:
            server.hits.append(Hit(self.command, self.path, dict(self.headers.items())))
            route = server.route_for(self.path)
            if route.delay and server.stopping.wait(route.delay):
                return
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            if route.send_length:
                self.send_header("Content-Length", str(len(route.body)))
            for name, value in route.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if send_body:
                with suppress(OSError):
                    self.wfile.write(route.body)

        def log_message(self, *args: object) -> None:
            pass  # keep test output quiet

    return Handler


@contextmanager
def serve(root: Path | None = None, routes: dict | None = None) -> Iterator[WebServer]:
    """A server on 127.0.0.1 at a free port for the duration of the block."""
    server = WebServer(root, routes).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def webserver() -> Iterator[WebServer]:
    """An empty loopback server; give it `root` or `routes` in the test."""
    with serve() as server:
        yield server
