"""The request edge of a generated project's running service under hostile clients.

Each case runs against `python -m <module> serve` (a real uvicorn process) while another client
keeps predicting: the hostile request must get a small 4xx, the service's memory (RSS) must stay
bounded, and the other client must keep its latency. The figures are printed (`pytest -s`).
"""

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
from helpers import SERVICE_MODULE, RunningService, holdout_records

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("service-edge")]  # one service for the module

INFER = f"/v2/models/{SERVICE_MODULE}/infer"
DEADLINE = 2  # seconds: HEADER_TIMEOUT and BODY_TIMEOUT of the service under test
MiB = 1024 * 1024


def rss(pid: int) -> float:
    """Resident memory of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


class Watch:
    """While active: the service's peak RSS, and the latencies of a bystander predicting one record at a time."""

    def __init__(self, service: RunningService, record: dict[str, Any]) -> None:
        self.service, self.record = service, record
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.baseline = self.peak = rss(service.process.pid)
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._sample), threading.Thread(target=self._bystander)]

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss(self.service.process.pid))
            time.sleep(0.01)

    def _bystander(self) -> None:
        with httpx.Client(base_url=self.service.url, timeout=60) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                response = client.post("/predict", json={"records": [self.record]})
                self.latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    self.failures.append(response.text[:200])
                time.sleep(0.005)

    def __enter__(self) -> Watch:
        for thread in self._threads:
            thread.start()
        time.sleep(0.3)
        return self

    def __exit__(self, *_: object) -> None:
        time.sleep(0.3)
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def report(self, case: str) -> dict[str, float]:
        latencies = np.array(self.latencies) * 1000
        figures = {
            "rss_baseline_mib": round(self.baseline),
            "rss_peak_mib": round(self.peak),
            "bystander_requests": len(latencies),
            "bystander_p50_ms": round(float(np.percentile(latencies, 50)), 1),
            "bystander_p99_ms": round(float(np.percentile(latencies, 99)), 1),
            "bystander_max_ms": round(float(latencies.max()), 1),
        }
        print(f"\n{case}: {json.dumps(figures)}")
        return figures


def assert_bounded(watch: Watch, case: str, growth_mib: float = 150, max_ms: float = 1500) -> None:
    figures = watch.report(case)
    assert not watch.failures, watch.failures[:3]
    assert figures["bystander_requests"] > 10, figures
    assert figures["rss_peak_mib"] - figures["rss_baseline_mib"] < growth_mib, figures
    assert figures["bystander_max_ms"] < max_ms, figures


