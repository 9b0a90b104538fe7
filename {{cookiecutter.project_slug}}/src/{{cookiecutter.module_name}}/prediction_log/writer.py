"""The log's one writer: the service appends every answered prediction and feedback label.

Requests only append to a bounded in-memory queue; one writer thread hands batches to a child
process that builds the rows and commits them (process.py), so logging never blocks or fails a
prediction, nor holds the interpreter the requests need. A storage fault (disk full or read-only, file
locked or removed, database down or restarting) never stops the writer: the batch is retried
with backoff while new rows wait in the queue, `prediction_log_writable` drops to 0 and every
failed attempt is counted.
A value the database cannot store is refused row by row, never taking the rest of its batch
with it. `close()` writes what is queued within a grace period and reports what it could not.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, Protocol

from prometheus_client import Counter, Gauge

from .process import WriterProcess
from .store import LogUnavailable, open_store
from .tables import FEEDBACK, PREDICTION, SHADOW, Models

log = logging.getLogger(__name__)

COALESCE_SECONDS = 0.05
MAX_BATCH = 10_000  # entries per transaction
MAX_BACKOFF_SECONDS = 5.0
STUCK_WRITE_SECONDS = 6.0  # how long one write may still wait at shutdown (a lock, a database's connect timeout)
__all__ = ["Feedback", "LogUnavailable", "PredictionLog"]


class Feedback(enum.Enum):
    """What became of a feedback submission."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"  # the same labels were already recorded
    CONFLICT = "conflict"  # other labels were already recorded
    UNKNOWN = "unknown"  # no answered prediction has this request id
    MISCOUNTED = "miscounted"  # not one label per record of the prediction
    DROPPED = "dropped"  # the queue is full


class LogMetrics(Protocol):
    """The service metrics the log reports its health on (serving/metrics.py defines them)."""

    log_pending: Gauge
    log_dropped: Counter
    log_write_errors: Counter
    log_writable: Gauge


def _answered(models: Models) -> bool:
    """Rows a client was answered with (feedback refers to them), not a shadow's."""
    return bool(models) and models[0][1] != SHADOW


