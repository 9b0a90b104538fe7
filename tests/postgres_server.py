"""A real PostgreSQL server for a test: Debian's binaries, its own cluster, port and socket folder.

initdb refuses to run as root: as root, the cluster belongs to the `postgres` user and every
server command runs as it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from helpers import free_port

BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda path: int(path.parent.name))


class PostgresServer:
    """`with PostgresServer() as server:` a running server with an empty `predictions` database at `server.url`."""

    def __init__(self, durable: bool = False) -> None:
        """`durable`: flush every commit to disk, as in production (tests skip it for speed)."""
        assert BINARIES, "PostgreSQL is not installed: .ci/run installs Debian's postgresql"
        self.bin = BINARIES[-1]
        self.folder = Path(tempfile.mkdtemp(prefix="postgres-"))
        self.folder.chmod(0o755)
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_owner:
            shutil.chown(self.folder, "postgres", "postgres")
        self.data = self.folder / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/predictions"
        self.fsync = "on" if durable else "off"

    def command(self, name: str, *args: str) -> str:
        result = subprocess.run(
            [*self.as_owner, str(self.bin / name), *args], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, f"{name} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
        return result.stdout

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync={self.fsync}"
        self.command(
            "pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-o", options, "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        """`immediate` ends every process at once, as a crash does; `fast` shuts down cleanly."""
        self.command("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def query(self, sql: str) -> list[list[str]]:
        """Rows of a query, by psql, as text."""
        output = self.command("psql", self.url, "-X", "-A", "-t", "-F", "\t", "-c", sql)
        return [line.split("\t") for line in output.splitlines() if line]

    def __enter__(self) -> PostgresServer:
        self.command("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self.start()
        self.command("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "predictions")
        return self

    def __exit__(self, *_: object) -> None:
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
