"""The Open Inference Protocol (KServe v2 REST) with the binary tensor data extension.

KServe, Seldon and Triton clients work unchanged, Triton's with its defaults (binary inputs and
outputs). Inputs are one tensor per contract column (shape [n] or [n, 1]), as JSON `data` or
as binary data after the JSON header (`Inference-Header-Content-Length`, per-tensor
`parameters.binary_data_size`); outputs are `probability` (FP64) and `label` (INT64), as JSON or,
when asked for (`binary_data` per output, `binary_data_output` per request), as binary data.
Errors follow the protocol: {"error": reason}, 400 for a request the contract refuses.
"""

from __future__ import annotations

import json
import struct
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from .. import __version__
from .contract import RECORD_COLUMNS, Record
from .service import NotReady
from .validation import Refused, as_text, error_detail, parse_json, plain_errors

router = APIRouter(prefix="/v2", tags=["open inference protocol"])
MODEL_NAME = "{{ cookiecutter.module_name }}"
DATATYPES = {"int": "INT64", "float": "FP64", "category": "BYTES"}
# binary tensor data: little-endian, row-major; BYTES elements are a 4-byte length and the bytes
NUMPY_TYPES = {
    "BOOL": "?",
    "UINT8": "<u1",
    "UINT16": "<u2",
    "UINT32": "<u4",
    "UINT64": "<u8",
    "INT8": "<i1",
    "INT16": "<i2",
    "INT32": "<i4",
    "INT64": "<i8",
    "FP16": "<f2",
    "FP32": "<f4",
    "FP64": "<f8",
}
OUTPUTS = {"probability": ("FP64", "<f8"), "label": ("INT64", "<i8")}
HEADER_LENGTH = "inference-header-content-length"
ID_PATTERN = r"^[A-Za-z0-9._:/@+=-]{1,128}$"
INPUT_NAMES = frozenset(column.name for column in RECORD_COLUMNS)
ROWS = TypeAdapter(Annotated[list[Record], Field(fail_fast=True)])  # stops at the first invalid row


class ProtocolError(BaseModel):
    """The protocol's error body."""

    error: str


PROTOCOL_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ProtocolError} for status in (400, 404, 413, 415, 500, 503)
}


ANY_OBJECT = {"type": "object"}
OBJECT_MEDIA = {"schema": ANY_OBJECT}
NOT_READY_CONTENT = {"application/json": OBJECT_MEDIA}
NOT_READY_ANSWER = {"description": "Not ready", "content": NOT_READY_CONTENT}
NOT_READY: dict[int | str, dict[str, Any]] = {503: NOT_READY_ANSWER}


class InferTensor(BaseModel):
    """An input tensor: `data` in the JSON, or `parameters.binary_data_size` bytes after it."""

    name: str = Field(min_length=1, max_length=256)
    shape: list[int] = Field(min_length=1, max_length=2)
    datatype: str = Field(min_length=1, max_length=16)
    data: list[Any] | None = None
    parameters: dict[str, Any] | None = None


class RequestedOutput(BaseModel):
    name: str = Field(min_length=1, max_length=256)
    parameters: dict[str, Any] | None = None


class InferRequest(BaseModel):
    id: str | None = Field(default=None, pattern=ID_PATTERN, description="Returned in the response")
    inputs: list[InferTensor] = Field(min_length=1, max_length=len(RECORD_COLUMNS))
    outputs: list[RequestedOutput] | None = Field(default=None, max_length=len(OUTPUTS))
    parameters: dict[str, Any] | None = None


def protocol_error(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=status)


def _header(data: Any) -> InferRequest:
    """The JSON header, with its lists checked for length before their items are validated."""
    inputs = data.get("inputs") if isinstance(data, dict) else None
    outputs = data.get("outputs") if isinstance(data, dict) else None
    if isinstance(inputs, list) and len(inputs) > len(RECORD_COLUMNS):
        raise Refused(400, f"inputs: {len(inputs)} tensors; at most one per contract column")
    if isinstance(outputs, list) and len(outputs) > len(OUTPUTS):
        raise Refused(400, f"outputs: at most {len(OUTPUTS)} ({', '.join(OUTPUTS)})")
    for tensor in inputs if isinstance(inputs, list) else ():
        if isinstance(tensor, dict) and isinstance(tensor.get("shape"), list) and len(tensor["shape"]) > 2:
            raise Refused(400, "inputs: a shape is [rows] or [rows, 1]")
    try:
        return InferRequest.model_validate(data)
    except ValidationError as error:
        raise Refused(400, as_text(error_detail(plain_errors(error)))) from None


