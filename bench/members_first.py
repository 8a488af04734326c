"""Benchmark: members first under load (issue 11).

1. Reply latency of member messages queued while a 100,000-member "all" broadcast is
   sending at the default rates: `python app.py` (server, workers, scheduler) against
   bench/fakeplatform.py, members writing on Messenger, Zalo OA and the Zalo Bot.
   Latency = from the webhook's acknowledgement to the first part of the reply at the
   fake platform.  Target: p99 under 2 s.  Also prints the broadcast's delivered rate
   meanwhile (it keeps the rest of each channel's rate).
2. Webhook acknowledgement latency while `flask participation import` loads a
   50,000-row file (its dry run first, then the real import) into the same database
   from another process.  Target: p99 under 1 s.

Usage: python bench/members_first.py [--members 100000] [--replies 30] [--rows 50000]
Everything runs on 127.0.0.1 and stops by itself (a few minutes at most).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import free_port, pct, stop_all, wait_up

MESSENGER_SECRET = "bench-secret"
ZALO_APP_ID = "1234567890"
ZALO_OA_SECRET = "bench-oa-secret"
ZALO_BOT_SECRET = "bench-bot-secret"
QUESTION = "Biên giới đất liền dài bao nhiêu km?"
CHANNEL_PATHS = {"messenger": "/me/messages", "zalo": "/v3.0/oa/message/cs", "zalo_bot": "/sendMessage"}


def server_env(tmp: Path, db: Path, app_port: int, fake_port: int) -> dict[str, str]:
    base = f"http://127.0.0.1:{fake_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MESSENGER_", "ZALO_"))}
    env.update({
        "PORT": str(app_port), "HOST": "127.0.0.1", "DATABASE_PATH": str(db), "LOG_LEVEL": "warning",
        "QUIET_HOURS": "off", "SCHEDULER_TICK_SECONDS": "2", "NO_PROXY": "127.0.0.1",
        "CONTENT_DIR": str(ROOT / "content"),
        "MESSENGER_APP_SECRET": MESSENGER_SECRET, "MESSENGER_VERIFY_TOKEN": "v", "MESSENGER_PAGE_ACCESS_TOKEN": "t",
        "MESSENGER_API_BASE": base,
        "ZALO_APP_ID": ZALO_APP_ID, "ZALO_APP_SECRET": "s", "ZALO_OA_SECRET_KEY": ZALO_OA_SECRET,
        "ZALO_ACCESS_TOKEN": "a", "ZALO_REFRESH_TOKEN": "r", "ZALO_API_BASE": base, "ZALO_OAUTH_BASE": base,
        "ZALO_BOT_TOKEN": "1:t", "ZALO_BOT_SECRET_TOKEN": ZALO_BOT_SECRET, "ZALO_BOT_API_BASE": base,
    })
    return env


# -- signed webhook bodies --------------------------------------------------------------
def messenger_post(session: requests.Session, url: str, user: str, mid: str) -> requests.Response:
    ts = int(time.time() * 1000)
    body = json.dumps({"object": "page", "entry": [{"id": "PAGE", "time": ts, "messaging": [
        {"sender": {"id": user}, "recipient": {"id": "PAGE"}, "timestamp": ts,
         "message": {"mid": mid, "text": QUESTION}}]}]}).encode()
    sig = "sha256=" + hmac.new(MESSENGER_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return session.post(url + "/webhooks/messenger", data=body, timeout=30,
                        headers={"X-Hub-Signature-256": sig, "Content-Type": "application/json"})


def zalo_post(session: requests.Session, url: str, user: str, mid: str) -> requests.Response:
    ts = str(int(time.time() * 1000))
    body = json.dumps({"app_id": ZALO_APP_ID, "user_id_by_app": user, "event_name": "user_send_text", "timestamp": ts,
                       "sender": {"id": user}, "recipient": {"id": "OA"},
                       "message": {"text": QUESTION, "msg_id": mid}}).encode()
    mac = hashlib.sha256(ZALO_APP_ID.encode() + body + ts.encode() + ZALO_OA_SECRET.encode()).hexdigest()
    return session.post(url + "/webhooks/zalo", data=body, timeout=30,
                        headers={"X-ZEvent-Signature": f"mac={mac}", "Content-Type": "application/json"})


def zalo_bot_post(session: requests.Session, url: str, user: str, mid: str) -> requests.Response:
    body = json.dumps({"ok": True, "result": {"event_name": "message.text.received", "message": {
        "from": {"id": user, "display_name": "Chị Hoa", "is_bot": False},
        "chat": {"id": user, "chat_type": "PRIVATE"}, "text": QUESTION, "message_id": mid,
        "date": int(time.time() * 1000)}}}).encode()
    return session.post(url + "/webhooks/zalo-bot", data=body, timeout=30,
                        headers={"X-Bot-Api-Secret-Token": ZALO_BOT_SECRET, "Content-Type": "application/json"})


POSTERS = {"messenger": messenger_post, "zalo": zalo_post, "zalo_bot": zalo_bot_post}


def read_log(path: Path) -> list[tuple[float, str, str]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        ts, p, recipient = (line.split(" ", 2) + [""])[:3]
        out.append((float(ts), p, recipient))
    return out


def channel_of(path: str) -> str | None:
    for name, suffix in CHANNEL_PATHS.items():
        if path.endswith(suffix):
            return name
    return None


def db_value(db: Path, sql: str) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


# -- part 1 -------------------------------------------------------------------------------
def setup_broadcast(db: Path, members: int) -> None:
    """100,000 members on the three channels, and an 'all' broadcast due now (the server starts it)."""
    os.environ["DATABASE_PATH"] = str(db)
    from app import create_app
    from bot.storage.store import Store
    from scheduler import broadcasts

    app = create_app({"TESTING": True, "DATABASE_PATH": str(db), "QUIET_HOURS": "off",
                      "MESSENGER_APP_SECRET": "s", "MESSENGER_VERIFY_TOKEN": "v", "MESSENGER_PAGE_ACCESS_TOKEN": "t",
                      "ZALO_APP_ID": "1", "ZALO_APP_SECRET": "s", "ZALO_OA_SECRET_KEY": "k",
                      "ZALO_BOT_TOKEN": "1:t", "ZALO_BOT_SECRET_TOKEN": "x"})
    store = Store.open(str(db), migrate=True)
    now = time.time()
    names = ("messenger", "zalo", "zalo_bot")
    rows = [(names[i % 3], f"u{i:06d}", now - 3600, now - 3600) for i in range(members)]
    with store.transaction():
        store.db.conn.executemany(
            "INSERT INTO members (channel, platform_id, first_seen_at, last_inbound_at) VALUES (?, ?, ?, ?)", rows
        )
    broadcasts.create_broadcast(store, app.config, text="Tin thử nghiệm: Tuần lễ Biển và Hải đảo Việt Nam.",
                                now=now, schedule="now")
    store.close()


def part_one(args: argparse.Namespace, tmp: Path) -> None:
    db = tmp / "broadcast.db"
    t0 = time.perf_counter()
    setup_broadcast(db, args.members)
    print(f"[1] {args.members:,} members and an 'all' broadcast set up in {time.perf_counter() - t0:.1f} s (not measured)")
    fake_port, app_port = free_port(), free_port()
    log = tmp / "fake1.log"
    procs = []
    try:
        procs.append(subprocess.Popen([sys.executable, str(ROOT / "bench" / "fakeplatform.py"), str(fake_port), str(log)]))
        server = subprocess.Popen([sys.executable, str(ROOT / "app.py")], env=server_env(tmp, db, app_port, fake_port), cwd=tmp)
        procs.append(server)
        url = f"http://127.0.0.1:{app_port}"
        wait_up(url + "/healthz", server, timeout=120)
        deadline = time.time() + 120
        while time.time() < deadline and db_value(db, "SELECT count(*) FROM outbox WHERE kind = 'broadcast' AND status = 'sent'") < 50:
            time.sleep(0.5)
        expanded = db_value(db, "SELECT count(*) FROM outbox WHERE kind = 'broadcast'")
        print(f"[1] broadcast sending ({expanded:,} rows expanded so far); members now write on all three channels")
        sessions = {name: requests.Session() for name in POSTERS}
        for name, post in POSTERS.items():  # warm up: the first answer loads the content bank
            post(sessions[name], url, f"warm-{name}", f"warm-{name}")
        time.sleep(3)
        acks: dict[str, float] = {}
        started = time.time()
        for i in range(args.replies):
            for name, post in POSTERS.items():
                user = f"reply-{name}-{i}"
                resp = post(sessions[name], url, user, f"mid-{name}-{i}")
                if resp.status_code != 200:
                    raise SystemExit(f"{name} webhook answered {resp.status_code}")
                acks[user] = time.time()
            time.sleep(args.interval)
        time.sleep(5)  # the last replies
        ended = time.time()
        entries = read_log(log)
        first: dict[str, float] = {}
        broadcast_sends = {name: 0 for name in CHANNEL_PATHS}
        for ts, path, recipient in entries:
            if recipient in acks:
                first.setdefault(recipient, ts)
            elif started <= ts <= ended and recipient.startswith("u"):
                name = channel_of(path)
                if name:
                    broadcast_sends[name] += 1
        print(f"[1] reply latency (ack -> first reply part at the platform), {args.replies} members per channel,"
              f" one message per channel every {args.interval:g} s, during the broadcast at the default rates:")
        all_latencies = []
        for name in POSTERS:
            users = [u for u in acks if u.startswith(f"reply-{name}-")]
            lat = [first[u] - acks[u] for u in users if u in first]
            all_latencies += lat
            rate = broadcast_sends[name] / (ended - started)
            print(f"    {name:<9} replies {len(lat)}/{len(users)}  p50 {pct(lat, 50):6.2f} s  p99 {pct(lat, 99):6.2f} s"
                  f"  max {max(lat) if lat else float('nan'):6.2f} s   broadcast meanwhile {rate:5.1f} sends/s")
        slowest = sorted(((first[u] - acks[u], acks[u] - started, u) for u in acks if u in first), reverse=True)[:3]
        print("[1] slowest: " + ", ".join(f"{u} {lat:.2f} s at +{at:.1f} s" for lat, at, u in slowest))
        p99 = pct(all_latencies, 99)
        print(f"[1] all channels: p50 {pct(all_latencies, 50):.2f} s  p99 {p99:.2f} s  (target p99 < 2 s: "
              f"{'met' if p99 < 2 else 'NOT met'})")
        left = db_value(db, "SELECT count(*) FROM outbox WHERE kind = 'broadcast' AND status = 'pending'")
        print(f"[1] broadcast rows still pending at the end: {left:,} (the broadcast goes on; the run is stopped here)")
    finally:
        stop_all(procs)


# -- part 2 -------------------------------------------------------------------------------
def import_csv(path: Path, rows: int) -> None:
    letters = "ABCDEGHIKLMNOPQRSTUVXY"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("Họ và tên,Số điện thoại,Đơn vị,Cuộc thi,Ngày,Kết quả\n")
        for i in range(rows):
            name = "".join(letters[(i // len(letters) ** k) % len(letters)] for k in range(4))
            fh.write(f"Nguyễn Thị {name.capitalize()},09{i:08d},CT.LAIHOA,to-quoc-ben-bo-song-2022,15/08/2022,\n")


def poster(url: str, tag: str, period: float, stop: threading.Event, latencies: list[float]) -> None:
    """Post signed Messenger webhooks every ``period`` seconds until ``stop``; record each acknowledgement time."""
    session = requests.Session()
    n = 0
    while not stop.is_set():
        n += 1
        t = time.perf_counter()
        resp = messenger_post(session, url, f"ack-{tag}-{n % 50}", f"m-{tag}-{n}")
        latencies.append(time.perf_counter() - t)
        if resp.status_code != 200:
            print(f"    webhook answered {resp.status_code}")
        time.sleep(max(0.0, period - (time.perf_counter() - t)))


def part_two(args: argparse.Namespace, tmp: Path) -> None:
    db = tmp / "import.db"
    csv_path = tmp / "ds.csv"
    import_csv(csv_path, args.rows)
    fake_port, app_port = free_port(), free_port()
    env = server_env(tmp, db, app_port, fake_port)
    procs = []
    try:
        procs.append(subprocess.Popen([sys.executable, str(ROOT / "bench" / "fakeplatform.py"), str(fake_port), str(tmp / "fake2.log")]))
        server = subprocess.Popen([sys.executable, str(ROOT / "app.py")], env=env, cwd=tmp)
        procs.append(server)
        url = f"http://127.0.0.1:{app_port}"
        wait_up(url + "/healthz", server, timeout=120)
        warm = requests.Session()
        for i in range(5):  # warm up: the first answer loads the content bank
            messenger_post(warm, url, f"warm-{i}", f"warm-{i}")
        time.sleep(3)
        for label, extra in (("dry run", ["--dry-run"]), ("import", [])):
            latencies: list[float] = []
            stop = threading.Event()
            threads = [
                threading.Thread(target=poster, args=(url, f"{label}-{k}", 2 / args.webhook_rate, stop, latencies), daemon=True)
                for k in range(2)
            ]
            for th in threads:
                th.start()
            time.sleep(1)
            t0 = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-m", "flask", "--app", "app", "participation", "import", str(csv_path), "--json", *extra],
                env=env, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
            )
            took = time.perf_counter() - t0
            time.sleep(1)
            stop.set()
            for th in threads:
                th.join(30)
            try:
                report = json.loads(result.stdout)
                summary = f"added {report['added']:,}, merged {report['merged']:,}, rejected {report['rejected']:,}"
            except ValueError:
                summary = f"exit {result.returncode}: {result.stderr.strip()[-300:]}"
            p99 = pct(latencies, 99)
            print(f"[2] {label} of {args.rows:,} rows in another process: {took:.1f} s ({summary})")
            print(f"    webhook acks meanwhile: {len(latencies)} posts  p50 {pct(latencies, 50) * 1000:.0f} ms"
                  f"  p99 {p99 * 1000:.0f} ms  max {max(latencies) * 1000:.0f} ms  (target p99 < 1 s: "
                  f"{'met' if p99 < 1 else 'NOT met'})")
        written = db_value(db, "SELECT count(*) FROM participations")
        print(f"[2] participation rows in the database after both: {written:,}")
    finally:
        stop_all(procs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--replies", type=int, default=30, help="member messages per channel during the broadcast")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between rounds of member messages")
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--webhook-rate", type=float, default=20.0, help="webhooks per second during the import")
    parser.add_argument("--skip", choices=("1", "2"), default=None, help="skip part 1 or part 2")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-members-first-"))
    print(f"machine: {os.cpu_count()} cores; work folder {tmp}")
    if args.skip != "1":
        part_one(args, tmp)
    if args.skip != "2":
        part_two(args, tmp)


if __name__ == "__main__":
    main()
