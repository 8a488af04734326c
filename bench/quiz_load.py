"""Benchmark: many members taking the 10-question quiz at once, and report generation time.

Part 1 — quiz load.  ``python app.py`` (waitress + the inbox worker + the senders,
as in production) runs on a free port against a fake platform (another process
that answers every send with 200 and logs which question each member got).
MEMBERS virtual Messenger members tap "start" at once, then answer question after
question: each round every member posts a signed webhook with "a", and the round
ends when every member's next question (or final score) has reached the fake
platform.  Printed: answers handled per second per round, and the p50/p99 time
from a member posting an answer to the next question reaching the platform.
The run stops after --max-seconds; rounds not run are extrapolated (labelled).

Part 2 — reports.  A fresh database with --report-members synthetic members
(inserted directly: registrations, quiz attempts, questions, sent replies and
broadcasts, hái hoa draws, contest rows); the time to build the whole
organisation's report, one commune's report, and the Excel export.

    .venv/bin/python bench/quiz_load.py                    # 10,000 members, 100,000 for reports
    .venv/bin/python bench/quiz_load.py --members 2000 --max-seconds 60
    .venv/bin/python bench/quiz_load.py --skip-reports --database-url postgresql://… --workers 4
``--workers N`` (PostgreSQL): the app process's inbox worker plus N-1 ``flask run-inbox-worker`` processes.
``--spread S``: the start taps arrive evenly over S seconds instead of all at once (a quiz announced in a
group is opened over a minute or so, not in the same second).
Everything runs on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (
    BenchDatabase,
    add_database_option,
    free_port,
    pct,
    process_cpu,
    stop_all,
    wait_up,
)

SECRET = "bench-secret"
QUIZ_ID = "bien-dao-vung-bien"  # the shipped open quiz (10 questions)
MARK = re.compile(r"Câu (\d+)/\d+:|(Điểm: )")


# -- the fake platform (a separate process) -----------------------------------------------
class FakePlatform(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps connections open, as the Graph API does (HTTP/1.0: a TCP connect per send)
    disable_nagle_algorithm = True  # headers and body leave at once (else a 40 ms delayed-ACK stall per send)
    log = None
    lock = threading.Lock()

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        now = time.time()
        body = json.loads(raw or b"{}")
        recipient = body.get("recipient", {}).get("id", "")
        found = MARK.findall(body.get("message", {}).get("text", ""))
        mark = ("Q" + found[-1][0] if found[-1][0] else "DONE") if found else "-"
        data = json.dumps({"recipient_id": recipient, "message_id": f"m_{now}"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        with self.lock:
            self.log.write(f"{now:.6f} {recipient} {mark}\n")
            self.log.flush()

    def log_message(self, *args) -> None:
        pass


def serve_fake_platform(port: int, log_path: str) -> None:
    with open(log_path, "a", encoding="utf-8") as log:
        FakePlatform.log = log
        server = ThreadingHTTPServer(("127.0.0.1", port), FakePlatform)
        server.daemon_threads = True
        server.serve_forever()


# -- helpers ------------------------------------------------------------------------------






class PlatformLog:
    """Follows the fake platform's log: when did each member get each mark."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self.first: dict[tuple[str, str], float] = {}

    def poll(self) -> None:
        with open(self.path, encoding="utf-8") as fh:
            fh.seek(self.offset)
            chunk = fh.read()
        complete = chunk[: chunk.rfind("\n") + 1]
        self.offset += len(complete.encode("utf-8"))
        for line in complete.splitlines():
            ts, recipient, mark = line.split(" ")
            self.first.setdefault((recipient, mark), float(ts))

    def count(self, mark: str, members: list[str]) -> int:
        return sum((m, mark) in self.first for m in members)


def body_for(psid: str, n: int, *, text: str = "", payload: str | None = None) -> bytes:
    ts = int(time.time() * 1000)
    message: dict = {"mid": f"m-{psid}-{n}", "text": text}
    if payload:
        message["quick_reply"] = {"payload": payload}
    return json.dumps({"object": "page", "entry": [{"id": "PAGE", "time": ts, "messaging": [
        {"sender": {"id": psid}, "recipient": {"id": "PAGE"}, "timestamp": ts, "message": message}]}]}).encode()


