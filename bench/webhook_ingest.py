"""Benchmark: webhook ingest and reply latency of `python app.py` over loopback.

Prints:
- signed Messenger posts per second and p50/p99 acknowledgement latency, from a
  concurrent client, beside a bare Flask "hello" app served the same way (waitress,
  same thread count) in the same run; the ratio is the figure to watch;
- reply latency at light load: from the acknowledgement to the reply reaching the
  fake platform.

Usage: python bench/webhook_ingest.py [--requests 3000] [--concurrency 8] [--database-url postgresql://…]
Everything runs on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import BenchDatabase, add_database_option, free_port, pct, stop_all, wait_up  # noqa: E402

SECRET = "bench-secret"

HELLO_APP = """
import sys
from flask import Flask
from waitress import serve
app = Flask("hello")
@app.post("/webhooks/messenger")
def hello():
    return "EVENT_RECEIVED"
serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=int(sys.argv[2]), ident="hello")
"""






def body_for(i: int, tag: str) -> bytes:
    ts = int(time.time() * 1000)
    return json.dumps({"object": "page", "entry": [{"id": "PAGE", "time": ts, "messaging": [
        {"sender": {"id": f"{tag}-{i}"}, "recipient": {"id": "PAGE"}, "timestamp": ts,
         "message": {"mid": f"m-{tag}-{i}", "text": "Biên giới đất liền dài bao nhiêu km?"}}]}]}).encode()


def signature(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def load(url: str, total: int, concurrency: int, tag: str) -> tuple[float, list[float]]:
    bodies = [body_for(i, tag) for i in range(total)]
    local = threading.local()
    latencies: list[float] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        body = bodies[i]
        start = time.perf_counter()
        resp = session.post(url, data=body, headers={"X-Hub-Signature-256": signature(body), "Content-Type": "application/json"}, timeout=10)
        elapsed = time.perf_counter() - start
        if resp.status_code != 200:
            raise SystemExit(f"HTTP {resp.status_code}")
        with lock:
            latencies.append(elapsed)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(total)))
    return time.perf_counter() - started, latencies




def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8, help="client threads (= the server threads by default)")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads of both servers")
    parser.add_argument("--light", type=int, default=100, help="messages for the reply-latency run")
    add_database_option(parser)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    database = BenchDatabase(tmp, args.database_url)
    fake_port, app_port, hello_port = free_port(), free_port(), free_port()
    fake_log = tmp / "fake.log"
    procs = []
    try:
        fake = subprocess.Popen([sys.executable, str(ROOT / "bench" / "fakeplatform.py"), str(fake_port), str(fake_log)])
        procs.append(fake)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MESSENGER_", "ZALO_"))}
        env.update({
            "PORT": str(app_port), "HOST": "127.0.0.1", "WEB_THREADS": str(args.threads),
            **database.env(), "LOG_LEVEL": "warning",
            "MESSENGER_APP_SECRET": SECRET, "MESSENGER_VERIFY_TOKEN": "v", "MESSENGER_PAGE_ACCESS_TOKEN": "t",
            "MESSENGER_API_BASE": f"http://127.0.0.1:{fake_port}", "MESSENGER_RATE_PER_SECOND": "0",
            "NO_PROXY": "127.0.0.1",
        })
        app = subprocess.Popen([sys.executable, os.environ.get("BENCH_APP", str(ROOT / "app.py"))], env=env, cwd=tmp)
        procs.append(app)
        hello = subprocess.Popen([sys.executable, "-c", HELLO_APP, str(hello_port), str(args.threads)], env=env)
        procs.append(hello)
        wait_up(f"http://127.0.0.1:{app_port}/healthz", app)
        wait_up(f"http://127.0.0.1:{hello_port}/", hello)

        # warm up both
        load(f"http://127.0.0.1:{hello_port}/webhooks/messenger", 200, args.concurrency, "warm-h")
        load(f"http://127.0.0.1:{app_port}/webhooks/messenger", 200, args.concurrency, "warm-a")
        time.sleep(2)

        hello_time, hello_lat = load(f"http://127.0.0.1:{hello_port}/webhooks/messenger", args.requests, args.concurrency, "h")
        app_time, app_lat = load(f"http://127.0.0.1:{app_port}/webhooks/messenger", args.requests, args.concurrency, "a")
        hello_rps, app_rps = args.requests / hello_time, args.requests / app_time

        print(f"machine: {os.cpu_count()} cores; database {database.engine}; {args.requests} signed posts, concurrency {args.concurrency}, waitress threads {args.threads}")
        print(f"bare Flask hello : {hello_rps:7.0f} req/s  p50 {pct(hello_lat, 50) * 1000:5.1f} ms  p99 {pct(hello_lat, 99) * 1000:5.1f} ms")
        print(f"python app.py    : {app_rps:7.0f} req/s  p50 {pct(app_lat, 50) * 1000:5.1f} ms  p99 {pct(app_lat, 99) * 1000:5.1f} ms")
        print(f"ratio app/hello  : {app_rps / hello_rps:.2f}")

        # let the backlog of replies drain before the light-load run
        deadline = time.time() + 120
        while time.time() < deadline:
            # /healthz shows the backlog to logged-in staff only: read the database (read-only) instead
            waiting = database.value(
                "SELECT (SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending'))"
                " + (SELECT count(*) FROM inbox WHERE status = 'pending')"
            )
            if waiting == 0:
                break
            time.sleep(0.5)

        # reply latency at light load: one message every 50 ms
        acks: dict[str, float] = {}
        session = requests.Session()
        for i in range(args.light):
            body = body_for(i, "light")
            session.post(f"http://127.0.0.1:{app_port}/webhooks/messenger", data=body,
                         headers={"X-Hub-Signature-256": signature(body), "Content-Type": "application/json"}, timeout=10)
            acks[f"light-{i}"] = time.time()
            time.sleep(0.05)
        time.sleep(2)
        first_reply: dict[str, float] = {}
        for line in fake_log.read_text().splitlines():
            ts, _, recipient = line.split(" ", 2)
            if recipient in acks and recipient not in first_reply:
                first_reply[recipient] = float(ts)
        latencies = [first_reply[r] - acks[r] for r in acks if r in first_reply]
        print(f"reply latency (ack -> reply at platform), {len(latencies)}/{len(acks)} replies: "
              f"p50 {pct(latencies, 50) * 1000:.1f} ms  p99 {pct(latencies, 99) * 1000:.1f} ms")
    finally:
        stop_all(procs)
        database.drop()


if __name__ == "__main__":
    main()
