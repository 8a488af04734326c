"""Console sessions end server-side (issue 11, D19): logout kills a copied cookie, an idle session and
a session past its lifetime end; and logins are limited per address, whatever the usernames (D22)."""

from __future__ import annotations

import re

import pytest

from bot.web.auth import create_account
from tests.conftest import platform_config

PASSWORD = "mat-khau-du-dai-1"
MINUTE = 60


@pytest.fixture
def app(httpserver, db_path, clock):
    from app import create_app
    from bot.storage.store import Store

    application = create_app(
        platform_config(httpserver.url_for("/"), db_path, SESSION_IDLE_MINUTES="30", SESSION_MAX_HOURS="8",
                        LOGIN_MAX_FAILURES_PER_ADDRESS="4"),
        clock=clock,
    )
    store = Store.open(db_path)
    create_account(store, "lan", PASSWORD, "admin", None, now=clock.now())
    store.close()
    return application


def login(client, username: str = "lan", password: str = PASSWORD, **kwargs):
    page = client.get("/admin/login", **kwargs).get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    return client.post("/admin/login", data={"username": username, "password": password, "csrf_token": token}, **kwargs)


def opens(client) -> bool:
    resp = client.get("/admin/members")
    assert resp.status_code in (200, 302)
    return resp.status_code == 200


def test_logout_ends_the_session_for_a_copied_cookie_too(app):
    client = app.test_client()
    assert login(client).status_code == 302 and opens(client)
    copied = client.get_cookie("bot_session").value
    page = client.get("/admin/members").get_data(as_text=True)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    assert client.post("/admin/logout", data={"csrf_token": csrf}).status_code == 302
    thief = app.test_client()
    thief.set_cookie("bot_session", copied)
    assert not opens(thief)
    assert not opens(client)


def test_an_idle_session_ends_and_an_active_one_lasts_until_its_lifetime(app, clock):
    client = app.test_client()
    login(client)
    clock.advance(31 * MINUTE)
    assert not opens(client)  # idle past SESSION_IDLE_MINUTES

    login(client)
    started = clock.now()
    while clock.now() - started < 8 * 3600 - 25 * MINUTE:
        clock.advance(25 * MINUTE)
        assert opens(client)  # in use: the idle limit never bites
    clock.advance(25 * MINUTE)
    assert not opens(client)  # past SESSION_MAX_HOURS however active


def test_the_session_cookie_alone_without_a_server_session_opens_nothing(app):
    client = app.test_client()
    login(client)
    with client.session_transaction() as session:
        session.pop("sid", None)
    assert not opens(client)


def test_failed_logins_are_limited_per_address_whatever_the_usernames(app):
    client = app.test_client()
    for name in ("an", "binh", "cuc", "dung"):  # four unknown usernames: each one under its own limit
        assert login(client, name, "sai-mat-khau-roi").status_code == 401
    assert login(client, "em", "sai-mat-khau-roi").status_code == 429
    assert login(client, "lan").status_code == 429  # the address waits, even with the right password
    other = app.test_client()
    assert login(other, "lan", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 302


def test_successful_logins_do_not_count_against_the_address(app):
    client = app.test_client()
    for _ in range(6):
        assert login(client).status_code == 302
