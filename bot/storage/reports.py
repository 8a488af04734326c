"""Report queries: counts per unit code over a period, leaderboards, result lists (storage layer).

Counts are grouped by the member's unit code (their current unit); bot.reports.unit_report
rolls the codes up into the unit tree.  ``scope`` limits a query to a unit and
its sub-units (None: everything).  Erased members count in totals (anonymously)
but never appear in a list.
"""

from __future__ import annotations

from typing import Any

from bot.core.models import TEST_CHANNELS

# Staff testing (the web simulator, the terminal): marked by its channel, never counted in
# reports, leaderboards or commendations.  Literal SQL: the names are constants.
NOT_TEST = "NOT IN (" + ", ".join(f"'{name}'" for name in TEST_CHANNELS) + ")"  # SQL: not a test channel


def scope_clause(column: str, scope: str | None) -> tuple[str, list[Any]]:
    """SQL (starting with ' AND') limiting ``column`` to ``scope`` and its sub-units."""
    if scope is None:
        return "", []
    escaped = scope.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f" AND ({column} = ? OR {column} LIKE ? ESCAPE '\\')", [scope, escaped + ".%"]


# best finished attempt per member of one quiz (score desc, then time asc)
_BEST_ANY = """
    SELECT a.member_id, a.id AS attempt_id, a.score, a.total, a.duration, a.finished_at, a.channel,
           m.unit_code, m.full_name, m.display_name, m.platform_id,
           ROW_NUMBER() OVER (PARTITION BY a.member_id ORDER BY a.score DESC, a.duration ASC, a.finished_at ASC) AS rn
    FROM quiz_attempts a JOIN members m ON m.id = a.member_id
    WHERE a.quiz_id = ? AND a.state = 'finished' AND m.status != 'erased'
"""
_BEST = _BEST_ANY + f" AND m.channel {NOT_TEST}"


