"""The log's schema history: each store applies the migrations it has not recorded, in order.

Replicas starting together take a lock first (SQLite: an immediate transaction; PostgreSQL: an
advisory lock), so each migration runs once. A log written by newer code is refused, not altered.
A log made before migrations were recorded holds migration 1's tables already: it is idempotent.
"""

from __future__ import annotations

import logging
import time
from typing import Any, NamedTuple, Protocol

from .tables import TABLES

log = logging.getLogger(__name__)

LOCK_KEY = 0x70726564  # PostgreSQL advisory lock of the log's migrations ("pred")
HISTORY = """create table if not exists schema_migrations (
    version integer primary key,
    description text not null,
    applied_at double precision not null
)"""


class Migration(NamedTuple):
    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS = (
    Migration(1, "predictions and feedback, one column per id and feature", TABLES),
    Migration(
        2,
        "answers indexed by time: monitoring reads the newest window",
        ("create index if not exists predictions_served_at on predictions (served_at)",),
    ),
)


class SchemaTooNew(RuntimeError):
    """The log was migrated by a newer version of the project."""


def pending(applied: set[int]) -> list[Migration]:
    """The migrations still to apply; refuses a log that knows migrations this code does not."""
    newest = MIGRATIONS[-1].version
    if unknown := sorted(version for version in applied if version > newest):
        raise SchemaTooNew(
            f"the prediction log has schema migration {unknown[-1]}, newer than this code's {newest}: "
            "upgrade the project before writing to it"
        )
    return [migration for migration in MIGRATIONS if migration.version not in applied]


class Connection(Protocol):
    """What both drivers' connections offer: `execute` returning a cursor."""

    def execute(self, statement: str, parameters: Any = ..., /) -> Any: ...


def apply_pending(db: Connection, placeholder: str) -> None:
    """Apply and record the pending migrations; the caller holds the lock and the transaction."""
    db.execute(HISTORY)
    applied = {version for (version,) in db.execute("select version from schema_migrations").fetchall()}
    for migration in pending(applied):
        for statement in migration.statements:
            db.execute(statement)
        db.execute(
            f"insert into schema_migrations values ({', '.join([placeholder] * 3)})",
            (migration.version, migration.description, time.time()),
        )
        log.info("prediction log: applied migration %d (%s)", migration.version, migration.description)
