"""Content bank pages: search, add, edit, approve, with a Messenger/Zalo preview.

Edits go through :mod:`bot.answers.edit` (the YAML files are the bank), or, with
CONTENT_STORE=database, through :mod:`bot.web.content_db` (the same checks, saved in the
database so every host serves the edit).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from bot.answers import edit as content_store
from bot.answers.bank import (
    Entry,
    Source,
    resolve_content_dir,
)
from bot.answers.reply import entry_reply
from bot.answers.yaml_reader import as_date
from bot.console.blueprint import bp
from bot.console.content_form import (
    MAX_SOURCES,
    form_values,
    record_values,
    values_to_data,
)
from bot.console.preview import preview_reply
from bot.core.text import fold, has_diacritics
from bot.web.auth import audit, requires
from bot.web.content_db import DatabaseContent, FileContent
from bot.web.context import clock_now, get_services, get_store

PER_PAGE = 50
STATUS_LABELS = {"draft": "Bản nháp", "approved": "Đã duyệt"}
SENSITIVE_ROLE = "admin"  # only this role approves sensitive (sovereignty) entries
SENSITIVE_REFUSED = (
    "Mục này là nội dung nhạy cảm (chủ quyền: Hoàng Sa, Trường Sa, Gạc Ma, Biển Đông): chỉ quản trị viên được duyệt."
    " Chị lưu ở trạng thái Bản nháp; quản trị viên sẽ xem và duyệt."
)

_cache_lock = threading.Lock()
_cache: dict[str, tuple[Any, Any]] = {}


def content_dir() -> str:
    return os.path.abspath(resolve_content_dir(current_app.config["CONTENT_DIR"]))


def content_repo() -> FileContent | DatabaseContent:
    """The bank the editor reads and saves: the YAML files, or the database (CONTENT_STORE=database)."""
    source = get_services().content_source
    if source is not None:
        return DatabaseContent(content_dir(), source, get_store())
    return FileContent(content_dir())


def _editor() -> str:
    staff = g.get("staff")
    return staff["username"] if staff else "-"


def bank_state() -> dict[str, Any]:
    """Topics, issues and every entry as written (errors included), cached until a file (or the revision) changes."""
    repo = content_repo()
    key = f"{'db' if repo.database else 'files'}:{repo.content_dir}"
    sig = repo.signature()
    with _cache_lock:
        cached = _cache.get(key)
        if cached and cached[0] == sig:
            return cached[1]
    state = repo.state()
    with _cache_lock:
        _cache[key] = (sig, state)
    return state


def _today() -> dt.date:
    return get_services().clock.today(current_app.config["TIMEZONE"])


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
            Source(s.get("name", ""), s.get("number"), str(s["date"]) if s.get("date") else None, s.get("url"), s.get("title"))
            for s in data.get("sources") or [] if s.get("name")
        ),
        related=tuple(data.get("related") or ()), status=data.get("status") or "draft",
        reviewed=data.get("reviewed") if isinstance(data.get("reviewed"), dt.date) else _today(),
    )
    reply = entry_reply(entry, snapshot, current_app.config)
    return preview_reply(reply, services, current_app.config)


def is_admin() -> bool:
    staff = g.get("staff")
    return bool(staff) and staff["role"] == SENSITIVE_ROLE


def _guard_sensitive(old: dict[str, Any] | None, data: dict[str, Any]) -> str | None:
    """Only an admin removes the sensitive mark or approves a sensitive entry: the mark stays
    when someone else unticks it; returns the refusal message when they try to approve."""
    if old and old.get("sensitive") is True and not is_admin():
        data["sensitive"] = True
    if data.get("sensitive") is True and data.get("status") == "approved" and not is_admin():
        return SENSITIVE_REFUSED
    return None


def due_for_review(records: list[content_store.EntryRecord], today: dt.date) -> list[dict[str, Any]]:
    """Entries whose review_by date is today or earlier, soonest first (drafts included)."""
    due = []
    for record in records:
        day = as_date(record.data.get("review_by"))
        if day is not None and day <= today:
            due.append({"record": record, "review_by": day, "overdue_days": (today - day).days})
    return sorted(due, key=lambda d: (d["review_by"], d["record"].id))


def _keep_source_titles(old: dict[str, Any], data: dict[str, Any]) -> None:
    """A source typed without its full reference keeps the one written before (same name or link)."""
    titles = {}
    for s in old.get("sources") or []:
        if isinstance(s, dict) and s.get("title"):
            for key in ("name", "url"):
                if s.get(key):
                    titles.setdefault((key, str(s[key])), s["title"])
    for s in data.get("sources") or []:
        if not s.get("title"):
            title = titles.get(("name", s.get("name", ""))) or titles.get(("url", s.get("url", "")))
            if title:
                s["title"] = title


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
    due_only = request.args.get("due") == "1"
    due = due_for_review(state["records"], _today())
    due_ids = {d["record"].id for d in due}
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
        if due_only and record.id not in due_ids:
            continue
        if needle:
            haystack = " ".join(
                str(x) for x in [record.id, d.get("question"), d.get("answer"), *(d.get("variants") or []), *(d.get("keywords") or [])]
            )
            if needle not in fold(haystack):
                continue
        rows.append({"record": record, "issues": issues_by_id.get(record.id, []), "due": record.id in due_ids})
    page = max(1, request.args.get("page", 1, type=int) or 1)
    pages = max(1, -(-len(rows) // PER_PAGE))
    errors = [i for i in state["issues"] if i.is_error]
    return render_template(
        "admin/content_list.html",
        rows=rows[(page - 1) * PER_PAGE : page * PER_PAGE], total=len(rows), page=page, pages=pages,
        q=q, topic=topic, status=status, with_issues=with_issues, due_only=due_only, due=due,
        topics=state["topics"], status_labels=STATUS_LABELS,
        errors=errors, warnings=len(state["issues"]) - len(errors), all_count=len(state["records"]),
        approved=sum(1 for r in state["records"] if r.data.get("status") == "approved"),
        folder=content_dir(), relative=content_store.relative, database=get_services().content_source is not None,
    )


def _render_form(values, errors, *, record=None, current=None, status=200, preview=None):
    state = bank_state()
    files = content_repo().file_names()
    issues = [i for i in state["issues"] if record is not None and i.entry_id == record.id]
    if preview is None:
        data, _ = values_to_data(values, _today())
        preview = _preview_for(data)
    return render_template(
        "admin/content_edit.html", values=values, errors=errors, record=record, current=current,
        topic_options=[(t.id, t.title) for t in state["topics"].values()], file_options=[(f, f) for f in files],
        status_labels=STATUS_LABELS, issues=issues, preview=preview,
        max_sources=MAX_SOURCES, is_admin=is_admin(),
    ), status


@bp.get("/content/new")
@requires("content")
def content_new():
    values = {k: "" for k in ("id", "topic", "question", "variants", "keywords", "answer", "related", "file", "version", "question_ids")}
    values.update(status="draft", reviewed=_today().isoformat(), sources=[], reviewed_by="", review_by="", sensitive=False)
    ids = [int(x) for x in re.findall(r"\d+", request.args.get("questions", ""))][:50]
    if ids:
        texts = list(dict.fromkeys(" ".join(r["text"].split()) for r in get_store().questions_by_id(ids)))
        texts.sort(key=lambda text: not has_diacritics(text))  # the canonical question is written out in full
        if texts:
            values["question"] = texts[0]
            values["variants"] = "\n".join(texts[1:])
            values["question_ids"] = ",".join(str(i) for i in ids)
    reply_id = request.args.get("reply", type=int)
    draft = get_store().handoff_reply_draft(reply_id) if reply_id else None
    if draft:  # a staff reply in the Hộp thư, saved as a draft entry (issue 15)
        texts = list(dict.fromkeys(" ".join(t.split()) for t in draft["questions"]))
        texts.sort(key=lambda text: not has_diacritics(text))
        if texts and not values["question"]:
            values["question"] = texts[0]
            values["variants"] = "\n".join(texts[1:])
        values["answer"] = draft["answer"]
    topic = request.args.get("topic", "")
    if topic in bank_state()["topics"]:
        values["topic"] = topic
    return _render_form(values, {})


@bp.post("/content/new")
@requires("content")
def content_create():
    values = form_values(request.form)
    data, errors = values_to_data(values, _today())
    refused = _guard_sensitive(None, data)
    if refused:
        errors.setdefault("status", []).append(refused)
    if errors:
        return _render_form(values, errors, status=400)
    try:
        result = content_repo().save(data, file=values["file"] or None, by=_editor(), at=clock_now())
    except content_store.ContentInvalid as exc:
        return _render_form(values, exc.fields, status=400)
    except content_store.ContentEditError as exc:
        return _render_form(values, {"": [str(exc)]}, status=400)
    ids = [int(x) for x in re.findall(r"\d+", values.get("question_ids") or "")]
    done = get_store().set_questions_review(ids, "done") if ids else 0
    reload = publish(result, "content.create", f"trạng thái {data['status']}" + (f"; từ {done} câu hỏi chưa trả lời" if done else "")
                     + ("; mục nhạy cảm" if data.get("sensitive") else ""))
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
    repo = content_repo()
    record = repo.find(entry_id)
    values = form_values(request.form)
    values["id"] = entry_id
    data, errors = values_to_data(values, _today())
    if record is not None:
        _keep_source_titles(record.data, data)
    refused = _guard_sensitive(record.data if record else None, data)
    if refused:
        errors.setdefault("status", []).append(refused)
        values["sensitive"] = data.get("sensitive") is True
    if errors:
        return _render_form(values, errors, record=record, status=400)
    try:
        result = repo.save(data, original_id=entry_id, version=values["version"] or None, by=_editor(), at=clock_now())
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
    detail = "sửa " + ", ".join(changed) if changed else "không đổi"
    if data.get("sensitive") and data.get("status") == "approved":
        # an admin saving a sensitive entry as approved approves this text: on the record as such
        reload = publish(result, "content.approve", f"mục nhạy cảm; {detail}")
    else:
        reload = publish(result, "content.edit", detail)
    _flash_saved(result, reload)
    return redirect(url_for("console.content_edit", entry_id=entry_id))


@bp.post("/content/<entry_id>/approve")
@requires("content")
def content_approve(entry_id: str):
    repo = content_repo()
    current = repo.find(entry_id)
    sensitive = current is not None and current.data.get("sensitive") is True
    if sensitive and not is_admin():
        flash(SENSITIVE_REFUSED.split(" Chị lưu")[0], "error")
        return redirect(url_for("console.content_edit", entry_id=entry_id))
    try:
        result = repo.approve(entry_id, version=request.form.get("version") or None, today=_today(), by=_editor(), at=clock_now())
    except content_store.ContentConflict as exc:
        flash(str(exc), "error")
        return redirect(url_for("console.content_edit", entry_id=entry_id))
    except content_store.ContentInvalid as exc:
        for messages in exc.fields.values():
            for message in messages:
                flash(f"Chưa duyệt được: {message}", "error")
        return redirect(url_for("console.content_edit", entry_id=entry_id))
    reload = publish(result, "content.approve", "mục nhạy cảm, duyệt bởi quản trị viên" if sensitive else "")
    _flash_saved(result, reload, approved=True)
    return redirect(url_for("console.content_edit", entry_id=entry_id))


@bp.post("/content/preview")
@requires("content")
def content_preview():
    data, _ = values_to_data(form_values(request.form), _today())
    return render_template("admin/_preview_fragment.html", preview=_preview_for(data))


def publish(result: content_store.SaveResult, action: str, detail: str = "") -> dict[str, Any]:
    """After a save: audit it and reload the bank now. Returns what the reload did."""
    audit(action, result.entry_id, f"{os.path.basename(result.file)}{': ' + detail if detail else ''}")
    services = get_services()
    if services.bank is None:
        bank = services.get_bank()
        outcome = {"swapped": True, "errors": [str(e) for e in bank.errors]}
    else:
        reload = services.bank.reload()
        outcome = {"swapped": reload.swapped, "errors": [str(e) for e in reload.snapshot.errors]}
    if outcome["swapped"]:
        from bot.console.unanswered import recheck_unanswered

        recheck_unanswered()  # waiting questions the bank now answers are marked answered (issue 15)
    return outcome
