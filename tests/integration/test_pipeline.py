"""The inbound pipeline and the outbox, end to end against the fake platform.

Webhook -> inbox -> dispatcher -> outbox -> real HTTP to 127.0.0.1.
"""

from __future__ import annotations

import json
import time

import pytest
from werkzeug import Request, Response

from bot.pipeline.outbox import drain
from tests.conftest import sign_messenger, sign_zalo

pytestmark = pytest.mark.engines


def messenger_text(text: str, mid: str = "m_1", psid: str = "PSID1", ts: int | None = None) -> bytes:
    ts = ts or int(time.time() * 1000)
    body = {
        "object": "page",
        "entry": [
            {
                "id": "PAGE1",
                "time": ts,
                "messaging": [
                    {
                        "sender": {"id": psid},
                        "recipient": {"id": "PAGE1"},
                        "timestamp": ts,
                        "message": {"mid": mid, "text": text},
                    }
                ],
            }
        ],
    }
    # ensure_ascii=True: the platform's raw body carries \u escapes for Vietnamese letters
    return json.dumps(body).encode()


def post_messenger(client, body: bytes, signature: str | None = None):
    headers = {"Content-Type": "application/json"}
    headers["X-Hub-Signature-256"] = signature if signature is not None else sign_messenger(body)
    return client.post("/webhooks/messenger", data=body, headers=headers)


def process(app, store, channel: str = "messenger") -> None:
    services = app.extensions["bot"]
    services.processor.process_pending(store)
    drain(store, services.channels[channel], services.config, clock=app.extensions["bot"].clock)


def sent_messenger(httpserver) -> list[dict]:
    return [json.loads(req.data) for req, _ in httpserver.log if req.path == "/me/messages"]


@pytest.fixture
def messenger_ok(httpserver):
    counter = {"n": 0}

    def handler(request: Request) -> Response:
        counter["n"] += 1
        body = json.loads(request.data)
        return Response(
            json.dumps({"recipient_id": body["recipient"]["id"], "message_id": f"m_out_{counter['n']}"}),
            content_type="application/json",
        )

    httpserver.expect_request("/me/messages", method="POST").respond_with_handler(handler)
    return counter


def test_signed_text_gets_a_reply_at_the_send_endpoint(app, client, store, httpserver, messenger_ok):
    body = messenger_text("Xin chào, biên giới đất liền dài bao nhiêu km?")
    assert b"\\u" in body  # the body really has escapes: the signature covers the raw bytes
    resp = post_messenger(client, body)
    assert resp.status_code == 200
    process(app, store)
    sent = sent_messenger(httpserver)
    assert sent, "no reply reached the platform"
    assert all(m["recipient"] == {"id": "PSID1"} for m in sent)
    assert all(m["messaging_type"] == "RESPONSE" for m in sent)
    assert httpserver.log[0][0].args.get("access_token") == "page-token"
    rows = store.outbound_for("messenger", "PSID1")
    assert rows and all(r["status"] == "sent" for r in rows)
    assert rows[0]["platform_message_id"].startswith("m_out_")


def test_wrongly_signed_message_is_refused_and_gets_no_reply(app, client, store, httpserver, messenger_ok):
    body = messenger_text("xin chào")
    assert post_messenger(client, body, signature=sign_messenger(body, "wrong-secret")).status_code == 403
    assert post_messenger(client, body, signature="").status_code == 403
    process(app, store)
    assert sent_messenger(httpserver) == []
    assert store.inbox_counts() == {}


def test_same_event_three_times_gets_one_reply(app, client, store, httpserver, messenger_ok):
    body = messenger_text("menu", mid="m_dup")
    for _ in range(3):
        assert post_messenger(client, body).status_code == 200
    process(app, store)
    assert len(sent_messenger(httpserver)) == 1
    assert store.inbox_counts() == {"done": 1}


def test_signed_body_that_is_not_json_gets_400(client):
    body = b"this is not json"
    assert post_messenger(client, body).status_code == 400


def test_body_over_one_megabyte_gets_413(client):
    body = b'{"object":"page","entry":[],"pad":"' + b"x" * (1024 * 1024) + b'"}'
    assert post_messenger(client, body).status_code == 413


