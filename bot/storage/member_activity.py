"""A member's page in the console: their recent questions, quiz attempts, contest reports and broadcasts received
(storage layer, mixed into Store)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.storage.console import unit_condition


class MemberActivityStore:
    """Methods of Store for the console's member page and the unit scope of question ids."""

    _rows: Any
    _row: Any

    def member_in_scope(self, member_id: int, scope_unit: str | None) -> dict[str, Any] | None:
        """The member, if ``scope_unit`` (a unit-bound staff account's unit) may see them; None otherwise."""
        if not scope_unit:
            return self._row("SELECT * FROM members WHERE id = ?", [member_id])
        sql, params = unit_condition("unit_code", scope_unit)
        return self._row(f"SELECT * FROM members WHERE id = ? AND {sql}", [member_id, *params])

    def member_other_channels(self, member: dict[str, Any]) -> list[dict[str, Any]]:
        """The same person on other channels: other member rows registered with the same phone number."""
        if not member.get("phone"):
            return []
        return self._rows(
            "SELECT id, channel, display_name, full_name, unit_code FROM members WHERE phone = ? AND id != ? ORDER BY id",
            [member["phone"], member["id"]],
        )

    def member_questions(self, member_id: int, limit: int = 10) -> list[dict[str, Any]]:
        """The member's latest questions and what the bot did with each."""
        return self._rows(
            "SELECT id, text, asked_at, decision, entry_id, review_status FROM questions WHERE member_id = ?"
            " ORDER BY asked_at DESC, id DESC LIMIT ?",
            [member_id, limit],
        )

    def member_quiz_attempts(self, member_id: int, limit: int = 10) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT id, quiz_id, state, score, total, duration, started_at, finished_at FROM quiz_attempts"
            " WHERE member_id = ? ORDER BY started_at DESC, id DESC LIMIT ?",
            [member_id, limit],
        )

    def member_participations(self, member_id: int, limit: int = 20) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT id, contest_id, source, reported_at, participated_on, result, note FROM participations"
            " WHERE member_id = ? ORDER BY reported_at DESC, id DESC LIMIT ?",
            [member_id, limit],
        )

    def member_broadcasts(self, member: dict[str, Any], limit: int = 10) -> list[dict[str, Any]]:
        """Broadcasts sent (or skipped, failed) to the member, newest first (one row per run)."""
        return self._rows(
            "SELECT o.id, o.status, o.reason, o.created_at, o.finished_at, r.broadcast_id, b.text"
            " FROM outbox o JOIN broadcast_runs r ON r.id = o.run_id JOIN broadcasts b ON b.id = r.broadcast_id"
            " WHERE o.channel = ? AND o.recipient = ? AND o.kind = 'broadcast' AND o.part = 0"
            " ORDER BY o.id DESC LIMIT ?",
            [member["channel"], member["platform_id"], limit],
        )

    def questions_in_scope(self, question_ids: Sequence[int], scope_unit: str | None) -> list[int]:
        """The ids among ``question_ids`` asked by members of ``scope_unit`` (all of them without a scope)."""
        if not scope_unit or not question_ids:
            return list(question_ids)
        sql, params = unit_condition("su.unit_code", scope_unit)
        return [r["id"] for r in self._rows(
            f"SELECT id FROM questions WHERE id IN ({','.join('?' * len(question_ids))})"
            f" AND member_id IN (SELECT su.id FROM members su WHERE {sql})",
            [*question_ids, *params],
        )]
