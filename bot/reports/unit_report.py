"""The periodic report of a unit (with its sub-units): counts, quizzes, contests, leaderboards, commendations.

:func:`build_report` returns plain data (the JSON endpoints send it as is);
:func:`report_tables` lays it out as tables with Vietnamese headers, one per
section, for the CSV and Excel exports (bot.reports.export).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from bot.core import formats
from bot.participation.catalog import Catalog
from bot.participation.units import UnitTree
from bot.storage.store import Store

SUMMARY_COLUMNS = (
    ("reached", "Hội viên được tiếp cận"),
    ("registered", "Hội viên đã đăng ký (lũy kế)"),
    ("registered_new", "Đăng ký mới trong kỳ"),
    ("questions", "Câu hỏi đã hỏi"),
    ("answered", "Đã trả lời"),
    ("suggested", "Gợi ý câu gần đúng"),
    ("unanswered", "Chưa trả lời được"),
    ("broadcasts", "Lượt tin tuyên truyền đã gửi đến"),
    ("broadcasts_delivered", "Trong đó đã nhận (Messenger, Zalo OA báo; Zalo Bot không hỗ trợ)"),
    ("broadcasts_read", "Trong đó đã xem (Messenger, Zalo OA báo; Zalo Bot không hỗ trợ)"),
    ("broadcasts_uncertain", "Lượt tin không rõ đã đến chưa"),
    ("quiz_attempts", "Lượt thi"),
    ("quiz_finished", "Lượt thi hoàn thành"),
    ("quiz_participants", "Người dự thi"),
    ("quiz_avg", "Điểm trung bình (%)"),
    ("haihoa", "Lượt hái hoa dân chủ"),
    ("contest_participants", "Lượt tham gia cuộc thi"),
)
CHANNELS = {"messenger": "Messenger", "zalo": "Zalo OA", "zalo_bot": "Zalo Bot", "web": "Trang web", "simulator": "Mô phỏng", "console": "Dòng lệnh"}
UNIT_LEADERS = 3  # per-unit leaderboards in the export: the first three of each unit
POST_PLACES = {"facebook_page": "Trang Facebook", "zalo_article": "Bài viết Zalo OA"}  # the organisation's own posts


class ReportError(ValueError):
    """A report request staff must fix (bad dates, unknown unit or quiz)."""


@dataclass(frozen=True)
class Period:
    """[start, end) in epoch seconds, and the same as inclusive local dates."""

    start: float
    end: float
    first_day: str
    last_day: str


def parse_period(date_from: str | None, date_to: str | None, tz: str, now: float) -> Period:
    """Local dates 'YYYY-MM-DD' (both inclusive); default: the current month up to today."""
    zone = ZoneInfo(tz)
    today = dt.datetime.fromtimestamp(now, zone).date()
    try:
        first = dt.date.fromisoformat(date_from) if date_from else today.replace(day=1)
        last = dt.date.fromisoformat(date_to) if date_to else today
    except ValueError:
        raise ReportError("Ngày phải có dạng YYYY-MM-DD.") from None
    if last < first:
        raise ReportError("Ngày kết thúc phải sau ngày bắt đầu.")
    start = dt.datetime(first.year, first.month, first.day, tzinfo=zone).timestamp()
    end_day = last + dt.timedelta(days=1)
    end = dt.datetime(end_day.year, end_day.month, end_day.day, tzinfo=zone).timestamp()
    return Period(start, end, first.isoformat(), last.isoformat())


def bucket_of(code: str | None, scope: str | None, units: UnitTree) -> str:
    """The report row a unit code is counted in: a direct sub-unit of ``scope`` (its code),
    '_self' (registered directly at the scope unit), '_none' (no unit) or '_unknown'."""
    if not code:
        return "_none"
    if code == scope:
        return "_self"
    depth = scope.count(".") + 2 if scope else 1
    child = ".".join(code.split(".")[:depth])
    return child if child in units.units else "_unknown"


@dataclass
class _Row:
    values: dict[str, float] = field(default_factory=lambda: {k: 0 for k, _ in SUMMARY_COLUMNS} | {"quiz_sum_pct": 0})


def row_parent(units: UnitTree, scope: str | None) -> str | None:
    """Whose sub-units make the rows: the scope, or the single top unit for the whole organisation."""
    if scope is None:
        roots = units.children(None)
        return roots[0].code if len(roots) == 1 else None
    return scope


def _add_broadcasts(store: Store, period: Period, scope: str | None, add: Any) -> None:
    """Broadcasts that reached members, with what the platforms reported (delivered, read) and the unknown ones."""
    for code, n in store.count_broadcasts_delivered(period.start, period.end, scope).items():
        add(code, "broadcasts", n)
    for r in store.count_broadcast_outcomes(period.start, period.end, scope):
        for key in ("delivered", "read", "uncertain"):
            add(r["unit"], f"broadcasts_{key}", r[key] or 0)


def _summary(store: Store, units: UnitTree, period: Period, scope: str | None) -> dict[str, Any]:
    rows: dict[str, _Row] = {}
    parent = row_parent(units, scope)

    def add(code: str | None, key: str, value: float) -> None:
        rows.setdefault(bucket_of(code, parent, units), _Row()).values[key] += value

    for code, n in store.count_reached(period.start, period.end, scope).items():
        add(code, "reached", n)
    for code, n in store.count_registered(period.end, scope).items():
        add(code, "registered", n)
    for code, n in store.count_registered(period.end, scope, since=period.start).items():
        add(code, "registered_new", n)
    decisions = {"answer": "answered", "suggest": "suggested", "fallback": "unanswered"}
    for r in store.count_questions(period.start, period.end, scope):
        add(r["unit"], "questions", r["n"])
        if r["decision"] in decisions:
            add(r["unit"], decisions[r["decision"]], r["n"])
    _add_broadcasts(store, period, scope, add)
    for r in store.quiz_stats(period.start, period.end, scope, per_quiz=False):
        add(r["unit"], "quiz_attempts", r["attempts"])
        add(r["unit"], "quiz_finished", r["finished"])
        add(r["unit"], "quiz_participants", r["participants"])
        add(r["unit"], "quiz_sum_pct", r["sum_pct"])
    for r in store.haihoa_stats(period.start, period.end, scope):
        add(r["unit"], "haihoa", r["draws"])
    for r in store.contest_stats(period.first_day, period.last_day, scope):
        add(r["unit"], "contest_participants", r["n"])

    def finish(values: dict[str, float]) -> dict[str, Any]:
        out: dict[str, Any] = {k: int(values[k]) for k, _ in SUMMARY_COLUMNS if k != "quiz_avg"}
        # the average comes from the sums, never from averaging rows
        out["quiz_avg"] = round(values["quiz_sum_pct"] / values["quiz_finished"], 1) if values["quiz_finished"] else None
        return out

    ordered: list[tuple[str | None, str, _Row]] = []
    children = units.children(parent) if parent is None or parent in units.units else []
    for unit in children:
        ordered.append((unit.code, unit.name, rows.pop(unit.code, _Row())))
    unit = units.get(parent) if parent else None
    labels = {
        "_self": f"Trực thuộc trực tiếp {unit.name if unit else parent}",
        "_unknown": "Mã đơn vị không còn trong danh mục",
        "_none": "Chưa khai báo đơn vị",
    }
    for key, label in labels.items():
        if key in rows:
            ordered.append((None if key == "_none" else key, label, rows[key]))
    total = _Row()
    for _, _, row in ordered:
        for k, v in row.values.items():
            total.values[k] += v
    return {
        "columns": [{"key": k, "title": t} for k, t in SUMMARY_COLUMNS],
        "rows": [{"unit_code": code, "unit": label, "values": finish(row.values)} for code, label, row in ordered],
        "total": finish(total.values),
    }


def _quizzes(store: Store, catalog: Catalog, period: Period, scope: str | None, tz: str) -> list[dict[str, Any]]:
    per_quiz: dict[str, dict[str, float]] = {}
    for r in store.quiz_stats(period.start, period.end, scope, per_quiz=True):
        q = per_quiz.setdefault(r["quiz_id"], {"attempts": 0, "finished": 0, "participants": 0, "sum_pct": 0.0, "max_pct": 0.0, "sum_duration": 0.0})
        for key in ("attempts", "finished", "participants", "sum_pct", "sum_duration"):
            q[key] += r[key] or 0
        q["max_pct"] = max(q["max_pct"], r["max_pct"] or 0)
    out = []
    for quiz_id in [*catalog.quizzes, *sorted(set(per_quiz) - set(catalog.quizzes))]:
        q = per_quiz.get(quiz_id)
        quiz = catalog.quizzes.get(quiz_id)
        if q is None and (quiz is None or quiz.status(period.start, tz) == "closed" or quiz.status(period.end, tz) == "upcoming"):
            continue  # no attempts, and the quiz was not open during the period
        q = q or {"attempts": 0, "finished": 0, "participants": 0, "sum_pct": 0.0, "max_pct": 0.0, "sum_duration": 0.0}
        out.append({
            "quiz_id": quiz_id, "title": quiz.title if quiz else quiz_id,
            "attempts": int(q["attempts"]), "finished": int(q["finished"]), "participants": int(q["participants"]),
            "avg_pct": round(q["sum_pct"] / q["finished"], 1) if q["finished"] else None,
            "max_pct": round(q["max_pct"], 1) if q["finished"] else None,
            "avg_duration": round(q["sum_duration"] / q["finished"], 1) if q["finished"] else None,
        })
    return out


def _contests(store: Store, catalog: Catalog, period: Period, scope: str | None) -> list[dict[str, Any]]:
    counts: dict[str, dict[str, int]] = {}
    for r in store.contest_stats(period.first_day, period.last_day, scope):
        c = counts.setdefault(r["contest_id"], {"chat": 0, "import": 0})
        c["import" if r["source"] == "import" else "chat"] += r["n"]
    out = []
    for contest_id in [*catalog.contests, *sorted(set(counts) - set(catalog.contests))]:
        contest = catalog.contests.get(contest_id)
        c = counts.get(contest_id, {"chat": 0, "import": 0})
        if not (c["chat"] or c["import"]) and (contest is None or not contest.reportable):
            continue
        out.append({
            "contest_id": contest_id, "name": contest.name if contest else contest_id,
            "organiser": contest.organiser if contest else "", "chat": c["chat"], "import": c["import"],
            "total": c["chat"] + c["import"],
        })
    return out


def leaderboard_rows(store: Store, units: UnitTree, quiz_id: str, *, period: Period | None, scope: str | None,
                     unit: str | None = None, limit: int = 0) -> list[dict[str, Any]]:
    """A quiz's leaderboard (best attempt per member; score desc, time asc) ready to show."""
    rows = store.leaderboard(
        quiz_id, start=period.start if period else None, end=period.end if period else None, scope=scope, unit=unit, limit=limit
    )
    return [{
        "rank": r["rank"], "member_id": r["member_id"],
        "name": r["full_name"] or r["display_name"] or "(chưa đăng ký)",
        "unit_code": r["unit_code"], "unit": units.label(r["unit_code"]) if r["unit_code"] else "Chưa khai báo",
        "channel": CHANNELS.get(r["channel"], r["channel"]), "score": r["score"], "total": r["total"],
        "duration": round(r["duration"] or 0, 1),
    } for r in rows]


