"""Who may use the chat page: logins from BRIEFING_AUTH, and where it may listen without them."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

from bot.errors import BriefingError

Logins = list[tuple[str, str]]


def parse_logins(value: str | None) -> Logins:
    """ "user:password" pairs separated by commas, or the path of a file with one pair a line
    (blank lines and # comments skipped). None or blank: no logins."""
    if not value or not value.strip():
        return []
    path = Path(value.strip())
    if path.is_file():
        lines = path.read_text(encoding="utf-8").splitlines()
        pairs = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
        where = str(path)
    else:
        pairs = [pair.strip() for pair in value.split(",") if pair.strip()]
        where = "BRIEFING_AUTH"
    logins = []
    for n, pair in enumerate(pairs, 1):
        user, colon, password = pair.partition(":")
        if not colon or not user.strip() or not password:  # never echo a password
            raise BriefingError(
                f"{where}: login {n} ({user.strip()!r}) is not a user:password pair"
            )
        logins.append((user.strip(), password))
    return logins


def is_loopback(host: str) -> bool:
    """Whether every address the host name stands for is this machine's own."""
    try:
        found = socket.getaddrinfo(host, None)
    except socket.gaierror:
        return False
    return bool(found) and all(ipaddress.ip_address(a[4][0]).is_loopback for a in found)


def check_bind(host: str, logins: Logins, insecure: bool) -> None:
    """Refuse to serve a page anyone on the network can use without a login."""
    if logins or insecure or is_loopback(host):
        return
    raise BriefingError(
        f"--host {host}: refusing to serve the page beyond this machine without logins; set "
        "BRIEFING_AUTH=user:password (or a file of them), or pass --insecure"
    )
