"""Request and response models, derived from the data contract in schema.py.

Each model-input feature (and the id) becomes a typed, bounded field, so the
service refuses exactly what validation would refuse, with the field named in the error.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, TypeAdapter, create_model
from typing_extensions import TypedDict  # pydantic needs this TypedDict before Python 3.12

from ..schema import ID, MODEL_INPUT, Column

PYTHON_TYPES: dict[str, Any] = {"int": int, "float": float, "category": str, "datetime": str}
MAX_TEXT = 256  # longest free-text value (e.g. a string id) a record may carry
INT64 = (-(2**63), 2**63 - 1)  # what the prediction log (SQLite INTEGER) and the model's arrays hold
REQUEST_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"
MAX_LABELS = 10_000


def bounds(column: Column) -> tuple[Any, Any]:
    """The column's range; integers are also held to 64 bits, so every accepted value can be stored."""
    if column.dtype != "int":
        return column.min, column.max
    low = INT64[0] if column.min is None else max(column.min, INT64[0])
    high = INT64[1] if column.max is None else min(column.max, INT64[1])
    return low, high


def record_field(column: Column) -> tuple[Any, Any]:
    """A pydantic field with the column's type, bounds or allowed values."""
    if column.allowed is not None:
        annotation: Any = Literal[column.allowed]
    else:
        low, high = bounds(column)
        constraint = (
            Field(ge=low, le=high, allow_inf_nan=False if column.dtype == "float" else None)
            if column.numeric
            else Field(min_length=1, max_length=MAX_TEXT)
        )
        annotation = Annotated[PYTHON_TYPES[column.dtype], constraint]
    if column.nullable:
        return annotation | None, Field(default=None, description=column.description)
    return annotation, Field(description=column.description)


RECORD_COLUMNS = [column for column in MODEL_INPUT.columns if column.role in ("id", "feature")]

Record = create_model(
    "Record",
    __config__=ConfigDict(extra="forbid"),
    **{column.name: record_field(column) for column in RECORD_COLUMNS},
)


def _annotated(column: Column) -> Any:
    annotation, field = record_field(column)
    return Annotated[annotation, field]  # a nullable field's default (None) fills an absent key, as in Record


# the same fields and errors as Record, validated into plain dicts: no model objects to build and dump
RecordFields = TypedDict("RecordFields", {column.name: _annotated(column) for column in RECORD_COLUMNS})  # type: ignore[misc]
RecordFields.__pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[attr-defined]


class RequestFields(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]
    records: Annotated[list[RecordFields], Field(min_length=1)]  # type: ignore[valid-type]


REQUEST = TypeAdapter(RequestFields)


class PredictRequest(BaseModel):
    """A batch of records to score."""

    model_config = ConfigDict(extra="forbid")
    records: list[Record] = Field(min_length=1)  # type: ignore[valid-type]


class Prediction(BaseModel):
    label: int
    probability: float
    model_version: str = Field(description="Version of the model that answered this record")


class PredictResponse(BaseModel):
    predictions: list[Prediction]
    model_version: str
    request_id: str


class FeedbackRequest(BaseModel):
    """Ground truth for an earlier prediction: one label (the integer 0 or 1) per record, in request order."""

    model_config = ConfigDict(extra="forbid")
    request_id: str = Field(pattern=REQUEST_ID_PATTERN, description="The request_id the prediction was answered with")
    labels: list[Annotated[int, Strict(), Field(ge=0, le=1)]] = Field(min_length=1, max_length=MAX_LABELS)


class FeedbackResponse(BaseModel):
    request_id: str
    accepted: int = Field(description="Labels stored by this call: 0 when the same labels were already recorded")
    already_recorded: bool


class FieldError(BaseModel):
    field: str = Field(description="Path of the field, e.g. records.3.age")
    reason: str
    type: str


class ValidationErrors(BaseModel):
    """422: what is wrong with which field; the submitted values are never echoed.

    At most 20 errors are listed; a last entry of type `too_many_errors` counts the rest.
    """

    detail: list[FieldError]
    request_id: str


class ErrorMessage(BaseModel):
    """4xx/5xx answers other than validation: the reason and the request id."""

    detail: str
    request_id: str


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error answers an endpoint can give."""
    return {status: {"model": ValidationErrors if status == 422 else ErrorMessage} for status in statuses}


ROUTING_KEY = ID
