"""The Open Inference Protocol, exercised with Triton's own HTTP client against a real server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import uvicorn

from {{ cookiecutter.module_name }}.schema import MODEL_INPUT, Column
from {{ cookiecutter.module_name }}.serving.app import create_app
from {{ cookiecutter.module_name }}.serving.contract import RECORD_COLUMNS
from {{ cookiecutter.module_name }}.serving.oip import MODEL_NAME
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
    """uvicorn serving the app on a free loopback port, in a thread."""
    port = free_port()
    settings = Settings(model_uri=str(model_dir), prediction_log=None)
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
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


def inputs_for(records: list[dict[str, Any]]) -> list[Any]:
    tensors = []
    for column in RECORD_COLUMNS:
        datatype, dtype = DTYPES[column.dtype]
        values = np.array([record[column.name] for record in records], dtype=dtype)
        tensor = httpclient.InferInput(column.name, [len(records)], datatype)
        tensor.set_data_from_numpy(values, binary_data=False)
        tensors.append(tensor)
    return tensors


def test_triton_client_sees_a_ready_server_and_the_model_metadata(server: str) -> None:
    client = httpclient.InferenceServerClient(server)
    assert client.is_server_live()
    assert client.is_server_ready()
    assert client.is_model_ready(MODEL_NAME)
    metadata = client.get_model_metadata(MODEL_NAME)
    assert metadata["name"] == MODEL_NAME
    assert {tensor["name"] for tensor in metadata["inputs"]} == {column.name for column in RECORD_COLUMNS}
    assert len(RECORD_COLUMNS) == len(MODEL_INPUT.by_role("id", "feature"))


def test_triton_client_gets_the_same_answers_as_predict(server: str, records: list[dict[str, Any]]) -> None:
    import httpx

    batch = records[:20]
    client = httpclient.InferenceServerClient(server)
    outputs = [httpclient.InferRequestedOutput(name, binary_data=False) for name in ("probability", "label")]
    result = client.infer(MODEL_NAME, inputs_for(batch), outputs=outputs)
    expected = httpx.post(f"http://{server}/predict", json={"records": batch}).json()["predictions"]
    assert np.allclose(result.as_numpy("probability"), [p["probability"] for p in expected], atol=1e-12)
    assert result.as_numpy("label").tolist() == [p["label"] for p in expected]


def test_invalid_tensors_get_a_protocol_error(
    server: str, records: list[dict[str, Any]], feature: Callable[..., Column]
) -> None:
    client = httpclient.InferenceServerClient(server)
    bounded = feature("int", "float", bounded=True)
    bad = [{**record, bounded.name: bounded.max + 300} for record in records[:2]]
    with pytest.raises(httpclient.InferenceServerException, match=bounded.name):
        client.infer(MODEL_NAME, inputs_for(bad))
    with pytest.raises(httpclient.InferenceServerException, match="unknown model"):
        client.get_model_metadata("not-a-model")
