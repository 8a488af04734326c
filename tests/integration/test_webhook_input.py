"""Bad input on the webhooks (issue 11, D16, D18, D21, D22): strict JSON, no 5xx on signed bodies,
malformed items skipped one by one, text capped, platform times clamped, empty senders refused."""

from __future__ import annotations

import hashlib
import json

import pytest

from bot.pipeline.outbox import drain
from tests import dbcheck
from tests.conftest import ZALO_APP_ID, ZALO_BOT_SECRET, ZALO_OA_SECRET, sign_messenger

YEAR = 365 * 86400


def sign_zalo_with(body: bytes, timestamp: str) -> str:
    """The Zalo signature for a body whose timestamp is given (no parsing: the body may be garbage)."""
    return "mac=" + hashlib.sha256(ZALO_APP_ID.encode() + body + timestamp.encode() + ZALO_OA_SECRET.encode()).hexdigest()


def post_messenger(client, body: bytes):
    return client.post("/webhooks/messenger", data=body, headers={"X-Hub-Signature-256": sign_messenger(body)})


def post_zalo(client, body: bytes, timestamp: str = ""):
    headers = {"X-ZEvent-Signature": sign_zalo_with(body, timestamp), "X-ZEvent-Timestamp": timestamp}
    return client.post("/webhooks/zalo", data=body, headers=headers)


def post_bot(client, body: bytes):
    return client.post("/webhooks/zalo-bot", data=body, headers={"X-Bot-Api-Secret-Token": ZALO_BOT_SECRET})


def messenger_item(psid: str, mid: str, text: str, ts: float) -> dict:
    return {"sender": {"id": psid}, "recipient": {"id": "PAGE1"}, "timestamp": int(ts * 1000),
            "message": {"mid": mid, "text": text}}


def messenger_body(*items: dict) -> bytes:
    return json.dumps({"object": "page", "entry": [{"id": "PAGE1", "time": 1, "messaging": list(items)}]}).encode()


def zalo_text(sender: str, text: str, timestamp: str, msg_id: str = "zm1") -> bytes:
    return json.dumps({"app_id": ZALO_APP_ID, "event_name": "user_send_text", "timestamp": timestamp,
                       "sender": {"id": sender}, "recipient": {"id": "OA1"},
                       "message": {"text": text, "msg_id": msg_id}}).encode()


def inbox_events(store) -> list[dict]:
    rows = dbcheck.rows(store, "SELECT event, json_valid(event) AS ok_event, json_valid(raw) AS ok_raw FROM inbox ORDER BY id")
    assert all(r["ok_event"] and r["ok_raw"] for r in rows), "inbox holds text SQLite cannot read as JSON"
    return [json.loads(r["event"]) for r in rows]


@pytest.fixture
def platforms_ok(httpserver):
    httpserver.expect_request("/me/messages", method="POST").respond_with_json({"recipient_id": "x", "message_id": "m_out"})
    httpserver.expect_request("/v3.0/oa/message/cs", method="POST").respond_with_json(
        {"data": {"message_id": "z1"}, "error": 0, "message": "Success"})
    httpserver.expect_request("/bot12345:bot-secret-token/sendMessage", method="POST").respond_with_json(
        {"ok": True, "result": {"message_id": "b1"}})


def process(app, store) -> None:
    services = app.extensions["bot"]
    services.processor.process_pending(store)
    for name in ("messenger", "zalo", "zalo_bot"):
        drain(store, services.channels[name], services.config, clock=services.clock)


