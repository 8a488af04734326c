"""Versioned schema migrations, applied at start: one list for SQLite and PostgreSQL.

Never edit a migration that has shipped: add a new one.

SQLite applies them with sqlite-utils Migrations (table ``_sqlite_migrations``), as it
always has.  PostgreSQL applies the same functions in order (table ``schema_migrations``),
each in its own transaction under an advisory lock, with ``db`` a :class:`PgMigrationDb`
whose ``execute`` maps the column types (bot.storage.dialect.ddl_to_postgres).  A portable
migration is plain SQL in SQLite's spelling: ``id INTEGER PRIMARY KEY`` keys (not AUTOINCREMENT),
``INTEGER``, ``REAL``, ``TEXT`` columns with literal defaults, ``CREATE [UNIQUE] INDEX [IF NOT
EXISTS]`` (partial indexes too), ``ALTER TABLE … ADD COLUMN``, ``UPDATE``/``INSERT`` with ``?``
parameters; flags are INTEGER 0/1 compared with ``= 1``; a subquery in FROM has an alias.  No
SQLite-only function (``json_extract(col, '$.key')`` is translated; others are not), no
``COLLATE NOCASE`` meaning (dropped on PostgreSQL: add a ``lower()`` index there).  Anything
engine-specific (a trigger, a PRAGMA, SQLite's table rebuild) goes under
``if is_postgres(db):`` / ``else:``.  Each migration is one transaction on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import threading
from collections.abc import Iterator
from typing import Any

from sqlite_utils import Database, Migrations

from bot.storage.dialect import ddl_to_postgres

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

migrations = Migrations("bot")


def is_postgres(db: object) -> bool:
    """True when a migration runs on PostgreSQL."""
    return getattr(db, "dialect", "sqlite") == "postgresql"


@migrations()
def m001_core(db: Database) -> None:
    """Members, inbox, outbox, conversation state, tokens, channel status."""
    db.execute(
        """
        CREATE TABLE members (
            id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL,
            platform_id TEXT NOT NULL,
            display_name TEXT NOT NULL DEFAULT '',
            first_seen_at REAL NOT NULL,
            last_inbound_at REAL,
            subscribed INTEGER NOT NULL DEFAULT 1,
            status TEXT NOT NULL DEFAULT 'active',      -- active | blocked | unfollowed
            status_reason TEXT,
            tags TEXT NOT NULL DEFAULT '[]',
            unit_code TEXT,
            full_name TEXT,
            phone TEXT,
            consent_at REAL,
            registered_at REAL,
            UNIQUE (channel, platform_id)
        )"""
    )
    db.execute("CREATE INDEX members_unit ON members (unit_code)")
    db.execute(
        """
        CREATE TABLE groups (
            id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL,
            group_id TEXT NOT NULL,
            name TEXT NOT NULL DEFAULT '',
            first_seen_at REAL NOT NULL,
            last_inbound_at REAL,
            UNIQUE (channel, group_id)
        )"""
    )
    db.execute(
        """
        CREATE TABLE inbox (
            id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL,
            event_key TEXT NOT NULL,
            received_at REAL NOT NULL,
            event TEXT NOT NULL,                 -- the parsed event, JSON
            raw TEXT NOT NULL,                   -- the platform's item, JSON
            status TEXT NOT NULL DEFAULT 'pending',  -- pending | done | failed
            processed_at REAL,
            error TEXT,
            UNIQUE (channel, event_key)
        )"""
    )
    db.execute("CREATE INDEX inbox_pending ON inbox (status, id)")
    db.execute(
        """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL,
            recipient TEXT NOT NULL,
            is_group INTEGER NOT NULL DEFAULT 0,
            member_id INTEGER,
            kind TEXT NOT NULL DEFAULT 'reply',   -- reply | broadcast
            run_id INTEGER,
            part INTEGER NOT NULL DEFAULT 0,
            message TEXT NOT NULL,                -- rendered platform message, JSON
            messaging_type TEXT NOT NULL DEFAULT 'RESPONSE',
            inbox_id INTEGER,
            status TEXT NOT NULL DEFAULT 'pending',
                -- pending | sending | sent | failed | skipped | uncertain | cancelled | paused
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            claimed_at REAL,
            finished_at REAL,
            platform_message_id TEXT,
            error_code TEXT,
            error_subcode TEXT,
            error_message TEXT,
            reason TEXT,
            delivered_at REAL,
            read_at REAL
        )"""
    )
    db.execute("CREATE INDEX outbox_queue ON outbox (channel, status, next_attempt_at, id)")
    db.execute("CREATE INDEX outbox_recipient ON outbox (channel, recipient, status, id)")
    db.execute("CREATE INDEX outbox_pmid ON outbox (platform_message_id)")
    db.execute("CREATE UNIQUE INDEX outbox_run_member ON outbox (run_id, member_id, part) WHERE run_id IS NOT NULL")
    db.execute(
        """
        CREATE TABLE conversations (
            member_id INTEGER PRIMARY KEY,
            flow TEXT,                 -- name of the ongoing conversation (quiz, registration...)
            state TEXT NOT NULL DEFAULT '{}',
            choices TEXT NOT NULL DEFAULT '[]',   -- last offered choices, to read "1", "2"...
            updated_at REAL NOT NULL,
            expires_at REAL
        )"""
    )
    db.execute(
        """
        CREATE TABLE tokens (
            name TEXT PRIMARY KEY,            -- 'zalo_oa'
            access_token TEXT,
            refresh_token TEXT,
            expires_at REAL,
            refreshed_at REAL,
            lease_owner TEXT,
            lease_until REAL
        )"""
    )
    db.execute(
        """
        CREATE TABLE channel_status (
            channel TEXT PRIMARY KEY,
            state TEXT NOT NULL,              -- ok | alert
            detail TEXT NOT NULL DEFAULT '',
            updated_at REAL NOT NULL
        )"""
    )


@migrations()
def m002_questions(db: Database) -> None:
    """Every question asked and what the bot did; unanswered questions for staff."""
    db.execute(
        """
        CREATE TABLE questions (
            id INTEGER PRIMARY KEY,
            member_id INTEGER,
            channel TEXT NOT NULL,
            text TEXT NOT NULL,
            asked_at REAL NOT NULL,
            decision TEXT NOT NULL,          -- answer | suggest | fallback
            entry_id TEXT,
            score REAL NOT NULL DEFAULT 0,
            candidates TEXT NOT NULL DEFAULT '[]',
            review_status TEXT NOT NULL DEFAULT 'new'   -- new | done | ignored (fallback/suggest only)
        )"""
    )
    db.execute("CREATE INDEX questions_time ON questions (asked_at)")
    db.execute("CREATE INDEX questions_decision ON questions (decision, review_status)")


@migrations()
def m003_broadcasts(db: Database) -> None:
    """Broadcasts planned by staff, their runs, and the messages rendered per channel."""
    db.execute(
        """
        CREATE TABLE broadcasts (
            id INTEGER PRIMARY KEY,
            text TEXT NOT NULL,
            image_url TEXT,
            link_title TEXT,
            link_url TEXT,
            audience TEXT NOT NULL DEFAULT 'all',
            schedule TEXT NOT NULL,          -- 'now' | 'once' | 'cron'
            run_at REAL,                     -- 'once': epoch seconds
            cron TEXT,                       -- 'cron': 5-field crontab (local time)
            until REAL,                      -- optional end (epoch seconds)
            state TEXT NOT NULL,             -- draft | scheduled | sending | paused | done | cancelled
            next_fire_at REAL,               -- the next fire time not yet handled
            created_at REAL NOT NULL,
            created_by TEXT NOT NULL DEFAULT '',
            updated_at REAL NOT NULL
        )"""
    )
    db.execute("CREATE INDEX broadcasts_due ON broadcasts (state, next_fire_at)")
    db.execute(
        """
        CREATE TABLE broadcast_runs (
            id INTEGER PRIMARY KEY,
            broadcast_id INTEGER NOT NULL REFERENCES broadcasts (id),
            scheduled_for REAL NOT NULL,
            state TEXT NOT NULL,             -- pending | sending | paused | done | cancelled | missed
            created_at REAL NOT NULL,
            started_at REAL,
            finished_at REAL,
            targeted INTEGER NOT NULL DEFAULT 0,
            note TEXT NOT NULL DEFAULT '',
            UNIQUE (broadcast_id, scheduled_for)
        )"""
    )
    db.execute("CREATE INDEX broadcast_runs_state ON broadcast_runs (state)")
    db.execute(
        """
        CREATE TABLE broadcast_parts (
            run_id INTEGER NOT NULL REFERENCES broadcast_runs (id),
            channel TEXT NOT NULL,
            part INTEGER NOT NULL,
            message TEXT NOT NULL,
            messaging_type TEXT NOT NULL,
            PRIMARY KEY (run_id, channel, part)
        )"""
    )
    db.execute("CREATE INDEX outbox_run ON outbox (run_id, status)")
    db.execute(
        """
        CREATE TABLE participations (
            id INTEGER PRIMARY KEY,
            member_id INTEGER,
            contest_id TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT 'chat',   -- chat | import
            reported_at REAL NOT NULL,
            note TEXT NOT NULL DEFAULT ''
        )"""
    )
    db.execute("CREATE INDEX participations_contest ON participations (contest_id, member_id)")


@migrations()
def m004_staff(db: Database) -> None:
    """Staff accounts, login attempts (rate limit) and the audit log."""
    db.execute(
        """
        CREATE TABLE staff (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE COLLATE NOCASE,
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL,              -- admin | editor | broadcaster | reporter | viewer
            unit_code TEXT,                  -- bound to a unit: sees only that unit
            active INTEGER NOT NULL DEFAULT 1,
            created_at REAL NOT NULL,
            last_login_at REAL
        )"""
    )
    db.execute(
        """
        CREATE TABLE login_attempts (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL,               -- username|address
            at REAL NOT NULL,
            ok INTEGER NOT NULL
        )"""
    )
    if is_postgres(db):  # SQLite's COLLATE NOCASE: one account per username whatever its case
        db.execute("CREATE UNIQUE INDEX staff_username_nocase ON staff (lower(username))")
    db.execute("CREATE INDEX login_attempts_key ON login_attempts (key, at)")
    db.execute(
        """
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            staff_id INTEGER,
            username TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT ''
        )"""
    )
    db.execute("CREATE INDEX audit_log_at ON audit_log (at)")


@migrations()
def m005_participation(db: Database) -> None:
    """Registration consent, quiz attempts and answers, hái hoa draws, contest participation details."""
    db.execute("ALTER TABLE members ADD COLUMN consent_version TEXT")
    db.execute("ALTER TABLE members ADD COLUMN erased_at REAL")  # personal data erased (status 'erased')
    db.execute("CREATE INDEX members_phone ON members (phone) WHERE phone IS NOT NULL")
    db.execute("CREATE INDEX members_registered ON members (registered_at) WHERE registered_at IS NOT NULL")
    # participations (m003) keeps its meaning: one row per (member or imported person, contest)
    for column in (
        "full_name TEXT",              # imported rows: the person's name (member rows: NULL)
        "phone TEXT",                  # imported rows: normalised 0xxxxxxxxx
        "unit_code TEXT",              # imported rows: their unit; chat rows: the member's unit then
        "participated_on TEXT",        # YYYY-MM-DD (local date)
        "result TEXT NOT NULL DEFAULT ''",
        "import_id INTEGER",
        "updated_at REAL",
    ):
        db.execute(f"ALTER TABLE participations ADD COLUMN {column}")
    db.execute("CREATE INDEX participations_member ON participations (member_id)")
    db.execute("CREATE INDEX participations_phone ON participations (contest_id, phone)")
    db.execute("CREATE INDEX participations_date ON participations (participated_on)")
    db.execute(
        """
        CREATE TABLE participation_imports (
            id INTEGER PRIMARY KEY,
            filename TEXT NOT NULL DEFAULT '',
            imported_at REAL NOT NULL,
            imported_by TEXT NOT NULL DEFAULT '',
            total_rows INTEGER NOT NULL,
            added INTEGER NOT NULL,
            merged INTEGER NOT NULL,
            rejected INTEGER NOT NULL,
            reasons TEXT NOT NULL DEFAULT '[]'   -- [[line, reason]]: no names or phones kept here
        )"""
    )
    db.execute(
        """
        CREATE TABLE quiz_attempts (
            id INTEGER PRIMARY KEY,
            quiz_id TEXT NOT NULL,
            member_id INTEGER NOT NULL,
            unit_code TEXT,                  -- the member's unit when the attempt started
            channel TEXT NOT NULL,
            seed INTEGER NOT NULL,
            plan TEXT NOT NULL,              -- JSON [[question_id, [choice indexes in shown order]]]
            position INTEGER NOT NULL DEFAULT 0,
            score INTEGER NOT NULL DEFAULT 0,
            total INTEGER NOT NULL,
            state TEXT NOT NULL DEFAULT 'active',   -- active | finished | expired | closed
            started_at REAL NOT NULL,
            asked_at REAL NOT NULL,          -- when the current question was sent
            finished_at REAL,
            duration REAL                    -- seconds, set when finished
        )"""
    )
    db.execute("CREATE INDEX quiz_attempts_member ON quiz_attempts (member_id, quiz_id, state)")
    db.execute("CREATE INDEX quiz_attempts_quiz ON quiz_attempts (quiz_id, state, score DESC, duration)")
    db.execute("CREATE INDEX quiz_attempts_started ON quiz_attempts (started_at)")
    db.execute(
        """
        CREATE TABLE quiz_answers (
            id INTEGER PRIMARY KEY,
            attempt_id INTEGER NOT NULL REFERENCES quiz_attempts (id),
            question_id TEXT NOT NULL,
            choice INTEGER,                  -- index in the quiz file's choices; NULL = timed out
            correct INTEGER NOT NULL,
            answered_at REAL NOT NULL,
            elapsed REAL NOT NULL,
            UNIQUE (attempt_id, question_id)
        )"""
    )
    db.execute(
        """
        CREATE TABLE haihoa_draws (
            id INTEGER PRIMARY KEY,
            member_id INTEGER NOT NULL,
            channel TEXT NOT NULL,
            kind TEXT NOT NULL,              -- quiz | bank
            item_id TEXT NOT NULL,           -- quiz_id/question_id or bank entry id
            plan TEXT NOT NULL DEFAULT '[]', -- shown choice order (quiz questions)
            drawn_at REAL NOT NULL,
            answered_at REAL,
            correct INTEGER                  -- quiz questions: 1/0; bank entries: NULL
        )"""
    )
    db.execute("CREATE INDEX haihoa_draws_member ON haihoa_draws (member_id, drawn_at)")
    db.execute("CREATE INDEX haihoa_draws_time ON haihoa_draws (drawn_at)")
    # report queries: covering indexes over a period (members reached, broadcasts delivered, questions)
    db.execute("CREATE INDEX IF NOT EXISTS outbox_sent_member ON outbox (finished_at, member_id) WHERE status = 'sent'")
    db.execute(
        "CREATE INDEX IF NOT EXISTS outbox_broadcast_delivered ON outbox (finished_at, member_id)"
        " WHERE kind = 'broadcast' AND status = 'sent' AND part = 0"
    )
    db.execute("CREATE INDEX IF NOT EXISTS questions_time_member ON questions (asked_at, member_id, decision)")


@migrations()
def m006_console(db: Database) -> None:
    """Indexes for the staff console's dashboard (counts per day over time ranges)."""
    db.execute("CREATE INDEX IF NOT EXISTS inbox_received ON inbox (received_at)")
    db.execute("CREATE INDEX IF NOT EXISTS outbox_finished ON outbox (finished_at) WHERE kind = 'broadcast'")
    db.execute("CREATE INDEX IF NOT EXISTS participations_reported ON participations (reported_at)")


