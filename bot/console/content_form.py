"""The content entry form: from the submitted fields to an entry for the YAML file, and back."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from werkzeug.datastructures import MultiDict

from bot.answers import edit as content_store
from bot.answers.bank import STATUSES

MAX_SOURCES = 10
SOURCE_KEYS = ("name", "title", "number", "date", "url")

def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in (text or "").splitlines() if line.strip()]


def _normalise_answer(text: str) -> str:
    lines = [" ".join(line.split()) for line in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def form_values(form: MultiDict) -> dict[str, Any]:
    """What was typed, kept as typed, to show the form again."""
    values = {k: form.get(k, "") for k in ("id", "topic", "question", "variants", "keywords", "answer", "related", "status", "reviewed", "reviewed_by", "review_by", "file", "version", "question_ids")}
    values["sensitive"] = form.get("sensitive") == "1"
    sources = []
    for i in range(MAX_SOURCES):
        source = {k: form.get(f"source-{i}-{k}", "").strip() for k in SOURCE_KEYS}
        if any(source.values()):
            sources.append(source)
    values["sources"] = sources
    return values


def values_to_data(values: dict[str, Any], today: dt.date) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The entry to save, and the errors found before the content checker runs."""
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {
        "id": values["id"].strip(),
        "topic": values["topic"].strip(),
        "question": " ".join(values["question"].split()),
        "variants": _lines(values["variants"]),
        "keywords": _lines(values["keywords"]),
        "answer": _normalise_answer(values["answer"]),
        "status": values["status"] if values["status"] in STATUSES else "draft",
    }
    sources = []
    for i, s in enumerate(values["sources"]):
        if not s["name"]:
            errors.setdefault("sources", []).append(f"Nguồn thứ {i + 1}: cần tên tài liệu hoặc bài viết.")
        if s["date"] and not re.fullmatch(r"\d{4}(-\d{2}-\d{2})?", s["date"]):
            errors.setdefault("sources", []).append(f"Nguồn thứ {i + 1}: ngày phải dạng YYYY-MM-DD hoặc YYYY.")
        if s["url"] and not re.match(r"^https?://\S+$", s["url"]):
            errors.setdefault("sources", []).append(f"Nguồn thứ {i + 1}: đường dẫn phải bắt đầu bằng http:// hoặc https://.")
        sources.append({k: v for k, v in s.items() if v})
    data["sources"] = sources
    data["related"] = [r for r in re.split(r"[\s,;]+", values["related"]) if r]
    reviewed = values["reviewed"].strip()
    if reviewed:
        try:
            data["reviewed"] = dt.date.fromisoformat(reviewed)
        except ValueError:
            errors.setdefault("reviewed", []).append("Ngày rà soát phải dạng YYYY-MM-DD.")
    else:
        data["reviewed"] = today
    reviewed_by = " ".join((values.get("reviewed_by") or "").split())
    if reviewed_by:
        data["reviewed_by"] = reviewed_by
    review_by = (values.get("review_by") or "").strip()
    if review_by:
        try:
            data["review_by"] = dt.date.fromisoformat(review_by)
        except ValueError:
            errors.setdefault("review_by", []).append("Hạn rà soát lại phải dạng YYYY-MM-DD.")
    if values.get("sensitive"):
        data["sensitive"] = True
    for key, label in (("question", "Cần câu hỏi chuẩn."), ("answer", "Cần câu trả lời."), ("topic", "Chọn một chủ đề.")):
        if not data[key]:
            errors.setdefault(key, []).append(label)
    return data, errors


def record_values(record: content_store.EntryRecord) -> dict[str, Any]:
    d = record.data

    def listed(key: str, sep: str) -> str:
        value = d.get(key)
        return sep.join(str(v) for v in value) if isinstance(value, list) else str(value or "")

    sources = []
    for s in d.get("sources") or []:
        if isinstance(s, dict):
            sources.append({k: "" if s.get(k) is None else str(s.get(k)) for k in SOURCE_KEYS})
    return {
        "id": record.id, "topic": str(d.get("topic") or ""), "question": str(d.get("question") or ""),
        "variants": listed("variants", "\n"), "keywords": listed("keywords", "\n"),
        "answer": str(d.get("answer") or "").strip(), "related": listed("related", ", "),
        "status": str(d.get("status") or "draft"), "reviewed": str(d.get("reviewed") or ""),
        "reviewed_by": str(d.get("reviewed_by") or ""), "review_by": str(d.get("review_by") or ""),
        "sensitive": d.get("sensitive") is True,
        "sources": sources, "file": record.file_name, "version": record.version, "question_ids": "",
    }
