"""Parse and validate the content bank files (content/topics.yaml + content/bank/*.yaml).

The format is a fixed contract, described in content/README.md.  :func:`check_content`
reports every problem with its file, line and entry id; :func:`parse_content` returns
the valid topics and entries together with the problems found.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from bot.answers.sources import (
    FORBIDDEN,
    UNKNOWN,
    SourceRules,
    SourcesFileError,
    load_rules,
    rules_path,
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
SOURCE_FIELDS = ("name", "title", "number", "date", "url")
MAX_SOURCE_NAME = 60  # the short name members see ("Báo Biên phòng, 3/2025"); ``title`` keeps the full reference
CHECK_INTERVAL_SECONDS = 3.0  # reload_if_changed() scans the files at most this often

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_BRACES = re.compile(r"\{([^{}]*)\}|[{}]")
_YEAR = re.compile(r"^\d{4}$")


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


# -- parsing -----------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader whose impossible dates (2026-13-45) stay text, so the checker can report them."""


def _lenient_timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _lenient_timestamp)


def _parse_yaml(path: str, issues: list[ContentIssue]) -> tuple[yaml.Node | None, Any]:
    """(node tree, data) of one YAML file; a syntax error becomes an issue with its line."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        issues.append(ContentIssue(path, 1, None, f"không đọc được tệp: {exc}"))
        return None, None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        if exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
            problem += f" (phần bắt đầu ở dòng {exc.context_mark.line + 1})"  # e.g. an unclosed [
        issues.append(ContentIssue(path, line, None, f"lỗi cú pháp YAML: {problem}"))
        return None, None
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        issues.append(ContentIssue(path, 1, None, f"lỗi YAML: {exc}"))
        return None, None
    finally:
        loader.dispose()
    return node, data


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _mapping_lines(node: yaml.MappingNode) -> tuple[dict[str, int], list[tuple[str, int]]]:
    """Line of each key's value, and keys that appear twice (YAML would keep the last)."""
    lines: dict[str, int] = {}
    duplicates = []
    for key_node, value_node in node.value:
        key = str(key_node.value)
        if key in lines:
            duplicates.append((key, _line(key_node)))
        lines[key] = _line(value_node)
    return lines, duplicates


def _value_node(node: yaml.MappingNode, key: str) -> yaml.Node | None:
    """The value node of ``key`` in a mapping node (the last one, as YAML keeps)."""
    found = None
    for key_node, value_node in node.value:
        if key_node.value == key:
            found = value_node
    return found