def test_unknown_event_types_are_acknowledged_and_ignored(app, client, store, httpserver):
    body = json.dumps(
        {"object": "page", "entry": [{"id": "P", "time": 1, "messaging": [{"sender": {"id": "U"}, "recipient": {"id": "P"}, "timestamp": 1, "reaction": {"reaction": "love"}}]}]}
    ).encode()
    assert post_messenger(client, body).status_code == 200
    process(app, store)
    assert sent_messenger(httpserver) == []


def test_events_left_unprocessed_are_processed_after_a_restart(httpserver, db_path, messenger_ok):
    from app import create_app
    from bot.storage.store import Store
    from tests.conftest import platform_config

    config = platform_config(httpserver.url_for("/"), db_path)
    first = create_app(config)
    client = first.test_client()
    for i in range(3):
        assert post_messenger(client, messenger_text("menu", mid=f"m_r{i}", psid=f"U{i}")).status_code == 200
    # the process "dies" here: nothing was processed
    second = create_app(config)
    store = Store.open(db_path)
    process(second, store)
    assert sorted(m["recipient"]["id"] for m in sent_messenger(httpserver)) == ["U0", "U1", "U2"]
    store.close()


def _queue_one(app, store, recipient="PSID9"):
    return store.enqueue(channel="messenger", recipient=recipient, messages=[{"text": "Xin chào"}], at=app.extensions["bot"].clock.now())[0]


@pytest.mark.parametrize(
    "status,body",
    [
        (500, {"error": {"message": "boom", "code": 1, "type": "OAuthException"}}),
        (429, {"error": {"message": "slow down", "code": 4, "type": "OAuthException"}}),
        (400, {"error": {"message": "(#613) Calls exceeded", "code": 613, "type": "OAuthException"}}),
    ],
)
def test_outbox_retries_temporary_errors_then_delivers(app, store, httpserver, status, body):
    httpserver.expect_ordered_request("/me/messages", method="POST").respond_with_json(body, status=status)
    httpserver.expect_ordered_request("/me/messages", method="POST").respond_with_json({"recipient_id": "PSID9", "message_id": "m_ok"})
    outbox_id = _queue_one(app, store)
    channel = app.extensions["bot"].channels["messenger"]
    drain(store, channel, app.config, limit=1, clock=app.extensions["bot"].clock)
    row = store.get_outbound(outbox_id)
    assert row["status"] == "pending" and row["attempts"] == 1
    drain(store, channel, app.config, limit=1, clock=app.extensions["bot"].clock)  # retry base is 0 s in tests: due again at once
    row = store.get_outbound(outbox_id)
    assert row["status"] == "sent" and row["platform_message_id"] == "m_ok" and row["attempts"] == 2


def test_outbox_does_not_retry_a_permanent_error_and_marks_the_member(app, store, httpserver, clock):
    store.touch_member("messenger", "PSID9", at=clock.now())
    httpserver.expect_request("/me/messages", method="POST").respond_with_json(
        {"error": {"message": "(#551) This person isn't available right now.", "code": 551, "error_subcode": 1545041, "type": "OAuthException"}},
        status=400,
    )
    outbox_id = _queue_one(app, store)
    channel = app.extensions["bot"].channels["messenger"]
    drain(store, channel, app.config, clock=app.extensions["bot"].clock)
    drain(store, channel, app.config, clock=app.extensions["bot"].clock)
    row = store.get_outbound(outbox_id)
    assert row["status"] == "failed" and row["error_code"] == "551" and row["error_subcode"] == "1545041"
    assert len([r for r, _ in httpserver.log if r.path == "/me/messages"]) == 1
    assert store.find_member("messenger", "PSID9")["status"] == "blocked"


def test_zalo_rate_limit_code_is_retried(app, store, httpserver, clock):
    httpserver.expect_ordered_request("/v3.0/oa/message/cs", method="POST").respond_with_json({"error": -32, "message": "Rate limit"})
    httpserver.expect_ordered_request("/v3.0/oa/message/cs", method="POST").respond_with_json(
        {"data": {"message_id": "z_ok", "user_id": "Z1"}, "error": 0, "message": "Success"}
    )
    outbox_id = store.enqueue(channel="zalo", recipient="Z1", messages=[{"text": "Xin chào"}], at=clock.now())[0]
    channel = app.extensions["bot"].channels["zalo"]
    drain(store, channel, app.config, clock=app.extensions["bot"].clock)
    drain(store, channel, app.config, clock=app.extensions["bot"].clock)
    row = store.get_outbound(outbox_id)
    assert row["status"] == "sent" and row["platform_message_id"] == "z_ok" and row["attempts"] == 2


