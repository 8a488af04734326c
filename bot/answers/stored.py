"""Bank entries kept outside the YAML files (the database, CONTENT_STORE=database): the pure part.

The storage layer keeps each entry's data as JSON, with the YAML file it belongs to, its place
there and a fingerprint.  This module turns stored entries into the bank files' YAML texts, so
the same checker (:func:`bot.answers.check.parse_content`) validates and loads them, and plans
a console save with the same rules as :func:`bot.answers.edit.save_entry`: a stale form is
refused with the current version, an entry that would add an error is refused, and the data
kept is what its YAML reads back as (so ``flask content export`` writes exactly it).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from bot.answers.check import check_content
from bot.answers.edit import (
    EntryRecord,
    SaveResult,
    bank_file_name,
    entry_version,
    refuse_new_errors,
    refuse_new_id,
    refuse_stale,
)
from bot.answers.model import ContentIssue
from bot.answers.yaml_writer import digest, render_entry


@dataclass(frozen=True)
class StoredEntry:
    """One entry as the database keeps it; ``file`` is a name in content/bank (bien-gioi.yaml)."""

    id: str
    file: str
    position: int
    data: dict[str, Any]
    version: str
    updated_at: float = 0.0
    updated_by: str = ""

    @classmethod
    def of(cls, data: dict[str, Any], file: str, position: int, *, at: float = 0.0, by: str = "") -> StoredEntry:
        return cls(str(data.get("id") or ""), file, position, data, entry_version(data), at, by)

    def row(self) -> dict[str, Any]:
        """The database row (bot.storage.content)."""
        return {
            "id": self.id, "file": self.file, "position": self.position, "data": encode_data(self.data),
            "version": self.version, "updated_at": self.updated_at, "updated_by": self.updated_by,
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> StoredEntry:
        return cls(
            row["id"], row["file"], int(row["position"]), decode_data(row["data"]), row["version"],
            float(row["updated_at"] or 0), row["updated_by"] or "",
        )


# -- the data as JSON, dates kept as dates --------------------------------------------------------


def _tagged(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dict):
        return {str(k): _tagged(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_tagged(v) for v in value]
    return value


def _untagged(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        if "$date" in obj:
            return dt.date.fromisoformat(obj["$date"])
        if "$datetime" in obj:
            return dt.datetime.fromisoformat(obj["$datetime"])
    return obj


def encode_data(data: dict[str, Any]) -> str:
    """An entry's data as JSON text; YAML dates survive the round trip (``{"$date": "2026-01-31"}``)."""
    return json.dumps(_tagged(data), ensure_ascii=False)


def decode_data(text: str) -> dict[str, Any]:
    return json.loads(text, object_hook=_untagged)


def as_written(data: dict[str, Any]) -> dict[str, Any]:
    """The data as its YAML block reads back (dates typed, empty fields dropped): what a file would hold."""
    return yaml.safe_load("entries:\n" + render_entry(data))["entries"][0]


# -- the bank's YAML texts ------------------------------------------------------------------------

_blocks: dict[str, str] = {}
_blocks_lock = threading.Lock()
_MAX_BLOCKS = 20_000


def entry_block(entry: StoredEntry) -> str:
    """The entry's YAML lines (cached by content: a reload renders only what changed)."""
    key = entry.version + encode_data(entry.data)
    block = _blocks.get(key)
    if block is None:
        block = render_entry(entry.data)
        with _blocks_lock:
            if len(_blocks) >= _MAX_BLOCKS:
                _blocks.clear()
            _blocks[key] = block
    return block


def by_file(entries: Iterable[StoredEntry]) -> dict[str, list[StoredEntry]]:
    """Entries grouped by file name (sorted), each file's in position order."""
    files: dict[str, list[StoredEntry]] = {}
    for entry in sorted(entries, key=lambda e: (e.file, e.position, e.id)):
        files.setdefault(entry.file, []).append(entry)
    return files


def bank_texts(content_dir: str, entries: Iterable[StoredEntry]) -> dict[str, str]:
    """Path in ``content_dir``/bank -> the YAML text of its stored entries."""
    return {path: text for path, (text, _) in _laid_out(content_dir, entries).items()}


def _laid_out(content_dir: str, entries: Iterable[StoredEntry]) -> dict[str, tuple[str, list[tuple[StoredEntry, int, int]]]]:
    out = {}
    for name, group in by_file(entries).items():
        parts, spans, offset = ["entries:\n"], [], len("entries:\n")
        for i, entry in enumerate(group):
            if i:
                parts.append("\n")
                offset += 1
            block = entry_block(entry)
            spans.append((entry, offset, offset + len(block)))
            parts.append(block)
            offset += len(block)
        out[os.path.join(content_dir, "bank", name)] = ("".join(parts), spans)
    return out


def stored_records(content_dir: str, entries: Iterable[StoredEntry]) -> list[EntryRecord]:
    """The entries as the console's editor sees them (place and fingerprints in their YAML text)."""
    records = []
    for path, (text, spans) in _laid_out(content_dir, entries).items():
        file_version = digest(text)
        for entry, start, end in spans:
            line = text.count("\n", 0, start) + 1
            records.append(EntryRecord(entry.id, entry.data, path, line, start, end, entry.version, file_version))
    return records


def check_stored(content_dir: str, entries: Iterable[StoredEntry], *, today: dt.date | None = None) -> list[ContentIssue]:
    """The checker's issues for the bank made of ``entries`` (topics and sources from the folder)."""
    return check_content(content_dir, today=today, texts=bank_texts(content_dir, entries))


# -- saving from the console ----------------------------------------------------------------------


def plan_save(
    content_dir: str,
    entries: list[StoredEntry],
    data: dict[str, Any],
    *,
    original_id: str | None = None,
    version: str | None = None,
    file: str | None = None,
    at: float = 0.0,
    by: str = "",
) -> tuple[StoredEntry, SaveResult]:
    """The entry to store for a console save over ``entries``, or ContentConflict / ContentInvalid
    exactly as bot.answers.edit.save_entry raises them for the files."""
    entry_id = str(data.get("id") or "").strip()
    current = {e.id: e for e in entries}
    records = {r.id: r for r in stored_records(content_dir, entries)}
    if original_id is None:
        refuse_new_id(entry_id, records)
        name = bank_file_name(file) if file else file_for_topic(entries, str(data.get("topic") or ""))
        position = 1 + max((e.position for e in entries if e.file == name), default=-1)
    else:
        refuse_stale(records.get(original_id), original_id, entry_id, version)
        name, position = current[original_id].file, current[original_id].position
    new = StoredEntry.of(as_written(data), name, position, at=at, by=by)
    after = [e for e in entries if e.id != entry_id] + [new]
    record = next(r for r in stored_records(content_dir, after) if r.id == entry_id)
    text = bank_texts(content_dir, [e for e in after if e.file == name])[record.file]
    mine = refuse_new_errors(
        check_stored(content_dir, entries), check_stored(content_dir, after),
        entry_id, record.file, text[record.start : record.end], record.line,
    )
    return new, SaveResult(entry_id, record.file, original_id is None, [i for i in mine if not i.is_error])


def file_for_topic(entries: Iterable[StoredEntry], topic: str) -> str:
    """The file new entries of ``topic`` go to: the one holding most of its entries, else <topic>.yaml."""
    counts: dict[str, int] = {}
    for entry in entries:
        if entry.data.get("topic") == topic:
            counts[entry.file] = counts.get(entry.file, 0) + 1
    return max(counts, key=lambda f: counts[f]) if counts else f"{topic}.yaml"
