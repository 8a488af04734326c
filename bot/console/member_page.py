"""One member's page: who they are, their unit and channels, consent, and what they did (questions, quizzes,
contests, broadcasts received).  Unit-bound staff reach only members of their unit (404 otherwise)."""

from __future__ import annotations

from flask import abort, current_app, render_template

from bot.console.blueprint import bp, can
from bot.console.members import (
    CHANNELS,
    STATUSES,
    mask_phone,
    member_status,
    unit_names,
)
from bot.core.units import unit_within
from bot.participation.catalog import get_catalog
from bot.web.auth import requires, staff_unit
from bot.web.context import get_store

DECISIONS = {"answer": "Đã trả lời", "suggest": "Gợi ý câu gần đúng", "fallback": "Chưa trả lời được"}
QUIZ_STATES = {"finished": "Hoàn thành", "active": "Đang thi", "expired": "Hết hạn", "closed": "Bài thi đã đóng"}
SOURCES = {"chat": "Tự báo qua trợ lý", "import": "Theo danh sách nhập"}
DELIVERY = {
    "sent": "Đã gửi", "skipped": "Bỏ qua theo quy định", "failed": "Lỗi", "uncertain": "Lỗi", "pending": "Đang chờ gửi",
    "sending": "Đang gửi", "paused": "Tạm dừng", "cancelled": "Đã hủy",
}
NOT_VISIBLE = "Không có hội viên này, hoặc hội viên không thuộc đơn vị của tài khoản đang đăng nhập."


@bp.get("/members/<int:member_id>")
@requires("read")
def member_detail(member_id: int):
    store = get_store()
    member = store.member_in_scope(member_id, staff_unit())
    if member is None:
        abort(404, NOT_VISIBLE)
    names = unit_names()
    catalog = get_catalog(current_app.config)
    quizzes = {q.id: q.title for q in catalog.quizzes.values()}
    contests = {c.id: c.name for c in catalog.contests.values()}
    scope = staff_unit()
    others = [o for o in store.member_other_channels(member)
              if unit_within(o["unit_code"], scope)]
    consent_version = member.get("consent_version") or ""
    return render_template(
        "admin/member.html", m=member, status=member_status(member), channels=CHANNELS, statuses=STATUSES,
        unit_name=names.get(member["unit_code"] or "", ""), others=others,
        phone=member["phone"] if can("report") else mask_phone(member["phone"]),
        consent_current=consent_version == current_app.config["CONSENT_VERSION"], consent_version=consent_version,
        questions=store.member_questions(member_id), decisions=DECISIONS,
        attempts=store.member_quiz_attempts(member_id), quiz_states=QUIZ_STATES, quizzes=quizzes,
        participations=store.member_participations(member_id), sources=SOURCES, contests=contests,
        broadcasts=store.member_broadcasts(member), delivery=DELIVERY,
    )
