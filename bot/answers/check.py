"""Parse and validate the content bank files (content/topics.yaml + content/bank/*.yaml).

The format is a fixed contract, described in content/README.md.  :func:`check_content`
reports every problem with its file, line and entry id; :func:`parse_content` returns
the valid topics and entries together with the problems found.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from bot.answers.check_sources import SourceChecks
from bot.answers.model import ContentIssue, Entry, Topic
from bot.answers.sources import (
    SourceRules,
    SourcesFileError,
    load_rules,
    rules_path,
)
from bot.answers.yaml_reader import (
    as_date,
    line_of_node,
    list_problem,
    mapping_lines,
    parse_yaml,
    string_list,
    value_node,
)
from bot.core.text import has_diacritics

logger = logging.getLogger(__name__)

MAX_ANSWER_CHARS = 1500
MIN_VARIANTS = 3
MAX_TOPIC_TITLE = 20  # Messenger quick-reply titles are cut at 20 characters
STATUSES = ("draft", "approved")
PLACEHOLDERS = ("org_name", "org_contacts", "data_notice", "data_rights")  # data_*: bot.core.privacy_notice
ENTRY_FIELDS = (
    "id", "topic", "question", "variants", "keywords", "answer", "sources", "related", "status", "reviewed",
    "reviewed_by", "review_by", "sensitive",
)
REQUIRED_FIELDS = ("id", "topic", "question", "variants", "keywords", "answer", "status", "reviewed")
CHECK_INTERVAL_SECONDS = 3.0  # reload_if_changed() scans the files at most this often

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_BRACES = re.compile(r"\{([^{}]*)\}|[{}]")


class _EntryChecker(SourceChecks):
    """Checks one entry mapping; collects issues and builds the Entry when valid."""

    def __init__(
        self,
        path: str,
        node: yaml.MappingNode,
        data: dict[str, Any],
        topics: dict[str, Topic],
        rules: SourceRules | None = None,
    ):
        self.path = path
        self.rules = rules
        self.node = node
        self.data = data
        self.topics = topics
        self.lines, self.duplicates = mapping_lines(node)
        raw_id = data.get("id")
        self.entry_id = raw_id if isinstance(raw_id, str) and raw_id else None
        self.issues: list[ContentIssue] = []

    def line(self, key: str | None = None) -> int:
        return self.lines.get(key, line_of_node(self.node)) if key else line_of_node(self.node)

    def error(self, message: str, key: str | None = None) -> None:
        self.issues.append(ContentIssue(self.path, self.line(key), self.entry_id, message))

    def warn(self, message: str, key: str | None = None) -> None:
        self.issues.append(ContentIssue(self.path, self.line(key), self.entry_id, message, "warning"))

    def check(self) -> Entry | None:
        d = self.data
        for key, line in self.duplicates:
            self.issues.append(ContentIssue(self.path, line, self.entry_id, f"trường '{key}' xuất hiện hai lần"))
        for key in d:
            if key not in ENTRY_FIELDS:
                self.error(f"trường lạ '{key}' (chỉ dùng: {', '.join(ENTRY_FIELDS)})", str(key))
        for key in REQUIRED_FIELDS:
            if d.get(key) is None or d.get(key) == "":
                self.error(f"thiếu trường bắt buộc '{key}'")
        if "id" in d and not (isinstance(d["id"], str) and _ID.match(d["id"])):
            self.error("id chỉ gồm chữ thường không dấu, chữ số và dấu gạch ngang, ví dụ bien-gioi-viet-lao", "id")
        topic = d.get("topic")
        if topic not in (None, "") and (not isinstance(topic, str) or topic not in self.topics):
            self.error(f"chủ đề '{topic}' không có trong topics.yaml", "topic")
        if "question" in d and not isinstance(d["question"], str):
            self.error("question phải là chữ", "question")
        variants = self._variants()
        keywords = self._keywords()
        answer = self._answer()
        status = d.get("status")
        if status not in (None, "") and status not in STATUSES:
            self.error(f"status phải là draft hoặc approved, không phải '{status}'", "status")
        reviewed = as_date(d.get("reviewed"))
        if d.get("reviewed") not in (None, "") and reviewed is None:
            self.error(f"reviewed phải là ngày dạng YYYY-MM-DD, không phải '{d.get('reviewed')}'", "reviewed")
        sources = self._sources(status == "approved")
        related = self._related()
        reviewed_by = d.get("reviewed_by")
        if reviewed_by is not None and not (isinstance(reviewed_by, str) and reviewed_by.strip()):
            self.error("reviewed_by phải là tên người hoặc bộ phận rà soát", "reviewed_by")
        review_by = as_date(d.get("review_by")) if d.get("review_by") not in (None, "") else None
        if d.get("review_by") not in (None, "") and review_by is None:
            self.error(f"review_by phải là ngày dạng YYYY-MM-DD, không phải '{d.get('review_by')}'", "review_by")
        sensitive = d.get("sensitive", False)
        if not isinstance(sensitive, bool):
            self.error("sensitive chỉ nhận true hoặc false", "sensitive")
        if any(i.is_error for i in self.issues):
            return None
        assert reviewed is not None and variants is not None and keywords is not None
        return Entry(
            id=d["id"],
            topic=topic,
            question=d["question"].strip(),
            variants=tuple(variants),
            keywords=tuple(keywords),
            answer=answer,
            sources=tuple(sources),
            related=tuple(related),
            status=status,
            reviewed=reviewed,
            reviewed_by=reviewed_by.strip() if isinstance(reviewed_by, str) else None,
            review_by=review_by,
            sensitive=sensitive is True,
            file=self.path,
            line=self.line(),
        )

    def _variants(self) -> list[str] | None:
        raw = self.data.get("variants")
        if raw is None:
            return None
        variants = string_list(raw)
        if variants is None:
            self.error(list_problem("variants", raw), "variants")
            return None
        if len(variants) < MIN_VARIANTS:
            self.error(f"cần ít nhất {MIN_VARIANTS} variants, mới có {len(variants)}", "variants")
        if variants and all(has_diacritics(v) for v in variants):
            self.warn("chưa có variant nào viết không dấu (thành viên hay gõ không dấu)", "variants")
        if len({v.lower() for v in variants}) < len(variants):
            self.warn("có hai variants trùng nhau", "variants")
        return variants

    def _keywords(self) -> list[str] | None:
        raw = self.data.get("keywords")
        if raw is None:
            return None
        if isinstance(raw, list):  # a year or a number is a fine keyword: [Luật Biển, 2012]
            raw = [str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v for v in raw]
            for a, b in itertools.pairwise(raw):
                if isinstance(a, str) and a.isdigit() and isinstance(b, str) and re.match(r"^\d{3}\b", b):
                    self.warn(f"keywords '{a}', '{b}' có vẻ là một con số bị dấu phẩy tách đôi: hãy đặt trong ngoặc kép", "keywords")
        keywords = string_list(raw)
        if keywords is None:
            self.error(list_problem("keywords", raw), "keywords")
        elif not keywords:
            self.warn("keywords đang trống", "keywords")
        return keywords

    def _answer(self) -> str:
        raw = self.data.get("answer")
        if raw in (None, ""):
            return ""
        if not isinstance(raw, str):
            self.error("answer phải là chữ", "answer")
            return ""
        answer = raw.strip()
        if len(answer) > MAX_ANSWER_CHARS:
            self.error(f"answer dài {len(answer)} ký tự; tối đa {MAX_ANSWER_CHARS} ký tự", "answer")
        for m in _BRACES.finditer(answer):
            if m.group(1) not in PLACEHOLDERS:
                allowed = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
                self.error(f"chỗ điền '{m.group(0)}' không hợp lệ trong answer (chỉ dùng {allowed})", "answer")
        return answer

    def _related(self) -> list[str]:
        raw = self.data.get("related")
        if raw in (None, []):
            return []
        related = string_list(raw)
        if related is None:
            self.error(list_problem("related", raw), "related")
            return []
        if self.entry_id in related:
            self.error("related không được chứa id của chính mục này", "related")
        return related


def _load_topics(path: str, issues: list[ContentIssue]) -> dict[str, Topic]:
    node, data = parse_yaml(path, issues)
    if node is None:
        if not any(i.file == path for i in issues):
            issues.append(ContentIssue(path, 1, None, "tệp chủ đề trống"))
        return {}
    items = data.get("topics") if isinstance(data, dict) else None
    if not isinstance(items, list):
        issues.append(ContentIssue(path, line_of_node(node), None, "cần một danh sách 'topics:'"))
        return {}
    seq = value_node(node, "topics")
    assert isinstance(seq, yaml.SequenceNode)
    topics: dict[str, Topic] = {}
    for item, item_node in zip(items, seq.value):
        line = line_of_node(item_node)
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not isinstance(item.get("title"), str):
            issues.append(ContentIssue(path, line, None, "mỗi chủ đề cần id và title"))
            continue
        topic_id, title = item["id"], item["title"].strip()
        if topic_id in topics:
            issues.append(ContentIssue(path, line, topic_id, f"id chủ đề '{topic_id}' bị trùng"))
            continue
        if len(title) > MAX_TOPIC_TITLE:
            issues.append(ContentIssue(path, line, topic_id, f"title của chủ đề dài quá {MAX_TOPIC_TITLE} ký tự"))
        topics[topic_id] = Topic(topic_id, title)
    return topics


def bank_files(content_dir: str | os.PathLike[str]) -> list[str]:
    """The entry files of a content folder, sorted: bank/*.yaml (and *.yml)."""
    bank = Path(content_dir) / "bank"
    if not bank.is_dir():
        return []
    return sorted(str(p) for p in bank.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def _iter_entries(
    path: str, issues: list[ContentIssue], text: str | None = None
) -> Iterator[tuple[yaml.MappingNode, dict[str, Any]]]:
    node, data = parse_yaml(path, issues, text)
    if node is None:
        if data is None and not any(i.file == path for i in issues):
            issues.append(ContentIssue(path, 1, None, "tệp trống", "warning"))
        return
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        issues.append(ContentIssue(path, line_of_node(node), None, "tệp cần có danh sách 'entries:'"))
        return
    for key_node, _ in node.value:
        if key_node.value != "entries":
            issues.append(ContentIssue(path, line_of_node(key_node), None, f"trường lạ '{key_node.value}' ở đầu tệp (chỉ dùng 'entries:')"))
    seq = value_node(node, "entries")
    if not isinstance(seq, yaml.SequenceNode) or not isinstance(data.get("entries"), list):
        issues.append(ContentIssue(path, line_of_node(node), None, "'entries:' phải là một danh sách các mục"))
        return
    for item_node, item in zip(seq.value, data["entries"]):
        if not isinstance(item_node, yaml.MappingNode) or not isinstance(item, dict):
            issues.append(ContentIssue(path, line_of_node(item_node), None, "mỗi mục phải là một nhóm trường (id:, topic:, question: ...)"))
            continue
        yield item_node, item


def parse_content(
    content_dir: str | os.PathLike[str],
    *,
    today: dt.date | None = None,
    rules: SourceRules | None = None,
    texts: Mapping[str, str] | None = None,
) -> tuple[dict[str, Topic], list[Entry], list[ContentIssue]]:
    """Read and validate a content folder: (topics, valid entries, issues).

    Entries with errors are left out; a related id that does not exist is an
    error too, but the entry stays (without that link) so members still get it.
    Source URLs are checked against ``rules`` (default: the folder's sources.yaml,
    else the shipped one).  With ``today``, an entry whose ``review_by`` date has
    passed gets a warning (the caller passes the app clock's date, never the wall clock).
    With ``texts`` (bank file path -> YAML text, e.g. entries kept in the database), those
    are the bank files instead of the folder's bank/*.yaml; topics and sources stay files.
    """
    content_dir = str(content_dir)
    issues: list[ContentIssue] = []
    if rules is None:
        try:
            rules = load_rules(content_dir)
        except SourcesFileError as exc:
            issues.append(ContentIssue(str(rules_path(content_dir)), 1, None, f"danh mục nguồn: {exc}"))
    topics = _load_topics(os.path.join(content_dir, "topics.yaml"), issues)
    entries: list[Entry] = []
    first_seen: dict[str, tuple[str, int]] = {}
    related_line: dict[str, int] = {}
    review_line: dict[str, int] = {}
    files = sorted(texts) if texts is not None else bank_files(content_dir)
    if not files:
        issues.append(ContentIssue(os.path.join(content_dir, "bank"), 1, None, "chưa có tệp mục nào (*.yaml)", "warning"))
    for path in files:
        for node, data in _iter_entries(path, issues, texts[path] if texts is not None else None):
            checker = _EntryChecker(path, node, data, topics, rules)
            entry = checker.check()
            entry_id = checker.entry_id
            if entry_id and entry_id in first_seen:
                where = "{}:{}".format(*first_seen[entry_id])
                checker.error(f"id '{entry_id}' bị trùng (đã dùng ở {where})", "id")
                entry = None
            elif entry_id:
                first_seen[entry_id] = (path, checker.line())
            issues.extend(checker.issues)
            if entry is not None:
                entries.append(entry)
                related_line[entry.id] = checker.line("related")
                review_line[entry.id] = checker.line("review_by")
    _check_related(entries, set(first_seen), related_line, issues)
    if today is not None:
        for entry in due_for_review(entries, today):
            issues.append(ContentIssue(
                entry.file, review_line.get(entry.id, entry.line), entry.id,
                f"đã đến hạn rà soát lại (review_by {entry.review_by:%d/%m/%Y}): kiểm tra lại nội dung, nguồn"
                " rồi cập nhật reviewed và review_by",
                "warning",
            ))
    issues.sort(key=lambda i: (i.file, i.line))  # stable: same-line issues keep their order
    return topics, entries, issues


def _check_related(entries: list[Entry], all_ids: set[str], related_line: dict[str, int], issues: list[ContentIssue]) -> None:
    """Drop related ids that do not exist (an error); warn on related entries members will not see."""
    by_id = {e.id: e for e in entries}
    for i, entry in enumerate(entries):
        missing = [r for r in entry.related if r not in all_ids]
        for r in missing:
            issues.append(ContentIssue(entry.file, related_line[entry.id], entry.id, f"related: không có mục nào có id '{r}'"))
        if missing:
            entry = entries[i] = replace(entry, related=tuple(r for r in entry.related if r in all_ids))
        if entry.approved:
            for r in entry.related:
                if r not in by_id or not by_id[r].approved:
                    issues.append(ContentIssue(
                        entry.file, related_line[entry.id], entry.id,
                        f"related: mục '{r}' chưa duyệt (hoặc có lỗi) nên không được đưa ra",
                        "warning",
                    ))


def due_for_review(entries: list[Entry], today: dt.date) -> list[Entry]:
    """Entries whose ``review_by`` date is today or earlier, soonest first."""
    due = [e for e in entries if e.review_by is not None and e.review_by <= today]
    return sorted(due, key=lambda e: (e.review_by, e.id))


def check_content(
    content_dir: str | os.PathLike[str],
    *,
    today: dt.date | None = None,
    rules: SourceRules | None = None,
    texts: Mapping[str, str] | None = None,
) -> list[ContentIssue]:
    """Every problem of a content folder (errors and warnings), in file order."""
    return parse_content(content_dir, today=today, rules=rules, texts=texts)[2]


def file_signature(paths: list[str]) -> tuple[tuple[str, int, int], ...]:
    """(path, mtime_ns, size) of each existing file: a cheap check that files changed."""
    sig = []
    for p in paths:
        try:
            st = os.stat(p)
        except OSError:
            continue
        sig.append((p, st.st_mtime_ns, st.st_size))
    return tuple(sorted(sig))