@pytest.fixture(scope="module")
def service(trained_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    log = tmp_path_factory.mktemp("edge") / "log.db"
    env = {"HEADER_TIMEOUT": str(DEADLINE), "BODY_TIMEOUT": str(DEADLINE)}
    with RunningService(trained_project, log, **env) as running:
        yield running


@pytest.fixture(scope="module")
def records(trained_project: Path) -> list[dict[str, Any]]:
    return holdout_records(trained_project, 50)


def post(service: RunningService, path: str, body: bytes, **headers: str) -> httpx.Response:
    return httpx.post(
        service.url + path, content=body, headers={"content-type": "application/json", **headers}, timeout=120
    )


def empty_records(count: int) -> bytes:
    return b'{"records": [' + b",".join([b"{}"] * count) + b"]}"


# --- validation: cost and answer size bounded whatever the body ------------------------------------


def test_quiet_figures_for_comparison(service: RunningService, records: list[dict[str, Any]]) -> None:
    with Watch(service, records[0]) as watch:
        time.sleep(2)
    assert_bounded(watch, "no hostile traffic (for comparison)")


def test_rows_over_the_limit_get_413_before_any_is_validated(
    service: RunningService, records: list[dict[str, Any]]
) -> None:
    body = empty_records(100_000)  # 293 KiB that once made 1.5 million errors
    with Watch(service, records[0]) as watch:
        for _ in range(5):
            response = post(service, "/predict", body)
            assert response.status_code == 413
            assert response.json()["detail"] == "100000 records is more than the limit of 1000"
    assert_bounded(watch, "100,000 empty records (293 KiB) x5")


def test_invalid_records_get_a_short_422_that_counts_the_rest(
    service: RunningService, records: list[dict[str, Any]]
) -> None:
    with Watch(service, records[0]) as watch:
        for _ in range(10):
            response = post(service, "/predict", empty_records(1000))
            assert response.status_code == 422
            assert len(response.content) < 5_000
            detail = response.json()["detail"]
            assert len(detail) == 21
            assert detail[-1]["type"] == "too_many_errors", detail[-1]
    assert_bounded(watch, "1,000 empty records x10")


def test_unknown_fields_are_neither_echoed_nor_expensive(
    service: RunningService, records: list[dict[str, Any]]
) -> None:
    many = {**records[0], **{f"unknown_{i}": 0 for i in range(40_000)}}
    long_name = {**records[0], "SECRET-" + "n" * 900_000: 0}
    with Watch(service, records[0]) as watch:
        for record in (many, long_name) * 3:
            response = post(service, "/predict", json.dumps({"records": [record]}).encode())
            assert response.status_code == 422
            assert len(response.content) < 1_000, response.text[:300]
            assert "SECRET" not in response.text
            assert "unknown_" not in response.text
    assert_bounded(watch, "records with 40,000 unknown fields / a 900 KB field name x3")


def test_the_inference_protocol_is_bounded_too(service: RunningService, records: list[dict[str, Any]]) -> None:
    names = list(records[0])
    rows = 40_000
    nulls = {"inputs": [{"name": name, "shape": [rows], "datatype": "INT64", "data": [None] * rows} for name in names]}
    bodies = [
        json.dumps({"inputs": [{}] * 200_000}).encode(),
        json.dumps({"inputs": [{"name": names[0], "shape": [0] * 200_000, "datatype": "INT64", "data": []}]}).encode(),
        json.dumps(nulls).encode()[: MiB - 1],  # cut short: invalid JSON just under the limit
        json.dumps({"inputs": nulls["inputs"][:2]}).encode(),
    ]
    with Watch(service, records[0]) as watch:
        for body in bodies * 3:
            response = post(service, INFER, body)
            assert response.status_code in (400, 413), response.text[:300]
            assert set(response.json()) == {"error"}
            assert len(response.content) < 1_000
    assert_bounded(watch, "inference protocol: 200,000 tensors, 200,000 dims, 1 MiB of nulls x3")


# --- no 5xx, no echo ---------------------------------------------------------------------------------


def test_no_input_gets_a_5xx_or_its_own_words_back(service: RunningService, records: list[dict[str, Any]]) -> None:
    secret = "CLIENT-SENT-" + "s" * 2_000
    inputs = [
        {"name": name, "shape": [1], "datatype": "BYTES" if isinstance(value, str) else "FP64", "data": [value]}
        for name, value in records[0].items()
    ]
    answers = {
        "lone surrogate in id": post(service, INFER, b'{"id": "\\ud800", "inputs": [{"name": "a"}]}'),
        "lone surrogate in a value": post(service, "/predict", b'{"records": [{"region": "\\udfff"}]}'),
        "inference id": post(service, INFER, json.dumps({"id": secret, "inputs": inputs}).encode()),
        "model name": httpx.get(f"{service.url}/v2/models/{secret}"),
        "model name in infer": post(service, f"/v2/models/{secret}/infer", json.dumps({"inputs": inputs}).encode()),
        "tensor name": post(service, INFER, json.dumps({"inputs": [*inputs[1:], {**inputs[0], "name": secret}]}).encode()),
        "output name": post(service, INFER, json.dumps({"inputs": inputs, "outputs": [{"name": secret}]}).encode()),
        "field name": post(service, "/predict", json.dumps({"records": [{**records[0], secret: 1}]}).encode()),
        "top-level name": post(service, "/predict", json.dumps({"records": records[:1], secret: 1}).encode()),
        "header length of 5,000 digits": post(service, INFER, b"{}", **{"inference-header-content-length": "9" * 5_000}),
    }  # fmt: skip
    for case, response in answers.items():
        assert 400 <= response.status_code < 500, (case, response.status_code, response.text[:300])
        assert "CLIENT-SENT" not in response.text, case
    assert answers["inference id"].status_code == 400


# --- the HTTP head and read deadlines --------------------------------------------------------------


def raw_request(port: int, send: Callable[[socket.socket], None]) -> tuple[bytes, float]:
    """What the server answers (until it closes) to what `send` sends, and the seconds it took."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as connection:
        sender = threading.Thread(target=send, args=(connection,), daemon=True)
        sender.start()
        connection.settimeout(30)
        received = b""
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except (ConnectionResetError, TimeoutError):
            pass
        sender.join(timeout=30)
    return received, time.monotonic() - started


def sender(data: bytes, size: int = 65536, pause: float = 0.0) -> Callable[[socket.socket], None]:
    def send(connection: socket.socket) -> None:
        try:
            for start in range(0, len(data), size):
                connection.sendall(data[start : start + size])
                time.sleep(pause)
        except OSError:  # the server closed the connection: that is the point
            pass

    return send


HEAD = b"GET /health/live HTTP/1.1\r\nhost: test\r\n"


def test_a_content_length_of_5000_digits_gets_a_4xx(service: RunningService) -> None:
    head = b"POST /predict HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ncontent-length: "
    reply, _ = raw_request(service.port, sender(head + b"9" * 5_000 + b"\r\n\r\n{}"))
    assert reply[9:10] == b"4", reply[:200]


def test_a_16_mib_header_gets_431(service: RunningService, records: list[dict[str, Any]]) -> None:
    with Watch(service, records[0]) as watch:
        reply, seconds = raw_request(service.port, sender(HEAD + b"x-big: " + b"a" * (16 * MiB) + b"\r\n\r\n"))
    assert reply.startswith(b"HTTP/1.1 431 "), reply[:200]
    assert seconds < 5
    assert_bounded(watch, f"16 MiB header (refused after {seconds:.2f} s)")


def test_slow_64_mib_headers_hold_neither_memory_nor_other_clients(
    service: RunningService, records: list[dict[str, Any]]
) -> None:
    results: list[tuple[bytes, float]] = []
    slow = sender(HEAD + b"x-big: " + b"a" * (64 * MiB), size=64 * 1024, pause=0.02)
    clients = [threading.Thread(target=lambda: results.append(raw_request(service.port, slow))) for _ in range(8)]
    with Watch(service, records[0]) as watch:
        for client in clients:
            client.start()
        for client in clients:
            client.join(timeout=120)
    assert len(results) == 8
    assert all(reply.startswith(b"HTTP/1.1 431 ") for reply, _ in results), [reply[:60] for reply, _ in results]
    assert_bounded(watch, f"8 slow 64 MiB headers (refused after {max(s for _, s in results):.2f} s)")


def test_a_head_or_body_that_trickles_in_is_cut_off_at_the_deadline(
    service: RunningService, records: list[dict[str, Any]]
) -> None:
    body = json.dumps({"records": records[:10]}).encode()
    head = (
        f"POST /predict HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    )

    def slow_body(connection: socket.socket) -> None:
        connection.sendall(head.encode())
        sender(body, size=5, pause=0.1)(connection)

    cases = {
        "header trickle": sender(HEAD + b"x" * 1_000, size=1, pause=0.1),
        "body trickle": slow_body,
        "silent connection": lambda connection: None,
    }
    with Watch(service, records[0]) as watch:
        for case, send in cases.items():
            reply, seconds = raw_request(service.port, send)
            assert reply.startswith(b"HTTP/1.1 408 "), (case, reply[:200])
            # the event loop's clock is read once per iteration, in milliseconds: it may fire a little early
            assert DEADLINE - 0.05 <= seconds < DEADLINE + 3, (case, seconds)
    assert_bounded(watch, "a header, a body and a silent connection trickling past the 2 s deadlines")


# --- the binary tensor extension with the Triton client's defaults ----------------------------------


def test_the_triton_client_works_with_its_defaults(service: RunningService, records: list[dict[str, Any]]) -> None:
    httpclient = pytest.importorskip("tritonclient.http")
    client = httpclient.InferenceServerClient(service.url.removeprefix("http://"))
    metadata = client.get_model_metadata(SERVICE_MODULE)
    tensors = []
    for tensor in metadata["inputs"]:
        values = [record[tensor["name"]] for record in records]
        dtype = {"INT64": np.int64, "FP64": np.float64, "BYTES": np.object_}[tensor["datatype"]]
        tensors.append(
            httpclient.InferInput(tensor["name"], [len(records)], tensor["datatype"]).set_data_from_numpy(
                np.array(values, dtype=dtype)
            )
        )
    result = client.infer(SERVICE_MODULE, tensors)  # binary inputs, binary outputs: the client's defaults
    assert all("binary_data_size" in output["parameters"] for output in result.get_response()["outputs"])
    expected = httpx.post(f"{service.url}/predict", json={"records": records}).json()["predictions"]
    assert np.allclose(result.as_numpy("probability"), [p["probability"] for p in expected], rtol=0, atol=1e-12)
    assert result.as_numpy("label").tolist() == [p["label"] for p in expected]
