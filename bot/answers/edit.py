"""Write one content-bank entry back into its YAML file, safely (the staff console's editor).

The YAML files stay the source of truth.  Saving an entry:

1. takes a lock (one writer at a time, across threads and processes);
2. re-reads the entry's file and checks the entry has not changed since the form
   was loaded (optimistic concurrency: the form carries a fingerprint of the entry
   and of its file; another edit to the *same entry* is refused with the current
   version, an edit to *another* entry of the file is kept, since only this entry's
   lines are rewritten);
3. rewrites only this entry's lines (comments and every other entry stay byte for
   byte), or appends a new entry at the end of the file;
4. validates the whole bank with the new file in a temporary copy
   (:func:`bot.answers.bank.check_content`) and refuses the save when it would add
   an error;
5. writes a temporary file next to the real one and renames it over (``os.replace``): a reader sees one whole file.

The caller then reloads the bank and writes the audit log (bot.console.content.publish).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.answers.bank import ENTRY_FIELDS, ContentIssue, bank_files, check_content
from bot.answers.yaml_reader import BankLoader
from bot.answers.yaml_writer import (
    ContentEditError,
    digest,
    locked,
    render_entry,
    write_atomic,
)

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
NO_ENTRY_YET = re.compile(r"^entries:\s*(\[\s*\])?\s*$", re.MULTILINE)  # "entries:" or "entries: []"



class ContentConflict(ContentEditError):
    """The entry changed (or disappeared) since the form was loaded."""

    def __init__(self, message: str, current: EntryRecord | None):
        super().__init__(message)
        self.current = current


class ContentInvalid(ContentEditError):
    """The new version has errors; ``errors`` are the checker's issues (with the field they concern)."""

    def __init__(self, errors: list[ContentIssue], fields: dict[str, list[str]]):
        super().__init__("; ".join(i.message for i in errors))
        self.errors = errors
        self.fields = fields


@dataclass
class EntryRecord:
    """An entry as written in its file (errors included), with its place and fingerprints."""

    id: str
    data: dict[str, Any]
    file: str  # absolute path
    line: int
    start: int  # character span of the entry's lines in the file
    end: int
    version: str  # fingerprint of the entry's data
    file_version: str  # fingerprint of the whole file

    @property
    def file_name(self) -> str:
        return os.path.basename(self.file)


@dataclass
class SaveResult:
    entry_id: str
    file: str
    created: bool
    warnings: list[ContentIssue] = field(default_factory=list)


# -- fingerprints and reading ------------------------------------------------------------------




def entry_version(data: dict[str, Any]) -> str:
    """Fingerprint of an entry's content (not its layout)."""
    return digest(json.dumps(data, sort_keys=True, ensure_ascii=False, default=str))


def _read(path: str) -> str:
    with open(path, encoding="utf-8", newline="") as fh:
        return fh.read()


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def entry_spans(text: str) -> tuple[list[tuple[dict[str, Any], int, int, int]], int | None]:
    """(data, start, end, line) of every entry mapping, and where a new entry goes (None: no block list)."""
    loader = BankLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    if not isinstance(node, yaml.MappingNode) or not isinstance(data, dict):
        return [], None
    seq = None
    for key_node, value_node in node.value:
        if key_node.value == "entries":
            seq = value_node
    if not isinstance(seq, yaml.SequenceNode) or seq.flow_style or not isinstance(data.get("entries"), list):
        return [], None
    spans = []
    end = None
    for item_node, item in zip(seq.value, data["entries"]):
        dash = text.rfind("-", 0, item_node.start_mark.index)
        start = _line_start(text, dash)
        # a block mapping ends where the next entry starts, after the comments above it: the
        # entry's lines end with its last value, so those comments stay with the next entry
        last = item_node
        while isinstance(last, (yaml.MappingNode, yaml.SequenceNode)) and not last.flow_style and last.value:
            last = last.value[-1][1] if isinstance(last, yaml.MappingNode) else last.value[-1]
        if isinstance(item, dict):
            spans.append((item, start, _line_end(text, start, last.end_mark.index), item_node.start_mark.line + 1))
        end = _line_end(text, start, item_node.end_mark.index)
    return spans, end


def _line_end(text: str, start: int, index: int) -> int:
    """Just past the line holding the last non-blank character of ``text[start:index]``."""
    stop = start + len(text[start:index].rstrip())
    newline = text.find("\n", stop)
    return len(text) if newline < 0 else newline + 1


