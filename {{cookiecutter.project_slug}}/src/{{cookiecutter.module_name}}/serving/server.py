"""The HTTP server: uvicorn, with limits on what one client can make it hold and for how long.

uvicorn's httptools protocol buffers a request head of any size and waits for it, and for the
body, as long as the client likes: one endless header, or a byte every few seconds, holds
memory and a connection indefinitely. `BoundedHttp` refuses a head over `MAX_HEADER_BYTES`
(431) and a head or body that does not arrive within `HEADER_TIMEOUT` / `BODY_TIMEOUT` (408),
then closes the connection. Only the parser's callbacks are extended: sockets and keep-alive
stay uvicorn's. Every accepted connection sends without delay (TCP_NODELAY): the socket that
several workers share does not set it, and Nagle's algorithm with delayed ACKs would add
about 40 ms to each keep-alive request.

WORKERS > 1 starts that many processes on the one port (serving/workers.py).

`python -m {{ cookiecutter.module_name }}.serving.server` runs it as the container does;
`python -m {{ cookiecutter.module_name }} serve` runs the same server from a project checkout.
"""

from __future__ import annotations

import argparse
import json
import logging
import socket
import sys
from http import HTTPStatus
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .app import create_app
from .guard import Guard
from .settings import Settings, SettingsError
from .workers import configure_logging, supervise

log = logging.getLogger(__name__)


def no_delay(transport: Any) -> None:
    """Send each answer at once: a TCP connection's small writes must not wait for an ACK."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class HeadTooLarge(Exception):
    """Raised from a parser callback: httptools stops parsing and uvicorn answers the error."""


class BoundedHttp(HttpToolsProtocol):
    """uvicorn's httptools protocol with a size limit on the request head and read deadlines."""

    max_header_bytes = 32 * 1024
    header_timeout = 10.0
    body_timeout = 30.0

    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        no_delay(transport)
        super().connection_made(transport)
        self._head_bytes, self._parsed_head, self._in_head = 0, 0, True
        self._due: float | None = None
        self._awaited, self._allowed = "", 0.0
        self._timer: Any = None
        self._expect("request head", self.header_timeout)  # a connection that never sends is closed too

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        # a head still incomplete after this chunk; a complete one is measured by the callbacks below
        if self._in_head and self._head_bytes > self.max_header_bytes and not self.transport.is_closing():
            self._refuse(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, f"request head over {self.max_header_bytes} bytes")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes, self._parsed_head, self._in_head = 0, 0, True
        if self._due is None:
            self._expect("request head", self.header_timeout)

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value))
        super().on_header(name, value)

    def _count_head(self, size: int) -> None:
        """Stop a head that arrived whole in one read before the application sees it."""
        self._parsed_head += size
        if self._parsed_head > self.max_header_bytes:
            raise HeadTooLarge

    def send_400_response(self, msg: str) -> None:
        if self._parsed_head > self.max_header_bytes:
            self._refuse(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, f"request head over {self.max_header_bytes} bytes")
        else:
            super().send_400_response(msg)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()
        self._expect("request body", self.body_timeout)

    def on_message_complete(self) -> None:
        self._due = None
        super().on_message_complete()

    def _expect(self, part: str, seconds: float) -> None:
        """Set the deadline for this part of the request.

        One timer per connection checks the current deadline when it fires, rather than a timer
        started and cancelled for every request: moving a deadline costs a clock read.
        """
        self._due, self._awaited, self._allowed = self.loop.time() + seconds, part, seconds
        if self._timer is not None and self._timer.when() > self._due:
            self._timer.cancel()
            self._timer = None
        if self._timer is None:
            self._timer = self.loop.call_at(self._due, self._check)

    def _check(self) -> None:
        self._timer = None
        if self._due is None or self.transport.is_closing():
            return
        if self.loop.time() < self._due:
            self._timer = self.loop.call_at(self._due, self._check)
            return
        self._refuse(HTTPStatus.REQUEST_TIMEOUT, f"{self._awaited} not received within {self._allowed:g} s")

    def _refuse(self, status: HTTPStatus, reason: str) -> None:
        """Answer (unless a response has begun) and close; the application sees a disconnect."""
        log.warning("closed a connection from %s: %s", self.client, reason)
        cycle = self.cycle
        if cycle is None or cycle.response_complete or not cycle.response_started:
            body = json.dumps({"detail": reason}).encode()
            head = (
                f"HTTP/1.1 {status.value} {status.phrase}\r\ncontent-type: application/json\r\n"
                f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
            )
            self.transport.write(head.encode() + body)
        self.transport.close()


def limits(settings: Settings) -> dict[str, Any]:
    return {
        "max_header_bytes": settings.max_header_bytes,
        "header_timeout": settings.header_timeout,
        "body_timeout": settings.body_timeout,
    }


def bounded_http(settings: Settings) -> type[BoundedHttp]:
    """The protocol class with the limits of these settings (uvicorn instantiates it per connection)."""
    return type(BoundedHttp.__name__, (BoundedHttp,), limits(settings))


def worker_app() -> Guard:
    """One worker process's application (uvicorn's factory), from the environment it inherited."""
    settings = Settings.from_env()
    for name, value in limits(settings).items():  # the class uvicorn imports by name in this process
        setattr(BoundedHttp, name, value)
    return create_app(settings)


def run(host: str, port: int, access_log: bool = False) -> None:
    """Serve the application on host:port until SIGTERM; settings from environment variables."""
    settings = Settings.from_env()
    options: dict[str, Any] = {"host": host, "port": port, "access_log": access_log, "timeout_graceful_shutdown": 30}
    if settings.workers == 1:
        uvicorn.run(create_app(settings), http=bounded_http(settings), **options)
        return
    config = uvicorn.Config(
        f"{__package__}.server:worker_app", factory=True, http=f"{__package__}.server:BoundedHttp", **options
    )
    code = supervise(config, settings.workers)
    if code:  # a worker could not start; it logged why
        raise SystemExit(code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the prediction service (settings from environment variables).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--access-log", action="store_true", help="log every request (slower)")
    args = parser.parse_args(argv)
    configure_logging()
    try:
        run(args.host, args.port, args.access_log)
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
