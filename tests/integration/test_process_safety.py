"""Process safety (issue 11, C): migrations under a lock, worker leases, SIGTERM, retention."""

from __future__ import annotations

import multiprocessing
import traceback

import pytest

from tests import dbcheck


def _migrate(path: str, barrier, results) -> None:
    from bot.storage.store import Store

    barrier.wait()
    try:
        Store.open(path, migrate=True).close()
        results.put("ok")
    except Exception as exc:  # noqa: BLE001 - reported to the test, with where it was raised
        results.put(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")


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
        names = [r["name"] for r in dbcheck.rows(store, "SELECT name FROM _sqlite_migrations")]
        store.close()
        assert len(names) == len(set(names))  # each migration applied once


def test_a_second_worker_process_waits_or_refuses_and_never_touches_live_sends(app, store, runner, clock):
    from bot.pipeline.workers import LEASE_TTL_SECONDS, Workers, WorkersBusy

    services = app.extensions["bot"]
    first = Workers(services)
    first.start(wait=0)
    try:
        # a send in flight, written as such at once (a pending row could be sent meanwhile: on PostgreSQL
        # a queued message wakes the live sender through NOTIFY)
        dbcheck.execute(
            store,
            "INSERT INTO outbox (channel, recipient, message, status, created_at, claimed_at)"
            " VALUES ('simulator', 'U1', '{\"text\": \"x\"}', 'sending', ?, ?)",
            [clock.now(), clock.now()],
        )
        outbox_id = dbcheck.value(store, "SELECT max(id) FROM outbox")
        second = Workers(services)  # another process starting
        with pytest.raises(WorkersBusy, match="Một tiến trình khác"):
            second.start(wait=0.5)
        result = runner.invoke(args=["run-scheduler", "--wait", "0"])
        assert result.exit_code != 0 and "Một tiến trình khác" in result.output
        assert store.get_outbound(outbox_id)["status"] == "sending"  # the live send was left alone
    finally:
        first.stop(grace=1)
    second = Workers(services)
    second.start(wait=0)  # the first stopped and released the lease
    second.stop(grace=1)
    # a crashed holder (no heartbeat) loses the lease once it lapses
    assert store.acquire_worker_lease("workers", "crashed", now=clock.now(), ttl=LEASE_TTL_SECONDS) is None
    if store.postgres:  # the advisory lock died with the crashed holder's connection: no wait at all
        at_once = Workers(services)
        at_once.start(wait=0)
        assert store.worker_lease("workers")["owner"] == at_once.owner  # the label names the new leader
        at_once.stop(grace=1)
        return
    with pytest.raises(WorkersBusy):
        Workers(services).start(wait=0)
    clock.advance(LEASE_TTL_SECONDS + 1)
    third = Workers(services)
    third.start(wait=0)
    third.stop(grace=1)


def test_stop_takes_no_new_work_and_lets_in_flight_sends_finish(app, store, httpserver, clock):
    import json
    import threading
    import time

    from werkzeug import Request, Response

    from bot.pipeline.workers import Workers

    entered = threading.Event()

    def slow(request: Request) -> Response:
        entered.set()
        time.sleep(1.0)
        body = json.loads(request.data)
        return Response(json.dumps({"recipient_id": body["recipient"]["id"], "message_id": "m"}), content_type="application/json")

    httpserver.expect_request("/me/messages", method="POST").respond_with_handler(slow)
    services = app.extensions["bot"]
    workers = Workers(services)
    workers.start(wait=0)
    [first] = store.enqueue(channel="messenger", recipient="P1", messages=[{"text": "một"}], at=clock.now())
    workers.wake_senders()
    assert entered.wait(5)
    stopper = threading.Thread(target=workers.stop, kwargs={"grace": 10})
    stopper.start()  # SIGTERM
    time.sleep(0.1)
    [later] = store.enqueue(channel="messenger", recipient="P2", messages=[{"text": "hai"}], at=clock.now())
    for event in services.outbox_wakeup.values():
        event.set()
    stopper.join(15)
    assert store.get_outbound(first)["status"] == "sent"  # finished within the grace period
    assert store.get_outbound(later)["status"] == "pending"  # no new work taken


def test_a_lease_left_by_a_killed_process_on_this_machine_is_taken_over_at_once(app, store, clock):
    import socket
    import subprocess
    import sys

    from bot.pipeline.workers import LEASE_TTL_SECONDS, Workers

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    owner = f"{socket.gethostname()}:{gone}:dead"
    assert store.acquire_worker_lease("workers", owner, now=clock.now(), ttl=LEASE_TTL_SECONDS) is None
    workers = Workers(app.extensions["bot"])
    workers.start(wait=0)  # kill -9 then restart: no 30 s wait
    workers.stop(grace=1)


def test_sigterm_stops_the_server_gracefully_and_releases_the_workers_lease(tmp_path):
    import signal
    import sqlite3

    from tests.e2e.test_server import start_server

    db = tmp_path / "bot.db"
    proc, _ = start_server({"DATABASE_PATH": str(db)}, tmp_path / "cwd")
    try:
        proc.send_signal(signal.SIGTERM)  # systemctl stop
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM worker_leases").fetchone()[0] == 0  # stopped through Workers.stop
    conn.close()


def test_a_stranded_zalo_refresh_token_raises_the_alert_at_once(app, store, clock):
    """A crash between spending the refresh token and saving the new pair: alert at the next check."""
    from bot.pipeline.workers import Workers

    services = app.extensions["bot"]
    zalo = services.channels["zalo"]
    zalo.tokens.access_token()  # seeded from the environment
    store.acquire_lease("zalo_oa", "crashed", now=clock.now(), ttl=20)
    assert store.spend_refresh_token("zalo_oa", "zalo-refresh-1")  # ... and then the process died
    zalo.tokens.ensure_fresh()
    assert store.channel_statuses().get("zalo", {}).get("state") != "alert"  # a refresh may be under way
    clock.advance(21)  # the crashed holder's lease lapsed: nobody is refreshing
    Workers(services).housekeeping()  # at start and every minute
    status = store.channel_statuses()["zalo"]
    assert status["state"] == "alert" and "refresh token" in status["detail"]
