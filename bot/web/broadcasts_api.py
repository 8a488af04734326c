"""JSON endpoints for broadcasts (the staff console), behind staff login."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from bot.core.formats import schedule_in_words, time_text
from bot.core.units import unit_within
from bot.web.auth import audit, requires, staff_unit
from bot.web.context import clock_now, get_store
from scheduler import broadcasts
from scheduler.schedule import (
    ScheduleError,
    normalise_cron,
    parse_local_datetime,
    parse_until,
)

bp = Blueprint("broadcast_api", __name__, url_prefix="/admin/api/broadcasts")


def _error(message: str, field: str | None = None, status: int = 400):
    return jsonify({"error": message, "field": field}), status


def _summary(b: dict[str, Any]) -> dict[str, Any]:
    tz = current_app.config["TIMEZONE"]
    return {
        "id": b["id"], "state": b["state"], "schedule": b["schedule"], "cron": b["cron"],
        "schedule_text": schedule_in_words(b["cron"]) if b["cron"] else None, "audience": b["audience"],
        "text": b["text"], "image_url": b["image_url"], "link_title": b["link_title"], "link_url": b["link_url"],
        "run_at": b["run_at"], "until": b["until"], "created_by": b["created_by"],
        "next_run_at": b["next_fire_at"], "next_run": time_text(b["next_fire_at"], tz) if b["next_fire_at"] else None,
    }


class FieldError(ValueError):
    """A form field staff must fix."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _field(name: str, parse, *args, **kwargs):
    try:
        return parse(*args, **kwargs)
    except ScheduleError as exc:
        raise FieldError(name, str(exc)) from None


def parse_form(data: dict[str, Any]) -> dict[str, Any]:
    """Form fields -> create_broadcast arguments; FieldError names the bad field."""
    tz = current_app.config["TIMEZONE"]
    schedule = (data.get("schedule") or "now").strip()
    args: dict[str, Any] = {
        "text": str(data.get("text") or ""),
        "schedule": schedule,
        "audience": str(data.get("audience") or "all"),
        "image_url": (data.get("image_url") or "").strip() or None,
    }
    link = data.get("link") or {}
    if isinstance(link, dict) and (link.get("url") or "").strip():
        args["link"] = ((link.get("title") or "Xem thêm").strip(), link["url"].strip())
    if schedule == "once":
        if not data.get("at"):
            raise FieldError("at", "Cần thời điểm gửi.")
        args["run_at"] = _field("at", parse_local_datetime, str(data["at"]), tz, now=clock_now())
    elif schedule == "cron":
        args["cron"] = _field("cron", normalise_cron, str(data.get("cron") or ""))
    if data.get("until"):
        args["until"] = _field("until", parse_until, str(data["until"]), tz, now=clock_now())
    return args


def _outside_staff_unit(audience: str):
    """Staff bound to a unit may reach only that unit and the units below it (403 otherwise)."""
    unit = staff_unit()
    kind, _, value = audience.partition(":")
    if unit and not (kind == "unit" and unit_within(value, unit)):
        return _error(f"Tài khoản của đơn vị {unit} chỉ gửi được cho unit:{unit} hoặc đơn vị trực thuộc.", "audience", 403)
    return None


@bp.get("")
@requires("read")
def list_broadcasts():
    unit = staff_unit()
    return jsonify([_summary(b) for b in get_store().list_broadcasts() if not unit or _outside_staff_unit(b["audience"]) is None])


@bp.post("/dry-run")
@requires("broadcast")
def dry_run():
    data = request.get_json(silent=True) or {}
    audience = str(data.get("audience") or "all")
    refused = _outside_staff_unit(audience)
    if refused:
        return refused
    try:
        return jsonify(broadcasts.dry_run(get_store(), current_app.config, audience, clock_now()))
    except broadcasts.BroadcastError as exc:
        return _error(str(exc), "audience")


@bp.post("")
@requires("broadcast")
def create():
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return _error("Cần nội dung JSON.")
    try:
        args = parse_form(data)
        refused = _outside_staff_unit(args["audience"])
        if refused:
            return refused
        broadcast_id = broadcasts.create_broadcast(
            get_store(), current_app.config, now=clock_now(), created_by=_username(), **args
        )
    except FieldError as exc:
        return _error(str(exc), exc.field)
    except broadcasts.BroadcastError as exc:
        return _error(str(exc), field_of(str(exc)))
    audit("broadcast.create", broadcast_id, args["text"][:200])
    return jsonify(_summary(get_store().get_broadcast(broadcast_id))), 201


def _username() -> str:
    from flask import g

    return g.staff["username"] if g.get("staff") else ""


def field_of(message: str) -> str | None:
    lowered = message.lower()
    for needle, field in (("không có đơn vị", "audience"), ("nội dung", "text"), ("đối tượng", "audience"), ("nhóm", "audience"), ("đường dẫn", "image_url"),
                          ("thời điểm", "at"), ("lịch", "cron"), ("cron", "cron"), ("kết thúc", "until")):
        if needle in lowered:
            return field
    return None


@bp.get("/<int:broadcast_id>")
@requires("read")
def detail(broadcast_id: int):
    store = get_store()
    broadcast = store.get_broadcast(broadcast_id)
    if broadcast is None:
        return _error("Không có tin này.", status=404)
    refused = _outside_staff_unit(broadcast["audience"])
    if refused:
        return refused
    return jsonify({**_summary(broadcast), "report": broadcasts.report(store, broadcast_id)})


@bp.get("/<int:broadcast_id>/report")
@requires("read")
def report(broadcast_id: int):
    broadcast = get_store().get_broadcast(broadcast_id)
    refused = _outside_staff_unit(broadcast["audience"]) if broadcast else None
    if refused:
        return refused
    try:
        return jsonify(broadcasts.report(get_store(), broadcast_id))
    except broadcasts.BroadcastError as exc:
        return _error(str(exc), status=404)


def _control(action, name: str, broadcast_id: int):
    broadcast = get_store().get_broadcast(broadcast_id)
    refused = _outside_staff_unit(broadcast["audience"]) if broadcast else None
    if refused:
        return refused
    try:
        result = action(get_store(), broadcast_id, clock_now())
    except broadcasts.BroadcastError as exc:
        status = 404 if "Không có" in str(exc) else 409
        return _error(str(exc), status=status)
    audit(f"broadcast.{name}", broadcast_id)
    return jsonify(_summary(result))


@bp.post("/<int:broadcast_id>/pause")
@requires("broadcast")
def pause(broadcast_id: int):
    return _control(broadcasts.pause, "pause", broadcast_id)


@bp.post("/<int:broadcast_id>/resume")
@requires("broadcast")
def resume(broadcast_id: int):
    return _control(broadcasts.resume, "resume", broadcast_id)


@bp.post("/<int:broadcast_id>/cancel")
@requires("broadcast")
def cancel(broadcast_id: int):
    return _control(broadcasts.cancel, "cancel", broadcast_id)
