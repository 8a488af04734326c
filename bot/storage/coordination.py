"""What the processes of one deployment share (issue 17; storage layer, mixed into Store).

* Leadership: one process runs the scheduler and the housekeeping.  On SQLite (one machine)
  it is the ``worker_leases`` row renewed by heartbeats (a crashed holder's lease lapses
  after its TTL).  On PostgreSQL it is a session-level advisory lock held on a connection of
  its own for the leader's whole life: the server drops it the moment that connection or its
  process dies, so a standby takes over at its next try, without waiting for a TTL.  The
  ``worker_leases`` row is then only a label (who leads, since when, last heartbeat).
* Send slots: a row per channel holding the next free slot; each send reserves one with a
  single atomic UPDATE, so every sender process on every host together keeps the channel's
  rate.  On PostgreSQL the slots are in the database server's clock, the only clock all
  hosts share.
* Sender registrations: every process that sends holds a ``sender:<owner>`` lease with
  heartbeats; a message 'sending' whose claimer's lease has lapsed was orphaned by a crash.
"""

from __future__ import annotations

import contextlib
import logging
import time
import zlib
from collections.abc import Callable
from typing import Any

from bot.storage.tokens import LEASE_UPSERT

logger = logging.getLogger(__name__)

SENDER_PREFIX = "sender:"
_PG_NOW = "extract(epoch FROM clock_timestamp())::float8"


def psycopg_error() -> type[Exception]:
    import psycopg

    return psycopg.Error


class LeaseLeadership:
    """Leadership by the ``worker_leases`` row (SQLite: one machine)."""

    kind = "lease"
    heartbeat_seconds = 10.0

    def __init__(self, open_store: Callable[[], Any], name: str, owner: str, ttl: float):
        self.open_store, self.name, self.owner, self.ttl = open_store, name, owner, ttl

    def _with_store(self, action: Callable[[Any], Any]) -> Any:
        store = self.open_store()
        try:
            return action(store)
        finally:
            store.close()

    def try_acquire(self, now: float) -> bool:
        """Become the leader if nobody live is; True if this process leads now."""
        return self._with_store(lambda s: s.acquire_worker_lease(self.name, self.owner, now=now, ttl=self.ttl)) is None

    def holder(self) -> dict[str, Any] | None:
        """The current leader's row (owner, acquired_at, heartbeat_at), if any."""
        return self._with_store(lambda s: s.worker_lease(self.name))

    def keep(self, now: float) -> bool:
        """Heartbeat: False when this process no longer leads."""
        return bool(self._with_store(lambda s: s.renew_worker_lease(self.name, self.owner, now=now, ttl=self.ttl)))

    def evict(self, owner: str) -> None:
        """Drop a dead holder's lease (a process of this machine that is gone)."""
        self._with_store(lambda s: s.release_worker_lease(self.name, owner))

    def release(self) -> None:
        self._with_store(lambda s: s.release_worker_lease(self.name, self.owner))


class AdvisoryLeadership(LeaseLeadership):
    """Leadership by a session-level advisory lock on a dedicated connection (PostgreSQL)."""

    kind = "advisory lock"
    heartbeat_seconds = 2.0  # a leader that lost its connection stops within this long

    def __init__(self, url: str, open_store: Callable[[], Any], name: str, owner: str, ttl: float):
        super().__init__(open_store, name, owner, ttl)
        self.url = url
        self.key = (0x626F74 << 32) | zlib.crc32(f"leader:{name}".encode())  # "bot" + the name's checksum
        self.conn: Any = None

    def _connection(self) -> Any:
        import psycopg

        if self.conn is None or self.conn.closed:
            # keepalives: on a host that vanished (no FIN), the server drops the session, and
            # with it the lock, once the probes fail; the leader notices at its next heartbeat
            self.conn = psycopg.connect(
                self.url, autocommit=True, application_name=f"bot-leader {self.owner}"[:63],
                keepalives=1, keepalives_idle=10, keepalives_interval=3, keepalives_count=3, tcp_user_timeout=15000,
            )
        return self.conn

    def try_acquire(self, now: float) -> bool:
        import psycopg

        try:
            got = bool(self._connection().execute("SELECT pg_try_advisory_lock(%s)", [self.key]).fetchone()[0])
        except psycopg.Error:
            self.close()
            return False
        if got:
            self._with_store(lambda s: s.label_worker_lease(self.name, self.owner, now=now, ttl=self.ttl))
        return got

    def keep(self, now: float) -> bool:
        """The lock is ours as long as its connection answers (the server drops both together)."""
        import psycopg

        try:
            held = self._connection_alive()
        except psycopg.Error:
            held = False
        if not held:
            self.close()
            return False
        try:
            self._with_store(lambda s: s.label_worker_lease(self.name, self.owner, now=now, ttl=self.ttl))
        except Exception:  # the label is for people; the lock decides
            logger.warning("could not update the leader's label row", exc_info=True)
        return True

    def _connection_alive(self) -> bool:
        if self.conn is None or self.conn.closed:
            return False
        row = self.conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted"
            " AND ((classid::bigint << 32) | objid::bigint) = %s",
            [self.key],
        ).fetchone()
        return bool(row and row[0])

    def evict(self, owner: str) -> None:  # the server already dropped a dead holder's lock
        return None

    def release(self) -> None:
        try:
            self._with_store(lambda s: s.release_worker_lease(self.name, self.owner))
        finally:
            self.close()

    def close(self) -> None:
        """Close the dedicated connection: the lock, if held, goes with it."""
        conn, self.conn = self.conn, None
        if conn is not None:
            with contextlib.suppress(psycopg_error()):  # already broken
                conn.close()