class PredictionLog:
    """Append-only log with a background writer; `record_*` never block."""

    def __init__(self, target: str | Path, metrics: LogMetrics, max_pending_rows: int = 100_000) -> None:
        self.metrics = metrics
        self.max_pending_rows = max_pending_rows
        self._entries: deque[tuple[Any, ...]] = deque()
        self._pending_rows = 0  # queued or being written: what the memory bound counts
        self._changed = threading.Condition()
        # answers and labels not yet committed, so feedback can be checked before the write lands
        self._unwritten: dict[str, int] = {}
        self._unwritten_labels: dict[str, tuple[int, ...]] = {}
        self._feedback_lock = threading.Lock()  # one feedback check-and-queue at a time
        self._closing = False
        self._deadline = float("inf")
        self._last_drop_report = 0.0
        self._lost_at_close = 0
        self.store = open_store(target)  # a file that cannot be created or a malformed URL stops the service
        # it is created and migrated now; the writer process writes it, so this process keeps no write
        # connection: feedback's reads open their own
        self.store.close()
        self._process = WriterProcess(target)
        self._writer = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._writer.start()

    # --- producers (event loop, shadow thread, feedback threads) ----------------------------------

    def record_predictions(
        self,
        request_id: str,
        records: list[dict[str, Any]],
        probabilities: list[float],
        labels: list[int],
        models: Models,
    ) -> None:
        """Queue one answered request; rows are built by the writer thread."""
        entry = (PREDICTION, request_id, time.time(), records, probabilities, labels, models)
        with self._changed:
            if self._admit(len(records)):
                self._entries.append(entry)
                if _answered(models):
                    self._unwritten[request_id] = len(records)
                self._changed.notify()

    def submit_feedback(self, request_id: str, labels: tuple[int, ...]) -> tuple[Feedback, int]:
        """Check the labels against the logged answer, then queue them; the outcome and the record count.

        Blocking (it may read the file): call it from a worker thread.
        """
        with self._feedback_lock:
            records = self._records_answered(request_id)
            if not records:
                return Feedback.UNKNOWN, 0
            if len(labels) != records:
                return Feedback.MISCOUNTED, records
            recorded = self._recorded_labels(request_id)
            if recorded is not None:
                return (Feedback.DUPLICATE if recorded == labels else Feedback.CONFLICT), records
            with self._changed:
                if not self._admit(len(labels)):
                    return Feedback.DROPPED, records
                self._entries.append((FEEDBACK, request_id, time.time(), labels))
                self._unwritten_labels[request_id] = labels
                self._changed.notify()
            return Feedback.ACCEPTED, records

    def _admit(self, rows: int) -> bool:
        """Reserve room for `rows` (the caller holds the lock); a full queue drops them, counted and reported."""
        if self._pending_rows + rows > self.max_pending_rows:
            self._lost("queue_full", rows, "the queue is full (the log is not keeping up or cannot be written)")
            return False
        self._pending_rows += rows
        self.metrics.log_pending.set(self._pending_rows)
        return True

    def _lost(self, reason: str, rows: int, why: str) -> None:
        self.metrics.log_dropped.labels(reason).inc(rows)
        now = time.monotonic()
        if now - self._last_drop_report >= 10 or reason != "queue_full":  # one line per 10 s under overload
            self._last_drop_report = now
            log.error("prediction log: %d row(s) dropped: %s", rows, why)

    # --- reads for feedback ---------------------------------------------------------------------------

    def _records_answered(self, request_id: str) -> int:
        with self._changed:
            if request_id in self._unwritten:
                return self._unwritten[request_id]
        # entries leave the map only after their commit: absent here means written, dropped or never answered
        rows = self.store.read(
            "select count(*) from predictions where request_id = ? and role != 'shadow'", (request_id,)
        )
        return int(rows[0][0]) if rows else 0

    def _recorded_labels(self, request_id: str) -> tuple[int, ...] | None:
        with self._changed:
            if request_id in self._unwritten_labels:
                return self._unwritten_labels[request_id]
        rows = self.store.read(
            "select label from feedback where request_id = ? order by row, received_at", (request_id,)
        )
        return tuple(label for (label,) in rows) or None

    # --- the writer thread -------------------------------------------------------------------------------

    def _take(self) -> list[tuple[Any, ...]]:
        """The next batch of entries; empty once closing and drained."""
        with self._changed:
            while not self._entries and not self._closing:
                self._changed.wait()
            closing = self._closing
        if not closing:
            time.sleep(COALESCE_SECONDS)  # let a burst accumulate: one transaction, few GIL switches
        with self._changed:
            count = min(len(self._entries), MAX_BATCH)
            return [self._entries.popleft() for _ in range(count)]

    def _run(self) -> None:
        failures = 0
        while entries := self._take():
            while True:
                try:
                    self._write(entries)
                except Exception as error:  # a storage fault: keep the batch, retry; never let the writer die
                    failures += 1
                    self.metrics.log_write_errors.inc()
                    self.metrics.log_writable.set(0)
                    if failures == 1 or failures % 100 == 0:
                        log.error(
                            "prediction log %s cannot be written (attempt %d, retrying): %s",
                            self.store,
                            failures,
                            error,
                        )
                    wait = min(MAX_BACKOFF_SECONDS, 0.1 * 2 ** min(failures, 6), self._deadline - time.monotonic())
                    if wait <= 0:  # closing and out of time
                        self._abandon(entries)
                        return
                    time.sleep(wait)
                    continue
                self._settle(entries)
                if failures:
                    log.warning("prediction log %s is written again after %d failed attempt(s)", self.store, failures)
                    failures = 0
                self.metrics.log_writable.set(1)
                break

    def _write(self, entries: list[tuple[Any, ...]]) -> None:
        """Commit the batch; values the database refuses are dropped one row at a time."""
        refused = self._process.write(entries)
        if refused:
            self._lost("unstorable", refused, "a value the database cannot store (the rest of the batch is written)")

    def _settle(self, entries: list[tuple[Any, ...]]) -> None:
        """Forget written (or dropped) entries: the file now answers for them."""
        with self._changed:
            for entry in entries:
                self._pending_rows -= len(entry[3])  # its records, or its labels
                if entry[0] is FEEDBACK:
                    self._unwritten_labels.pop(entry[1], None)
                elif _answered(entry[6]):
                    self._unwritten.pop(entry[1], None)
            self.metrics.log_pending.set(self._pending_rows)

    def _abandon(self, entries: list[tuple[Any, ...]]) -> None:
        """Out of time at shutdown: drop this batch and everything still queued, and say so."""
        with self._changed:
            entries = entries + list(self._entries)
            self._entries.clear()
            rows = sum(len(entry[3]) for entry in entries)
        self._settle(entries)
        self._lost_at_close = rows
        self._lost("shutdown", rows, "the grace period ended while the log could not be written")

    def close(self, timeout: float = 10.0) -> int:
        """Write everything queued within `timeout` seconds, then stop the writer; the rows lost."""
        with self._changed:
            self._closing = True
            self._deadline = time.monotonic() + timeout
            self._changed.notify_all()
        self._writer.join(timeout + STUCK_WRITE_SECONDS)  # one write attempt may still be waiting
        if self._writer.is_alive():
            with self._changed:
                lost = self._pending_rows
            self._lost("shutdown", lost, "the writer is stuck; it is abandoned")
            self._process.kill()
            return lost
        self._process.close()
        self.store.close()
        if not self._lost_at_close:
            log.info("prediction log %s closed: every queued row is written", self.store)
        return self._lost_at_close