def as_date(value: Any) -> dt.date | None:
    """A YAML date or ``YYYY-MM-DD`` text -> date (None if it is not one)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _source_date(value: Any) -> str | None:
    """A source date as "YYYY-MM-DD" or "YYYY"; None when it is not one."""
    if isinstance(value, int) and 1000 <= value <= 9999:
        return str(value)
    if isinstance(value, str) and _YEAR.match(value.strip()):
        return value.strip()
    day = as_date(value)
    return day.isoformat() if day else None


def _string_list(value: Any) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        return None
    return [v.strip() for v in value]


def _list_problem(name: str, value: Any) -> str:
    """Why ``value`` is not a list of texts, with the usual cause (an unquoted comma or number)."""
    if not isinstance(value, list):
        return f"{name} phải là một danh sách các câu chữ"
    bad = next(v for v in value if not (isinstance(v, str) and v.strip()))
    return (
        f"{name} phải là danh sách các câu chữ; mục {bad!r} không phải chữ"
        " (trong [a, b] dấu phẩy tách các mục: đặt trong ngoặc kép mục như \"1,852 km\")"
    )


class _EntryChecker:
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
        self.lines, self.duplicates = _mapping_lines(node)
        raw_id = data.get("id")
        self.entry_id = raw_id if isinstance(raw_id, str) and raw_id else None
        self.issues: list[ContentIssue] = []

    def line(self, key: str | None = None) -> int:
        return self.lines.get(key, _line(self.node)) if key else _line(self.node)

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
        variants = _string_list(raw)
        if variants is None:
            self.error(_list_problem("variants", raw), "variants")
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
            for a, b in zip(raw, raw[1:]):
                if isinstance(a, str) and a.isdigit() and isinstance(b, str) and re.match(r"^\d{3}\b", b):
                    self.warn(f"keywords '{a}', '{b}' có vẻ là một con số bị dấu phẩy tách đôi: hãy đặt trong ngoặc kép", "keywords")
        keywords = _string_list(raw)
        if keywords is None:
            self.error(_list_problem("keywords", raw), "keywords")
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

    def _sources(self, approved: bool) -> list[Source]:
        raw = self.data.get("sources")
        if raw in (None, []):
            if approved:
                self.error("mục đã duyệt (approved) cần ít nhất một nguồn trong sources", "sources" if raw == [] else None)
            return []
        if not isinstance(raw, list):
            self.error("sources phải là một danh sách", "sources")
            return []
        sources = []
        tiers: list[str] = []  # tier of each source that has a URL
        seq = _value_node(self.node, "sources")
        for i, item in enumerate(raw):
            where = _line(seq.value[i]) if isinstance(seq, yaml.SequenceNode) else self.line("sources")
            if not isinstance(item, dict):
                self.issues.append(ContentIssue(self.path, where, self.entry_id, "mỗi nguồn phải có dạng name:, number:, date:, url:"))
                continue
            for key in item:
                if key not in SOURCE_FIELDS:
                    self.issues.append(ContentIssue(
                        self.path, where, self.entry_id,
                        f"trường lạ '{key}' trong nguồn (chỉ dùng: {', '.join(SOURCE_FIELDS)})",
                    ))
            name = item.get("name")
            if not isinstance(name, str) or not name.strip():
                self.issues.append(ContentIssue(self.path, where, self.entry_id, "nguồn thiếu name"))
                continue
            number = item.get("number")
            date = _source_date(item.get("date")) if item.get("date") is not None else None
            if item.get("date") is not None and date is None:
                self.issues.append(ContentIssue(
                    self.path, where, self.entry_id, f"date của nguồn phải dạng YYYY-MM-DD hoặc YYYY, không phải '{item['date']}'"
                ))
            title = item.get("title")
            if title is not None and not (isinstance(title, str) and title.strip()):
                self.issues.append(ContentIssue(self.path, where, self.entry_id, "title của nguồn phải là chữ"))
                title = None
            if len(" ".join(name.split())) > MAX_SOURCE_NAME:
                self.issues.append(ContentIssue(
                    self.path, where, self.entry_id,
                    f"name của nguồn dài quá {MAX_SOURCE_NAME} ký tự (hội viên thấy tên này; ghi đầy đủ vào title)",
                    "warning",
                ))
            url = item.get("url")
            if url is not None and not (isinstance(url, str) and re.match(r"^https?://\S+$", url.strip())):
                self.issues.append(ContentIssue(self.path, where, self.entry_id, f"url của nguồn không phải địa chỉ http(s): {url}"))
                url = None
            if url and self.rules is not None:
                tiers.append(self._source_tier(url.strip(), where))
            sources.append(Source(
                name=" ".join(name.split()),
                number=str(number).strip() if number not in (None, "") else None,
                date=date,
                url=url.strip() if url else None,
                title=" ".join(title.split()) if title else None,
            ))
        if sources and not any(src.date for src in sources):
            self.warn("không nguồn nào có date (nên ghi YYYY-MM-DD hoặc YYYY)", "sources")
        if approved and sources and len(tiers) == len(sources) and all(t == "T4" for t in tiers):
            self.error(
                "mục đã duyệt chỉ có nguồn hạng T4 (chỉ dùng nội bộ để đối chiếu, không hiện cho hội viên):"
                " cần thêm một nguồn T1–T3 (văn bản pháp luật, báo chí nhà nước, cổng thông tin chính thức)",
                "sources",
            )
        return sources

    def _source_tier(self, url: str, where: int) -> str:
        """The URL's tier (content/sources.yaml); a forbidden host is an error, an unknown one a warning."""
        assert self.rules is not None
        tier = self.rules.tier_of_url(url)
        host = urlsplit(url).netloc
        if tier == FORBIDDEN:
            self.issues.append(ContentIssue(
                self.path, where, self.entry_id,
                f"nguồn bị cấm: {host} nằm trong danh sách forbidden của sources.yaml (không bao giờ trích dẫn)",
            ))
        elif tier == UNKNOWN:
            self.issues.append(ContentIssue(
                self.path, where, self.entry_id,
                f"nguồn chưa phân loại: {host} không có trong sources.yaml (xếp hạng T1–T4 hoặc thay nguồn khác)",
                "warning",
            ))
        return tier or UNKNOWN

    def _related(self) -> list[str]:
        raw = self.data.get("related")
        if raw in (None, []):
            return []
        related = _string_list(raw)
        if related is None:
            self.error(_list_problem("related", raw), "related")
            return []
        if self.entry_id in related:
            self.error("related không được chứa id của chính mục này", "related")
        return related


