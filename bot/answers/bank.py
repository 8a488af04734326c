"""The loaded content bank: an immutable snapshot with its matcher, reloaded when files change.

The entries come from the folder's bank/*.yaml, or from an :class:`EntrySource` the app
wires in (the database, when several hosts serve): then a cheap revision check replaces
the scan of the bank files (topics.yaml and sources.yaml stay files either way).

:meth:`ContentBank.load` loads the entries that are valid (the running app keeps
serving even when an editor leaves a mistake) and builds the
:class:`~bot.answers.matcher.Matcher` over the approved ones.
:meth:`ContentBank.reload_if_changed` notices edited files with a cheap scan and
swaps in the new bank only when it has no errors.  Parsing and validation live in
:mod:`bot.answers.check`; its public names are re-exported here.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from bot.answers.check import (
    CHECK_INTERVAL_SECONDS,
    ENTRY_FIELDS,
    MAX_ANSWER_CHARS,
    STATUSES,
    bank_files,
    check_content,
    file_signature,
    parse_content,
)
from bot.answers.matcher import Matcher
from bot.answers.model import ContentIssue, Entry, Source, Topic
from bot.answers.sources import SourceRules, SourcesFileError, load_rules, rules_path
from bot.core.paths import resolve_path

logger = logging.getLogger(__name__)

__all__ = [
    "ENTRY_FIELDS",
    "MAX_ANSWER_CHARS",
    "STATUSES",
    "BankSnapshot",
    "ContentBank",
    "ContentIssue",
    "Entry",
    "EntrySource",
    "ReloadResult",
    "Source",
    "Topic",
    "bank_files",
    "bank_signature",
    "build_snapshot",
    "check_content",
    "parse_content",
    "resolve_content_dir",
]

# -- the loaded bank -------------------------------------------------------------


class EntrySource(Protocol):
    """Where the bank's entries come from instead of bank/*.yaml (bot.web.content_db: the database)."""

    def signature(self) -> Hashable:
        """Changes whenever an entry changes; cheap, read every check interval."""
        ...

    def texts(self, content_dir: str) -> Mapping[str, str]:
        """The bank files' YAML texts: path (in ``content_dir``/bank) -> text."""
        ...


def bank_signature(content_dir: str, source: EntrySource | None = None) -> tuple[Hashable, ...]:
    """(path, mtime_ns, size) of every file the bank is built from, the source lists included: a cheap change check.
    With an entry source, its signature stands for the bank files."""
    lists = [os.path.join(content_dir, "topics.yaml"), str(rules_path(content_dir))]
    if source is not None:
        return (*file_signature(lists), ("entries", source.signature()))
    return file_signature([*lists, *bank_files(content_dir)])


@dataclass(frozen=True)
class BankSnapshot:
    """One consistent, immutable version of the bank: what one answer is computed from.

    ``topics``, ``entries`` and ``approved`` are lists in file order (menus show
    them in that order); :meth:`get`, :meth:`entry` and :meth:`topic` look up by id.
    """

    content_dir: str
    topics: list[Topic]
    entries: list[Entry]  # every valid entry, drafts included
    issues: tuple[ContentIssue, ...]
    matcher: Matcher
    signature: tuple[Hashable, ...] = ()
    source_rules: SourceRules | None = None  # content/sources.yaml, read with the bank (which sources members see)
    loaded_at: float = field(default_factory=time.time)
    approved: list[Entry] = field(init=False)
    _by_id: dict[str, Entry] = field(init=False, repr=False)
    _topics: dict[str, Topic] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "approved", [e for e in self.entries if e.approved])
        object.__setattr__(self, "_by_id", {e.id: e for e in self.entries})
        object.__setattr__(self, "_topics", {t.id: t for t in self.topics})

    @property
    def errors(self) -> list[ContentIssue]:
        return [i for i in self.issues if i.is_error]

    def get(self, entry_id: str) -> Entry | None:
        """The approved entry with this id, or None (drafts are never served)."""
        entry = self._by_id.get(entry_id)
        return entry if entry is not None and entry.approved else None

    def entry(self, entry_id: str) -> Entry | None:
        """Any valid entry with this id, drafts included."""
        return self._by_id.get(entry_id)

    def topic(self, topic_id: str) -> Topic | None:
        return self._topics.get(topic_id)

    def topic_title(self, topic_id: str) -> str:
        topic = self._topics.get(topic_id)
        return topic.title if topic else topic_id

    def snapshot(self) -> BankSnapshot:
        return self


def build_snapshot(content_dir: str | os.PathLike[str], source: EntrySource | None = None) -> BankSnapshot:
    """Parse, validate and index a content folder (its entries from ``source`` when given)."""
    content_dir = str(content_dir)
    signature = bank_signature(content_dir, source)  # before reading: a change meanwhile is seen next time
    texts = source.texts(content_dir) if source is not None else None
    try:
        rules: SourceRules | None = load_rules(content_dir)
    except SourcesFileError:
        rules = None  # parse_content reports the unreadable file; every source of an entry may then be shown
    topics, entries, issues = parse_content(content_dir, rules=rules, texts=texts)
    return BankSnapshot(
        content_dir=content_dir,
        topics=list(topics.values()),
        entries=entries,
        issues=tuple(issues),
        matcher=Matcher(e for e in entries if e.approved),
        signature=signature,
        source_rules=rules,
    )


