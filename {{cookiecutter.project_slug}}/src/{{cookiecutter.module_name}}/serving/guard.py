"""ASGI middleware in front of every route: request ids, size and content-type limits, metrics.

Written as plain ASGI (no per-request objects) because it runs on every request, and so
that an oversized body is refused while it streams in, before it is parsed.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from .metrics import ServiceMetrics

JSON_BODY_PATHS = ("/predict", "/feedback", "/v2/models/")
JSON_TYPES = (b"application/json",)
PROTOCOL_TYPES = (b"", b"application/json", b"application/octet-stream")
CLIENT_CLOSED = 499  # the status recorded for a request whose client left before its body was in
Scope = dict[str, Any]
# a route answered by the Guard itself: (body, request id) -> (status, JSON payload or its encoding, model version)
FastHandler = Callable[[bytes, str], Awaitable[tuple[int, dict[str, Any] | bytes, str | None]]]


async def send_json(send: Any, status: int, payload: dict[str, Any] | bytes, request_id: str) -> None:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers.append((b"x-request-id", request_id.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class ClientLeft(Exception):
    """The connection closed before the whole body arrived: there is no one to answer."""


def refusal_body(path: str, reason: str, request_id: str) -> dict[str, Any]:
    """A refusal in the shape of the API it was sent to (the Open Inference Protocol's is {"error"})."""
    return {"error": reason} if path.startswith("/v2/") else {"detail": reason, "request_id": request_id}


class Guard:
    """Assign a request id, refuse wrong content types (415) and large bodies (413), record metrics.

    It wraps the whole application and answers its `fast_routes` itself.
    """

    def __init__(
        self,
        app: Any,
        metrics: ServiceMetrics,
        max_body_bytes: int,
        version: Callable[[], str],
        fast_routes: dict[str, FastHandler] | None = None,
    ) -> None:
        self.app, self.metrics, self.max_body_bytes, self.version = app, metrics, max_body_bytes, version
        self.fast_routes = fast_routes or {}
        self._children: dict[tuple[str, str, str], tuple[Any, Any]] = {}  # labelled metrics, looked up once
        self.state = app.state  # the wrapped app's state (its Service), for servers and tests
        # unique across processes and restarts, without a random draw per request
        self._prefix, self._counter = uuid.uuid4().hex[:16], itertools.count()

    def _new_id(self) -> str:
        return f"{self._prefix}{next(self._counter):016x}"

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope["headers"])
        # always the service's own id, unique per answer: a client's X-Request-ID is never taken
        # (a reused one could tie one feedback label to several predictions) nor echoed
        request_id = self._new_id()
        scope.setdefault("state", {})["request_id"] = request_id
        status = {"code": 500}

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            json_body = scope["method"] == "POST" and scope["path"].startswith(JSON_BODY_PATHS)
            refusal = self._refusal(scope, headers) if json_body else None
            if json_body and refusal is None:
                if b"content-type" not in headers:
                    scope["headers"] = [*scope["headers"], (b"content-type", b"application/json")]
                try:
                    body = await self._read_body(receive)
                except ClientLeft:
                    status["code"] = CLIENT_CLOSED
                    return
                if body is None:
                    refusal = 413, f"request body is larger than {self.max_body_bytes} bytes"
                elif scope["path"] in self.fast_routes:
                    code, payload, version = await self.fast_routes[scope["path"]](body, request_id)
                    status["code"] = code
                    scope["state"]["model_version"] = version
                    scope["endpoint"] = self.fast_routes[scope["path"]]
                    await send_json(send, code, payload, request_id)
                    return
                else:
                    receive = self._replay(body, receive)
            if refusal is not None:
                status["code"] = refusal[0]
                await send_json(send, refusal[0], refusal_body(scope["path"], refusal[1], request_id), request_id)
                return
            await self.app(scope, receive, send_with_id)
        finally:
            # FastAPI routes leave themselves in the scope; plain Starlette routes leave an endpoint
            route = scope.get("route")
            endpoint = route.path if route is not None else scope["path"] if "endpoint" in scope else "unmatched"
            version = scope["state"].get("model_version") or self.version()
            labels = (endpoint, str(status["code"]), version)
            children = self._children.get(labels)
            if children is None:
                children = self.metrics.requests.labels(*labels), self.metrics.latency.labels(*labels)
                self._children[labels] = children
            children[0].inc()
            children[1].observe(time.perf_counter() - started)

    def _refusal(self, scope: Scope, headers: dict[bytes, bytes]) -> tuple[int, str] | None:
        """415 or 413 for a JSON-body request, decided from its headers alone."""
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        # Open Inference Protocol clients may omit the header, or send binary tensor data
        accepted = PROTOCOL_TYPES if scope["path"].startswith("/v2/") else JSON_TYPES
        if content_type not in accepted:
            return 415, "send the body as application/json"
        if headers.get(b"content-encoding", b"identity").strip().lower() != b"identity":
            return 415, "send the body uncompressed (no Content-Encoding)"
        length = headers.get(b"content-length", b"")
        # compared as text first: int() of thousands of digits raises
        if length.isdigit() and (len(length) > len(str(self.max_body_bytes)) or int(length) > self.max_body_bytes):
            return 413, f"request body is larger than {self.max_body_bytes} bytes"
        return None

    async def _read_body(self, receive: Any) -> bytes | None:
        """The whole body, or None as soon as it passes the limit (a chunked body cannot sneak past).

        ClientLeft when the client disconnected, or a read deadline cut it off, before the end.
        """
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                raise ClientLeft
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    @staticmethod
    def _replay(body: bytes, receive: Any) -> Any:
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay
