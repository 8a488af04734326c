"""Vietnamese formats staff read: dates, numbers, shares, file stamps and schedules in words."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.core.formats import (
    csv_value,
    date_text,
    file_stamp,
    number_text,
    percent_text,
    schedule_in_words,
    share_text,
    time_text,
)

TZ = "Asia/Ho_Chi_Minh"


@pytest.mark.parametrize(("cron", "words"), [
    ("0 8 * * 1", "Thứ Hai hằng tuần, 08:00"),
    ("30 20 * * *", "Hằng ngày, 20:30"),
    ("0 8 15 * *", "Ngày 15 hằng tháng, 08:00"),
    ("0 8 * * 0", "Chủ Nhật hằng tuần, 08:00"),
    ("0 8 * * 7", "Chủ Nhật hằng tuần, 08:00"),
    ("0 8 * * mon", "Thứ Hai hằng tuần, 08:00"),
    ("5 7 * * 1-5", "Từ Thứ Hai đến Thứ Sáu hằng tuần, 07:05"),
    ("0 8 * * 1,4", "Thứ Hai và Thứ Năm hằng tuần, 08:00"),
    ("0 8 * * 6,0", "Thứ Bảy và Chủ Nhật hằng tuần, 08:00"),
    ("0 8 * * 1,3,5", "Thứ Hai, Thứ Tư và Thứ Sáu hằng tuần, 08:00"),
    ("0 8 * * 0-6", "Hằng ngày, 08:00"),
    ("0 8,20 * * *", "Hằng ngày, 08:00 và 20:00"),
    ("0 8 1,15 * *", "Ngày 1 và 15 hằng tháng, 08:00"),
    ("0 7 1 1 *", "Ngày 1/1 hằng năm, 07:00"),
    ("  0   8 * *   1 ", "Thứ Hai hằng tuần, 08:00"),
])
def test_schedule_in_words(cron, words):
    assert schedule_in_words(cron) == words


@pytest.mark.parametrize("cron", [
    "*/5 * * * *",       # every five minutes: no simple wording
    "0 */2 * * *",       # every two hours
    "0 8 1-7 * 1",       # first Monday of the month (cron's day-of-month OR day-of-week)
    "0 8 * 1-3 *",       # every day of three months
    "0 8 * * 1/2",       # steps
    "not a schedule",
    "",
])
def test_schedule_without_simple_words_is_shown_as_written(cron):
    assert schedule_in_words(cron) == " ".join(cron.split())


def test_schedule_none_is_empty():
    assert schedule_in_words(None) == ""


@pytest.mark.parametrize(("value", "text"), [
    (0, "0"), (7, "7"), (1234, "1.234"), (1234567, "1.234.567"), (-1234, "-1.234"),
    (1234.5, "1.234,5"), (0.5, "0,5"), (12.0, "12"), (12.25, "12,25"), (0.4, "0,4"), (1234.5678, "1.234,57"), ("1234", "1.234"), ("12.5", "12,5"),
    (None, "—"), ("", "—"), ("abc", "abc"),
])
def test_number_text(value, text):
    assert number_text(value) == text


def test_number_text_with_fixed_decimals():
    assert number_text(1234.5678, 2) == "1.234,57"
    assert number_text(3, 1) == "3,0"


def test_percent_and_share():
    assert percent_text(12.5) == "12,5%"
    assert percent_text(100.0) == "100%"
    assert percent_text(None) == "—"
    assert share_text(1, 8) == "12,5%"
    assert share_text(1, 3) == "33,3%"
    assert share_text(0, 0) == "—"


def test_dates_day_month_year(clock):
    today = clock.today(TZ)
    assert date_text(today) == today.strftime("%d/%m/%Y")
    assert date_text(today.isoformat()) == today.strftime("%d/%m/%Y")
    assert date_text(None) == "—"
    assert date_text("chưa rõ") == "chưa rõ"
    local = clock.local(TZ)
    assert time_text(clock.now(), TZ) == local.strftime("%d/%m/%Y %H:%M")
    assert time_text(None, TZ) == "—"


def test_file_stamp_is_local_time(clock):
    """Near midnight UTC the local (UTC+7) date is already the next day: the stamp follows local time."""
    local_morning = dt.datetime.combine(clock.today(TZ), dt.time(6, 30), dt.timezone(dt.timedelta(hours=7)))
    ts = local_morning.timestamp()  # 23:30 UTC the day before
    assert dt.datetime.fromtimestamp(ts, dt.UTC).date() != local_morning.date()
    assert file_stamp(ts, TZ) == local_morning.strftime("%Y%m%d-0630")
    assert file_stamp(ts, TZ, with_time=False) == local_morning.strftime("%Y%m%d")


def test_csv_values_use_the_decimal_comma():
    assert csv_value(12.5) == "12,5"
    assert csv_value(3.0) == 3
    assert csv_value(7) == 7
    assert csv_value("Phường 1") == "Phường 1"


def test_report_csv_cells_use_the_decimal_comma_and_numeric_cells_stay_plain():
    from bot.reports.export import csv_bytes

    lines = csv_bytes(["Đơn vị", "Tỉ lệ (%)", "Số hội viên"], [["Phường 1", 12.5, 1234]], ["Tổng", 50.0, 1234]).decode("utf-8-sig").splitlines()
    assert lines == ["Đơn vị,Tỉ lệ (%),Số hội viên", 'Phường 1,"12,5",1234', "Tổng,50,1234"]
