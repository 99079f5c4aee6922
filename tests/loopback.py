"""Real servers the tests start on 127.0.0.1 at a free port: `chroma run`, llama-cpp-python's
server, the chat page. Each runs as a subprocess logging to a file, and a failed start shows
that log."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import free_port


class LoopbackServer:
    """`command(port)` run as a subprocess until killed; up once `health` answers over HTTP."""

    def __init__(
        self,
        command: Callable[[int], list[str]],
        log: Path,
        health: str = "/",
        env: dict[str, str] | None = None,
    ):
        self.command, self.log, self.health, self.env = command, log, health, env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, seconds: float = 120) -> LoopbackServer:
        env = os.environ | (self.env or {})
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                self.command(self.port), stdout=log, stderr=subprocess.STDOUT, env=env
            )
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the server stopped:\n{self.log.read_text()}"
            try:
                urllib.request.urlopen(self.url + self.health, timeout=2)
                return self
            except urllib.error.HTTPError:
                return self  # it answers, if not with 200 (a login page, say)
            except OSError:
                time.sleep(0.2)
        self.kill()
        raise AssertionError(f"not up after {seconds} s:\n{self.log.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no chance to flush or close anything."""
        if self.process and self.process.poll() is None:
            self.process.kill()
        if self.process:
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM, as a service manager stops it."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
        if self.process:
            self.process.wait(timeout=30)


def chat_server(log: Path, env: dict[str, str]) -> LoopbackServer:
    """`briefing chat` as a user starts it, with these BRIEFING_* settings (not yet started)."""
    command = [sys.executable, "-m", "bot", "chat", "--port"]
    return LoopbackServer(lambda port: [*command, str(port)], log, env=env)


@contextmanager
def chat_page(log: Path, env: dict[str, str], seconds: float = 300) -> Iterator[str]:
    """`briefing chat` as a user starts it, with these BRIEFING_* settings; yields its URL."""
    server = chat_server(log, env).start(seconds)
    try:
        yield server.url
    finally:
        server.stop()