def _split(body: bytes, header_length: str | None) -> tuple[InferRequest, memoryview]:
    """The JSON header and the binary data after it (empty without the extension)."""
    if header_length is None:
        return _header(parse_json(body)), memoryview(b"")
    digits = header_length.isascii() and header_length.isdigit() and len(header_length) <= 10
    if not digits or int(header_length) > len(body):
        raise Refused(400, f"{HEADER_LENGTH} must be the byte length of the JSON header")
    split = int(header_length)
    return _header(parse_json(body[:split])), memoryview(body)[split:]


def _binary_values(tensor: InferTensor, chunk: memoryview, count: int) -> list[Any]:
    """`count` values of the tensor from its binary data."""
    if tensor.datatype == "BYTES":
        values, offset = [], 0
        for _ in range(count):
            if offset + 4 > len(chunk):
                raise Refused(400, f"input {tensor.name}: binary data holds fewer than {count} elements")
            (size,) = struct.unpack_from("<I", chunk, offset)
            element = bytes(chunk[offset + 4 : offset + 4 + size])
            if len(element) != size:
                raise Refused(400, f"input {tensor.name}: binary data ends inside an element")
            try:
                values.append(element.decode("utf-8"))
            except UnicodeDecodeError:
                raise Refused(400, f"input {tensor.name}: an element is not UTF-8 text") from None
            offset += 4 + size
        if offset != len(chunk):
            raise Refused(400, f"input {tensor.name}: binary data holds more than {count} elements")
        return values
    dtype = NUMPY_TYPES.get(tensor.datatype)
    if dtype is None:
        raise Refused(400, f"input {tensor.name}: datatype must be one of BYTES, {', '.join(NUMPY_TYPES)}")
    if len(chunk) != count * np.dtype(dtype).itemsize:
        raise Refused(400, f"input {tensor.name}: binary_data_size does not match the shape and datatype")
    return np.frombuffer(chunk, dtype=dtype).tolist()


def _columns(request: InferRequest, binary: memoryview, max_rows: int) -> dict[str, list[Any]]:
    """One list of values per contract column; the row limit is checked before any value is read."""
    names = [tensor.name for tensor in request.inputs]
    unknown = sum(name not in INPUT_NAMES for name in names)
    if unknown:
        raise Refused(400, f"{unknown} input tensor(s) not in the data contract (see the model metadata)")
    if len(set(names)) != len(names):
        raise Refused(400, "each input tensor may appear once")
    missing = [column.name for column in RECORD_COLUMNS if column.name not in names]
    if missing:
        raise Refused(400, f"missing input tensor(s): {', '.join(missing)}")
    rows = {tensor.shape[0] for tensor in request.inputs}
    if len(rows) != 1 or any(tensor.shape[1:] not in ([], [1]) for tensor in request.inputs):
        raise Refused(400, "every input tensor must have the shape [rows] or [rows, 1], with the same rows")
    (count,) = rows
    if count < 1:
        raise Refused(400, "the input tensors hold no rows")
    if count > max_rows:
        raise Refused(413, f"{count} rows is more than the limit of {max_rows}")
    columns, offset = {}, 0
    for tensor in request.inputs:
        size = (tensor.parameters or {}).get("binary_data_size")
        if size is None:
            if tensor.data is None or len(tensor.data) != count:
                raise Refused(400, f"input {tensor.name}: data must hold {count} values (or send binary data)")
            columns[tensor.name] = tensor.data
            continue
        if tensor.data is not None or not isinstance(size, int) or size < 0 or offset + size > len(binary):
            raise Refused(400, f"input {tensor.name}: binary_data_size does not fit the binary data")
        columns[tensor.name] = _binary_values(tensor, binary[offset : offset + size], count)
        offset += size
    if offset != len(binary):
        raise Refused(400, "the body holds more binary data than the inputs declare")
    return columns