@migrations()
def m007_members_first(db: Database) -> None:
    """Replies before broadcasts (outbox priority), quiz timing from the question's send time."""
    # 0 = a conversation reply, 1 = a broadcast send; the claim takes the lowest first
    db.execute("ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 0")
    db.execute("UPDATE outbox SET priority = 1 WHERE kind = 'broadcast'")
    db.execute("CREATE INDEX IF NOT EXISTS outbox_claim ON outbox (channel, status, priority, next_attempt_at, id)")
    db.execute("DROP INDEX IF EXISTS outbox_queue")  # replaced by outbox_claim
    db.execute("CREATE INDEX IF NOT EXISTS outbox_inbox ON outbox (inbox_id) WHERE inbox_id IS NOT NULL")
    db.execute("CREATE INDEX IF NOT EXISTS outbox_sending ON outbox (claimed_at) WHERE status = 'sending'")
    # the inbound event whose replies carried the current question (its send time starts the clock)
    db.execute("ALTER TABLE quiz_attempts ADD COLUMN asked_event_key TEXT")
    # broadcast expansion in short chunks: the last member id expanded, and when it was complete
    db.execute("ALTER TABLE broadcast_runs ADD COLUMN expand_cursor INTEGER")
    db.execute("ALTER TABLE broadcast_runs ADD COLUMN expanded_at REAL")
    db.execute("UPDATE broadcast_runs SET expanded_at = started_at WHERE started_at IS NOT NULL")