def _commendations(store: Store, units: UnitTree, config: dict[str, Any], period: Period, scope: str | None,
                   summary: dict[str, Any]) -> dict[str, Any]:
    criteria = {
        "top_members": int(config["COMMEND_TOP_MEMBERS"]), "min_score_percent": int(config["COMMEND_MIN_SCORE_PERCENT"]),
        "min_quizzes": int(config["COMMEND_MIN_QUIZZES"]), "top_units": int(config["COMMEND_TOP_UNITS"]),
        "unit_min_members": int(config["COMMEND_UNIT_MIN_MEMBERS"]),
    }
    members = []
    if criteria["top_members"]:
        for r in store.member_candidates(
            period.start, period.end, period.first_day, period.last_day, scope,
            min_quizzes=criteria["min_quizzes"], min_pct=criteria["min_score_percent"], limit=criteria["top_members"],
        ):
            members.append({
                "member_id": r["member_id"], "name": r["full_name"], "unit_code": r["unit_code"],
                "unit": units.label(r["unit_code"]) if r["unit_code"] else "Chưa khai báo", "quizzes": r["quizzes"],
                "avg_pct": round(r["avg_pct"], 1), "contests": r["contests"], "total_duration": round(r["total_duration"] or 0, 1),
            })
    unit_rows = []
    if criteria["top_units"]:
        active: dict[str, int] = {}
        for code, n in store.active_registered(period.start, period.end, period.first_day, period.last_day, scope).items():
            key = bucket_of(code, row_parent(units, scope), units)
            active[key] = active.get(key, 0) + n
        for row in summary["rows"]:
            code, registered = row["unit_code"], row["values"]["registered"]
            if code is None or code.startswith("_") or registered < max(criteria["unit_min_members"], 1):
                continue
            taking_part = active.get(code, 0)
            if not taking_part:
                continue
            unit_rows.append({
                "unit_code": code, "unit": row["unit"], "registered": registered, "taking_part": taking_part,
                "rate_pct": round(100.0 * taking_part / registered, 1), "quiz_avg": row["values"]["quiz_avg"],
            })
        unit_rows.sort(key=lambda u: (-u["rate_pct"], -(u["quiz_avg"] or 0), u["unit_code"]))
        unit_rows = unit_rows[: criteria["top_units"]]
    return {"criteria": criteria, "members": members, "units": unit_rows}


