"""The real server process: `python app.py`, started, used, killed and restarted.

These tests run the app as members and platforms see it: a separate process
serving HTTP on 127.0.0.1 with its workers and scheduler, talking to the fake
platform server of the test.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter

import requests
from werkzeug import Request, Response

from bot.core.config import SETTINGS
from tests import dbcheck
from tests.conftest import ROOT, platform_config, sign_messenger


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env_overrides: dict[str, str], tmp_path, *, ctrl_c: bool = False) -> tuple[subprocess.Popen, str]:
    """``python app.py`` with these settings, serving on a free port once /healthz answers.  ``ctrl_c``: SIGINT
    reaches it as from a terminal (a run started in the background would pass it on ignored)."""
    env = {k: v for k, v in os.environ.items() if k not in {s.name for s in SETTINGS}}
    port = free_port()
    env.update({"PORT": str(port), "HOST": "127.0.0.1", "PYTHONUNBUFFERED": "1"})
    env.update({k: str(v) for k, v in env_overrides.items()})
    tmp_path.mkdir(exist_ok=True)
    log = open(tmp_path / f"server-{port}.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
        preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)) if ctrl_c else None,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 20
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError((tmp_path / f"server-{port}.log").read_text())
        try:
            if requests.get(base + "/healthz", timeout=1).status_code == 200:
                return proc, base
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("server did not start")


def stop(proc: subprocess.Popen) -> None:
    """Stop the server as systemctl does (SIGTERM).  Not SIGINT: a test run started in the background
    (nohup, `&` in a script) passes SIGINT on ignored, and each stop then waited out its 10 seconds."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(25)  # in-flight sends get up to HTTP_TIMEOUT_SECONDS + 5 to finish
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_ctrl_c_in_a_terminal_stops_the_server_cleanly(tmp_path):
    proc, base = start_server({"DATABASE_PATH": str(tmp_path / "bot.db")}, tmp_path, ctrl_c=True)
    try:
        assert requests.get(base + "/healthz", timeout=5).status_code == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(25) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    log = next(tmp_path.glob("server-*.log")).read_text(encoding="utf-8")
    assert "Traceback" not in log


def test_first_start_without_any_settings_serves_simulator_and_health(tmp_path):
    # only the database is pointed away from the project's instance/ (a relative path would mean the project)
    proc, base = start_server({"DATABASE_PATH": str(tmp_path / "instance" / "bot.db")}, tmp_path / "cwd")
    try:
        health = requests.get(base + "/healthz", timeout=5).json()
        assert health == {"status": "ok", "database": {"state": "ok"}}  # details only for logged-in staff
        for segment in ("messenger", "zalo", "zalo-bot"):  # the three platform channels are disabled
            assert requests.post(f"{base}/webhooks/{segment}", data=b"{}", timeout=5).status_code == 404
        assert "Mô phỏng" in requests.get(base + "/simulator", timeout=5).text
        reply = requests.post(base + "/simulator/api/send", json={"user": "u1", "text": "menu"}, timeout=10).json()
        assert reply["messages"] and "DỪNG" in "".join(m["text"] for m in reply["messages"])
        assert (tmp_path / "instance" / "bot.db").exists()
        assert (tmp_path / "instance" / "secret_key").exists()
        assert not (tmp_path / "cwd" / "instance").exists()  # never the working folder
    finally:
        stop(proc)