@migrations()
def m008_handoff(db: Database) -> None:
    """Conversations handed to staff ("GẶP CÁN BỘ") and their threads (member, bot and staff messages)."""
    db.execute(
        """
        CREATE TABLE handoffs (
            id INTEGER PRIMARY KEY,
            member_id INTEGER NOT NULL,
            channel TEXT NOT NULL,
            unit_code TEXT,                  -- the member's unit at opening (NULL: organisation level)
            state TEXT NOT NULL DEFAULT 'open',   -- open | closed
            opened_at REAL NOT NULL,
            closed_at REAL,
            closed_by TEXT,                  -- member | staff:<username> | cli
            assigned_staff_id INTEGER,
            last_member_at REAL,
            waiting_since REAL,              -- oldest member message staff have not answered yet
            first_staff_reply_at REAL,
            notified_at REAL                 -- when staff were told about it (Zalo Bot digest)
        )"""
    )
    db.execute("CREATE UNIQUE INDEX handoffs_one_open ON handoffs (member_id) WHERE state = 'open'")
    db.execute("CREATE INDEX handoffs_state ON handoffs (state, unit_code)")
    db.execute("CREATE INDEX handoffs_opened ON handoffs (opened_at)")
    db.execute(
        """
        CREATE TABLE handoff_messages (
            id INTEGER PRIMARY KEY,
            handoff_id INTEGER NOT NULL REFERENCES handoffs (id),
            at REAL NOT NULL,
            author TEXT NOT NULL,            -- member | bot | staff
            staff_id INTEGER,
            staff_name TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL,
            outbox_id INTEGER,
            messaging_type TEXT
        )"""
    )
    db.execute("CREATE INDEX handoff_messages_thread ON handoff_messages (handoff_id, id)")