def build_report(store: Store, catalog: Catalog, config: dict[str, Any], period: Period, scope: str | None,
                 *, now: float) -> dict[str, Any]:
    """Everything the periodic report of ``scope`` (None: the whole organisation) needs."""
    units = catalog.units
    if scope is not None and scope not in units.units:
        raise ReportError(f"Không có đơn vị mã {scope} trong danh mục.")
    tz = config["TIMEZONE"]
    summary = _summary(store, units, period, scope)
    quizzes = _quizzes(store, catalog, period, scope, tz)
    limit = int(config["LEADERBOARD_SIZE"])
    leaderboards, unit_leaders = [], []
    for q in quizzes:
        if not q["finished"]:
            continue
        leaderboards.append({"quiz_id": q["quiz_id"], "title": q["title"],
                             "rows": leaderboard_rows(store, units, q["quiz_id"], period=period, scope=scope, limit=limit)})
        for row in summary["rows"]:
            code = row["unit_code"]
            if code and not code.startswith("_"):
                leaders = leaderboard_rows(store, units, q["quiz_id"], period=period, scope=code, limit=UNIT_LEADERS)
                if leaders:
                    unit_leaders.append({"quiz_id": q["quiz_id"], "title": q["title"], "unit_code": code, "unit": row["unit"], "rows": leaders})
    return {
        "organisation": config["ORG_NAME"],
        "unit": {"code": scope, "label": units.label(scope, top=True) if scope else config["ORG_NAME"]},
        "period": {"from": period.first_day, "to": period.last_day},
        "generated_at": dt.datetime.fromtimestamp(now, ZoneInfo(tz)).isoformat(timespec="seconds"),
        "sample_units": units.sample,
        "summary": summary,
        "quizzes": quizzes,
        "contests": _contests(store, catalog, period, scope),
        "leaderboards": leaderboards,
        "unit_leaderboards": unit_leaders,
        "commendations": _commendations(store, units, config, period, scope, summary),
        "posts": {place: store.count_posts_published(period.start, period.end).get(place, 0) for place in POST_PLACES},
    }


