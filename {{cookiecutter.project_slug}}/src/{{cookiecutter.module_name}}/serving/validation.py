"""Bounded validation: the work done on a request body, and the size of the answer, do not grow with it.

Left to itself, validation reports every error: 100,000 empty records in a 300 KB body make
1.5 million errors, seconds of CPU for every client, gigabytes of memory and a 130 MB answer.
Here a body is parsed once, its rows are counted before any is validated (413 beyond the
limit), a record with far more fields than the contract has is refused before it is validated,
and an answer lists at most MAX_ERRORS errors and says how many more there were.

No answer repeats what the client sent: values never, field names only when the data
contract knows them (an unknown name is chosen by the client and can be a megabyte long).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails, from_json

from ..schema import MODEL_INPUT
from .contract import RECORD_COLUMNS, REQUEST, PredictRequest, Record
from .decoding import decode_records

MAX_ERRORS = 20
CONTRACT_NAMES = frozenset(column.name for column in MODEL_INPUT.columns)
RECORD_FIELDS = len(RECORD_COLUMNS)
# a record with more keys than this is refused unvalidated (every unknown key would be an error);
# a few extra keys (a sensitive column sent by mistake) still get an error each
MAX_RECORD_KEYS = 2 * RECORD_FIELDS
UNKNOWN_FIELD = "a field the request schema does not have (its name is not repeated)"


class Refused(ValueError):
    """A request the service does not process: the status and what to tell the client."""

    def __init__(self, status: int, detail: str | list[dict[str, Any]]) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


def error_entry(field: str, reason: str, kind: str) -> dict[str, Any]:
    return {"field": field, "reason": reason, "type": kind}


def plain_errors(error: ValidationError) -> list[ErrorDetails]:
    """The errors without the submitted values (or documentation links)."""
    return error.errors(include_url=False, include_context=False, include_input=False)


def _entry(error: ErrorDetails, prefix: Sequence[str | int] = ()) -> dict[str, Any]:
    """One pydantic error as field, reason and type, without the client's unknown field names."""
    location = [*prefix, *(part for part in error["loc"] if part != "body")]
    reason = error["msg"]
    if error["type"] == "extra_forbidden" and location and location[-1] not in CONTRACT_NAMES:
        location, reason = location[:-1], UNKNOWN_FIELD
    return error_entry(".".join(map(str, location)) or "body", reason, error["type"])


def capped(entries: Sequence[dict[str, Any]], total: int) -> list[dict[str, Any]]:
    """The first MAX_ERRORS entries, and one that counts the rest."""
    shown = list(entries[:MAX_ERRORS])
    if total > len(shown):
        shown.append(error_entry("body", f"{total - len(shown)} more errors not listed", "too_many_errors"))
    return shown


def error_detail(errors: Sequence[ErrorDetails]) -> list[dict[str, Any]]:
    """The errors of a validation the framework ran, as the 422 detail."""
    return capped([_entry(error) for error in errors[:MAX_ERRORS]], len(errors))


def as_text(detail: str | list[dict[str, Any]]) -> str:
    """A detail as one line, for answers whose error is a string (the Open Inference Protocol's)."""
    if isinstance(detail, str):
        return detail
    return "; ".join(f"{entry['field']}: {entry['reason']}" for entry in detail)


def parse_json(body: bytes) -> Any:
    try:
        return from_json(body)
    except ValueError as error:  # the parser's message gives a position, never the text
        raise Refused(422, [error_entry("body", f"invalid JSON: {error}", "json_invalid")]) from None


def _record_errors(error: ValidationError, records: Any) -> list[dict[str, Any]]:
    """The first errors, in record order, without building the whole list of a large failure."""
    total = error.error_count()
    if total <= MAX_ERRORS or not isinstance(records, list):
        return capped([_entry(entry) for entry in plain_errors(error)], total)
    found: list[dict[str, Any]] = []
    for index, record in enumerate(records):
        try:
            Record.model_validate(record)
        except ValidationError as invalid:  # at most two per field: each record is small by now
            found += [_entry(entry, ("records", index)) for entry in plain_errors(invalid)]
            if len(found) >= MAX_ERRORS:
                break
    return capped(found, total)


def read_predict_request(
    body: bytes, max_rows: int, complete: Callable[[list[Any]], list[Any]] | None = None
) -> list[dict[str, Any]]:
    """The records of a /predict body, or Refused with a bounded answer.

    `complete` (the feature store's lookup, where the project has one) replaces records that
    hold only the id by the stored features, before every record is validated the same way.
    Without it, a well-formed body takes the fast path (decoding.py).
    """
    if complete is None and (records := decode_records(body, max_rows)) is not None:
        return records
    data = parse_json(body)
    if isinstance(data, dict) and len(data) > len(PredictRequest.model_fields):
        extra = len(data.keys() - PredictRequest.model_fields.keys())
        raise Refused(
            422, [error_entry("body", f"{extra} field(s) the request schema does not have", "extra_forbidden")]
        )
    records = data.get("records") if isinstance(data, dict) else None
    if isinstance(records, list):
        if len(records) > max_rows:
            raise Refused(413, f"{len(records)} records is more than the limit of {max_rows}")
        oversized = [
            error_entry(
                f"records.{index}", f"{len(record)} fields; the data contract has {RECORD_FIELDS}", "extra_forbidden"
            )
            for index, record in enumerate(records)
            if isinstance(record, dict) and len(record) > MAX_RECORD_KEYS
        ]
        if oversized:
            raise Refused(422, capped(oversized, len(oversized)))
        if complete is not None:
            data = {**data, "records": complete(records)}
    try:
        request = REQUEST.validate_python(data)
    except ValidationError as error:
        raise Refused(422, _record_errors(error, records)) from None
    return request["records"]
