"""A minimal fake platform for benchmarks: answers every send like the real APIs.

Run as a process: ``python bench/fakeplatform.py PORT LOGFILE``.  Each request is
answered at once; one line per request is appended to LOGFILE:
``<epoch seconds> <path> <recipient>``.  It never leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    log_lock = threading.Lock()
    log_file = None

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        now = time.time()
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        path = self.path.split("?")[0]
        if path.endswith("/me/messages"):
            recipient = body.get("recipient", {}).get("id", "")
            answer = {"recipient_id": recipient, "message_id": f"m_{now}"}
        elif "/oa/" in path:
            recipient = body.get("recipient", {}).get("user_id") or body.get("recipient", {}).get("group_id", "")
            answer = {"data": {"message_id": f"z_{now}"}, "error": 0, "message": "Success"}
        else:
            recipient = str(body.get("chat_id", ""))
            answer = {"ok": True, "result": {"message_id": f"b_{now}", "date": int(now)}}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        with self.log_lock:
            self.log_file.write(f"{now:.6f} {path} {recipient}\n")
            self.log_file.flush()

    def log_message(self, *args) -> None:  # silence per-request logging
        pass


def main() -> None:
    port, log_path = int(sys.argv[1]), sys.argv[2]
    Handler.log_file = open(log_path, "a", encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
