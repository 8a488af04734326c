"""Content bank pages: search, add, edit, approve, with a Messenger/Zalo preview.

Edits go through :mod:`bot.answers.edit`: the YAML files stay the source of truth.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from bot.answers import edit as content_store
from bot.answers.bank import (
    bank_signature,
    STATUSES,
    Entry,
    Source,
    bank_files,
    parse_content,
    resolve_content_dir,
)
from bot.answers.reply import entry_reply
from bot.console.blueprint import bp
from bot.console.preview import preview_reply
from bot.core.text import fold, has_diacritics
from bot.web.auth import audit, requires
from bot.web.context import get_services, get_store

PER_PAGE = 50
MAX_SOURCES = 10
STATUS_LABELS = {"draft": "Bản nháp", "approved": "Đã duyệt"}

_cache_lock = threading.Lock()
_cache: dict[str, tuple[Any, Any]] = {}


def content_dir() -> str:
    return os.path.abspath(resolve_content_dir(current_app.config["CONTENT_DIR"]))


def bank_state(folder: str | None = None) -> dict[str, Any]:
    """Topics, issues and every entry as written (errors included), cached until a file changes."""
    folder = folder or content_dir()
    sig = bank_signature(folder)
    with _cache_lock:
        cached = _cache.get(folder)
        if cached and cached[0] == sig:
            return cached[1]
    topics, _, issues = parse_content(folder)
    state = {"topics": topics, "issues": issues, "records": content_store.read_entries(folder)}
    with _cache_lock:
        _cache[folder] = (sig, state)
    return state


def _today() -> dt.date:
    return get_services().clock.today(current_app.config["TIMEZONE"])


# -- form <-> entry ---------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in (text or "").splitlines() if line.strip()]


def _normalise_answer(text: str) -> str:
    lines = [" ".join(line.split()) for line in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def form_values(form: MultiDict) -> dict[str, Any]:
    """What was typed, kept as typed, to show the form again."""
    values = {k: form.get(k, "") for k in ("id", "topic", "question", "variants", "keywords", "answer", "related", "status", "reviewed", "file", "version", "question_ids")}
    sources = []
    for i in range(MAX_SOURCES):
        source = {k: form.get(f"source-{i}-{k}", "").strip() for k in ("name", "number", "date", "url")}
        if any(source.values()):
            sources.append(source)
    values["sources"] = sources
    return values


def values_to_data(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
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
        data["reviewed"] = _today()
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
            sources.append({k: "" if s.get(k) is None else str(s.get(k)) for k in ("name", "number", "date", "url")})
    return {
        "id": record.id, "topic": str(d.get("topic") or ""), "question": str(d.get("question") or ""),
        "variants": listed("variants", "\n"), "keywords": listed("keywords", "\n"),
        "answer": str(d.get("answer") or "").strip(), "related": listed("related", ", "),
        "status": str(d.get("status") or "draft"), "reviewed": str(d.get("reviewed") or ""),
        "sources": sources, "file": record.file_name, "version": record.version, "question_ids": "",
    }


def _preview_for(data: dict[str, Any]) -> dict[str, Any]:
    if not data.get("answer"):
        return {"platforms": [], "warnings": [], "empty": "Nhập câu trả lời để xem trước."}
    services = get_services()
    snapshot = services.get_bank().snapshot()
    entry = Entry(
        id=data.get("id") or "moi", topic=data.get("topic") or "", question=data.get("question") or "",
        variants=tuple(data.get("variants") or ()), keywords=tuple(data.get("keywords") or ()),
        answer=data.get("answer") or "",
        sources=tuple(
            Source(s.get("name", ""), s.get("number"), str(s["date"]) if s.get("date") else None, s.get("url"))
            for s in data.get("sources") or [] if s.get("name")
        ),
        related=tuple(data.get("related") or ()), status=data.get("status") or "draft",
        reviewed=data.get("reviewed") if isinstance(data.get("reviewed"), dt.date) else _today(),
    )
    reply = entry_reply(entry, snapshot, current_app.config)
    return preview_reply(reply, services, current_app.config)


def _changed_fields(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    keys = dict.fromkeys([*old, *new])
    return [k for k in keys if str(old.get(k) or "") != str(new.get(k) or "")]


# -- pages --------------------------------------------------------------------------------------------


@bp.get("/content")
@requires("read")
def content_list():
    state = bank_state()
    q = request.args.get("q", "").strip()[:200]
    topic = request.args.get("topic", "")
    status = request.args.get("status", "")
    with_issues = request.args.get("issues") == "1"
    issues_by_id: dict[str, list] = {}
    for issue in state["issues"]:
        if issue.entry_id:
            issues_by_id.setdefault(issue.entry_id, []).append(issue)
    needle = fold(q)
    rows = []
    for record in state["records"]:
        d = record.data
        if topic and d.get("topic") != topic:
            continue
        if status and d.get("status") != status:
            continue
        if with_issues and not any(i.is_error for i in issues_by_id.get(record.id, [])):
            continue
        if needle:
            haystack = " ".join(
                str(x) for x in [record.id, d.get("question"), d.get("answer"), *(d.get("variants") or []), *(d.get("keywords") or [])]
            )
            if needle not in fold(haystack):
                continue
        rows.append({"record": record, "issues": issues_by_id.get(record.id, [])})
    page = max(1, request.args.get("page", 1, type=int) or 1)
    pages = max(1, -(-len(rows) // PER_PAGE))
    errors = [i for i in state["issues"] if i.is_error]
    return render_template(
        "admin/content_list.html",
        rows=rows[(page - 1) * PER_PAGE : page * PER_PAGE], total=len(rows), page=page, pages=pages,
        q=q, topic=topic, status=status, with_issues=with_issues, topics=state["topics"], status_labels=STATUS_LABELS,
        errors=errors, warnings=len(state["issues"]) - len(errors), all_count=len(state["records"]),
        approved=sum(1 for r in state["records"] if r.data.get("status") == "approved"),
        folder=content_dir(), relative=content_store.relative,
    )


def _render_form(values, errors, *, record=None, current=None, status=200, preview=None):
    state = bank_state()
    files = [os.path.basename(p) for p in bank_files(content_dir())]
    issues = [i for i in state["issues"] if record is not None and i.entry_id == record.id]
    if preview is None:
        data, _ = values_to_data(values)
        preview = _preview_for(data)
    return render_template(
        "admin/content_edit.html", values=values, errors=errors, record=record, current=current,
        topic_options=[(t.id, t.title) for t in state["topics"].values()], file_options=[(f, f) for f in files],
        status_labels=STATUS_LABELS, issues=issues, preview=preview,
        max_sources=MAX_SOURCES,
    ), status


@bp.get("/content/new")
@requires("content")
def content_new():
    values = {k: "" for k in ("id", "topic", "question", "variants", "keywords", "answer", "related", "file", "version", "question_ids")}
    values.update(status="draft", reviewed=_today().isoformat(), sources=[])
    ids = [int(x) for x in re.findall(r"\d+", request.args.get("questions", ""))][:50]
    if ids:
        texts = list(dict.fromkeys(" ".join(r["text"].split()) for r in get_store().questions_by_id(ids)))
        texts.sort(key=lambda text: not has_diacritics(text))  # the canonical question is written out in full
        if texts:
            values["question"] = texts[0]
            values["variants"] = "\n".join(texts[1:])
            values["question_ids"] = ",".join(str(i) for i in ids)
    topic = request.args.get("topic", "")
    if topic in bank_state()["topics"]:
        values["topic"] = topic
    return _render_form(values, {})


@bp.post("/content/new")
@requires("content")
def content_create():
    values = form_values(request.form)
    data, errors = values_to_data(values)
    if errors:
        return _render_form(values, errors, status=400)
    try:
        result = content_store.save_entry(content_dir(), data, file=values["file"] or None)
    except content_store.ContentInvalid as exc:
        return _render_form(values, exc.fields, status=400)
    except content_store.ContentEditError as exc:
        return _render_form(values, {"": [str(exc)]}, status=400)
    ids = [int(x) for x in re.findall(r"\d+", values.get("question_ids") or "")]
    done = get_store().set_questions_review(ids, "done") if ids else 0
    reload = publish(result, "content.create", f"trạng thái {data['status']}" + (f"; từ {done} câu hỏi chưa trả lời" if done else ""))
    _flash_saved(result, reload, created=True)
    return redirect(url_for("console.content_edit", entry_id=result.entry_id))


def _flash_saved(result: content_store.SaveResult, reload: dict[str, Any], *, created: bool = False, approved: bool = False) -> None:
    name = os.path.basename(result.file)
    verb = "Đã duyệt" if approved else ("Đã thêm" if created else "Đã lưu")
    flash(f"{verb} mục {result.entry_id} (tệp {name}).", "success")
    for issue in result.warnings:
        flash(f"Lưu ý: {issue.message}", "warning")
    if not reload["swapped"]:
        flash(
            "Kho nội dung đang có lỗi ở mục khác nên trợ lý vẫn dùng bản nạp trước; sửa các lỗi trong danh sách để bản mới có hiệu lực.",
            "warning",
        )


@bp.get("/content/<entry_id>")
@requires("read")
def content_edit(entry_id: str):
    record = next((r for r in bank_state()["records"] if r.id == entry_id), None)
    if record is None:
        abort(404, "Không có mục này trong kho nội dung.")
    return _render_form(record_values(record), {}, record=record)


@bp.post("/content/<entry_id>")
@requires("content")
def content_save(entry_id: str):
    record = next((r for r in content_store.read_entries(content_dir()) if r.id == entry_id), None)
    values = form_values(request.form)
    values["id"] = entry_id
    data, errors = values_to_data(values)
    if errors:
        return _render_form(values, errors, record=record, status=400)
    try:
        result = content_store.save_entry(content_dir(), data, original_id=entry_id, version=values["version"] or None)
    except content_store.ContentConflict as exc:
        if exc.current is not None:
            values["version"] = exc.current.version  # saving again now overwrites, after seeing the current text
        return _render_form(
            values, {"": [str(exc)]}, record=exc.current or record,
            current=record_values(exc.current) if exc.current else None, status=409,
        )
    except content_store.ContentInvalid as exc:
        return _render_form(values, exc.fields, record=record, status=400)
    except content_store.ContentEditError as exc:
        return _render_form(values, {"": [str(exc)]}, record=record, status=400)
    changed = _changed_fields(record.data if record else {}, data)
    reload = publish(result, "content.edit", "sửa " + ", ".join(changed) if changed else "không đổi")
    _flash_saved(result, reload)
    return redirect(url_for("console.content_edit", entry_id=entry_id))


@bp.post("/content/<entry_id>/approve")
@requires("content")
def content_approve(entry_id: str):
    try:
        result = content_store.approve_entry(content_dir(), entry_id, version=request.form.get("version") or None, today=_today())
    except content_store.ContentConflict as exc:
        flash(str(exc), "error")
        return redirect(url_for("console.content_edit", entry_id=entry_id))
    except content_store.ContentInvalid as exc:
        for messages in exc.fields.values():
            for message in messages:
                flash(f"Chưa duyệt được: {message}", "error")
        return redirect(url_for("console.content_edit", entry_id=entry_id))
    reload = publish(result, "content.approve")
    _flash_saved(result, reload, approved=True)
    return redirect(url_for("console.content_edit", entry_id=entry_id))


@bp.post("/content/preview")
@requires("content")
def content_preview():
    data, _ = values_to_data(form_values(request.form))
    return render_template("admin/_preview_fragment.html", preview=_preview_for(data))


def publish(result: content_store.SaveResult, action: str, detail: str = "") -> dict[str, Any]:
    """After a save: audit it and reload the bank now. Returns what the reload did."""
    audit(action, result.entry_id, f"{os.path.basename(result.file)}{': ' + detail if detail else ''}")
    services = get_services()
    if services.bank is None:
        bank = services.get_bank()
        return {"swapped": True, "errors": [str(e) for e in bank.errors]}
    reload = services.bank.reload()
    return {"swapped": reload.swapped, "errors": [str(e) for e in reload.snapshot.errors]}
