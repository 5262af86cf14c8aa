"""A throw-away PostgreSQL server that a test owns: its own data folder, port and socket folder.

Fault tests restart or kill it; the shared server at 127.0.0.1:5432 is never touched. PostgreSQL
refuses to run as root, so under root the server runs as ``nobody`` (``runuser``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    return None


def available() -> bool:
    return all(_binary(n) for n in ("initdb", "pg_ctl", "postgres"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    """``with PgCluster() as pg: pg.url`` — initdb, start; stopped and removed on exit."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="fc-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            self._as_user = ["runuser", "-u", "nobody", "--"]
            self.root.chmod(0o755)
            shutil.chown(self.root, user="nobody")

    def _run(self, *args: str, timeout: float = 120) -> None:
        proc = subprocess.run([*self._as_user, *args], capture_output=True, text=True, timeout=timeout, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({proc.returncode}): {proc.stderr[-1500:]}{proc.stdout[-500:]}")

    def _pg_ctl(self, *args: str) -> None:
        self._run(str(_binary("pg_ctl")), "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
                  "-t", "60", *args)

    def start(self) -> None:
        if not self.data.exists():
            self._run(str(_binary("initdb")), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                      "--no-sync", "-E", "UTF8")
        self._pg_ctl("-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                     "-c max_connections=60", "start")

    def restart(self) -> None:
        """``pg_ctl restart -m fast``: every open connection is cut, the server comes back on the same port."""
        self._pg_ctl("-m", "fast", "restart")

    def pid(self) -> int:
        """The postmaster's process id (changes with every restart)."""
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._pg_ctl("-m", "immediate", "stop")

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def __enter__(self) -> PgCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.stop()
        finally:
            time.sleep(0.1)
            shutil.rmtree(self.root, ignore_errors=True)
