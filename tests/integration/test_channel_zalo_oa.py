"""Zalo OA channel against a local fake Open API + OAuth server (pytest-httpserver)."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json

import pytest

from bot.channels.zalo_oa import CS_PATH, GROUP_PATH, PROMOTION_PATH, ZaloOAChannel
from bot.channels.zalo_tokens import ZaloTokenManager
from bot.core import models
from bot.core.models import PayloadError, SendError, SignatureError
from bot.storage.store import Store
from tests.conftest import (
    ZALO_APP_ID,
    ZALO_APP_SECRET,
    ZALO_OA_SECRET,
    load_payload,
    platform_config,
    sign_zalo,
)

USER = "6142494823012345678"
GROUP = "f414c8f76fa586fbdfb4"
OA = "3662729599332560487"
TOKEN_PATH = "/v4/oa/access_token"


@pytest.fixture
def store_factory(db_path):
    Store.open(db_path, migrate=True).close()
    return lambda: Store.open(db_path)


def make_channel(httpserver, db_path, store_factory, **extra):
    config = platform_config(httpserver.url_for("/"), db_path, **extra)
    return ZaloOAChannel(config, tokens=ZaloTokenManager(config, store_factory))


@pytest.fixture
def channel(httpserver, db_path, store_factory):
    return make_channel(httpserver, db_path, store_factory, ZALO_OA_ID=OA)


# -- configuration and health ------------------------------------------------------
def test_enabled_without_tokens_in_the_environment_but_health_alerts(httpserver, db_path, store_factory):
    channel = make_channel(httpserver, db_path, store_factory, ZALO_ACCESS_TOKEN="", ZALO_REFRESH_TOKEN="")
    assert channel.enabled
    health = channel.health()
    assert health["state"] == "alert" and "consent-url" in health["detail"]


def test_health_ok_with_tokens_and_alert_after_a_failed_refresh(channel, store_factory):
    assert channel.health()["state"] == "ok"
    with contextlib.closing(store_factory()) as store:
        store.set_channel_status("zalo", "alert", "cần cấp quyền lại / re-authorisation needed", at=0)
    health = channel.health()
    assert health["state"] == "alert" and "re-authorisation" in health["detail"]


def test_signature_key_setting_changes_required_settings(httpserver, db_path, store_factory):
    oa = make_channel(httpserver, db_path, store_factory, ZALO_OA_SECRET_KEY="")
    assert oa.missing_settings == ["ZALO_OA_SECRET_KEY"]
    app = make_channel(httpserver, db_path, store_factory, ZALO_OA_SECRET_KEY="", ZALO_SIGNATURE_KEY="app_secret")
    assert app.enabled


# -- probe and signature -------------------------------------------------------------
def test_console_probe_is_an_unsigned_empty_object(channel):
    assert channel.is_probe(load_payload("zalo/probe.json"), {})
    assert channel.is_probe(b"{ }", {})
    assert not channel.is_probe(b"{}", {"X-ZEvent-Signature": "mac=00"})
    assert not channel.is_probe(load_payload("zalo/user_send_text.json"), {})
    assert not channel.is_probe(b"not json", {})
    assert not channel.is_probe(b"", {})


def test_signature_over_raw_body_with_unicode_escapes_is_accepted(channel):
    raw = load_payload("zalo/user_send_text_escaped.json")
    assert b"\\u1ecb" in raw
    channel.verify(raw, {"X-ZEvent-Signature": sign_zalo(raw)})
    [event] = channel.parse(raw)
    assert event.text == "Chị ơi, Trường Sa thuộc tỉnh nào?"


def test_signature_is_plain_sha256_of_the_concatenation(channel):
    raw = load_payload("zalo/user_send_text.json")
    text = raw.decode("utf-8")
    mac = hashlib.sha256(f"{ZALO_APP_ID}{text}1699003881354{ZALO_OA_SECRET}".encode()).hexdigest()
    channel.verify(raw, {"X-ZEvent-Signature": f"mac={mac}"})
    channel.verify(raw, {"X-ZEvent-Signature": f"mac={mac.upper()}"})  # hex case does not matter


def test_signature_timestamp_falls_back_to_the_header(channel):
    raw = b'{"event_name":"user_send_text","sender":{"id":"1"},"message":{"text":"a","msg_id":"x"}}'
    mac = hashlib.sha256(f"{ZALO_APP_ID}{raw.decode()}1699000000000{ZALO_OA_SECRET}".encode()).hexdigest()
    channel.verify(raw, {"X-ZEvent-Signature": f"mac={mac}", "X-ZEvent-Timestamp": "1699000000000"})


def test_signature_with_the_app_secret_when_configured(httpserver, db_path, store_factory):
    channel = make_channel(httpserver, db_path, store_factory, ZALO_SIGNATURE_KEY="app_secret")
    raw = load_payload("zalo/user_send_text.json")
    channel.verify(raw, {"X-ZEvent-Signature": sign_zalo(raw, key=ZALO_APP_SECRET)})
    with pytest.raises(SignatureError):
        channel.verify(raw, {"X-ZEvent-Signature": sign_zalo(raw)})


def _hmac_signature(raw: bytes) -> str:
    return "mac=" + hmac.new(ZALO_OA_SECRET.encode(), raw, hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    "make_header",
    [
        lambda raw: None,
        lambda raw: "",
        lambda raw: sign_zalo(raw)[4:],  # the "mac=" prefix is part of the header
        lambda raw: "mac=",
        lambda raw: sign_zalo(raw, key="wrong-key"),
        lambda raw: sign_zalo(raw, app_id="1"),
        lambda raw: sign_zalo(json.dumps(json.loads(raw), ensure_ascii=False).encode()),  # re-serialised body
        _hmac_signature,  # HMAC is what many implementations wrongly use
        lambda raw: "mac=ü" + "0" * 63,
    ],
    ids=["missing", "empty", "no-prefix", "empty-mac", "wrong-key", "wrong-app", "reserialised", "hmac", "non-ascii"],
)
def test_bad_signatures_are_rejected(channel, make_header):
    raw = load_payload("zalo/user_send_text_escaped.json")
    header = make_header(raw)
    with pytest.raises(SignatureError):
        channel.verify(raw, {} if header is None else {"X-ZEvent-Signature": header})


# -- parsing -----------------------------------------------------------------------
# fixture -> expected fields of the one event (None: the event is ignored)
EVENTS = [
    ("user_send_text.json", dict(kind=models.TEXT, user_id=USER, event_key="cb31dff1c39642cc1b83",
                                 text="Trường Sa thuộc tỉnh nào?", payload=None, group_id=None)),
    ("button_tap.json", dict(kind=models.TEXT, text="#Q3_B", payload="#Q3_B", event_key="d41a0ee2c49753dd2c94")),
    ("user_send_image.json", dict(kind=models.UNSUPPORTED, user_id=USER, event_key="e52b1ff3d5a864ee3da5")),
    ("user_send_sticker.json", dict(kind=models.UNSUPPORTED, user_id=USER, event_key="f63c2004e6b975ff4eb6")),
    ("follow.json", dict(kind=models.FOLLOW, user_id=USER, event_key=f"follow:{USER}:1699003800000")),
    ("unfollow.json", dict(kind=models.UNFOLLOW, user_id=USER, event_key=f"unfollow:{USER}:1699009800000")),
    ("user_submit_info.json", dict(kind=models.SUBMIT_INFO, user_id=USER,
                                   extra={"name": "Nguyễn Thị Lan", "phone": "84912345678"})),
    ("user_send_group_text.json", dict(kind=models.TEXT, user_id=USER, group_id=GROUP, addressed=True,
                                       text="Hoàng Sa thuộc tỉnh nào")),
    ("user_send_group_text_hoi.json", dict(kind=models.TEXT, group_id=GROUP, addressed=True,
                                           text="ngày Biên phòng toàn dân")),
    ("user_send_group_text_chatter.json", dict(kind=models.TEXT, group_id=GROUP, addressed=False,
                                               text="Chiều nay họp chi hội lúc mấy giờ?",
                                               extra={"reply_to": "9f0e1d2c3b4a59687766"})),
    ("user_send_group_text_mention.json", dict(kind=models.TEXT, group_id=GROUP, addressed=True,
                                               text="cho em hỏi thể lệ cuộc thi")),
    ("user_send_group_image.json", dict(kind=models.UNSUPPORTED, group_id=GROUP, addressed=False)),
    ("user_seen_message.json", dict(kind=models.READ, user_id=USER,
                                    extra={"mids": ["63ecf43f0df7dba892e6", "74fd054010e8ecb9a3f7"]})),
    ("user_received_message.json", dict(kind=models.DELIVERY, user_id=USER, extra={"mids": ["63ecf43f0df7dba892e6"]})),
    ("oa_send_text.json", dict(kind=models.ECHO, user_id=USER, event_key="echo:63ecf43f0df7dba892e6",
                               extra={"mid": "63ecf43f0df7dba892e6", "text": "Quần đảo Trường Sa thuộc tỉnh Khánh Hòa."})),
    ("oa_send_group_text.json", None),
    ("user_reacted_message.json", None),
]


@pytest.mark.parametrize("name, expected", EVENTS, ids=[e[0] for e in EVENTS])
def test_parse(channel, name, expected):
    raw = load_payload(f"zalo/{name}")
    events = channel.parse(raw)
    if expected is None:
        assert events == []
        return
    [event] = events
    extra = expected.pop("extra", {})
    assert {k: getattr(event, k) for k in expected} == expected
    assert {k: event.extra.get(k) for k in extra} == extra
    assert event.channel == "zalo"
    assert event.extra["raw"] == json.loads(raw)
    assert event.timestamp == int(json.loads(raw)["timestamp"]) / 1000
    assert channel.parse(raw)[0].event_key == event.event_key  # stable on a redelivery


def test_receipt_keys_differ_from_each_other_and_from_messages(channel):
    seen = channel.parse(load_payload("zalo/user_seen_message.json"))[0]
    received = channel.parse(load_payload("zalo/user_received_message.json"))[0]
    assert seen.event_key != received.event_key
    assert "63ecf43f0df7dba892e6" != received.event_key


def test_group_triggers_ignore_case_and_diacritics(channel):
    for text, addressed in [("/hoi biển đảo", True), ("/Hỏi biển", True), ("/hỏibiển", False), ("Hỏi /hỏi", False)]:
        body = {"event_name": "user_send_group_text", "timestamp": "1", "sender": {"id": "u"},
                "recipient": {"id": "g"}, "message": {"text": text, "msg_id": "m"}}
        [event] = channel.parse(json.dumps(body).encode())
        assert event.addressed is addressed, text


def test_group_mention_needs_the_configured_oa_id(httpserver, db_path, store_factory):
    channel = make_channel(httpserver, db_path, store_factory)  # no ZALO_OA_ID
    [event] = channel.parse(load_payload("zalo/user_send_group_text_mention.json"))
    assert event.addressed is False


@pytest.mark.parametrize("raw", [b"not json", b"[1]"])
def test_unreadable_payloads_are_refused(channel, raw):
    with pytest.raises(PayloadError):
        channel.parse(raw)


# -- sending -----------------------------------------------------------------------
SUCCESS = {
    "data": {"message_id": "63ecf43f0df7dba892e6", "user_id": USER, "sent_time": "1626926349402"},
    "error": 0,
    "message": "Success",
}


@pytest.mark.parametrize(
    "kwargs, path, recipient",
    [
        ({}, CS_PATH, {"user_id": USER}),
        ({"messaging_type": "promotion"}, PROMOTION_PATH, {"user_id": USER}),
        ({"group": True}, GROUP_PATH, {"group_id": USER}),
    ],
)
def test_send_uses_the_access_token_header(channel, httpserver, kwargs, path, recipient):
    httpserver.expect_request(path, method="POST", headers={"access_token": "zalo-access-1"}).respond_with_json(SUCCESS)
    result = channel.send(USER, {"text": "Xin chào chị"}, **kwargs)
    assert result.message_id == "63ecf43f0df7dba892e6"
    assert httpserver.log[0][0].json == {"recipient": recipient, "message": {"text": "Xin chào chị"}}


def _zalo_error(code: int, message: str = "error") -> dict:
    return {"error": code, "message": message}


# (HTTP status, body) -> (retry, unreachable, auth, reason)
ERRORS = [
    pytest.param(200, _zalo_error(-32, "Your OA reached limit call api"), (True, None, False, "rate_limited"), id="-32"),
    pytest.param(500, _zalo_error(-200), (True, None, False, "platform_error"), id="http-500"),
    pytest.param(503, "<html>busy</html>", (True, None, False, "platform_error"), id="http-503-html"),
    pytest.param(429, _zalo_error(-32), (True, None, False, "rate_limited"), id="http-429"),
    pytest.param(200, _zalo_error(-213, "User has not followed OA"), (False, "unfollowed", False, "unfollowed"), id="-213"),
    pytest.param(200, _zalo_error(-227), (False, "blocked", False, "blocked"), id="-227"),
    pytest.param(200, _zalo_error(-230), (False, None, False, "outside_window"), id="-230"),
    pytest.param(200, _zalo_error(-232), (False, None, False, "outside_window"), id="-232"),
    pytest.param(200, _zalo_error(-211, "Out of quota"), (False, None, False, "out_of_quota"), id="-211"),
    pytest.param(200, _zalo_error(-218), (False, None, False, "out_of_quota"), id="-218"),
    pytest.param(200, _zalo_error(-320), (False, None, False, "paid_window_unavailable"), id="-320"),
    pytest.param(200, _zalo_error(-321), (False, None, False, "paid_window_unavailable"), id="-321"),
    pytest.param(200, _zalo_error(-244), (False, None, False, "user_refused"), id="-244"),
    pytest.param(200, _zalo_error(-224), (False, None, False, "no_service_package"), id="-224"),
    pytest.param(200, _zalo_error(-201, "user_id is invalid!"), (False, None, False, "platform_error"), id="-201"),
]


@pytest.mark.parametrize("status, body, expected", ERRORS)
def test_send_errors_are_classified(channel, httpserver, status, body, expected):
    # HTTP 200 with "error" != 0 is a failure too
    handler = httpserver.expect_request(CS_PATH, method="POST")
    if isinstance(body, dict):
        handler.respond_with_json(body, status=status)
    else:
        handler.respond_with_data(body, status=status, content_type="text/html")
    with pytest.raises(SendError) as info:
        channel.send(USER, {"text": "x"})
    err = info.value
    assert (err.retry, err.unreachable, err.auth, err.reason) == expected
    if isinstance(body, dict):
        assert err.code == str(body["error"])
    assert len(httpserver.log) == 1  # only auth errors are resent


NEW_PAIR = {"access_token": "zalo-access-2", "refresh_token": "zalo-refresh-2", "expires_in": "90000"}


@pytest.mark.parametrize("code", [-216, -220])
def test_invalid_token_is_refreshed_and_the_send_retried_once(channel, httpserver, store_factory, code):
    httpserver.expect_request(CS_PATH, headers={"access_token": "zalo-access-1"}).respond_with_json(_zalo_error(code))
    httpserver.expect_oneshot_request(TOKEN_PATH, method="POST").respond_with_json(NEW_PAIR)
    httpserver.expect_request(CS_PATH, headers={"access_token": "zalo-access-2"}).respond_with_json(SUCCESS)

    assert channel.send(USER, {"text": "x"}).message_id == "63ecf43f0df7dba892e6"

    paths = [request.path for request, _ in httpserver.log]
    assert paths == [CS_PATH, TOKEN_PATH, CS_PATH]
    refresh = httpserver.log[1][0]
    assert refresh.headers["secret_key"] == ZALO_APP_SECRET
    assert refresh.form.to_dict() == {"app_id": ZALO_APP_ID, "refresh_token": "zalo-refresh-1", "grant_type": "refresh_token"}
    with contextlib.closing(store_factory()) as store:
        row = store.get_tokens("zalo_oa")
    assert (row["access_token"], row["refresh_token"]) == ("zalo-access-2", "zalo-refresh-2")


def test_a_token_rejected_twice_is_an_auth_failure(channel, httpserver):
    httpserver.expect_request(CS_PATH).respond_with_json(_zalo_error(-216, "Access token is invalid"))
    httpserver.expect_oneshot_request(TOKEN_PATH, method="POST").respond_with_json(NEW_PAIR)
    with pytest.raises(SendError) as info:
        channel.send(USER, {"text": "x"})
    assert (info.value.auth, info.value.reason, info.value.retry) == (True, "token_invalid", False)
    assert [request.path for request, _ in httpserver.log] == [CS_PATH, TOKEN_PATH, CS_PATH]


def test_a_failed_refresh_is_an_auth_failure(channel, httpserver):
    httpserver.expect_request(CS_PATH).respond_with_json(_zalo_error(-216))
    httpserver.expect_oneshot_request(TOKEN_PATH, method="POST").respond_with_json(
        {"error": -14020, "error_name": "invalid_grant", "error_description": "refresh token is used"}
    )
    with pytest.raises(SendError) as info:
        channel.send(USER, {"text": "x"})
    assert (info.value.auth, info.value.reason) == (True, "token_invalid")
    assert "zalo-refresh-1" not in str(info.value)


def test_no_tokens_at_all_is_an_auth_failure_without_any_call(httpserver, db_path, store_factory):
    channel = make_channel(httpserver, db_path, store_factory, ZALO_ACCESS_TOKEN="", ZALO_REFRESH_TOKEN="")
    with pytest.raises(SendError) as info:
        channel.send(USER, {"text": "x"})
    assert info.value.auth
    assert httpserver.log == []