def post_all(url: str, bodies: list[tuple[str, bytes]], concurrency: int, spread: float = 0.0) -> dict[str, float]:
    """Post every body (signed), all at once or, with ``spread`` seconds, evenly over that time;
    returns the time each member's post started."""
    import requests

    local = threading.local()
    sent: dict[str, float] = {}
    begin, count = time.time(), max(1, len(bodies))

    def one(indexed: tuple[int, tuple[str, bytes]]) -> None:
        index, (psid, body) = indexed
        if spread:
            time.sleep(max(0.0, begin + spread * index / count - time.time()))
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        sent[psid] = time.time()
        resp = session.post(url, data=body, headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"}, timeout=60)
        if resp.status_code != 200:
            raise SystemExit(f"webhook answered {resp.status_code}")

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, enumerate(bodies)))
    return sent


def wait_for(log: PlatformLog, mark: str, members: list[str], deadline: float) -> bool:
    while time.time() < deadline:
        log.poll()
        if log.count(mark, members) == len(members):
            return True
        time.sleep(0.1)
    log.poll()
    return False


# -- part 1 -------------------------------------------------------------------------------
def quiz_load(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-quiz-"))
    database = BenchDatabase(tmp, args.database_url)
    if args.workers > 1 and not args.database_url:
        raise SystemExit("--workers > 1 needs --database-url (SQLite: one process works)")
    fake_port, app_port = free_port(), free_port()
    log_path = tmp / "platform.log"
    log_path.touch()
    procs: list[subprocess.Popen] = []
    members = [f"bench-{i}" for i in range(args.members)]
    started = time.time()
    deadline = started + args.max_seconds
    # waitress warns about its queue under a burst: to a file, not the screen
    with open(tmp / "app.log", "w", encoding="utf-8") as app_log:
        try:
            run_quiz(args, database, tmp, members, procs, app_log, (fake_port, app_port), deadline)
        finally:
            stop_all(procs)
            database.drop()


def run_quiz(args: argparse.Namespace, database: BenchDatabase, tmp: Path, members: list[str],
             procs: list[subprocess.Popen], app_log: Any, ports: tuple[int, int], deadline: float) -> None:
    fake_port, app_port = ports
    log_path = tmp / "platform.log"
    procs.append(subprocess.Popen([sys.executable, __file__, "--fake-platform", str(fake_port), str(log_path)]))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MESSENGER_", "ZALO_"))}
    env.update({
        "HOST": "127.0.0.1", "PORT": str(app_port), "WEB_THREADS": str(args.threads), **database.env(),
        "CONTENT_DIR": str(ROOT / "content"), "LOG_LEVEL": "warning", "QUIET_HOURS": "off",
        "MESSENGER_APP_SECRET": SECRET, "MESSENGER_VERIFY_TOKEN": "v", "MESSENGER_PAGE_ACCESS_TOKEN": "t",
        "MESSENGER_API_BASE": f"http://127.0.0.1:{fake_port}", "MESSENGER_RATE_PER_SECOND": "0",
        "QUIZ_ATTEMPT_EXPIRY_MINUTES": "0", "NO_PROXY": "127.0.0.1",
    })
    procs.append(subprocess.Popen([sys.executable, str(ROOT / "app.py")], env=env, cwd=tmp, stderr=app_log))
    wait_up(f"http://127.0.0.1:{app_port}/healthz", procs[-1])
    for _ in range(args.workers - 1):
        procs.append(subprocess.Popen([sys.executable, "-m", "flask", "--app", str(ROOT / "app.py"), "run-inbox-worker"],
                                      env=env, cwd=tmp, stderr=app_log))
    url = f"http://127.0.0.1:{app_port}/webhooks/messenger"
    log = PlatformLog(log_path)
    print(f"machine: {os.cpu_count()} cores; database {database.engine}, inbox worker processes {args.workers}; "
          f"{args.members} members, webhook concurrency {args.concurrency}, "
          f"waitress threads {args.threads}; time box {args.max_seconds:.0f} s")

    # every member taps "start" (at once, or spread over --spread seconds) and gets question 1 (their
    # first contact: a greeting too)
    t0 = time.time()
    starts = [(m, body_for(m, 0, text="1. Tìm hiểu biển, đảo", payload=f"QUIZ_START:{QUIZ_ID}")) for m in members]
    sent = post_all(url, starts, args.concurrency, spread=args.spread)
    ok = wait_for(log, "Q1", members, deadline)
    start_lat = [log.first[(m, "Q1")] - sent[m] for m in members if (m, "Q1") in log.first]
    print(f"start    : {len(start_lat)}/{len(members)} got question 1 in {time.time() - t0:6.1f} s; "
          f"start->Q1 p50 {pct(start_lat, 50):6.2f} s, p99 {pct(start_lat, 99):6.2f} s")
    if not ok:
        print("time box reached before every member had question 1")
        return

    app_pids = [p.pid for p in procs[1:]]  # the app and the extra inbox workers (not the fake platform)
    cpu_at: Callable[[], tuple[float, float]] = lambda: (process_cpu(app_pids), database.server_cpu())
    cpu_start = cpu_at()
    rates, latencies, round_times = [], [], []
    for k in range(1, 11):
        mark = f"Q{k + 1}" if k < 10 else "DONE"
        t0 = time.time()
        sent = post_all(url, [(m, body_for(m, k, text="a")) for m in members], args.concurrency)
        posted = time.time() - t0
        done = wait_for(log, mark, members, deadline)
        elapsed = time.time() - t0
        got = [log.first[(m, mark)] - sent[m] for m in members if (m, mark) in log.first]
        latencies += got
        if not done:
            print(f"answer {k:2}: time box reached with {len(got)}/{len(members)} answered "
                  f"({len(got) / elapsed:6.0f} answers/s so far)")
            if got:
                rates.append(len(got) / elapsed)
            break
        rates.append(len(members) / elapsed)
        round_times.append(elapsed)
        print(f"answer {k:2}: {len(members)} answers in {elapsed:6.1f} s (posting took {posted:5.1f} s) = "
              f"{len(members) / elapsed:6.0f} answers/s; answer->next question p50 {pct(got, 50):6.2f} s, "
              f"p99 {pct(got, 99):6.2f} s")
    cpu_end = cpu_at()
    print("-" * 100)
    if latencies:
        app_ms, db_ms = (1000 * (b - a) / len(latencies) for a, b in zip(cpu_start, cpu_end))
        print(f"CPU per answer (answer rounds): app processes {app_ms:.2f} ms"
              + (f", PostgreSQL cluster {db_ms:.2f} ms" if database.server_url else "")
              + " (webhook acknowledgement, processing and the send, all included)")
    if rates:
        print(f"answers handled per second (each round: all members answer at once): mean {statistics.mean(rates):.0f}, "
              f"min {min(rates):.0f}, max {max(rates):.0f}")
        print(f"time from posting an answer to the next question at the platform, over {len(latencies)} answers: "
              f"p50 {pct(latencies, 50):.2f} s, p99 {pct(latencies, 99):.2f} s, max {max(latencies):.2f} s")
    if len(round_times) < 10 and rates:
        per_round = args.members / statistics.mean(rates)
        print(f"EXTRAPOLATED (not measured): 10 rounds of {args.members} answers would take about "
              f"{10 * per_round:.0f} s at the measured mean rate; a member answering in a round-wide burst waits "
              f"up to about {per_round:.0f} s for the next question (the burst drains at that rate).")


# -- part 2 -------------------------------------------------------------------------------
def report_load(args: argparse.Namespace) -> None:
    from bot.core.config import load_config
    from bot.participation.catalog import build_catalog
    from bot.reports.export import xlsx_bytes
    from bot.reports.unit_report import build_report, parse_period, report_tables
    from bot.storage.store import Store

    tmp = Path(tempfile.mkdtemp(prefix="bench-report-"))
    store = Store.open(str(tmp / "bot.db"), migrate=True)
    config = load_config({"CONTENT_DIR": str(ROOT / "content"), "QUIET_HOURS": "off"})
    catalog = build_catalog(str(ROOT / "content"))
    rng = random.Random(5)
    units = [u.code for u in catalog.units.units.values() if u.level >= 2]
    quizzes = list(catalog.quizzes)
    contests = list(catalog.contests)
    now = time.time()
    month = 30 * 86400.0
    n = args.report_members
    t0 = time.time()
    conn = store.db.conn
    conn.execute("BEGIN")
    members = []
    for i in range(n):
        registered = rng.random() < 0.6
        seen = now - rng.random() * month
        members.append((["messenger", "zalo", "zalo_bot"][i % 3], f"p{i}", f"Tên {i}", seen, seen,
                        rng.choice(units) if registered else None, f"Nguyễn Thị {i}" if registered else None,
                        f"09{i:08d}" if registered else None, seen if registered else None, seen if registered else None))
    conn.executemany("INSERT INTO members (channel, platform_id, display_name, first_seen_at, last_inbound_at, unit_code,"
                     " full_name, phone, consent_at, registered_at) VALUES (?,?,?,?,?,?,?,?,?,?)", members)
    attempts = []
    for member_id in range(1, n + 1):
        if rng.random() < 0.5:
            start = now - rng.random() * month
            score = rng.randint(3, 10)
            attempts.append((rng.choice(quizzes), member_id, "messenger", 1, "[]", 10, score, 10, "finished", start, start,
                             start + 200, 60 + rng.random() * 600))
    conn.executemany("INSERT INTO quiz_attempts (quiz_id, member_id, channel, seed, plan, position, score, total, state,"
                     " started_at, asked_at, finished_at, duration) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", attempts)
    conn.executemany("INSERT INTO questions (member_id, channel, text, asked_at, decision, score) VALUES (?,?,?,?,?,?)",
                     [(rng.randint(1, n), "messenger", "câu hỏi", now - rng.random() * month,
                       rng.choice(["answer", "answer", "suggest", "fallback"]), 0.5) for _ in range(2 * n)])
    conn.executemany("INSERT INTO outbox (channel, recipient, member_id, kind, part, message, status, created_at, finished_at)"
                     " VALUES ('messenger', ?, ?, ?, 0, '{}', 'sent', ?, ?)",
                     [(f"p{m}", m, "broadcast" if rng.random() < 0.5 else "reply", t, t)
                      for m, t in ((rng.randint(1, n), now - rng.random() * month) for _ in range(3 * n))])
    conn.executemany("INSERT INTO haihoa_draws (member_id, channel, kind, item_id, drawn_at) VALUES (?, 'zalo', 'bank', 'x', ?)",
                     [(rng.randint(1, n), now - rng.random() * month) for _ in range(n // 2)])
    conn.executemany("INSERT INTO participations (member_id, contest_id, source, reported_at, participated_on) VALUES (?,?,?,?,?)",
                     [(rng.randint(1, n), rng.choice(contests), "chat", now, time.strftime("%Y-%m-%d")) for _ in range(n // 5)])
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    print(f"report data: {n} members, {len(attempts)} quiz attempts, {2 * n} questions, {3 * n} sent messages, "
          f"{n // 2} hái hoa draws, {n // 5} contest rows (inserted in {time.time() - t0:.1f} s)")
    period = parse_period(time.strftime("%Y-%m-%d", time.localtime(now - 40 * 86400)), None, config["TIMEZONE"], now)
    for scope in (None, "CT.PHULOI"):
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            report = build_report(store, catalog, config, period, scope, now=now)
            times.append(time.perf_counter() - t0)
        print(f"report {scope or 'whole organisation':20}: {min(times) * 1000:7.0f} ms (best of 3; "
              f"{report['summary']['total']['registered']} registered, {report['summary']['total']['quiz_attempts']} attempts)")
    t0 = time.perf_counter()
    data = xlsx_bytes(report_tables(report), report)
    print(f"Excel export of the commune report: {(time.perf_counter() - t0) * 1000:.0f} ms ({len(data) // 1024} KB)")
    report = build_report(store, catalog, config, period, None, now=now)
    t0 = time.perf_counter()
    data = xlsx_bytes(report_tables(report), report)
    print(f"Excel export of the whole organisation: {(time.perf_counter() - t0) * 1000:.0f} ms ({len(data) // 1024} KB)")
    store.close()


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--fake-platform":
        serve_fake_platform(int(sys.argv[2]), sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--max-seconds", type=float, default=110, help="time box of the quiz part")
    parser.add_argument("--concurrency", type=int, default=32, help="client threads posting webhooks")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--report-members", type=int, default=100_000)
    parser.add_argument("--skip-quiz", action="store_true")
    parser.add_argument("--skip-reports", action="store_true")
    parser.add_argument("--spread", type=float, default=0.0,
                        help="seconds over which the members' start taps arrive, evenly (default 0: all at once)")
    parser.add_argument("--workers", type=int, default=1, help="inbox worker processes (more than 1: PostgreSQL)")
    add_database_option(parser)
    args = parser.parse_args()
    if args.database_url and not args.skip_reports:
        print("reports part: SQLite only in this script (it inserts rows through sqlite3); skipped")
        args.skip_reports = True
    if not args.skip_quiz:
        quiz_load(args)
    if not args.skip_reports:
        report_load(args)


if __name__ == "__main__":
    main()