def _load_topics(path: str, issues: list[ContentIssue]) -> dict[str, Topic]:
    node, data = _parse_yaml(path, issues)
    if node is None:
        if not any(i.file == path for i in issues):
            issues.append(ContentIssue(path, 1, None, "tệp chủ đề trống"))
        return {}
    items = data.get("topics") if isinstance(data, dict) else None
    if not isinstance(items, list):
        issues.append(ContentIssue(path, _line(node), None, "cần một danh sách 'topics:'"))
        return {}
    seq = _value_node(node, "topics")
    assert isinstance(seq, yaml.SequenceNode)
    topics: dict[str, Topic] = {}
    for item, item_node in zip(items, seq.value):
        line = _line(item_node)
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


def _iter_entries(path: str, issues: list[ContentIssue]) -> Iterator[tuple[yaml.MappingNode, dict[str, Any]]]:
    node, data = _parse_yaml(path, issues)
    if node is None:
        if data is None and not any(i.file == path for i in issues):
            issues.append(ContentIssue(path, 1, None, "tệp trống", "warning"))
        return
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        issues.append(ContentIssue(path, _line(node), None, "tệp cần có danh sách 'entries:'"))
        return
    for key_node, _ in node.value:
        if key_node.value != "entries":
            issues.append(ContentIssue(path, _line(key_node), None, f"trường lạ '{key_node.value}' ở đầu tệp (chỉ dùng 'entries:')"))
    seq = _value_node(node, "entries")
    if not isinstance(seq, yaml.SequenceNode) or not isinstance(data.get("entries"), list):
        issues.append(ContentIssue(path, _line(node), None, "'entries:' phải là một danh sách các mục"))
        return
    for item_node, item in zip(seq.value, data["entries"]):
        if not isinstance(item_node, yaml.MappingNode) or not isinstance(item, dict):
            issues.append(ContentIssue(path, _line(item_node), None, "mỗi mục phải là một nhóm trường (id:, topic:, question: ...)"))
            continue
        yield item_node, item


def parse_content(
    content_dir: str | os.PathLike[str],
    *,
    today: dt.date | None = None,
    rules: SourceRules | None = None,
) -> tuple[dict[str, Topic], list[Entry], list[ContentIssue]]:
    """Read and validate a content folder: (topics, valid entries, issues).

    Entries with errors are left out; a related id that does not exist is an
    error too, but the entry stays (without that link) so members still get it.
    Source URLs are checked against ``rules`` (default: the folder's sources.yaml,
    else the shipped one).  With ``today``, an entry whose ``review_by`` date has
    passed gets a warning (the caller passes the app clock's date, never the wall clock).
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
    files = bank_files(content_dir)
    if not files:
        issues.append(ContentIssue(os.path.join(content_dir, "bank"), 1, None, "chưa có tệp mục nào (*.yaml)", "warning"))
    for path in files:
        for node, data in _iter_entries(path, issues):
            checker = _EntryChecker(path, node, data, topics, rules)
            entry = checker.check()
            entry_id = checker.entry_id
            if entry_id and entry_id in first_seen:
                where = "%s:%d" % first_seen[entry_id]
                checker.error(f"id '{entry_id}' bị trùng (đã dùng ở {where})", "id")
                entry = None
            elif entry_id:
                first_seen[entry_id] = (path, checker.line())
            issues.extend(checker.issues)
            if entry is not None:
                entries.append(entry)
                related_line[entry.id] = checker.line("related")
                review_line[entry.id] = checker.line("review_by")
    all_ids = set(first_seen)
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


def due_for_review(entries: list[Entry], today: dt.date) -> list[Entry]:
    """Entries whose ``review_by`` date is today or earlier, soonest first."""
    due = [e for e in entries if e.review_by is not None and e.review_by <= today]
    return sorted(due, key=lambda e: (e.review_by, e.id))


def check_content(
    content_dir: str | os.PathLike[str],
    *,
    today: dt.date | None = None,
    rules: SourceRules | None = None,
) -> list[ContentIssue]:
    """Every problem of a content folder (errors and warnings), in file order."""
    return parse_content(content_dir, today=today, rules=rules)[2]


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
