"""The durable inbox and outbox (storage layer, mixed into Store)."""

from __future__ import annotations

import json
from typing import Any

from bot.core.models import Event
from bot.storage.dialect import INBOX_CHANNEL, OUTBOX_CHANNEL, pg_json_text

PRIORITY_REPLY = 0  # conversation replies: claimed first
PRIORITY_BROADCAST = 1  # broadcast sends: the rest of the rate


class QueueStore:
    """Methods of Store for inbound events and outbound messages."""

    db: Any
    _rows: Any
    _row: Any
    _value: Any
    _write: Any
    _lock: Any
    _for_update: str
    postgres: bool
    transaction: Any

    # -- inbox -----------------------------------------------------------------
    def add_inbound(self, events: list[tuple[Event, dict[str, Any]]], *, at: float) -> list[int]:
        """Persist parsed events with their raw items; duplicates (same key) are ignored.

        Returns the ids of the rows that were new.  One event (a webhook's usual load) is
        one statement in a transaction of its own; several share one transaction.
        """
        if len(events) == 1:
            new_id = self._insert_inbound(*events[0], at=at)
            return [new_id] if new_id is not None else []
        new_ids: list[int] = []
        with self.transaction():
            for event, raw in events:
                new_id = self._insert_inbound(event, raw, at=at)
                if new_id is not None:
                    new_ids.append(new_id)
        return new_ids

    def _insert_inbound(self, event: Event, raw: dict[str, Any], *, at: float) -> int | None:
        texts = [
            json.dumps(event.to_dict(), ensure_ascii=False, allow_nan=False),
            json.dumps(raw, ensure_ascii=False, allow_nan=False),
        ]
        if not self.postgres:
            cursor = self._write(
                "INSERT INTO inbox (channel, event_key, received_at, event, raw) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (channel, event_key) DO NOTHING",
                [event.channel, event.event_key, at, *texts],
            )
            return int(cursor.lastrowid) if cursor.rowcount else None
        # PostgreSQL, in the same statement (one round trip): events of one member get ids in
        # commit order (concurrent webhooks of the same member queue on the advisory lock,
        # taken before the row gets its id, so a lower id is never committed after a higher
        # one), and the inbox workers of every process are woken at commit (a duplicate
        # wakes them for nothing: harmless)
        return self._value(
            "INSERT INTO inbox (channel, event_key, received_at, event, raw)"
            " SELECT ?, ?, ?, ?, ? FROM (SELECT pg_advisory_xact_lock(hashtext(?)), pg_notify(?, '')) AS wake"
            " ON CONFLICT (channel, event_key) DO NOTHING RETURNING id",
            [event.channel, event.event_key, at, *[pg_json_text(t) for t in texts],  # jsonb refuses NUL
             f"{event.channel}:{event.user_id}", INBOX_CHANNEL],
        )

    def pending_inbound(self, limit: int = 100, after_id: int = 0) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT id, channel, event FROM inbox WHERE status = 'pending' AND id > ? ORDER BY id LIMIT ?",
            [after_id, limit],
        )

    def claim_inbound(self, inbox_id: int) -> bool:
        """Inside the processing transaction: True if this row was still pending.

        PostgreSQL (several workers at once): a row another worker holds is skipped, not
        waited for, and so is a row whose member (its lane) has an earlier event still
        pending or in progress: one member's events are handled one at a time, in order,
        while other members' go on in parallel."""
        if not self.postgres:
            cursor = self._write(
                "UPDATE inbox SET status = 'processing' WHERE id = ? AND status = 'pending'", [inbox_id]
            )
            return bool(cursor.rowcount)
        # the row lock is the claim: it lasts until the transaction ends, when the row is
        # 'done' (finish_inbound); a 'processing' status written here would never be seen by
        # another session (uncommitted), so it is not written (one round trip less per event)
        claimed = self._value(
            "SELECT i.id FROM inbox i WHERE i.id = ? AND i.status = 'pending'"
            " AND NOT EXISTS (SELECT 1 FROM inbox p WHERE p.channel = i.channel"
            "   AND json_extract(p.event, '$.user_id') = json_extract(i.event, '$.user_id')"
            "   AND p.status IN ('pending', 'processing') AND p.id < i.id)"
            " FOR UPDATE SKIP LOCKED",
            [inbox_id],
        )
        return claimed is not None

    def finish_inbound(self, inbox_id: int, *, at: float, error: str | None = None) -> None:
        self._write(
            "UPDATE inbox SET status = ?, processed_at = ?, error = ? WHERE id = ?",
            ["failed" if error else "done", at, error, inbox_id],
        )

    def requeue_failed_inbound(self, inbox_ids: list[int] | None = None) -> int:
        """Staff decision: process 'failed' inbound events again (after a fix)."""
        sql = "UPDATE inbox SET status = 'pending', processed_at = NULL, error = NULL WHERE status = 'failed'"
        params: list[Any] = []
        if inbox_ids is not None:
            sql += f" AND id IN ({','.join('?' * len(inbox_ids))})"
            params += inbox_ids
        return self._write(sql, params).rowcount

    def prune_queues(self, *, before: float, chunk: int = 1000) -> dict[str, int]:
        """Delete handled inbox events and finished outbox messages older than ``before``,
        ``chunk`` rows per short transaction (the nightly purge)."""
        counts = {"inbox": 0, "outbox": 0}
        statements = {
            "inbox": "DELETE FROM inbox WHERE id IN (SELECT id FROM inbox WHERE received_at < ?"
            " AND status IN ('done', 'failed') LIMIT ?)",
            "outbox": "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE created_at < ?"
            " AND status IN ('sent', 'failed', 'skipped', 'cancelled', 'uncertain') LIMIT ?)",
        }
        for table, sql in statements.items():
            while True:
                with self.transaction():
                    deleted = self._write(sql, [before, chunk]).rowcount
                counts[table] += deleted
                if deleted < chunk:
                    break
        return counts

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
        """Queue rendered messages for one recipient, in order.

        PostgreSQL: the first row's INSERT also wakes this channel's senders, whichever
        process runs them (NOTIFY at commit), in the same round trip."""
        columns = (
            "INSERT INTO outbox (channel, recipient, is_group, member_id, kind, priority, part, message,"
            " messaging_type, inbox_id, created_at, next_attempt_at)"
        )
        ids = []
        with self.transaction():
            for part, message in enumerate(messages):
                values = [
                    channel, recipient, int(is_group), member_id, kind,
                    PRIORITY_BROADCAST if kind == "broadcast" else PRIORITY_REPLY,
                    part, json.dumps(message, ensure_ascii=False), messaging_type, inbox_id, at, at,
                ]
                if self.postgres and part == 0:
                    ids.append(int(self._value(
                        columns + " SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM (SELECT pg_notify(?, ?)) AS wake RETURNING id",
                        [*values, OUTBOX_CHANNEL, channel],
                    )))
                    continue
                cursor = self._write(columns + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
                ids.append(int(cursor.lastrowid))
        return ids

    def claim_outbound(
        self, channel: str, *, now: float, broadcasts: bool = True, owner: str | None = None
    ) -> dict[str, Any] | None:
        """Take the next due message of ``channel`` and mark it 'sending' (by ``owner``, the
        sender process, whose lease tells the others it is still in flight).

        A recipient's messages leave in order: a message is not due while an earlier
        one to the same recipient is still pending or in flight.  ``broadcasts=False``
        (quiet hours) leaves broadcast messages waiting; replies still go.
        Conversation replies (priority 0) always leave before broadcast sends
        (priority 1): a member's answer never queues behind a whole broadcast, and the
        broadcast uses the rest of the channel's rate.
        """
        # one statement (a round trip, and atomic by itself): the chosen row is updated and returned
        sql = (
            "UPDATE outbox SET status = 'sending', claimed_at = ?, claimed_by = ?, attempts = attempts + 1"
            " WHERE id = (SELECT o.id FROM outbox o WHERE o.channel = ? AND o.status = 'pending'"
            " AND o.next_attempt_at <= ?"
            + ("" if broadcasts else " AND o.kind != 'broadcast'")
            # parts of one reply (or of one broadcast run) leave in order; a paused
            # broadcast never holds up a reply
            + " AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.channel = o.channel"
            "   AND p.recipient = o.recipient AND p.status IN ('pending', 'sending')"
            "   AND coalesce(p.run_id, 0) = coalesce(o.run_id, 0) AND p.id < o.id)"
            " ORDER BY o.priority, o.next_attempt_at, o.id LIMIT 1"
            # PostgreSQL: senders in several processes each take a different row
            + (" FOR UPDATE OF o SKIP LOCKED" if self.postgres else "")
            + ") AND status = 'pending' RETURNING *"
        )
        with self._lock:
            return self._row(sql, [now, owner, channel, now])

    def next_due_at(self, channel: str) -> float | None:
        """When the earliest pending message of ``channel`` becomes due."""
        # one indexed minimum per priority (outbox_claim), not a scan of the queue
        return self._value(
            "SELECT min(t) FROM (SELECT min(next_attempt_at) AS t FROM outbox"
            "  WHERE channel = ? AND status = 'pending' AND priority = 0"
            " UNION ALL SELECT min(next_attempt_at) FROM outbox"
            "  WHERE channel = ? AND status = 'pending' AND priority = 1) AS due",
            [channel, channel],
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
            " error_message = ?, reason = ? WHERE id = ? AND status != 'sent'",  # an echo may have confirmed it
            [status, at, code, subcode, message[:500], reason, outbox_id],
        )

    def hold_outbound(self, outbox_id: int, *, next_attempt_at: float, code: str, subcode: str | None, message: str) -> None:
        """Put a claimed message back, not counting the attempt: the channel, not the
        message, is at fault (its token was refused); it leaves when the channel works."""
        self._write(
            "UPDATE outbox SET status = CASE"
            "   (SELECT state FROM broadcast_runs r WHERE r.id = outbox.run_id)"
            "   WHEN 'paused' THEN 'paused' WHEN 'cancelled' THEN 'cancelled' ELSE 'pending' END,"
            " attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, next_attempt_at = ?, error_code = ?, error_subcode = ?,"
            " error_message = ? WHERE id = ? AND status = 'sending'",
            [next_attempt_at, code, subcode, message[:500], outbox_id],
        )

    def mark_uncertain(self, outbox_id: int, *, at: float, code: str, message: str, reason: str) -> None:
        """The request went out but no answer came: maybe delivered; staff decide."""
        self._write(
            "UPDATE outbox SET status = 'uncertain', finished_at = ?, error_code = ?, error_message = ?, reason = ?"
            " WHERE id = ? AND status = 'sending'",
            [at, code, message[:500], reason, outbox_id],
        )

    def recover_stale_sending(self, *, claimed_before: float, at: float) -> int:
        """In a live process: messages 'sending' since before ``claimed_before`` (longer
        than any send can take) were lost by a bug outside the send; they become
        'uncertain' so they stop holding up the member's later messages."""
        cursor = self._write(
            "UPDATE outbox SET status = 'uncertain', finished_at = ?, reason = 'stuck_sending'"
            " WHERE status = 'sending' AND claimed_at < ?",
            [at, claimed_before],
        )
        return cursor.rowcount

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

    def requeue_uncertain(self, outbox_ids: list[int] | None = None, *, at: float, finished_before: float | None = None) -> int:
        """Staff decision: send 'uncertain' messages again, with a fresh count of attempts.

        ``finished_before``: only those uncertain since before then (younger ones may still
        be confirmed by the platform's echo)."""
        sql = (
            "UPDATE outbox SET status = 'pending', next_attempt_at = ?, reason = NULL, attempts = 0,"
            " finished_at = NULL WHERE status = 'uncertain'"
        )
        params: list[Any] = [at]
        if finished_before is not None:
            sql += " AND finished_at < ?"
            params.append(finished_before)
        if outbox_ids is not None:
            sql += f" AND id IN ({','.join('?' * len(outbox_ids))})"
            params += outbox_ids
        return self._write(sql, params).rowcount

    def count_uncertain(self, *, finished_since: float = 0.0) -> int:
        return int(self._value("SELECT count(*) FROM outbox WHERE status = 'uncertain' AND finished_at >= ?", [finished_since]))

    def get_outbound(self, outbox_id: int) -> dict[str, Any] | None:
        return self._row("SELECT * FROM outbox WHERE id = ?", [outbox_id])

    def outbound_for(self, channel: str, recipient: str) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT * FROM outbox WHERE channel = ? AND recipient = ? ORDER BY id", [channel, recipient]
        )

    def outbox_backlog(self) -> dict[str, int]:
        rows = self._rows(
            "SELECT channel, count(*) AS n FROM outbox WHERE status IN ('pending', 'sending') GROUP BY channel"
        )
        return {r["channel"]: r["n"] for r in rows}

    def outbox_counts(self) -> dict[str, int]:
        return {r["status"]: r["n"] for r in self._rows("SELECT status, count(*) AS n FROM outbox GROUP BY status")}
