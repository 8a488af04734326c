"""Platform tokens, leases and channel status (storage layer, mixed into Store)."""

from __future__ import annotations

from typing import Any

# take or renew the worker lease ``name`` for ``owner`` (keeps acquired_at while the owner stays):
# parameters name, owner, now, now, now + ttl
LEASE_UPSERT = (
    "INSERT INTO worker_leases (name, owner, acquired_at, heartbeat_at, expires_at) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, acquired_at = CASE WHEN"
    " worker_leases.owner = excluded.owner THEN worker_leases.acquired_at ELSE excluded.acquired_at END,"
    " heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at"
)


class TokenStore:
    """Methods of Store for the Zalo OA tokens, their refresh lease and each channel's status."""

    db: Any
    _rows: Any
    _row: Any
    _value: Any
    _write: Any
    _lock: Any
    transaction: Any

    # -- tokens ----------------------------------------------------------------
    def get_tokens(self, name: str) -> dict[str, Any] | None:
        return self._row("SELECT * FROM tokens WHERE name = ?", [name])

    def seed_tokens(self, name: str, *, access_token: str, refresh_token: str, expires_at: float, at: float) -> bool:
        """Store the initial pair from the environment, only if the database holds none."""
        cursor = self._write(
            "INSERT INTO tokens (name, access_token, refresh_token, expires_at, refreshed_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
            [name, access_token or None, refresh_token or None, expires_at, at],
        )
        return bool(cursor.rowcount)

    def save_tokens(self, name: str, *, access_token: str, refresh_token: str, expires_at: float, at: float) -> None:
        """Commit a new token pair (the old refresh token is spent) and release the lease."""
        self._write(
            "INSERT INTO tokens (name, access_token, refresh_token, expires_at, refreshed_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET access_token = excluded.access_token,"
            " refresh_token = excluded.refresh_token, expires_at = excluded.expires_at,"
            " refreshed_at = excluded.refreshed_at, lease_owner = NULL, lease_until = NULL",
            [name, access_token, refresh_token, expires_at, at],
        )

    def spend_refresh_token(self, name: str, refresh_token: str) -> bool:
        """Forget a refresh token before it is sent (single use): never send it twice.

        Returns False if the stored token is not ``refresh_token`` any more.
        """
        cursor = self._write(
            "UPDATE tokens SET refresh_token = NULL WHERE name = ? AND refresh_token = ?", [name, refresh_token]
        )
        return bool(cursor.rowcount)

    def acquire_lease(self, name: str, owner: str, *, now: float, ttl: float) -> bool:
        """A cross-process lock on a token row: True if ``owner`` now holds it."""
        cursor = self._write(
            "UPDATE tokens SET lease_owner = ?, lease_until = ? WHERE name = ?"
            " AND (lease_owner IS NULL OR lease_until < ? OR lease_owner = ?)",
            [owner, now + ttl, name, now, owner],
        )
        return bool(cursor.rowcount)

    def release_lease(self, name: str, owner: str) -> None:
        self._write(
            "UPDATE tokens SET lease_owner = NULL, lease_until = NULL WHERE name = ? AND lease_owner = ?",
            [name, owner],
        )

    # -- worker leases ---------------------------------------------------------
    def acquire_worker_lease(self, name: str, owner: str, *, now: float, ttl: float) -> dict[str, Any] | None:
        """Take (or renew) the lease ``name`` for ``owner``; None if so, else the live holder's row."""
        with self.transaction():
            row = self._row("SELECT * FROM worker_leases WHERE name = ?", [name])
            if row is not None and row["owner"] != owner and row["expires_at"] > now:
                return row
            self._write(LEASE_UPSERT, [name, owner, now, now, now + ttl])
        return None

    def renew_worker_lease(self, name: str, owner: str, *, now: float, ttl: float) -> bool:
        """Heartbeat: False if ``owner`` lost the lease (it expired and another process took it)."""
        cursor = self._write(
            "UPDATE worker_leases SET heartbeat_at = ?, expires_at = ? WHERE name = ? AND owner = ?",
            [now, now + ttl, name, owner],
        )
        return bool(cursor.rowcount)

    def release_worker_lease(self, name: str, owner: str) -> None:
        self._write("DELETE FROM worker_leases WHERE name = ? AND owner = ?", [name, owner])

    # -- channel status --------------------------------------------------------
    def set_channel_status(self, channel: str, state: str, detail: str = "", *, at: float) -> None:
        self._write(
            "INSERT INTO channel_status (channel, state, detail, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (channel) DO UPDATE SET state = excluded.state, detail = excluded.detail,"
            " updated_at = excluded.updated_at",
            [channel, state, detail, at],
        )

    def channel_auth_alert(self, channel: str) -> float | None:
        """When the channel's token was last refused (an open 'token_invalid' alert), or None."""
        return self._value(
            "SELECT updated_at FROM channel_status WHERE channel = ? AND state = 'alert'"
            " AND detail LIKE 'token_invalid%'",
            [channel],
        )

    def channel_statuses(self) -> dict[str, dict[str, Any]]:
        return {r["channel"]: r for r in self._rows("SELECT * FROM channel_status")}
