"""Figures about conversations with staff: opened and closed per unit, time to the first staff reply,
and the share answered within office hours (pure: rows in, figures out)."""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.text import fold_words

# "thu hai" .. "chu nhat", "t2" .. "t7", "cn" -> Monday 0 .. Sunday 6
DAY_WORDS = {
    "thu hai": 0, "thu ba": 1, "thu tu": 2, "thu nam": 3, "thu sau": 4, "thu bay": 5, "chu nhat": 6,
    "t2": 0, "t3": 1, "t4": 2, "t5": 3, "t6": 4, "t7": 5, "cn": 6,
}
_DAY = "|".join(sorted(DAY_WORDS, key=len, reverse=True))
_RANGE = re.compile(rf"\b({_DAY})\s+(?:den|toi)\s+({_DAY})\b")
_TIMES = re.compile(r"\b(\d{1,2})(?:h(\d{2})?)?\s+(?:den|toi)\s+(\d{1,2})(?:h(\d{2})?)?\b")


@dataclass(frozen=True)
class OfficeHours:
    days: frozenset[int]
    start: dt.time
    end: dt.time

    def contains(self, moment: dt.datetime) -> bool:
        return moment.weekday() in self.days and self.start <= moment.time() < self.end

    def end_of(self, moment: dt.datetime) -> dt.datetime:
        return moment.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)


def parse_office_hours(text: str) -> OfficeHours | None:
    """"Thứ Hai–Thứ Sáu, 7:30–17:00" -> Monday to Friday 07:30-17:00; None when it cannot be read."""
    raw = re.sub(r"\s*[-–—]\s*", " den ", str(text or "")).replace(":", "h")  # folding drops dashes and colons
    folded = fold_words(raw)
    folded = re.sub(r"\b(\d{1,2})\s*gio(?:\s*(\d{2}))?\b", lambda m: f"{m.group(1)}h{m.group(2) or ''}", folded)  # "7 giờ 30"
    every_day = bool(re.search(r"\b(hang|moi|tat ca cac) ngay\b", folded))
    days: set[int] = set()
    span = _RANGE.search(folded)
    if span:
        a, b = DAY_WORDS[span.group(1)], DAY_WORDS[span.group(2)]
        days = {(a + i) % 7 for i in range((b - a) % 7 + 1)}
        folded = folded[: span.start()] + " " + folded[span.end():]
    else:
        days = {DAY_WORDS[m] for m in re.findall(rf"\b({_DAY})\b", folded)}
    times = _TIMES.search(folded)
    if not times:
        return None
    h1, m1, h2, m2 = int(times.group(1)), int(times.group(2) or 0), int(times.group(3)), int(times.group(4) or 0)
    if not (0 <= h1 < 24 and 0 <= h2 <= 24 and m1 < 60 and m2 < 60):
        return None
    end = dt.time(23, 59) if h2 == 24 else dt.time(h2, m2)
    if end <= dt.time(h1, m1):
        return None
    return OfficeHours(frozenset(range(7) if every_day else days or range(5)), dt.time(h1, m1), end)


def handoff_figures(rows: list[dict[str, Any]], *, office_hours: str, timezone: str) -> dict[str, Any]:
    """Per unit (None: organisation level) and in total: opened, closed, replied, median minutes to the
    first staff reply, and of the conversations opened within office hours the share first answered
    before those office hours ended that day."""
    hours = parse_office_hours(office_hours)
    tz = ZoneInfo(timezone)
    groups: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row.get("unit_code")].append(row)

    def figures(items: list[dict[str, Any]]) -> dict[str, Any]:
        waits = [(r["first_staff_reply_at"] - r["opened_at"]) / 60 for r in items if r.get("first_staff_reply_at")]
        in_hours = same_session = 0
        if hours is not None:
            for r in items:
                opened = dt.datetime.fromtimestamp(r["opened_at"], tz)
                if not hours.contains(opened):
                    continue
                in_hours += 1
                first = r.get("first_staff_reply_at")
                if first and dt.datetime.fromtimestamp(first, tz) <= hours.end_of(opened):
                    same_session += 1
        return {
            "opened": len(items),
            "closed": sum(1 for r in items if r.get("state") == "closed"),
            "replied": len(waits),
            "median_first_reply_minutes": round(statistics.median(waits), 1) if waits else None,
            "opened_in_office_hours": in_hours if hours is not None else None,
            "answered_in_office_hours_share": round(same_session / in_hours, 3) if hours is not None and in_hours else None,
        }

    units = [{"unit": unit, **figures(items)} for unit, items in sorted(groups.items(), key=lambda kv: kv[0] or "")]
    return {"office_hours_read": hours is not None, "total": figures(rows), "units": units}
