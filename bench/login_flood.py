"""Webhook acknowledgements while 32 clients hammer the console login (issue 11, D22).

Starts ``app.py`` (waitress, Messenger enabled against a fake platform), then sends one signed
Messenger webhook every 20 ms and measures its acknowledgement: first alone, then while 32 threads
post wrong passwords for random usernames to /admin/login as fast as they can.  Prints p50/p99 of
the acknowledgements and how the logins were answered (401 checked, 429 refused before hashing).

    python bench/login_flood.py [--seconds 10] [--per-address 30]
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import free_port, pct, stop_all, wait_up
from bench.webhook_ingest import SECRET, body_for, signature


def acks(url: str, seconds: float, tag: str) -> list[float]:
    """One signed webhook every 20 ms for ``seconds``; the acknowledgement times."""
    session = requests.Session()
    out: list[float] = []
    end = time.time() + seconds
    i = 0
    while time.time() < end:
        body = body_for(i, tag)
        start = time.perf_counter()
        resp = session.post(url, data=body, headers={"X-Hub-Signature-256": signature(body), "Content-Type": "application/json"}, timeout=30)
        out.append(time.perf_counter() - start)
        if resp.status_code != 200:
            raise SystemExit(f"webhook HTTP {resp.status_code}")
        i += 1
        time.sleep(0.02)
    return out


def flood(base: str, stop: threading.Event, counts: Counter, lock: threading.Lock) -> None:
    """Wrong passwords for random usernames, as fast as one client can."""
    session = requests.Session()
    while not stop.is_set():
        page = session.get(base + "/admin/login", timeout=30).text
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        resp = session.post(base + "/admin/login", timeout=30, data={
            "username": "u" + secrets.token_hex(4), "password": "sai-mat-khau-" + secrets.token_hex(4), "csrf_token": token})
        with lock:
            counts[resp.status_code] += 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--per-address", default="30", help="LOGIN_MAX_FAILURES_PER_ADDRESS (0: off)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-login-"))
    fake_port, app_port = free_port(), free_port()
    procs: list[subprocess.Popen] = []
    try:
        procs.append(subprocess.Popen([sys.executable, str(ROOT / "bench" / "fakeplatform.py"), str(fake_port), str(tmp / "fake.log")]))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MESSENGER_", "ZALO_"))}
        env.update({
            "PORT": str(app_port), "HOST": "127.0.0.1", "DATABASE_PATH": str(tmp / "bot.db"), "LOG_LEVEL": "warning",
            "MESSENGER_APP_SECRET": SECRET, "MESSENGER_VERIFY_TOKEN": "v", "MESSENGER_PAGE_ACCESS_TOKEN": "t",
            "MESSENGER_API_BASE": f"http://127.0.0.1:{fake_port}", "NO_PROXY": "127.0.0.1",
            "LOGIN_MAX_FAILURES_PER_ADDRESS": args.per_address,
        })
        app = subprocess.Popen([sys.executable, os.environ.get("BENCH_APP", str(ROOT / "app.py"))], env=env, cwd=tmp)
        procs.append(app)
        base = f"http://127.0.0.1:{app_port}"
        wait_up(base + "/healthz", app)
        url = base + "/webhooks/messenger"
        acks(url, 2, "warm")
        quiet = acks(url, args.seconds, "quiet")
        stop, counts, lock = threading.Event(), Counter(), threading.Lock()
        threads = [threading.Thread(target=flood, args=(base, stop, counts, lock), daemon=True) for _ in range(args.clients)]
        for t in threads:
            t.start()
        time.sleep(1)
        loaded = acks(url, args.seconds, "flood")
        stop.set()
        for t in threads:
            t.join(30)
        print(f"machine: {os.cpu_count()} cores; LOGIN_MAX_FAILURES_PER_ADDRESS={args.per_address}; {args.clients} login clients")
        print(f"webhook ack alone       : p50 {pct(quiet, 50) * 1000:6.1f} ms  p99 {pct(quiet, 99) * 1000:6.1f} ms  ({len(quiet)} posts)")
        print(f"webhook ack under flood : p50 {pct(loaded, 50) * 1000:6.1f} ms  p99 {pct(loaded, 99) * 1000:6.1f} ms  ({len(loaded)} posts)")
        print(f"login answers           : {dict(sorted(counts.items()))}")
    finally:
        stop_all(procs)


if __name__ == "__main__":
    main()
