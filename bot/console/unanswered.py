"""Unanswered questions, grouped by similarity: turn one into an entry, or set it aside; run the evaluation."""

from __future__ import annotations

import re
import time
from collections import Counter

from flask import current_app, flash, redirect, render_template, request, url_for

from bot.answers import reply as answers
from bot.answers.evaluation import (
    EVAL_FILE,
    SPLITS,
    EvalFileError,
    evaluate,
    load_eval_questions,
)
from bot.answers.matcher import group_similar
from bot.console.blueprint import bp
from bot.core.text import has_diacritics
from bot.web.auth import audit, requires, staff_unit
from bot.web.context import clock_now, get_services, get_store

REVIEW_STATES = {"new": "Đang chờ", "done": "Đã trả lời", "ignored": "Đã bỏ qua"}  # pending / answered / ignored
DECISIONS = {"suggest": "Gợi ý câu gần đúng", "fallback": "Không trả lời được"}
LIMIT = 500


def question_groups(status: str, threshold: float) -> list[dict]:
    """The latest unanswered questions in ``status``, grouped (largest group first)."""
    rows = get_store().unanswered_questions(status=status, limit=LIMIT, scope_unit=staff_unit())
    groups = group_similar([r["text"] for r in rows], threshold=threshold)
    snapshot = get_services().get_bank().snapshot()
    out = []
    for group in groups:
        members = [rows[i] for i in group]
        examples = list(dict.fromkeys(" ".join(r["text"].split()) for r in members))
        examples.sort(key=lambda text: not has_diacritics(text))  # the written-out phrasing heads the group
        nearest = []
        for candidate in snapshot.matcher.search(examples[0], 3):
            entry = snapshot.entry(candidate.entry_id)
            if entry is not None:
                nearest.append({"id": entry.id, "question": entry.question, "score": candidate.score})
        out.append({
            "ids": [r["id"] for r in members],
            "count": len(members),
            "examples": examples,
            "decisions": Counter(r["decision"] for r in members),
            "last": max(r["asked_at"] for r in members),
            "channels": sorted({r["channel"] for r in members}),
            "nearest": nearest,
            "linked": sorted({r["review_entry_id"] for r in members if r.get("review_entry_id")}),
        })
    return out


def _page(status: str, threshold: float, evaluation=None, eval_error: str | None = None, split: str = "dev", code: int = 200):
    groups = question_groups(status, threshold)
    return render_template(
        "admin/unanswered.html", groups=groups, status=status, threshold=threshold, states=REVIEW_STATES,
        decisions=DECISIONS, evaluation=evaluation, eval_error=eval_error, split=split, splits=SPLITS,
        total=sum(g["count"] for g in groups), limit=LIMIT,
        thresholds=(current_app.config["ANSWER_THRESHOLD"], current_app.config["SUGGEST_THRESHOLD"]),
    ), code


def _threshold(value: str | None) -> float:
    try:
        return min(0.9, max(0.1, float(value or 0.4)))
    except ValueError:
        return 0.4


@bp.get("/unanswered")
@requires("read")
def unanswered():
    status = request.args.get("status", "new")
    if status not in REVIEW_STATES:
        status = "new"
    return _page(status, _threshold(request.args.get("threshold")))


def _ids() -> list[int]:
    """The question ids the form names, keeping only those a unit-bound account may handle (its unit's members')."""
    ids = [int(x) for x in re.findall(r"\d+", request.form.get("ids", ""))][:LIMIT]
    return get_store().questions_in_scope(ids, staff_unit())


@bp.post("/unanswered/review")
@requires("content")
def unanswered_review():
    """Set a group aside (ignored) or bring it back (new)."""
    state = request.form.get("state", "ignored")
    if state not in ("ignored", "new"):
        state = "ignored"
    ids = _ids()
    changed = get_store().set_questions_review(ids, state)
    audit("unanswered.ignore" if state == "ignored" else "unanswered.restore", ",".join(map(str, ids[:20])), f"{changed} câu hỏi")
    flash(f"Đã bỏ qua {changed} câu hỏi." if state == "ignored" else f"Đã đưa {changed} câu hỏi về danh sách chưa xử lý.", "success")
    return redirect(url_for("console.unanswered", status=request.form.get("back", "new")))


@bp.post("/unanswered/eval")
@requires("content")
def unanswered_eval():
    """Run the evaluation set through the bank as it is now, and show the figures."""
    split = request.form.get("split", "dev")
    if split not in SPLITS:
        split = "dev"
    config = current_app.config
    try:
        questions = load_eval_questions(EVAL_FILE, split)
    except EvalFileError as exc:
        return _page("new", 0.4, eval_error=str(exc), split=split)
    started = time.perf_counter()
    report = evaluate(
        get_services().get_bank().snapshot(), questions, answer_threshold=config["ANSWER_THRESHOLD"],
        suggest_threshold=config["SUGGEST_THRESHOLD"], split=split, org=config,
    )
    audit("content.eval", split, f"accuracy@1 {report.accuracy_at_1:.3f}")
    evaluation = {"report": report, "seconds": time.perf_counter() - started, "questions": len(questions)}
    return _page("new", _threshold(request.form.get("threshold")), evaluation=evaluation, split=split)


def recheck_unanswered() -> int:
    """Waiting questions the bank now answers (a new or edited entry) are marked answered by that entry."""
    config = current_app.config
    store = get_store()
    snapshot = get_services().get_bank().snapshot()
    by_text: dict[str, list[int]] = {}
    for row in store.pending_question_texts():
        by_text.setdefault(" ".join(row["text"].split()), []).append(row["id"])
    changed = 0
    for text, ids in by_text.items():
        result = answers.answer(
            text, snapshot, org=config, answer_threshold=config["ANSWER_THRESHOLD"], suggest_threshold=config["SUGGEST_THRESHOLD"],
        )
        if result.decision == "answer" and result.entry_id:
            changed += store.link_questions(ids, result.entry_id, at=clock_now())
    return changed


@bp.post("/unanswered/link")
@requires("content")
def unanswered_link():
    """Answer a group with an existing entry: its questions are marked answered by it."""
    entry_id = request.form.get("entry_id", "").strip()
    entry = get_services().get_bank().get(entry_id) if entry_id else None
    if entry is None:
        flash("Không có mục này trong kho nội dung.", "error")
        return redirect(url_for("console.unanswered"))
    ids = _ids()
    changed = get_store().link_questions(ids, entry.id, at=clock_now())
    audit("unanswered.link", entry.id, f"{changed} câu hỏi")
    flash(f"Đã đánh dấu {changed} câu hỏi là đã trả lời bằng mục “{entry.question}”.", "success")
    return redirect(url_for("console.unanswered", status=request.form.get("back", "new")))


@bp.post("/unanswered/recheck")
@requires("content")
def unanswered_recheck():
    changed = recheck_unanswered()
    audit("unanswered.recheck", "", f"{changed} câu hỏi")
    flash(f"Kho nội dung hiện trả lời được {changed} câu hỏi đang chờ; đã chuyển sang “Đã trả lời”." if changed
          else "Chưa có câu hỏi đang chờ nào được kho nội dung hiện tại trả lời.", "success")
    return redirect(url_for("console.unanswered"))
