"""Leadership and sending across processes on one PostgreSQL (issue 17, item 4), with real
``flask`` processes: two ``run-scheduler`` candidates, one leads and the other takes over
within seconds of a kill -9; the leader and a ``flask run-sender`` together keep a channel's
rate, measured at the fake platform, and send no message twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import types
from collections import Counter

import pytest

from tests import dbcheck
from tests.conftest import ROOT
from tests.integration.test_multiprocess_postgres import _free_port
from tests.integration.test_shared_senders import assert_rate_held

pytestmark = pytest.mark.engines


class Processes:
    """Starts the app's processes against one database; stops them all at the end."""

    def __init__(self, db_path: str, cwd, **extra: str):
        self.cwd = cwd
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("MESSENGER_", "ZALO_", "DATABASE_"))}
        self.env.update({
            "DATABASE_URL": db_path, "SECRET_KEY": "multi-host-key", "LOG_LEVEL": "warning",
            "CONTENT_DIR": str(ROOT / "content"), "QUIET_HOURS": "off", "NO_PROXY": "127.0.0.1", **extra,
        })
        self.procs: list[subprocess.Popen] = []

    def start(self, *args: str) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", str(ROOT / "app.py"), *args],
            env=self.env, cwd=self.cwd, stdout=subprocess.DEVNULL,
        )
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _leader_pid(db: object) -> int | None:
    owner = dbcheck.value(db, "SELECT owner FROM worker_leases WHERE name = 'workers'")
    return int(owner.split(":")[1]) if owner else None


def _wait_for(condition, timeout: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout} s")


@pytest.fixture
def postgres_only(db_path):
    if not db_path.startswith("postgresql://"):
        pytest.skip("several leaders or senders share one database only on PostgreSQL (SQLite: one process works)")
    from bot.storage.store import Store

    Store.open(db_path, migrate=True).close()
    return db_path


def test_two_schedulers_one_leads_and_the_standby_takes_over_after_a_kill_9(postgres_only, tmp_path):
    db = types.SimpleNamespace(path=postgres_only)
    processes = Processes(postgres_only, tmp_path)
    try:
        candidates = {p.pid: p for p in (processes.start("run-scheduler"), processes.start("run-scheduler"))}
        _wait_for(lambda: _leader_pid(db) in candidates, 60, "no leader")
        time.sleep(3)  # both are up: the second is a standby, still alive
        leader = _leader_pid(db)
        assert all(p.poll() is None for p in candidates.values())
        assert dbcheck.value(db, "SELECT count(*) FROM worker_leases WHERE name = 'workers'") == 1
        [standby] = [pid for pid in candidates if pid != leader]
        candidates[leader].send_signal(signal.SIGKILL)
        candidates[leader].wait(10)
        took = _wait_for(lambda: _leader_pid(db) == standby, 10, "the standby did not take over")
        print(f"standby took over {took:.2f} s after the kill -9")
        assert took < 5
    finally:
        processes.stop()


def test_the_leader_and_an_extra_sender_keep_the_rate_together_and_send_each_message_once(postgres_only, tmp_path):
    rate, count = 20, 160
    db = types.SimpleNamespace(path=postgres_only)
    fake_port, fake_log = _free_port(), tmp_path / "fake.log"
    processes = Processes(
        postgres_only, tmp_path, MESSENGER_APP_SECRET="s", MESSENGER_VERIFY_TOKEN="v", MESSENGER_PAGE_ACCESS_TOKEN="t",
        MESSENGER_API_BASE=f"http://127.0.0.1:{fake_port}", MESSENGER_RATE_PER_SECOND=str(rate),
    )
    fake = subprocess.Popen([sys.executable, str(ROOT / "bench" / "fakeplatform.py"), str(fake_port), str(fake_log)])
    processes.procs.append(fake)
    try:
        processes.start("run-scheduler")
        processes.start("run-sender", "--channel", "messenger")
        _wait_for(lambda: dbcheck.value(db, "SELECT count(*) FROM worker_leases WHERE name LIKE 'sender:%'") == 2,
                  60, "two sender processes did not register")
        from bot.storage.store import Store

        store = Store(postgres_only)
        try:
            for i in range(count):  # one enqueue each: both processes are woken and compete for the rows
                store.enqueue(channel="messenger", recipient=f"R{i}", messages=[{"text": "x"}], at=time.time())
        finally:
            store.close()
        _wait_for(lambda: dbcheck.value(db, "SELECT count(*) FROM outbox WHERE status = 'sent'") == count,
                  count / rate * 2 + 20, "the messages were not all sent")
        claimers = Counter(r["claimed_by"].split(":")[1] for r in dbcheck.rows(db, "SELECT claimed_by FROM outbox"))
    finally:
        processes.stop()
    lines = [line.split(" ") for line in fake_log.read_text().splitlines()]
    assert sorted(r for _, _, r in lines) == sorted(f"R{i}" for i in range(count))  # each once, none twice
    assert len(claimers) == 2 and min(claimers.values()) >= count // 10  # both processes really sent
    held = assert_rate_held([float(t) for t, _, _ in lines], rate)
    print(f"two processes at {rate}/s: {held}, sends per process {dict(claimers)}")
