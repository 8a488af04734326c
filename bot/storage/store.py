"""The storage layer: every SQL statement of the app lives here.

One :class:`Store` wraps one database connection: SQLite (sqlite-utils ``Database``),
the default, or PostgreSQL when the target is a ``postgresql://`` URL (``DATABASE_URL``;
bot.storage.dialect translates the few differences).  A connection belongs to one
thread: web requests get one per request, each worker thread opens its own.  SQLite runs
in WAL mode so readers never block the writer, and every write transaction starts with
``BEGIN IMMEDIATE`` so two writers queue on the lock instead of failing half-way.  On
PostgreSQL writers run concurrently (READ COMMITTED); what relied on SQLite's single
writer takes row locks or an upsert instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

from sqlite_utils import Database

from bot.storage import migrations
from bot.storage.broadcasts import BroadcastStore
from bot.storage.console import ConsoleStore, unit_condition
from bot.storage.content import ContentStore
from bot.storage.coordination import CoordinationStore
from bot.storage.delivery import DeliveryStore
from bot.storage.dialect import (
    INBOX_CHANNEL,
    OUTBOX_CHANNEL,
    PgDatabase,
    PgListener,
    is_postgres,
)
from bot.storage.files import PRIVATE_FILE, make_private, tighten
from bot.storage.handoff import HandoffStore
from bot.storage.member_activity import MemberActivityStore
from bot.storage.participation import ParticipationStore
from bot.storage.posts import PostStore
from bot.storage.privacy import PrivacyStore
from bot.storage.queues import QueueStore
from bot.storage.rates import RateStore
from bot.storage.reports import NOT_TEST
from bot.storage.review import ReviewStore
from bot.storage.staff import StaffStore
from bot.storage.tokens import TokenStore

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


def _set_wal(conn: sqlite3.Connection, attempts: int = 100) -> None:
    """Switch a new database to WAL.  The switch needs the file to itself and SQLite may
    answer "database is locked" at once, without waiting, while another process opens the
    same new file: try again for a few seconds (once set, WAL stays with the file)."""
    for attempt in range(attempts):
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05)


def connect(path: str) -> Database:
    """Open the database at ``path`` (creating its folder) with the app's pragmas."""
    if path != ":memory:":
        make_private(path)
    conn = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
    _set_wal(conn)
    conn.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL mode
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA secure_delete=ON")  # erased text is overwritten in the file, not left in free pages
    if path != ":memory:":
        for name in (path + "-wal", path + "-shm"):
            tighten(name, PRIVATE_FILE)
    return Database(conn)


