"""The fast path for well-formed /predict bodies: JSON decoded and validated in one pass.

msgspec checks a body against the same fields, types and bounds as contract.py's models,
several times faster than parsing the JSON and validating it with pydantic. It is stricter
(no "30" for an integer, no 30.0 for an integer): a body it refuses goes through pydantic,
which gives the exact 422 or accepts the lax value. So a request is either accepted here with
the values pydantic would give, or answered exactly as before; the generated tests prove it.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from typing import Annotated, Any, Literal

import msgspec

from ..schema import Column
from .contract import MAX_TEXT, RECORD_COLUMNS, bounds

# finite bounds on every float refuse what the JSON spells too large to hold (1e400 decodes to inf)
LARGEST_FLOAT = sys.float_info.max


def _field(column: Column) -> tuple[Any, ...]:
    """A msgspec field with the column's type, bounds or allowed values; nullable fields default to None."""
    if column.allowed is not None:
        annotation: Any = Literal[column.allowed]
    elif column.dtype == "float":
        low, high = bounds(column)
        low = -LARGEST_FLOAT if low is None else low
        high = LARGEST_FLOAT if high is None else high
        annotation = Annotated[float, msgspec.Meta(ge=low, le=high)]
    elif column.dtype == "int":
        low, high = bounds(column)
        annotation = Annotated[int, msgspec.Meta(ge=low, le=high)]
    else:
        annotation = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TEXT)]
    if column.nullable:
        return column.name, annotation | None, None
    return column.name, annotation


FastRecord = msgspec.defstruct(
    "FastRecord", [_field(column) for column in RECORD_COLUMNS], kw_only=True, forbid_unknown_fields=True
)


@lru_cache(maxsize=4)
def request_decoder(max_rows: int) -> msgspec.json.Decoder[Any]:
    """A decoder of {"records": [...]} holding 1 to max_rows records."""
    request = msgspec.defstruct(
        "FastRequest",
        [("records", Annotated[list[FastRecord], msgspec.Meta(min_length=1, max_length=max_rows)])],  # type: ignore[valid-type]
        forbid_unknown_fields=True,
    )
    return msgspec.json.Decoder(request)


def decode_records(body: bytes, max_rows: int) -> list[dict[str, Any]] | None:
    """The body's records as dicts, or None when the fast path refuses it (pydantic then decides)."""
    try:
        request = request_decoder(max_rows).decode(body)
    except msgspec.DecodeError:  # also every validation error
        return None
    return [msgspec.structs.asdict(record) for record in request.records]
