"""Office hours as staff write them, and the figures of conversations with staff (issue 15)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.handoff.report import handoff_figures, parse_office_hours

TZ = "Asia/Ho_Chi_Minh"
WEEKDAYS = frozenset(range(5))


@pytest.mark.parametrize(
    ("text", "days", "start", "end"),
    [
        ("Thứ Hai–Thứ Sáu, 7:30–17:00", WEEKDAYS, dt.time(7, 30), dt.time(17)),
        ("thu hai - thu sau 7h30 - 17h", WEEKDAYS, dt.time(7, 30), dt.time(17)),
        ("Thứ Hai đến Thứ Sáu, từ 7 giờ 30 đến 17 giờ", WEEKDAYS, dt.time(7, 30), dt.time(17)),
        ("T2-T7 8:00-11:30", frozenset(range(6)), dt.time(8), dt.time(11, 30)),
        ("Hàng ngày 7-21", frozenset(range(7)), dt.time(7), dt.time(21)),
        ("Chủ nhật 8h-11h", frozenset({6}), dt.time(8), dt.time(11)),
    ],
)
def test_office_hours_are_read_as_staff_write_them(text, days, start, end):
    hours = parse_office_hours(text)
    assert hours is not None and hours.days == days and hours.start == start and hours.end == end


@pytest.mark.parametrize("text", ["", "giờ hành chính", "17:00-7:30"])
def test_unreadable_office_hours_give_none(text):
    assert parse_office_hours(text) is None


def _monday(hour: int, minute: int = 0) -> float:
    today = dt.date.today()
    monday = today - dt.timedelta(days=today.weekday())
    return dt.datetime(monday.year, monday.month, monday.day, hour, minute, tzinfo=ZoneInfo(TZ)).timestamp()


def test_figures_per_unit_median_wait_and_share_answered_in_office_hours():
    rows = [
        # opened 9:00 in hours, answered 9:10 -> in the same session
        {"unit_code": "CT.NK", "state": "closed", "opened_at": _monday(9), "first_staff_reply_at": _monday(9, 10)},
        # opened 16:50 in hours, answered at 18:00 -> after hours
        {"unit_code": "CT.NK", "state": "open", "opened_at": _monday(16, 50), "first_staff_reply_at": _monday(18)},
        # opened 20:00 (outside hours), answered next morning: not counted in the share
        {"unit_code": None, "state": "open", "opened_at": _monday(20), "first_staff_reply_at": _monday(20) + 12 * 3600},
        {"unit_code": None, "state": "open", "opened_at": _monday(10), "first_staff_reply_at": None},
    ]
    f = handoff_figures(rows, office_hours="Thứ Hai–Thứ Sáu, 7:30–17:00", timezone=TZ)
    assert f["office_hours_read"]
    total = f["total"]
    assert (total["opened"], total["closed"], total["replied"]) == (4, 1, 3)
    assert total["median_first_reply_minutes"] == 70.0  # 10, 70, 720 minutes
    assert total["opened_in_office_hours"] == 3 and total["answered_in_office_hours_share"] == pytest.approx(1 / 3, abs=0.001)
    units = {u["unit"]: u for u in f["units"]}
    assert units["CT.NK"]["opened"] == 2 and units["CT.NK"]["answered_in_office_hours_share"] == 0.5
    assert units[None]["opened"] == 2 and units[None]["replied"] == 1


def test_figures_without_readable_office_hours_leave_the_share_out():
    f = handoff_figures([{"unit_code": None, "state": "open", "opened_at": 0.0, "first_staff_reply_at": 60.0}],
                        office_hours="giờ hành chính", timezone=TZ)
    assert not f["office_hours_read"] and f["total"]["answered_in_office_hours_share"] is None
    assert f["total"]["median_first_reply_minutes"] == 1.0