def _records(columns: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Columns in, records out, checked against the same contract as /predict (up to the first bad row)."""
    rows = [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]
    try:
        return ROWS.dump_python(ROWS.validate_python(rows))
    except ValidationError as error:
        errors = plain_errors(error)
        row = errors[0]["loc"][0]
        fields = [{**entry, "loc": entry["loc"][1:]} for entry in errors]
        raise Refused(400, f"row {row}: {as_text(error_detail(fields))}") from None


def _binary_outputs(request: InferRequest) -> dict[str, bool]:
    """Which outputs to return, and whether each goes as binary data."""
    default = (request.parameters or {}).get("binary_data_output") is True
    if request.outputs is None:
        return dict.fromkeys(OUTPUTS, default)
    if any(output.name not in OUTPUTS for output in request.outputs):
        raise Refused(400, f"outputs must be among {', '.join(OUTPUTS)}")
    return {output.name: (output.parameters or {}).get("binary_data", default) is True for output in request.outputs}


def _answer(header: dict[str, Any], values: dict[str, np.ndarray], binary: dict[str, bool]) -> Response:
    """JSON, or the JSON header followed by the binary outputs when any was asked for as binary."""
    blobs = []
    for output in header["outputs"]:
        dtype = OUTPUTS[output["name"]][1]
        array = values[output["name"]]
        if binary[output["name"]]:
            blob = np.ascontiguousarray(array, dtype=dtype).tobytes()
            output["parameters"] = {"binary_data_size": len(blob)}
            blobs.append(blob)
        else:
            output["data"] = array.tolist()
    if not blobs:
        return JSONResponse(header)
    encoded = json.dumps(header).encode()
    return Response(
        encoded + b"".join(blobs),
        media_type="application/octet-stream",
        headers={"Inference-Header-Content-Length": str(len(encoded))},
    )


@router.get("/health/live")
async def server_live() -> dict[str, bool]:
    return {"live": True}


@router.get("/health/ready", responses=NOT_READY)
async def server_ready(request: Request) -> JSONResponse:
    ready = request.app.state.service.ready
    return JSONResponse({"ready": ready}, status_code=200 if ready else 503)


@router.get("")
async def server_metadata() -> dict[str, Any]:
    return {
        "name": "{{ cookiecutter.project_slug }}",
        "version": __version__,
        "extensions": ["binary_tensor_data"],
    }


def _metadata(service: Any) -> dict[str, Any]:
    return {
        "name": MODEL_NAME,
        "versions": [service.version],
        "platform": "{{ 'pytorch' if cookiecutter.__torch else 'sklearn' }}",
        "inputs": [
            {"name": column.name, "datatype": DATATYPES[column.dtype], "shape": [-1]} for column in RECORD_COLUMNS
        ],
        "outputs": [{"name": name, "datatype": datatype, "shape": [-1]} for name, (datatype, _) in OUTPUTS.items()],
    }


UNKNOWN_MODEL = f"unknown model; this server serves {MODEL_NAME!r}"


@router.get("/models/{name}", response_model=None, responses=PROTOCOL_ERRORS)
async def model_metadata(name: str, request: Request) -> JSONResponse | dict[str, Any]:
    if name != MODEL_NAME:
        return protocol_error(404, UNKNOWN_MODEL)
    return _metadata(request.app.state.service)


@router.get("/models/{name}/ready", response_model=None, responses=PROTOCOL_ERRORS)
async def model_ready(name: str, request: Request) -> JSONResponse | dict[str, Any]:
    if name != MODEL_NAME:
        return protocol_error(404, UNKNOWN_MODEL)
    ready = request.app.state.service.ready
    return JSONResponse({"name": MODEL_NAME, "ready": ready}, status_code=200 if ready else 503)


INFER_SCHEMA = {"$ref": "#/components/schemas/InferRequest"}
INFER_MEDIA = {"schema": INFER_SCHEMA}
INFER_CONTENT = {"application/json": INFER_MEDIA}
INFER_BODY = {"required": True, "content": INFER_CONTENT}
BINARY_SCHEMA = {"type": "string", "format": "binary"}
BINARY_ANSWER = {"schema": BINARY_SCHEMA}
INFER_ANSWERS: dict[int | str, dict[str, Any]] = {
    **PROTOCOL_ERRORS,
    200: {
        "description": "The outputs as JSON, or a JSON header followed by the outputs asked for as binary data",
        "content": {"application/json": OBJECT_MEDIA, "application/octet-stream": BINARY_ANSWER},
    },
}


@router.post(
    "/models/{name}/infer", response_model=None, responses=INFER_ANSWERS, openapi_extra={"requestBody": INFER_BODY}
)
async def infer(name: str, request: Request) -> Response:
    """Score the rows of the input tensors (the body is read here: it may carry binary data)."""
    if name != MODEL_NAME:
        return protocol_error(404, UNKNOWN_MODEL)
    service = request.app.state.service
    try:
        inference, binary = _split(await request.body(), request.headers.get(HEADER_LENGTH))
        outputs = _binary_outputs(inference)
        records = _records(_columns(inference, binary, service.settings.max_rows))
        scored = await service.predict(records, request.state.request_id)
    except Refused as refusal:
        return protocol_error(400 if refusal.status == 422 else refusal.status, as_text(refusal.detail))
    except NotReady as error:
        return protocol_error(503, f"not ready: {error}")
    request.state.model_version = scored.model_version
    rows = len(records)
    header = {
        "model_name": MODEL_NAME,
        "model_version": scored.model_version,
        "id": inference.id or scored.request_id,
        "outputs": [{"name": output, "datatype": OUTPUTS[output][0], "shape": [rows]} for output in outputs],
    }
    return _answer(header, {"probability": scored.probabilities, "label": scored.labels}, outputs)
