"""Property-based fuzzing of the three webhooks (issue 11): signed malformed bodies never get a 5xx,
and a valid message sent after them is still answered.

Hypothesis builds bodies of four kinds: arbitrary JSON (deep nesting, huge numbers, lone surrogates,
every type in every place), platform-shaped payloads with fields swapped for wrong types, raw byte
strings, and hand-made nasties (NaN, deep nesting, broken UTF-8).  Each body is signed correctly for
its channel, so it reaches the parser.  The example count keeps CI under about a minute.
"""

from __future__ import annotations

import hashlib
import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.pipeline.outbox import drain
from tests import dbcheck
from tests.conftest import ZALO_APP_ID, ZALO_BOT_SECRET, ZALO_OA_SECRET, sign_messenger

EXAMPLES = 1200  # per channel; 3,600 bodies in about 30 s on the CI machine

# -- strategies -------------------------------------------------------------------------------------
lone_surrogate = st.sampled_from(["\ud83d", "\udc00", "\udfff", "a\ud800b"])
text = st.one_of(st.text(max_size=30), lone_surrogate, st.just("x" * 2500))
scalar = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**30, max_value=10**60),
    st.floats(allow_nan=False, allow_infinity=False), text,
)
json_value = st.recursive(
    scalar, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(text, inner, max_size=4)), max_leaves=25,
)
wrong = st.one_of(scalar, st.lists(scalar, max_size=3), st.dictionaries(st.text(max_size=5), scalar, max_size=3))


def maybe(good):
    """A field: its right shape, or anything."""
    return st.one_of(st.just(good), wrong)


@st.composite
def messenger_shaped(draw):
    item = {
        "sender": draw(st.one_of(st.fixed_dictionaries({"id": maybe("PFUZZ")}), wrong)),
        "recipient": {"id": "PAGE1"},
        "timestamp": draw(maybe(1_700_000_000_000)),
    }
    kind = draw(st.sampled_from(["message", "postback", "delivery", "read", "other"]))
    if kind == "message":
        item["message"] = draw(st.one_of(st.fixed_dictionaries({
            "mid": maybe("m_fuzz"), "text": maybe("hi"), "attachments": maybe([{"type": "image"}]),
            "quick_reply": maybe({"payload": "MENU"}), "is_echo": maybe(False),
        }), wrong))
    elif kind == "postback":
        item["postback"] = draw(st.one_of(st.fixed_dictionaries({"title": maybe("t"), "payload": maybe("MENU")}), wrong))
    elif kind == "delivery":
        item["delivery"] = draw(st.one_of(st.fixed_dictionaries({"mids": maybe(["m1"]), "watermark": maybe(1)}), wrong))
    elif kind == "read":
        item["read"] = draw(st.one_of(st.fixed_dictionaries({"watermark": maybe(1)}), wrong))
    items = draw(st.lists(st.one_of(st.just(item), wrong), min_size=0, max_size=3))
    entry = {"id": draw(maybe("PAGE1")), "time": 1, "messaging": draw(maybe(items)), "standby": draw(maybe([]))}
    # mostly a real Page webhook, so most bodies reach the per-item parsing
    page = draw(st.one_of(st.just("page"), st.just("page"), st.just("page"), wrong))
    return {"object": page, "entry": draw(st.one_of(st.just([entry]), st.just([entry, entry]), wrong))}


@st.composite
def zalo_shaped(draw):
    name = draw(st.sampled_from([
        "user_send_text", "user_send_image", "follow", "unfollow", "user_submit_info", "user_send_group_text",
        "user_send_group_image", "user_seen_message", "user_received_message", "oa_send_text", "nonsense",
    ]))
    return {
        "app_id": ZALO_APP_ID, "event_name": draw(maybe(name)), "timestamp": draw(maybe("1700000000000")),
        "sender": draw(maybe({"id": "ZFUZZ"})), "recipient": draw(maybe({"id": "OA1"})),
        "follower": draw(maybe({"id": "ZF"})), "info": draw(maybe({"name": "Lan", "phone": "0912345678"})),
        "message": draw(maybe({"text": draw(maybe("hi")), "msg_id": draw(maybe("zm")), "msg_ids": draw(maybe(["a"])),
                               "quote_msg_id": draw(maybe("q"))})),
    }


@st.composite
def zalo_bot_shaped(draw):
    message = {
        "message_id": draw(maybe("bm")), "date": draw(maybe(1_700_000_000_000)), "text": draw(maybe("hi")),
        "from": draw(maybe({"id": "BFUZZ", "display_name": draw(maybe("Lan"))})),
        "chat": draw(maybe({"id": "BFUZZ", "chat_type": draw(maybe("PRIVATE"))})),
    }
    event = {"event_name": draw(maybe(draw(st.sampled_from([
        "message.text.received", "message.image.received", "message.unsupported.received", "other"])))),
        "message": draw(maybe(message))}
    return draw(st.sampled_from([event, {"ok": True, "result": event}]))