@migrations()
def m009_short_transactions(db: Database) -> None:
    """Indexes for the nightly purge, erasure and the participation import's duplicate check."""
    # a row stored before strict JSON (a NaN) would make the expression index fail: make it valid
    # (PostgreSQL databases start after strict JSON: nothing to repair)
    if not is_postgres(db):
        db.execute(
            "UPDATE inbox SET event = json_object('channel', channel, 'kind', 'invalid', 'user_id', '',"
            " 'event_key', event_key) WHERE json_valid(event) = 0"
        )
    db.execute("CREATE INDEX IF NOT EXISTS inbox_user ON inbox (channel, json_extract(event, '$.user_id'))")
    db.execute("CREATE INDEX IF NOT EXISTS outbox_member ON outbox (member_id) WHERE member_id IS NOT NULL")
    db.execute("CREATE INDEX IF NOT EXISTS questions_member ON questions (member_id)")
    db.execute("CREATE INDEX IF NOT EXISTS participations_phone_any ON participations (phone) WHERE phone IS NOT NULL")
    db.execute(
        "CREATE INDEX IF NOT EXISTS participations_name_unit ON participations (contest_id, full_name, unit_code)"
        " WHERE phone IS NULL"
    )


@migrations()
def m010_sessions_erasure(db: Database) -> None:
    """Server-side console sessions (logout ends them; idle and absolute limits), and erasure that
    also blanks the recipient of a reply to an erased member once it has left (the goodbye)."""
    db.execute(
        """
        CREATE TABLE staff_sessions (
            token_hash TEXT PRIMARY KEY,     -- sha256 of the random id in the signed cookie
            staff_id INTEGER NOT NULL,
            created_at REAL NOT NULL,
            last_seen_at REAL NOT NULL
        )"""
    )
    db.execute("CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id)")
    db.execute("CREATE INDEX staff_sessions_seen ON staff_sessions (last_seen_at)")
    if is_postgres(db):
        _pg_erased_recipient_trigger(db)
        return
    db.execute(
        """
        CREATE TRIGGER IF NOT EXISTS outbox_erased_recipient
        AFTER UPDATE OF status ON outbox
        WHEN NEW.is_group = 0 AND NEW.recipient != '' AND NEW.member_id IS NOT NULL
            AND NEW.status IN ('sent', 'failed', 'skipped', 'uncertain', 'cancelled')
            AND EXISTS (SELECT 1 FROM members WHERE id = NEW.member_id AND status = 'erased')
        BEGIN
            UPDATE outbox SET recipient = '', message = '{}' WHERE id = NEW.id;
        END"""
    )


