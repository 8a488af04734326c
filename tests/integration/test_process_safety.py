"""Process safety (issue 11, C): migrations under a lock, worker leases, SIGTERM, retention."""

from __future__ import annotations

import multiprocessing
import os

import pytest


def _migrate(path: str, barrier, results) -> None:
    from bot.storage.store import Store

    barrier.wait()
    try:
        Store.open(path, migrate=True).close()
        results.put("ok")
    except Exception as exc:  # reported to the test
        results.put(f"{type(exc).__name__}: {exc}")


def test_four_processes_starting_on_a_new_database_all_migrate_it(tmp_path):
    ctx = multiprocessing.get_context("fork")
    for trial in range(4):
        path = str(tmp_path / f"new-{trial}.db")
        barrier, results = ctx.Barrier(4), ctx.Queue()
        procs = [ctx.Process(target=_migrate, args=(path, barrier, results)) for _ in range(4)]
        for p in procs:
            p.start()
        outcomes = [results.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(30)
        assert outcomes == ["ok"] * 4, outcomes
        from bot.storage.store import Store

        store = Store.open(path)
        names = [r["name"] for r in store._rows("SELECT name FROM _sqlite_migrations")]
        store.close()
        assert len(names) == len(set(names))  # each migration applied once
