"""Two service replicas share one prediction log in a real PostgreSQL server (Debian's, started here).

Under concurrent load each answered request is logged once, whichever replica answered it; feedback
is accepted by the replica that did not answer; monitoring reads the union; and a database that
crashes and comes back in the middle of the load loses no row of an acknowledged answer.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import SERVICE_MODULE, RunningService, holdout_records, run
from postgres_server import PostgresServer

pytestmark = pytest.mark.slow

CLIENTS_PER_REPLICA = 4


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    with PostgresServer() as running:
        yield running


class Load:
    """Clients posting small batches to both replicas; the rows of every acknowledged answer, by request id."""

    def __init__(self, replicas: list[RunningService], records: list[dict[str, Any]]) -> None:
        self.replicas = replicas
        self.records = records
        self.answered: dict[str, tuple[int, int]] = {}  # request id -> (replica, rows)
        self.failed = 0
        self._lock = threading.Lock()

    def send(self, replica: int, requests: int) -> None:
        chance = random.Random(replica * 1000 + requests)
        with httpx.Client(base_url=self.replicas[replica].url, timeout=30) as client:
            for _ in range(requests):
                batch = chance.sample(self.records, chance.randint(1, 5))
                response = client.post("/predict", json={"records": batch})
                with self._lock:
                    if response.status_code == 200:
                        self.answered[response.json()["request_id"]] = (replica, len(batch))
                    else:
                        self.failed += 1

    def run(self, requests_per_client: int) -> None:
        with ThreadPoolExecutor(CLIENTS_PER_REPLICA * len(self.replicas)) as pool:
            futures = [
                pool.submit(self.send, replica, requests_per_client)
                for replica in range(len(self.replicas))
                for _ in range(CLIENTS_PER_REPLICA)
            ]
            for future in futures:
                future.result()


def logged_rows(server: PostgresServer) -> dict[str, int]:
    rows = server.query("select request_id, count(*) from predictions where role = 'primary' group by request_id")
    return {request_id: int(count) for request_id, count in rows}


def metric(service: RunningService, name: str) -> float:
    text = httpx.get(f"{service.url}/metrics").text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


def test_replicas_share_the_log_and_a_database_crash_loses_no_acknowledged_row(
    trained_project: Path, server: PostgresServer
) -> None:
    records = holdout_records(trained_project, 200)
    with (
        RunningService(trained_project, PREDICTION_LOG=server.url) as first,
        RunningService(trained_project, PREDICTION_LOG=server.url) as second,
    ):
        load = Load([first, second], records)
        load.run(40)
        server.stop("immediate")  # every connection dies, as in a crash
        outage = threading.Thread(target=load.run, args=(25,))
        outage.start()
        outage.join()
        unwritten = metric(first, "prediction_log_pending_rows") + metric(second, "prediction_log_pending_rows")
        assert unwritten > 0, "the answers of the outage wait in the replicas' queues"
        server.start()

        deadline = time.monotonic() + 60
        expected = {request_id: rows for request_id, (_, rows) in load.answered.items()}
        while logged_rows(server) != expected:
            assert time.monotonic() < deadline, "acknowledged answers never reached the database"
            time.sleep(0.5)
        assert load.failed == 0
        assert {replica for replica, _ in load.answered.values()} == {0, 1}
        for replica in (first, second):
            assert metric(replica, "prediction_log_write_errors_total") > 0  # the outage was seen and retried
            assert metric(replica, "prediction_log_dropped_total") == 0
            assert metric(replica, "prediction_log_writable") == 1

        # feedback through the replica that did not answer
        chosen = random.Random(7).sample(sorted(load.answered), 60)
        for request_id in chosen:
            answered_by, rows = load.answered[request_id]
            other = (second, first)[answered_by]
            response = httpx.post(f"{other.url}/feedback", json={"request_id": request_id, "labels": [1] * rows})
            assert response.status_code == 202, response.text
    labelled_rows = sum(load.answered[request_id][1] for request_id in chosen)
    assert int(server.query("select count(*) from feedback")[0][0]) == labelled_rows

    # monitoring reads the union of both replicas' answers and labels from the same URL
    union = (
        "import json; "
        f"from {SERVICE_MODULE}.monitoring.windows import logged_window; "
        f"from {SERVICE_MODULE}.monitoring.feedback import logged_feedback; "
        f"url = {server.url!r}; "
        "print(json.dumps([len(logged_window(url, 0)), len(logged_feedback(url))]))"
    )
    result = run(["python", "-c", union], trained_project, activate=True)
    assert json.loads(result.stdout.splitlines()[-1]) == [sum(expected.values()), labelled_rows]
