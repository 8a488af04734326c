"""Zalo OA token manager against a local fake OAuth v4 server (pytest-httpserver).

The refresh token is single use: these tests pin that it is never sent twice,
not by racing threads or processes, not after a crash or a failed refresh.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.wrappers import Response

from bot.channels.zalo_tokens import TokenError, ZaloTokenManager
from bot.storage.store import Store
from tests.conftest import ZALO_APP_ID, ZALO_APP_SECRET, platform_config

TOKEN_PATH = "/v4/oa/access_token"
HOUR = 3600.0


class Clock:
    """A settable clock: token age and expiry without sleeping."""

    def __init__(self, now: float = 1_750_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store_factory(db_path):
    Store.open(db_path, migrate=True).close()
    return lambda: Store.open(db_path)


@pytest.fixture
def make_manager(httpserver, db_path, store_factory, clock):
    def make(**extra) -> ZaloTokenManager:
        config = platform_config(httpserver.url_for("/"), db_path, **extra)
        return ZaloTokenManager(config, store_factory, clock=clock)

    return make


@pytest.fixture
def manager(make_manager):
    return make_manager()


def tokens_row(store_factory) -> dict:
    with contextlib.closing(store_factory()) as store:
        return store.get_tokens("zalo_oa")


def channel_status(store_factory) -> dict:
    with contextlib.closing(store_factory()) as store:
        return store.channel_statuses().get("zalo") or {"state": "ok", "detail": ""}


def token_requests(httpserver) -> list:
    return [request for request, _ in httpserver.log if request.path == TOKEN_PATH]


def pairs(*numbers: int):
    """A handler answering successive refreshes with zalo-access-N / zalo-refresh-N."""
    queue = list(numbers)

    def handler(request):
        n = queue.pop(0)
        body = {"access_token": f"zalo-access-{n}", "refresh_token": f"zalo-refresh-{n}", "expires_in": "90000"}
        return Response(json.dumps(body), content_type="application/json")

    return handler


# -- seeding and reading ------------------------------------------------------------
def test_tokens_are_seeded_from_the_environment_only_when_the_database_has_none(make_manager, store_factory):
    assert make_manager().access_token() == "zalo-access-1"
    # a later start with other values in the environment keeps the database's pair
    assert make_manager(ZALO_ACCESS_TOKEN="stale-env", ZALO_REFRESH_TOKEN="stale-env-r").access_token() == "zalo-access-1"
    assert tokens_row(store_factory)["refresh_token"] == "zalo-refresh-1"


def test_a_fresh_token_is_returned_without_calling_zalo(manager, httpserver, clock):
    manager.access_token()
    clock.now += 15 * HOUR  # younger than ZALO_TOKEN_REFRESH_AFTER_HOURS (16)
    assert manager.access_token() == "zalo-access-1"
    assert httpserver.log == []


@pytest.mark.parametrize("age_hours", [16.01, 26])  # old enough to refresh; expired
def test_an_old_token_is_refreshed_first(manager, httpserver, store_factory, clock, age_hours):
    httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_handler(pairs(2))
    manager.access_token()
    clock.now += age_hours * HOUR
    assert manager.access_token() == "zalo-access-2"
    [request] = token_requests(httpserver)
    assert request.headers["secret_key"] == ZALO_APP_SECRET
    assert request.form.to_dict() == {"app_id": ZALO_APP_ID, "refresh_token": "zalo-refresh-1", "grant_type": "refresh_token"}
    row = tokens_row(store_factory)
    assert (row["access_token"], row["refresh_token"]) == ("zalo-access-2", "zalo-refresh-2")
    assert row["expires_at"] == clock.now + 90000  # expires_in came as the string "90000"
    assert row["lease_owner"] is None


def test_ensure_fresh_refreshes_ahead_of_expiry_only_when_due(manager, httpserver, clock):
    httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_handler(pairs(2))
    assert manager.ensure_fresh() is False
    assert httpserver.log == []
    clock.now += 17 * HOUR
    assert manager.ensure_fresh() is True
    assert len(token_requests(httpserver)) == 1


def test_status_reports_age_and_expiry_but_no_token(manager, clock):
    manager.access_token()
    clock.now += 2 * HOUR
    status = manager.status()
    assert status["has_access_token"] and status["has_refresh_token"]
    assert status["age_seconds"] == 2 * HOUR
    assert status["expires_in_seconds"] == 90000 - 2 * HOUR
    assert status["state"] == "ok"
    assert "zalo-access-1" not in repr(status) and "zalo-refresh-1" not in repr(status)


# -- one refresh at a time ----------------------------------------------------------
def test_concurrent_refreshes_call_zalo_once(make_manager, httpserver, store_factory):
    def slow(request):
        time.sleep(0.3)  # the others pile up behind the lock and the lease meanwhile
        return pairs(2)(request)

    httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_handler(slow)
    # two managers = two "processes": their thread locks differ, only the database lease is shared
    managers = [make_manager(), make_manager()]
    managers[0].access_token()  # seed
    barrier = threading.Barrier(8)
    results: list[str] = []
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results.append(managers[i % 2].refresh(stale_token="zalo-access-1"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert results == ["zalo-access-2"] * 8
    assert len(token_requests(httpserver)) == 1
    assert tokens_row(store_factory)["refresh_token"] == "zalo-refresh-2"


def test_refresh_returns_a_token_someone_else_already_refreshed(manager, make_manager, httpserver):
    httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_handler(pairs(2))
    manager.refresh()
    # another process still holds the old token and got -216 with it
    assert make_manager().refresh(stale_token="zalo-access-1") == "zalo-access-2"
    assert len(token_requests(httpserver)) == 1


def test_after_a_restart_the_rotated_refresh_token_is_used(manager, make_manager, httpserver, db_path, clock):
    httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_handler(pairs(2, 3))
    manager.refresh()
    # a new process: new manager, new Store on the same file, the old pair still in the environment
    restarted = ZaloTokenManager(manager.config, lambda: Store.open(db_path), clock=clock)
    assert restarted.refresh() == "zalo-access-3"
    sent = [r.form["refresh_token"] for r in token_requests(httpserver)]
    assert sent == ["zalo-refresh-1", "zalo-refresh-2"]


# -- failures -------------------------------------------------------------------------
REFUSALS = [
    pytest.param(200, {"error": -14020, "error_name": "invalid_grant", "error_description": "Refresh token is expired or used"}, id="http-200-error"),
    pytest.param(400, {"error_name": "invalid_request", "error_reason": "invalid refresh_token"}, id="http-400"),
    pytest.param(200, {"access_token": "zalo-access-2", "expires_in": "90000"}, id="no-refresh-token"),
    pytest.param(200, {"access_token": None, "refresh_token": "", "expires_in": "90000"}, id="empty-values"),
    pytest.param(502, "<html>Bad gateway</html>", id="http-502"),
]


@pytest.mark.parametrize("status, body", REFUSALS)
def test_a_failed_refresh_alerts_and_never_resends_the_spent_token(
    manager, make_manager, httpserver, store_factory, clock, status, body
):
    handler = httpserver.expect_request(TOKEN_PATH, method="POST")
    if isinstance(body, dict):
        handler.respond_with_json(body, status=status)
    else:
        handler.respond_with_data(body, status=status)
    manager.access_token()
    with pytest.raises(TokenError) as info:
        manager.refresh()
    assert info.value.retry is False
    status_row = channel_status(store_factory)
    assert status_row["state"] == "alert"
    assert "cần cấp quyền lại" in status_row["detail"] and "re-authorisation needed" in status_row["detail"]
    # the good access token is not overwritten; the refresh token is spent
    row = tokens_row(store_factory)
    assert (row["access_token"], row["refresh_token"]) == ("zalo-access-1", None)

    # neither a second attempt nor a restarted process sends the spent token again
    with pytest.raises(TokenError):
        manager.refresh()
    with pytest.raises(TokenError):
        make_manager().refresh(stale_token="zalo-access-1")
    assert [r.form["refresh_token"] for r in token_requests(httpserver)] == ["zalo-refresh-1"]
    # the access token still works until it expires, then there is nothing left
    clock.now += 20 * HOUR
    assert manager.access_token() == "zalo-access-1"
    clock.now += 6 * HOUR
    with pytest.raises(TokenError):
        manager.access_token()
    assert len(token_requests(httpserver)) == 1


def test_a_refresh_that_could_not_connect_keeps_the_refresh_token(make_manager, store_factory):
    manager = make_manager(ZALO_OAUTH_BASE="http://127.0.0.1:9")  # nothing listens: refused before sending
    manager.access_token()
    with pytest.raises(TokenError) as info:
        manager.refresh()
    assert info.value.retry is True
    row = tokens_row(store_factory)
    assert (row["access_token"], row["refresh_token"]) == ("zalo-access-1", "zalo-refresh-1")
    assert row["lease_owner"] is None
    assert channel_status(store_factory)["state"] == "ok"


def test_a_refresh_that_timed_out_after_sending_counts_as_spent(make_manager, httpserver, store_factory):
    def too_slow(request):
        time.sleep(1.0)
        return pairs(2)(request)

    httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_handler(too_slow)
    manager = make_manager(HTTP_TIMEOUT_SECONDS="0.3")
    manager.access_token()
    with pytest.raises(TokenError):
        manager.refresh()
    assert tokens_row(store_factory)["refresh_token"] is None
    assert channel_status(store_factory)["state"] == "alert"


def test_tokens_never_reach_the_logs(manager, httpserver, caplog):
    caplog.set_level(logging.DEBUG)
    httpserver.expect_oneshot_request(TOKEN_PATH, method="POST").respond_with_handler(pairs(2))
    httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_json({"error": -14020, "error_name": "invalid_grant"})
    manager.refresh()
    with pytest.raises(TokenError):
        manager.refresh()
    assert "refreshed" in caplog.text and "re-authorisation needed" in caplog.text
    for secret in ("zalo-access-1", "zalo-refresh-1", "zalo-access-2", "zalo-refresh-2", ZALO_APP_SECRET):
        assert secret not in caplog.text


# -- consent (PKCE) -------------------------------------------------------------------
def test_consent_url_and_code_exchange(make_manager, httpserver, store_factory):
    # a fresh install: no tokens anywhere, the channel is in alert
    manager = make_manager(ZALO_ACCESS_TOKEN="", ZALO_REFRESH_TOKEN="")
    with contextlib.closing(store_factory()) as store:
        store.set_channel_status("zalo", "alert", "re-authorisation needed", at=0)
    url = manager.consent_url("https://bot.example.org/zalo/callback")
    parts = urlsplit(url)
    assert url.startswith(httpserver.url_for("/v4/oa/permission?"))
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["app_id"] == ZALO_APP_ID
    assert query["redirect_uri"] == "https://bot.example.org/zalo/callback"
    with contextlib.closing(store_factory()) as store:
        pkce = store.get_tokens("zalo_oa_pkce")
    verifier = pkce["access_token"]
    assert 43 <= len(verifier) <= 128
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    assert query["code_challenge"] == expected and "=" not in query["code_challenge"]
    assert query["state"] == pkce["refresh_token"]

    httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_handler(pairs(7))
    manager.exchange_code("code-from-callback")
    [request] = token_requests(httpserver)
    assert request.headers["secret_key"] == ZALO_APP_SECRET
    assert request.form.to_dict() == {
        "app_id": ZALO_APP_ID,
        "code": "code-from-callback",
        "grant_type": "authorization_code",
        "code_verifier": verifier,
    }
    row = tokens_row(store_factory)
    assert (row["access_token"], row["refresh_token"]) == ("zalo-access-7", "zalo-refresh-7")
    assert channel_status(store_factory)["state"] == "ok"
    assert manager.access_token() == "zalo-access-7"


def test_exchange_without_a_consent_link_is_refused(manager, httpserver):
    with pytest.raises(TokenError):
        manager.exchange_code("code")
    assert httpserver.log == []


def test_a_refused_code_keeps_the_current_tokens(manager, httpserver, store_factory):
    manager.consent_url("https://bot.example.org/cb")
    httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_json(
        {"error": -14019, "error_name": "invalid_grant", "error_description": "code expired"}
    )
    with pytest.raises(TokenError, match="code expired"):
        manager.exchange_code("old-code")
    row = tokens_row(store_factory)
    assert (row["access_token"], row["refresh_token"]) == ("zalo-access-1", "zalo-refresh-1")
