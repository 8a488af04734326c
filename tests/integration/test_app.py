"""Start-up, settings, health, and the documentation of every setting."""

from __future__ import annotations

import re

import pytest

from bot.core.config import SETTINGS, ConfigError, load_config
from tests.conftest import ROOT


def test_first_start_needs_no_settings(tmp_path, monkeypatch):
    from app import create_app

    monkeypatch.chdir(tmp_path)
    for s in SETTINGS:
        monkeypatch.delenv(s.name, raising=False)
    app = create_app({"TESTING": True, "DATABASE_PATH": str(tmp_path / "inst" / "bot.db")})
    assert (tmp_path / "inst" / "bot.db").exists()  # folder created on first start
    client = app.test_client()
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.get_json() == {"status": "ok", "database": {"state": "ok"}}  # the public sees the status only
    from bot.storage.store import Store
    from tests.integration.test_participation_import import login

    store = Store.open(str(tmp_path / "inst" / "bot.db"))
    login(client, store, "viewer")
    store.close()
    body = client.get("/healthz").get_json()
    assert body["database"]["state"] == "ok"
    assert {name: c["state"] for name, c in body["channels"].items()} == {
        "messenger": "disabled", "zalo": "disabled", "zalo_bot": "disabled",
    }
    assert client.get("/simulator").status_code == 200
    # a disabled channel's webhook is not served
    assert client.post("/webhooks/messenger", data=b"{}").status_code == 404


def test_session_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    from app import create_app

    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = create_app({"TESTING": True, "DATABASE_PATH": str(tmp_path / "a.db")})
    second = create_app({"TESTING": True, "DATABASE_PATH": str(tmp_path / "b.db")})
    assert first.config["SECRET_KEY"] and first.config["SECRET_KEY"] == second.config["SECRET_KEY"]


@pytest.mark.parametrize(
    "name,value",
    [("PORT", "eighty"), ("PORT", "70000"), ("QUIET_HOURS", "21h-7h"), ("TIMEZONE", "Mars/Base"),
     ("MESSENGER_API_BASE", "graph.facebook.com"), ("ZALO_RATE_PER_SECOND", "-1"), ("ZALO_ALLOW_PAID_WINDOW", "maybe")],
)
def test_a_bad_setting_stops_start_up_naming_the_setting(name, value):
    with pytest.raises(ConfigError) as info:
        load_config({name: value})
    assert name in str(info.value)


def test_quiet_hours_and_rates_can_be_switched_off():
    config = load_config({"QUIET_HOURS": "off", "MESSENGER_RATE_PER_SECOND": "0", "GROUP_REPLIES_PER_MINUTE": "0"})
    assert config["QUIET_HOURS"] is None
    assert config["MESSENGER_RATE_PER_SECOND"] == 0


def test_every_setting_is_documented_in_env_example_and_readme():
    env_example = (ROOT / ".env.example").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = dict(re.findall(r"^([A-Z][A-Z0-9_]+)=(.*)$", env_example, re.M))
    names = {s.name for s in SETTINGS}
    assert names - set(documented) == set(), "missing from .env.example"
    assert {s.name: s.default for s in SETTINGS} == documented, "defaults differ: run tools/gen_env_example.py"
    assert {n for n in names if f"`{n}`" not in readme} == set(), "missing from the README settings table"


def test_healthz_is_503_when_the_database_is_unusable(app, client, tmp_path):
    (tmp_path / "broken.db").write_bytes(b"this is not a database" * 100)
    app.config["DATABASE_PATH"] = str(tmp_path / "broken.db")
    resp = client.get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json() == {"status": "error", "database": {"state": "error"}}  # no error text for the public


def test_healthz_reports_channels_and_backlog_to_staff_only(app, client, store, clock):
    store.enqueue(channel="zalo", recipient="Z", messages=[{"text": "a"}, {"text": "b"}], at=clock.now())
    public = client.get("/healthz")
    assert public.status_code == 200 and public.get_json() == {"status": "ok", "database": {"state": "ok"}}
    from tests.integration.test_participation_import import login

    login(client, store, "viewer")
    body = client.get("/healthz").get_json()
    assert body["outbox"]["backlog"] == {"zalo": 2}
    assert body["channels"]["messenger"]["state"] == "ok"


def test_secrets_never_reach_the_logs(caplog):
    import logging

    from app import SecretFilter

    handler_filter = SecretFilter(["super-secret-token-value"])
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "calling %s", ("https://api/botsuper-secret-token-value/send",), None)
    handler_filter.filter(record)
    assert "super-secret-token-value" not in record.getMessage()


def test_the_simulator_can_be_switched_off(httpserver, db_path):
    from app import create_app
    from tests.conftest import platform_config

    app = create_app(platform_config(httpserver.url_for("/"), db_path, SIMULATOR_ENABLED="false"))
    client = app.test_client()
    assert client.get("/simulator").status_code == 404
    assert client.post("/simulator/api/send", json={"user": "u", "text": "menu"}).status_code == 404


def test_secrets_are_masked_in_tracebacks_too():
    import logging
    import sys

    from app import SecretFilter

    try:
        raise RuntimeError("GET https://api/botsuper-secret-token-value/sendMessage failed")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "send failed", (), sys.exc_info())
    SecretFilter(["super-secret-token-value"]).filter(record)
    assert "super-secret-token-value" not in record.exc_text and "***" in record.exc_text
