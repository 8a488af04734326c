"""Schedules in local time: one-off dates, cron expressions, presets, quiet hours.

APScheduler 3.x numbers weekdays from Monday = 0, while crontab uses Sunday = 0
(APScheduler issue 286), so crontab day-of-week fields are translated to names.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.core.text import fold

_DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

# Presets staff can type instead of a cron expression (folded, without diacritics).
_WEEKDAYS = {
    "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6, "sunday": 0,
    "thu hai": 1, "thu ba": 2, "thu tu": 3, "thu nam": 4, "thu sau": 5, "thu bay": 6, "chu nhat": 0,
}


class ScheduleError(ValueError):
    """A schedule staff typed that we cannot read (message in Vietnamese)."""


def _crontab_days(field: str) -> str:
    """Crontab day-of-week (0/7 = Sunday) -> APScheduler day names."""
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for item in field.lower().split(","):
        step = 1
        if "/" in item:
            item, step_text = item.split("/", 1)
            step = int(step_text)
        if item == "*":
            lo, hi = 0, 6
        elif "-" in item:
            a, b = item.split("-", 1)
            lo, hi = _day_number(a), _day_number(b)
            if hi == 0 and lo > 0:
                hi = 7  # "1-7" / "mon-sun"
        else:
            lo = hi = _day_number(item)
        if lo > hi:
            raise ScheduleError(f"khoảng thứ trong tuần không hợp lệ: {item}")
        days.update(d % 7 for d in range(lo, hi + 1, step))
    return ",".join(_DAY_NAMES[d] for d in sorted(days))


def _day_number(token: str) -> int:
    if token.isdigit():
        number = int(token)
        if number > 7:
            raise ScheduleError(f"thứ trong tuần phải từ 0 đến 7: {token}")
        return 0 if number == 7 else number
    if token[:3] in _DAY_NAMES:
        return _DAY_NAMES.index(token[:3])
    raise ScheduleError(f"không hiểu thứ trong tuần: {token}")


def normalise_cron(text: str) -> str:
    """A 5-field crontab, or a preset such as "every Monday 08:00" / "thứ hai hàng tuần 08:00"."""
    text = text.strip()
    fields = text.split()
    if len(fields) == 5 and all(re.fullmatch(r"[\w*/,\-?]+", f) for f in fields):
        cron_trigger(" ".join(fields), "UTC")  # validates
        return " ".join(fields)
    folded = " ".join(fold(text).split())
    clock = re.search(r"(\d{1,2})[:h](\d{2})?", folded)
    if not clock:
        raise ScheduleError("cần một biểu thức cron 5 trường hoặc một mẫu như “every Monday 08:00”, “hàng ngày 07:30”.")
    hour, minute = int(clock.group(1)), int(clock.group(2) or 0)
    if hour > 23 or minute > 59:
        raise ScheduleError(f"giờ không hợp lệ: {clock.group(0)}")
    for name, number in _WEEKDAYS.items():
        if name in folded:
            return f"{minute} {hour} * * {number}"
    if any(word in folded for word in ("daily", "every day", "hang ngay", "moi ngay")):
        return f"{minute} {hour} * * *"
    raise ScheduleError("không hiểu lịch lặp lại; ví dụ: “every Monday 08:00”, “daily 07:30”, “0 8 * * 1”.")


def cron_trigger(cron: str, timezone: str, *, end: float | None = None) -> CronTrigger | OrTrigger:
    """An APScheduler trigger for a 5-field crontab in local time."""
    fields = cron.split()
    if len(fields) != 5:
        raise ScheduleError("biểu thức cron cần đúng 5 trường: phút giờ ngày tháng thứ")
    tz = ZoneInfo(timezone)
    end_date = datetime.fromtimestamp(end, tz) if end else None

    def trigger(day: str, day_of_week: str) -> CronTrigger:
        return CronTrigger(
            minute=fields[0], hour=fields[1], day=day, month=fields[3],
            day_of_week=day_of_week, timezone=tz, end_date=end_date,
        )

    try:
        days = _crontab_days(fields[4])
        if fields[2] not in ("*", "?") and days != "*":
            # crontab fires when EITHER the day of month or the weekday matches;
            # APScheduler's CronTrigger would need both
            return OrTrigger([trigger(fields[2], "*"), trigger("*", days)])
        return trigger(fields[2], days)
    except ValueError as exc:
        raise ScheduleError(f"biểu thức cron không hợp lệ: {exc}") from None


def next_cron_fire(cron: str, timezone: str, after: float, *, end: float | None = None) -> float | None:
    """The first fire time strictly after ``after`` (epoch seconds), or None past the end."""
    trigger = cron_trigger(cron, timezone, end=end)
    tz = ZoneInfo(timezone)
    previous = datetime.fromtimestamp(after, tz)
    nxt = trigger.get_next_fire_time(previous, previous + timedelta(microseconds=1))
    while nxt is not None and nxt.timestamp() <= after:
        nxt = trigger.get_next_fire_time(nxt, nxt + timedelta(seconds=1))
    return nxt.timestamp() if nxt else None


_RELATIVE_DAYS = {"hom nay": 0, "ngay mai": 1, "mai": 1, "ngay kia": 2, "today": 0, "tomorrow": 1}
_RELATIVE_AT = re.compile(r"^(hom nay|ngay mai|mai|ngay kia|today|tomorrow)\s+(?:luc\s+)?(\d{1,2})[:h](\d{2})?$")
_RELATIVE_SPAN = re.compile(r"^\+?(\d{1,3})\s*(ngay|tuan|thang|d|w)$")
_FORMAT_HELP = '"ngày mai 08:00", "hôm nay 20:30" hoặc ISO 8601 (YYYY-MM-DDTHH:MM)'


def parse_local_datetime(text: str, timezone: str, *, now: float | None = None) -> float:
    """A local date-time: "ngày mai 08:00" / "hôm nay 20:30" (relative to ``now``) or ISO 8601
    (without an offset it is local time, Asia/Ho_Chi_Minh)."""
    folded = " ".join(fold(text).split())
    relative = _RELATIVE_AT.match(folded)
    if relative and now is not None:
        hour, minute = int(relative.group(2)), int(relative.group(3) or 0)
        if hour > 23 or minute > 59:
            raise ScheduleError(f"giờ không hợp lệ: {text}")
        day = datetime.fromtimestamp(now, ZoneInfo(timezone)).date() + timedelta(days=_RELATIVE_DAYS[relative.group(1)])
        return datetime.combine(day, time(hour, minute), ZoneInfo(timezone)).timestamp()
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ScheduleError(f"thời điểm không hợp lệ (ví dụ {_FORMAT_HELP}): {text}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(timezone))
    return value.timestamp()


def parse_until(text: str, timezone: str, *, now: float | None = None) -> float:
    """An end date (inclusive: the end of that local day): YYYY-MM-DD, "+4 tuần" / "30 ngày"
    from today (relative to ``now``), or a date-time."""
    text = text.strip()
    span = _RELATIVE_SPAN.match(" ".join(fold(text).split()))
    if span and now is not None:
        count, unit = int(span.group(1)), span.group(2)
        days = count * {"ngay": 1, "d": 1, "tuan": 7, "w": 7, "thang": 30}[unit]
        day = datetime.fromtimestamp(now, ZoneInfo(timezone)).date() + timedelta(days=days)
        return datetime.combine(day + timedelta(days=1), time(0), ZoneInfo(timezone)).timestamp() - 1
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = date.fromisoformat(text)
        # the last second of that day: the end is inclusive, so the next midnight must not count
        return datetime.combine(day + timedelta(days=1), time(0), ZoneInfo(timezone)).timestamp() - 1
    return parse_local_datetime(text, timezone, now=now)


def in_quiet_hours(now: float, quiet: tuple[time, time] | None, timezone: str) -> bool:
    """True while local time is inside quiet hours (which may span midnight)."""
    if quiet is None:
        return False
    start, end = quiet
    local = datetime.fromtimestamp(now, ZoneInfo(timezone)).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end
