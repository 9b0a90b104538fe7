"""The log in one SQLite file: the default, for one service process on one machine."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

from .migrations import apply_pending
from .store import LogUnavailable
from .tables import FEEDBACK, PREDICTION

log = logging.getLogger(__name__)

BUSY_SECONDS = 1.0  # how long one write waits for a lock before it counts as failed and is retried
# a value SQLite refuses (an integer beyond 64 bits, a lone surrogate, a NaN probability):
# the row is at fault, not the storage, so it is dropped alone and never retried
ROW_ERRORS = (
    OverflowError,
    UnicodeEncodeError,
    ValueError,
    TypeError,
    sqlite3.IntegrityError,
    sqlite3.InterfaceError,
    sqlite3.DataError,
)


class SQLiteStore:
    """One connection for writes, reopened if the file is removed or replaced; short read-only ones for reads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db, self._inode = self._open()  # a log that cannot be created stops the service at start

    def __str__(self) -> str:
        return str(self.path)

    def _open(self) -> tuple[sqlite3.Connection, int]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():  # a new file must not adopt the write-ahead log of a removed one
            for suffix in ("-wal", "-shm"):
                self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
        db = sqlite3.connect(self.path, timeout=BUSY_SECONDS, check_same_thread=False)
        try:
            db.execute("pragma journal_mode=wal")
            _migrate(db)
            return db, os.stat(self.path).st_ino
        except BaseException:
            db.close()
            raise

    def _connection(self) -> sqlite3.Connection:
        """The open connection, reopened if its file was removed or replaced (rows must not go to a deleted file)."""
        try:
            same = os.stat(self.path).st_ino == self._inode
        except FileNotFoundError:
            same = False
        if not same:
            log.warning("prediction log %s was removed or replaced: starting a new file", self.path)
            self._db.close()
            self._inode = -1  # until a new file is open, never mistake another for it
            self._db, self._inode = self._open()
        return self._db

    def write(self, predictions: list[tuple[Any, ...]], feedback: list[tuple[Any, ...]]) -> int:
        db = self._connection()
        try:
            with db:
                db.executemany(PREDICTION, predictions)
                db.executemany(FEEDBACK, feedback)
            return 0
        except ROW_ERRORS:
            refused = 0
            with db:
                for statement, rows in ((PREDICTION, predictions), (FEEDBACK, feedback)):
                    for row in rows:
                        try:
                            db.execute(statement, row)
                        except ROW_ERRORS:
                            refused += 1
            return refused

    def read(self, query: str, parameters: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        if not self.path.exists():  # removed: it holds nothing, and the writer starts it anew
            return []
        try:
            with sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_SECONDS) as db:
                return db.execute(query, parameters).fetchall()
        except sqlite3.OperationalError as error:
            if "no such table" in str(error):  # a new file whose tables are being created
                return []
            raise LogUnavailable(f"the prediction log cannot be read ({error})") from error
        except sqlite3.Error as error:
            raise LogUnavailable(f"the prediction log cannot be read ({error})") from error

    def close(self) -> None:
        self._db.close()


def _migrate(db: sqlite3.Connection) -> None:
    """Apply the pending migrations in one immediate transaction: one process migrates, the others wait."""
    db.execute("begin immediate")
    try:
        apply_pending(db, "?")
        db.commit()
    except BaseException:
        db.rollback()
        raise
