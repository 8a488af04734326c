"""Broadcast SQL (a part of the storage layer, mixed into Store)."""

from __future__ import annotations

import json
from typing import Any

# Channels a broadcast can reach (the simulator and console are local test channels).
BROADCAST_CHANNELS = ("messenger", "zalo", "zalo_bot")


class AudienceError(ValueError):
    """An audience expression we cannot read."""


def audience_filter(audience: str) -> tuple[str, list[Any]]:
    """SQL condition over ``members m`` for an audience expression (not for groups)."""
    kind, _, value = audience.partition(":")
    placeholders = ",".join("?" * len(BROADCAST_CHANNELS))
    base = f"m.channel IN ({placeholders})"
    params: list[Any] = list(BROADCAST_CHANNELS)
    if kind == "all" and not value:
        return base, params
    if not value:
        raise AudienceError(f"thiếu giá trị sau '{kind}:'")
    if kind == "channel":
        if value not in BROADCAST_CHANNELS:
            raise AudienceError(f"kênh không có: {value} (có: {', '.join(BROADCAST_CHANNELS)})")
        return base + " AND m.channel = ?", params + [value]
    if kind == "unit":
        # a unit includes its sub-units: codes are paths such as CT.PHULOI.CH01
        return base + " AND (m.unit_code = ? OR m.unit_code LIKE ? ESCAPE '\\')", params + [
            value,
            value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ".%",
        ]
    if kind == "tag":
        return base + " AND EXISTS (SELECT 1 FROM json_each(m.tags) t WHERE t.value = ?)", params + [value]
    if kind == "contest":
        return base + " AND EXISTS (SELECT 1 FROM participations p WHERE p.member_id = m.id AND p.contest_id = ?)", params + [value]
    raise AudienceError(f"không hiểu đối tượng nhận: {audience}")


