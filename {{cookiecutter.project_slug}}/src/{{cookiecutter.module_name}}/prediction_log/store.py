"""Where the log lives: PREDICTION_LOG is a SQLite file (one machine) or a postgresql:// URL.

A file suits one service process and a laptop; with several replicas every one writes to the
same PostgreSQL database, so that feedback, drift and retraining see all the answers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

URL_SCHEMES = ("postgresql", "postgres")


class LogUnavailable(RuntimeError):
    """The log cannot be read: feedback cannot be checked against it, monitoring has no window."""


class Store(Protocol):
    """What the writer needs of a database; `write` and `read` raise on a storage fault."""

    def write(self, predictions: list[tuple[Any, ...]], feedback: list[tuple[Any, ...]]) -> int:
        """Commit the rows in one transaction; the number of rows refused for their values."""

    def read(self, query: str, parameters: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """Rows of a query with `?` placeholders; empty when the log holds no table yet."""

    def close(self) -> None: ...


def is_url(target: str | Path) -> bool:
    return isinstance(target, str) and urlsplit(target).scheme in URL_SCHEMES


def describe(target: str | Path) -> str:
    """The target for logs and reports: a URL's password masked."""
    if not is_url(target):
        return str(target)
    parts = urlsplit(str(target))
    if parts.password is None:
        return str(target)
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def open_store(target: str | Path) -> Store:
    """The store behind PREDICTION_LOG; a file that cannot be created or a malformed URL raises here."""
    if is_url(target):
        from .postgres import PostgresStore

        return PostgresStore(str(target))
    from .sqlite import SQLiteStore

    return SQLiteStore(Path(target))