def _log_issues(issues: tuple[ContentIssue, ...] | list[ContentIssue]) -> None:
    errors = [i for i in issues if i.is_error]
    for issue in errors:
        logger.error("content: %s", issue)
    if issues:
        logger.info("content: %d errors, %d warnings (run `flask content check`)", len(errors), len(issues) - len(errors))


@dataclass(frozen=True)
class ReloadResult:
    """What a reload did: ``swapped`` is False when the new version had errors (or nothing changed)."""

    swapped: bool
    snapshot: BankSnapshot  # the version that was built (served only if swapped)


class ContentBank:
    """The bank the app serves: a current :class:`BankSnapshot`, swapped atomically on reload."""

    def __init__(
        self,
        snapshot: BankSnapshot,
        *,
        check_interval: float = CHECK_INTERVAL_SECONDS,
        source: EntrySource | None = None,
        timer: Callable[[], float] = time.monotonic,
    ):
        self._snapshot = snapshot
        self._seen_signature = snapshot.signature
        self.check_interval = check_interval
        self.source = source
        self._timer = timer  # the app clock's now (tests move it) or the monotonic clock
        self._last_check = timer()
        self._reload_lock = threading.Lock()

    @classmethod
    def load(
        cls,
        content_dir: str | os.PathLike[str],
        *,
        check_interval: float = CHECK_INTERVAL_SECONDS,
        source: EntrySource | None = None,
        timer: Callable[[], float] = time.monotonic,
    ) -> ContentBank:
        """Load a content folder (its entries from ``source`` when given); entries with errors are left out and the errors logged."""
        snapshot = build_snapshot(resolve_content_dir(content_dir), source)
        _log_issues(snapshot.issues)
        logger.info(
            "content: loaded %d entries (%d approved) from %s", len(snapshot.entries), len(snapshot.approved),
            "the database" if source is not None else content_dir,
        )
        return cls(snapshot, check_interval=check_interval, source=source, timer=timer)

    # the current version, and shortcuts to it
    def snapshot(self) -> BankSnapshot:
        """The current version; take it once per answer so a reload cannot mix two versions."""
        return self._snapshot

    @property
    def content_dir(self) -> str:
        return self._snapshot.content_dir

    @property
    def topics(self) -> list[Topic]:
        return self._snapshot.topics

    @property
    def entries(self) -> list[Entry]:
        return self._snapshot.entries

    @property
    def approved(self) -> list[Entry]:
        return self._snapshot.approved

    @property
    def issues(self) -> tuple[ContentIssue, ...]:
        return self._snapshot.issues

    @property
    def errors(self) -> list[ContentIssue]:
        return self._snapshot.errors

    @property
    def matcher(self) -> Matcher:
        return self._snapshot.matcher

    def get(self, entry_id: str) -> Entry | None:
        """The approved entry with this id, or None."""
        return self._snapshot.get(entry_id)

    def entry(self, entry_id: str) -> Entry | None:
        return self._snapshot.entry(entry_id)

    def topic(self, topic_id: str) -> Topic | None:
        return self._snapshot.topic(topic_id)

    def topic_title(self, topic_id: str) -> str:
        return self._snapshot.topic_title(topic_id)

    # reloading
    def reload_if_changed(self, *, force_check: bool = False) -> bool:
        """Reload when a file (or the entry source's revision) changed; True when a new version is now served.

        Scans file times and sizes at most every ``check_interval`` seconds.  A new
        version with errors is not served: the old one stays and the errors are logged
        (once per change).  Only one thread reloads at a time; the others go on with
        the current version.
        """
        now = self._timer()
        if not force_check and 0 <= now - self._last_check < self.check_interval:
            return False
        if not self._reload_lock.acquire(blocking=False):
            return False
        try:
            self._last_check = now
            signature = None
            try:
                signature = bank_signature(self.content_dir, self.source)
                if signature == self._seen_signature:
                    return False
                return self._rebuild().swapped
            except Exception:  # never let an edit (or an unreachable database) take the running bot down
                if signature is not None:
                    self._seen_signature = signature
                logger.exception("content: reloading failed; still serving the previous version")
                return False
        finally:
            self._reload_lock.release()

    def reload(self) -> ReloadResult:
        """Rebuild now, whatever the files' times; swap only when the new version has no errors."""
        with self._reload_lock:
            self._last_check = self._timer()
            return self._rebuild()

    def _rebuild(self) -> ReloadResult:
        new = build_snapshot(self.content_dir, self.source)
        self._seen_signature = new.signature
        if new.errors:
            _log_issues(new.issues)
            logger.error(
                "content: the edited bank has %d errors; still serving the version loaded at %s",
                len(new.errors),
                time.strftime("%H:%M:%S", time.localtime(self._snapshot.loaded_at)),
            )
            return ReloadResult(False, new)
        self._snapshot = new  # one reference assignment: readers see the old or the new version
        logger.info("content: reloaded %d approved entries", len(new.approved))
        return ReloadResult(True, new)


# -- app wiring ------------------------------------------------------------------



def resolve_content_dir(path: str | os.PathLike[str]) -> str:
    """CONTENT_DIR as a usable path: absolute, or relative to the project folder (never the working folder)."""
    return resolve_path(path)
