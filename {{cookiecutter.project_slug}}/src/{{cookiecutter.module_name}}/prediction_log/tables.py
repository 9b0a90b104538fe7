"""The log's tables, derived from the data contract: one column per id and feature of a request.

The types are spelled so that SQLite and PostgreSQL read them alike; statements use `?` and a
PostgreSQL store swaps in its own placeholder.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from ..schema import ID, MODEL_INPUT

PRIMARY, SHADOW = "primary", "shadow"  # roles of logged rows: the answer the client got, a shadow's copy
SQL_TYPES = {"int": "bigint", "float": "double precision", "category": "text", "datetime": "text"}
LOGGED = [c for c in MODEL_INPUT.columns if c.role in ("id", "feature") and c.name != ID]  # what a request carries
FEATURE_COLUMNS = [column.name for column in LOGGED]
PREDICTION_COLUMNS = [
    "request_id",
    "row",
    "served_at",
    "model_version",
    "role",
    "probability",
    "label",
    *([ID] if ID else []),
    *FEATURE_COLUMNS,
]
FEEDBACK_COLUMNS = ["request_id", "row", "label", "received_at"]
_LOGGED_DDL = "".join(
    f',\n    "{c.name}" {SQL_TYPES[c.dtype]}' for c in ([MODEL_INPUT.column(ID)] if ID else []) + LOGGED
)
TABLES = (
    f"""create table if not exists predictions (
    request_id text not null,
    row integer not null,
    served_at double precision not null,
    model_version text not null,
    role text not null,
    probability double precision not null,
    label integer not null{_LOGGED_DDL}
)""",
    "create index if not exists predictions_request on predictions (request_id)",
    """create table if not exists feedback (
    request_id text not null,
    row integer not null,
    label integer not null,
    received_at double precision not null
)""",
    "create index if not exists feedback_request on feedback (request_id)",
)


def column_list(columns: list[str]) -> str:
    """Columns named, quoted: a later migration may add some, and contract names may be keywords."""
    return ", ".join(f'"{name}"' for name in columns)


def insert(table: str, columns: list[str]) -> str:
    return f"insert into {table} ({column_list(columns)}) values ({', '.join('?' * len(columns))})"


PREDICTION = insert("predictions", PREDICTION_COLUMNS)
FEEDBACK = insert("feedback", FEEDBACK_COLUMNS)

_LOGGED_NAMES = [*([ID] if ID else []), *FEATURE_COLUMNS]
Values = Callable[[dict[str, Any]], tuple[Any, ...]]


def _getter(names: list[str]) -> Values:
    """The values of these keys as a tuple, in one call (itemgetter gives a bare value for one name)."""
    if len(names) == 1:
        return lambda record: (record[names[0]],)
    return itemgetter(*names)


_logged_values = _getter(_LOGGED_NAMES)


def _values_or_null(record: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(map(record.get, _LOGGED_NAMES))


Models = Sequence[tuple[str, str]]  # (model version, role) per record


def prediction_rows(
    request_id: str,
    served_at: float,
    records: list[dict[str, Any]],
    probabilities: list[float],
    labels: list[int],
    models: Models,
) -> list[tuple[Any, ...]]:
    """One row per record, in PREDICTION_COLUMNS order: answer and model, then the id and every feature.

    A validated record has every field, read in one call; a record missing some is read field by field.
    """

    def rows(values: Values) -> list[tuple[Any, ...]]:
        return [
            (request_id, i, served_at, version, role, probability, label, *values(record))
            for i, (record, probability, label, (version, role)) in enumerate(
                zip(records, probabilities, labels, models, strict=True)
            )
        ]

    try:
        return rows(_logged_values)
    except KeyError:
        return rows(_values_or_null)
