"""The log's tables, derived from the data contract: one column per id and feature of a request."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..schema import ID, MODEL_INPUT

PRIMARY, SHADOW = "primary", "shadow"  # roles of logged rows: the answer the client got, a shadow's copy
SQL_TYPES = {"int": "integer", "float": "real", "category": "text", "datetime": "text"}
ID_DDL = f'    "{ID}" {SQL_TYPES[MODEL_INPUT.column(ID).dtype]},\n' if ID else ""
LOGGED = [c for c in MODEL_INPUT.columns if c.role in ("id", "feature") and c.name != ID]  # what a request carries
FEATURE_COLUMNS = [column.name for column in LOGGED]
FEATURE_DDL = ",\n".join(f'    "{c.name}" {SQL_TYPES[c.dtype]}' for c in LOGGED)
SCHEMA = f"""
create table if not exists predictions (
    request_id text not null,
    row integer not null,
    served_at real not null,
    model_version text not null,
    role text not null,
    probability real not null,
    label integer not null,
{ID_DDL}{FEATURE_DDL}
);
create index if not exists predictions_request on predictions (request_id);
create table if not exists feedback (
    request_id text not null,
    row integer not null,
    label integer not null,
    received_at real not null
);
create index if not exists feedback_request on feedback (request_id);
"""
PREDICTION = f"insert into predictions values ({', '.join('?' * (7 + bool(ID) + len(FEATURE_COLUMNS)))})"
FEEDBACK = "insert into feedback values (?, ?, ?, ?)"

Models = Sequence[tuple[str, str]]  # (model version, role) per record


def prediction_rows(
    request_id: str,
    served_at: float,
    records: list[dict[str, Any]],
    probabilities: list[float],
    labels: list[int],
    models: Models,
) -> list[tuple[Any, ...]]:
    """One row per record: answer and the model that gave it, then the id and every feature in its own column."""
    return [
        (
            request_id,
            i,
            served_at,
            version,
            role,
            probability,
            label,
            *([record.get(ID)] if ID else []),
            *map(record.get, FEATURE_COLUMNS),
        )
        for i, (record, probability, label, (version, role)) in enumerate(
            zip(records, probabilities, labels, models, strict=True)
        )
    ]
