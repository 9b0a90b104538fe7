"""The fast path for well-formed /predict bodies: JSON decoded and validated in one pass.

msgspec checks a body against the same fields, types and bounds as contract.py's models,
several times faster than parsing the JSON and validating it with pydantic. It is stricter
(no "30" for an integer, no 30.0 for an integer): a body it refuses goes through pydantic,
which gives the exact 422 or accepts the lax value. So a request is either accepted here with
the values pydantic would give, or answered exactly as before; the generated tests prove it.
"""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Sequence
from functools import lru_cache
from typing import Annotated, Any, Literal

import msgspec

from ..schema import Column
from .contract import MAX_TEXT, RECORD_COLUMNS, bounds

log = logging.getLogger(__name__)

# finite bounds on every float refuse what the JSON spells too large to hold (1e400 decodes to inf)
LARGEST_FLOAT = sys.float_info.max


def _annotation(column: Column) -> Any:
    """The column's type with its bounds or allowed values, as msgspec checks them."""
    if column.allowed is not None:
        return Literal[column.allowed]
    if column.dtype == "float":
        low, high = bounds(column)
        low = -LARGEST_FLOAT if low is None else low
        high = LARGEST_FLOAT if high is None else high
        return Annotated[float, msgspec.Meta(ge=low, le=high)]
    if column.dtype == "int":  # msgspec wants integer bounds: 2006.5 <= x is 2007 <= x for an integer
        low, high = bounds(column)
        return Annotated[int, msgspec.Meta(ge=math.ceil(low), le=math.floor(high))]
    return Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TEXT)]


def record_struct(columns: Sequence[Column]) -> type[msgspec.Struct]:
    """A struct of the columns: unknown fields refused, nullable ones defaulting to None.

    Its attributes are field_0, field_1, ... each renamed to its column in the JSON, so that any
    column name (a keyword, a name msgspec keeps for itself) decodes.
    """
    attributes = {f"field_{i}": column for i, column in enumerate(columns)}
    fields = [
        (attribute, _annotation(column) | None, None) if column.nullable else (attribute, _annotation(column))
        for attribute, column in attributes.items()
    ]
    rename = {attribute: column.name for attribute, column in attributes.items()}
    return msgspec.defstruct("FastRecord", fields, kw_only=True, forbid_unknown_fields=True, rename=rename)


def _fast_record() -> type[msgspec.Struct] | None:
    try:
        return record_struct(RECORD_COLUMNS)
    except (TypeError, ValueError) as reason:  # a contract msgspec cannot express: pydantic checks every body
        log.warning("every request is validated by pydantic (slower): %s", reason)
        return None


FAST_RECORD = _fast_record()


class DecodedRecords(list[dict[str, Any]]):
    """The records of a body the fast path accepted, pickled as that body: unpickling decodes it again.

    The prediction log sends every answered request to its writer process. Pickling a
    1,000-record batch dict by dict cost the serving process more than decoding it had; the
    body goes down the pipe as one copy, and the writer process gets the same records back.
    """

    __slots__ = ("body", "max_rows")

    def __init__(self, records: list[dict[str, Any]], body: bytes, max_rows: int) -> None:
        super().__init__(records)
        self.body, self.max_rows = body, max_rows

    def __reduce__(self) -> tuple[Any, ...]:
        return decode_again, (self.body, self.max_rows)


def decode_again(body: bytes, max_rows: int) -> DecodedRecords:
    """The records of a body the fast path accepted before (in this process or its parent)."""
    records = decode_records(body, max_rows)
    if not isinstance(records, DecodedRecords):
        raise ValueError("a body the fast path accepted no longer decodes (the data contract changed)")
    return records


@lru_cache(maxsize=4)
def request_decoder(record: type[msgspec.Struct], max_rows: int) -> msgspec.json.Decoder[Any]:
    """A decoder of {"records": [...]} holding 1 to max_rows records."""
    request = msgspec.defstruct(
        "FastRequest",
        [("records", Annotated[list[record], msgspec.Meta(min_length=1, max_length=max_rows)])],  # type: ignore[valid-type]
        forbid_unknown_fields=True,
    )
    return msgspec.json.Decoder(request)


def decode_records(
    body: bytes, max_rows: int, record: type[msgspec.Struct] | None = FAST_RECORD
) -> list[dict[str, Any]] | None:
    """The body's records as dicts keyed by column, or None when the fast path refuses it (pydantic then decides).

    With the contract's own struct, they are DecodedRecords (they pickle as the body).
    """
    if record is None:
        return None
    try:
        request = request_decoder(record, max_rows).decode(body)
    except msgspec.DecodeError:  # also every validation error
        return None
    records = msgspec.to_builtins(request.records)
    return DecodedRecords(records, bytes(body), max_rows) if record is FAST_RECORD else records