def _pg_erased_recipient_trigger(db: Database) -> None:
    """m010's trigger in PostgreSQL's form (a function and a row trigger)."""
    db.execute(
        """
        CREATE FUNCTION outbox_erased_recipient() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.is_group = 0 AND NEW.recipient != '' AND NEW.member_id IS NOT NULL
                AND NEW.status IN ('sent', 'failed', 'skipped', 'uncertain', 'cancelled')
                AND EXISTS (SELECT 1 FROM members WHERE id = NEW.member_id AND status = 'erased') THEN
                NEW.recipient := '';
                NEW.message := '{}';
            END IF;
            RETURN NEW;
        END $$"""
    )
    db.execute(
        "CREATE TRIGGER outbox_erased_recipient BEFORE UPDATE OF status ON outbox"
        " FOR EACH ROW EXECUTE FUNCTION outbox_erased_recipient()"
    )


@migrations()
def m011_posts(db: Database) -> None:
    """Posts on the Facebook Page and Zalo OA articles, one target row per place with its own state."""
    db.execute(
        """
        CREATE TABLE posts (
            id INTEGER PRIMARY KEY,
            title TEXT,
            text TEXT NOT NULL,
            link_url TEXT,
            image_url TEXT,
            publish_at REAL NOT NULL,        -- when it should appear
            override_quiet INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            created_by TEXT
        )"""
    )
    db.execute(
        """
        CREATE TABLE post_targets (
            id INTEGER PRIMARY KEY,
            post_id INTEGER NOT NULL REFERENCES posts (id),
            target TEXT NOT NULL,            -- facebook_page | zalo_article
            state TEXT NOT NULL,             -- pending | scheduled | verifying | published | failed
            platform_id TEXT,                -- Facebook post id / Zalo article id
            create_token TEXT,               -- Zalo: the token of /article/create, until verify gives the id
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL,
            error TEXT,                      -- the last error, in Vietnamese
            published_at REAL,               -- when it appeared (Facebook scheduled: the scheduled time)
            updated_at REAL,
            UNIQUE (post_id, target)
        )"""
    )
    db.execute("CREATE INDEX post_targets_due ON post_targets (state, next_attempt_at)")
    db.execute("CREATE INDEX post_targets_published ON post_targets (published_at) WHERE state IN ('published', 'scheduled')")


