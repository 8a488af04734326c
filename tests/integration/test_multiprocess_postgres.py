"""Several processes on one PostgreSQL (issue 17): two web processes ingest webhooks, the
lease holder (``flask run-scheduler``) and an extra ``flask run-inbox-worker`` handle them;
the extra worker is killed with SIGKILL half-way and another one started.  Every member's
events are handled once, in the order they arrived, and every reply reaches the platform
exactly once."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
import types
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests import dbcheck
from tests.conftest import ROOT

pytestmark = pytest.mark.engines

SECRET = "multi-process-secret"
MEMBERS = 16
ROUNDS = 6


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _body(member: int, round_no: int) -> bytes:
    ts = int(time.time() * 1000)
    return json.dumps({"object": "page", "entry": [{"id": "PAGE", "time": ts, "messaging": [
        {"sender": {"id": f"mp-{member}"}, "recipient": {"id": "PAGE"}, "timestamp": ts,
         "message": {"mid": f"mid-{member}-{round_no}", "text": "xin chào"}}]}]}).encode()


def _post(port: int, member: int, round_no: int) -> None:
    body = _body(member, round_no)
    sig = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    resp = requests.post(f"http://127.0.0.1:{port}/webhooks/messenger", data=body, timeout=30,
                         headers={"X-Hub-Signature-256": sig, "Content-Type": "application/json"})
    assert resp.status_code == 200


def _wait_up(port: int, proc: subprocess.Popen) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        assert proc.poll() is None, f"process exited with {proc.returncode}"
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError("web process did not come up")


def _wait_drained(db: object, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        left = dbcheck.value(db, "SELECT (SELECT count(*) FROM inbox WHERE status IN ('pending', 'processing'))"
                                 " + (SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending'))")
        if left == 0 and dbcheck.value(db, "SELECT count(*) FROM inbox") == MEMBERS * ROUNDS:
            return
        time.sleep(0.3)
    raise AssertionError("the queues did not drain")


def test_two_web_and_two_worker_processes_with_a_kill_9(db_path, tmp_path):
    if not db_path.startswith("postgresql://"):
        pytest.skip("several worker processes share one database only on PostgreSQL (SQLite: one process works)")
    from bot.storage.store import Store

    Store.open(db_path, migrate=True).close()
    fake_port, web_ports = _free_port(), [_free_port(), _free_port()]
    fake_log = tmp_path / "fake.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MESSENGER_", "ZALO_", "DATABASE_"))}
    env.update({
        "DATABASE_URL": db_path, "SECRET_KEY": "multi-process-key", "LOG_LEVEL": "warning", "HOST": "127.0.0.1",
        "CONTENT_DIR": str(ROOT / "content"), "QUIET_HOURS": "off", "NO_PROXY": "127.0.0.1",
        "MESSENGER_APP_SECRET": SECRET, "MESSENGER_VERIFY_TOKEN": "v", "MESSENGER_PAGE_ACCESS_TOKEN": "t",
        "MESSENGER_API_BASE": f"http://127.0.0.1:{fake_port}", "MESSENGER_RATE_PER_SECOND": "0",
    })
    flask = [sys.executable, "-m", "flask", "--app", str(ROOT / "app.py")]
    procs: list[subprocess.Popen] = []

    def start(args: list[str], **extra: str) -> subprocess.Popen:
        proc = subprocess.Popen(args, env={**env, **extra}, cwd=tmp_path, stdout=subprocess.DEVNULL)
        procs.append(proc)
        return proc

    try:
        start([sys.executable, str(ROOT / "bench" / "fakeplatform.py"), str(fake_port), str(fake_log)])
        webs = [start([sys.executable, str(ROOT / "app.py"), "--web-only"], PORT=str(p)) for p in web_ports]
        start([*flask, "run-scheduler"])
        extra = start([*flask, "run-inbox-worker", "--threads", "2"])
        for port, proc in zip(web_ports, webs):
            _wait_up(port, proc)
        with ThreadPoolExecutor(8) as pool:
            for round_no in range(ROUNDS):  # a member's next message after the previous one's acknowledgement
                if round_no == ROUNDS // 2:
                    extra.send_signal(signal.SIGKILL)  # mid-stream: its claimed events must move on
                    extra.wait(10)
                    start([*flask, "run-inbox-worker"])
                list(pool.map(lambda m, r=round_no: _post(web_ports[(m + r) % 2], m, r), range(MEMBERS)))
        db = types.SimpleNamespace(path=db_path)
        _wait_drained(db)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()

    inbox = dbcheck.rows(db, "SELECT id, event_key, status FROM inbox ORDER BY id")
    assert {r["status"] for r in inbox} == {"done"} and len(inbox) == MEMBERS * ROUNDS  # no loss
    outbox = dbcheck.rows(db, "SELECT id, inbox_id, recipient, part, status FROM outbox ORDER BY id")
    assert {r["status"] for r in outbox} == {"sent"}
    parts: dict[int, list[int]] = defaultdict(list)
    first_reply: dict[int, int] = {}
    for r in outbox:
        parts[r["inbox_id"]].append(r["part"])
        first_reply.setdefault(r["inbox_id"], r["id"])
    assert all(len(p) == len(set(p)) for p in parts.values()), "an event was handled twice"
    assert set(parts) == {r["id"] for r in inbox}, "an event got no reply"
    for member in range(MEMBERS):
        mine = [r for r in inbox if r["event_key"].startswith(f"mid-{member}-")]
        assert [r["event_key"] for r in mine] == [f"mid-{member}-{n}" for n in range(ROUNDS)]  # arrival order
        handled = [first_reply[r["id"]] for r in mine]
        assert handled == sorted(handled), f"member {member}'s events were handled out of order"
    sends: dict[str, int] = defaultdict(int)
    for line in fake_log.read_text().splitlines():
        sends[line.split(" ", 2)[2]] += 1
    queued: dict[str, int] = defaultdict(int)
    for r in outbox:
        queued[r["recipient"]] += 1
    assert sends == queued, "a reply was sent twice or never"
