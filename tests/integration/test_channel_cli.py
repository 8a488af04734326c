"""`flask messenger|zalo|zalo-bot ...` commands on a tiny app, against the fake platform."""

from __future__ import annotations

import contextlib
import json

import pytest
from flask import Flask
from werkzeug.wrappers import Response

from bot.channels import CHANNEL_NAMES, build_channels
from bot.cli.channels import messenger_cli, zalo_bot_cli, zalo_cli
from bot.storage.store import Store
from bot.web.context import Services
from tests.conftest import ZALO_BOT_SECRET, ZALO_BOT_TOKEN, platform_config

TOKEN_PATH = "/v4/oa/access_token"


def make_app(base_url: str, db_path: str, **extra) -> Flask:
    Store.open(db_path, migrate=True).close()
    config = platform_config(base_url, db_path, **extra)
    app = Flask("cli-test")
    app.config["DATABASE_PATH"] = db_path
    app.extensions["bot"] = Services(config=config, channels=build_channels(config, lambda: Store.open(db_path)))
    for group in (messenger_cli, zalo_cli, zalo_bot_cli):
        app.cli.add_command(group)
    return app


@pytest.fixture
def runner(httpserver, db_path):
    return make_app(httpserver.url_for("/"), db_path).test_cli_runner()


def test_build_channels_creates_all_three(httpserver, db_path):
    app = make_app(httpserver.url_for("/"), db_path)
    channels = app.extensions["bot"].channels
    assert tuple(channels) == CHANNEL_NAMES
    assert all(channel.enabled for channel in channels.values())
    assert channels["zalo"].tokens is not None


def test_messenger_setup_profile(runner, httpserver):
    httpserver.expect_request("/me/messenger_profile", method="POST").respond_with_json({"result": "success"})
    result = runner.invoke(args=["messenger", "setup-profile"])
    assert result.exit_code == 0, result.output
    assert httpserver.log[0][0].json["get_started"] == {"payload": "GET_STARTED"}


def test_disabled_channel_is_reported(httpserver, db_path):
    runner = make_app(httpserver.url_for("/"), db_path, MESSENGER_PAGE_ACCESS_TOKEN="").test_cli_runner()
    result = runner.invoke(args=["messenger", "setup-profile"])
    assert result.exit_code != 0 and "MESSENGER_PAGE_ACCESS_TOKEN" in result.output
    assert httpserver.log == []


def test_zalo_token_status_never_prints_tokens(runner):
    result = runner.invoke(args=["zalo", "token-status"])
    assert result.exit_code == 0, result.output
    assert "state: ok" in result.output and "Refresh token: có / yes" in result.output
    assert "zalo-access-1" not in result.output and "zalo-refresh-1" not in result.output


def test_zalo_consent_url_then_exchange_code(httpserver, db_path):
    app = make_app(httpserver.url_for("/"), db_path, ZALO_OAUTH_REDIRECT_URI="https://bot.example.org/zalo/cb")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["zalo", "consent-url"])
    assert result.exit_code == 0, result.output
    assert "/v4/oa/permission?" in result.output and "redirect_uri=https%3A%2F%2Fbot.example.org%2Fzalo%2Fcb" in result.output

    body = {"access_token": "zalo-access-9", "refresh_token": "zalo-refresh-9", "expires_in": "90000"}
    httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_json(body)
    result = runner.invoke(args=["zalo", "exchange-code", "abc123"])
    assert result.exit_code == 0, result.output
    assert httpserver.log[0][0].form["code"] == "abc123"
    with contextlib.closing(Store.open(db_path)) as store:
        assert store.get_tokens("zalo_oa")["refresh_token"] == "zalo-refresh-9"


def test_zalo_consent_url_needs_a_redirect_uri(runner):
    result = runner.invoke(args=["zalo", "consent-url"])
    assert result.exit_code != 0 and "redirect" in result.output.lower()


def test_zalo_refresh_token_success_and_failure(runner, httpserver):
    answers = [
        {"access_token": "zalo-access-2", "refresh_token": "zalo-refresh-2", "expires_in": "90000"},
        {"error": -14020, "error_name": "invalid_grant"},
    ]
    httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_handler(
        lambda request: Response(json.dumps(answers.pop(0)), content_type="application/json")
    )
    ok = runner.invoke(args=["zalo", "refresh-token"])
    assert ok.exit_code == 0, ok.output
    failed = runner.invoke(args=["zalo", "refresh-token"])
    assert failed.exit_code != 0 and "re-authorisation" in failed.output
    status = runner.invoke(args=["zalo", "token-status"])
    assert "state: alert" in status.output and "cần cấp quyền lại" in status.output
    assert "zalo-access-2" not in status.output + ok.output + failed.output


def test_zalo_bot_set_webhook_and_get_me(runner, httpserver):
    bot = f"/bot{ZALO_BOT_TOKEN}"
    httpserver.expect_request(f"{bot}/setWebhook", method="POST").respond_with_json(
        {"ok": True, "result": {"url": "https://bot.example.org/webhooks/zalo-bot", "updated_at": 1}}
    )
    httpserver.expect_request(f"{bot}/getMe", method="POST").respond_with_json(
        {"ok": True, "result": {"id": "42", "account_name": "Bot Hội Phụ Nữ", "account_type": "BASIC", "can_join_groups": True}}
    )
    result = runner.invoke(args=["zalo-bot", "set-webhook", "https://bot.example.org/webhooks/zalo-bot"])
    assert result.exit_code == 0, result.output
    assert httpserver.log[0][0].json["secret_token"] == ZALO_BOT_SECRET
    me = runner.invoke(args=["zalo-bot", "get-me"])
    assert me.exit_code == 0 and "account_name: Bot Hội Phụ Nữ" in me.output
    assert ZALO_BOT_TOKEN not in result.output + me.output


def test_zalo_bot_refusal_is_reported_without_the_token(runner, httpserver):
    httpserver.expect_request(f"/bot{ZALO_BOT_TOKEN}/getMe").respond_with_json(
        {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
    )
    result = runner.invoke(args=["zalo-bot", "get-me"])
    assert result.exit_code != 0 and "401" in result.output and ZALO_BOT_TOKEN not in result.output
