"""A generated project's running service keeps its prediction log whatever clients send and whatever the disk does.

Integers beyond what SQLite stores, a locked or removed log file, /feedback's rules, canary batches split
per customer, and a stop that drains the shadow queue and the log within its grace period, or ends anyway.
The service runs as its own process (`python -m <module> serve`), exactly as `make serve` runs it.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from helpers import RunningService, holdout_records, run

pytestmark = pytest.mark.slow


def metric(service: RunningService, name: str, labels: str = "") -> float:
    """One sample of the service's /metrics, e.g. metric(s, "prediction_log_dropped_total", 'reason="shutdown"')."""
    text = httpx.get(f"{service.url}/metrics").text
    pattern = rf"^{re.escape(name)}{re.escape('{' + labels + '}') if labels else ''} (\S+)$"
    found = re.search(pattern, text, flags=re.MULTILINE)
    assert found, f"{name}{{{labels}}} is not on /metrics"
    return float(found.group(1))


def dropped(service: RunningService) -> float:
    return sum(metric(service, "prediction_log_dropped_total", f'reason="{r}"') for r in ("queue_full", "unstorable"))


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def logged(log: Path, role: str = "primary") -> dict[str, int]:
    with sqlite3.connect(log) as db:
        query = "select request_id, count(*) from predictions where role = ? group by request_id"
        return dict(db.execute(query, (role,)).fetchall())


