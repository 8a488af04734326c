"""Zalo OA OAuth v4 tokens: kept in the database, refreshed once, never lost.

The access token lives 25 h; the refresh token is single use ("chỉ được sử dụng một
lần") and every refresh returns a new one.  Two refreshes racing would burn the
pair, so a refresh runs under a threading lock (one process) and a database lease
(several processes), and the refresh token is marked spent *before* it is sent: a
crash between sending it and saving the answer leaves the channel in alert
(re-authorisation needed) instead of re-sending a token Zalo already rotated.
Protocol: shared/platform-zalo.md §3.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol
from urllib.parse import urlencode

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

logger = logging.getLogger(__name__)


class TokenStore(Protocol):
    """The storage the token manager needs (bot.storage.store.TokenStore provides it)."""

    def get_tokens(self, name: str) -> dict[str, Any] | None: ...
    def seed_tokens(self, name: str, *, access_token: str, refresh_token: str, expires_at: float, at: float) -> bool: ...
    def save_tokens(self, name: str, *, access_token: str, refresh_token: str, expires_at: float, at: float) -> None: ...
    def spend_refresh_token(self, name: str, refresh_token: str) -> bool: ...
    def acquire_lease(self, name: str, owner: str, *, now: float, ttl: float) -> bool: ...
    def release_lease(self, name: str, owner: str) -> None: ...
    def set_channel_status(self, channel: str, state: str, detail: str = "", *, at: float) -> None: ...
    def channel_statuses(self) -> dict[str, dict[str, Any]]: ...
    def close(self) -> None: ...

TOKENS = "zalo_oa"  # tokens row of the OA pair
PKCE = "zalo_oa_pkce"  # tokens row of the consent flow: access_token = code_verifier, refresh_token = state
CHANNEL = "zalo"
DEFAULT_EXPIRES_IN = 90000.0  # 25 h, Zalo's documented lifetime
EXPIRY_MARGIN = 600.0  # refresh at the latest this long before expiry
PKCE_TTL = 24 * 3600.0
POLL_SECONDS = 0.05
ALERT_DETAIL = "Zalo OA: cần cấp quyền lại / re-authorisation needed"


class TokenError(Exception):
    """No usable Zalo OA access token: the refresh failed or the OA must be re-authorised.

    ``retry`` is True for a passing trouble (Zalo unreachable, another refresh still
    running) that does not need an admin.
    """

    def __init__(self, message: str, *, retry: bool = False):
        super().__init__(message)
        self.retry = retry


class ZaloTokenManager:
    """Hands out a fresh OA access token; refreshes it safely across threads and processes."""

    def __init__(
        self,
        config: Mapping[str, Any],
        store_factory: Callable[[], TokenStore],
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.config = config
        self.store_factory = store_factory
        self.session = session or requests.Session()
        self.clock = clock
        self.timeout = float(config.get("HTTP_TIMEOUT_SECONDS", 10))
        # the lease must outlive the HTTP call, or a second process could start a refresh
        self.lease_ttl = 2 * self.timeout + 10
        self.refresh_after = float(config.get("ZALO_TOKEN_REFRESH_AFTER_HOURS", 16)) * 3600
        self._lock = threading.Lock()

    @property
    def token_url(self) -> str:
        return str(self.config.get("ZALO_OAUTH_BASE", "")).rstrip("/") + "/v4/oa/access_token"

    # -- reading ---------------------------------------------------------------
    def access_token(self) -> str:
        """The current access token, refreshed first when it is old or expired."""
        with self._open() as store:
            row = self._load(store)
        if row is None or not (row["access_token"] or row["refresh_token"]):
            raise TokenError("no Zalo OA tokens: authorise the OA (flask zalo consent-url)")
        current = row["access_token"]
        still_valid = bool(current) and self.clock() < float(row["expires_at"] or 0)
        if current and not self._due(row):
            return str(current)
        if still_valid and not row["refresh_token"]:
            # spent (alert) or mid-refresh in another process: use the token until it expires
            return str(current)
        try:
            return self.refresh(stale_token=current or "")
        except TokenError:
            if still_valid:
                return str(current)  # the refresh failed, but this token has not expired yet
            raise

    def ensure_fresh(self) -> bool:
        """For a periodic job: refresh ahead of expiry. True if a refresh happened."""
        with self._open() as store:
            row = self._load(store)
            if row is not None and not row["refresh_token"] and float(row["lease_until"] or 0) < self.clock():
                # spent and never replaced (a crash between spending and saving), and nobody is
                # refreshing now: say so at once, not hours later when the access token expires
                if (store.channel_statuses().get(CHANNEL) or {}).get("state") != "alert":
                    self._alert(store, "refresh token đã dùng nhưng chưa lưu cặp mới / refresh token spent, no new pair saved")
                return False
        if row is None or not row["refresh_token"] or (row["access_token"] and not self._due(row)):
            return False
        before = row["access_token"] or ""
        return self.refresh(stale_token=before) != before

    def status(self) -> dict[str, Any]:
        """Expiry, age and alert state, for health checks and `flask zalo token-status` (no secrets)."""
        now = self.clock()
        with self._open() as store:
            row = self._load(store)
            channel = store.channel_statuses().get(CHANNEL) or {}
        row = row or {}
        refreshed_at, expires_at = row.get("refreshed_at"), row.get("expires_at")
        return {
            "has_access_token": bool(row.get("access_token")),
            "has_refresh_token": bool(row.get("refresh_token")),
            "refreshed_at": refreshed_at,
            "expires_at": expires_at,
            "age_seconds": now - refreshed_at if refreshed_at else None,
            "expires_in_seconds": expires_at - now if expires_at else None,
            "state": channel.get("state", "ok"),
            "detail": channel.get("detail", ""),
        }

    # -- refreshing --------------------------------------------------------------
    def refresh(self, stale_token: str | None = None) -> str:
        """Exchange the refresh token for a new pair and return the new access token.

        If ``stale_token`` is given and the stored access token already differs from it,
        someone else refreshed meanwhile: that token is returned and Zalo is not called.
        """
        with self._exclusive(stale_token) as (store, fresh):
            if fresh is not None:
                return fresh
            row = self._load(store)
            refresh_token = row["refresh_token"] if row else None
            if not refresh_token:
                if (store.channel_statuses().get(CHANNEL) or {}).get("state") != "alert":
                    self._alert(store, "không còn refresh token / no refresh token left")
                raise TokenError("no Zalo OA refresh token: re-authorisation needed")
            if not store.spend_refresh_token(TOKENS, refresh_token):
                raise TokenError("the Zalo OA refresh token changed during the refresh")
            form = {
                "app_id": self.config.get("ZALO_APP_ID"),
                "refresh_token": refresh_token,
                "grant_type": "refresh_token",
            }
            try:
                response = self._post_form(form)
            except requests.RequestException as exc:
                if _not_sent(exc):
                    # nothing reached Zalo: the refresh token is still good, put it back
                    store.save_tokens(
                        TOKENS,
                        access_token=row["access_token"],
                        refresh_token=refresh_token,
                        expires_at=row["expires_at"],
                        at=row["refreshed_at"],
                    )
                    logger.warning("Zalo OA token refresh could not connect (%s); will try again", type(exc).__name__)
                    raise TokenError("could not reach the Zalo OAuth server", retry=True) from None
                self._alert(store, f"{type(exc).__name__} during refresh")
                raise TokenError("Zalo OA token refresh failed: re-authorisation needed") from None
            pair = _token_pair(response)
            if pair is None:
                self._alert(store, _describe(response))
                raise TokenError("Zalo OA token refresh failed: re-authorisation needed")
            logger.info("Zalo OA access token refreshed; valid for %d s", pair[2])
            return self._save(store, *pair)

    def consent_url(self, redirect_uri: str) -> str:
        """The OA admin's consent link (PKCE); its code_verifier is kept in the database."""
        if not redirect_uri:
            raise ValueError("a redirect URI is needed (ZALO_OAUTH_REDIRECT_URI)")
        verifier = secrets.token_urlsafe(64)  # 86 characters of [A-Za-z0-9_-]
        state = secrets.token_urlsafe(16)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        now = self.clock()
        with self._open() as store:
            store.save_tokens(PKCE, access_token=verifier, refresh_token=state, expires_at=now + PKCE_TTL, at=now)
        query = urlencode(
            {
                "app_id": self.config.get("ZALO_APP_ID"),
                "redirect_uri": redirect_uri,
                "code_challenge": challenge,
                "state": state,
            }
        )
        return f"{str(self.config.get('ZALO_OAUTH_BASE', '')).rstrip('/')}/v4/oa/permission?{query}"

    def exchange_code(self, code: str) -> None:
        """Trade the consent callback's ``code`` for a token pair; clears the alert."""
        with self._open() as store:
            pkce = store.get_tokens(PKCE)
            if self._load(store) is None:
                # first authorisation, nothing in the environment either: the lease needs a row
                store.seed_tokens(TOKENS, access_token="", refresh_token="", expires_at=0, at=self.clock())
        if not pkce or not pkce["access_token"] or self.clock() > float(pkce["expires_at"] or 0):
            raise TokenError("no current consent link: run `flask zalo consent-url` first")
        form = {
            "app_id": self.config.get("ZALO_APP_ID"),
            "code": code,
            "grant_type": "authorization_code",
            "code_verifier": pkce["access_token"],
        }
        with self._exclusive(None) as (store, _):
            try:
                response = self._post_form(form)
            except requests.RequestException as exc:
                raise TokenError(f"could not reach the Zalo OAuth server ({type(exc).__name__})") from None
            pair = _token_pair(response)
            if pair is None:
                raise TokenError(f"Zalo refused the code: {_describe(response)}")
            self._save(store, *pair)
            logger.info("Zalo OA authorised: new token pair saved")

    # -- internals -------------------------------------------------------------
    def _open(self) -> contextlib.closing[TokenStore]:
        return contextlib.closing(self.store_factory())

    def _load(self, store: TokenStore) -> dict[str, Any] | None:
        """The stored pair; seeded from the environment only when the database has none."""
        row = store.get_tokens(TOKENS)
        access, refresh = self.config.get("ZALO_ACCESS_TOKEN"), self.config.get("ZALO_REFRESH_TOKEN")
        if row is None and (access or refresh):
            now = self.clock()
            # the age of a pasted token is unknown: assume fresh, a -216 triggers a refresh anyway
            store.seed_tokens(
                TOKENS, access_token=access or "", refresh_token=refresh or "", expires_at=now + DEFAULT_EXPIRES_IN, at=now
            )
            row = store.get_tokens(TOKENS)
        return row

    def _due(self, row: Mapping[str, Any]) -> bool:
        now = self.clock()
        too_old = now - float(row["refreshed_at"] or 0) >= self.refresh_after
        return too_old or now >= float(row["expires_at"] or 0) - EXPIRY_MARGIN

    @contextlib.contextmanager
    def _exclusive(self, stale_token: str | None) -> Iterator[tuple[TokenStore, str | None]]:
        """The thread lock plus the database lease on the tokens row.

        Yields ``(store, fresh)``: ``fresh`` is the stored access token when it already
        differs from ``stale_token`` (someone else refreshed while we waited); else it is
        None and the caller holds the lease.  A waiting caller polls until the holder
        saves, or until the holder's lease expires (it crashed).
        """
        owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
        with self._lock, self._open() as store:
            deadline = time.monotonic() + self.lease_ttl + self.timeout
            while True:
                row = self._load(store)
                if row is None:
                    raise TokenError("no Zalo OA tokens: authorise the OA (flask zalo consent-url)")
                current = row["access_token"]
                if stale_token is not None and current and current != stale_token:
                    yield store, str(current)
                    return
                if store.acquire_lease(TOKENS, owner, now=self.clock(), ttl=self.lease_ttl):
                    break
                if time.monotonic() > deadline:
                    raise TokenError("timed out waiting for another Zalo token refresh", retry=True)
                time.sleep(POLL_SECONDS)
            try:
                # the previous holder may have saved just before we took the lease
                row = self._load(store)
                current = row["access_token"] if row else None
                if stale_token is not None and current and current != stale_token:
                    yield store, str(current)
                else:
                    yield store, None
            finally:
                store.release_lease(TOKENS, owner)

    def _post_form(self, form: dict[str, Any]) -> requests.Response:
        headers = {"secret_key": str(self.config.get("ZALO_APP_SECRET") or "")}
        return self.session.post(self.token_url, data=form, headers=headers, timeout=self.timeout)

    def _save(self, store: TokenStore, access_token: str, refresh_token: str, expires_in: float) -> str:
        """Commit the new pair before anyone uses it, and clear the alert."""
        now = self.clock()
        store.save_tokens(
            TOKENS, access_token=access_token, refresh_token=refresh_token, expires_at=now + expires_in, at=now
        )
        store.set_channel_status(CHANNEL, "ok", "", at=now)
        return access_token

    def _alert(self, store: TokenStore, why: str) -> None:
        store.set_channel_status(CHANNEL, "alert", f"{ALERT_DETAIL} ({why})", at=self.clock())
        logger.error("Zalo OA token refresh failed (%s): re-authorisation needed", why)


