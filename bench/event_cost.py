"""Benchmark: what one inbound quiz answer costs, on SQLite and PostgreSQL side by side.

Pushes quiz events through the real pipeline in this process, without HTTP: the
webhook's part (parse the signed body, screen, ``ingest`` into the inbox), the inbox
worker's part (``process_pending``: dispatcher, quiz handler, outbox rows) and the
sender's part (claim each outbox row, a stubbed platform call, ``mark_sent``).
MEMBERS Messenger members tap "start" (first contact) and then answer ROUNDS questions
each; the answer rounds are measured.  Printed per answer event, per stage:
statements (every ``execute`` the Store issues), transactions (BEGIN…COMMIT blocks,
and statements run outside one, which commit on their own), CPU ms of this process
and (PostgreSQL) of the server's processes, wall ms, and events/s.  ``--http`` adds what
the HTTP layers cost: each webhook is a signed post through Flask (its test client: the
whole request, no socket) and each send a real HTTP call to a fake platform (another
process, whose CPU is not counted).

    .venv/bin/python bench/event_cost.py                             # SQLite + a throwaway PostgreSQL cluster
    .venv/bin/python bench/event_cost.py --database-url postgresql://user@host/postgres
    .venv/bin/python bench/event_cost.py --http                      # with Flask and the HTTP sends
    .venv/bin/python bench/event_cost.py --engines sqlite --members 500 --profile send
``--database-url``: a server whose user may create databases (a fresh one is made and dropped);
without it a throwaway cluster is started with Debian's PostgreSQL binaries (tests/pgcluster.py).
The server's CPU is that of every process of its cluster (backend, WAL writer…): on a shared
server it includes other sessions' work.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import hmac
import io
import itertools
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (
    BenchDatabase,
    add_database_option,
    cluster_cpu,
    free_port,
    stop_all,
    wait_up,
)

QUIZ_ID = "bien-dao-vung-bien"  # the shipped open quiz (10 questions)
SECRET = "bench-secret"
STAGES = ("ingest", "process", "send")


class StatementCounter:
    """Counts the statements every Store of the engine runs (wraps its connection class's
    ``execute`` for the whole process: the webhook's own connection included), per stage."""

    def __init__(self, store: Any):
        self.counts: Counter = Counter()
        self.stage = "other"
        cls = type(store.db)
        original = cls.execute
        open_tx: dict[int, bool] = {}  # the Store opens and ends every transaction with these statements

        def execute(db: Any, sql: str, params: Any = ()) -> Any:
            word = sql.lstrip()[:8].split(None, 1)[0].upper()
            self.counts[(self.stage, "statements")] += 1
            if word == "BEGIN":
                open_tx[id(db)] = True
                self.counts[(self.stage, "transactions")] += 1
            elif word in ("COMMIT", "ROLLBACK"):
                open_tx[id(db)] = False
            elif not open_tx.get(id(db)):
                self.counts[(self.stage, "transactions")] += 1  # autocommit: a transaction of its own
            return original(db, sql, params)

        cls.execute = execute
        self.restore = lambda: setattr(cls, "execute", original)


def server_cpu(store: Any) -> float:
    """CPU seconds used so far by every process of the PostgreSQL cluster behind ``store`` (0 for SQLite)."""
    return cluster_cpu(store.db.conn.info.backend_pid) if store.postgres else 0.0


def body_for(psid: str, n: int, *, text: str = "", payload: str | None = None) -> bytes:
    ts = int(time.time() * 1000)
    message: dict = {"mid": f"m-{psid}-{n}", "text": text}
    if payload:
        message["quick_reply"] = {"payload": payload}
    return json.dumps({"object": "page", "entry": [{"id": "PAGE", "time": ts, "messaging": [
        {"sender": {"id": psid}, "recipient": {"id": "PAGE"}, "timestamp": ts, "message": message}]}]}).encode()


class Pipeline:
    """The app on one database, driven in this process.  Without ``platform``: the webhook's
    work without Flask (parse, screen, ingest) and a stubbed platform call.  With it (--http):
    signed posts through Flask's test client (the whole request, no socket) and real sends
    over HTTP to the fake platform at that URL (another process)."""

    def __init__(self, env: dict[str, str], platform: str = ""):
        from app import create_app
        from bot.core.models import SendResult

        self.app = create_app({
            **env, "TESTING": True, "CONTENT_DIR": str(ROOT / "content"), "QUIET_HOURS": "off",
            "QUIZ_ATTEMPT_EXPIRY_MINUTES": "0", "MESSENGER_APP_SECRET": SECRET, "MESSENGER_VERIFY_TOKEN": "v",
            "MESSENGER_PAGE_ACCESS_TOKEN": "t", "MESSENGER_API_BASE": platform or "http://127.0.0.1:9",
            "MESSENGER_RATE_PER_SECOND": "0",
        })
        self.services = self.app.extensions["bot"]
        self.channel = self.services.channels["messenger"]
        self.client = self.app.test_client() if platform else None
        if not platform:
            ids = itertools.count(1)
            self.channel.send = lambda recipient, message, **kw: SendResult(f"m_{next(ids)}")  # the platform call, stubbed
        self.store = self.services.open_store()
        self.counter = StatementCounter(self.store)

    def ingest(self, bodies: list[bytes]) -> None:
        from bot.channels.base import screen_events
        from bot.pipeline.inbox import ingest

        if self.client is not None:
            for body in bodies:
                signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                resp = self.client.post("/webhooks/messenger", data=body, headers={"X-Hub-Signature-256": signature})
                if resp.status_code != 200:
                    raise SystemExit(f"webhook answered {resp.status_code}")
            return
        clock, config = self.services.clock, self.services.config
        for body in bodies:
            ingest(self.store, screen_events(self.channel.parse(body), now=clock.now()), now=clock.now(), config=config)

    def process(self, n: int) -> None:
        done = 0
        while done < n:
            step = self.services.processor.process_pending(self.store, limit=n - done)
            if not step:
                raise SystemExit(f"only {done} of {n} events were pending")
            done += step

    def send(self) -> int:
        from bot.pipeline.outbox import drain

        return drain(self.store, self.channel, self.services.config, clock=self.services.clock, limit=10**9)

    def close(self) -> None:
        self.counter.restore()
        self.store.close()


def run_engine(engine: str, server_url: str, args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-event-cost-"))
    database = BenchDatabase(tmp, server_url)
    procs: list[subprocess.Popen] = []
    try:
        platform = ""
        if args.http:  # the fake platform of bench/quiz_load.py, in a process of its own
            port = free_port()
            procs.append(subprocess.Popen([sys.executable, str(ROOT / "bench" / "quiz_load.py"), "--fake-platform",
                                           str(port), str(tmp / "platform.log")]))
            platform = f"http://127.0.0.1:{port}"
            wait_up(platform, procs[-1])
        pipeline = Pipeline(database.env(), platform)
        members = [f"bench-{i}" for i in range(args.members)]
        pipeline.ingest([body_for(m, 0, text="1. Tìm hiểu biển, đảo", payload=f"QUIZ_START:{QUIZ_ID}") for m in members])
        pipeline.process(len(members))
        pipeline.send()
        pipeline.counter.counts.clear()
        wall: Counter = Counter()
        cpu: Counter = Counter()
        server: Counter = Counter()
        profile = cProfile.Profile() if args.profile else None
        sent = 0
        for k in range(1, args.rounds + 1):
            bodies = [body_for(m, k, text="a") for m in members]
            for stage in STAGES:
                pipeline.counter.stage = stage
                s0, c0, w0 = server_cpu(pipeline.store), time.process_time(), time.perf_counter()
                if profile is not None and stage == args.profile:
                    profile.enable()
                if stage == "ingest":
                    pipeline.ingest(bodies)
                elif stage == "process":
                    pipeline.process(len(members))
                else:
                    sent += pipeline.send()
                if profile is not None:
                    profile.disable()
                wall[stage] += time.perf_counter() - w0
                cpu[stage] += time.process_time() - c0
                server[stage] += server_cpu(pipeline.store) - s0
        events = args.members * args.rounds
        result = {"engine": engine, "events": events, "messages": sent}
        for stage in STAGES:
            result[stage] = {
                "statements": pipeline.counter.counts[(stage, "statements")] / events,
                "transactions": pipeline.counter.counts[(stage, "transactions")] / events,
                "cpu_ms": 1000 * cpu[stage] / events,
                "server_cpu_ms": 1000 * server[stage] / events,
                "wall_ms": 1000 * wall[stage] / events,
            }
        result["events_per_s"] = events / sum(wall.values())
        if profile is not None:
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(args.profile_lines)
            result["profile"] = out.getvalue()
        pipeline.close()
        return result
    finally:
        stop_all(procs)
        database.drop()


def report(results: list[dict[str, Any]]) -> None:
    engines = [r["engine"] for r in results]
    width = 22
    print(f"{'per answer event':34}" + "".join(f"{e:>{width}}" for e in engines))
    rows = [("statements", "{:.1f}"), ("transactions", "{:.1f}"), ("cpu_ms", "{:.2f}"),
            ("server_cpu_ms", "{:.2f}"), ("wall_ms", "{:.2f}")]
    for key, fmt in rows:
        for stage in (*STAGES, "total"):
            label = f"{key.replace('_', ' ')} – {stage}"
            cells = []
            for r in results:
                value = sum(r[s][key] for s in STAGES) if stage == "total" else r[stage][key]
                cells.append(fmt.format(value))
            print(f"{label:34}" + "".join(f"{c:>{width}}" for c in cells))
    for label, key in (("CPU ms, this process + server", None), ("events/s (one thread, in-process)", "events_per_s")):
        cells = []
        for r in results:
            value = r[key] if key else sum(r[s]["cpu_ms"] + r[s]["server_cpu_ms"] for s in STAGES)
            cells.append(f"{value:.{0 if key else 2}f}")
        print(f"{label:34}" + "".join(f"{c:>{width}}" for c in cells))
    print("(" + "; ".join(f"{r['engine']}: {r['events']} answers, {r['messages']} messages sent" for r in results) + ")")
    for r in results:
        if "profile" in r:
            print(f"\n--- {r['engine']}: cProfile of one stage (by own time) ---\n{r['profile']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3, help="answers per member (measured)")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--http", action="store_true",
                        help="webhooks through Flask (test client) and sends over HTTP to a fake platform process")
    parser.add_argument("--profile", nargs="?", const="process", choices=STAGES, help="cProfile one stage (default: process)")
    parser.add_argument("--profile-lines", type=int, default=30)
    add_database_option(parser)
    args = parser.parse_args()
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    how = "webhooks through Flask, sends over HTTP" if args.http else "no HTTP (parse + ingest; platform call stubbed)"
    print(f"machine: {os.cpu_count()} cores; {args.members} members × {args.rounds} quiz answers, in-process; {how}")
    results = []
    with ExitStack() as stack:
        for engine in engines:
            url = ""
            if engine == "postgresql":
                url = args.database_url
                if not url:
                    from tests.pgcluster import throwaway_cluster

                    cluster = throwaway_cluster()
                    try:
                        url = next(cluster)
                    except RuntimeError as exc:  # no PostgreSQL binaries: SQLite alone
                        print(f"PostgreSQL skipped: {exc} (or give --database-url)")
                        continue
                    stack.callback(cluster.close)
            results.append(run_engine(engine, url, args))
    report(results)


if __name__ == "__main__":
    main()