def read_file_entries(path: str) -> list[EntryRecord]:
    """The entries of one bank file (an unreadable file has none)."""
    try:
        text = _read(path)
        spans, _ = entry_spans(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    file_version = digest(text)
    records = []
    for data, start, end, line in spans:
        entry_id = data.get("id")
        if isinstance(entry_id, str) and entry_id:
            records.append(EntryRecord(entry_id, data, path, line, start, end, entry_version(data), file_version))
    return records


def read_entries(content_dir: str) -> list[EntryRecord]:
    """Every entry of the bank as written, in file order (entries with errors included)."""
    records: list[EntryRecord] = []
    for path in bank_files(content_dir):
        records.extend(read_file_entries(os.path.abspath(path)))
    return records


def find_entry(content_dir: str, entry_id: str) -> EntryRecord | None:
    for record in read_entries(content_dir):
        if record.id == entry_id:
            return record
    return None


def file_for_topic(content_dir: str, topic: str) -> str:
    """The bank file new entries of ``topic`` go to: the one holding most of its entries, else <topic>.yaml."""
    counts: dict[str, int] = {}
    for record in read_entries(content_dir):
        if record.data.get("topic") == topic:
            counts[record.file] = counts.get(record.file, 0) + 1
    if counts:
        return max(counts, key=lambda f: counts[f])
    return os.path.abspath(os.path.join(content_dir, "bank", f"{topic}.yaml"))


# -- validating ---------------------------------------------------------------------------------


def _issue_key(issue: ContentIssue) -> tuple[str, str | None, str]:
    return (os.path.basename(issue.file), issue.entry_id, re.sub(r":\d+\)", ")", issue.message))


def _check_with(content_dir: str, target: str, text: str) -> list[ContentIssue]:
    """The checker's issues for the bank with ``target`` replaced by ``text`` (in a temporary copy)."""
    with tempfile.TemporaryDirectory(prefix="content-check-") as tmp:
        for name in ("topics.yaml", "sources.yaml"):  # the deployment's own source lists, not the shipped ones
            if os.path.exists(os.path.join(content_dir, name)):
                shutil.copy(os.path.join(content_dir, name), os.path.join(tmp, name))
        os.makedirs(os.path.join(tmp, "bank"))
        names = {os.path.basename(p): p for p in bank_files(content_dir)}
        names[os.path.basename(target)] = target
        for name, path in names.items():
            dest = os.path.join(tmp, "bank", name)
            if os.path.abspath(path) == os.path.abspath(target):
                with open(dest, "w", encoding="utf-8", newline="") as fh:
                    fh.write(text)
            else:
                shutil.copy(path, dest)
        issues = check_content(tmp)
        bank_dir = os.path.join(content_dir, "bank")
        return [
            ContentIssue(
                os.path.join(bank_dir, os.path.basename(i.file)) if i.file.startswith(tmp) else i.file,
                i.line, i.entry_id, i.message, i.severity,
            )
            for i in issues
        ]


_MISSING = re.compile(r"thiếu trường bắt buộc '(\w+)'")


def _field_lines(block: str, first_line: int) -> dict[int, str]:
    """Line number (in the file) -> the entry field written on it."""
    lines: dict[int, str] = {}
    current = "id"
    dash = len(block) - len(block.lstrip(" "))
    for n, line in enumerate(block.splitlines(), first_line):
        indent = len(line) - len(line.lstrip(" "))
        key = None
        if line.startswith(" " * dash + "- ") and n == first_line:
            key = line[dash + 2 :].split(":", 1)[0].strip()
        elif indent == dash + 2 and line.strip()[:1] not in ("-", "#", ""):
            key = line.strip().split(":", 1)[0].strip()
        if key in ENTRY_FIELDS:
            current = key
        lines[n] = current
    return lines


def _fields_of(issues: list[ContentIssue], block: str, first_line: int) -> dict[str, list[str]]:
    """Which form field each issue concerns ("" for the form as a whole)."""
    lines = _field_lines(block, first_line)
    fields: dict[str, list[str]] = {}
    for issue in issues:
        m = _MISSING.search(issue.message)
        name = m.group(1) if m else lines.get(issue.line, "")
        if "bị trùng" in issue.message and issue.message.startswith("id"):
            name = "id"
        fields.setdefault(name, []).append(issue.message)
    return fields


# -- saving -------------------------------------------------------------------------------------


def save_entry(
    content_dir: str,
    data: dict[str, Any],
    *,
    original_id: str | None = None,
    version: str | None = None,
    file: str | None = None,
) -> SaveResult:
    """Create (``original_id`` None) or replace an entry; see the module docstring.

    ``version`` is :attr:`EntryRecord.version` as the form loaded it.  ``file`` is
    where a new entry goes (default: the file of its topic).  Raises ContentConflict,
    ContentInvalid or ContentEditError.
    """
    content_dir = os.path.abspath(content_dir)
    entry_id = str(data.get("id") or "").strip()
    with locked(content_dir):
        current = {r.id: r for r in read_entries(content_dir)}
        if original_id is None:
            target, text, new_text, block, first_line = _placed_new(content_dir, data, entry_id, current, file)
        else:
            target, text, new_text, block, first_line = _placed_edit(data, entry_id, current, original_id, version)
        if "\r\n" in text:
            new_text = new_text.replace("\r\n", "\n").replace("\n", "\r\n")
        mine = refuse_new_errors(
            check_content(content_dir), _check_with(content_dir, target, new_text), entry_id, target, block, first_line
        )
        write_atomic(target, new_text)
    return SaveResult(entry_id, target, original_id is None, [i for i in mine if not i.is_error])


def refuse_new_errors(
    before: list[ContentIssue], after: list[ContentIssue], entry_id: str, target: str, block: str, first_line: int
) -> list[ContentIssue]:
    """Raise ContentInvalid when the bank with the saved entry (``after``) has errors of this entry or
    errors it did not have (``before``); else the entry's own issues (its warnings)."""
    before_issues = {_issue_key(i) for i in before if i.is_error}
    mine = [i for i in after if i.entry_id == entry_id and os.path.basename(i.file) == os.path.basename(target)]
    errors = [i for i in after if i.is_error and (i in mine or _issue_key(i) not in before_issues)]
    if errors:
        raise ContentInvalid(errors, _fields_of(errors, block, first_line))
    return mine


def refuse_new_id(entry_id: str, current: dict[str, EntryRecord]) -> None:
    """A new entry's id must be well formed and unused."""
    if not _ID.match(entry_id):
        raise ContentInvalid([], {"id": ["Mã mục chỉ gồm chữ thường không dấu, chữ số và dấu gạch ngang, ví dụ bien-gioi-viet-lao."]})
    if entry_id in current:
        raise ContentInvalid([], {"id": [f"Mã '{entry_id}' đã có (trong {current[entry_id].file_name}). Chọn mã khác."]})


def refuse_stale(record: EntryRecord | None, original_id: str, entry_id: str, version: str | None) -> EntryRecord:
    """The entry being edited, unless someone changed or removed it since the form's ``version``."""
    if record is None:
        raise ContentConflict(
            f"Mục '{original_id}' không còn trong kho (có người đã xóa hoặc đổi mã). Không lưu được.", None
        )
    if version and record.version != version:
        raise ContentConflict(
            "Mục này vừa được người khác sửa sau khi chị mở trang. Bản hiện tại được hiển thị bên dưới;"
            " hãy xem lại và sửa trên bản mới.",
            record,
        )
    if entry_id != original_id:
        raise ContentInvalid([], {"id": ["Không đổi được mã của mục đã có."]})
    return record


def _placed_new(
    content_dir: str, data: dict[str, Any], entry_id: str, current: dict[str, EntryRecord], file: str | None
) -> tuple[str, str, str, str, int]:
    """(file, its text, its new text, the entry's block, the block's first line) for a new entry."""
    refuse_new_id(entry_id, current)
    target = _bank_path(content_dir, file) if file else file_for_topic(content_dir, str(data.get("topic") or ""))
    text = _read(target) if os.path.exists(target) else ""
    block = render_entry(data)
    if (placed := appended(text, block)) is None:
        raise ContentEditError(f"Tệp {os.path.basename(target)} không đúng dạng 'entries:'; sửa tệp trước.")
    return target, text, placed[0], block, placed[1]


def appended(text: str, block: str) -> tuple[str, int] | None:
    """The bank file ``text`` with ``block`` last (in its line endings), the block's first line; None: not an entries list."""
    _, end = entry_spans(text) if text.strip() else ([], None)
    newline = "\r\n" if "\r\n" in text else "\n"
    if end is None:
        if text.strip() and not NO_ENTRY_YET.search(text):
            return None
        head = re.sub(r"^entries:.*$", "", text, flags=re.MULTILINE).rstrip()
        new_text = (head + newline if head else "") + "entries:" + newline + block
        return new_text, new_text[: len(new_text) - len(block)].count("\n") + 1
    before = text[:end].rstrip("\r\n") + newline + newline
    return before + block + text[end:], before.count("\n") + 1


def _placed_edit(
    data: dict[str, Any], entry_id: str, current: dict[str, EntryRecord], original_id: str, version: str | None
) -> tuple[str, str, str, str, int]:
    """The same for an edit of ``original_id``, refused when someone changed it since ``version``."""
    record = refuse_stale(current.get(original_id), original_id, entry_id, version)
    text = _read(record.file)
    indent = len(text[record.start :]) - len(text[record.start :].lstrip(" "))
    block = render_entry(data, indent=indent)
    new_text = text[: record.start] + block + text[record.end :]
    return record.file, text, new_text, block, text[: record.start].count("\n") + 1


def bank_file_name(name: str) -> str:
    """A bank file's name as typed (no other folder can be reached)."""
    base = os.path.basename(name)
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*\.ya?ml", base):
        raise ContentInvalid([], {"file": ["Tên tệp chỉ gồm chữ thường không dấu, chữ số, gạch ngang và đuôi .yaml."]})
    return base


def _bank_path(content_dir: str, name: str) -> str:
    """A file of the bank folder by name (no other folder can be reached)."""
    return os.path.join(content_dir, "bank", bank_file_name(name))


def approve_entry(content_dir: str, entry_id: str, *, version: str | None, today: dt.date) -> SaveResult:
    """Set an entry's status to approved and its review date to ``today``."""
    record = find_entry(content_dir, entry_id)
    if record is None:
        raise ContentConflict(f"Mục '{entry_id}' không còn trong kho.", None)
    data = dict(record.data)
    data["status"] = "approved"
    data["reviewed"] = today
    return save_entry(content_dir, data, original_id=entry_id, version=version or record.version)


def relative(path: str, content_dir: str) -> str:
    with contextlib.suppress(ValueError):
        return str(Path(path).resolve().relative_to(Path(content_dir).resolve()))
    return os.path.basename(path)
