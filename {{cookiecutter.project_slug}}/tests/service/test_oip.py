"""The Open Inference Protocol, exercised with Triton's own HTTP client (JSON and binary tensors) against a real server."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import uvicorn

from {{ cookiecutter.module_name }}.schema import MODEL_INPUT, Column
from {{ cookiecutter.module_name }}.serving.app import create_app
from {{ cookiecutter.module_name }}.serving.contract import RECORD_COLUMNS
from {{ cookiecutter.module_name }}.serving.oip import MODEL_NAME
from {{ cookiecutter.module_name }}.serving.server import bounded_http
from {{ cookiecutter.module_name }}.serving.settings import Settings

httpclient = pytest.importorskip("tritonclient.http")
DTYPES = {"int": ("INT64", np.int64), "float": ("FP64", np.float64), "category": ("BYTES", np.object_)}


@pytest.fixture(scope="module")
def records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Complete records only: the protocol's typed tensors have no null."""
    return [record for record in records if None not in record.values()]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(model_dir: Path) -> Iterator[str]:
    """The app on a free loopback port, in a thread, with the server `serve` runs."""
    port = free_port()
    settings = Settings(model_uri=str(model_dir), prediction_log=None, max_rows=50)
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", http=bounded_http(settings)
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=10)


def inputs_for(records: list[dict[str, Any]], binary_data: bool = True) -> list[Any]:
    """One tensor per contract column, as binary data (the Triton client's default) or as JSON."""
    tensors = []
    for column in RECORD_COLUMNS:
        datatype, dtype = DTYPES[column.dtype]
        values = np.array([record[column.name] for record in records], dtype=dtype)
        tensor = httpclient.InferInput(column.name, [len(records)], datatype)
        tensor.set_data_from_numpy(values, binary_data=binary_data)
        tensors.append(tensor)
    return tensors


def expected(server: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return httpx.post(f"http://{server}/predict", json={"records": records}).json()["predictions"]


def test_triton_client_sees_a_ready_server_and_the_model_metadata(server: str) -> None:
    client = httpclient.InferenceServerClient(server)
    assert client.is_server_live()
    assert client.is_server_ready()
    assert client.is_model_ready(MODEL_NAME)
    assert "binary_tensor_data" in client.get_server_metadata()["extensions"]
    metadata = client.get_model_metadata(MODEL_NAME)
    assert metadata["name"] == MODEL_NAME
    assert {tensor["name"] for tensor in metadata["inputs"]} == {column.name for column in RECORD_COLUMNS}
    assert len(RECORD_COLUMNS) == len(MODEL_INPUT.by_role("id", "feature"))


def test_triton_client_gets_the_same_answers_as_predict_as_json(server: str, records: list[dict[str, Any]]) -> None:
    batch = records[:20]
    client = httpclient.InferenceServerClient(server)
    outputs = [httpclient.InferRequestedOutput(name, binary_data=False) for name in ("probability", "label")]
    result = client.infer(MODEL_NAME, inputs_for(batch, binary_data=False), outputs=outputs)
    assert result.get_response()["outputs"][0]["data"]  # JSON outputs, not binary ones
    answers = expected(server, batch)
    assert np.allclose(result.as_numpy("probability"), [p["probability"] for p in answers], atol=1e-12)
    assert result.as_numpy("label").tolist() == [p["label"] for p in answers]


@pytest.mark.parametrize("outputs", [None, ("probability", "label"), ("label",)])
def test_triton_client_defaults_send_and_receive_binary_tensors(
    server: str, records: list[dict[str, Any]], outputs: tuple[str, ...] | None
) -> None:
    batch = records[:20]
    client = httpclient.InferenceServerClient(server)
    requested = None if outputs is None else [httpclient.InferRequestedOutput(name) for name in outputs]
    result = client.infer(MODEL_NAME, inputs_for(batch), outputs=requested, request_id="batch-7")
    response = result.get_response()
    assert response["id"] == "batch-7"
    assert all("data" not in output and output["parameters"]["binary_data_size"] for output in response["outputs"])
    answers = expected(server, batch)
    assert result.as_numpy("label").tolist() == [p["label"] for p in answers]
    if outputs is None or "probability" in outputs:
        assert np.allclose(result.as_numpy("probability"), [p["probability"] for p in answers], rtol=0, atol=1e-12)
    else:
        assert result.as_numpy("probability") is None


def test_narrower_binary_datatypes_are_read_as_their_values(server: str, records: list[dict[str, Any]]) -> None:
    batch = records[:5]
    narrow = {"INT64": ("INT32", np.int32), "FP64": ("FP32", np.float32)}
    tensors = []
    for column in RECORD_COLUMNS:
        datatype, dtype = narrow.get(DTYPES[column.dtype][0], DTYPES[column.dtype])
        tensor = httpclient.InferInput(column.name, [len(batch), 1], datatype)
        values = np.array([[record[column.name]] for record in batch], dtype=dtype)
        tensors.append(tensor.set_data_from_numpy(values))
    result = httpclient.InferenceServerClient(server).infer(MODEL_NAME, tensors)
    assert result.as_numpy("label").shape == (len(batch),)


def test_invalid_tensors_get_a_protocol_error(
    server: str, records: list[dict[str, Any]], feature: Callable[..., Column]
) -> None:
    client = httpclient.InferenceServerClient(server)
    bounded = feature("int", "float", bounded=True)
    bad = [{**record, bounded.name: bounded.max + 300} for record in records[:2]]
    for binary_data in (True, False):
        with pytest.raises(httpclient.InferenceServerException, match=f"row 0: {bounded.name}: ") as refused:
            client.infer(MODEL_NAME, inputs_for(bad, binary_data=binary_data))
        assert refused.value.status() == "400"


def test_rows_over_the_limit_get_413_before_any_is_read(server: str, records: list[dict[str, Any]]) -> None:
    client = httpclient.InferenceServerClient(server)
    with pytest.raises(httpclient.InferenceServerException, match="51 rows is more than the limit of 50") as refused:
        client.infer(MODEL_NAME, inputs_for((records * 3)[:51]))
    assert refused.value.status() == "413"


def post_infer(server: str, payload: Any, model: str = MODEL_NAME, **headers: str | bytes) -> httpx.Response:
    content = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return httpx.post(f"http://{server}/v2/models/{model}/infer", content=content, headers=headers)


def json_inputs(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"name": column.name, "shape": [len(records)], "datatype": DTYPES[column.dtype][0],
         "data": [record[column.name] for record in records]}
        for column in RECORD_COLUMNS
    ]  # fmt: skip


