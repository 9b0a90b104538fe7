"""The Open Inference Protocol (KServe v2 REST), so KServe, Seldon and Triton clients work unchanged.

Inputs are one tensor per contract column (shape [n] or [n, 1]); outputs are `probability`
(FP64) and `label` (INT64). Errors follow the protocol: HTTP 400 with {"error": reason}.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .contract import RECORD_COLUMNS, Record, error_responses

router = APIRouter(prefix="/v2", tags=["open inference protocol"])
MODEL_NAME = "{{ cookiecutter.module_name }}"
DATATYPES = {"int": "INT64", "float": "FP64", "category": "BYTES"}


class ProtocolError(BaseModel):
    """The protocol's error body."""

    error: str


PROTOCOL_ERRORS: dict[int | str, dict[str, Any]] = {
    **{status: {"model": ProtocolError} for status in (400, 404)},
    **error_responses(413, 415, 422, 503),
}


ANY_OBJECT = {"type": "object"}
NOT_READY_MEDIA = {"schema": ANY_OBJECT}
NOT_READY_CONTENT = {"application/json": NOT_READY_MEDIA}
NOT_READY_ANSWER = {"description": "Not ready", "content": NOT_READY_CONTENT}
NOT_READY: dict[int | str, dict[str, Any]] = {503: NOT_READY_ANSWER}


class InferTensor(BaseModel):
    name: str
    shape: list[int]
    datatype: str
    data: list[Any]
    parameters: dict[str, Any] | None = None


class InferRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str | None = None
    inputs: list[InferTensor] = Field(min_length=1)
    parameters: dict[str, Any] | None = None


def protocol_error(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=status)


def _records(inputs: list[InferTensor]) -> list[dict[str, Any]]:
    """Columns in, records out, checked against the same contract as /predict."""
    columns = {tensor.name: tensor.data for tensor in inputs}
    missing = [column.name for column in RECORD_COLUMNS if column.name not in columns]
    if missing:
        raise ValueError(f"missing input tensor(s): {', '.join(missing)}")
    lengths = {len(values) for values in columns.values()}
    if len(lengths) != 1:
        raise ValueError("all input tensors must hold the same number of rows")
    rows = [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]
    return [Record.model_validate(row).model_dump() for row in rows]


@router.get("/health/live")
async def server_live() -> dict[str, bool]:
    return {"live": True}


@router.get("/health/ready", responses=NOT_READY)
async def server_ready(request: Request) -> JSONResponse:
    ready = request.app.state.service.ready
    return JSONResponse({"ready": ready}, status_code=200 if ready else 503)


@router.get("")
async def server_metadata() -> dict[str, Any]:
    return {"name": "{{ cookiecutter.project_slug }}", "version": "0.1.0", "extensions": []}


def _metadata(service: Any) -> dict[str, Any]:
    return {
        "name": MODEL_NAME,
        "versions": [service.version],
        "platform": "{{ 'pytorch' if cookiecutter.__torch else 'sklearn' }}",
        "inputs": [
            {"name": column.name, "datatype": DATATYPES[column.dtype], "shape": [-1]} for column in RECORD_COLUMNS
        ],
        "outputs": [
            {"name": "probability", "datatype": "FP64", "shape": [-1]},
            {"name": "label", "datatype": "INT64", "shape": [-1]},
        ],
    }


@router.get("/models/{name}", response_model=None, responses=PROTOCOL_ERRORS)
async def model_metadata(name: str, request: Request) -> JSONResponse | dict[str, Any]:
    if name != MODEL_NAME:
        return protocol_error(404, f"unknown model {name!r}; this server serves {MODEL_NAME!r}")
    return _metadata(request.app.state.service)


@router.get("/models/{name}/ready", response_model=None, responses=PROTOCOL_ERRORS)
async def model_ready(name: str, request: Request) -> JSONResponse | dict[str, Any]:
    if name != MODEL_NAME:
        return protocol_error(404, f"unknown model {name!r}")
    ready = request.app.state.service.ready
    return JSONResponse({"name": MODEL_NAME, "ready": ready}, status_code=200 if ready else 503)


@router.post("/models/{name}/infer", response_model=None, responses=PROTOCOL_ERRORS)
async def infer(name: str, body: InferRequest, request: Request) -> JSONResponse | dict[str, Any]:
    service = request.app.state.service
    if name != MODEL_NAME:
        return protocol_error(404, f"unknown model {name!r}")
    try:
        records = _records(body.inputs)
    except ValidationError as error:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        return protocol_error(400, reasons)
    except ValueError as error:
        return protocol_error(400, str(error))
    if len(records) > service.settings.max_rows:
        return protocol_error(413, f"{len(records)} rows is more than the limit of {service.settings.max_rows}")
    scored = await service.predict(records, request.state.request_id)
    request.state.model_version = scored.model_version
    rows = len(records)
    return {
        "model_name": MODEL_NAME,
        "model_version": scored.model_version,
        "id": body.id or scored.request_id,
        "outputs": [
            {"name": "probability", "datatype": "FP64", "shape": [rows], "data": scored.probabilities.tolist()},
            {"name": "label", "datatype": "INT64", "shape": [rows], "data": scored.labels.tolist()},
        ],
    }
