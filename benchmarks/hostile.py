"""The soak's traffic: valid requests and hostile ones, each case a weighted coroutine against a running service.

Every case returns its outcome (an HTTP status, or what happened to the connection) and, for answered
predictions and accepted feedback, what the prediction log must hold afterwards. Cases say nothing
about which 4xx is right: the soak's verdict is about 5xx, memory and the log.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx

DATATYPES = {"int": "INT64", "float": "FP64", "category": "BYTES"}
BIG = 2 * 1024 * 1024  # above the service's default 1 MiB body limit
SLOW_CAP_S = 20.0  # a trickling client gives up after this long if the server has not closed on it
SURROGATE = '"\\ud800"'  # a lone surrogate as JSON writes it
IDLE = "nothing to label yet"  # the feedback case before any prediction has settled


@dataclass
class Traffic:
    """What the clients share: the service, valid records, and what was answered."""

    url: str
    infer: str  # the Open Inference Protocol path of the served model
    client: httpx.AsyncClient
    columns: list[dict[str, Any]]
    records: list[dict[str, Any]]
    rng: random.Random
    answered: list[tuple[str, int]] = field(default_factory=list)  # (request id, rows) of every 200 prediction
    feedback: list[tuple[str, int]] = field(default_factory=list)  # (request id, labels) of every accepted feedback
    recent: deque = field(default_factory=lambda: deque(maxlen=500))  # (time, request id, rows) to give feedback on
    slow_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(4))

    def body(self, count: int = 1) -> dict[str, Any]:
        return {"records": [dict(record) for record in self.rng.sample(self.records, count)]}

    def tensors(self, count: int) -> dict[str, Any]:
        rows = self.rng.sample(self.records, count)
        inputs = [
            {
                "name": c["name"],
                "shape": [count],
                "datatype": DATATYPES[c["dtype"]],
                "data": [row[c["name"]] for row in rows],
            }
            for c in self.columns
        ]
        return {"inputs": inputs}


Outcome = tuple[str, int]  # (outcome, response bytes)


async def send(
    traffic: Traffic,
    path: str,
    content: bytes | None = None,
    headers: dict[str, Any] | None = None,
    method: str = "POST",
) -> httpx.Response:
    base = {"content-type": "application/json"} if content is not None else {}
    return await traffic.client.request(
        method, traffic.url + path, content=content, headers={**base, **(headers or {})}
    )


def _answered_id(response: httpx.Response) -> str:
    try:
        return response.json().get("request_id") or response.headers["x-request-id"]
    except ValueError:
        return response.headers["x-request-id"]


async def predicted(traffic: Traffic, body: dict[str, Any], headers: dict[str, Any] | None = None) -> Outcome:
    """A /predict whose 200 answer must be in the log, row for row."""
    response = await send(traffic, "/predict", json.dumps(body).encode(), headers)
    if response.status_code == 200:
        rows = len(body["records"])
        request_id = _answered_id(response)
        traffic.answered.append((request_id, rows))
        traffic.recent.append((time.monotonic(), request_id, rows))
    return str(response.status_code), len(response.content)


# --- valid traffic --------------------------------------------------------------------------------


async def predict_one(traffic: Traffic) -> Outcome:
    return await predicted(traffic, traffic.body(1))


async def predict_batch(traffic: Traffic) -> Outcome:
    return await predicted(traffic, traffic.body(traffic.rng.randint(2, min(1000, len(traffic.records)))))


async def oip_infer(traffic: Traffic) -> Outcome:
    count = traffic.rng.randint(1, 50)
    response = await send(traffic, traffic.infer, json.dumps(traffic.tensors(count)).encode())
    if response.status_code == 200:
        traffic.answered.append((response.headers["x-request-id"], count))
    return str(response.status_code), len(response.content)


async def feedback(traffic: Traffic) -> Outcome:
    """Labels for a prediction answered at least 5 s ago (the log writes in batches), one per row."""
    settled = [entry for entry in traffic.recent if time.monotonic() - entry[0] > 5]
    if not settled:
        await asyncio.sleep(0.1)
        return IDLE, 0
    _, request_id, rows = traffic.rng.choice(settled)
    labels_of_this_id = random.Random(request_id)  # a repeat sends the same labels: 200, already recorded
    labels = [labels_of_this_id.randint(0, 1) for _ in range(rows)]
    response = await send(traffic, "/feedback", json.dumps({"request_id": request_id, "labels": labels}).encode())
    if response.status_code == 202:
        traffic.feedback.append((request_id, rows))
    return str(response.status_code), len(response.content)


# --- hostile bodies -------------------------------------------------------------------------------


async def oversized_body(traffic: Traffic) -> Outcome:
    padding = "x" * BIG
    response = await send(traffic, "/predict", json.dumps({"records": [], "padding": padding}).encode())
    return str(response.status_code), len(response.content)


async def oversized_chunked(traffic: Traffic) -> Outcome:
    """The same size without a Content-Length: the limit must hold while the body streams in."""

    async def chunks():
        yield b'{"records": ['
        for _ in range(BIG // 65536):
            yield b" " * 65536
        yield b"]}"

    response = await traffic.client.post(
        traffic.url + "/predict", content=chunks(), headers={"content-type": "application/json"}
    )
    return str(response.status_code), len(response.content)


async def many_records(traffic: Traffic) -> Outcome:
    """100,000 empty records (~300 KB) or 1,000 records with every field wrong: validation cost and answer size."""
    if traffic.rng.random() < 0.5:
        body = {"records": [{}] * 100_000}
    else:
        wrong = {c["name"]: "x" if c["dtype"] != "category" else 0 for c in traffic.columns}
        body = {"records": [wrong] * 1000}
    response = await send(traffic, "/predict", json.dumps(body).encode())
    return str(response.status_code), len(response.content)


def _invalid_bodies(traffic: Traffic) -> list[bytes]:
    record = traffic.body(1)["records"][0]
    numeric = next(c["name"] for c in traffic.columns if c["dtype"] in ("int", "float") and c["role"] == "feature")
    category = next(c["name"] for c in traffic.columns if c["dtype"] == "category")
    variants = [
        {**record, numeric: "abc"},
        {**record, numeric: -1e308},
        {**record, category: "not-a-category"},
        {**record, category: None},
        {**record, numeric: {"nested": [1, 2]}},
        {key: value for key, value in record.items() if key != numeric},
    ]
    bodies = [json.dumps({"records": [variant]}).encode() for variant in variants]
    placeholder = json.dumps({"records": [{**record, numeric: "@"}]})
    bodies += [
        json.dumps({"records": record}).encode(),  # not a list
        b'{"records": []}',
        placeholder.replace('"@"', "NaN").encode(),
        placeholder.replace('"@"', "-Infinity").encode(),
    ]
    return bodies


async def invalid_fields(traffic: Traffic) -> Outcome:
    response = await send(traffic, "/predict", traffic.rng.choice(_invalid_bodies(traffic)))
    return str(response.status_code), len(response.content)


async def huge_int(traffic: Traffic) -> Outcome:
    """Integers the JSON accepts and a 64-bit store does not; a 200 must still be logged."""
    value = traffic.rng.choice(["1" + "0" * 30, str(2**63), str(2**64), str(-(2**63) - 1), "9" * 5000])
    ints = [c["name"] for c in traffic.columns if c["dtype"] == "int"]
    record = traffic.body(1)["records"][0]
    name = traffic.rng.choice(ints)
    text = json.dumps({"records": [{**record, name: 0}]}).replace(f'"{name}": 0', f'"{name}": {value}', 1)
    response = await send(traffic, "/predict", text.encode())
    if response.status_code == 200:
        request_id = _answered_id(response)
        traffic.answered.append((request_id, 1))
    return str(response.status_code), len(response.content)


async def lone_surrogate(traffic: Traffic) -> Outcome:
    record = traffic.body(1)["records"][0]
    category = next(c["name"] for c in traffic.columns if c["dtype"] == "category")
    choice = traffic.rng.randrange(5)
    if choice == 0:
        text = json.dumps({"records": [{**record, category: "@"}]}).replace('"@"', SURROGATE)
        path = "/predict"
    elif choice == 1:
        text = json.dumps({"records": [{**record, "@": 1}]}).replace('"@"', SURROGATE)
        path = "/predict"
    elif choice == 2:
        text = json.dumps({"id": "@", **traffic.tensors(1)}).replace('"@"', SURROGATE)
        path = traffic.infer
    elif choice == 3:
        text = json.dumps({"request_id": "@", "labels": [1]}).replace('"@"', SURROGATE)
        path = "/feedback"
    else:
        response = await send(traffic, "/predict", b'{"records": [{"\xff\xfe": 1}]}')  # not UTF-8 at all
        return str(response.status_code), len(response.content)
    response = await send(traffic, path, text.encode())
    return str(response.status_code), len(response.content)


async def unknown_fields(traffic: Traffic) -> Outcome:
    record = traffic.body(1)["records"][0]
    choice = traffic.rng.randrange(3)
    if choice == 0:
        body = {"records": [{**record, "unexpected": 1}]}
    elif choice == 1:
        body = {"records": [record], "unexpected": True}
    else:
        body = {"records": [{**record, "k" * 500_000: 1}]}  # a field name of half a megabyte
    response = await send(traffic, "/predict", json.dumps(body).encode())
    return str(response.status_code), len(response.content)


async def bad_json(traffic: Traffic) -> Outcome:
    choice = traffic.rng.randrange(5)
    if choice == 0:
        response = await send(traffic, "/predict", b'{"records": [{"age": ')
    elif choice == 1:
        response = await send(traffic, "/predict", b"not json at all")
    elif choice == 2:
        body = json.dumps(traffic.body(1)).encode()
        response = await send(traffic, "/predict", body, {"content-type": "text/plain"})
    elif choice == 3:
        response = await send(traffic, "/predict", b"")
    else:
        response = await send(traffic, "/predict", b"[" * 100_000 + b"]" * 100_000)  # deep nesting
    return str(response.status_code), len(response.content)


async def bad_feedback(traffic: Traffic) -> Outcome:
    known = traffic.recent[-1][1] if traffic.recent else "unknown"
    rows = traffic.recent[-1][2] if traffic.recent else 1
    bodies: list[Any] = [
        {"request_id": "never-answered-" + str(traffic.rng.random()), "labels": [1]},
        {"request_id": known, "labels": [1] * (rows + 1)},  # more labels than predictions
        {"request_id": known, "labels": [True] * rows},
        {"request_id": known, "labels": [1.0] * rows},
        {"request_id": known, "labels": [2] * rows},
        {"request_id": known, "labels": [1] * 200_000},
        {"request_id": "r" * 10_000, "labels": [1]},
        {"request_id": known},
    ]
    response = await send(traffic, "/feedback", json.dumps(traffic.rng.choice(bodies)).encode())
    return str(response.status_code), len(response.content)


async def hostile_request_id(traffic: Traffic) -> Outcome:
    """A valid body under a hostile X-Request-ID: refused, or answered under an id the log holds."""
    value = traffic.rng.choice([b"i" * 10_000, b"\xff\xfe\xfd", b"<script>", b"reused-request-id"])
    return await predicted(traffic, traffic.body(1), {"x-request-id": value})


async def oip_hostile(traffic: Traffic) -> Outcome:
    choice = traffic.rng.randrange(4)
    if choice == 0:
        response = await send(traffic, "/v2/models/" + "m" * 4000 + "/infer", json.dumps(traffic.tensors(1)).encode())
    elif choice == 1:
        body = traffic.tensors(2)
        body["inputs"][0]["data"] = body["inputs"][0]["data"][:1]
        response = await send(traffic, traffic.infer, json.dumps(body).encode())
    elif choice == 2:
        body = traffic.tensors(1)
        body["inputs"][0]["datatype"] = "FP16"
        body["inputs"][0]["data"] = ["text"]
        response = await send(traffic, traffic.infer, json.dumps(body).encode())
    else:
        body = traffic.tensors(1)
        for tensor in body["inputs"]:
            tensor["data"] = tensor["data"] * 50_000
            tensor["shape"] = [50_000]
        response = await send(traffic, traffic.infer, json.dumps(body).encode())
    return str(response.status_code), len(response.content)


async def metrics(traffic: Traffic) -> Outcome:
    response = await send(traffic, "/metrics", method="GET")
    return str(response.status_code), len(response.content)


# --- hostile connections (raw sockets) ------------------------------------------------------------


async def _raw(traffic: Traffic, chunks: list[bytes], pause: float) -> Outcome:
    """Send chunks with a pause between them; the outcome is the status line, or how the server ended it."""
    host, port = traffic.url.removeprefix("http://").split(":")
    try:
        reader, writer = await asyncio.open_connection(host, int(port), limit=1 << 20)
    except OSError:
        return "connection refused", 0
    started = time.monotonic()
    try:
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
            if pause:
                try:  # the server may answer or close while the client is still sending
                    early = await asyncio.wait_for(reader.read(4096), timeout=pause)
                except TimeoutError:
                    early = None
                if early is not None:
                    return (_status(early) if early else "closed by server"), len(early)
            if time.monotonic() - started > SLOW_CAP_S:
                return "still open after 20 s", 0
        answer = await asyncio.wait_for(reader.read(65536), timeout=30)
        return (_status(answer) if answer else "closed by server"), len(answer)
    except (ConnectionError, OSError):
        return "reset by server", 0
    except TimeoutError:
        return "no answer in 30 s", 0
    finally:
        writer.close()


def _status(answer: bytes) -> str:
    parts = answer.split(b" ", 2)
    return parts[1].decode("ascii", "replace") if len(parts) > 1 and answer.startswith(b"HTTP/") else "garbage"


async def huge_header(traffic: Traffic) -> Outcome:
    size = traffic.rng.choice([64 * 1024, 1024 * 1024, 8 * 1024 * 1024])
    head = b"POST /predict HTTP/1.1\r\nHost: soak\r\nContent-Type: application/json\r\n"
    header = b"X-Padding: " + b"a" * size + b"\r\n"
    body = json.dumps(traffic.body(1)).encode()
    request = head + header + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    return await _raw(traffic, [request[i : i + 65536] for i in range(0, len(request), 65536)], 0)


async def slow_header(traffic: Traffic) -> Outcome:
    """A slowloris client: the request line, then one header byte every 0.5 s."""
    async with traffic.slow_slots:
        chunks = [b"POST /predict HTTP/1.1\r\nHost: soak\r\n", *(b"X" for _ in range(200))]
        return await _raw(traffic, chunks, 0.5)


async def slow_body(traffic: Traffic) -> Outcome:
    """Headers promising 10,000 bytes, then ten bytes a second."""
    async with traffic.slow_slots:
        head = (
            b"POST /predict HTTP/1.1\r\nHost: soak\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n"
        )
        return await _raw(traffic, [head, *(b" " * 10 for _ in range(100))], 1.0)


VALID = {"predict-one": 30, "predict-batch": 8, "oip-infer": 4, "feedback": 5, "metrics": 1}
HOSTILE = {
    "oversized-body": 2,
    "oversized-chunked": 1,
    "many-records": 1,
    "invalid-fields": 6,
    "huge-int": 3,
    "lone-surrogate": 3,
    "unknown-fields": 3,
    "bad-json": 2,
    "bad-feedback": 4,
    "hostile-request-id": 2,
    "oip-hostile": 2,
    "huge-header": 1,
    "slow-header": 1,
    "slow-body": 1,
}
CASES = {
    "predict-one": predict_one,
    "predict-batch": predict_batch,
    "oip-infer": oip_infer,
    "feedback": feedback,
    "metrics": metrics,
    "oversized-body": oversized_body,
    "oversized-chunked": oversized_chunked,
    "many-records": many_records,
    "invalid-fields": invalid_fields,
    "huge-int": huge_int,
    "lone-surrogate": lone_surrogate,
    "unknown-fields": unknown_fields,
    "bad-json": bad_json,
    "bad-feedback": bad_feedback,
    "hostile-request-id": hostile_request_id,
    "oip-hostile": oip_hostile,
    "huge-header": huge_header,
    "slow-header": slow_header,
    "slow-body": slow_body,
}
WEIGHTS = {**VALID, **HOSTILE}
