"""Hộp thư: conversations members opened with GẶP CÁN BỘ; read the thread, assign, reply, close.

Unit-bound staff see the conversations of their unit and its sub-units; members who
have not registered (no unit) are at organisation level.  Every reply shows what the
platform allows now (bot.handoff.window) and leaves through the outbox.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for

from bot.console.blueprint import NAV_BADGES, bp
from bot.console.labels import unit_names
from bot.console.members import CHANNELS
from bot.core.units import unit_within
from bot.handoff import service
from bot.handoff.report import handoff_figures
from bot.web.auth import audit, requires, staff_unit
from bot.web.context import clock_now, get_services, get_store

REPLY_ROLES = {"admin", "editor", "broadcaster", "reporter"}  # viewers read only
STATES = {"open": "Đang mở", "closed": "Đã đóng"}
AUTHORS = {"member": "Hội viên", "bot": "Trợ lý tự động", "staff": "Cán bộ"}
OUTBOX_STATES = {
    "pending": "đang chờ gửi", "sending": "đang gửi", "sent": "đã gửi", "failed": "gửi không được",
    "skipped": "không gửi", "uncertain": "chưa rõ đã đến chưa", "cancelled": "đã hủy",
}


def can_reply() -> bool:
    staff = g.get("staff")
    return bool(staff) and staff["role"] in REPLY_ROLES


def waiting_count() -> int:
    """The badge in the navigation: conversations of this staff member's scope waiting for a reply."""
    return get_store().count_waiting_handoffs(staff_unit())


NAV_BADGES["console.inbox"] = waiting_count


def _visible(handoff_id: int) -> dict:
    """The conversation, if this staff member's unit covers it (404 otherwise: no hint that it exists)."""
    handoff = get_store().get_handoff(handoff_id)
    if handoff is None:
        abort(404)
    bound = staff_unit()
    unit = handoff["unit_code"] or ""
    if not unit_within(unit, bound):
        abort(404)
    return handoff


@bp.get("/inbox")
@requires("read")
def inbox():
    state = request.args.get("state", "open")
    if state not in STATES:
        state = "open"
    rows = get_store().list_handoffs(state=state, scope_unit=staff_unit())
    return render_template(
        "admin/inbox.html", rows=rows, state=state, states=STATES, channels=CHANNELS, units=unit_names(),
        handoff=None, figures=recent_figures(),
    )


def recent_figures(days: int = 30) -> dict:
    """The last 30 days in this staff member's scope (as `flask handoff report`)."""
    config = get_services().config
    now = clock_now()
    bound = staff_unit()
    rows = [
        r for r in get_store().handoff_rows_between(now - days * 86400, now + 1)
        if unit_within(r["unit_code"], bound)
    ]
    return handoff_figures(rows, office_hours=config["OFFICE_HOURS"], timezone=config["TIMEZONE"])["total"]


@bp.get("/inbox/<int:handoff_id>")
@requires("read")
def inbox_thread(handoff_id: int):
    handoff = _visible(handoff_id)
    store = get_store()
    services = get_services()
    window = service.window_now(store, handoff, services.config, clock_now())
    return render_template(
        "admin/inbox.html", rows=None, state=handoff["state"], states=STATES, channels=CHANNELS, units=unit_names(),
        handoff=handoff, messages=store.handoff_messages(handoff_id), window=window, authors=AUTHORS,
        outbox_states=OUTBOX_STATES, can_reply=can_reply(),
    )


@bp.post("/inbox/<int:handoff_id>/reply")
@requires("read")
def inbox_reply(handoff_id: int):
    if not can_reply():
        abort(403)
    handoff = _visible(handoff_id)
    services = get_services()
    staff = g.staff
    try:
        result = service.reply(
            get_store(), services.channels, services.config, handoff_id, request.form.get("text", ""),
            now=clock_now(), staff_id=staff["id"], staff_name=staff["username"],
            confirm_paid=request.form.get("confirm_paid") == "1",
        )
    except service.HandoffError as err:
        flash(str(err), "error")
        return redirect(url_for("console.inbox_thread", handoff_id=handoff_id))
    service.deliver_now(get_store(), services, handoff["channel"])
    audit("inbox.reply", str(handoff_id), result["window"].code)
    flash("Đã gửi tin trả lời vào hàng gửi." + (" Tin này có tính phí." if result["window"].billed else ""), "success")
    return redirect(url_for("console.inbox_thread", handoff_id=handoff_id))


@bp.post("/inbox/<int:handoff_id>/assign")
@requires("read")
def inbox_assign(handoff_id: int):
    if not can_reply():
        abort(403)
    _visible(handoff_id)
    staff_id = None if request.form.get("release") == "1" else g.staff["id"]
    service.assign(get_store(), handoff_id, staff_id)
    audit("inbox.assign", str(handoff_id), g.staff["username"] if staff_id else "-")
    flash("Đã nhận xử lý cuộc trò chuyện." if staff_id else "Đã bỏ nhận cuộc trò chuyện.", "success")
    return redirect(url_for("console.inbox_thread", handoff_id=handoff_id))


@bp.post("/inbox/<int:handoff_id>/close")
@requires("read")
def inbox_close(handoff_id: int):
    if not can_reply():
        abort(403)
    _visible(handoff_id)
    services = get_services()
    closed = service.close(
        get_store(), handoff_id, now=clock_now(), by=f"staff:{g.staff['username']}",
        channels=services.channels, config=services.config,
    )
    service.deliver_now(get_store(), services, _visible(handoff_id)["channel"])
    audit("inbox.close", str(handoff_id))
    flash("Đã kết thúc cuộc trò chuyện; trợ lý tự động trả lời hội viên trở lại." if closed else "Cuộc trò chuyện đã đóng từ trước.", "success")
    return redirect(url_for("console.inbox"))
