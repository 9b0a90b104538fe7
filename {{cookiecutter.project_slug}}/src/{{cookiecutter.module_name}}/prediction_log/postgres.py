"""The log in PostgreSQL: one database that every replica writes and monitoring reads.

Batches go in with COPY, one transaction each. A database that is down or restarting is a
storage fault like a locked file: the writer keeps the batch, retries with backoff and
reconnects. Columns are named after the data contract; PostgreSQL cuts names beyond 63 bytes,
so such a contract is refused rather than logged under clipped names.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from psycopg import conninfo, errors

from .migrations import LOCK_KEY, apply_pending
from .store import LogUnavailable, describe
from .tables import FEEDBACK, FEEDBACK_COLUMNS, PREDICTION, PREDICTION_COLUMNS, column_list

log = logging.getLogger(__name__)

# a dead server or network must fail a write within seconds, so the writer can retry and report it
CONNECTION_DEFAULTS = {"connect_timeout": "5", "keepalives_idle": "10", "tcp_user_timeout": "15000"}
MAX_NAME_BYTES = 63
# a value PostgreSQL refuses (an integer beyond 64 bits, a NUL character, a lone surrogate)
ROW_ERRORS = (errors.DataError, errors.IntegrityError, OverflowError, UnicodeEncodeError, ValueError, TypeError)


def _copy(table: str, columns: list[str]) -> str:
    return f"copy {table} ({column_list(columns)}) from stdin"


class PostgresStore:
    """A writer connection (the writer process's) and a reader connection (feedback checks, one at a time)."""

    def __init__(self, url: str) -> None:
        try:
            given = conninfo.conninfo_to_dict(url)
        except psycopg.ProgrammingError as error:
            raise ValueError(f"PREDICTION_LOG is not a PostgreSQL URL libpq accepts: {error}") from None
        too_long = [name for name in PREDICTION_COLUMNS if len(name.encode()) > MAX_NAME_BYTES]
        if too_long:
            raise ValueError(f"PostgreSQL cannot name a column {too_long[0]!r}: names are at most 63 bytes")
        defaults = {key: value for key, value in CONNECTION_DEFAULTS.items() if key not in given}
        self.url = conninfo.make_conninfo(url, **defaults)
        self.name = describe(url)
        self._db: psycopg.Connection[Any] | None = None
        self._reader: psycopg.Connection[Any] | None = None
        try:
            self._connection()
        except psycopg.OperationalError as error:  # rows wait in the queue until it is up
            log.error("prediction log %s is unreachable at start; rows wait for it: %s", self.name, error)

    def __str__(self) -> str:
        return self.name

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url, autocommit=True)

    def _connection(self) -> psycopg.Connection[Any]:
        """The writer's connection, opened (and the schema migrated) again after a lost one."""
        if self._db is None or self._db.closed or self._db.broken:
            if self._db is not None:
                self._db.close()
                self._db = None
            db = self._connect()
            try:
                _migrate(db)
            except BaseException:
                db.close()
                raise
            self._db = db
        return self._db

    def write(self, predictions: list[tuple[Any, ...]], feedback: list[tuple[Any, ...]]) -> int:
        db = self._connection()
        batches = (("predictions", PREDICTION_COLUMNS, predictions), ("feedback", FEEDBACK_COLUMNS, feedback))
        try:
            with db.transaction(), db.cursor() as cursor:
                for table, columns, rows in batches:
                    if rows:
                        with cursor.copy(_copy(table, columns)) as copy:
                            for row in rows:
                                copy.write_row(row)
            return 0
        except ROW_ERRORS:
            pass
        refused = 0  # one savepoint per row: a refused value rolls back its row alone
        with db.transaction(), db.cursor() as cursor:
            for statement, rows in ((PREDICTION, predictions), (FEEDBACK, feedback)):
                for row in rows:
                    try:
                        with db.transaction():
                            cursor.execute(statement.replace("?", "%s"), row)
                    except ROW_ERRORS:
                        refused += 1
        return refused

    def read(self, query: str, parameters: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        try:
            try:
                return self._read(query, parameters)
            except psycopg.OperationalError:  # the connection may have been lost since the last read: once more
                return self._read(query, parameters, reconnect=True)
        except errors.UndefinedTable:  # no replica has written yet
            return []
        except psycopg.Error as error:
            raise LogUnavailable(f"the prediction log {self.name} cannot be read ({error})") from error

    def _read(self, query: str, parameters: tuple[Any, ...], reconnect: bool = False) -> list[tuple[Any, ...]]:
        if reconnect or self._reader is None or self._reader.closed or self._reader.broken:
            if self._reader is not None:
                self._reader.close()
            self._reader = self._connect()
        return self._reader.execute(query.replace("?", "%s"), parameters).fetchall()

    def close(self) -> None:
        for connection in (self._db, self._reader):
            if connection is not None:
                connection.close()


def _migrate(db: psycopg.Connection[Any]) -> None:
    """Apply the pending migrations under an advisory lock: replicas starting together migrate once."""
    with db.transaction():
        db.execute("select pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        apply_pending(db, "%s")