class ReportStore:
    """Methods of Store behind bot.reports.unit_report."""

    db: Any
    _rows: Any
    _row: Any
    _value: Any

    def _by_unit(self, sql: str, params: list[Any]) -> dict[str | None, int]:
        return {r["unit"]: int(r["n"]) for r in self._rows(sql, params)}

    # -- summary counts --------------------------------------------------------
    def count_reached(self, start: float, end: float, scope: str | None) -> dict[str | None, int]:
        """Distinct members who received at least one message (reply or broadcast) in the period."""
        clause, params = scope_clause("m.unit_code", scope)
        # distinct members first (a covering index), then one lookup per member for the unit
        return self._by_unit(
            "SELECT m.unit_code AS unit, count(*) AS n FROM (SELECT DISTINCT member_id FROM outbox"
            " WHERE status = 'sent' AND finished_at >= ? AND finished_at < ? AND member_id IS NOT NULL) o"
            f" JOIN members m ON m.id = o.member_id WHERE m.channel {NOT_TEST}{clause} GROUP BY m.unit_code",
            [start, end, *params],
        )

    def count_registered(self, before: float, scope: str | None, since: float | None = None) -> dict[str | None, int]:
        """Registered members (registered before ``before``; with ``since``: in the period)."""
        clause, params = scope_clause("unit_code", scope)
        lower = " AND registered_at >= ?" if since is not None else ""
        return self._by_unit(
            f"SELECT unit_code AS unit, count(*) AS n FROM members WHERE registered_at IS NOT NULL AND registered_at < ?{lower}"
            f" AND status != 'erased' AND channel {NOT_TEST}{clause} GROUP BY unit_code",
            [before, *([since] if since is not None else []), *params],
        )

    def count_questions(self, start: float, end: float, scope: str | None) -> list[dict[str, Any]]:
        """(unit, decision, n) of questions asked in the period."""
        clause, params = scope_clause("m.unit_code", scope)
        return self._rows(
            "SELECT m.unit_code AS unit, q.decision, sum(q.n) AS n FROM (SELECT member_id, decision, count(*) AS n"
            f" FROM questions WHERE asked_at >= ? AND asked_at < ? AND channel {NOT_TEST} GROUP BY member_id, decision) q"
            f" LEFT JOIN members m ON m.id = q.member_id WHERE 1 = 1{clause} GROUP BY m.unit_code, q.decision",
            [start, end, *params],
        )

    def count_broadcasts_delivered(self, start: float, end: float, scope: str | None) -> dict[str | None, int]:
        """Broadcast messages that reached a member (first part sent) in the period."""
        clause, params = scope_clause("m.unit_code", scope)
        return self._by_unit(
            "SELECT m.unit_code AS unit, sum(o.n) AS n FROM (SELECT member_id, count(*) AS n FROM outbox"
            " WHERE kind = 'broadcast' AND status = 'sent' AND part = 0 AND finished_at >= ? AND finished_at < ?"
            f" AND channel {NOT_TEST} GROUP BY member_id) o LEFT JOIN members m ON m.id = o.member_id WHERE 1 = 1{clause} GROUP BY m.unit_code",
            [start, end, *params],
        )

    def count_broadcast_outcomes(self, start: float, end: float, scope: str | None) -> list[dict[str, Any]]:
        """Per unit, broadcast messages finished in the period that the platform reported
        delivered / read (only Messenger and Zalo OA report), and those whose fate is unknown."""
        clause, params = scope_clause("m.unit_code", scope)
        return self._rows(
            "SELECT m.unit_code AS unit, sum(o.delivered) AS delivered, sum(o.read) AS read, sum(o.uncertain) AS uncertain"
            " FROM (SELECT member_id,"
            "   sum(CASE WHEN status = 'sent' AND (delivered_at IS NOT NULL OR read_at IS NOT NULL) THEN 1 ELSE 0 END) AS delivered,"
            "   sum(CASE WHEN status = 'sent' AND read_at IS NOT NULL THEN 1 ELSE 0 END) AS read,"
            "   sum(CASE WHEN status = 'uncertain' THEN 1 ELSE 0 END) AS uncertain"
            "  FROM outbox WHERE kind = 'broadcast' AND part = 0 AND status IN ('sent', 'uncertain')"
            f"  AND finished_at >= ? AND finished_at < ? AND channel {NOT_TEST} GROUP BY member_id) o"
            f" LEFT JOIN members m ON m.id = o.member_id WHERE 1 = 1{clause} GROUP BY m.unit_code",
            [start, end, *params],
        )

    def quiz_stats(self, start: float, end: float, scope: str | None, *, per_quiz: bool) -> list[dict[str, Any]]:
        """Attempts started in the period: counts, participants, sum of finished score percentages."""
        clause, params = scope_clause("m.unit_code", scope)
        group = "m.unit_code, a.quiz_id" if per_quiz else "m.unit_code"
        return self._rows(
            f"SELECT m.unit_code AS unit, {'a.quiz_id' if per_quiz else 'NULL'} AS quiz_id, count(*) AS attempts,"
            " sum(a.state = 'finished') AS finished, count(DISTINCT a.member_id) AS participants,"
            " count(DISTINCT CASE WHEN a.state = 'finished' THEN a.member_id END) AS finishers,"
            " coalesce(sum(CASE WHEN a.state = 'finished' THEN 100.0 * a.score / a.total END), 0) AS sum_pct,"
            " max(CASE WHEN a.state = 'finished' THEN 100.0 * a.score / a.total END) AS max_pct,"
            " coalesce(sum(CASE WHEN a.state = 'finished' THEN a.duration END), 0) AS sum_duration"
            " FROM quiz_attempts a JOIN members m ON m.id = a.member_id"
            f" WHERE a.started_at >= ? AND a.started_at < ? AND a.channel {NOT_TEST}{clause} GROUP BY {group}",
            [start, end, *params],
        )

    def haihoa_stats(self, start: float, end: float, scope: str | None) -> list[dict[str, Any]]:
        clause, params = scope_clause("m.unit_code", scope)
        return self._rows(
            "SELECT m.unit_code AS unit, count(*) AS draws, count(DISTINCT d.member_id) AS members,"
            " sum(d.answered_at IS NOT NULL) AS answered FROM haihoa_draws d JOIN members m ON m.id = d.member_id"
            f" WHERE d.drawn_at >= ? AND d.drawn_at < ? AND d.channel {NOT_TEST}{clause} GROUP BY m.unit_code",
            [start, end, *params],
        )

    def contest_stats(self, first_day: str, last_day: str, scope: str | None) -> list[dict[str, Any]]:
        """(unit, contest_id, source, n) of participations dated within [first_day, last_day]."""
        unit = "coalesce(m.unit_code, p.unit_code)"
        clause, params = scope_clause(unit, scope)
        return self._rows(
            f"SELECT {unit} AS unit, p.contest_id, p.source, count(*) AS n FROM participations p"
            " LEFT JOIN members m ON m.id = p.member_id"
            f" WHERE p.participated_on >= ? AND p.participated_on <= ? AND coalesce(m.channel, '') {NOT_TEST}{clause}"
            " GROUP BY 1, 2, 3",
            [first_day, last_day, *params],
        )

    def active_registered(self, start: float, end: float, first_day: str, last_day: str, scope: str | None) -> dict[str | None, int]:
        """Registered members who finished a quiz or reported a contest in the period (collective criteria)."""
        clause, params = scope_clause("m.unit_code", scope)
        return self._by_unit(
            "SELECT m.unit_code AS unit, count(*) AS n FROM members m WHERE m.registered_at IS NOT NULL"
            f" AND m.status != 'erased' AND m.channel {NOT_TEST}{clause} AND (EXISTS (SELECT 1 FROM quiz_attempts a WHERE a.member_id = m.id"
            " AND a.state = 'finished' AND a.finished_at >= ? AND a.finished_at < ?) OR EXISTS (SELECT 1 FROM"
            " participations p WHERE p.member_id = m.id AND p.participated_on >= ? AND p.participated_on <= ?))"
            " GROUP BY m.unit_code",
            [*params, start, end, first_day, last_day],
        )

    # -- lists -----------------------------------------------------------------
    def leaderboard(
        self, quiz_id: str, *, start: float | None = None, end: float | None = None, scope: str | None = None,
        unit: str | None = None, limit: int = 0,
    ) -> list[dict[str, Any]]:
        """Each member's best finished attempt, best first (score desc, then time asc)."""
        sql, params = _BEST, [quiz_id]
        if start is not None and end is not None:
            sql += " AND a.finished_at >= ? AND a.finished_at < ?"
            params += [start, end]
        clause, extra = scope_clause("m.unit_code", scope)
        sql += clause
        params += extra
        if unit is not None:
            sql += " AND m.unit_code = ?"
            params.append(unit)
        query = f"SELECT * FROM ({sql}) AS best WHERE rn = 1 ORDER BY score DESC, duration ASC, finished_at ASC"
        if limit:
            query += " LIMIT ?"
            params.append(limit)
        rows = self._rows(query, params)
        for rank, row in enumerate(rows, 1):
            row["rank"] = rank
        return rows

    def unit_rank(self, quiz_id: str, member_id: int, unit_code: str) -> tuple[int, int] | None:
        """(rank, members ranked) of a member's best attempt among members of the same unit."""
        # a tester in the simulator sees where they would stand; members never count testers
        rows = self._rows(
            f"SELECT member_id FROM ({_BEST_ANY} AND m.unit_code = ? AND (m.channel {NOT_TEST} OR m.id = ?)) AS best WHERE rn = 1"
            " ORDER BY score DESC, duration ASC, finished_at ASC",
            [quiz_id, unit_code, member_id],
        )
        ids = [r["member_id"] for r in rows]
        return (ids.index(member_id) + 1, len(ids)) if member_id in ids else None

    def quiz_results(self, quiz_id: str, scope: str | None = None) -> list[dict[str, Any]]:
        """Every attempt of a quiz with the member's channel, platform id and unit (erased members left out)."""
        clause, params = scope_clause("m.unit_code", scope)
        return self._rows(
            "SELECT a.id AS attempt_id, a.channel, m.platform_id, m.full_name, m.unit_code, a.state, a.score, a.total,"
            " a.started_at, a.finished_at, a.duration FROM quiz_attempts a JOIN members m ON m.id = a.member_id"
            f" WHERE a.quiz_id = ? AND m.status != 'erased' AND m.channel {NOT_TEST}{clause} ORDER BY a.started_at, a.id",
            [quiz_id, *params],
        )

    def member_candidates(
        self, start: float, end: float, first_day: str, last_day: str, scope: str | None, *, min_quizzes: int, min_pct: float, limit: int
    ) -> list[dict[str, Any]]:
        """Registered members ranked by their average best score over the quizzes they finished in the period."""
        clause, params = scope_clause("m.unit_code", scope)
        return self._rows(
            # the best attempt per member and quiz (score, then time), as in the leaderboards
            "WITH best AS (SELECT member_id, quiz_id, pct, duration FROM (SELECT a.member_id, a.quiz_id,"
            " 100.0 * a.score / a.total AS pct, a.duration, ROW_NUMBER() OVER (PARTITION BY a.member_id, a.quiz_id"
            " ORDER BY 1.0 * a.score / a.total DESC, a.duration ASC, a.finished_at ASC) AS rn"
            " FROM quiz_attempts a WHERE a.state = 'finished' AND a.finished_at >= ?"
            " AND a.finished_at < ?) AS ranked WHERE rn = 1)"
            " SELECT m.id AS member_id, m.full_name, m.unit_code, m.channel, count(*) AS quizzes, avg(b.pct) AS avg_pct,"
            " sum(b.duration) AS total_duration, (SELECT count(*) FROM participations p WHERE p.member_id = m.id"
            " AND p.participated_on >= ? AND p.participated_on <= ?) AS contests"
            " FROM best b JOIN members m ON m.id = b.member_id"
            f" WHERE m.registered_at IS NOT NULL AND m.status != 'erased' AND m.channel {NOT_TEST}{clause}"
            " GROUP BY m.id HAVING count(*) >= ? AND avg(b.pct) >= ?"
            " ORDER BY avg_pct DESC, quizzes DESC, contests DESC, total_duration ASC LIMIT ?",
            [start, end, first_day, last_day, *params, min_quizzes, min_pct, limit],
        )
