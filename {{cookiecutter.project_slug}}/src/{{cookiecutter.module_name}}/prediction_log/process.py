"""The log's rows built and committed in a child process, so the serving process keeps its interpreter.

Building a row per record and binding it into the database holds Python's global lock: in the
serving process that work delayed the requests running beside it (a 1,000-record batch's p99 rose
fourfold with the log on). The writer thread now only pickles the queued entries and sends them
down a pipe (records the fast path decoded go as their request body, decoded again here); this
child builds the rows and commits them, on the other core, and answers with the number of rows
refused for their values or with the error that stopped the write.

The pipe carries length-prefixed pickles between a process and its own child. The first message is
the target, so a PostgreSQL URL's password never appears on a command line. The child ends when its
input closes (the service stopped, or died); one that dies is started again and its batch retried.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import struct
import subprocess
import sys
from typing import IO, Any

from .store import LogUnavailable, describe, open_store
from .tables import PREDICTION, prediction_rows

log = logging.getLogger(__name__)

HEADER = struct.Struct("<Q")  # the length of the pickle that follows
STOP_SECONDS = 5.0  # how long the child may take to finish its last write once its input closes


def send(stream: IO[bytes], message: Any) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(payload)))
    stream.write(payload)  # not concatenated: a batch's pickle is not copied once more
    stream.flush()


def read_message(stream: IO[bytes]) -> bytes:
    """The next message's pickle; EOFError when the other side has closed the pipe."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        raise EOFError("the pipe closed")
    (size,) = HEADER.unpack(header)
    payload = stream.read(size)
    if len(payload) < size:
        raise EOFError("the pipe closed mid-message")
    return payload


def receive(stream: IO[bytes]) -> Any:
    """The next message; EOFError when the other side has closed the pipe."""
    return pickle.loads(read_message(stream))


def write_entries(store: Any, entries: list[tuple[Any, ...]]) -> int:
    """Commit queued entries (answered requests and feedback labels); the rows refused for their values."""
    predictions: list[tuple[Any, ...]] = []
    feedback: list[tuple[Any, ...]] = []
    for entry in entries:
        if entry[0] == PREDICTION:
            predictions.extend(prediction_rows(*entry[1:]))
        else:
            _, request_id, received_at, labels = entry
            feedback.extend((request_id, i, label, received_at) for i, label in enumerate(labels))
    return int(store.write(predictions, feedback))


class WriterProcess:
    """The child that writes the log; `write` blocks (without holding the interpreter) until it answers.

    A child that dies is started again on the next write; the entries it held are written then.
    """

    def __init__(self, target: Any) -> None:
        self.target = target
        self._child: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The running child's process id, None before the first write or after a stop."""
        return self._child.pid if self._child is not None else None

    def _pipes(self) -> tuple[IO[bytes], IO[bytes]]:
        """The running child's input and output, the child started first if there is none."""
        if self._child is None or self._child.poll() is not None:
            self._child = subprocess.Popen(
                [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE
            )
            if self._child.stdin is None or self._child.stdout is None:
                raise OSError("the writer process has no pipes")
            send(self._child.stdin, self.target)
        return self._child.stdin, self._child.stdout  # type: ignore[return-value]

    def write(self, entries: list[tuple[Any, ...]]) -> int:
        """Commit the entries through the child; the rows refused for their values. Raises on a storage fault."""
        try:
            requests, replies = self._pipes()
            send(requests, entries)
            outcome, value = receive(replies)
        except (OSError, EOFError, pickle.UnpicklingError) as error:
            self._stop(kill=True)
            raise LogUnavailable(f"the writer process of {describe(self.target)} stopped ({error})") from error
        if outcome != "ok":
            raise LogUnavailable(value)
        return int(value)

    def _stop(self, kill: bool = False) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        if kill:
            child.kill()
        elif child.stdin is not None:
            with contextlib.suppress(OSError):  # it is gone already
                child.stdin.close()
        try:
            child.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        for stream in (child.stdin, child.stdout):
            if stream is not None:
                stream.close()

    def close(self) -> None:
        """Let the child finish and exit (its input closes)."""
        self._stop()

    def kill(self) -> None:
        """Stop a child whose write is stuck."""
        self._stop(kill=True)


def main() -> None:
    """The child: open the store, then write each batch it is sent until its input closes.

    It ignores SIGINT and SIGTERM (a terminal's Ctrl-C reaches the whole process group): the service
    stops it by closing its input once the queue is written, or kills it.
    """
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray output must not corrupt the replies
    requests = sys.stdin.buffer
    target = receive(requests)
    store = None
    while True:
        try:
            payload = read_message(requests)
        except EOFError:
            break
        try:
            entries = pickle.loads(payload)  # fast-path records decode their body again here
            if store is None:
                store = open_store(target)
            reply: tuple[str, Any] = ("ok", write_entries(store, entries))
        except Exception as error:  # a storage fault (or unreadable entries): the service keeps them and retries
            reply = ("error", f"{type(error).__name__}: {error}")
        send(replies, reply)
    if store is not None:
        store.close()


if __name__ == "__main__":
    main()
