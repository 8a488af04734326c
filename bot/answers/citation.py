"""How a reply cites its sources: the short form members read and the full one staff see.

A member sees at most two sources, never a T4 or forbidden one (content/sources.yaml), each as a short
name, a date as members write it (d/m/yyyy) and, where the channel shows links, its web address.
Pure: no Flask, no storage.
"""

from __future__ import annotations

import re

from bot.answers.bank import Entry, Source
from bot.answers.check_sources import MAX_SOURCE_NAME
from bot.answers.sources import SourceRules

MAX_SOURCES_SHOWN = 2  # the full list stays in the entry for staff
# a short name that already ends with its date or year: "…, 2025", "…, 3/2025", "… (2019)"
_ENDS_WITH_DATE = re.compile(r"(?:^|[\s,/(.-])(?:1[89]|20)\d{2}\)?$")


def format_date(value: str | None) -> str:
    """ "2015-01-09" → "ngày 09/01/2015"; "2015" → "năm 2015"."""
    if not value:
        return ""
    if len(value) == 4:
        return f"năm {value}"
    year, month, day = value.split("-")
    return f"ngày {day}/{month}/{year}"


def format_source(source: Source) -> str:
    """ "<name>, số <number>, ngày <dd/mm/yyyy> – <url>" (missing parts left out)."""
    text = source.name
    if source.number and source.number.lower() not in source.name.lower():
        text += f", số {source.number}"
    if source.date:
        text += f", {format_date(source.date)}"
    if source.url:
        text += f" – {source.url}"
    return text


def short_date(value: str | None) -> str:
    """ "2015-01-09" → "9/1/2015"; "2015" → "2015" (dates as members read them: d/m/yyyy)."""
    if not value:
        return ""
    if len(value) == 4:
        return value
    year, month, day = value.split("-")
    return f"{int(day)}/{int(month)}/{year}"


def short_source(source: Source, *, link: bool = True) -> str:
    """What a member sees of one source: its short name (at most 60 characters), its date unless
    the name already ends with one ("Báo Biên phòng, 3/2025"), and its link where the channel shows
    links.  The full reference (title, number) stays in the entry for staff."""
    text = cut(source.name, MAX_SOURCE_NAME)
    if source.date and not _ENDS_WITH_DATE.search(text):
        text += f", {short_date(source.date)}"
    if link and source.url:
        text += f" – {source.url}"
    return text


def shown_sources(entry: Entry, rules: SourceRules | None = None, limit: int = MAX_SOURCES_SHOWN) -> list[Source]:
    """The first ``limit`` sources members may see, in the editor's order: never a T4 (staff
    cross-checking only) or forbidden one (content/sources.yaml)."""
    sources = [s for s in entry.sources if rules is None or rules.shown(s.url)]
    return sources[:limit]


def source_line(
    entry: Entry,
    *,
    rules: SourceRules | None = None,
    links: bool = True,
    limit: int = MAX_SOURCES_SHOWN,
    room: int | None = None,
) -> str:
    """ "Nguồn: …" for at most ``limit`` shown sources of the entry, joined with "; ".

    With ``links``, the first source carries its link; each further source carries its
    link only while the line stays within ``room`` characters (None: no limit), so a
    long web address never doubles the length of a reply.
    """
    sources = shown_sources(entry, rules, limit)
    if not sources:
        return ""

    def line(with_link: list[bool]) -> str:
        return "Nguồn: " + "; ".join(short_source(s, link=w) for s, w in zip(sources, with_link))

    with_link = [links and i == 0 for i in range(len(sources))]
    for i in range(1, len(sources)):
        if not links:
            break
        trial = with_link[:i] + [True] + with_link[i + 1 :]
        if room is None or len(line(trial)) <= room:
            with_link = trial
    return line(with_link)


def cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters at a word boundary, with "…"."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if " " in head:
        head = head[: head.rfind(" ")]
    return head.rstrip(" ,;:–-") + "…"