class Store(
    QueueStore, DeliveryStore, TokenStore, BroadcastStore, ParticipationStore, StaffStore, ConsoleStore,
    HandoffStore, PrivacyStore, PostStore, ReviewStore, RateStore, MemberActivityStore, ContentStore,
    CoordinationStore,
):
    """Domain operations over one database connection."""

    def __init__(self, db: Database | str):
        self.postgres = isinstance(db, str) and is_postgres(db)
        if self.postgres:
            assert isinstance(db, str)
            self.path = db  # the database URL
            self.db: Any = PgDatabase(db)
            # no process-wide write lock: PostgreSQL's row locks order concurrent writers
            self._lock: Any = contextlib.nullcontext()
            self._for_update = " FOR UPDATE"  # a row lock where SQLite's single writer sufficed
            self._depth = 0
            return
        path = db if isinstance(db, str) else (db.conn.execute("PRAGMA database_list").fetchone()[2] or ":memory:")
        self.path = path  # the database file (":memory:" for an in-memory one)
        self.db = connect(db) if isinstance(db, str) else db
        self._lock = _write_lock(path)
        self._for_update = ""  # BEGIN IMMEDIATE already serializes every writer
        self._depth = 0

    @classmethod
    def open(cls, path: str, *, migrate: bool = False) -> Store:
        store = cls(path)
        if migrate:
            store.migrate()
        return store

    def migrate(self) -> int:
        """Apply pending migrations; returns how many ran."""
        return migrations.apply(self.db)

    def close(self) -> None:
        self.db.close()

    def inbox_listener(self, on_notify: Any, stop: threading.Event) -> PgListener | None:
        """PostgreSQL: a listener that calls ``on_notify(payload)`` when any process commits new
        inbound events (run it in a thread).  SQLite: None (the worker polls; one host anyway)."""
        return PgListener(self.path, INBOX_CHANNEL, on_notify, stop) if self.postgres else None

    def outbox_listener(self, on_notify: Any, stop: threading.Event) -> PgListener | None:
        """PostgreSQL: ``on_notify(channel)`` when any process queues messages for ``channel``."""
        return PgListener(self.path, OUTBOX_CHANNEL, on_notify, stop) if self.postgres else None

    @property
    def in_transaction(self) -> bool:
        """True while a transaction is open on this connection."""
        return bool(self.db.in_transaction if self.postgres else self.db.conn.in_transaction)

    def rollback_open_transaction(self) -> None:
        """Roll back whatever a failed request left open on this connection."""
        if self.postgres:
            if self.db.in_transaction:
                self.db.rollback()
            self._depth = 0
        elif self.db.conn.in_transaction:
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
            self.db.execute("BEGIN" if self.postgres else "BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self
            except BaseException:
                self._depth = 0
                self.db.execute("ROLLBACK")
                raise
            self._depth = 0
            self.db.execute("COMMIT")

    def _write(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> Any:
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
        except Exception as exc:  # sqlite3.Error, psycopg.Error
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
        """Get or create the member; record an inbound message time. Returns (member, created).

        A member who wrote before (nearly every event) costs one statement: the update
        returns her row."""
        with self.transaction():
            member = self._touch_existing(channel, platform_id, at=at, inbound=inbound, display_name=display_name)
            if member is not None:
                return member, False
            # insert-or-nothing: two processes meeting a new member never race (no
            # select-then-insert); the loser of the race sees the winner's row
            member = self._row(
                "INSERT INTO members (channel, platform_id, display_name, first_seen_at, last_inbound_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel, platform_id) DO NOTHING RETURNING *",
                [channel, platform_id, display_name, at, at if inbound else None],
            )
            if member is not None:
                return member, True
            member = self._touch_existing(channel, platform_id, at=at, inbound=inbound, display_name=display_name)
            assert member is not None
        return member, False

    def _touch_existing(
        self, channel: str, platform_id: str, *, at: float, inbound: bool, display_name: str
    ) -> dict[str, Any] | None:
        if not inbound:
            return self.find_member(channel, platform_id)
        return self._row(
            # the newest time wins: events can arrive out of order
            "UPDATE members SET last_inbound_at = CASE WHEN coalesce(last_inbound_at, 0) > ?"
            " THEN last_inbound_at ELSE ? END,"
            " display_name = CASE WHEN ? != '' THEN ? ELSE display_name END,"
            # a message from her: she can be reached again (blocked/unfollowed were set by a failed send)
            " status = CASE WHEN status IN ('blocked', 'unfollowed') THEN 'active' ELSE status END,"
            " status_reason = CASE WHEN status IN ('blocked', 'unfollowed') THEN NULL ELSE status_reason END"
            " WHERE channel = ? AND platform_id = ? RETURNING *",
            [at, at, display_name, display_name, channel, platform_id],
        )

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

    def unanswered_questions(self, *, status: str = "new", limit: int = 1000, scope_unit: str | None = None) -> list[dict[str, Any]]:
        """Questions not answered in ``status``, newest first; with ``scope_unit`` only its members' (and sub-units')."""
        scope, params = "", []
        if scope_unit:
            sql, params = unit_condition("su.unit_code", scope_unit)
            scope = f" AND member_id IN (SELECT su.id FROM members su WHERE {sql})"
        rows = self._rows(
            "SELECT * FROM questions WHERE decision != 'answer' AND review_status = ?"
            f" AND channel {NOT_TEST}{scope}"  # staff testing is not a member's question
            " ORDER BY asked_at DESC LIMIT ?",
            [status, *params, limit],
        )
        for row in rows:
            row["candidates"] = json.loads(row["candidates"])
        return rows

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
        """Messages to ``recipient`` newer than ``after_id`` that have left (simulator, web chat), each with
        ``reply_to``: the event key of the message it answers (None for a broadcast or a purged inbox row)."""
        return self._rows(
            "SELECT o.id, o.message, o.status, i.event_key AS reply_to FROM outbox o"
            " LEFT JOIN inbox i ON i.id = o.inbox_id"
            " WHERE o.channel = ? AND o.recipient = ? AND o.id > ?"
            " AND o.status IN ('sent', 'failed', 'skipped') ORDER BY o.id",
            [channel, recipient, after_id],
        )

    def last_outbound_id(self) -> int:
        return int(self._value("SELECT coalesce(max(id), 0) FROM outbox"))