@dataclass
class Table:
    """One section of the report as a table: becomes a CSV file or an Excel sheet."""

    key: str  # file-name part, ASCII
    sheet: str  # sheet name (at most 31 characters)
    title: str
    headers: list[str]
    rows: list[list[Any]]
    total: list[Any] | None = None


def _pct(value: float | None) -> Any:
    return "" if value is None else value


def _code(code: str | None) -> str:
    """A unit code for a sheet: the report's own row keys ('_self', '_none', '_unknown') stay blank."""
    return "" if not code or code.startswith("_") else code


def report_tables(report: dict[str, Any]) -> list[Table]:
    """The report laid out like the periodic report's tables, with Vietnamese headers."""
    summary = report["summary"]
    keys = [c["key"] for c in summary["columns"]]
    tables = [Table(
        "tong-hop", "Tổng hợp", "Kết quả tham gia theo đơn vị",
        ["STT", "Đơn vị", "Mã đơn vị", *[c["title"] for c in summary["columns"]]],
        [[i, r["unit"], _code(r["unit_code"]), *[_pct(r["values"][k]) for k in keys]] for i, r in enumerate(summary["rows"], 1)],
        ["", "Tổng cộng", report["unit"]["code"] or "", *[_pct(summary["total"][k]) for k in keys]],
    )]
    tables.append(Table(
        "thi-truc-tuyen", "Thi trực tuyến", "Kết quả các bài thi",
        ["STT", "Mã bài thi", "Bài thi", "Lượt thi", "Lượt hoàn thành", "Người dự thi", "Điểm trung bình (%)",
         "Điểm cao nhất (%)", "Thời gian trung bình (giây)"],
        [[i, q["quiz_id"], q["title"], q["attempts"], q["finished"], q["participants"], _pct(q["avg_pct"]), _pct(q["max_pct"]),
          _pct(q["avg_duration"])] for i, q in enumerate(report["quizzes"], 1)],
    ))
    rank_headers = ["Bài thi", "Hạng", "Họ và tên", "Đơn vị", "Kênh", "Số câu đúng", "Số câu", "Thời gian (giây)"]
    tables.append(Table(
        "xep-hang", "Xếp hạng", "Bảng xếp hạng từng bài thi (điểm cao trước, cùng điểm thì thời gian ngắn trước)",
        rank_headers,
        [[b["title"], r["rank"], r["name"], r["unit"], r["channel"], r["score"], r["total"], r["duration"]]
         for b in report["leaderboards"] for r in b["rows"]],
    ))
    tables.append(Table(
        "xep-hang-don-vi", "Xếp hạng theo đơn vị", f"{UNIT_LEADERS} người dẫn đầu mỗi đơn vị, từng bài thi",
        ["Đơn vị xếp hạng", *rank_headers],  # headers stay unique: "Đơn vị" is the member's
        [[b["unit"], b["title"], r["rank"], r["name"], r["unit"], r["channel"], r["score"], r["total"], r["duration"]]
         for b in report["unit_leaderboards"] for r in b["rows"]],
    ))
    tables.append(Table(
        "cuoc-thi", "Cuộc thi", "Hội viên tham gia các cuộc thi",
        ["STT", "Cuộc thi", "Đơn vị tổ chức", "Tự báo qua chatbot", "Theo danh sách nhập", "Tổng"],
        [[i, c["name"], c["organiser"], c["chat"], c["import"], c["total"]] for i, c in enumerate(report["contests"], 1)],
    ))
    commend = report["commendations"]
    c = commend["criteria"]
    tables.append(Table(
        "de-xuat-ca-nhan", "Đề xuất khen cá nhân",
        f"Cá nhân tiêu biểu: hoàn thành ít nhất {c['min_quizzes']} bài thi, điểm tốt nhất trung bình từ {c['min_score_percent']}%",
        ["STT", "Họ và tên", "Đơn vị", "Số bài thi", "Điểm trung bình (%)", "Số cuộc thi đã tham gia", "Tổng thời gian (giây)"],
        [[i, m["name"], m["unit"], m["quizzes"], m["avg_pct"], m["contests"], m["total_duration"]] for i, m in enumerate(commend["members"], 1)],
    ))
    tables.append(Table(
        "de-xuat-tap-the", "Đề xuất khen tập thể",
        f"Tập thể tiêu biểu: tỉ lệ hội viên đăng ký tham gia thi hoặc cuộc thi (đơn vị có từ {c['unit_min_members']} hội viên đăng ký)",
        ["STT", "Đơn vị", "Mã đơn vị", "Hội viên đăng ký", "Hội viên tham gia", "Tỉ lệ tham gia (%)", "Điểm trung bình (%)"],
        [[i, u["unit"], u["unit_code"], u["registered"], u["taking_part"], u["rate_pct"], _pct(u["quiz_avg"])] for i, u in enumerate(commend["units"], 1)],
    ))
    posts = report.get("posts") or {}
    tables.append(Table(
        "bai-dang", "Bài đăng", "Bài đăng của Hội trên Trang Facebook và bài viết Zalo OA trong kỳ (đã đăng hoặc đã hẹn giờ)",
        ["STT", "Nơi đăng", "Số bài"],
        [[i, label, posts.get(place, 0)] for i, (place, label) in enumerate(POST_PLACES.items(), 1)],
        ["", "Tổng cộng", sum(posts.values())],
    ))
    return tables


def quiz_result_rows(store: Store, units: UnitTree, quiz_id: str, scope: str | None = None, *,
                     tz: str = "Asia/Ho_Chi_Minh") -> tuple[list[str], list[list[Any]]]:
    """Every attempt of a quiz: channel, platform id, unit, score, duration (`flask quiz results`)."""
    headers = ["Lượt thi", "Kênh", "Mã người dùng trên kênh", "Họ và tên", "Mã đơn vị", "Đơn vị", "Trạng thái",
               "Số câu đúng", "Số câu", "Thời gian (giây)", "Bắt đầu (giờ Việt Nam)"]
    states = {"finished": "hoàn thành", "active": "đang thi", "expired": "hết hạn", "closed": "bài thi đã đóng"}
    rows = []
    for r in store.quiz_results(quiz_id, scope):
        started = formats.time_text(r["started_at"], tz, "%d/%m/%Y %H:%M:%S")
        rows.append([r["attempt_id"], r["channel"], r["platform_id"], r["full_name"] or "", r["unit_code"] or "",
                     units.label(r["unit_code"]) if r["unit_code"] else "", states.get(r["state"], r["state"]),
                     r["score"], r["total"], round(r["duration"], 1) if r["duration"] is not None else "", started])
    return headers, rows
