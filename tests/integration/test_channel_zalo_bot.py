"""Zalo Bot channel against a local fake Bot API (pytest-httpserver)."""

from __future__ import annotations

import logging

import pytest

from bot.channels.zalo_bot import ZaloBotChannel
from bot.core import models
from bot.core.models import PayloadError, SendError, SignatureError
from tests.conftest import (
    ZALO_BOT_SECRET,
    ZALO_BOT_TOKEN,
    load_payload,
    platform_config,
)

BOT_PATH = f"/bot{ZALO_BOT_TOKEN}"


@pytest.fixture
def channel(httpserver, db_path):
    return ZaloBotChannel(platform_config(httpserver.url_for("/"), db_path))


# -- secret header ------------------------------------------------------------------
def test_secret_header_accepted_for_a_raw_body_with_unicode_escapes(channel):
    raw = load_payload("zalo_bot/text_escaped.json")
    assert b"\\u1ec3" in raw
    channel.verify(raw, {"X-Bot-Api-Secret-Token": ZALO_BOT_SECRET})
    [event] = channel.parse(raw)
    assert event.text == "Biển Đông có bao nhiêu đảo?" and event.display_name == "Chị Hoa"


@pytest.mark.parametrize("header", [None, "", "wrong", ZALO_BOT_SECRET.upper(), ZALO_BOT_SECRET + " ", "ü"])
def test_wrong_secret_header_is_rejected(channel, header):
    raw = load_payload("zalo_bot/text_private_wrapped.json")
    with pytest.raises(SignatureError):
        channel.verify(raw, {} if header is None else {"X-Bot-Api-Secret-Token": header})


def test_nothing_is_accepted_without_a_configured_secret(httpserver, db_path):
    channel = ZaloBotChannel(platform_config(httpserver.url_for("/"), db_path, ZALO_BOT_SECRET_TOKEN=""))
    with pytest.raises(SignatureError):
        channel.verify(b"{}", {"X-Bot-Api-Secret-Token": ""})


# -- parsing -----------------------------------------------------------------------
def test_parse_wrapped_private_text(channel):
    [event] = channel.parse(load_payload("zalo_bot/text_private_wrapped.json"))
    assert (event.kind, event.text, event.user_id) == (models.TEXT, "Xin chào", "6ede9afa66b88fe6d6a9")
    assert event.event_key == "2d758cb5e222177a4e35"
    assert event.group_id is None and event.addressed
    assert event.timestamp == pytest.approx(1750316131.602)
    assert event.extra["chat_id"] == "6ede9afa66b88fe6d6a9"
    assert event.extra["raw"]["event_name"] == "message.text.received"


def test_parse_flat_group_text_strips_the_mention(channel):
    [event] = channel.parse(load_payload("zalo_bot/text_group_flat.json"))
    assert event.group_id == "a1b2c3d4e5f60718293a"
    assert event.user_id == "7fef0b0b77c990f7e7ba"
    assert event.addressed is True  # the bot only receives mentions of it and replies to it
    assert event.text == "Trường Sa thuộc tỉnh nào?"


def test_a_known_bot_name_with_spaces_is_stripped_whole(channel, httpserver):
    httpserver.expect_request(f"{BOT_PATH}/getMe", method="POST").respond_with_json(
        {"ok": True, "result": {"id": "1234567890", "account_name": "Bot Hội Phụ Nữ", "account_type": "BASIC"}}
    )
    channel.get_me()
    raw = load_payload("zalo_bot/text_group_flat.json").replace(b"@BotHoiPhuNu", "@Bot Hội Phụ Nữ".encode())
    assert channel.parse(raw)[0].text == "Trường Sa thuộc tỉnh nào?"


@pytest.mark.parametrize(
    "name, kind, restricted",
    [("image.json", models.UNSUPPORTED, None), ("unsupported.json", models.UNSUPPORTED, True)],
)
def test_parse_non_text(channel, name, kind, restricted):
    [event] = channel.parse(load_payload(f"zalo_bot/{name}"))
    assert event.kind == kind
    assert event.extra.get("restricted") is restricted


def test_unknown_events_are_ignored(channel):
    assert channel.parse(load_payload("zalo_bot/unknown.json")) == []
    assert channel.parse(b'{"ok":true,"result":{"event_name":"message.text.received"}}') == []


@pytest.mark.parametrize("raw", [b"not json", b"[]"])
def test_unreadable_payloads_are_refused(channel, raw):
    with pytest.raises(PayloadError):
        channel.parse(raw)


