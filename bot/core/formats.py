"""How staff read figures, dates and schedules: Vietnamese formats, one module for the console and the reports.

- dates day/month/year (``04/12/2026``), times ``08:00``, in the organisation's time zone;
- numbers with a dot between thousands and a decimal comma (``1.234,5``);
- recurring schedules (5-field crontab, local time) in words: "Thứ Hai hằng tuần, 08:00".
  An expression that cannot be put in words is shown as it is.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

DATE = "%d/%m/%Y"
DATE_TIME = "%d/%m/%Y %H:%M"
MISSING = "—"


def local_datetime(ts: float, tz: str) -> dt.datetime:
    return dt.datetime.fromtimestamp(float(ts), ZoneInfo(tz))


def date_text(value: dt.date | str | None) -> str:
    """A date (or an ISO 'YYYY-MM-DD' string) as 04/12/2026; anything else unchanged; "—" when missing."""
    if value is None or value == "":
        return MISSING
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    return value.strftime(DATE)


def time_text(ts: float | None, tz: str, fmt: str = DATE_TIME) -> str:
    """Epoch seconds in local time (04/12/2026 08:00 by default); "—" when missing."""
    if ts is None or ts == "":
        return MISSING
    return local_datetime(float(ts), tz).strftime(fmt)


def iso_time_text(iso: str) -> str:
    """An ISO date-time string (already local) as 04/12/2026 08:00; anything else unchanged."""
    try:
        return dt.datetime.fromisoformat(iso).strftime(DATE_TIME)
    except (TypeError, ValueError):
        return str(iso)


def file_stamp(ts: float, tz: str, *, with_time: bool = True) -> str:
    """The local date (and time) for a file name: 20261204-0800 (sorts by date; no slashes)."""
    return local_datetime(ts, tz).strftime("%Y%m%d-%H%M" if with_time else "%Y%m%d")


def number_text(value: Any, decimals: int | None = None) -> str:
    """1234567 -> 1.234.567; 1234.5 -> 1.234,5 (at most two decimals, no trailing zeros, unless ``decimals`` says).

    Whole numbers show no decimals; None and "" give "—"; text that is not a number is returned as it is.
    """
    if value is None or value == "":
        return MISSING
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value) if "." in str(value) else int(value)
        except (TypeError, ValueError):
            return str(value)
    trim = decimals is None
    if decimals is None:
        decimals = 0 if float(value).is_integer() else 2
    text = f"{value:,.{decimals}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def percent_text(value: float | None, decimals: int = 1) -> str:
    """12.5 -> "12,5%"; None -> "—"."""
    if value is None:
        return MISSING
    value = round(float(value), decimals)
    return number_text(value, 0 if value.is_integer() else decimals) + "%"


def share_text(part: float, whole: float) -> str:
    """part/whole as a percentage with one decimal ("12,5%"); "—" when there is nothing to share."""
    if not whole:
        return MISSING
    return number_text(100 * part / whole, 1) + "%"


def csv_value(value: Any) -> Any:
    """A report cell for CSV: fractions with a decimal comma (what a Vietnamese spreadsheet reads), the rest as is."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.10g}".replace(".", ",")
    if isinstance(value, float):
        return int(value)
    return value


# --- schedules in words -------------------------------------------------------------------

WEEKDAY_NAMES = ("Chủ Nhật", "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy")  # crontab: 0 = Sunday
_DAY_TOKENS = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}


def _numbers(field: str, lo: int, hi: int) -> list[int] | None:
    """A crontab field made only of numbers, ranges and lists (no steps) -> the sorted values; None otherwise."""
    values: set[int] = set()
    for item in field.split(","):
        m = re.fullmatch(r"(\d{1,2})(?:-(\d{1,2}))?", item)
        if not m:
            return None
        a, b = int(m.group(1)), int(m.group(2) or m.group(1))
        if not lo <= a <= b <= hi:
            return None
        values.update(range(a, b + 1))
    return sorted(values)


def _weekdays(field: str) -> list[int] | None:
    """A crontab day-of-week field (numbers 0–7 or names) -> sorted days, Monday first, Sunday last."""
    text = field.lower()
    for name, number in _DAY_TOKENS.items():
        text = re.sub(rf"\b{name}[a-z]*\b", str(number), text)
    days = _numbers(text, 0, 7)
    if days is None:
        return None
    return sorted({d % 7 for d in days}, key=lambda d: (d == 0, d))


def _weekday_words(days: list[int]) -> str:
    """[1..5] -> "Từ Thứ Hai đến Thứ Sáu"; [1, 4] -> "Thứ Hai và Thứ Năm"; [1, 3, 5] -> "Thứ Hai, Thứ Tư và Thứ Sáu"."""
    names = [WEEKDAY_NAMES[d] for d in days]
    order = [(d - 1) % 7 for d in days]  # Monday 0 .. Sunday 6
    if len(days) >= 3 and order == list(range(order[0], order[0] + len(order))):
        return f"Từ {names[0]} đến {names[-1]}"
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " và " + names[-1]


def _list_words(values: list[str]) -> str:
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " và " + values[-1]


def schedule_in_words(cron: str | None) -> str:
    """A 5-field crontab (local time) in Vietnamese words; the expression itself when it has no simple wording.

    "0 8 * * 1" -> "Thứ Hai hằng tuần, 08:00"; "30 20 * * *" -> "Hằng ngày, 20:30";
    "0 8 15 * *" -> "Ngày 15 hằng tháng, 08:00"; "0 7 1 1 *" -> "Ngày 1/1 hằng năm, 07:00".
    """
    text = " ".join((cron or "").split())
    fields = text.split(" ")
    if len(fields) != 5:
        return text
    minute, hour, dom, month, dow = fields
    minutes, hours = _numbers(minute, 0, 59), _numbers(hour, 0, 23)
    if not minutes or not hours or len(minutes) * len(hours) > 4:
        return text
    times = _list_words([f"{h:02d}:{m:02d}" for h in hours for m in minutes])
    if dom == "*" and month == "*":
        if dow in ("*", "?"):
            return f"Hằng ngày, {times}"
        days = _weekdays(dow)
        if not days:
            return text
        if len(days) == 7:
            return f"Hằng ngày, {times}"
        return f"{_weekday_words(days)} hằng tuần, {times}"
    if dow not in ("*", "?"):
        return text
    days_of_month = _numbers(dom, 1, 31)
    if not days_of_month or len(days_of_month) > 4:
        return text
    day_words = _list_words([str(d) for d in days_of_month])
    if month == "*":
        return f"Ngày {day_words} hằng tháng, {times}"
    months = _numbers(month, 1, 12)
    if months and len(months) == 1 and len(days_of_month) == 1:
        return f"Ngày {days_of_month[0]}/{months[0]} hằng năm, {times}"
    return text