SECRET = "CLIENT-SENT-" + "z" * 5_000


def test_nothing_the_client_sent_is_echoed(server: str, records: list[dict[str, Any]]) -> None:
    inputs = json_inputs(records[:2])
    answers = [
        httpx.get(f"http://{server}/v2/models/{SECRET}"),
        post_infer(server, {"inputs": inputs}, model=SECRET),
        post_infer(server, {"inputs": [*inputs[:-1], {**inputs[-1], "name": SECRET}]}),
        post_infer(server, {"id": SECRET + "\n", "inputs": inputs}),
        post_infer(server, {"inputs": inputs, "outputs": [{"name": SECRET}]}),
        post_infer(server, {"inputs": [{**inputs[0], "datatype": SECRET}]}),
    ]
    for answer in answers:
        assert 400 <= answer.status_code < 500, answer.text
        assert "CLIENT-SENT" not in answer.text
        assert set(answer.json()) == {"error"}


@pytest.mark.parametrize(
    "body",
    [
        b'{"id": "\\ud800", "inputs": []}',
        b'{"id": "ok", "inputs": [{"name": "\\udfff", "shape": [1], "datatype": "BYTES", "data": ["\\ud800"]}]}',
        b'{"inputs": [{"name": "x", "shape": [1' + b"0" * 5_000 + b'], "datatype": "INT64", "data": [1]}]}',
        b"\xff\xfe",
        b"[]",
    ],
)
def test_malformed_bodies_get_400_never_500(server: str, body: bytes) -> None:
    answer = post_infer(server, body)
    assert answer.status_code == 400, answer.text
    assert set(answer.json()) == {"error"}


@pytest.mark.parametrize("length", ["abc", "9" * 5_000, "-1", "100000", "\u00b2".encode("latin-1")])
def test_a_wrong_header_length_gets_400(server: str, records: list[dict[str, Any]], length: str | bytes) -> None:
    body = json.dumps({"inputs": json_inputs(records[:1])}).encode()
    answer = post_infer(server, body, **{"Inference-Header-Content-Length": length})
    assert answer.status_code == 400, answer.text


def test_binary_data_that_does_not_fit_its_declaration_gets_400(server: str, records: list[dict[str, Any]]) -> None:
    inputs = json_inputs(records[:2])
    age = next(tensor for tensor in inputs if tensor["datatype"] == "INT64")
    age.pop("data")
    for size, blob in ((16, b"\0" * 8), (8, b"\0" * 8), (16, b"\0" * 24)):
        age["parameters"] = {"binary_data_size": size}
        header = json.dumps({"inputs": inputs}).encode()
        answer = post_infer(server, header + blob, **{"Inference-Header-Content-Length": str(len(header))})
        assert answer.status_code == 400, answer.text


def test_refusals_before_the_body_is_read_have_the_protocol_shape(server: str) -> None:
    too_large = post_infer(server, b" " * (2 * 1024 * 1024))
    assert too_large.status_code == 413
    assert set(too_large.json()) == {"error"}
    wrong_type = post_infer(server, b"{}", **{"content-type": "text/plain"})
    assert wrong_type.status_code == 415
    assert set(wrong_type.json()) == {"error"}


def test_many_tensors_are_refused_before_they_are_validated(server: str) -> None:
    answer = post_infer(server, {"inputs": [{}] * 100_000})
    assert answer.status_code == 400
    assert len(answer.content) < 500
