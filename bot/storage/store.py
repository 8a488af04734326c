"""The storage layer: every SQL statement of the app lives here.

One :class:`Store` wraps one SQLite connection (sqlite-utils ``Database``).  A
connection belongs to one thread: web requests get one per request, each worker
thread opens its own.  The database runs in WAL mode so readers never block the
writer, and every write transaction starts with ``BEGIN IMMEDIATE`` so two
writers queue on the lock instead of failing half-way.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from sqlite_utils import Database

from bot.core.models import Event
from bot.storage import migrations
from bot.storage.broadcasts import BroadcastStore
from bot.storage.console import ConsoleStore
from bot.storage.participation import ParticipationStore
from bot.storage.staff import StaffStore

# Outbox states a message can end in; 'uncertain' = the process died mid-send.
FINAL_STATES = ("sent", "failed", "skipped", "uncertain", "cancelled")


_WRITE_LOCKS: dict[str, threading.RLock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def _write_lock(path: str) -> threading.RLock:
    """One lock per database file and process: threads queue here, woken at once,
    instead of in SQLite's busy handler, which sleeps in growing steps."""
    key = os.path.abspath(path) if path != ":memory:" else f":memory:{threading.get_ident()}"
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(key, threading.RLock())


class StoreError(Exception):
    """The database cannot be used."""


def connect(path: str) -> Database:
    """Open the database at ``path`` (creating its folder) with the app's pragmas."""
    if path != ":memory:":
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL mode
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return Database(conn)


