"""The checker's rules for an entry's sources: fields, short names, and the tiers of content/sources.yaml."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import yaml

from bot.answers.model import ContentIssue, Source
from bot.answers.sources import FORBIDDEN, UNKNOWN, SourceRules
from bot.answers.yaml_reader import line_of_node, source_date, value_node

SOURCE_FIELDS = ("name", "title", "number", "date", "url")
MAX_SOURCE_NAME = 60  # the short name members see ("Báo Biên phòng, 3/2025"); ``title`` keeps the full reference


class SourceChecks:
    """Part of the entry checker (bot.answers.check): ``sources``."""

    path: str
    entry_id: str | None
    data: dict[str, Any]
    node: Any
    issues: list[ContentIssue]
    rules: SourceRules | None

    def line(self, key: str | None = None) -> int: ...
    def error(self, message: str, key: str | None = None) -> None: ...
    def warn(self, message: str, key: str | None = None) -> None: ...

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
        seq = value_node(self.node, "sources")
        for i, item in enumerate(raw):
            where = line_of_node(seq.value[i]) if isinstance(seq, yaml.SequenceNode) else self.line("sources")
            if not isinstance(item, dict):
                self.issues.append(ContentIssue(self.path, where, self.entry_id, "mỗi nguồn phải có dạng name:, number:, date:, url:"))
                continue
            source = self._one_source(item, where, tiers)
            if source is not None:
                sources.append(source)
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

    def _one_source(self, item: dict[str, Any], where: int, tiers: list[str]) -> Source | None:
        """One item of ``sources``; None when it has no name.  Appends the URL's tier to ``tiers``."""
        for key in item:
            if key not in SOURCE_FIELDS:
                self.issues.append(ContentIssue(
                    self.path, where, self.entry_id,
                    f"trường lạ '{key}' trong nguồn (chỉ dùng: {', '.join(SOURCE_FIELDS)})",
                ))
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            self.issues.append(ContentIssue(self.path, where, self.entry_id, "nguồn thiếu name"))
            return None
        number = item.get("number")
        date = source_date(item.get("date")) if item.get("date") is not None else None
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
        return Source(
            name=" ".join(name.split()),
            number=str(number).strip() if number not in (None, "") else None,
            date=date,
            url=url.strip() if url else None,
            title=" ".join(title.split()) if title else None,
        )
