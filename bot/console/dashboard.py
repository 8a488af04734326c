"""Dashboard: conversations, answered shares, broadcast deliveries and participation, today and this week."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app, render_template

from bot.console import charts
from bot.console.blueprint import bp, percent
from bot.web.auth import requires, staff_unit
from bot.web.context import clock_now, get_store

WEEKDAYS = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")


def day_bounds(now: float, timezone: str, days: int = 7) -> tuple[list[float], list[str], float]:
    """Local midnights of the last ``days`` days (plus tomorrow's), their labels, and this Monday's midnight."""
    tz = ZoneInfo(timezone)
    today = dt.datetime.fromtimestamp(now, tz).date()
    dates = [today - dt.timedelta(days=days - 1 - i) for i in range(days + 1)]
    bounds = [dt.datetime.combine(d, dt.time(0), tz).timestamp() for d in dates]
    labels = [f"{WEEKDAYS[d.weekday()]} {d:%d/%m}" for d in dates[:-1]]
    monday = today - dt.timedelta(days=today.weekday())
    return bounds, labels, dt.datetime.combine(monday, dt.time(0), tz).timestamp()


def figures(store, now: float, timezone: str, scope_unit: str | None = None) -> dict:
    """Everything the dashboard shows, as plain numbers (also used by tests); of one unit (and below) with ``scope_unit``."""
    bounds, labels, monday = day_bounds(now, timezone)
    today, tomorrow = bounds[-2], bounds[-1]
    daily = {
        "conversations": store.conversations_by_bucket(bounds, scope_unit),
        "questions": store.questions_by_bucket(bounds, scope_unit),
        "deliveries": store.deliveries_by_bucket(bounds, scope_unit),
        "participation": store.participation_by_bucket(bounds, scope_unit),
    }
    periods = {}
    for name, start in (("today", today), ("week", monday)):
        span = [start, tomorrow]
        periods[name] = {
            "conversations": store.conversations_by_bucket(span, scope_unit)[0],
            "questions": store.questions_by_bucket(span, scope_unit)[0],
            "deliveries": store.deliveries_by_bucket(span, scope_unit)[0],
            "participation": store.participation_by_bucket(span, scope_unit)[0],
        }
    return {"labels": labels, "daily": daily, "periods": periods}


@bp.get("/dashboard")
@requires("read")
def dashboard():
    now = clock_now()
    data = figures(get_store(), now, current_app.config["TIMEZONE"], staff_unit())
    labels, daily = data["labels"], data["daily"]
    conv = daily["conversations"]
    questions = daily["questions"]
    deliveries = daily["deliveries"]
    participation = daily["participation"]
    chart = {
        "conversations": charts.bar_chart(
            "Số người nhắn tin với trợ lý mỗi ngày", labels, [("Người nhắn tin", [c["people"] for c in conv], "green")]
        ),
        "questions": charts.bar_chart(
            "Câu hỏi mỗi ngày theo kết quả",
            labels,
            [
                ("Đã trả lời", [q["answer"] for q in questions], "green"),
                ("Gợi ý câu gần đúng", [q["suggest"] for q in questions], "amber"),
                ("Chưa trả lời được", [q["fallback"] for q in questions], "red"),
            ],
        ),
        "deliveries": charts.bar_chart(
            "Tin gửi đến hội viên mỗi ngày",
            labels,
            [
                ("Đã gửi", [d["sent"] for d in deliveries], "green"),
                ("Bỏ qua theo quy định", [d["skipped"] for d in deliveries], "grey"),
                ("Lỗi", [d["failed"] for d in deliveries], "red"),
            ],
        ),
        "participation": charts.bar_chart(
            "Lượt thi trắc nghiệm và tham gia cuộc thi mỗi ngày",
            labels,
            [
                ("Lượt thi trắc nghiệm", [p["quiz"] for p in participation], "blue"),
                ("Tham gia cuộc thi", [p["contest"] for p in participation], "light"),
            ],
        ),
    }
    shares = {}
    for name, period in data["periods"].items():
        q = period["questions"]
        shares[name] = charts.share_bar(
            "Tỉ lệ câu hỏi được trả lời",
            [("Đã trả lời", q["answer"], "green"), ("Gợi ý", q["suggest"], "amber"), ("Chưa trả lời được", q["fallback"], "red")],
        )
    return render_template(
        "admin/dashboard.html", data=data, chart=chart, shares=shares, percent=percent,
        rows=list(zip(labels, conv, questions, deliveries, participation)),
    )
