"""Messenger channel against a local fake Graph API (pytest-httpserver)."""

from __future__ import annotations

import json

import pytest

from bot.channels.messenger import MessengerChannel
from bot.core import models
from bot.core.models import PayloadError, SendError, SignatureError
from tests.conftest import (
    MESSENGER_SECRET,
    MESSENGER_VERIFY,
    load_payload,
    platform_config,
    sign_messenger,
)


@pytest.fixture
def channel(httpserver, db_path):
    return MessengerChannel(platform_config(httpserver.url_for("/"), db_path))


# -- handshake -------------------------------------------------------------------
def test_handshake_echoes_challenge_for_the_right_token(channel):
    args = {"hub.mode": "subscribe", "hub.verify_token": MESSENGER_VERIFY, "hub.challenge": "1158201444"}
    assert channel.handshake(args) == "1158201444"


@pytest.mark.parametrize(
    "args",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": MESSENGER_VERIFY, "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.verify_token": MESSENGER_VERIFY},
    ],
)
def test_handshake_refuses(channel, args):
    assert channel.handshake(args) is None


def test_handshake_refuses_everything_without_a_configured_token(httpserver, db_path):
    channel = MessengerChannel(platform_config(httpserver.url_for("/"), db_path, MESSENGER_VERIFY_TOKEN=""))
    assert channel.handshake({"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}) is None


# -- signature -------------------------------------------------------------------
def test_signature_over_raw_bytes_with_unicode_escapes_is_accepted(channel):
    raw = load_payload("messenger/text_escaped.json")
    assert b"\\u1ed9" in raw  # Meta escapes Vietnamese letters in the body it signs
    channel.verify(raw, {"X-Hub-Signature-256": sign_messenger(raw)})


def test_signature_of_reserialised_json_is_rejected(channel):
    # Signing what json.dumps() would produce is not the same bytes: verification
    # must use the body exactly as received.
    raw = load_payload("messenger/text_escaped.json")
    reserialised = json.dumps(json.loads(raw), ensure_ascii=False).encode()
    with pytest.raises(SignatureError):
        channel.verify(raw, {"X-Hub-Signature-256": sign_messenger(reserialised)})


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "deadbeef",
        "sha1=" + "0" * 40,
        sign_messenger(b"other body"),
        sign_messenger(load_payload("messenger/text_escaped.json"), secret="not-" + MESSENGER_SECRET),
        "sha256=ü" + "0" * 63,  # non-ASCII must be refused, not crash compare_digest
    ],
)
def test_bad_signatures_are_rejected(channel, header):
    raw = load_payload("messenger/text_escaped.json")
    headers = {} if header is None else {"X-Hub-Signature-256": header}
    with pytest.raises(SignatureError):
        channel.verify(raw, headers)


# -- parsing ---------------------------------------------------------------------
def test_parse_text_message(channel):
    [event] = channel.parse(load_payload("messenger/text_escaped.json"))
    assert event.kind == models.TEXT
    assert event.text == "Hoàng Sa thuộc tỉnh nào? Xem https://example.org"
    assert event.user_id == "6945123456789012"
    assert event.event_key == "m_AbCdEf123"
    assert event.timestamp == pytest.approx(1732780000.123)  # ms -> s
    assert event.extra["page_id"] == "106519712345678"
    assert event.extra["raw"]["message"]["mid"] == "m_AbCdEf123"


def test_parse_batch_of_entries(channel):
    events = channel.parse(load_payload("messenger/batch.json"))
    # the reaction is dropped; the echo names the member (its recipient); the standby item is kept and marked
    assert [e.kind for e in events] == [
        models.TEXT,
        models.POSTBACK,
        models.DELIVERY,
        models.READ,
        models.UNSUPPORTED,
        models.ECHO,
        models.TEXT,
    ]
    quick, postback, delivery, read, image, echo, standby = events
    assert (echo.user_id, echo.extra["mid"], echo.extra["metadata"]) == ("6945123456789012", "m_Echo1", "quiz=contest2026")
    assert (quick.text, quick.payload, quick.event_key) == ("Khánh Hòa", "Q3_A", "m_QuickReply1")
    assert (postback.payload, postback.text, postback.event_key) == ("GET_STARTED", "Bắt đầu", "m_Postback1")
    assert postback.extra["referral"]["ref"] == "contest2026"
    assert delivery.extra["mids"] == ["m_Sent1", "m_Sent2"]
    assert delivery.extra["watermark"] == 1732780000700  # ms, as the platform gives it
    assert delivery.event_key.startswith("delivery:")
    assert read.extra["watermark"] == 1732780000900
    assert image.extra["attachments"] == ["image"] and image.event_key == "m_Image1"
    assert standby.extra["standby"] is True and standby.user_id == "7011122233344455"
    assert not any(e.extra.get("standby") for e in events[:-1])
    assert len({e.event_key for e in events}) == len(events)


def test_keys_without_mid_are_stable_across_redeliveries(channel):
    raw = load_payload("messenger/postback_no_mid.json")
    first, again = channel.parse(raw)[0], channel.parse(raw)[0]
    assert first.kind == models.POSTBACK and first.payload == "THI"
    assert first.event_key == again.event_key
    other = raw.replace(b"1732780000456", b"1732780000457")
    assert channel.parse(other)[0].event_key != first.event_key
    batch = channel.parse(load_payload("messenger/batch.json"))
    assert batch[2].event_key == channel.parse(load_payload("messenger/batch.json"))[2].event_key


@pytest.mark.parametrize("raw", [b"not json", b"[]", load_payload("messenger/instagram.json")])
def test_unreadable_or_foreign_payloads_are_refused(channel, raw):
    with pytest.raises(PayloadError):
        channel.parse(raw)