def _not_sent(exc: requests.RequestException) -> bool:
    """True when the request never reached the server (connection refused, DNS, connect timeout)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if not isinstance(exc, requests.ConnectionError):
        return False
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def _token_pair(response: requests.Response) -> tuple[str, str, float] | None:
    """(access, refresh, expires_in) from a good answer; None for any error.

    Errors come as ``error``/``error_name``/``error_description``, sometimes with HTTP
    200: a pair is accepted only when both tokens are present.
    """
    try:
        data = response.json()
    except ValueError:
        return None
    if not response.ok or not isinstance(data, dict):
        return None
    access, refresh = data.get("access_token"), data.get("refresh_token")
    if not (isinstance(access, str) and access and isinstance(refresh, str) and refresh):
        return None
    try:
        expires_in = float(data.get("expires_in"))  # a string, "90000"
    except (TypeError, ValueError):
        expires_in = DEFAULT_EXPIRES_IN
    return access, refresh, expires_in


def _describe(response: requests.Response) -> str:
    """A short error description for logs and the alert (never the tokens)."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return f"HTTP {response.status_code}"
    keys = ("error", "error_name", "error_reason", "error_description", "message")
    parts = [str(data[k]) for k in keys if data.get(k) not in (None, "")]
    return f"HTTP {response.status_code}: " + ", ".join(parts)[:200]
