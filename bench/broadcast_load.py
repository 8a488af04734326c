"""Benchmark: a broadcast to 100,000 synthetic members against a local fake platform.

Prints the audience expansion time, the delivered rate per channel against the
configured rate (at the defaults, then with the rate set to 300/s), the highest
number of sends seen in any one-second window (it must never exceed the rate),
and this process's peak resident memory.  The fake platform sends delivery and read
receipts back to the app's webhooks (Messenger, Zalo OA; the Zalo Bot has none), and the
report's delivered and read counts are printed at the end.

Usage: python bench/broadcast_load.py [--members 100000] [--window 20]
Everything runs on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import BenchDatabase, add_database_option, free_port  # noqa: E402

CHANNEL_PATHS = {"messenger": "/me/messages", "zalo": "/v3.0/oa/message/cs", "zalo_bot": "/sendMessage"}




def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def read_log(path: Path, since: float) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in CHANNEL_PATHS}
    if not path.exists():
        return times
    for line in path.read_text().splitlines():
        ts, p, _ = line.split(" ", 2)
        t = float(ts)
        if t < since:
            continue
        for name, suffix in CHANNEL_PATHS.items():
            if p.endswith(suffix):
                times[name].append(t)
    return times


def measure(app, log: Path, channels: dict[str, float], window: float, warmup: float = 2.0) -> None:
    """Run the senders for ``window`` seconds and report the delivered rate per channel."""
    from bot.pipeline.workers import Workers

    for name, rate in channels.items():
        app.config[{"messenger": "MESSENGER_RATE_PER_SECOND", "zalo": "ZALO_RATE_PER_SECOND", "zalo_bot": "ZALO_BOT_RATE_PER_SECOND"}[name]] = rate
    services = app.extensions["bot"]
    saved = {}  # channels not measured in this run are taken out while it lasts
    for name in CHANNEL_PATHS:
        if name not in channels:
            saved[name] = services.channels.pop(name)
    workers = Workers(services)
    start = time.time()
    workers.start()
    try:
        time.sleep(window)
    finally:
        workers.stop()
        services.channels.update(saved)
    times = read_log(log, start + warmup)
    for name, rate in channels.items():
        stamps = [t for t in times[name] if t <= start + window]
        span = window - warmup
        delivered = len(stamps) / span
        per_second = Counter(int(t) for t in stamps)
        full_seconds = [n for sec, n in per_second.items() if start + warmup + 1 <= sec < start + window - 1]
        peak = max(full_seconds) if full_seconds else 0
        print(f"  {name:<9} configured {rate:6.0f}/s  delivered {delivered:7.1f}/s  ({delivered / rate:6.1%})"
              f"  max in any whole second: {peak}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--window", type=float, default=20.0, help="seconds of sending per measurement")
    add_database_option(parser)
    args = parser.parse_args()

    from app import create_app
    from bot.storage.store import Store
    from scheduler import broadcasts

    tmp = Path(tempfile.mkdtemp(prefix="bench-broadcast-"))
    database = BenchDatabase(tmp, args.database_url)
    print(f"database {database.engine}")
    port, app_port = free_port(), free_port()
    log = tmp / "fake.log"
    # the fake platform answers sends and posts receipts to the app's webhooks
    fake = subprocess.Popen([sys.executable, str(ROOT / "bench" / "fakeplatform.py"), str(port), str(log), f"http://127.0.0.1:{app_port}"])
    base = f"http://127.0.0.1:{port}"
    os.environ["NO_PROXY"] = "127.0.0.1"
    web = None
    try:
        app = create_app({
            "TESTING": True, **database.env(), "QUIET_HOURS": "off",
            "MESSENGER_APP_SECRET": "s", "MESSENGER_VERIFY_TOKEN": "v", "MESSENGER_PAGE_ACCESS_TOKEN": "t", "MESSENGER_API_BASE": base,
            "ZALO_APP_ID": "1", "ZALO_APP_SECRET": "s", "ZALO_OA_SECRET_KEY": "k", "ZALO_ACCESS_TOKEN": "a", "ZALO_REFRESH_TOKEN": "r",
            "ZALO_API_BASE": base, "ZALO_OAUTH_BASE": base,
            "ZALO_BOT_TOKEN": "1:t", "ZALO_BOT_SECRET_TOKEN": "secret-token", "ZALO_BOT_API_BASE": base,
        })
        web = serve(app, app_port)
        store = Store.open(database.target)
        now = time.time()
        started = time.perf_counter()
        names = ("messenger", "zalo", "zalo_bot")
        rows = [(names[i % 3], f"u{i:06d}", now - 3600, now - 3600) for i in range(args.members)]
        with store.transaction():
            if store.postgres:
                with store.db.conn.cursor() as cursor:
                    cursor.executemany(
                        "INSERT INTO members (channel, platform_id, first_seen_at, last_inbound_at) VALUES (%s, %s, %s, %s)", rows
                    )
            else:
                store.db.conn.executemany(
                    "INSERT INTO members (channel, platform_id, first_seen_at, last_inbound_at) VALUES (?, ?, ?, ?)", rows
                )
        print(f"{args.members} synthetic members inserted in {time.perf_counter() - started:.1f} s (setup, not measured)")

        bid = broadcasts.create_broadcast(store, app.config, text="Tin nhắn thử nghiệm về Tuần lễ Biển và Hải đảo Việt Nam.", now=now, schedule="now")
        broadcasts.plan_due_runs(store, app.config, now)
        t0 = time.perf_counter()
        broadcasts.start_runs(store, app.config, app.extensions["bot"].channels, now)
        expansion = time.perf_counter() - t0
        report = broadcasts.report(store, bid)
        print(f"audience expansion: {report['targeted']} outbox rows in {expansion:.2f} s")

        print(f"delivered rate at the default rates ({args.window:.0f} s window):")
        measure(app, log, {"messenger": app.config["MESSENGER_RATE_PER_SECOND"], "zalo": app.config["ZALO_RATE_PER_SECOND"],
                           "zalo_bot": app.config["ZALO_BOT_RATE_PER_SECOND"]}, args.window)
        print(f"delivered rate with the rate set to 300/s (Messenger alone, {args.window:.0f} s window):")
        measure(app, log, {"messenger": 300.0}, args.window)
        report = broadcasts.report(store, bid)
        print(f"after both windows: sent {report['sent']}, pending {report['pending']}, failed {report['failed']}")
        time.sleep(2)  # the last receipts (posted every 0.25 s)
        print_receipts(broadcasts.report(store, bid))
        print(f"peak resident memory of this process: {rss_mb():.0f} MB")
        broadcasts.cancel(store, bid, time.time())
        store.close()
    finally:
        if web is not None:
            web.shutdown()
        fake.terminate()
        fake.wait(10)
        database.drop()


def serve(app, port: int):
    """The app's webhooks over HTTP (a thread of this process), for the fake platform's receipts."""
    import threading

    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args, **kwargs) -> None:  # one line per receipt batch would drown the figures
            pass

    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def print_receipts(report: dict) -> None:
    """Delivered and read per channel, as `flask broadcast report --json` gives them."""
    print("receipts from the fake platform (it reports 90% delivered, 60% read per recipient):")
    for name, counts in sorted(report["by_channel"].items()):
        sent = counts.get("sent", 0)
        if counts.get("delivered") is None:
            print(f"  {name:<9} sent {sent:6d}  delivered/read: không hỗ trợ (no receipts on this platform)")
            continue
        print(f"  {name:<9} sent {sent:6d}  delivered {counts['delivered']:6d} ({counts['delivered'] / max(sent, 1):6.1%})"
              f"  read {counts['read']:6d} ({counts['read'] / max(sent, 1):6.1%})")
    print(f"  total     delivered {report['delivered']}, read {report['read']}, uncertain {report['uncertain']}")


if __name__ == "__main__":
    main()