# -- sending ---------------------------------------------------------------------
def test_send_posts_to_me_messages_with_the_page_token(channel, httpserver):
    httpserver.expect_request(
        "/me/messages", method="POST", query_string={"access_token": "page-token"}
    ).respond_with_json({"recipient_id": "6945123456789012", "message_id": "m_sent_1"})
    result = channel.send("6945123456789012", {"text": "Xin chào"}, messaging_type="UPDATE")
    assert result.message_id == "m_sent_1"
    request = httpserver.log[0][0]
    assert request.json == {
        "recipient": {"id": "6945123456789012"},
        "messaging_type": "UPDATE",
        "message": {"text": "Xin chào"},
    }


def _graph_error(code, subcode=None, message="error"):
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbC123"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


# (HTTP status, body, headers) -> (retry, unreachable, auth, reason, retry_after)
ERRORS = [
    pytest.param(400, _graph_error(4), {}, (True, None, False, "rate_limited", None), id="4-app-rate-limit"),
    pytest.param(400, _graph_error(32), {}, (True, None, False, "rate_limited", None), id="32-page-rate-limit"),
    pytest.param(400, _graph_error(613), {"Retry-After": "30"}, (True, None, False, "rate_limited", 30.0), id="613"),
    pytest.param(500, _graph_error(1200), {}, (True, None, False, "platform_error", None), id="1200-temporary"),
    pytest.param(500, _graph_error(2), {}, (True, None, False, "platform_error", None), id="2-unexpected"),
    pytest.param(503, "Service Unavailable", {"Retry-After": "7"}, (True, None, False, "platform_error", 7.0), id="503-html"),
    pytest.param(429, _graph_error(17), {}, (True, None, False, "rate_limited", None), id="http-429"),
    pytest.param(400, _graph_error(10, 2018278), {}, (False, None, False, "outside_window", None), id="10-2018278"),
    pytest.param(400, _graph_error(10, 2534022), {}, (False, None, False, "outside_window", None), id="10-2534022"),
    pytest.param(400, _graph_error(10, 2018300), {}, (False, None, False, "thread_owned_by_other_app", None), id="10-2018300"),
    pytest.param(400, _graph_error(551, 1545041), {}, (False, "blocked", False, "blocked", None), id="551"),
    pytest.param(400, _graph_error(100, 2018001), {}, (False, "no_user", False, "invalid_user", None), id="100-no-user"),
    pytest.param(400, _graph_error(33), {}, (False, "no_user", False, "invalid_user", None), id="33"),
    pytest.param(400, _graph_error(190, 460), {}, (False, None, True, "token_invalid", None), id="190"),
    # a bare (#100) Invalid parameter is our bug (or a deprecated tag), not a dead member
    pytest.param(400, _graph_error(100), {}, (False, None, False, "platform_error", None), id="100-invalid-param"),
    pytest.param(403, _graph_error(200), {}, (False, None, False, "platform_error", None), id="200-permission"),
]


@pytest.mark.parametrize("status, body, headers, expected", ERRORS)
def test_send_errors_are_classified(channel, httpserver, status, body, headers, expected):
    handler = httpserver.expect_request("/me/messages", method="POST")
    if isinstance(body, dict):
        handler.respond_with_json(body, status=status, headers=headers)
    else:
        handler.respond_with_data(body, status=status, headers=headers, content_type="text/html")
    with pytest.raises(SendError) as info:
        channel.send("6945123456789012", {"text": "x"})
    err = info.value
    assert (err.retry, err.unreachable, err.auth, err.reason, err.retry_after) == expected
    if isinstance(body, dict):
        assert err.code == str(body["error"]["code"])
        subcode = body["error"].get("error_subcode")
        assert err.subcode == (str(subcode) if subcode else None)


def test_network_failure_is_retryable_and_hides_the_token(httpserver, db_path):
    channel = MessengerChannel(platform_config("http://127.0.0.1:9", db_path))  # nothing listens on port 9
    with pytest.raises(SendError) as info:
        channel.send("1", {"text": "x"})
    assert info.value.retry and info.value.code == "network"
    assert "page-token" not in str(info.value)


# -- Messenger Profile -----------------------------------------------------------
def test_setup_profile(channel, httpserver):
    httpserver.expect_request(
        "/me/messenger_profile", method="POST", query_string={"access_token": "page-token"}
    ).respond_with_json({"result": "success"})
    assert channel.setup_profile() == {"result": "success"}
    body = httpserver.log[0][0].json
    assert body["get_started"] == {"payload": "GET_STARTED"}
    [greeting] = body["greeting"]
    assert greeting["locale"] == "default" and len(greeting["text"]) <= 160
    assert "Hội LHPN Thử nghiệm" in greeting["text"]
    [menu] = body["persistent_menu"]
    actions = menu["call_to_actions"]
    assert [(a["title"], a["payload"]) for a in actions] == [
        ("Hỏi đáp", "MENU_FAQ"),
        ("Thi trắc nghiệm", "QUIZ_LIST"),  # the payloads the quiz and hái hoa handlers take
        ("Hái hoa dân chủ", "HAIHOA"),
        ("Dừng nhận tin", "DUNG"),
    ]
    assert all(a["type"] == "postback" and len(a["title"]) <= 30 for a in actions)


def test_setup_profile_error_is_raised(channel, httpserver):
    httpserver.expect_request("/me/messenger_profile").respond_with_json(_graph_error(190), status=400)
    with pytest.raises(SendError) as info:
        channel.setup_profile()
    assert info.value.auth
