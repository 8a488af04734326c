"""XÓA DỮ LIỆU leaves no platform id behind (issue 11, D20): not in inbox keys or events, not in the
goodbye's outbox row once it has been sent; anonymous counts stay; SQLite overwrites erased text."""

from __future__ import annotations

import json

from bot.pipeline.outbox import drain
from tests import dbcheck
from tests.conftest import sign_zalo

MEMBER = "ZFOLLOW-7731"


def post_zalo(client, data: dict) -> None:
    body = json.dumps(data).encode()
    assert client.post("/webhooks/zalo", data=body, headers={"X-ZEvent-Signature": sign_zalo(body)}).status_code == 200


def zalo_text(text: str, msg_id: str, ts: str) -> dict:
    return {"event_name": "user_send_text", "timestamp": ts, "sender": {"id": MEMBER}, "recipient": {"id": "OA1"},
            "message": {"text": text, "msg_id": msg_id}}


def run(app, store) -> None:
    services = app.extensions["bot"]
    services.processor.process_pending(store)
    drain(store, services.channels["zalo"], services.config, clock=services.clock)


def test_erasure_removes_the_platform_id_from_inbox_keys_and_the_sent_goodbye(app, client, store, clock, httpserver, tmp_path):
    httpserver.expect_request("/v3.0/oa/message/cs", method="POST").respond_with_json({"data": {"message_id": "z"}, "error": 0})
    ts = str(int(clock.now() * 1000))
    post_zalo(client, {"event_name": "follow", "timestamp": ts, "follower": {"id": MEMBER}, "oa_id": "OA1"})
    post_zalo(client, zalo_text("menu", "zm1", ts))
    run(app, store)
    assert dbcheck.rows(store, "SELECT event_key FROM inbox WHERE event_key LIKE ?", [f"%{MEMBER}%"])  # follow:<id>:<ts>
    post_zalo(client, zalo_text("xóa dữ liệu", "zm2", ts))
    run(app, store)
    post_zalo(client, zalo_text("#ERASE_YES", "zm3", ts))
    run(app, store)  # erases, queues the goodbye and sends it
    sent = [json.loads(r.data) for r, _ in httpserver.log if r.path == "/v3.0/oa/message/cs"]
    assert "Đã xóa dữ liệu" in sent[-1]["message"]["text"]  # the goodbye did reach the member

    leftovers = {
        table: dbcheck.rows(store, f"SELECT * FROM {table} WHERE " + " OR ".join(f"CAST({c} AS TEXT) LIKE ?" for c in cols),
                           [f"%{MEMBER}%"] * len(cols))
        for table, cols in {"inbox": ("event_key", "event", "raw"), "outbox": ("recipient", "message"),
                            "members": ("platform_id",)}.items()
    }
    assert leftovers == {"inbox": [], "outbox": [], "members": []}
    # anonymous counts stay: the rows are still there
    assert dbcheck.rows(store, "SELECT count(*) AS n FROM inbox")[0]["n"] == 4
    assert dbcheck.rows(store, "SELECT count(*) AS n FROM outbox WHERE status = 'sent'")[0]["n"] >= 3
    assert dbcheck.rows(store, "SELECT count(*) AS n FROM members WHERE status = 'erased'")[0]["n"] == 1

    # secure_delete: the erased text is overwritten in the database file itself (SQLite; on
    # PostgreSQL old row versions last until VACUUM reclaims them: README, PostgreSQL section)
    if store.postgres:
        return
    assert dbcheck.execute(store, "PRAGMA secure_delete").fetchone()[0] == 1
    dbcheck.execute(store, "PRAGMA wal_checkpoint(TRUNCATE)")
    with open(app.config["DATABASE_PATH"], "rb") as fh:
        assert MEMBER.encode() not in fh.read()