def test_messages_in_flight_at_a_crash_become_uncertain_not_resent(app, store, httpserver, messenger_ok, clock):
    from bot.pipeline.workers import Workers

    first = _queue_one(app, store, "A")
    second = _queue_one(app, store, "B")
    claimed = store.claim_outbound("messenger", now=clock.now())
    assert claimed["id"] == first  # "sending" when the process died
    workers = Workers(app.extensions["bot"])
    workers.start()  # a new process starting: recovers the outbox, then sends
    try:
        deadline = clock.now() + 5
        while store.get_outbound(second)["status"] != "sent" and clock.now() < deadline:
            time.sleep(0.02)
    finally:
        workers.stop()
    assert store.get_outbound(first)["status"] == "uncertain"
    assert store.get_outbound(second)["status"] == "sent"
    assert [m["recipient"]["id"] for m in sent_messenger(httpserver)] == ["B"]


def test_a_recipients_messages_leave_in_order(app, store, clock):
    ids = store.enqueue(channel="messenger", recipient="R", messages=[{"text": "1"}, {"text": "2"}], at=clock.now())
    first = store.claim_outbound("messenger", now=clock.now())
    assert first["id"] == ids[0]
    # the second part is not due while the first is in flight
    assert store.claim_outbound("messenger", now=clock.now()) is None


def test_zalo_probe_gets_200_and_is_not_processed(client, store):
    resp = client.post("/webhooks/zalo", data=b"{}", headers={"Content-Type": "application/json"})
    assert resp.status_code == 200
    assert store.inbox_counts() == {}


def test_signed_zalo_text_and_zalo_bot_text_get_replies(app, client, store, httpserver, clock):
    httpserver.expect_request("/v3.0/oa/message/cs", method="POST").respond_with_json(
        {"data": {"message_id": "z1", "user_id": "6142494823"}, "error": 0, "message": "Success"}
    )
    httpserver.expect_request("/bot12345:bot-secret-token/sendMessage", method="POST").respond_with_json(
        {"ok": True, "result": {"message_id": "b1", "date": 1}}
    )
    zalo = json.dumps(
        {"app_id": "2553928453557884079", "user_id_by_app": "1", "event_name": "user_send_text",
         "timestamp": str(int(clock.now() * 1000)), "sender": {"id": "6142494823"}, "recipient": {"id": "366"},
         "message": {"text": "menu", "msg_id": "zmsg1"}}
    ).encode()
    assert client.post("/webhooks/zalo", data=zalo, headers={"X-ZEvent-Signature": sign_zalo(zalo)}).status_code == 200
    assert client.post("/webhooks/zalo", data=zalo, headers={"X-ZEvent-Signature": "mac=00"}).status_code == 403
    bot = json.dumps(
        {"ok": True, "result": {"event_name": "message.text.received", "message": {
            "from": {"id": "botuser1", "display_name": "Lan", "is_bot": False},
            "chat": {"id": "botuser1", "chat_type": "PRIVATE"}, "text": "menu", "message_id": "bm1", "date": 1}}}
    ).encode()
    assert client.post("/webhooks/zalo-bot", data=bot, headers={"X-Bot-Api-Secret-Token": "wrong"}).status_code == 403
    assert client.post("/webhooks/zalo-bot", data=bot, headers={"X-Bot-Api-Secret-Token": "bot-webhook-secret"}).status_code == 200
    services = app.extensions["bot"]
    services.processor.process_pending(store)
    drain(store, services.channels["zalo"], app.config, clock=app.extensions["bot"].clock)
    drain(store, services.channels["zalo_bot"], app.config, clock=app.extensions["bot"].clock)
    zalo_sent = [json.loads(r.data) for r, _ in httpserver.log if r.path == "/v3.0/oa/message/cs"]
    bot_sent = [json.loads(r.data) for r, _ in httpserver.log if r.path.endswith("/sendMessage")]
    assert [m["recipient"]["user_id"] for m in zalo_sent] == ["6142494823"]
    assert [m["chat_id"] for m in bot_sent] == ["botuser1"]
    zalo_request = next(r for r, _ in httpserver.log if r.path == "/v3.0/oa/message/cs")
    assert zalo_request.headers["access_token"] == "zalo-access-1"