# -- sending -----------------------------------------------------------------------
def test_send_message(channel, httpserver):
    httpserver.expect_request(f"{BOT_PATH}/sendMessage", method="POST").respond_with_json(
        {"ok": True, "result": {"message_id": "82d1e20b488873da5491", "date": 1750316731602}}
    )
    result = channel.send("6ede9afa66b88fe6d6a9", {"text": "Chào chị"})
    assert result.message_id == "82d1e20b488873da5491"
    assert httpserver.log[0][0].json == {"chat_id": "6ede9afa66b88fe6d6a9", "text": "Chào chị"}


# (HTTP status, body) -> (retry, unreachable, auth, reason)
ERRORS = [
    pytest.param(200, {"ok": False, "error_code": 429, "description": "Quota exceeded"}, (True, None, False, "rate_limited"), id="429-in-body"),
    pytest.param(429, {"ok": False, "error_code": 429, "description": "Too Many Requests"}, (True, None, False, "rate_limited"), id="http-429"),
    pytest.param(500, {"ok": False, "error_code": 500, "description": "Internal error"}, (True, None, False, "platform_error"), id="500"),
    pytest.param(502, "<html>Bad gateway</html>", (True, None, False, "platform_error"), id="502-html"),
    pytest.param(401, {"ok": False, "error_code": 401, "description": "Unauthorized"}, (False, None, True, "token_invalid"), id="401"),
    pytest.param(403, {"ok": False, "error_code": 403, "description": "Forbidden"}, (False, "blocked", False, "blocked"), id="403"),
    pytest.param(400, {"ok": False, "error_code": 400, "description": "Bad Request"}, (False, None, False, "platform_error"), id="400"),
    pytest.param(404, {"ok": False, "error_code": 404, "description": "Not Found"}, (False, None, False, "platform_error"), id="404"),
]


@pytest.mark.parametrize("status, body, expected", ERRORS)
def test_send_errors_are_classified(channel, httpserver, status, body, expected):
    handler = httpserver.expect_request(f"{BOT_PATH}/sendMessage", method="POST")
    if isinstance(body, dict):
        handler.respond_with_json(body, status=status)
    else:
        handler.respond_with_data(body, status=status, content_type="text/html")
    with pytest.raises(SendError) as info:
        channel.send("6ede9afa66b88fe6d6a9", {"text": "x"})
    err = info.value
    assert (err.retry, err.unreachable, err.auth, err.reason) == expected
    assert ZALO_BOT_TOKEN not in str(err)


def test_the_bot_token_never_reaches_logs_or_errors(httpserver, db_path, caplog):
    caplog.set_level(logging.DEBUG)  # urllib3 logs request paths at DEBUG: /bot<TOKEN>/sendMessage
    channel = ZaloBotChannel(platform_config(httpserver.url_for("/"), db_path))
    httpserver.expect_request(f"{BOT_PATH}/sendMessage").respond_with_json(
        {"ok": False, "error_code": 401, "description": f"Invalid token {ZALO_BOT_TOKEN}"}, status=401
    )
    with pytest.raises(SendError) as info:
        channel.send("1", {"text": "x"})
    assert ZALO_BOT_TOKEN not in str(info.value) and "<bot-token>" in str(info.value)
    offline = ZaloBotChannel(platform_config("http://127.0.0.1:9", db_path))  # connection refused
    with pytest.raises(SendError) as info:
        offline.send("1", {"text": "x"})
    assert info.value.retry and ZALO_BOT_TOKEN not in str(info.value)
    # our side's log lines (the fake platform's own werkzeug access log is not ours)
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug"))
    assert "/sendMessage" in ours  # the request was logged...
    assert ZALO_BOT_TOKEN.split(":", 1)[1] not in ours  # ...without the token


def test_set_webhook_sends_the_secret_token(channel, httpserver):
    httpserver.expect_request(f"{BOT_PATH}/setWebhook", method="POST").respond_with_json(
        {"ok": True, "result": {"url": "https://bot.example.org/webhooks/zalo-bot", "updated_at": 1750316831602}}
    )
    result = channel.set_webhook("https://bot.example.org/webhooks/zalo-bot")
    assert result["url"] == "https://bot.example.org/webhooks/zalo-bot"
    assert httpserver.log[0][0].json == {"url": "https://bot.example.org/webhooks/zalo-bot", "secret_token": ZALO_BOT_SECRET}