class Store(BroadcastStore, ParticipationStore, StaffStore, ConsoleStore):
    """Domain operations over one database connection."""

    def __init__(self, db: Database | str):
        path = db if isinstance(db, str) else (db.conn.execute("PRAGMA database_list").fetchone()[2] or ":memory:")
        self.db = connect(db) if isinstance(db, str) else db
        self._lock = _write_lock(path)
        self._depth = 0

    @classmethod
    def open(cls, path: str, *, migrate: bool = False) -> Store:
        store = cls(path)
        if migrate:
            store.migrate()
        return store

    def migrate(self) -> None:
        migrations.apply(self.db)

    def close(self) -> None:
        self.db.close()

    def rollback_open_transaction(self) -> None:
        """Roll back whatever a failed request left open on this connection."""
        if self.db.conn.in_transaction:
            self.db.conn.rollback()

    # -- transactions ----------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[Store]:
        """A write transaction (``BEGIN IMMEDIATE``); nested calls join the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self
            except BaseException:
                self._depth = 0
                self.db.execute("ROLLBACK")
                raise
            self._depth = 0
            self.db.execute("COMMIT")

    def _write(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        """Run one write statement under the process's write lock."""
        with self._lock:
            return self.db.execute(sql, params)

    def _rows(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        cursor = self.db.execute(sql, params)
        cols = [c[0] for c in cursor.description]
        return [dict(zip(cols, row)) for row in cursor.fetchall()]

    def _row(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> dict[str, Any] | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _value(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> Any:
        row = self.db.execute(sql, params).fetchone()
        return row[0] if row else None

    def ping(self) -> None:
        """Raise StoreError unless the database answers a read and has its schema."""
        try:
            self.db.execute("SELECT count(*) FROM members").fetchone()
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc

    # -- members ---------------------------------------------------------------
    def get_member(self, member_id: int) -> dict[str, Any] | None:
        return self._row("SELECT * FROM members WHERE id = ?", [member_id])

    def find_member(self, channel: str, platform_id: str) -> dict[str, Any] | None:
        return self._row(
            "SELECT * FROM members WHERE channel = ? AND platform_id = ?", [channel, platform_id]
        )

    def touch_member(
        self, channel: str, platform_id: str, *, at: float, inbound: bool = True, display_name: str = ""
    ) -> tuple[dict[str, Any], bool]:
        """Get or create the member; record an inbound message time. Returns (member, created)."""
        with self.transaction():
            member = self.find_member(channel, platform_id)
            created = member is None
            if created:
                self._write(
                    "INSERT INTO members (channel, platform_id, display_name, first_seen_at, last_inbound_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [channel, platform_id, display_name, at, at if inbound else None],
                )
            elif inbound:
                # max(): events can arrive out of order; the window follows the newest message
                self._write(
                    "UPDATE members SET last_inbound_at = max(coalesce(last_inbound_at, 0), ?),"
                    " display_name = CASE WHEN ? != '' THEN ? ELSE display_name END,"
                    " status = CASE WHEN status = 'blocked' THEN 'active' ELSE status END"
                    " WHERE channel = ? AND platform_id = ?",
                    [at, display_name, display_name, channel, platform_id],
                )
            member = self.find_member(channel, platform_id)
            assert member is not None
        return member, created

    def set_subscribed(self, member_id: int, subscribed: bool) -> None:
        self._write("UPDATE members SET subscribed = ? WHERE id = ?", [int(subscribed), member_id])

    def set_member_status(self, member_id: int, status: str, reason: str | None = None) -> None:
        """active | blocked | unfollowed, with the platform's reason (error code)."""
        self._write(
            "UPDATE members SET status = ?, status_reason = ? WHERE id = ?", [status, reason, member_id]
        )

    def mark_unreachable(self, channel: str, platform_id: str, status: str, reason: str) -> None:
        self._write(
            "UPDATE members SET status = ?, status_reason = ? WHERE channel = ? AND platform_id = ?",
            [status, reason, channel, platform_id],
        )

    def count_members(self) -> int:
        return int(self._value("SELECT count(*) FROM members"))

    # -- groups ----------------------------------------------------------------
    def touch_group(self, channel: str, group_id: str, *, at: float) -> dict[str, Any]:
        with self.transaction():
            self._write(
                "INSERT INTO groups (channel, group_id, first_seen_at, last_inbound_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (channel, group_id) DO UPDATE SET last_inbound_at = excluded.last_inbound_at",
                [channel, group_id, at, at],
            )
            row = self._row("SELECT * FROM groups WHERE channel = ? AND group_id = ?", [channel, group_id])
        assert row is not None
        return row


    # -- inbox -----------------------------------------------------------------
    def add_inbound(self, events: list[tuple[Event, dict[str, Any]]], *, at: float) -> list[int]:
        """Persist parsed events with their raw items; duplicates (same key) are ignored.

        Returns the ids of the rows that were new.
        """
        new_ids: list[int] = []
        with self.transaction():
            for event, raw in events:
                cursor = self._write(
                    "INSERT INTO inbox (channel, event_key, received_at, event, raw) VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT (channel, event_key) DO NOTHING",
                    [
                        event.channel,
                        event.event_key,
                        at,
                        json.dumps(event.to_dict(), ensure_ascii=False),
                        json.dumps(raw, ensure_ascii=False),
                    ],
                )
                if cursor.rowcount:
                    new_ids.append(int(cursor.lastrowid))
        return new_ids

    def pending_inbound(self, limit: int = 100, after_id: int = 0) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT id, channel, event FROM inbox WHERE status = 'pending' AND id > ? ORDER BY id LIMIT ?",
            [after_id, limit],
        )

    def claim_inbound(self, inbox_id: int) -> bool:
        """Inside the processing transaction: True if this row was still pending."""
        cursor = self._write(
            "UPDATE inbox SET status = 'processing' WHERE id = ? AND status = 'pending'", [inbox_id]
        )
        return bool(cursor.rowcount)

    def finish_inbound(self, inbox_id: int, *, at: float, error: str | None = None) -> None:
        self._write(
            "UPDATE inbox SET status = ?, processed_at = ?, error = ? WHERE id = ?",
            ["failed" if error else "done", at, error, inbox_id],
        )

    def inbox_counts(self) -> dict[str, int]:
        return {r["status"]: r["n"] for r in self._rows("SELECT status, count(*) AS n FROM inbox GROUP BY status")}

    # -- outbox ----------------------------------------------------------------
    def enqueue(
        self,
        *,
        channel: str,
        recipient: str,
        messages: list[dict[str, Any]],
        at: float,
        is_group: bool = False,
        member_id: int | None = None,
        kind: str = "reply",
        messaging_type: str = "RESPONSE",
        inbox_id: int | None = None,
    ) -> list[int]:
        """Queue rendered messages for one recipient, in order."""
        ids = []
        with self.transaction():
            for part, message in enumerate(messages):
                cursor = self._write(
                    "INSERT INTO outbox (channel, recipient, is_group, member_id, kind, part, message,"
                    " messaging_type, inbox_id, created_at, next_attempt_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        channel,
                        recipient,
                        int(is_group),
                        member_id,
                        kind,
                        part,
                        json.dumps(message, ensure_ascii=False),
                        messaging_type,
                        inbox_id,
                        at,
                        at,
                    ],
                )
                ids.append(int(cursor.lastrowid))
        return ids

    def claim_outbound(self, channel: str, *, now: float, broadcasts: bool = True) -> dict[str, Any] | None:
        """Take the next due message of ``channel`` and mark it 'sending'.

        A recipient's messages leave in order: a message is not due while an earlier
        one to the same recipient is still pending or in flight.  ``broadcasts=False``
        (quiet hours) leaves broadcast messages waiting; replies still go.
        """
        with self.transaction():
            row = self._row(
                "SELECT o.* FROM outbox o WHERE o.channel = ? AND o.status = 'pending'"
                " AND o.next_attempt_at <= ?"
                + ("" if broadcasts else " AND o.kind != 'broadcast'")
                # parts of one reply (or of one broadcast run) leave in order; a paused
                # broadcast never holds up a reply
                + " AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.channel = o.channel"
                "   AND p.recipient = o.recipient AND p.status IN ('pending', 'sending')"
                "   AND coalesce(p.run_id, 0) = coalesce(o.run_id, 0) AND p.id < o.id)"
                " ORDER BY o.next_attempt_at, o.id LIMIT 1",
                [channel, now],
            )
            if row is None:
                return None
            self._write(
                "UPDATE outbox SET status = 'sending', claimed_at = ?, attempts = attempts + 1 WHERE id = ?",
                [now, row["id"]],
            )
        row["attempts"] += 1
        row["status"] = "sending"
        return row

    def next_due_at(self, channel: str) -> float | None:
        """When the earliest pending message of ``channel`` becomes due."""
        return self._value(
            "SELECT min(next_attempt_at) FROM outbox WHERE channel = ? AND status = 'pending'", [channel]
        )

    def mark_sent(self, outbox_id: int, *, platform_message_id: str | None, at: float) -> None:
        self._write(
            "UPDATE outbox SET status = 'sent', platform_message_id = ?, finished_at = ?,"
            " error_code = NULL, error_subcode = NULL, error_message = NULL WHERE id = ?",
            [platform_message_id, at, outbox_id],
        )

    def mark_retry(
        self, outbox_id: int, *, at: float, next_attempt_at: float, code: str, subcode: str | None, message: str
    ) -> None:
        # a broadcast paused or cancelled while this send was in flight keeps its state:
        # the retry waits for Resume, or never happens
        self._write(
            "UPDATE outbox SET status = CASE"
            "   (SELECT state FROM broadcast_runs r WHERE r.id = outbox.run_id)"
            "   WHEN 'paused' THEN 'paused' WHEN 'cancelled' THEN 'cancelled' ELSE 'pending' END,"
            " next_attempt_at = ?, error_code = ?, error_subcode = ?, error_message = ?"
            " WHERE id = ? AND status = 'sending'",
            [next_attempt_at, code, subcode, message[:500], outbox_id],
        )

    def mark_failed(
        self,
        outbox_id: int,
        *,
        at: float,
        code: str,
        subcode: str | None,
        message: str,
        reason: str | None,
        status: str = "failed",
    ) -> None:
        """End a message as failed (or skipped) with the platform's code and a reason."""
        self._write(
            "UPDATE outbox SET status = ?, finished_at = ?, error_code = ?, error_subcode = ?,"
            " error_message = ?, reason = ? WHERE id = ?",
            [status, at, code, subcode, message[:500], reason, outbox_id],
        )

    def recover_in_flight(self, *, at: float) -> int:
        """At start: messages left 'sending' by a dead process become 'uncertain'.

        Neither platform takes an idempotency key, so such a message may or may not
        have reached the member. It is not retried automatically (that could send it
        twice); staff see it in the reports and can requeue it.
        """
        cursor = self._write(
            "UPDATE outbox SET status = 'uncertain', finished_at = ?, reason = 'in_flight_at_crash'"
            " WHERE status = 'sending'",
            [at],
        )
        return cursor.rowcount

    def requeue_uncertain(self, outbox_ids: list[int] | None = None, *, at: float) -> int:
        """Staff decision: send 'uncertain' messages again."""
        sql = "UPDATE outbox SET status = 'pending', next_attempt_at = ?, reason = NULL WHERE status = 'uncertain'"
        params: list[Any] = [at]
        if outbox_ids is not None:
            sql += f" AND id IN ({','.join('?' * len(outbox_ids))})"
            params += outbox_ids
        return self._write(sql, params).rowcount

    def get_outbound(self, outbox_id: int) -> dict[str, Any] | None:
        return self._row("SELECT * FROM outbox WHERE id = ?", [outbox_id])

    def outbound_for(self, channel: str, recipient: str) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT * FROM outbox WHERE channel = ? AND recipient = ? ORDER BY id", [channel, recipient]
        )

    def mark_delivery(self, channel: str, mids: list[str], *, at: float, read: bool = False) -> int:
        """Delivery/read receipt for messages by platform id."""
        if not mids:
            return 0
        column = "read_at" if read else "delivered_at"
        sql = (
            f"UPDATE outbox SET {column} = coalesce({column}, ?) WHERE channel = ?"
            f" AND platform_message_id IN ({','.join('?' * len(mids))})"
        )
        return self._write(sql, [at, channel, *mids]).rowcount

    def mark_watermark(self, channel: str, recipient: str, watermark: float, *, at: float, read: bool) -> int:
        """Messenger receipts: everything sent to ``recipient`` before ``watermark`` is delivered/read."""
        column = "read_at" if read else "delivered_at"
        sql = (
            f"UPDATE outbox SET {column} = coalesce({column}, ?) WHERE channel = ? AND recipient = ?"
            f" AND status = 'sent' AND finished_at <= ? AND {column} IS NULL"
        )
        return self._write(sql, [at, channel, recipient, watermark]).rowcount

    def outbox_backlog(self) -> dict[str, int]:
        rows = self._rows(
            "SELECT channel, count(*) AS n FROM outbox WHERE status IN ('pending', 'sending') GROUP BY channel"
        )
        return {r["channel"]: r["n"] for r in rows}

    def outbox_counts(self) -> dict[str, int]:
        return {r["status"]: r["n"] for r in self._rows("SELECT status, count(*) AS n FROM outbox GROUP BY status")}

    # -- conversations ---------------------------------------------------------
    def get_conversation(self, member_id: int) -> dict[str, Any]:
        row = self._row("SELECT * FROM conversations WHERE member_id = ?", [member_id])
        if row is None:
            return {"member_id": member_id, "flow": None, "state": {}, "choices": [], "expires_at": None}
        row["state"] = json.loads(row["state"])
        row["choices"] = json.loads(row["choices"])
        return row

    def save_conversation(
        self,
        member_id: int,
        *,
        at: float,
        flow: str | None = None,
        state: dict[str, Any] | None = None,
        choices: list[dict[str, str]] | None = None,
        expires_at: float | None = None,
    ) -> None:
        self._write(
            "INSERT INTO conversations (member_id, flow, state, choices, updated_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (member_id) DO UPDATE SET flow = excluded.flow,"
            " state = excluded.state, choices = excluded.choices, updated_at = excluded.updated_at,"
            " expires_at = excluded.expires_at",
            [
                member_id,
                flow,
                json.dumps(state or {}, ensure_ascii=False),
                json.dumps(choices or [], ensure_ascii=False),
                at,
                expires_at,
            ],
        )

    # -- questions -------------------------------------------------------------
    def log_question(
        self,
        *,
        member_id: int | None,
        channel: str,
        text: str,
        at: float,
        decision: str,
        entry_id: str | None,
        score: float,
        candidates: list[dict[str, Any]],
    ) -> int:
        cursor = self._write(
            "INSERT INTO questions (member_id, channel, text, asked_at, decision, entry_id, score, candidates)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [member_id, channel, text, at, decision, entry_id, score, json.dumps(candidates, ensure_ascii=False)],
        )
        return int(cursor.lastrowid)

    def unanswered_questions(self, *, status: str = "new", limit: int = 1000) -> list[dict[str, Any]]:
        rows = self._rows(
            "SELECT * FROM questions WHERE decision != 'answer' AND review_status = ?"
            " ORDER BY asked_at DESC LIMIT ?",
            [status, limit],
        )
        for row in rows:
            row["candidates"] = json.loads(row["candidates"])
        return rows

    def set_question_review(self, question_id: int, status: str) -> None:
        self._write("UPDATE questions SET review_status = ? WHERE id = ?", [status, question_id])

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

    # -- channel status --------------------------------------------------------
    def set_channel_status(self, channel: str, state: str, detail: str = "", *, at: float) -> None:
        self._write(
            "INSERT INTO channel_status (channel, state, detail, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (channel) DO UPDATE SET state = excluded.state, detail = excluded.detail,"
            " updated_at = excluded.updated_at",
            [channel, state, detail, at],
        )

    def channel_statuses(self) -> dict[str, dict[str, Any]]:
        return {r["channel"]: r for r in self._rows("SELECT * FROM channel_status")}

    # -- added for the dispatcher ---------------------------------------------
    def is_own_message(self, channel: str, platform_message_id: str) -> bool:
        """True if the bot sent the message with this platform id (a reply to the bot)."""
        return (
            self._value(
                "SELECT 1 FROM outbox WHERE channel = ? AND platform_message_id = ? LIMIT 1",
                [channel, platform_message_id],
            )
            is not None
        )

    def count_recent_outbound(self, channel: str, recipient: str, *, since: float) -> int:
        """Messages queued to ``recipient`` since ``since`` (group rate limit)."""
        return int(
            self._value(
                "SELECT count(*) FROM outbox WHERE channel = ? AND recipient = ? AND created_at >= ? AND part = 0",
                [channel, recipient, since],
            )
        )

    def outbound_after(self, channel: str, recipient: str, after_id: int) -> list[dict[str, Any]]:
        """Messages to ``recipient`` newer than ``after_id`` that have left (simulator)."""
        return self._rows(
            "SELECT id, message, status FROM outbox WHERE channel = ? AND recipient = ? AND id > ?"
            " AND status IN ('sent', 'failed', 'skipped') ORDER BY id",
            [channel, recipient, after_id],
        )

    def last_outbound_id(self) -> int:
        return int(self._value("SELECT coalesce(max(id), 0) FROM outbox"))