class CoordinationStore:
    """Methods of Store for leadership, shared send slots and sender registrations."""

    db: Any
    path: str
    postgres: bool
    _rows: Any
    _row: Any
    _value: Any
    _write: Any

    # -- leadership ------------------------------------------------------------
    def leadership(self, name: str, owner: str, *, ttl: float) -> LeaseLeadership:
        """The leadership ``name`` for the process ``owner``: an advisory lock on PostgreSQL,
        the heartbeat lease on SQLite (see the module docstring)."""
        def open_store() -> Any:  # a fresh connection per use
            return type(self)(self.path)

        if self.postgres:
            return AdvisoryLeadership(self.path, open_store, name, owner, ttl)
        return LeaseLeadership(open_store, name, owner, ttl)

    def worker_lease(self, name: str) -> dict[str, Any] | None:
        return self._row("SELECT * FROM worker_leases WHERE name = ?", [name])

    def label_worker_lease(self, name: str, owner: str, *, now: float, ttl: float) -> None:
        """Record ``owner`` as the holder, whoever was (the advisory lock already decided)."""
        self._write(LEASE_UPSERT, [name, owner, now, now, now + ttl])

    # -- send slots --------------------------------------------------------------
    def reserve_send_slot(self, channel: str, interval: float) -> tuple[float, float]:
        """Reserve ``channel``'s next send slot, ``interval`` seconds after the previous one (or
        now, if that is later).  Returns (the slot's end marker, seconds to wait for the slot);
        give the marker to :meth:`refund_send_slot` if the slot goes unused."""
        for _ in range(2):
            if self.postgres:
                row = self._write(
                    f"UPDATE send_slots SET next_slot = greatest(next_slot, {_PG_NOW}) + ?"
                    f" WHERE channel = ? RETURNING next_slot, {_PG_NOW}",
                    [interval, channel],
                ).fetchone()
            else:
                now = time.time()  # one machine: its clock is the shared one
                fetched = self._write(
                    "UPDATE send_slots SET next_slot = max(next_slot, ?) + ? WHERE channel = ? RETURNING next_slot",
                    [now, interval, channel],
                ).fetchall()
                row = (fetched[0][0], now) if fetched else None
            if row is not None:
                after, now = float(row[0]), float(row[1])
                return after, max(0.0, after - interval - now)
            self._write("INSERT INTO send_slots (channel, next_slot) VALUES (?, 0) ON CONFLICT (channel) DO NOTHING", [channel])
        raise RuntimeError(f"no send_slots row for {channel}")

    def refund_send_slot(self, channel: str, marker: float, interval: float) -> bool:
        """Give back the slot that ended at ``marker``, only if nobody reserved a later one
        (a later slot is never moved, so no two sends share a slot)."""
        cursor = self._write(
            "UPDATE send_slots SET next_slot = ? WHERE channel = ? AND next_slot = ?", [marker - interval, channel, marker]
        )
        return bool(cursor.rowcount)

    # -- sender registrations ------------------------------------------------------
    def register_sender(self, owner: str, *, now: float, ttl: float) -> None:
        """Announce (or renew) a live sender process; its lease lapses ``ttl`` seconds after
        its last heartbeat."""
        self.label_worker_lease(SENDER_PREFIX + owner, owner, now=now, ttl=ttl)

    def unregister_sender(self, owner: str) -> None:
        self._write("DELETE FROM worker_leases WHERE name = ?", [SENDER_PREFIX + owner])

    def sender_owners(self) -> list[dict[str, Any]]:
        """Registered sender processes (live or lapsed), with their last heartbeat."""
        return self._rows("SELECT * FROM worker_leases WHERE name LIKE ? ORDER BY name", [SENDER_PREFIX + "%"])

    def recover_orphaned_sending(self, *, now: float, at: float, own: str = "", unowned: bool = False) -> int:
        """Messages 'sending' whose claiming sender process is gone (its lease lapsed before
        ``now``) become 'uncertain', like those in flight at a crash.  A message claimed by a
        live process, on any host, is left alone, and so are the caller's own (``own``).  One
        claimed without an owner (before this column existed, or by an in-request drain) counts
        only with ``unowned`` (the leader's start); else the stale-claim recovery handles it."""
        cursor = self._write(
            "UPDATE outbox SET status = 'uncertain', finished_at = ?, reason = 'in_flight_at_crash'"
            " WHERE status = 'sending' AND (claimed_by IS NULL AND ? = 1 OR claimed_by IS NOT NULL AND claimed_by != ?"
            "  AND NOT EXISTS (SELECT 1 FROM worker_leases l WHERE l.name = ? || outbox.claimed_by AND l.expires_at >= ?))",
            [at, int(unowned), own, SENDER_PREFIX, now],
        )
        return cursor.rowcount
