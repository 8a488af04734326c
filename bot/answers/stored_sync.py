"""Between the YAML folder and the stored entries: ``flask content import`` and ``export``.

Import reads every entry of content/bank/*.yaml as written and compares it with the stored
ones (added, changed, removed).  Export writes the stored entries back into the files the way
the console's editor does: an entry whose data is unchanged keeps its lines byte for byte (and
so do the comments), a changed one gets its lines rewritten, a removed one loses them, a new
one is appended to its file.  So export, import, export changes nothing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import yaml

from bot.answers.edit import NO_ENTRY_YET, appended, entry_spans, read_entries
from bot.answers.stored import StoredEntry, by_file, entry_block
from bot.answers.yaml_writer import render_entry


def folder_entries(content_dir: str) -> list[StoredEntry]:
    """Every entry of the folder's bank files as written (errors included; a repeated id: the first)."""
    entries: list[StoredEntry] = []
    seen: set[str] = set()
    position: dict[str, int] = {}
    for record in read_entries(content_dir):
        if record.id in seen:
            continue
        seen.add(record.id)
        name = os.path.basename(record.file)
        entries.append(StoredEntry(record.id, name, position.get(name, 0), record.data, record.version))
        position[name] = position.get(name, 0) + 1
    return entries


@dataclass
class ImportPlan:
    """What importing the folder changes: ``entries`` are the rows to store."""

    entries: list[StoredEntry]
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    moved: int = 0  # entries whose place in their file changed only

    @property
    def anything(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.moved)


def plan_import(current: Iterable[StoredEntry], incoming: Iterable[StoredEntry], *, at: float, by: str) -> ImportPlan:
    """Compare; an unchanged entry keeps who changed it last and when."""
    old = {e.id: e for e in current}
    plan = ImportPlan([])
    for entry in incoming:
        before = old.pop(entry.id, None)
        if before is None:
            plan.added.append(entry.id)
        elif before.data != entry.data or before.file != entry.file:
            plan.changed.append(entry.id)
        else:
            plan.moved += before.position != entry.position
            plan.entries.append(StoredEntry(
                entry.id, entry.file, entry.position, entry.data, entry.version, before.updated_at, before.updated_by
            ))
            continue
        plan.entries.append(StoredEntry(entry.id, entry.file, entry.position, entry.data, entry.version, at, by))
    plan.removed = sorted(old)
    return plan


# -- export ---------------------------------------------------------------------------------------


def export_texts(content_dir: str, entries: Iterable[StoredEntry]) -> dict[str, str]:
    """Path -> new text of every bank file that export changes (the others stay as they are)."""
    wanted = by_file(entries)
    bank = os.path.join(content_dir, "bank")
    names = set(wanted)
    if os.path.isdir(bank):
        names |= {n for n in os.listdir(bank) if n.endswith((".yaml", ".yml")) and os.path.isfile(os.path.join(bank, n))}
    out = {}
    for name in sorted(names):
        path = os.path.join(bank, name)
        text = _read(path)
        new = merged_text(text, wanted.get(name, []))
        if new is not None and new != text:
            out[path] = new
    return out


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return fh.read()
    except FileNotFoundError:
        return None


def merged_text(text: str | None, wanted: list[StoredEntry]) -> str | None:
    """The file ``text`` holding exactly ``wanted`` (in their order for new ones), changing only what differs."""
    if text is None:
        return _fresh(wanted) if wanted else None
    try:
        spans, end = entry_spans(text) if text.strip() else ([], None)
    except yaml.YAMLError:
        return _fresh(wanted)  # an unreadable file: the stored entries win
    if end is None and text.strip() and not NO_ENTRY_YET.search(text):
        return _fresh(wanted)
    if not wanted:
        if not spans:
            return text
        head = text[: re.search(r"^entries:", text, re.MULTILINE).start()]  # type: ignore[union-attr]
        return head + "entries: []\n"
    crlf = "\r\n" in text
    by_id = {e.id: e for e in wanted}
    seen: set[str] = set()
    for data, start, stop, _ in reversed(_first_spans(spans, seen)):
        entry = by_id.get(data.get("id"))  # type: ignore[arg-type]
        if entry is None:
            stop = _after_blank_lines(text, stop)
            text = text[:start] + text[stop:]
        elif entry.data != data:
            indent = len(text[start:]) - len(text[start:].lstrip(" "))
            text = text[:start] + _eol(render_entry(entry.data, indent=indent), crlf) + text[stop:]
    for entry in wanted:
        if entry.id not in seen:
            text = appended(text, _eol(entry_block(entry), crlf))[0]  # type: ignore[index]  (an entries: list)
    return text


def _first_spans(spans: list, seen: set[str]) -> list:
    """Every span; a repeated id's later spans become removals (its data replaced by {})."""
    out = []
    for data, start, stop, line in spans:
        entry_id = data.get("id")
        if isinstance(entry_id, str) and entry_id not in seen:
            seen.add(entry_id)
            out.append((data, start, stop, line))
        else:
            out.append(({}, start, stop, line))
    return out


def _after_blank_lines(text: str, index: int) -> int:
    while True:
        m = re.match(r"[ \t]*\r?\n", text[index:])
        if not m or index >= len(text):
            return index
        index += m.end()


def _eol(block: str, crlf: bool) -> str:
    return block.replace("\n", "\r\n") if crlf else block


def _fresh(wanted: list[StoredEntry]) -> str:
    return "entries:\n" + "\n".join(entry_block(e) for e in wanted)
