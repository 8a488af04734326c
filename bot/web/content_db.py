"""The content bank in the database (CONTENT_STORE=database): wiring between the pure editor
(bot.answers.stored, stored_sync) and the storage layer (bot.storage.content).

With several hosts, an edit written to one host's disk would be invisible to the others and
lost at the next deployment.  In database mode the entries live in ``content_entries``: each
host's bank reads the revision number every check interval and reloads when it moved; the
console saves there; ``flask content export`` / ``import`` keep the YAML in Git in step.
Topics (topics.yaml), source lists (sources.yaml), units, quizzes and contests stay files.

:class:`FileContent` and :class:`DatabaseContent` give the console one interface for both modes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from bot.answers import edit
from bot.answers.bank import bank_files, bank_signature, parse_content
from bot.answers.edit import ContentEditError, EntryRecord, SaveResult
from bot.answers.stored import StoredEntry, bank_texts, plan_save, stored_records
from bot.answers.stored_sync import folder_entries
from bot.storage.store import Store

logger = logging.getLogger(__name__)

DATABASE = "database"
SAVE_ATTEMPTS = 5  # a save planned on a revision another save overtook is planned again


def database_mode(config: Mapping[str, Any]) -> bool:
    return config.get("CONTENT_STORE") == DATABASE


class DatabaseEntrySource:
    """The bank's entries from the database (a :class:`bot.answers.bank.EntrySource`).

    One connection of its own, used under a lock (the bank checks from any thread);
    the entries are cached by revision, so a check that finds nothing new costs one read.
    """

    def __init__(self, open_store: Callable[[], Store]):
        self._open_store = open_store
        self._store: Store | None = None
        self._lock = threading.Lock()
        self._cached: tuple[int, list[StoredEntry]] | None = None

    def _call(self, fn: Callable[[Store], Any]) -> Any:
        with self._lock:
            if self._store is None:
                self._store = self._open_store()
            try:
                return fn(self._store)
            except Exception:
                store, self._store = self._store, None  # a broken connection is opened again next time
                with contextlib.suppress(Exception):  # already broken
                    store.close()
                raise

    def signature(self) -> int:
        return int(self._call(lambda s: s.content_revision()))

    def entries(self) -> tuple[int, list[StoredEntry]]:
        """(revision, entries), read again only when the revision moved."""
        revision = self.signature()
        cached = self._cached
        if cached is not None and cached[0] == revision:
            return cached
        revision, rows = self._call(lambda s: s.content_entries())
        cached = (revision, [StoredEntry.from_row(r) for r in rows])
        self._cached = cached
        return cached

    def texts(self, content_dir: str) -> dict[str, str]:
        return bank_texts(content_dir, self.entries()[1])

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None


def seed_content(store: Store, content_dir: str, *, at: float) -> bool:
    """A fresh deployment: fill the empty table once from the shipped YAML. True when it did."""
    if store.content_revision() != 0:
        return False
    entries = folder_entries(content_dir)
    rows = [StoredEntry(e.id, e.file, e.position, e.data, e.version, at, "yaml").row() for e in entries]
    filled = store.content_seed(rows, at=at, by="yaml")
    if filled:
        logger.info("content: %d entries imported from %s into the database (first start)", len(rows), content_dir)
    return filled


# -- the console's two modes ------------------------------------------------------------------------


class FileContent:
    """Today's editor: the YAML files are the bank (bot.answers.edit)."""

    database = False

    def __init__(self, content_dir: str):
        self.content_dir = content_dir

    def signature(self) -> Any:
        return bank_signature(self.content_dir)

    def state(self) -> dict[str, Any]:
        topics, _, issues = parse_content(self.content_dir)
        return {"topics": topics, "issues": issues, "records": edit.read_entries(self.content_dir)}

    def find(self, entry_id: str) -> EntryRecord | None:
        return edit.find_entry(self.content_dir, entry_id)

    def file_names(self) -> list[str]:
        return [os.path.basename(p) for p in bank_files(self.content_dir)]

    def save(self, data: dict[str, Any], *, original_id: str | None = None, version: str | None = None,
             file: str | None = None, by: str = "", at: float = 0.0) -> SaveResult:
        return edit.save_entry(self.content_dir, data, original_id=original_id, version=version, file=file)

    def approve(self, entry_id: str, *, version: str | None, today: dt.date, by: str = "", at: float = 0.0) -> SaveResult:
        return edit.approve_entry(self.content_dir, entry_id, version=version, today=today)


class DatabaseContent:
    """The editor in database mode: same checks and messages, the entry saved in ``content_entries``."""

    database = True

    def __init__(self, content_dir: str, source: DatabaseEntrySource, store: Store):
        self.content_dir = content_dir
        self.source = source
        self.store = store  # this request's connection, for writing

    def signature(self) -> Any:
        return bank_signature(self.content_dir, self.source)

    def state(self) -> dict[str, Any]:
        entries = self.source.entries()[1]
        topics, _, issues = parse_content(self.content_dir, texts=bank_texts(self.content_dir, entries))
        return {"topics": topics, "issues": issues, "records": stored_records(self.content_dir, entries)}

    def find(self, entry_id: str) -> EntryRecord | None:
        records = stored_records(self.content_dir, self.source.entries()[1])
        return next((r for r in records if r.id == entry_id), None)

    def file_names(self) -> list[str]:
        names = {e.file for e in self.source.entries()[1]}
        return sorted(names | {os.path.basename(p) for p in bank_files(self.content_dir)})

    def save(self, data: dict[str, Any], *, original_id: str | None = None, version: str | None = None,
             file: str | None = None, by: str = "", at: float = 0.0) -> SaveResult:
        for _ in range(SAVE_ATTEMPTS):
            revision, entries = self.source.entries()
            new, result = plan_save(
                self.content_dir, entries, data, original_id=original_id, version=version, file=file, at=at, by=by
            )
            if self.store.content_put(new.row(), expected_revision=revision) is not None:
                return result
        raise ContentEditError("Kho nội dung đang được sửa liên tục; chị thử lưu lại sau ít phút.")

    def approve(self, entry_id: str, *, version: str | None, today: dt.date, by: str = "", at: float = 0.0) -> SaveResult:
        record = self.find(entry_id)
        if record is None:
            raise edit.ContentConflict(f"Mục '{entry_id}' không còn trong kho.", None)
        data = dict(record.data, status="approved", reviewed=today)
        return self.save(data, original_id=entry_id, version=version or record.version, by=by, at=at)
