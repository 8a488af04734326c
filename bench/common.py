"""Small helpers shared by the benchmark scripts."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from typing import Any

import requests


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    """Wait until ``url`` answers; stop if the server process exits first."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def stop_all(procs: list[subprocess.Popen]) -> None:
    """Terminate the benchmark's processes, killing any that do not stop within 10 s."""
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of ``values``; NaN when there are none."""
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()  # the fields after the command name


def process_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) used so far by these processes (Linux /proc); gone ones count 0."""
    total = 0
    for pid in pids:
        try:
            fields = _stat(pid)
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def cluster_cpu(backend_pid: int) -> float:
    """CPU seconds used so far by the PostgreSQL cluster that runs backend ``backend_pid``: its
    postmaster and every process it started (backends, WAL writer, checkpointer…).  Backends
    that have exited no longer count; a shared server's other sessions do."""
    postmaster = int(_stat(backend_pid)[1])
    pids = [postmaster]
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if int(_stat(int(name))[1]) == postmaster:
                    pids.append(int(name))
            except OSError:
                continue
    return process_cpu(pids)


def add_database_option(parser: Any) -> None:
    parser.add_argument(
        "--database-url", default="",
        help="run on PostgreSQL: a server URL whose user may create databases (a fresh one is made and dropped)",
    )


class BenchDatabase:
    """The benchmark's database: a SQLite file in ``tmp``, or a fresh PostgreSQL database."""

    def __init__(self, tmp: Any, server_url: str = ""):
        self.server_url = server_url
        self.name = f"bench_{os.getpid()}"
        if server_url:
            import psycopg

            from tests.pgcluster import with_database

            with psycopg.connect(server_url, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
                admin.execute(f"CREATE DATABASE {self.name}")
            self.target = with_database(server_url, self.name)
        else:
            self.target = str(tmp / "bot.db")
        self.engine = "postgresql" if server_url else "sqlite"

    def env(self) -> dict[str, str]:
        if self.server_url:
            return {"DATABASE_URL": self.target, "SECRET_KEY": "bench-secret-key"}
        return {"DATABASE_PATH": self.target}

    def value(self, sql: str) -> Any:
        """One value, read on a connection of the benchmark's own."""
        from bot.storage.store import Store

        store = Store.open(self.target)
        try:
            return store._value(sql)
        finally:
            store.close()

    def server_cpu(self) -> float:
        """CPU seconds used so far by the PostgreSQL cluster (0 for SQLite: it runs in the app)."""
        if not self.server_url:
            return 0.0
        import psycopg

        with psycopg.connect(self.target, autocommit=True) as conn:
            return cluster_cpu(conn.info.backend_pid)

    def drop(self) -> None:
        if self.server_url:
            import psycopg

            with psycopg.connect(self.server_url, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