# -- D16: non-finite numbers ------------------------------------------------------------------------
def test_a_nan_timestamp_is_read_as_the_receive_time_and_the_inbox_stays_strict_json(client, store, clock):
    body = zalo_text("ZNAN1", "menu", "nan")
    assert post_zalo(client, body, "nan").status_code == 200
    events = inbox_events(store)
    assert [e["user_id"] for e in events] == ["ZNAN1"]
    assert clock.now() - 5 < events[0]["timestamp"] <= clock.now()
    # the queries that scan the inbox keep working
    assert dbcheck.rows(store, "SELECT count(*) AS n FROM inbox WHERE json_extract(event, '$.user_id') = 'ZNAN1'")[0]["n"] == 1


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_anywhere_are_refused_at_parse_time(client, store, clock, literal):
    good = json.dumps(messenger_item("P1", "m1", "menu", clock.now()))
    body = ('{"object":"page","entry":[{"id":"PAGE1","time":LIT,"messaging":[GOOD]}]}'.replace("LIT", literal)
            .replace("GOOD", good).encode())
    assert post_messenger(client, body).status_code == 400
    zalo = '{"event_name":"user_send_text","timestamp":"1","x":LIT,"sender":{"id":"Z1"},"message":{"text":"a"}}'
    assert post_zalo(client, zalo.replace("LIT", literal).encode(), "1").status_code == 400
    bot = '{"event_name":"message.text.received","message":{"date":LIT,"from":{"id":"b"},"chat":{"id":"b"},"text":"a"}}'
    bot = bot.replace("LIT", literal).encode()
    assert post_bot(client, bot).status_code == 400
    assert inbox_events(store) == []


def test_inbox_serialisation_refuses_nan(store, clock):
    from bot.core.models import TEXT, Event

    event = Event("messenger", TEXT, "P1", "k1", timestamp=float("nan"), text="x")
    with pytest.raises(ValueError):
        store.add_inbound([(event, {})], at=clock.now())


# -- D18: malformed signed bodies -------------------------------------------------------------------
def test_deep_nesting_is_refused_without_a_500_and_zalo_verifies_before_parsing(client, store):
    deep = b'{"a":' * 5000 + b"1" + b"}" * 5000
    # unsigned: Zalo must refuse it on the signature, not crash parsing it first
    assert client.post("/webhooks/zalo", data=deep, headers={"X-ZEvent-Signature": "mac=00"}).status_code == 403
    assert client.post("/webhooks/zalo", data=deep).status_code == 403
    assert post_messenger(client, deep).status_code == 400
    assert post_zalo(client, deep).status_code == 400
    assert post_bot(client, deep).status_code == 400
    moderate = b'{"object":"page","entry":' + b"[" * 100 + b"]" * 100 + b"}"  # parses, but deeper than any payload
    assert post_messenger(client, moderate).status_code == 400
    assert inbox_events(store) == []


def test_lone_surrogates_are_replaced_not_a_500(app, client, store, clock, platforms_ok):
    body = messenger_body(messenger_item("PSUR", "msur", "menu \\ud83d", clock.now())).replace(b"\\\\ud83d", b"\\ud83d")
    assert b"\\ud83d" in body
    assert post_messenger(client, body).status_code == 200
    [event] = inbox_events(store)
    assert event["text"] == "menu \ufffd"
    bot = (b'{"event_name":"message.text.received","message":{"message_id":"bs1","date":1,'
           b'"from":{"id":"bsur","display_name":"\\udc00"},"chat":{"id":"bsur"},"text":"\\ud83d"}}')
    assert post_bot(client, bot).status_code == 200
    process(app, store)
    assert dbcheck.rows(store, "SELECT status FROM inbox") == [{"status": "done"}] * 2


@pytest.mark.parametrize("bad_item", [
    {"sender": "abc", "timestamp": 1, "message": {"mid": "b1", "text": "hi"}},
    {"sender": {"id": "PB"}, "timestamp": 1, "message": {"mid": "b2", "attachments": 3}},
    {"sender": {"id": "PB"}, "timestamp": 1, "message": {"mid": "b3", "text": {"x": 1}}},
    {"sender": {"id": "PB"}, "timestamp": 1, "delivery": {"mids": 9, "watermark": 1}},
    {"sender": {"id": ["PB"]}, "timestamp": 1, "message": {"mid": "b4", "text": "hi"}},
    7,
])
def test_one_malformed_item_is_skipped_and_the_rest_of_the_batch_answered(app, client, store, clock, httpserver, platforms_ok, bad_item):
    body = messenger_body(bad_item, messenger_item("PGOOD", "mgood", "menu", clock.now()))
    assert post_messenger(client, body).status_code == 200
    assert [e["user_id"] for e in inbox_events(store)] == ["PGOOD"]
    process(app, store)
    sent = [json.loads(r.data) for r, _ in httpserver.log if r.path == "/me/messages"]
    assert sent and {m["recipient"]["id"] for m in sent} == {"PGOOD"}


