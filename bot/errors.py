"""Exceptions with messages a person can act on: each names the input that was wrong."""

from __future__ import annotations

import errno
import sqlite3


class BriefingError(Exception):
    """Base class: the CLI prints the message on one line and exits non-zero."""


class ArticleError(BriefingError):
    """An article file or record could not be read or parsed."""


class ModelError(BriefingError):
    """A model file is missing, corrupt, or fails to load."""


class QuestionError(BriefingError):
    """A question is empty or otherwise unusable."""


class StoreError(BriefingError):
    """The index cannot be used where it lives: its data directory is read-only or full, or
    its Chroma server cannot be reached. The message names the directory or the URL."""


# SQLite's primary result codes for a place that cannot be written (its own, or inside Chroma).
SQLITE_WRITE_FAILURES = {
    3: "permission denied",  # SQLITE_PERM
    8: "it is read-only",  # SQLITE_READONLY
    13: "the disk is full",  # SQLITE_FULL
    14: "a file cannot be created there",  # SQLITE_CANTOPEN
}
OS_WRITE_FAILURES = {
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "it is read-only",
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
}


def write_failure(err: BaseException) -> str | None:
    """Why writing to disk failed, when the place is at fault (read-only, full); else None."""
    if isinstance(err, OSError):
        return OS_WRITE_FAILURES.get(err.errno or 0)
    if isinstance(err, sqlite3.Error):
        return SQLITE_WRITE_FAILURES.get((getattr(err, "sqlite_errorcode", 0) or 0) & 0xFF)
    return None
