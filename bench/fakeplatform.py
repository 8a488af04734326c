"""A minimal fake platform for benchmarks: answers every send like the real APIs.

Run as a process: ``python bench/fakeplatform.py PORT LOGFILE [WEBHOOK_BASE]``.  Each
request is answered at once; one line per request is appended to LOGFILE:
``<epoch seconds> <path> <recipient>``.  It never leaves 127.0.0.1.

With WEBHOOK_BASE (e.g. ``http://127.0.0.1:8000``) it also sends receipts back, signed and
shaped like the real ones (shared/platform-*.md), a quarter of a second later in batches:
Messenger ``delivery`` (mids + watermark) and ``read`` (watermark) items to
``/webhooks/messenger``; Zalo OA ``user_received_message`` / ``user_seen_message`` (msg_ids)
to ``/webhooks/zalo``.  The Zalo Bot has no receipts.  Per recipient (a stable hash):
90% delivered, 60% read.  Secrets from FAKE_MESSENGER_SECRET, FAKE_ZALO_APP_ID and
FAKE_ZALO_KEY (the benchmarks' values by default).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import sys
import threading
import time
import urllib.request
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGE_ID = "106519712345678"
OA_ID = "3662729599332560487"
_ids = itertools.count(1)


class Receipts:
    """Queues a receipt per answered send and posts them in batches from one thread."""

    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.secret = os.environ.get("FAKE_MESSENGER_SECRET", "s").encode()
        self.zalo_app_id = os.environ.get("FAKE_ZALO_APP_ID", "1")
        self.zalo_key = os.environ.get("FAKE_ZALO_KEY", "k")
        self.lock = threading.Lock()
        self.messenger: list[dict] = []
        self.zalo: list[dict] = []
        threading.Thread(target=self._run, daemon=True).start()

    @staticmethod
    def fate(recipient: str) -> tuple[bool, bool]:
        bucket = zlib.crc32(recipient.encode()) % 10
        return bucket < 9, bucket < 6  # delivered, read

    def add(self, channel: str, recipient: str, message_id: str) -> None:
        delivered, read = self.fate(recipient)
        if not delivered:
            return
        now = int(time.time() * 1000)
        with self.lock:
            if channel == "messenger":
                base = {"sender": {"id": recipient}, "recipient": {"id": PAGE_ID}, "timestamp": now + 5}
                self.messenger.append({**base, "delivery": {"mids": [message_id], "watermark": now}})
                if read:
                    self.messenger.append({**base, "timestamp": now + 9, "read": {"watermark": now + 1}})
            elif channel == "zalo":
                for name in ("user_received_message", "user_seen_message") if read else ("user_received_message",):
                    self.zalo.append({"app_id": self.zalo_app_id, "user_id_by_app": "0", "event_name": name,
                                      "timestamp": str(now + 5), "sender": {"id": OA_ID}, "recipient": {"id": recipient},
                                      "message": {"msg_ids": [message_id]}})

    def _run(self) -> None:
        while True:
            time.sleep(0.25)
            with self.lock:
                messenger, self.messenger = self.messenger, []
                zalo, self.zalo = self.zalo, []
            for start in range(0, len(messenger), 100):  # Meta batches items in one POST
                body = json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": int(time.time() * 1000),
                                                                "messaging": messenger[start:start + 100]}]}).encode()
                sig = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
                self._post("/webhooks/messenger", body, {"X-Hub-Signature-256": sig})
            for event in zalo:  # Zalo: one event per POST
                body = json.dumps(event).encode()
                mac = hashlib.sha256(self.zalo_app_id.encode() + body + (event["timestamp"] + self.zalo_key).encode()).hexdigest()
                self._post("/webhooks/zalo", body, {"X-ZEvent-Signature": f"mac={mac}"})

    def _post(self, path: str, body: bytes, headers: dict[str, str]) -> None:
        request = urllib.request.Request(self.base + path, data=body, method="POST",
                                         headers={"Content-Type": "application/json", **headers})
        try:
            urllib.request.urlopen(request, timeout=10).read()
        except OSError as exc:  # the app stopped: receipts are lost, as they would be
            print(f"fakeplatform: receipt not delivered: {exc}", file=sys.stderr)


class Handler(BaseHTTPRequestHandler):
    log_lock = threading.Lock()
    log_file = None
    receipts: Receipts | None = None

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        now = time.time()
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        path = self.path.split("?")[0]
        n = next(_ids)
        channel = ""
        if path.endswith("/me/messages"):
            channel, recipient = "messenger", body.get("recipient", {}).get("id", "")
            message_id = f"m_{n}"
            answer = {"recipient_id": recipient, "message_id": message_id}
        elif "/oa/" in path:
            recipient = body.get("recipient", {}).get("user_id") or body.get("recipient", {}).get("group_id", "")
            channel, message_id = ("zalo" if body.get("recipient", {}).get("user_id") else ""), f"z{n:020d}"
            answer = {"data": {"message_id": message_id}, "error": 0, "message": "Success"}
        else:
            recipient = str(body.get("chat_id", ""))
            message_id = f"b_{n}"
            answer = {"ok": True, "result": {"message_id": message_id, "date": int(now)}}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        if self.receipts is not None and channel:
            self.receipts.add(channel, recipient, message_id)
        with self.log_lock:
            self.log_file.write(f"{now:.6f} {path} {recipient}\n")
            self.log_file.flush()

    def log_message(self, *args) -> None:  # silence per-request logging
        pass


def main() -> None:
    port, log_path = int(sys.argv[1]), sys.argv[2]
    Handler.log_file = open(log_path, "a", encoding="utf-8")
    if len(sys.argv) > 3:
        Handler.receipts = Receipts(sys.argv[3])
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
