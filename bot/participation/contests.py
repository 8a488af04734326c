"""Contests members take part in (content/contests.yaml): loading and validation.

Staff describe each contest: name, organiser, link, dates, and which of those
facts are not verified yet (shown to members as "chưa xác minh").  Members report
taking part in chat ("THAM GIA CUỘC THI"); staff import lists (participation_import).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any

from bot.answers.bank import ContentIssue
from bot.participation.catalog_yaml import (
    is_url,
    line_of,
    parse_date,
    read_list_file,
    text_value,
    unknown_keys,
)

CONTESTS_FILE = "contests.yaml"
CONTEST_FIELDS = ("id", "name", "organiser", "link", "link_title", "starts", "ends", "unverified", "reportable", "note")
VERIFIABLE = ("organiser", "link", "starts", "ends")
MAX_NAME_CHARS = 120


@dataclass(frozen=True)
class Contest:
    """One contest; dates may be unknown (None)."""

    id: str
    name: str
    organiser: str
    link: str
    link_title: str
    starts: dt.date | None
    ends: dt.date | None
    unverified: tuple[str, ...]
    reportable: bool
    note: str

    def dates_text(self) -> str:
        def fmt(d: dt.date | None) -> str:
            return d.strftime("%d/%m/%Y") if d else "chưa rõ"

        if self.starts is None and self.ends is None:
            text = "chưa rõ"
        else:
            text = f"từ {fmt(self.starts)} đến {fmt(self.ends)}"
        if "starts" in self.unverified or "ends" in self.unverified:
            text += " (chưa xác minh)"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "organiser": self.organiser, "link": self.link,
            "starts": self.starts.isoformat() if self.starts else None,
            "ends": self.ends.isoformat() if self.ends else None,
            "unverified": list(self.unverified), "reportable": self.reportable, "note": self.note,
        }


def contests_path(content_dir: str | os.PathLike[str]) -> str:
    return os.path.join(str(content_dir), CONTESTS_FILE)


def parse_contests(content_dir: str | os.PathLike[str]) -> tuple[dict[str, Contest], list[ContentIssue]]:
    """Every valid contest by id (file order), and every problem."""
    path = contests_path(content_dir)
    issues: list[ContentIssue] = []
    contests: dict[str, Contest] = {}
    data = read_list_file(
        path, "contests", missing="thiếu tệp danh sách cuộc thi (contests.yaml)",
        shape="tệp cần khóa 'contests:' là một danh sách", issues=issues,
    )
    if data is None:
        return contests, issues
    seen: set[str] = set()
    for item in data["contests"]:
        line = line_of(item)
        if not isinstance(item, dict):
            issues.append(ContentIssue(path, line, None, "mỗi cuộc thi là một mục có id, name, ..."))
            continue
        cid = text_value(item.get("id"))
        problems: list[str] = []
        for key in unknown_keys(item, CONTEST_FIELDS):
            issues.append(ContentIssue(path, line, cid or None, f"khóa không dùng: {key}", "warning"))
        if not cid or not cid.replace("-", "").isalnum() or cid != cid.lower():
            problems.append(f"id '{cid}' không hợp lệ (chữ thường không dấu, số, gạch nối)")
        elif cid in seen:
            problems.append(f"id '{cid}' bị trùng")
        seen.add(cid)
        name = text_value(item.get("name"))
        if not name or len(name) > MAX_NAME_CHARS:
            problems.append(f"cần tên cuộc thi (name) dài 1–{MAX_NAME_CHARS} ký tự")
        link = text_value(item.get("link"))
        if link and not is_url(link):
            problems.append(f"link '{link}' không phải địa chỉ http(s)")
        start_date, end_date = _period(item, problems)
        unverified = item.get("unverified") or []
        if not isinstance(unverified, list) or any(u not in VERIFIABLE for u in unverified):
            problems.append(f"unverified là danh sách trong: {', '.join(VERIFIABLE)}")
            unverified = []
        organiser = text_value(item.get("organiser"))
        if not organiser and "organiser" not in (unverified or []):
            issues.append(ContentIssue(path, line, cid or None, "chưa có đơn vị tổ chức (organiser)", "warning"))
        reportable = item.get("reportable", True)
        if not isinstance(reportable, bool):
            problems.append("reportable là true hoặc false")
        for message in problems:
            issues.append(ContentIssue(path, line, cid or None, message))
        if problems:
            continue
        contests[cid] = Contest(
            id=cid, name=name, organiser=organiser, link=link, link_title=text_value(item.get("link_title")) or "Xem thông tin",
            starts=start_date, ends=end_date, unverified=tuple(str(u) for u in unverified),
            reportable=bool(reportable), note=text_value(item.get("note")),
        )
    return contests, issues


def _period(item: dict[str, Any], problems: list[str]) -> tuple[Any, Any]:
    """The contest's (starts, ends) dates; problems with them are added to ``problems``."""
    starts, ends = item.get("starts"), item.get("ends")
    start_date = parse_date(starts) if starts is not None else None
    end_date = parse_date(ends) if ends is not None else None
    if starts is not None and start_date is None:
        problems.append("starts phải là ngày YYYY-MM-DD (bỏ trống nếu chưa rõ)")
    if ends is not None and end_date is None:
        problems.append("ends phải là ngày YYYY-MM-DD (bỏ trống nếu chưa rõ)")
    if start_date and end_date and end_date < start_date:
        problems.append("ngày kết thúc trước ngày bắt đầu")
    return start_date, end_date


def check_contests(content_dir: str | os.PathLike[str]) -> list[ContentIssue]:
    """Every problem of content/contests.yaml (for `flask content check`)."""
    return parse_contests(content_dir)[1]
