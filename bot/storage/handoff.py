"""Conversations handed to staff ("GẶP CÁN BỘ") and their threads (storage layer, mixed into Store)."""

from __future__ import annotations

from typing import Any

from bot.storage.console import unit_condition

OPEN, CLOSED = "open", "closed"
AUTHORS = ("member", "bot", "staff")

_LIST_COLUMNS = (
    "h.*, m.channel AS member_channel, m.platform_id, m.display_name, m.full_name, m.last_inbound_at,"
    " s.username AS assigned_username,"
    " (SELECT t.text FROM handoff_messages t WHERE t.handoff_id = h.id ORDER BY t.id DESC LIMIT 1) AS last_text,"
    " (SELECT t.at FROM handoff_messages t WHERE t.handoff_id = h.id ORDER BY t.id DESC LIMIT 1) AS last_at"
)


class HandoffStore:
    """Methods of Store for staff conversations."""

    db: Any
    _rows: Any
    _row: Any
    _value: Any
    _write: Any
    transaction: Any

    def open_handoff(self, member_id: int) -> dict[str, Any] | None:
        """The member's open conversation with staff, if any."""
        return self._row("SELECT * FROM handoffs WHERE member_id = ? AND state = 'open'", [member_id])

    def get_handoff(self, handoff_id: int) -> dict[str, Any] | None:
        return self._row(
            f"SELECT {_LIST_COLUMNS} FROM handoffs h JOIN members m ON m.id = h.member_id"
            " LEFT JOIN staff s ON s.id = h.assigned_staff_id WHERE h.id = ?",
            [handoff_id],
        )

    def create_handoff(self, *, member_id: int, channel: str, unit_code: str | None, at: float) -> int:
        cursor = self._write(
            "INSERT INTO handoffs (member_id, channel, unit_code, state, opened_at) VALUES (?, ?, ?, 'open', ?)",
            [member_id, channel, unit_code, at],
        )
        return int(cursor.lastrowid)

    def close_handoff(self, handoff_id: int, *, at: float, by: str) -> bool:
        cursor = self._write(
            "UPDATE handoffs SET state = 'closed', closed_at = ?, closed_by = ?, waiting_since = NULL"
            " WHERE id = ? AND state = 'open'",
            [at, by, handoff_id],
        )
        return bool(cursor.rowcount)

    def assign_handoff(self, handoff_id: int, staff_id: int | None) -> None:
        self._write("UPDATE handoffs SET assigned_staff_id = ? WHERE id = ?", [staff_id, handoff_id])

    def add_handoff_message(
        self,
        handoff_id: int,
        *,
        author: str,
        text: str,
        at: float,
        staff_id: int | None = None,
        staff_name: str = "",
        outbox_id: int | None = None,
        messaging_type: str | None = None,
    ) -> int:
        """Add a message to the thread; member messages start (or keep) the wait, staff replies end it."""
        if author not in AUTHORS:
            raise ValueError(author)
        cursor = self._write(
            "INSERT INTO handoff_messages (handoff_id, at, author, staff_id, staff_name, text, outbox_id, messaging_type)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [handoff_id, at, author, staff_id, staff_name, text, outbox_id, messaging_type],
        )
        if author == "member":
            self._write(
                "UPDATE handoffs SET last_member_at = ?, waiting_since = coalesce(waiting_since, ?) WHERE id = ?",
                [at, at, handoff_id],
            )
        elif author == "staff":
            self._write(
                "UPDATE handoffs SET waiting_since = NULL, first_staff_reply_at = coalesce(first_staff_reply_at, ?)"
                " WHERE id = ?",
                [at, handoff_id],
            )
        return int(cursor.lastrowid)

    def handoff_messages(self, handoff_id: int) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT t.*, o.status AS outbox_status, o.reason AS outbox_reason FROM handoff_messages t"
            " LEFT JOIN outbox o ON o.id = t.outbox_id WHERE t.handoff_id = ? ORDER BY t.id",
            [handoff_id],
        )

    def _handoff_scope(self, scope_unit: str | None) -> tuple[str, list[Any]]:
        """Unit-bound staff see their unit and its sub-units; members without a unit are organisation level."""
        if not scope_unit:
            return "1 = 1", []
        return unit_condition("h.unit_code", scope_unit)

    def list_handoffs(
        self, *, state: str | None = OPEN, scope_unit: str | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        """Conversations, those waiting longest first, then the newest."""
        where, params = self._handoff_scope(scope_unit)
        if state:
            where += " AND h.state = ?"
            params.append(state)
        return self._rows(
            f"SELECT {_LIST_COLUMNS} FROM handoffs h JOIN members m ON m.id = h.member_id"
            f" LEFT JOIN staff s ON s.id = h.assigned_staff_id WHERE {where}"
            " ORDER BY h.waiting_since IS NULL, h.waiting_since, h.opened_at DESC LIMIT ?",
            [*params, limit],
        )

    def count_waiting_handoffs(self, scope_unit: str | None = None) -> int:
        where, params = self._handoff_scope(scope_unit)
        return int(
            self._value(
                f"SELECT count(*) FROM handoffs h WHERE {where} AND h.state = 'open' AND h.waiting_since IS NOT NULL",
                params,
            )
        )

    # -- notifications ----------------------------------------------------------------------
    def unnotified_handoffs(self) -> list[dict[str, Any]]:
        return self._rows(
            f"SELECT {_LIST_COLUMNS} FROM handoffs h JOIN members m ON m.id = h.member_id"
            " LEFT JOIN staff s ON s.id = h.assigned_staff_id"
            " WHERE h.state = 'open' AND h.notified_at IS NULL ORDER BY h.id"
        )

    def last_handoff_notice_at(self) -> float | None:
        return self._value("SELECT max(notified_at) FROM handoffs")

    def mark_handoffs_notified(self, handoff_ids: list[int], *, at: float) -> None:
        if handoff_ids:
            self._write(
                f"UPDATE handoffs SET notified_at = ? WHERE id IN ({','.join('?' * len(handoff_ids))})",
                [at, *handoff_ids],
            )

    # -- reports ----------------------------------------------------------------------------
    def handoff_rows_between(self, start: float, end: float) -> list[dict[str, Any]]:
        """Conversations opened in [start, end) with their unit and first reply time."""
        return self._rows(
            "SELECT id, unit_code, channel, state, opened_at, closed_at, first_staff_reply_at FROM handoffs"
            " WHERE opened_at >= ? AND opened_at < ? ORDER BY id",
            [start, end],
        )

    def erase_handoffs(self, member_id: int, *, at: float) -> int:
        """XÓA DỮ LIỆU: close her conversations and blank their messages (counts stay)."""
        self._write(
            "UPDATE handoffs SET state = 'closed', closed_at = coalesce(closed_at, ?), closed_by = coalesce(closed_by, 'erased'),"
            " waiting_since = NULL WHERE member_id = ?",
            [at, member_id],
        )
        return int(
            self._write(
                "UPDATE handoff_messages SET text = '', staff_name = '' WHERE handoff_id IN"
                " (SELECT id FROM handoffs WHERE member_id = ?)",
                [member_id],
            ).rowcount
        )

    def last_handoff_activity(self, handoff_id: int) -> float | None:
        return self._value("SELECT max(at) FROM handoff_messages WHERE handoff_id = ?", [handoff_id])

    def recent_unanswered(self, member_id: int, *, since: float, limit: int = 3) -> list[dict[str, Any]]:
        """Her latest questions the bot could not answer (oldest first), to open a staff thread with."""
        rows = self._rows(
            "SELECT id, text, asked_at FROM questions WHERE member_id = ? AND asked_at >= ? AND decision != 'answer'"
            " AND text != '' ORDER BY id DESC LIMIT ?",
            [member_id, since, limit],
        )
        return rows[::-1]

    def handoff_reply_draft(self, message_id: int) -> dict[str, Any] | None:
        """A staff reply and the member's messages it answered (since the previous staff reply), for a draft entry."""
        reply = self._row("SELECT * FROM handoff_messages WHERE id = ? AND author = 'staff'", [message_id])
        if reply is None:
            return None
        previous = self._value(
            "SELECT coalesce(max(id), 0) FROM handoff_messages WHERE handoff_id = ? AND author = 'staff' AND id < ?",
            [reply["handoff_id"], message_id],
        )
        asked = self._rows(
            "SELECT text FROM handoff_messages WHERE handoff_id = ? AND author = 'member' AND id > ? AND id < ?"
            " AND text != '' ORDER BY id",
            [reply["handoff_id"], previous, message_id],
        )
        return {"handoff_id": reply["handoff_id"], "answer": reply["text"], "questions": [r["text"] for r in asked]}

    def handoff_counts(self, member_id: int) -> dict[str, int]:
        """Her conversations with staff and their messages (DỮ LIỆU CỦA TÔI)."""
        row = self._row(
            "SELECT count(DISTINCT h.id) AS conversations, count(t.id) AS messages FROM handoffs h"
            " LEFT JOIN handoff_messages t ON t.handoff_id = h.id AND t.text != '' WHERE h.member_id = ?",
            [member_id],
        ) or {}
        return {"conversations": int(row.get("conversations") or 0), "messages": int(row.get("messages") or 0)}
