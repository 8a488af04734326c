"""kill -9 with sends in flight, then the platform's echoes arrive (issue 16): the running server
resolves every in-flight send from its echo; none stays uncertain, none is sent twice."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from tests import dbcheck
from tests.conftest import platform_config, sign_messenger
from tests.e2e.test_server import start_server, stop

PAGE = "106519712345678"
THREADS = 4


class FakeMessenger:
    """A threaded fake Send API: answers the first ``answer_first`` sends, then holds every
    later one unanswered (in flight) until released; remembers each body it received."""

    def __init__(self, answer_first: int):
        self.answer_first = answer_first
        self.bodies: list[dict] = []
        self.hanging = 0
        self.release = threading.Event()
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's naming
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                with fake.lock:
                    fake.bodies.append(body)
                    hold = len(fake.bodies) > fake.answer_first and not fake.release.is_set()
                    fake.hanging += hold
                if hold:
                    fake.release.wait(20)  # the sender is killed meanwhile
                answer = json.dumps({"recipient_id": body["recipient"]["id"], "message_id": "m_" + body["message"]["metadata"]}).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass  # the asker is dead

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def post_echoes(base: str, bodies: list[dict]) -> None:
    """What Messenger sends for each message the Page sent: message.is_echo with our metadata."""
    items = [
        {"sender": {"id": PAGE}, "recipient": {"id": b["recipient"]["id"]}, "timestamp": int(time.time() * 1000),
         "message": {"mid": "m_" + b["message"]["metadata"], "is_echo": True, "app_id": 1517776481860111,
                     "metadata": b["message"]["metadata"], "text": b["message"].get("text", "")}}
        for b in bodies
    ]
    for start in range(0, len(items), 50):
        body = json.dumps({"object": "page", "entry": [{"id": PAGE, "time": int(time.time() * 1000), "messaging": items[start:start + 50]}]}).encode()
        response = requests.post(base + "/webhooks/messenger", data=body, timeout=10,
                                 headers={"X-Hub-Signature-256": sign_messenger(body), "Content-Type": "application/json"})
        assert response.status_code == 200


def test_sends_in_flight_at_kill_9_are_resolved_by_their_echoes_none_uncertain_none_twice(tmp_path):
    from bot.core.config import load_config
    from bot.storage.store import Store
    from scheduler import broadcasts

    fake = FakeMessenger(answer_first=30)
    db_path = str(tmp_path / "bot.db")
    config = platform_config(fake.url, db_path, MESSENGER_RATE_PER_SECOND="200", SCHEDULER_TICK_SECONDS="1",
                             SENDER_THREADS=str(THREADS), HTTP_TIMEOUT_SECONDS="15")
    env = {k: v for k, v in config.items() if k != "TESTING"}
    total = 90
    store = Store.open(db_path, migrate=True)
    now = time.time()
    for i in range(total):
        store.touch_member("messenger", f"P{i:04d}", at=now)
    bid = broadcasts.create_broadcast(store, load_config(env), text="Tin thử nghiệm", now=now, schedule="now")
    try:
        proc, _ = start_server(env, tmp_path)
        try:
            deadline = time.time() + 30
            while fake.hanging < THREADS and time.time() < deadline:
                time.sleep(0.01)
            assert fake.hanging == THREADS, "every sender thread must be waiting on a send"
            proc.kill()  # SIGKILL with the sends in flight
            proc.wait()
        finally:
            stop(proc)
        fake.release.set()  # from now on the platform answers at once
        in_flight = [b["message"]["metadata"] for b in fake.bodies[30:]]
        assert len(in_flight) == THREADS

        proc, base = start_server(env, tmp_path)
        try:
            status = dict(dbcheck.execute(store, "SELECT 'outbox:' || id, status FROM outbox").fetchall())
            assert [status[ref] for ref in in_flight] == ["uncertain"] * THREADS  # recovered at start
            echoed = 0
            deadline = time.time() + 60
            while time.time() < deadline:
                bodies = list(fake.bodies)
                post_echoes(base, bodies[echoed:])  # the platform's echoes, late for the killed sends
                echoed = len(bodies)
                report = broadcasts.report(store, bid)
                if report["pending"] == 0 and report["state"] == "done" and report["uncertain"] == 0:
                    break
                time.sleep(0.2)
        finally:
            stop(proc)
    finally:
        fake.close()

    received = Counter(b["recipient"]["id"] for b in fake.bodies)
    report = broadcasts.report(store, bid)
    assert len(received) == total and max(received.values()) == 1, "someone got the message twice"
    assert (report["targeted"], report["sent"], report["uncertain"], report["pending"]) == (total, total, 0, 0)
    reasons = dict(dbcheck.execute(store, "SELECT 'outbox:' || id, reason FROM outbox").fetchall())
    assert [reasons[ref] for ref in in_flight] == ["confirmed_by_echo"] * THREADS
    store.close()