@pytest.mark.parametrize("data", [{"object": "page", "entry": 5}, {"object": "page", "entry": [{"id": "P", "messaging": 7}]},
                                  {"object": "page", "entry": ["x", None]}])
def test_wrong_container_types_answer_200_with_nothing_stored(client, store, data):
    assert post_messenger(client, json.dumps(data).encode()).status_code == 200
    assert inbox_events(store) == []


def test_zalo_receipt_with_msg_ids_not_a_list_is_skipped(client, store):
    body = json.dumps({"event_name": "user_seen_message", "timestamp": "1", "sender": {"id": "OA"},
                       "recipient": {"id": "Z1"}, "message": {"msg_ids": 5}}).encode()
    assert post_zalo(client, body, "1").status_code == 200
    body = json.dumps({"event_name": "user_send_text", "timestamp": "1", "sender": {"id": {"a": 1}},
                       "message": {"text": "a", "msg_id": "q"}}).encode()
    assert post_zalo(client, body, "1").status_code == 200
    assert inbox_events(store) == []


def test_signed_non_object_bodies_are_400(client):
    for body in (b"[]", b"5", b'"x"', b"null", b"\xff\xfe", b""):
        assert post_messenger(client, body).status_code == 400, body
        assert post_bot(client, body).status_code == 400, body
        assert post_zalo(client, body).status_code == 400, body  # verified over the raw bytes, then unreadable


# -- D21: text length -----------------------------------------------------------------------------
def test_inbound_text_is_capped_at_2000_characters(client, store, clock):
    long = "biên giới " * 600  # 6,000 characters
    assert post_messenger(client, messenger_body(messenger_item("PLONG", "mlong", long, clock.now()))).status_code == 200
    assert post_zalo(client, zalo_text("ZLONG", long, "1"), "1").status_code == 200
    bot = json.dumps({"event_name": "message.text.received", "message": {
        "message_id": "bl", "date": 1, "from": {"id": "blong"}, "chat": {"id": "blong"}, "text": long}}).encode()
    assert post_bot(client, bot).status_code == 200
    events = inbox_events(store)
    assert len(events) == 3
    assert [len(e["text"]) for e in events] == [2000, 2000, 2000]


# -- D22: platform times and sender ids -------------------------------------------------------------
def test_a_platform_time_in_the_future_is_clamped_to_the_receive_time(app, client, store, clock, platforms_ok):
    ahead = clock.now() + 10 * YEAR
    assert post_messenger(client, messenger_body(messenger_item("PFUT", "mfut", "menu", ahead))).status_code == 200
    [event] = inbox_events(store)
    assert clock.now() - 5 < event["timestamp"] <= clock.now()
    process(app, store)
    member = store.find_member("messenger", "PFUT")
    assert member["last_inbound_at"] <= clock.now()


def test_events_without_a_sender_id_are_refused_not_answered_to_empty(app, client, store, clock, httpserver, platforms_ok):
    for sender in ({}, {"id": ""}, {"id": None}, {"id": "   "}):
        item = {"sender": sender, "timestamp": int(clock.now() * 1000), "message": {"mid": f"e{len(str(sender))}", "text": "menu"}}
        assert post_messenger(client, messenger_body(item)).status_code == 200
    assert post_zalo(client, zalo_text("", "menu", "1"), "1").status_code == 200
    bot = json.dumps({"event_name": "message.text.received", "message": {
        "message_id": "be", "date": 1, "from": {}, "chat": {}, "text": "menu"}}).encode()
    assert post_bot(client, bot).status_code == 200
    assert inbox_events(store) == []
    process(app, store)
    assert dbcheck.rows(store, "SELECT count(*) AS n FROM outbox WHERE recipient = ''")[0]["n"] == 0
