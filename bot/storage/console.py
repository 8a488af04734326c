"""Staff console SQL: dashboard figures, member search, audit search (storage layer, mixed into Store)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.core.models import TEST_CHANNELS


def _like(text: str) -> str:
    """``text`` as a LIKE pattern matching it anywhere (with ``ESCAPE '\\'``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def unit_condition(column: str, unit_code: str) -> tuple[str, list[Any]]:
    """A unit and its sub-units (codes are paths such as CT.NK.01)."""
    prefix = unit_code.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ".%"
    return f"({column} = ? OR {column} LIKE ? ESCAPE '\\')", [unit_code, prefix]


def _buckets(bounds: Sequence[float]) -> tuple[str, list[Any]]:
    """A CTE ``b(i, lo, hi)`` of consecutive time ranges between ``bounds``."""
    rows = ", ".join("(?, ?, ?)" for _ in bounds[1:])
    params: list[Any] = []
    for i, (lo, hi) in enumerate(zip(bounds, bounds[1:])):
        params += [i, lo, hi]
    return f"WITH b(i, lo, hi) AS (VALUES {rows})", params


def _member_scope(member_column: str, scope_unit: str | None) -> tuple[str, list[Any]]:
    """`` AND <member> is a member of the unit or its sub-units`` (empty without a scope)."""
    if not scope_unit:
        return "", []
    sql, params = unit_condition("su.unit_code", scope_unit)
    return f" AND {member_column} IN (SELECT su.id FROM members su WHERE {sql})", params


def _unit_scope(column: str, scope_unit: str | None) -> tuple[str, list[Any]]:
    if not scope_unit:
        return "", []
    sql, params = unit_condition(column, scope_unit)
    return f" AND {sql}", params


class ConsoleStore:
    """Methods of Store for the staff console's pages."""

    db: Any
    _rows: Any
    _row: Any
    _value: Any
    _write: Any

    # -- dashboard ----------------------------------------------------------------------
    def conversations_by_bucket(self, bounds: Sequence[float], scope_unit: str | None = None) -> list[dict[str, int]]:
        """Per time range: members who wrote (``people``) and their messages (``messages``); of one unit with ``scope_unit``."""
        cte, params = _buckets(bounds)
        local = ",".join("?" * len(TEST_CHANNELS))
        scope, scope_params = "", []
        if scope_unit:
            sql, scope_params = unit_condition("su.unit_code", scope_unit)
            scope = (" AND EXISTS (SELECT 1 FROM members su WHERE su.channel = x.channel"
                     f" AND su.platform_id = json_extract(x.event, '$.user_id') AND {sql})")
        rows = self._rows(
            f"{cte} SELECT b.i AS i, count(x.id) AS messages,"
            " count(DISTINCT x.channel || ':' || json_extract(x.event, '$.user_id')) AS people"
            " FROM b LEFT JOIN inbox x ON x.received_at >= b.lo AND x.received_at < b.hi"
            f" AND x.channel NOT IN ({local})"
            " AND json_extract(x.event, '$.kind') IN ('text', 'postback')"
            f"{scope} GROUP BY b.i ORDER BY b.i",
            [*params, *TEST_CHANNELS, *scope_params],
        )
        return [{"messages": r["messages"], "people": r["people"] if r["messages"] else 0} for r in rows]

    def questions_by_bucket(self, bounds: Sequence[float], scope_unit: str | None = None) -> list[dict[str, int]]:
        """Per time range: questions answered, answered with suggestions, and not answered."""
        cte, params = _buckets(bounds)
        scope, scope_params = _member_scope("q.member_id", scope_unit)
        local = ",".join("?" * len(TEST_CHANNELS))
        rows = self._rows(
            f"{cte} SELECT b.i AS i,"
            " sum(q.decision = 'answer') AS answer, sum(q.decision = 'suggest') AS suggest,"
            " sum(q.decision = 'fallback') AS fallback"
            " FROM b LEFT JOIN questions q ON q.asked_at >= b.lo AND q.asked_at < b.hi"
            f" AND q.channel NOT IN ({local}){scope}"
            " GROUP BY b.i ORDER BY b.i",
            [*params, *TEST_CHANNELS, *scope_params],
        )
        return [{k: int(r[k] or 0) for k in ("answer", "suggest", "fallback")} for r in rows]

    def deliveries_by_bucket(self, bounds: Sequence[float], scope_unit: str | None = None) -> list[dict[str, int]]:
        """Per time range: broadcast messages that ended sent, failed or skipped (one per recipient)."""
        cte, params = _buckets(bounds)
        scope, scope_params = _member_scope("o.member_id", scope_unit)
        rows = self._rows(
            f"{cte} SELECT b.i AS i,"
            " sum(o.status = 'sent') AS sent, sum(o.status IN ('failed', 'uncertain')) AS failed,"
            " sum(o.status = 'skipped') AS skipped"
            " FROM b LEFT JOIN outbox o ON o.finished_at >= b.lo AND o.finished_at < b.hi"
            f" AND o.kind = 'broadcast' AND o.part = 0{scope}"
            " GROUP BY b.i ORDER BY b.i",
            [*params, *scope_params],
        )
        return [{k: int(r[k] or 0) for k in ("sent", "failed", "skipped")} for r in rows]

    def participation_by_bucket(self, bounds: Sequence[float], scope_unit: str | None = None) -> list[dict[str, int]]:
        """Per time range: quiz attempts (when the quiz tables exist) and contest participations."""
        cte, params = _buckets(bounds)
        local = ",".join("?" * len(TEST_CHANNELS))
        p_scope, p_params = _unit_scope("p.unit_code", scope_unit)
        a_scope, a_params = _unit_scope("a.unit_code", scope_unit)
        contests = self._rows(
            f"{cte} SELECT b.i AS i, count(p.id) AS n FROM b"
            " LEFT JOIN participations p ON p.reported_at >= b.lo AND p.reported_at < b.hi"
            f" AND NOT EXISTS (SELECT 1 FROM members m WHERE m.id = p.member_id AND m.channel IN ({local})){p_scope}"
            " GROUP BY b.i ORDER BY b.i",
            [*params, *TEST_CHANNELS, *p_params],
        )
        quizzes = [0] * (len(bounds) - 1)
        table = self._quiz_attempts_table()
        if table is not None:
            name, column = table
            rows = self._rows(
                f"{cte} SELECT b.i AS i, count(a.{column}) AS n FROM b"
                f" LEFT JOIN {name} a ON a.{column} >= b.lo AND a.{column} < b.hi AND a.channel NOT IN ({local}){a_scope}"
                " GROUP BY b.i ORDER BY b.i",
                [*params, *TEST_CHANNELS, *a_params],
            )
            quizzes = [r["n"] for r in rows]
        return [{"quiz": q, "contest": c["n"]} for q, c in zip(quizzes, contests)]

    def _columns(self, table: str) -> list[str]:
        """The table's column names (none if it does not exist), on either engine."""
        if getattr(self, "postgres", False):
            return [r["column_name"] for r in self._rows(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
                " AND table_name = ?", [table]
            )]
        return [r["name"] for r in self._rows(f"PRAGMA table_info({table})")]

    def _quiz_attempts_table(self) -> tuple[str, str] | None:
        """(table, start-time column) of quiz attempts, if the quiz schema is installed."""
        for name in ("quiz_attempts", "attempts"):
            columns = self._columns(name)
            for column in ("started_at", "created_at", "finished_at"):
                if column in columns:
                    return name, column
        return None

    # -- members ---------------------------------------------------------------------------
    def _member_filter(
        self, *, query: str = "", unit: str | None = None, channel: str | None = None, status: str | None = None,
        scope_unit: str | None = None,
    ) -> tuple[str, list[Any]]:
        conditions: list[str] = ["1 = 1"]
        params: list[Any] = []
        if scope_unit:
            sql, p = unit_condition("m.unit_code", scope_unit)
            conditions.append(sql)
            params += p
        if unit:
            sql, p = unit_condition("m.unit_code", unit)
            conditions.append(sql)
            params += p
        if channel:
            conditions.append("m.channel = ?")
            params.append(channel)
        if status == "unsubscribed":
            conditions.append("m.subscribed = 0")
        elif status == "registered":
            conditions.append("m.registered_at IS NOT NULL")
        elif status:
            conditions.append("m.status = ?")
            params.append(status)
        query = query.strip()
        if query:
            pattern = _like(query)
            conditions.append(
                "(m.display_name LIKE ? ESCAPE '\\' OR coalesce(m.full_name, '') LIKE ? ESCAPE '\\'"
                " OR coalesce(m.phone, '') LIKE ? ESCAPE '\\' OR m.platform_id LIKE ? ESCAPE '\\')"
            )
            params += [pattern] * 4
        return " AND ".join(conditions), params

    def search_members(self, *, limit: int = 50, offset: int = 0, **filters: Any) -> tuple[list[dict[str, Any]], int]:
        """A page of members matching the filters (newest first) and the total count."""
        where, params = self._member_filter(**filters)
        total = int(self._value(f"SELECT count(*) FROM members m WHERE {where}", params))
        rows = self._rows(
            "SELECT m.id, m.channel, m.platform_id, m.display_name, m.full_name, m.phone, m.unit_code, m.status, m.status_reason,"
            " m.status_reason, m.subscribed, m.first_seen_at, m.last_inbound_at, m.registered_at"
            f" FROM members m WHERE {where} ORDER BY m.id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return rows, total

    def iter_members(self, batch: int = 1000, **filters: Any):
        """Every member matching the filters, in id order, read in batches (for exports)."""
        where, params = self._member_filter(**filters)
        after = 0
        while True:
            rows = self._rows(
                "SELECT m.id, m.channel, m.platform_id, m.display_name, m.full_name, m.phone, m.unit_code, m.status, m.status_reason,"
                " m.subscribed, m.first_seen_at, m.last_inbound_at, m.registered_at"
                f" FROM members m WHERE {where} AND m.id > ? ORDER BY m.id LIMIT ?",
                [*params, after, batch],
            )
            yield from rows
            if len(rows) < batch:
                return
            after = rows[-1]["id"]

    def member_unit_codes(self, scope_unit: str | None = None) -> list[str]:
        """Unit codes members are registered in (for the filter when no unit tree is configured)."""
        where, params = ("1 = 1", [])
        if scope_unit:
            where, params = unit_condition("unit_code", scope_unit)
        return [
            r["unit_code"]
            for r in self._rows(
                f"SELECT DISTINCT unit_code FROM members WHERE unit_code IS NOT NULL AND {where} ORDER BY unit_code",
                params,
            )
        ]

    # -- unanswered questions -------------------------------------------------------------------
    def set_questions_review(self, question_ids: Sequence[int], status: str) -> int:
        """Mark several unanswered questions done or ignored; returns how many changed."""
        if not question_ids:
            return 0
        cursor = self._write(
            f"UPDATE questions SET review_status = ? WHERE decision != 'answer'"
            f" AND id IN ({','.join('?' * len(question_ids))})",
            [status, *question_ids],
        )
        return int(cursor.rowcount)

    def questions_by_id(self, question_ids: Sequence[int]) -> list[dict[str, Any]]:
        if not question_ids:
            return []
        return self._rows(
            f"SELECT id, text, decision, asked_at, review_status FROM questions"
            f" WHERE id IN ({','.join('?' * len(question_ids))}) ORDER BY id",
            list(question_ids),
        )

    # -- audit log -------------------------------------------------------------------------------------
    def search_audit(
        self, *, query: str = "", username: str = "", action: str = "", limit: int = 100, offset: int = 0,
        scope_unit: str | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of audit entries (newest first) filtered by user, action prefix and free text.

        ``scope_unit``: only entries written by staff accounts of that unit and its sub-units.
        """
        conditions, params = ["1 = 1"], []
        if scope_unit:
            sql, extra = unit_condition("unit_code", scope_unit)
            conditions.append(f"staff_id IN (SELECT id FROM staff WHERE {sql})")
            params += extra
        if username:
            conditions.append("username = ?")
            params.append(username)
        if action:
            conditions.append("action LIKE ? ESCAPE '\\'")
            params.append(_like(action)[1:])  # a prefix: "content" finds content.edit, content.approve...
        if query.strip():
            conditions.append("(target LIKE ? ESCAPE '\\' OR detail LIKE ? ESCAPE '\\')")
            params += [_like(query.strip())] * 2
        where = " AND ".join(conditions)
        total = int(self._value(f"SELECT count(*) FROM audit_log WHERE {where}", params))
        rows = self._rows(
            f"SELECT * FROM audit_log WHERE {where} ORDER BY id DESC LIMIT ? OFFSET ?", [*params, limit, offset]
        )
        return rows, total

    def audit_usernames(self, scope_unit: str | None = None) -> list[str]:
        where, params = "", []
        if scope_unit:
            sql, params = unit_condition("unit_code", scope_unit)
            where = f" WHERE staff_id IN (SELECT id FROM staff WHERE {sql})"
        return [r["username"] for r in self._rows(f"SELECT DISTINCT username FROM audit_log{where} ORDER BY username", params)]

    def list_staff_within(self, scope_unit: str | None) -> list[dict[str, Any]]:
        """Staff accounts a unit-bound admin may manage: its unit and the units below (never org-wide ones)."""
        if not scope_unit:
            return self.list_staff()  # type: ignore[attr-defined]
        sql, params = unit_condition("unit_code", scope_unit)
        return self._rows(
            "SELECT id, username, role, unit_code, active, created_at, last_login_at FROM staff"
            f" WHERE {sql} ORDER BY username", params,
        )

    # -- contest participation -----------------------------------------------------------------------------
    def participation_rows(
        self, *, contest_id: str | None = None, scope_unit: str | None = None, query: str = "", limit: int = 100, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        """Who took part in which contest (chat reports and imported lists), newest first, and the count."""
        unit = "coalesce(p.unit_code, m.unit_code)"
        conditions, params = ["1 = 1"], []
        if contest_id:
            conditions.append("p.contest_id = ?")
            params.append(contest_id)
        if scope_unit:
            sql, extra = unit_condition(unit, scope_unit)
            conditions.append(sql)
            params += extra
        if query.strip():
            conditions.append("coalesce(p.full_name, m.full_name, m.display_name, '') LIKE ? ESCAPE '\\'")
            params.append(_like(query.strip()))
        where = " AND ".join(conditions)
        base = f"FROM participations p LEFT JOIN members m ON m.id = p.member_id WHERE {where}"
        total = int(self._value(f"SELECT count(*) {base}", params))
        rows = self._rows(
            # the result a member typed in chat is kept as the note: staff see it as the result
            "SELECT p.id, p.contest_id, p.source, p.participated_on, p.reported_at, p.member_id,"
            " coalesce(nullif(p.result, ''), p.note, '') AS result,"
            f" coalesce(p.full_name, m.full_name, m.display_name, '') AS name, {unit} AS unit_code, m.channel AS channel"
            f" {base} ORDER BY p.id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return rows, total

    # -- broadcasts ------------------------------------------------------------------------------------
    def broadcast_progress(self, broadcast_ids: Sequence[int]) -> dict[int, dict[str, int]]:
        """Recipients targeted and finished per broadcast (first parts only), for the list page."""
        if not broadcast_ids:
            return {}
        rows = self._rows(
            "SELECT r.broadcast_id AS id, count(o.id) AS targeted,"
            " sum(o.status NOT IN ('pending', 'sending', 'paused')) AS finished,"
            " sum(o.status = 'sent') AS sent"
            " FROM broadcast_runs r JOIN outbox o ON o.run_id = r.id AND o.part = 0"
            f" WHERE r.broadcast_id IN ({','.join('?' * len(broadcast_ids))}) GROUP BY r.broadcast_id",
            list(broadcast_ids),
        )
        return {r["id"]: {k: int(r[k] or 0) for k in ("targeted", "finished", "sent")} for r in rows}