def test_bad_setting_stops_start_up_with_its_name(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {s.name for s in SETTINGS}}
    env["PORT"] = "not-a-port"
    result = subprocess.run([sys.executable, str(ROOT / "app.py")], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "PORT" in result.stderr


def test_signed_messenger_message_gets_a_reply_from_the_running_server(tmp_path, httpserver):
    httpserver.expect_request("/me/messages", method="POST").respond_with_json({"recipient_id": "P1", "message_id": "m1"})
    config = platform_config(httpserver.url_for("/"), str(tmp_path / "bot.db"))
    env = {k: v for k, v in config.items() if k != "TESTING"}
    proc, base = start_server(env, tmp_path)
    try:
        body = json.dumps({"object": "page", "entry": [{"id": "PG", "time": 1, "messaging": [
            {"sender": {"id": "P1"}, "recipient": {"id": "PG"}, "timestamp": int(time.time() * 1000),
             "message": {"mid": "m_srv_1", "text": "Trường Sa thuộc tỉnh nào?"}}]}]}).encode()
        resp = requests.post(base + "/webhooks/messenger", data=body, headers={"X-Hub-Signature-256": sign_messenger(body), "Content-Type": "application/json"}, timeout=5)
        assert resp.status_code == 200
        deadline = time.time() + 10
        while time.time() < deadline and not any(r.path == "/me/messages" for r, _ in httpserver.log):
            time.sleep(0.05)
        sent = [json.loads(r.data) for r, _ in httpserver.log if r.path == "/me/messages"]
        assert sent and sent[0]["recipient"] == {"id": "P1"}
    finally:
        stop(proc)


def test_a_broadcast_survives_a_killed_process_and_reaches_everyone_once(tmp_path, httpserver):
    """kill -9 in the middle of a run, restart: no one twice, no one left out."""
    from bot.storage.store import Store
    from scheduler import broadcasts

    received: Counter[str] = Counter()
    lock = threading.Lock()

    def zalo(request: Request) -> Response:
        body = json.loads(request.data)
        time.sleep(0.002)
        with lock:
            received[body["recipient"]["user_id"]] += 1
            n = sum(received.values())
        return Response(json.dumps({"data": {"message_id": f"z{n}"}, "error": 0, "message": "Success"}), content_type="application/json")

    httpserver.expect_request("/v3.0/oa/message/cs", method="POST").respond_with_handler(zalo)
    db_path = str(tmp_path / "bot.db")
    config = platform_config(httpserver.url_for("/"), db_path, ZALO_RATE_PER_SECOND="200", SCHEDULER_TICK_SECONDS="1", SENDER_THREADS="4")
    env = {k: v for k, v in config.items() if k != "TESTING"}

    total = 600
    store = Store.open(db_path, migrate=True)
    now = time.time()
    for i in range(total):
        store.touch_member("zalo", f"Z{i:04d}", at=now)
    from bot.core.config import load_config

    bid = broadcasts.create_broadcast(store, load_config(env), text="Tin thử nghiệm", now=now, schedule="now")

    proc, _ = start_server(env, tmp_path)
    try:
        deadline = time.time() + 30
        while sum(received.values()) < total // 3 and time.time() < deadline:
            time.sleep(0.01)
        proc.kill()  # SIGKILL: no clean shutdown
        proc.wait()
    finally:
        stop(proc)
    delivered_before = sum(received.values())
    assert 0 < delivered_before < total, "the kill must land in the middle of the run"

    proc, _ = start_server(env, tmp_path)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            report = broadcasts.report(store, bid)
            if report["pending"] == 0 and report["state"] == "done":
                break
            time.sleep(0.2)
    finally:
        stop(proc)

    report = broadcasts.report(store, bid)
    rows = dbcheck.execute(store, "SELECT recipient, status FROM outbox WHERE run_id IS NOT NULL").fetchall()
    status = dict(rows)
    assert len(status) == total and report["targeted"] == total
    assert max(received.values()) == 1, "someone got the message twice"
    assert all(received[r] == 1 for r, s in status.items() if s == "sent")
    assert {s for s in status.values()} <= {"sent", "uncertain"}
    uncertain = [r for r, s in status.items() if s == "uncertain"]
    assert len(uncertain) <= 4  # at most the sends really in flight (SENDER_THREADS)
    assert report["sent"] + report["uncertain"] == total and report["pending"] == 0
    store.close()


def test_web_workers_only_ingest_and_run_scheduler_processes(tmp_path, httpserver):
    """The multi-worker deployment: a WSGI app that only acknowledges, plus `flask run-scheduler`."""
    from app import create_app

    httpserver.expect_request("/me/messages", method="POST").respond_with_json({"recipient_id": "P7", "message_id": "m1"})
    config = platform_config(httpserver.url_for("/"), str(tmp_path / "bot.db"))
    web = create_app(config).test_client()  # a web worker: no workers, no scheduler
    body = json.dumps({"object": "page", "entry": [{"id": "PG", "time": 1, "messaging": [
        {"sender": {"id": "P7"}, "recipient": {"id": "PG"}, "timestamp": int(time.time() * 1000),
         "message": {"mid": "m_sched_1", "text": "menu"}}]}]}).encode()
    assert web.post("/webhooks/messenger", data=body, headers={"X-Hub-Signature-256": sign_messenger(body)}).status_code == 200
    time.sleep(0.3)
    assert not any(r.path == "/me/messages" for r, _ in httpserver.log)  # nothing sent by the web worker

    env = {k: v for k, v in os.environ.items() if k not in {s.name for s in SETTINGS}}
    env.update({k: str(v) for k, v in config.items() if k != "TESTING"})
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", str(ROOT / "app.py"), "run-scheduler"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 20
        while time.time() < deadline and not any(r.path == "/me/messages" for r, _ in httpserver.log):
            time.sleep(0.05)
        assert any(r.path == "/me/messages" for r, _ in httpserver.log), "run-scheduler did not process the event"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    assert proc.returncode == 0
