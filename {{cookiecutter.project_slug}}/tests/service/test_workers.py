"""Several worker processes on one port (WORKERS): each answers, /metrics adds them up, no send is delayed."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from {{ cookiecutter.module_name }}.serving.server import no_delay

WORKERS = 2
REQUESTS = 40


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def url(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server as the container runs it, with two workers."""
    folder = tmp_path_factory.mktemp("workers")
    port = free_port()
    env = {**os.environ, "MODEL_URI": str(model_dir), "WORKERS": str(WORKERS), "PREDICTION_LOG": str(folder / "log.db")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [
        sys.executable,
        "-m",
        "{{ cookiecutter.module_name }}.serving.server",
        "--port",
        str(port),
    ]
    with (folder / "server.log").open("wb") as output:
        server = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (folder / "server.log").read_text()
            assert time.monotonic() < deadline, "the workers did not become ready"
            try:
                with urllib.request.urlopen(f"{base}/health/ready", timeout=2):
                    break
            except OSError:
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=60)


def post(url: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """One request on a new connection, so the kernel spreads them over the workers."""
    request = urllib.request.Request(
        f"{url}/predict", json.dumps({"records": records}).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def test_every_worker_answers_and_metrics_add_up_across_them(url: str, records: list[dict[str, Any]]) -> None:
    answers: list[dict[str, Any]] = []
    deadline = time.monotonic() + 60  # the second worker may still be loading the model
    # a request id starts with its process's own prefix
    while len({answer["request_id"][:16] for answer in answers}) < WORKERS:
        assert time.monotonic() < deadline, "one worker answered every request"
        with ThreadPoolExecutor(8) as clients:
            answers += clients.map(lambda _: post(url, records[:2]), range(REQUESTS))
    text = urllib.request.urlopen(f"{url}/metrics", timeout=10).read().decode()
    served = [line for line in text.splitlines() if line.startswith('http_requests_total{endpoint="/predict"')]
    assert sum(float(line.rsplit(" ", 1)[1]) for line in served if 'status="200"' in line) == len(answers)
    counts = [line for line in text.splitlines() if line.startswith("prediction_probability_count")]
    assert sum(float(line.rsplit(" ", 1)[1]) for line in counts) == 2 * len(answers)
    assert 'model_info{model_version="' in text


def test_an_accepted_connection_sends_without_delay() -> None:
    """A listening socket made without IPPROTO_TCP (as a shared one is) accepts connections that delay sends."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with socket.create_connection(listener.getsockname()) as _, listener.accept()[0] as accepted:

            class Transport:
                def get_extra_info(self, name: str) -> socket.socket:
                    return accepted

            no_delay(Transport())
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
