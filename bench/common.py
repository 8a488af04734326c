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
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


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

    def drop(self) -> None:
        if self.server_url:
            import psycopg

            with psycopg.connect(self.server_url, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
