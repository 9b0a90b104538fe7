"""The server's limits on what one client can make it hold: head size, and read deadlines for head and body."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from {{ cookiecutter.module_name }}.serving.app import create_app
from {{ cookiecutter.module_name }}.serving.server import bounded_http
from {{ cookiecutter.module_name }}.serving.settings import Settings, SettingsError

HEAD_TIMEOUT, BODY_TIMEOUT = 0.5, 3.0  # seconds


@pytest.fixture(scope="module")
def port(model_dir: Path) -> Iterator[int]:
    """The app behind the server `serve` runs, with short deadlines, on a free loopback port."""
    settings = Settings(
        model_uri=str(model_dir),
        prediction_log=None,
        max_header_bytes=4096,
        header_timeout=HEAD_TIMEOUT,
        body_timeout=BODY_TIMEOUT,
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=free, log_level="error", http=bounded_http(settings)
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield free
    running.should_exit = True
    thread.join(timeout=10)


def request(records: list[dict[str, Any]], extra_headers: str = "") -> bytes:
    body = json.dumps({"records": records}).encode()
    head = f"POST /predict HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
    return (head + extra_headers + "\r\n").encode() + body


def answer(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or 5 s pass)."""
    connection.settimeout(5)
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return received


def send_all(connection: socket.socket, data: bytes, pause: float = 0.0, size: int = 65536) -> None:
    """Send in pieces; stop quietly when the server has closed the connection."""
    try:
        for start in range(0, len(data), size):
            connection.sendall(data[start : start + size])
            time.sleep(pause)
    except (BrokenPipeError, ConnectionResetError):
        pass


def test_a_head_over_the_limit_gets_431_and_the_connection_closes(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as connection:
        started = time.monotonic()
        send_all(connection, b"GET /health/live HTTP/1.1\r\nhost: test\r\nx-big: " + b"a" * (16 * 1024 * 1024))
        reply = answer(connection)
    assert reply.startswith(b"HTTP/1.1 431 "), reply[:200]
    assert time.monotonic() - started < 5


def test_a_whole_head_over_the_limit_in_one_read_is_refused_before_the_app_sees_it(
    port: int, records: list[dict[str, Any]]
) -> None:
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(request(records[:1], extra_headers=f"x-big: {'a' * 8000}\r\n"))
        reply = answer(connection)
    assert reply.startswith(b"HTTP/1.1 431 "), reply[:200]
    assert b"probability" not in reply


def test_a_head_under_the_limit_is_served(port: int, records: list[dict[str, Any]]) -> None:
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(request(records[:1], extra_headers=f"x-padding: {'a' * 3000}\r\nconnection: close\r\n"))
        reply = answer(connection)
    assert reply.startswith(b"HTTP/1.1 200 "), reply[:200]


def test_a_head_that_trickles_in_gets_408_after_the_deadline(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as connection:
        started = time.monotonic()
        sender = threading.Thread(
            target=send_all,
            args=(connection, b"GET /health/live HTTP/1.1\r\n" + b"x" * 50),
            kwargs={"pause": 0.05, "size": 1},
        )
        sender.start()
        reply = answer(connection)
        sender.join()
    assert reply.startswith(b"HTTP/1.1 408 "), reply[:200]
    assert HEAD_TIMEOUT <= time.monotonic() - started < HEAD_TIMEOUT + 2


def test_a_connection_that_sends_nothing_is_closed_after_the_deadline(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as connection:
        started = time.monotonic()
        reply = answer(connection)
    assert reply.startswith(b"HTTP/1.1 408 "), reply[:200]
    assert time.monotonic() - started < HEAD_TIMEOUT + 2


def test_a_body_that_trickles_in_gets_408_after_the_deadline(port: int, records: list[dict[str, Any]]) -> None:
    with socket.create_connection(("127.0.0.1", port)) as connection:
        data = request(records[:20])
        head, body = data.split(b"\r\n\r\n", 1)
        connection.sendall(head + b"\r\n\r\n")
        started = time.monotonic()
        sender = threading.Thread(target=send_all, args=(connection, body), kwargs={"pause": 0.05, "size": 10})
        sender.start()
        reply = answer(connection)
        sender.join()
    assert reply.startswith(b"HTTP/1.1 408 "), reply[:200]
    assert BODY_TIMEOUT <= time.monotonic() - started < BODY_TIMEOUT + 2


def test_a_body_larger_than_the_head_limit_in_one_piece_is_served(port: int, records: list[dict[str, Any]]) -> None:
    data = request(records[:100])
    assert len(data) > 4 * 4096
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(data)
        connection.settimeout(5)
        reply = connection.recv(1 << 20)
    assert reply.startswith(b"HTTP/1.1 200 "), reply[:200]


def test_a_kept_alive_connection_serves_request_after_request(port: int, records: list[dict[str, Any]]) -> None:
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.settimeout(5)
        for _ in range(3):
            connection.sendall(request(records[:1]))
            reply = connection.recv(1 << 20)
            assert reply.startswith(b"HTTP/1.1 200 "), reply[:200]
            time.sleep(HEAD_TIMEOUT * 0.6)  # together longer than a deadline: each request gets its own


def test_the_next_head_on_a_kept_alive_connection_has_its_own_deadline(
    port: int, records: list[dict[str, Any]]
) -> None:
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.settimeout(5)
        head, body = request(records[:1]).split(b"\r\n\r\n", 1)
        connection.sendall(head + b"\r\n\r\n")
        time.sleep(HEAD_TIMEOUT + 0.2)  # the body's deadline is the one pending now
        connection.sendall(body)
        assert connection.recv(1 << 20).startswith(b"HTTP/1.1 200 ")
        started = time.monotonic()
        connection.sendall(b"GET /health/live HTTP/1.1\r\n")  # and nothing more
        reply = answer(connection)
    assert reply.startswith(b"HTTP/1.1 408 "), reply[:200]
    assert time.monotonic() - started < HEAD_TIMEOUT + 1  # the head's deadline, not the body's (later) one


def test_limits_must_be_positive() -> None:
    with pytest.raises(SettingsError, match="HEADER_TIMEOUT"):
        Settings(header_timeout=0)
    with pytest.raises(SettingsError, match="MAX_HEADER_BYTES"):
        Settings(max_header_bytes=-1)