class BroadcastStore:
    """Methods of Store for broadcasts, runs and their outbox rows."""

    # provided by Store
    db: Any
    _rows: Any
    _row: Any
    _value: Any
    transaction: Any
    _write: Any
    _for_update: str

    # -- broadcasts --------------------------------------------------------------
    def create_broadcast(self, data: dict[str, Any], *, at: float) -> int:
        cursor = self._write(
            "INSERT INTO broadcasts (text, image_url, link_title, link_url, audience, schedule, run_at, cron, until,"
            " state, next_fire_at, created_at, created_by, updated_at)"
            " VALUES (:text, :image_url, :link_title, :link_url, :audience, :schedule, :run_at, :cron, :until,"
            " :state, :next_fire_at, :at, :created_by, :at)",
            {
                "image_url": None, "link_title": None, "link_url": None, "run_at": None, "cron": None,
                "until": None, "created_by": "", **data, "at": at,
            },
        )
        return int(cursor.lastrowid)

    def get_broadcast(self, broadcast_id: int, *, lock: bool = False) -> dict[str, Any] | None:
        """``lock``: inside a transaction, hold the row until it ends (pause, resume, cancel)."""
        return self._row("SELECT * FROM broadcasts WHERE id = ?" + (self._for_update if lock else ""), [broadcast_id])

    def list_broadcasts(self) -> list[dict[str, Any]]:
        return self._rows("SELECT * FROM broadcasts ORDER BY id DESC")

    def due_broadcasts(self, now: float) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT * FROM broadcasts WHERE state IN ('scheduled', 'sending') AND next_fire_at IS NOT NULL"
            " AND next_fire_at <= ? ORDER BY next_fire_at",
            [now],
        )

    def scheduled_broadcasts(self) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT * FROM broadcasts WHERE state IN ('scheduled', 'sending') AND next_fire_at IS NOT NULL"
        )

    def update_broadcast(self, broadcast_id: int, *, at: float, **fields: Any) -> None:
        sets = ", ".join(f"{name} = :{name}" for name in fields)
        self._write(
            f"UPDATE broadcasts SET {sets}, updated_at = :at WHERE id = :id", {**fields, "at": at, "id": broadcast_id}
        )

    # -- runs ----------------------------------------------------------------------
    def add_run(self, broadcast_id: int, scheduled_for: float, *, state: str, at: float, note: str = "") -> int | None:
        """Record a run; None if that fire time already has one (never twice)."""
        cursor = self._write(
            "INSERT INTO broadcast_runs (broadcast_id, scheduled_for, state, created_at, note) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (broadcast_id, scheduled_for) DO NOTHING",
            [broadcast_id, scheduled_for, state, at, note],
        )
        return int(cursor.lastrowid) if cursor.rowcount else None

    def get_run(self, run_id: int, *, lock: bool = False) -> dict[str, Any] | None:
        """``lock``: inside a transaction, hold the row until it ends (start, expand, finish)."""
        return self._row("SELECT * FROM broadcast_runs WHERE id = ?" + (self._for_update if lock else ""), [run_id])

    def runs_of(self, broadcast_id: int) -> list[dict[str, Any]]:
        return self._rows("SELECT * FROM broadcast_runs WHERE broadcast_id = ? ORDER BY scheduled_for", [broadcast_id])

    def runs_in_state(self, *states: str) -> list[dict[str, Any]]:
        return self._rows(
            f"SELECT * FROM broadcast_runs WHERE state IN ({','.join('?' * len(states))}) ORDER BY id", list(states)
        )

    def set_run_state(self, run_id: int, state: str, *, at: float, **fields: Any) -> None:
        extra = "".join(f", {name} = :{name}" for name in fields)
        self._write(
            f"UPDATE broadcast_runs SET state = :state{extra} WHERE id = :id", {**fields, "state": state, "id": run_id}
        )

    def save_run_parts(self, run_id: int, parts: list[tuple[str, int, dict[str, Any], str]]) -> None:
        for channel, part, message, messaging_type in parts:
            self._write(
                "INSERT INTO broadcast_parts (run_id, channel, part, message, messaging_type) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                [run_id, channel, part, json.dumps(message, ensure_ascii=False), messaging_type],
            )

    def run_part(self, run_id: int, channel: str, part: int) -> dict[str, Any] | None:
        return self._row(
            "SELECT message, messaging_type FROM broadcast_parts WHERE run_id = ? AND channel = ? AND part = ?",
            [run_id, channel, part],
        )

    def expand_run(self, run_id: int, audience: str, *, at: float) -> int:
        """Insert one outbox row per (member, part) of the run's audience; idempotent.

        One statement (tests, small audiences); the scheduler uses :meth:`expand_run_chunk`.
        """
        total = 0
        cursor: int | None = None
        while True:
            inserted, cursor, more = self.expand_run_chunk(run_id, audience, after=cursor, limit=1_000_000_000, at=at)
            total += inserted
            if not more:
                return total

    def expand_run_chunk(
        self, run_id: int, audience: str, *, after: int | None, limit: int, at: float, status: str = "pending"
    ) -> tuple[int, int | None, bool]:
        """Expand the next ``limit`` members (ids above ``after``) of a run; idempotent.

        Returns (rows inserted, the new cursor, whether members are left).  Each call
        is one short write: a 100,000-member audience never holds the lock for long.
        """
        kind, _, value = audience.partition(":")
        if kind == "group":
            cursor = self._write(
                "INSERT INTO outbox (channel, recipient, is_group, member_id, kind, priority, run_id, part, message,"
                " messaging_type, created_at, next_attempt_at, status)"
                " SELECT g.channel, g.group_id, 1, NULL, 'broadcast', 1, p.run_id, p.part, '', p.messaging_type, ?, 0, ?"
                " FROM groups g JOIN broadcast_parts p ON p.run_id = ? AND p.channel = g.channel"
                " WHERE g.group_id = ? AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.run_id = p.run_id"
                " AND o.recipient = g.group_id AND o.part = p.part)",
                [at, status, run_id, value],
            )
            return cursor.rowcount, None, False
        condition, params = audience_filter(audience)
        start = -1 if after is None else after
        chunk = (
            f"SELECT m.id FROM members m WHERE ({condition}) AND m.id > ?"
            " ORDER BY m.id LIMIT ?"
        )
        last = self._value(f"SELECT max(id) FROM ({chunk}) AS chunk", [*params, start, limit])
        if last is None:
            return 0, after, False
        cursor = self._write(
            "INSERT INTO outbox (channel, recipient, is_group, member_id, kind, priority, run_id, part, message,"
            " messaging_type, created_at, next_attempt_at, status)"
            " SELECT m.channel, m.platform_id, 0, m.id, 'broadcast', 1, p.run_id, p.part, '', p.messaging_type, ?, 0, ?"
            " FROM members m JOIN broadcast_parts p ON p.run_id = ? AND p.channel = m.channel"
            f" WHERE ({condition}) AND m.id > ? AND m.id <= ?"
            " ORDER BY m.id, p.part"
            " ON CONFLICT DO NOTHING",
            [at, status, run_id, *params, start, last],
        )
        more = self._value(
            f"SELECT 1 FROM members m WHERE ({condition}) AND m.id > ? LIMIT 1", [*params, last]
        ) is not None
        return cursor.rowcount, int(last), more

    def runs_to_expand(self) -> list[dict[str, Any]]:
        """Runs waiting to start, and started runs whose expansion was interrupted."""
        return self._rows(
            "SELECT * FROM broadcast_runs WHERE state = 'pending'"
            " OR (state IN ('sending', 'paused') AND started_at IS NOT NULL AND expanded_at IS NULL) ORDER BY id"
        )

    def audience_members(self, audience: str) -> list[dict[str, Any]]:
        """Members an audience reaches now (dry run): the fields the send rules need."""
        condition, params = audience_filter(audience)
        return self._rows(
            f"SELECT m.id, m.channel, m.subscribed, m.status, m.last_inbound_at FROM members m WHERE {condition}",
            params,
        )

    def find_group(self, group_id: str) -> dict[str, Any] | None:
        return self._row("SELECT * FROM groups WHERE group_id = ?", [group_id])

    def set_run_rows(self, run_id: int, from_states: tuple[str, ...], to_state: str, *, at: float) -> int:
        """Pause, resume or cancel the undelivered messages of a run."""
        cursor = self._write(
            f"UPDATE outbox SET status = ?, finished_at = CASE WHEN ? = 'cancelled' THEN ? ELSE finished_at END"
            f" WHERE run_id = ? AND status IN ({','.join('?' * len(from_states))})",
            [to_state, to_state, at, run_id, *from_states],
        )
        return cursor.rowcount

    def run_open_rows(self, run_id: int) -> int:
        return int(
            self._value(
                "SELECT count(*) FROM outbox WHERE run_id = ? AND status IN ('pending', 'sending', 'paused')", [run_id]
            )
        )

    def run_counts(self, run_ids: list[int]) -> list[dict[str, Any]]:
        """Per status and reason, counting recipients (the first part of each message), with how
        many of them the platform reported delivered and read."""
        if not run_ids:
            return []
        return self._rows(
            "SELECT status, coalesce(reason, '') AS reason, channel, count(*) AS n,"
            " sum(CASE WHEN delivered_at IS NOT NULL OR read_at IS NOT NULL THEN 1 ELSE 0 END) AS delivered,"
            " sum(CASE WHEN read_at IS NOT NULL THEN 1 ELSE 0 END) AS read FROM outbox"
            f" WHERE run_id IN ({','.join('?' * len(run_ids))}) AND part = 0 GROUP BY status, reason, channel",
            run_ids,
        )

    def run_failures(self, run_ids: list[int], limit: int = 200) -> list[dict[str, Any]]:
        """Who was not reached and why (for the staff report)."""
        if not run_ids:
            return []
        return self._rows(
            "SELECT o.id, o.channel, o.recipient, o.member_id, o.status, o.reason, o.error_code, o.error_subcode"
            f" FROM outbox o WHERE o.run_id IN ({','.join('?' * len(run_ids))}) AND o.part = 0"
            " AND o.status IN ('failed', 'skipped', 'uncertain') ORDER BY o.id LIMIT ?",
            [*run_ids, limit],
        )
