"""The content bank's data: entries, their sources, topics, and the problems the checker reports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    """Where an answer comes from; ``date`` is "YYYY-MM-DD" or "YYYY"."""

    name: str
    number: str | None = None
    date: str | None = None
    url: str | None = None
    title: str | None = None  # full reference for staff; members see ``name``


@dataclass(frozen=True)
class Entry:
    """One question and its verified answer."""

    id: str
    topic: str
    question: str
    variants: tuple[str, ...]
    keywords: tuple[str, ...]
    answer: str
    sources: tuple[Source, ...]
    related: tuple[str, ...]
    status: str
    reviewed: dt.date
    reviewed_by: str | None = None
    review_by: dt.date | None = None  # time-sensitive facts: check again by this date
    sensitive: bool = False  # sovereignty content: only an admin approves
    file: str = ""
    line: int = 0

    @property
    def approved(self) -> bool:
        return self.status == "approved"


@dataclass(frozen=True)
class Topic:
    """A menu topic; every entry belongs to one."""

    id: str
    title: str


@dataclass(frozen=True)
class ContentIssue:
    """One problem in the content files."""

    file: str
    line: int
    entry_id: str | None
    message: str
    severity: str = "error"  # error | warning

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        prefix = "" if self.is_error else "cảnh báo: "
        return f"{self.file}:{self.line}: [{self.entry_id or '-'}] {prefix}{self.message}"