@migrations()
def m012_worker_leases(db: Database) -> None:
    """Leases with heartbeats: one process of a deployment runs the workers."""
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS worker_leases (  -- IF NOT EXISTS: applied under its earlier name m010 in dev
            name TEXT PRIMARY KEY,            -- 'workers'
            owner TEXT NOT NULL,              -- host:pid:random
            acquired_at REAL NOT NULL,
            heartbeat_at REAL NOT NULL,
            expires_at REAL NOT NULL
        )"""
    )



@migrations()
def m013_review_links(db: Database) -> None:
    """Unanswered questions answered by an entry: which entry, and when (review queue, issue 15)."""
    db.execute("ALTER TABLE questions ADD COLUMN review_entry_id TEXT")
    db.execute("ALTER TABLE questions ADD COLUMN reviewed_at REAL")


@migrations()
def m014_rate_hits(db: Database) -> None:
    """Rate-limit hits (website chat: per visitor, per address), shared by all processes; kept one window only."""
    db.execute(
        """
        CREATE TABLE rate_hits (
            key TEXT NOT NULL,               -- e.g. chat-visitor:<id>, chat-address:<keyed hash>
            at REAL NOT NULL
        )"""
    )
    db.execute("CREATE INDEX rate_hits_key ON rate_hits (key, at)")
    db.execute("CREATE INDEX rate_hits_at ON rate_hits (at)")


@migrations()
def m015_content_entries(db: Database) -> None:
    """The content bank's entries when CONTENT_STORE=database (several hosts): one row per entry, and
    one revision counter every host reads cheaply to notice an edit."""
    db.execute(
        """
        CREATE TABLE content_entries (
            id TEXT PRIMARY KEY,              -- the entry's id
            file TEXT NOT NULL,               -- its YAML file in content/bank/ (flask content export puts it back there)
            position INTEGER NOT NULL,        -- its place in that file
            data TEXT NOT NULL,               -- the entry as written (JSON; dates tagged)
            version TEXT NOT NULL,            -- fingerprint of data: the editor's optimistic concurrency
            updated_at REAL NOT NULL,
            updated_by TEXT NOT NULL DEFAULT ''
        )"""
    )
    db.execute("CREATE INDEX content_entries_file ON content_entries (file, position)")
    db.execute(
        """
        CREATE TABLE content_state (
            id INTEGER PRIMARY KEY,           -- always 1
            revision INTEGER NOT NULL DEFAULT 0,  -- +1 on every change of content_entries; 0: never filled
            updated_at REAL,
            updated_by TEXT NOT NULL DEFAULT ''
        )"""
    )
    db.execute("INSERT INTO content_state (id, revision) VALUES (?, ?)", [1, 0])


@migrations()
def m016_shared_senders(db: Database) -> None:
    """Several sender processes (issue 17): each channel's send slots, shared by all of them, and
    which sender process claimed a message in flight (its lease says whether it still lives)."""
    db.execute(
        """
        CREATE TABLE send_slots (
            channel TEXT PRIMARY KEY,        -- messenger | zalo | zalo_bot
            next_slot REAL NOT NULL          -- epoch seconds of the next free slot (the database's clock)
        )"""
    )
    db.execute("ALTER TABLE outbox ADD COLUMN claimed_by TEXT")  # host:pid:random of the sender process


_THREAD_LOCK = threading.Lock()


@contextlib.contextmanager
def _exclusive(db: Database) -> Iterator[None]:
    """One migrator at a time: across threads, and across processes through an
    advisory lock (flock) on the database's folder.  The folder, not the file: closing
    a second descriptor of the database file would drop SQLite's own locks on it, and
    a lock file would be left behind."""
    path = db.conn.execute("PRAGMA database_list").fetchone()[2]
    with _THREAD_LOCK:
        if not path or fcntl is None:  # :memory: or no POSIX locks
            yield
            return
        fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # waits while another process migrates
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def apply(db: Any) -> int:
    """Apply pending migrations under an exclusive lock (start-up of several processes,
    ``flask db upgrade``): the second migrator waits, then finds nothing to do.
    Returns how many were applied."""
    if is_postgres(db):
        return _apply_postgres(db)
    with _exclusive(db):
        pending = len(migrations.pending(db))
        migrations.apply(db)
        return pending


class PgMigrationDb:
    """What a migration function sees on PostgreSQL: ``execute`` with the types mapped."""

    dialect = "postgresql"

    def __init__(self, pg: Any):
        self.pg = pg

    def execute(self, sql: str, params: Any = ()) -> Any:
        return self.pg.execute(ddl_to_postgres(sql), params)


_PG_MIGRATIONS_LOCK = 7_017_001  # advisory lock key: one migrator at a time across hosts


# SQLite idioms the app's SQL uses, defined once on PostgreSQL (idempotent, run at every start)
_PG_COMPAT = (
    # sum(a = b): SQLite counts true comparisons; NULL when there are no rows, like sum()
    (
        "CREATE OR REPLACE FUNCTION bot_sum_bool(bigint, boolean) RETURNS bigint LANGUAGE sql IMMUTABLE AS"
        " $$ SELECT CASE WHEN $2 IS NULL THEN $1 ELSE coalesce($1, 0) + $2::int END $$"
    ),
    "CREATE OR REPLACE AGGREGATE sum(boolean) (SFUNC = bot_sum_bool, STYPE = bigint)",
    # json_valid(text): 1 when the text is JSON PostgreSQL accepts (strict: no NaN), else 0
    (
        "CREATE OR REPLACE FUNCTION json_valid(text) RETURNS integer LANGUAGE plpgsql IMMUTABLE AS"
        " $$ BEGIN PERFORM $1::jsonb; RETURN 1; EXCEPTION WHEN others THEN RETURN 0; END $$"
    ),
    # round(avg(x), 1) on double precision (PostgreSQL rounds numeric only)
    (
        "CREATE OR REPLACE FUNCTION round(double precision, integer) RETURNS double precision LANGUAGE sql"
        " IMMUTABLE AS $$ SELECT round($1::numeric, $2)::double precision $$"
    ),
)


def _apply_postgres(pg: Any) -> int:
    pg.execute("SELECT pg_advisory_lock(?)", [_PG_MIGRATIONS_LOCK])
    try:
        for statement in _PG_COMPAT:
            pg.execute(statement)
        return _apply_postgres_locked(pg)
    finally:
        pg.execute("SELECT pg_advisory_unlock(?)", [_PG_MIGRATIONS_LOCK])


def _apply_postgres_locked(pg: Any) -> int:
    pg.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (migration_set TEXT NOT NULL, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL, PRIMARY KEY (migration_set, name))"
    )
    done = {r[0] for r in pg.execute(
        "SELECT name FROM schema_migrations WHERE migration_set = ?", [migrations.name]
    ).fetchall()}
    applied = 0
    for migration in migrations._migrations:  # the registered list, in order
        if migration.name in done:
            continue
        pg.execute("BEGIN")
        try:
            migration.fn(PgMigrationDb(pg))
            pg.execute(
                "INSERT INTO schema_migrations (migration_set, name, applied_at) VALUES (?, ?, ?)",
                [migrations.name, migration.name, datetime.datetime.now(datetime.UTC).isoformat()],
            )
        except BaseException:
            pg.execute("ROLLBACK")
            raise
        pg.execute("COMMIT")
        applied += 1
    return applied