def predict(http: httpx.Client, records: list[dict], **headers: str) -> str:
    response = http.post("/predict", json={"records": records}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["request_id"]


def test_an_integer_sqlite_cannot_hold_is_refused_and_the_log_keeps_every_later_answer(
    trained_project: Path, tmp_path: Path
) -> None:
    log = tmp_path / "log.db"
    records = holdout_records(trained_project, 20)
    with RunningService(trained_project, log) as service, httpx.Client(base_url=service.url, timeout=30) as http:
        for value in (2**63, 2**64, -(2**63) - 1):
            refused = http.post("/predict", json={"records": [records[0], {**records[1], "customer_id": value}]})
            assert refused.status_code == 422, refused.text
            assert [error["field"] for error in refused.json()["detail"]] == ["records.1.customer_id"]
            assert str(value) not in refused.text
        largest = predict(http, [{**records[0], "customer_id": 2**63 - 1}])
        later = [predict(http, records[i : i + 2]) for i in range(0, 20, 2)]
        assert http.post("/feedback", json={"request_id": later[0], "labels": [1, 0]}).status_code == 202
        wait_until(lambda: metric(service, "prediction_log_pending_rows") == 0)
        assert http.get("/health/ready").status_code == 200
        assert dropped(service) == 0
        assert metric(service, "prediction_log_writable") == 1
    assert logged(log) == {largest: 1, **dict.fromkeys(later, 2)}
    with sqlite3.connect(log) as db:
        assert db.execute("select customer_id from predictions where request_id = ?", (largest,)).fetchone() == (
            2**63 - 1,
        )
        assert db.execute("select count(*) from feedback where request_id = ?", (later[0],)).fetchone() == (2,)


def test_a_locked_then_removed_log_file_is_shown_on_metrics_and_loses_no_answer(
    trained_project: Path, tmp_path: Path
) -> None:
    log = tmp_path / "log.db"
    records = holdout_records(trained_project, 40)
    with RunningService(trained_project, log) as service, httpx.Client(base_url=service.url, timeout=30) as http:
        holder = sqlite3.connect(log, isolation_level=None)
        holder.execute("begin exclusive")  # another process holding the write lock, as a long write would
        try:
            started = time.monotonic()
            during = [predict(http, records[i : i + 2]) for i in range(0, 20, 2)]
            assert time.monotonic() - started < 10  # answers never wait for the log
            wait_until(lambda: metric(service, "prediction_log_write_errors_total") >= 2)
            assert metric(service, "prediction_log_writable") == 0
            assert metric(service, "prediction_log_pending_rows") == 20
        finally:
            holder.close()
        wait_until(lambda: metric(service, "prediction_log_pending_rows") == 0)
        assert metric(service, "prediction_log_writable") == 1
        assert logged(log) == dict.fromkeys(during, 2)

        log.unlink()  # removed by hand (or a cleanup job) while the service runs
        after = [predict(http, records[i : i + 2]) for i in range(20, 40, 2)]
        assert http.post("/feedback", json={"request_id": after[0], "labels": [0, 1]}).status_code == 202
        assert dropped(service) == 0
        output = service.stop()
    assert logged(log) == dict.fromkeys(after, 2), output[-3000:]
    assert "cannot be written" in output
    assert "was removed or replaced" in output


def test_feedback_takes_known_ids_one_strict_label_per_record_once(trained_project: Path, tmp_path: Path) -> None:
    log = tmp_path / "log.db"
    records = holdout_records(trained_project, 3)
    with RunningService(trained_project, log) as service, httpx.Client(base_url=service.url, timeout=30) as http:
        # a client reusing its own X-Request-ID still gets one id per prediction, never its own back
        first, second = (predict(http, records, **{"X-Request-ID": "order-42"}) for _ in range(2))
        assert first != second
        assert "order-42" not in (first, second)
        hostile = http.post("/predict", json={"records": records}, headers={"X-Request-ID": "<script>alert(1)"})
        assert "script" not in hostile.text + hostile.headers["x-request-id"]

        def send(request_id: str, labels: object) -> httpx.Response:
            return http.post("/feedback", json={"request_id": request_id, "labels": labels})

        assert send("order-42", [1, 0, 1]).status_code == 404
        for labels in ([True, False, True], [1.0, 0.0, 1.0], ["1", "0", "1"], [1, 0, 2]):
            assert send(first, labels).status_code == 422, labels
        miscounted = send(first, [1, 0])
        assert miscounted.status_code == 422
        assert miscounted.json()["detail"][0]["field"] == "labels"
        assert send(first, [1] * 500_000).status_code in (413, 422)
        assert send(first, [1, 0, 1]).status_code == 202
        assert send(first, [1, 0, 1]).json() == {"request_id": first, "accepted": 0, "already_recorded": True}
        conflict = send(first, [0, 0, 0])
        assert conflict.status_code == 409
        assert "already recorded" in conflict.json()["detail"]
        assert send(second, [0, 1, 0]).status_code == 202
    with sqlite3.connect(log) as db:
        stored = db.execute("select request_id, group_concat(label, '') from feedback group by request_id").fetchall()
    assert dict(stored) == {first: "101", second: "010"}


def test_a_canary_batch_is_answered_per_customer_by_the_model_each_routes_to(
    trained_project: Path, tmp_path: Path
) -> None:
    candidate = tmp_path / "candidate"
    run(["python", "-m", "churn_service", "export", "--output", str(candidate)], trained_project, activate=True)
    manifest = json.loads((candidate / "manifest.json").read_text())
    (candidate / "manifest.json").write_text(json.dumps({**manifest, "version": "candidate-2"}))
    log = tmp_path / "log.db"
    records = holdout_records(trained_project, 60)
    env = {"SERVING_STRATEGY": "canary", "CANDIDATE_MODEL_URI": str(candidate), "CANARY_WEIGHT": "0.5"}
    with RunningService(trained_project, log, **env) as service, httpx.Client(base_url=service.url, timeout=30) as http:
        alone = [http.post("/predict", json={"records": [record]}).json() for record in records]
        batch = http.post("/predict", json={"records": records}).json()
        versions = [answer["model_version"] for answer in alone]
        assert {"candidate-2", manifest["version"]} == set(versions)
        assert [prediction["model_version"] for prediction in batch["predictions"]] == versions
        assert batch["model_version"] == f"{manifest['version']},candidate-2"
        labels = [prediction["label"] for prediction in batch["predictions"]]
        assert http.post("/feedback", json={"request_id": batch["request_id"], "labels": labels}).status_code == 202
    with sqlite3.connect(log) as db:
        rows = db.execute(
            "select role, model_version from predictions where request_id = ? order by row", (batch["request_id"],)
        ).fetchall()
    assert [version for _, version in rows] == versions
    assert {role for role, version in rows if version == "candidate-2"} == {"candidate"}


def test_sigterm_under_load_scores_every_queued_shadow_copy(trained_project: Path, tmp_path: Path) -> None:
    log = tmp_path / "log.db"
    env = {
        "SERVING_STRATEGY": "shadow",
        "CANDIDATE_MODEL_URI": "models:/churn_service@champion",
        "SHADOW_QUEUE_SIZE": "100000",  # nothing dropped for lack of room: what is queued at the stop counts
        "SHUTDOWN_GRACE_SECONDS": "60",
    }
    service = RunningService(trained_project, log, **env)
    batch = {"records": holdout_records(trained_project, 200)}
    answered: list[str] = []
    stop = threading.Event()

    def client() -> None:
        with httpx.Client(base_url=service.url, timeout=30) as http:
            while not stop.is_set():
                try:
                    response = http.post("/predict", json=batch)
                except httpx.TransportError:
                    return
                if response.status_code == 200:
                    answered.append(response.json()["request_id"])

    workers = [threading.Thread(target=client) for _ in range(8)]
    for worker in workers:
        worker.start()
    time.sleep(3)
    output = service.stop(timeout=120)
    stop.set()
    for worker in workers:
        worker.join(timeout=30)

    assert len(answered) > 20, output[-3000:]
    assert logged(log) == dict.fromkeys(answered, 200), output[-3000:]
    assert logged(log, "shadow") == dict.fromkeys(answered, 200), output[-3000:]
    assert "not scored" not in output


def test_sigterm_with_an_unwritable_log_ends_within_the_grace_period_and_says_what_it_lost(
    trained_project: Path, tmp_path: Path
) -> None:
    log = tmp_path / "log.db"
    records = holdout_records(trained_project, 10)
    service = RunningService(trained_project, log, SHUTDOWN_GRACE_SECONDS="2")
    holder = sqlite3.connect(log, isolation_level=None)
    holder.execute("begin exclusive")
    try:
        with httpx.Client(base_url=service.url, timeout=30) as http:
            for i in range(5):
                predict(http, records[i : i + 2])
        started = time.monotonic()
        output = service.stop(timeout=30)
        assert time.monotonic() - started < 15, output[-3000:]
    finally:
        holder.close()
    assert "10 row(s) dropped" in output, output[-3000:]
    assert "grace period" in output