NASTIES = [
    b"", b"{", b"null", b"[]", b"\xff\xfe\x00", b'{"a":NaN}', b'{"timestamp":"nan"}', b'{"timestamp":Infinity}',
    b'{"a":' * 3000 + b"1" + b"}" * 3000, b"[" * 50000, b'{"object":"page","entry":' + b"[" * 200 + b"]" * 200 + b"}",
    b'{"object":"page","entry":[{"messaging":[{"sender":{"id":"\\ud83d"},"message":{"text":"\\udc00","mid":"x"}}]}]}',
    b'{"event_name":"user_send_text","sender":{"id":"1"},"message":{"text":"' + b"9" * 5000 + b'"}}',
    b'{"x":' + b"9" * 5000 + b"}",
]


def encoded(shaped):
    """A shaped payload as JSON bytes, escaped (as Meta sends) or raw UTF-8 (surrogatepass keeps lone halves)."""
    return st.tuples(shaped, st.booleans()).map(
        lambda pair: json.dumps(pair[0], ensure_ascii=pair[1]).encode("utf-8", "surrogatepass")
    )


def bodies(shaped):
    return st.one_of(  # platform-shaped bodies twice as often as the others
        encoded(shaped), encoded(shaped), encoded(json_value), st.binary(max_size=200), st.sampled_from(NASTIES),
    )


# -- signing and posting ----------------------------------------------------------------------------
def post(client, channel: str, body: bytes):
    if channel == "messenger":
        return client.post("/webhooks/messenger", data=body, headers={"X-Hub-Signature-256": sign_messenger(body)})
    if channel == "zalo":
        stamp = str(int(time.time() * 1000))  # signed with the header's timestamp: no need to parse the body
        mac = hashlib.sha256(ZALO_APP_ID.encode() + body + stamp.encode() + ZALO_OA_SECRET.encode()).hexdigest()
        return client.post("/webhooks/zalo", data=body, headers={"X-ZEvent-Signature": f"mac={mac}", "X-ZEvent-Timestamp": stamp})
    return client.post("/webhooks/zalo-bot", data=body, headers={"X-Bot-Api-Secret-Token": ZALO_BOT_SECRET})


def valid_message(channel: str, now: float) -> tuple[bytes, str]:
    ms = int(now * 1000)
    if channel == "messenger":
        return json.dumps({"object": "page", "entry": [{"id": "PAGE1", "time": ms, "messaging": [
            {"sender": {"id": "PVALID"}, "recipient": {"id": "PAGE1"}, "timestamp": ms,
             "message": {"mid": "m_valid", "text": "menu"}}]}]}).encode(), "PVALID"
    if channel == "zalo":
        return json.dumps({"app_id": ZALO_APP_ID, "event_name": "user_send_text", "timestamp": str(ms),
                           "sender": {"id": "ZVALID"}, "recipient": {"id": "OA1"},
                           "message": {"text": "menu", "msg_id": "z_valid"}}).encode(), "ZVALID"
    return json.dumps({"event_name": "message.text.received", "message": {
        "message_id": "b_valid", "date": ms, "text": "menu", "from": {"id": "BVALID"},
        "chat": {"id": "BVALID", "chat_type": "PRIVATE"}}}).encode(), "BVALID"


SHAPES = {"messenger": messenger_shaped(), "zalo": zalo_shaped(), "zalo_bot": zalo_bot_shaped()}
SENT_PATHS = {"messenger": "/me/messages", "zalo": "/v3.0/oa/message/cs", "zalo_bot": "/bot12345:bot-secret-token/sendMessage"}


@pytest.mark.parametrize("channel", ["messenger", "zalo", "zalo_bot"])
def test_signed_malformed_bodies_never_get_a_5xx_and_a_valid_message_is_still_answered(app, client, store, clock, httpserver, channel):
    httpserver.expect_request("/me/messages", method="POST").respond_with_json({"recipient_id": "x", "message_id": "m_out"})
    httpserver.expect_request("/v3.0/oa/message/cs", method="POST").respond_with_json({"data": {"message_id": "z1"}, "error": 0})
    httpserver.expect_request(SENT_PATHS["zalo_bot"], method="POST").respond_with_json({"ok": True, "result": {"message_id": "b1"}})
    services = app.extensions["bot"]
    statuses: dict[int, int] = {}

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])
    @given(body=bodies(SHAPES[channel]))
    def fuzz(body: bytes) -> None:
        status = post(client, channel, body).status_code
        statuses[status] = statuses.get(status, 0) + 1
        assert status < 500, body[:300]

    fuzz()
    assert sum(statuses.values()) >= EXAMPLES // 2
    # whatever got stored is processed without breaking the inbox for the next member
    services.processor.process_pending(store, limit=100_000)
    assert dbcheck.rows(store, "SELECT count(*) AS n FROM inbox WHERE NOT json_valid(event) OR NOT json_valid(raw)")[0]["n"] == 0
    body, user = valid_message(channel, clock.now())
    assert post(client, channel, body).status_code == 200
    services.processor.process_pending(store, limit=100_000)
    drain(store, services.channels[channel], services.config, clock=services.clock)
    sent = [json.loads(r.data) for r, _ in httpserver.log if r.path == SENT_PATHS[channel]]
    recipients = {(m.get("recipient") or {}).get("id") or (m.get("recipient") or {}).get("user_id") or m.get("chat_id") for m in sent}
    assert user in recipients, statuses
    assert "" not in recipients and None not in recipients
