"""The participation catalog: units, quizzes and contests from the content folder.

Loaded once per content folder and reloaded when one of its files changes
(checked at most every few seconds), like the answer bank.  A reload that finds
errors still serves the valid parts; `flask content check` lists the errors.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.answers.bank import ContentIssue, resolve_content_dir
from bot.answers.check import file_signature
from bot.participation.contests import Contest, contests_path, parse_contests
from bot.participation.quizzes import Quiz, parse_quizzes, quiz_files
from bot.participation.units import UnitTree, check_unit_code, parse_units, units_path

logger = logging.getLogger(__name__)

CHECK_INTERVAL_SECONDS = 3.0
ENDED_GRACE_DAYS = 30  # default of CONTEST_OFFER_DAYS_AFTER_END: offered for self-reports this long after the end date


@dataclass
class Catalog:
    """One consistent version of units, quizzes and contests."""

    units: UnitTree
    quizzes: dict[str, Quiz]
    contests: dict[str, Contest]
    issues: list[ContentIssue] = field(default_factory=list)
    signature: tuple[tuple[str, int, int], ...] = ()

    def open_quizzes(self, now: float, tz: str) -> list[Quiz]:
        return [q for q in self.quizzes.values() if q.status(now, tz) == "open"]

    def reportable_contests(self, today: dt.date | None = None, days_after_end: int = ENDED_GRACE_DAYS) -> list[Contest]:
        """Contests members may report; with ``today``, those whose end date is over ``days_after_end`` days past
        are left out (0: none is).  A contest without an end date stays."""
        oldest = today - dt.timedelta(days=days_after_end) if today and days_after_end else None
        return [c for c in self.contests.values() if c.reportable and not (oldest and c.ends and c.ends < oldest)]


def _signature(content_dir: str) -> tuple[tuple[str, int, int], ...]:
    paths = [units_path(content_dir), contests_path(content_dir), *quiz_files(content_dir)]
    bank = os.path.join(content_dir, "bank")  # quiz sources are checked against the bank
    if os.path.isdir(bank):
        paths += [os.path.join(bank, f) for f in sorted(os.listdir(bank))]
    return file_signature(paths)


def build_catalog(content_dir: str) -> Catalog:
    """Parse and validate the three kinds of file."""
    signature = _signature(content_dir)
    units, unit_issues = parse_units(content_dir)
    quizzes, quiz_issues = parse_quizzes(content_dir)
    contests, contest_issues = parse_contests(content_dir)
    return Catalog(units, quizzes, contests, unit_issues + quiz_issues + contest_issues, signature)


def check_participation_content(content_dir: str | os.PathLike[str]) -> list[ContentIssue]:
    """Problems of units.yaml, quizzes/*.yaml and contests.yaml together, in file order."""
    return build_catalog(str(content_dir)).issues


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: dict[str, tuple[Catalog, float]] = {}


_cache = _Cache()


def get_catalog(config: Any) -> Catalog:
    """The catalog of ``config['CONTENT_DIR']``: cached, reloaded when its files change."""
    content_dir = resolve_content_dir(config["CONTENT_DIR"])
    now = time.monotonic()
    cached = _cache.entries.get(content_dir)
    if cached is not None and now - cached[1] < CHECK_INTERVAL_SECONDS:
        return cached[0]
    with _cache.lock:
        cached = _cache.entries.get(content_dir)
        if cached is not None and _signature(content_dir) == cached[0].signature:
            _cache.entries[content_dir] = (cached[0], now)
            return cached[0]
        catalog = build_catalog(content_dir)
        for issue in catalog.issues:
            if issue.is_error:
                logger.error("content: %s", issue)
        _cache.entries[content_dir] = (catalog, now)
        return catalog


def bank_entry(get_bank: Callable[[], Any], entry_id: str) -> Any:
    """An approved bank entry (for quiz sources and hái hoa), or None when the bank is unavailable."""
    try:
        bank = get_bank()
    except Exception:  # a broken bank must not break a quiz: the source line is left out
        logger.exception("content bank unavailable")
        return None
    return bank.get(entry_id) if bank is not None else None


def approved_entries(get_bank: Callable[[], Any]) -> list[Any]:
    try:
        bank = get_bank()
    except Exception:
        logger.exception("content bank unavailable")
        return []
    return list(bank.approved) if bank is not None else []



def check_unit(config: Any, text: str | None) -> str:
    """A unit code typed by staff, checked against content/units.yaml (UnknownUnitError with suggestions).

    With no valid unit in the catalog (a broken units.yaml), the code is only upper-cased:
    `flask content check` reports the file itself.
    """
    tree = get_catalog(config).units
    if not tree.units:
        return (text or "").strip().upper()
    return check_unit_code(tree, text)
