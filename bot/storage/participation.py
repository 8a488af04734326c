"""Quizzes, registration, contest participation and reports (storage layer, mixed into Store)."""

from __future__ import annotations

import json
import secrets
from typing import Any

from bot.storage.reports import ReportStore

# Member columns a registration or an edit may set.
MEMBER_FIELDS = ("full_name", "unit_code", "phone", "consent_at", "consent_version", "registered_at")


class ParticipationStore(ReportStore):
    """Methods of Store for registration, quizzes, hái hoa, contests (and, inherited, reports)."""

    db: Any
    _rows: Any
    _row: Any
    _value: Any
    _write: Any
    transaction: Any

    # -- registration ----------------------------------------------------------
    def update_member(self, member_id: int, **fields: Any) -> None:
        """Set registration fields (full_name, unit_code, phone, consent_*, registered_at)."""
        bad = set(fields) - set(MEMBER_FIELDS)
        if bad:
            raise ValueError(f"not member fields: {sorted(bad)}")
        if not fields:
            return
        sets = ", ".join(f"{name} = ?" for name in fields)
        self._write(f"UPDATE members SET {sets} WHERE id = ?", [*fields.values(), member_id])

    def member_by_phone(self, phone: str) -> dict[str, Any] | None:
        """A registered member with this (normalised) phone number."""
        return self._row(
            "SELECT * FROM members WHERE phone = ? AND registered_at IS NOT NULL ORDER BY registered_at LIMIT 1", [phone]
        )

    def link_imported_participations(self, member_id: int, phone: str) -> int:
        """Attach imported participation rows with this phone to the member who just registered it."""
        return self._write(
            "UPDATE participations SET member_id = ? WHERE member_id IS NULL AND phone = ?", [member_id, phone]
        ).rowcount

    # -- what is stored about a member ------------------------------------------
    def member_data(self, member_id: int) -> dict[str, Any]:
        """Everything stored about one member (DỮ LIỆU CỦA TÔI)."""
        member = self._row("SELECT * FROM members WHERE id = ?", [member_id]) or {}
        return {
            "member": member,
            "questions": self._row(
                "SELECT count(*) AS n, max(asked_at) AS last_at FROM questions WHERE member_id = ?", [member_id]
            ),
            "recent_questions": [
                r["text"] for r in self._rows(
                    "SELECT text FROM questions WHERE member_id = ? ORDER BY asked_at DESC LIMIT 3", [member_id]
                )
            ],
            "attempts": self._rows(
                "SELECT quiz_id, state, score, total, started_at, duration FROM quiz_attempts"
                " WHERE member_id = ? ORDER BY started_at DESC",
                [member_id],
            ),
            "answers": int(self._value(
                "SELECT count(*) FROM quiz_answers WHERE attempt_id IN (SELECT id FROM quiz_attempts WHERE member_id = ?)",
                [member_id],
            )),
            "draws": int(self._value("SELECT count(*) FROM haihoa_draws WHERE member_id = ?", [member_id])),
            "participations": self._rows(
                "SELECT contest_id, source, participated_on, note, result FROM participations"
                " WHERE member_id = ? ORDER BY participated_on",
                [member_id],
            ),
            "inbound": int(self._value(
                "SELECT count(*) FROM inbox WHERE channel = ? AND json_extract(event, '$.user_id') = ?",
                [member.get("channel"), member.get("platform_id")],
            )) if member else 0,
            "outbound": int(self._value(
                "SELECT count(*) FROM outbox WHERE member_id = ? AND is_group = 0", [member_id]
            )),
        }

    def erase_member(self, member_id: int, *, at: float) -> dict[str, int]:
        """Erase a member's personal data, keeping only anonymous counts (XÓA DỮ LIỆU).

        The member row stays as an anonymous record (channel, unit, first/last
        activity) so totals in past reports do not change; name, phone, platform id,
        display name, consent and tags go.  Quiz attempts, hái hoa draws and contest
        rows stay linked to that anonymous record (scores count, names cannot be
        shown); imported rows lose name and phone; the text of questions, the
        member's messages in the inbox and the replies in the outbox are blanked.
        Leaderboards, result lists and exports leave erased members out.
        """
        member = self._row("SELECT * FROM members WHERE id = ?", [member_id])
        if member is None:
            return {}
        channel, platform_id, phone = member["channel"], member["platform_id"], member["phone"]
        counts: dict[str, int] = {}
        with self.transaction():
            self.erase_inbox_keys(channel, platform_id)  # type: ignore[attr-defined]  (PrivacyStore)
            counts["inbox"] = self._write(
                "UPDATE inbox SET raw = '{}', event = json_object('channel', channel, 'kind',"
                " json_extract(event, '$.kind'), 'user_id', '', 'event_key', event_key)"
                " WHERE channel = ? AND json_extract(event, '$.user_id') = ?",
                [channel, platform_id],
            ).rowcount
            # replies already sent (or given up): blank them; a reply still pending (the
            # goodbye) is sent first and blanked by the next erasure or purge run
            counts["outbox"] = self._write(
                "UPDATE outbox SET recipient = '', message = '{}' WHERE member_id = ? AND is_group = 0"
                " AND status IN ('sent', 'failed', 'skipped', 'uncertain', 'cancelled')",
                [member_id],
            ).rowcount
            self._write(
                "UPDATE outbox SET status = 'cancelled', reason = 'erased', finished_at = ?"
                " WHERE member_id = ? AND kind = 'broadcast' AND status IN ('pending', 'paused')",
                [at, member_id],
            )
            counts["questions"] = self._write(
                "UPDATE questions SET text = '', candidates = '[]', review_status = 'ignored' WHERE member_id = ?",
                [member_id],
            ).rowcount
            params: list[Any] = [member_id]
            extra = ""
            if phone:
                extra, params = " OR phone = ?", [member_id, phone]
            counts["participations"] = self._write(
                "UPDATE participations SET full_name = NULL, phone = NULL, note = '', result = ''"
                f" WHERE member_id = ?{extra}",
                params,
            ).rowcount
            self._write("DELETE FROM conversations WHERE member_id = ?", [member_id])
            counts["handoff_messages"] = self.erase_handoffs(member_id, at=at)  # staff threads: text blanked
            self._write(
                "UPDATE members SET platform_id = ?, display_name = '', full_name = NULL, phone = NULL,"
                " consent_at = NULL, consent_version = NULL, registered_at = NULL, tags = '[]', subscribed = 0,"
                " status = 'erased', status_reason = 'erased', erased_at = ? WHERE id = ?",
                [f"erased-{member_id}-{secrets.token_hex(6)}", at, member_id],
            )
        return counts

    def scrub_erased_outbox(self, *, chunk: int = 500) -> int:
        """Blank replies to erased members that were still pending at erasure and have left since.

        In short transactions of ``chunk`` rows, found through the outbox_member index.
        """
        total = 0
        while True:
            with self.transaction():
                ids = [
                    r["id"] for r in self._rows(
                        "SELECT o.id FROM members m JOIN outbox o ON o.member_id = m.id WHERE m.status = 'erased'"
                        " AND o.is_group = 0 AND o.recipient != ''"
                        " AND o.status IN ('sent', 'failed', 'skipped', 'uncertain', 'cancelled') LIMIT ?",
                        [chunk],
                    )
                ]
                if ids:
                    self._write(
                        f"UPDATE outbox SET recipient = '', message = '{{}}' WHERE id IN ({','.join('?' * len(ids))})", ids
                    )
            total += len(ids)
            if len(ids) < chunk:
                return total

    def silent_members(self, before: float) -> list[int]:
        """Members (not erased) whose last message is older than ``before`` and who left personal data."""
        return [
            r["id"] for r in self._rows(
                "SELECT id FROM members WHERE status != 'erased' AND coalesce(last_inbound_at, first_seen_at) < ?"
                " AND (full_name IS NOT NULL OR phone IS NOT NULL OR consent_at IS NOT NULL)",
                [before],
            )
        ]

    # -- quizzes ---------------------------------------------------------------
    def start_attempt(
        self, *, quiz_id: str, member_id: int, unit_code: str | None, channel: str, seed: int, plan: list[Any], at: float,
        event_key: str | None = None,
    ) -> int:
        """``event_key``: the inbound event whose replies carry the first question."""
        cursor = self._write(
            "INSERT INTO quiz_attempts (quiz_id, member_id, unit_code, channel, seed, plan, total, started_at, asked_at,"
            " asked_event_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [quiz_id, member_id, unit_code, channel, seed, json.dumps(plan), len(plan), at, at, event_key],
        )
        return int(cursor.lastrowid)

    def get_attempt(self, attempt_id: int, *, with_sent_at: bool = False) -> dict[str, Any] | None:
        """The attempt (its plan parsed).  ``with_sent_at``: also ``question_sent_at``, what
        :meth:`question_sent_at` tells for its current question, in the same statement."""
        sent_at = (
            ", (SELECT max(o.finished_at) FROM inbox i JOIN outbox o ON o.inbox_id = i.id"
            " WHERE i.channel = a.channel AND i.event_key = a.asked_event_key AND o.status = 'sent') AS question_sent_at"
        ) if with_sent_at else ""
        row = self._row(f"SELECT a.*{sent_at} FROM quiz_attempts a WHERE a.id = ?", [attempt_id])
        if row is not None:
            row["plan"] = json.loads(row["plan"])
        return row

    def active_attempt(self, member_id: int, quiz_id: str) -> dict[str, Any] | None:
        row = self._row(
            "SELECT id FROM quiz_attempts WHERE member_id = ? AND quiz_id = ? AND state = 'active'"
            " ORDER BY id DESC LIMIT 1",
            [member_id, quiz_id],
        )
        return self.get_attempt(row["id"]) if row else None

    def count_attempts(self, member_id: int, quiz_id: str) -> int:
        """Attempts that used up a turn: finished ones and the one in progress."""
        return int(self._value(
            "SELECT count(*) FROM quiz_attempts WHERE member_id = ? AND quiz_id = ? AND state IN ('finished', 'active')",
            [member_id, quiz_id],
        ))

    def record_answer(
        self, attempt_id: int, *, position: int, question_id: str, choice: int | None, correct: bool, at: float, elapsed: float,
        event_key: str | None = None,
    ) -> dict[str, Any] | None:
        """Store an answer and move to the next question: the attempt as it is now (as
        :meth:`get_attempt` gives it), or None if this position was answered already.

        ``event_key``: the inbound event whose replies carry the next question.
        """
        with self.transaction():
            attempt = self._row(
                "UPDATE quiz_attempts SET position = position + 1, score = score + ?, asked_at = ?, asked_event_key = ?"
                " WHERE id = ? AND position = ? AND state = 'active' RETURNING *",
                [int(correct), at, event_key, attempt_id, position],
            )
            if attempt is None:
                return None
            self._write(
                "INSERT INTO quiz_answers (attempt_id, question_id, choice, correct, answered_at, elapsed)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (attempt_id, question_id) DO NOTHING",
                [attempt_id, question_id, choice, int(correct), at, elapsed],
            )
        attempt["plan"] = json.loads(attempt["plan"])
        return attempt

    def question_sent_at(self, channel: str, event_key: str | None) -> float | None:
        """When the replies of inbound event ``event_key`` (a quiz question) reached the platform.

        The last part's send time (the question and its choices close the reply); None
        while nothing of it was sent, or when the event did not go through the inbox.
        """
        if not event_key:
            return None
        return self._value(
            "SELECT max(o.finished_at) FROM inbox i JOIN outbox o ON o.inbox_id = i.id"
            " WHERE i.channel = ? AND i.event_key = ? AND o.status = 'sent'",
            [channel, event_key],
        )

    def end_attempt(self, attempt_id: int, state: str, *, at: float) -> None:
        """finished (with its duration), expired or closed."""
        self._write(
            "UPDATE quiz_attempts SET state = ?, finished_at = ?, duration = CASE WHEN ? = 'finished'"
            " THEN ? - started_at END WHERE id = ? AND state = 'active'",
            [state, at, state, at, attempt_id],
        )

    def expire_stale_attempts(self, *, before: float, at: float, member_id: int | None = None) -> int:
        """Active attempts whose last question was sent before ``before`` become 'expired'."""
        sql = "UPDATE quiz_attempts SET state = 'expired', finished_at = ? WHERE state = 'active' AND asked_at < ?"
        params: list[Any] = [at, before]
        if member_id is not None:
            sql += " AND member_id = ?"
            params.append(member_id)
        return self._write(sql, params).rowcount

    def answers_of(self, attempt_id: int) -> list[dict[str, Any]]:
        return self._rows("SELECT * FROM quiz_answers WHERE attempt_id = ? ORDER BY id", [attempt_id])

    # -- hái hoa ---------------------------------------------------------------
    def add_draw(self, *, member_id: int, channel: str, kind: str, item_id: str, plan: list[int], at: float) -> int:
        cursor = self._write(
            "INSERT INTO haihoa_draws (member_id, channel, kind, item_id, plan, drawn_at) VALUES (?, ?, ?, ?, ?, ?)",
            [member_id, channel, kind, item_id, json.dumps(plan), at],
        )
        return int(cursor.lastrowid)

    def get_draw(self, draw_id: int) -> dict[str, Any] | None:
        row = self._row("SELECT * FROM haihoa_draws WHERE id = ?", [draw_id])
        if row is not None:
            row["plan"] = json.loads(row["plan"])
        return row

    def answer_draw(self, draw_id: int, *, correct: bool | None, at: float) -> bool:
        """Record the reveal (and for quiz questions whether the answer was right); once."""
        return bool(self._write(
            "UPDATE haihoa_draws SET answered_at = ?, correct = ? WHERE id = ? AND answered_at IS NULL",
            [at, None if correct is None else int(correct), draw_id],
        ).rowcount)

    def recent_draw_items(self, member_id: int, limit: int = 30) -> set[str]:
        return {r["item_id"] for r in self._rows(
            "SELECT item_id FROM haihoa_draws WHERE member_id = ? ORDER BY id DESC LIMIT ?", [member_id, limit]
        )}

    # -- contests --------------------------------------------------------------
    def add_participation(
        self, *, contest_id: str, member_id: int | None, source: str, at: float, participated_on: str,
        unit_code: str | None = None, full_name: str | None = None, phone: str | None = None,
        result: str = "", note: str = "", import_id: int | None = None,
    ) -> int:
        cursor = self._write(
            "INSERT INTO participations (member_id, contest_id, source, reported_at, note, full_name, phone, unit_code,"
            " participated_on, result, import_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [member_id, contest_id, source, at, note, full_name, phone, unit_code, participated_on, result, import_id, at],
        )
        return int(cursor.lastrowid)

    def member_participation(self, member_id: int, contest_id: str) -> dict[str, Any] | None:
        return self._row(
            "SELECT * FROM participations WHERE member_id = ? AND contest_id = ? ORDER BY id LIMIT 1", [member_id, contest_id]
        )

    def find_imported_participation(self, contest_id: str, *, phone: str | None, name_unit: tuple[str, str] | None) -> dict[str, Any] | None:
        """The existing row an imported one duplicates: same contest and phone, or same name and unit."""
        if phone:
            # two indexed look-ups (an OR across the join used no index): the row's own
            # phone, and the phone of the member it belongs to; the older row wins
            rows = [
                r for r in (
                    self._row(
                        "SELECT * FROM participations WHERE contest_id = ? AND phone = ? ORDER BY id LIMIT 1",
                        [contest_id, phone],
                    ),
                    self._row(
                        # CROSS JOIN: members first (by phone), never every row of the contest
                        "SELECT p.* FROM members m CROSS JOIN participations p ON p.member_id = m.id"
                        " WHERE m.phone = ? AND p.contest_id = ? ORDER BY p.id LIMIT 1",
                        [phone, contest_id],
                    ),
                ) if r is not None
            ]
            if rows:
                return min(rows, key=lambda r: r["id"])
        if name_unit:
            return self._row(
                "SELECT * FROM participations WHERE contest_id = ? AND full_name = ? AND unit_code = ? AND phone IS NULL"
                " ORDER BY id LIMIT 1",
                [contest_id, name_unit[0], name_unit[1]],
            )
        return None

    def update_participation(self, participation_id: int, *, at: float, **fields: Any) -> None:
        allowed = {"note", "result", "participated_on", "unit_code", "full_name", "phone", "member_id"}
        if set(fields) - allowed:
            raise ValueError(f"not participation fields: {sorted(set(fields) - allowed)}")
        sets = ", ".join(f"{k} = ?" for k in fields)
        self._write(
            f"UPDATE participations SET {sets}, updated_at = ? WHERE id = ?", [*fields.values(), at, participation_id]
        )

    def get_participation(self, participation_id: int) -> dict[str, Any] | None:
        return self._row("SELECT * FROM participations WHERE id = ?", [participation_id])

    def log_import(self, *, filename: str, at: float, by: str, total: int, added: int, merged: int, reasons: list[Any]) -> int:
        cursor = self._write(
            "INSERT INTO participation_imports (filename, imported_at, imported_by, total_rows, added, merged, rejected,"
            " reasons) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [filename, at, by, total, added, merged, len(reasons), json.dumps(reasons, ensure_ascii=False)],
        )
        return int(cursor.lastrowid)

    def finish_import(self, import_id: int, *, total: int, added: int, merged: int, reasons: list[Any]) -> None:
        self._write(
            "UPDATE participation_imports SET total_rows = ?, added = ?, merged = ?, rejected = ?, reasons = ? WHERE id = ?",
            [total, added, merged, len(reasons), json.dumps(reasons, ensure_ascii=False), import_id],
        )
