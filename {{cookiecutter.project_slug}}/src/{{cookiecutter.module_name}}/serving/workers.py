"""Several worker processes on one port, each with its own listening socket.

uvicorn's own workers share one listening socket, and whichever is awake accepts every
waiting connection: kept-alive connections (a load balancer's, a client pool's) can all end
up on one process. Here each worker binds the port itself with SO_REUSEPORT and the kernel
spreads new connections over them. The supervisor starts another worker when one dies, stops
if a worker cannot start (a taken port, a broken setting: every new one would fail the same
way) and passes SIGTERM on, so each worker finishes its requests and writes its log.

Worker metrics are added up through files in a shared folder (serving/metrics.py).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.process import BaseProcess

import uvicorn
from uvicorn.config import STARTUP_FAILURE

log = logging.getLogger(__name__)
CHECK_SECONDS = 0.5


def configure_logging() -> None:
    """Warnings from everything, and this project's own messages from INFO up."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger(__name__.split(".")[0]).setLevel(logging.INFO)


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket of this worker's own on host:port, which other workers may bind too."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        listener.bind((host, port))
    except OSError:
        listener.close()
        raise
    return listener


def serve_one(config: uvicorn.Config) -> None:
    """One worker process: bind, serve until SIGTERM; exit code STARTUP_FAILURE if it never served."""
    config.configure_logging()
    configure_logging()
    try:
        listener = listening_socket(config.host, config.port)
    except OSError as error:
        log.error("cannot listen on %s:%d: %s", config.host, config.port, error)
        raise SystemExit(STARTUP_FAILURE) from None
    server = uvicorn.Server(config)
    server.run(sockets=[listener])
    if not server.started:
        raise SystemExit(STARTUP_FAILURE)


@contextmanager
def shared_metrics() -> Iterator[str]:
    """The folder the workers write their metrics to: a given one emptied first, or our own removed after."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    folder = given or tempfile.mkdtemp(prefix="service-metrics-")
    os.makedirs(folder, exist_ok=True)
    for stale in os.listdir(folder):  # an earlier run's values would be added to this one's
        if stale.endswith(".db"):
            os.remove(os.path.join(folder, stale))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder  # inherited by every worker
    try:
        yield folder
    finally:
        if given is None:
            del os.environ["PROMETHEUS_MULTIPROC_DIR"]
            shutil.rmtree(folder, ignore_errors=True)


def supervise(config: uvicorn.Config, workers: int) -> int:
    """Run `workers` processes until SIGTERM or SIGINT; the exit code (STARTUP_FAILURE if one could not start)."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no threads or state inherited
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    code = 0
    with shared_metrics():

        def start() -> BaseProcess:
            process = context.Process(target=serve_one, args=(config,), name="service-worker")
            process.start()
            return process

        processes = [start() for _ in range(workers)]
        log.info("started %d workers on %s:%d: %s", workers, config.host, config.port, [p.pid for p in processes])
        while not stopping.wait(CHECK_SECONDS):
            for index, process in enumerate(processes):
                if process.is_alive():
                    continue
                if process.exitcode == STARTUP_FAILURE:
                    log.error("worker %s could not start: stopping the others", process.pid)
                    code = STARTUP_FAILURE
                    stopping.set()
                    break
                log.warning("worker %s died (exit code %s): starting another", process.pid, process.exitcode)
                processes[index] = start()
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: the worker's own graceful shutdown
        for process in processes:
            process.join()
    return code
