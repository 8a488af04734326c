"""Broadcast pages: compose with a preview and the live audience count, schedule, watch, control, report.

The form is handled here (it works without JavaScript); the live parts use the
JSON API of :mod:`bot.web.broadcasts_api` (dry run, detail).
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from bot.channels.base import TEXT_LIMIT
from bot.console import broadcast_posts, charts
from bot.console.blueprint import bp
from bot.console.preview import preview_reply
from bot.core.formats import schedule_in_words, time_text
from bot.core.models import Reply
from bot.core.units import unit_within
from bot.storage.broadcasts import BROADCAST_CHANNELS
from bot.web.auth import audit, requires, staff_unit
from bot.web.broadcasts_api import FieldError, field_of, parse_form
from bot.web.context import clock_now, get_services, get_store
from scheduler import broadcasts

STATES = {
    "draft": "Nháp", "scheduled": "Đã lên lịch", "sending": "Đang gửi", "paused": "Tạm dừng",
    "done": "Đã xong", "cancelled": "Đã hủy",
}
RUN_STATES = {
    "pending": "Chờ gửi", "sending": "Đang gửi", "paused": "Tạm dừng", "done": "Đã xong",
    "cancelled": "Đã hủy", "missed": "Bị lỡ",
}
AUDIENCE_KINDS = {
    "all": "Tất cả hội viên", "channel": "Theo kênh", "unit": "Theo đơn vị (gồm đơn vị trực thuộc)",
    "tag": "Theo nhãn", "contest": "Người đã tham gia cuộc thi", "group": "Một nhóm chat",
}
CHANNEL_LABELS = {"messenger": "Messenger", "zalo": "Zalo OA", "zalo_bot": "Zalo Bot"}
PRESETS = {
    "daily": "Hằng ngày",
    "weekly": "Hằng tuần",
    "monthly": "Hằng tháng",
    "custom": "Biểu thức cron tự nhập",
}
WEEKDAY_OPTIONS = [("1", "Thứ Hai"), ("2", "Thứ Ba"), ("3", "Thứ Tư"), ("4", "Thứ Năm"), ("5", "Thứ Sáu"), ("6", "Thứ Bảy"), ("0", "Chủ nhật")]
FIELDS = ("text", "image_url", "link_title", "link_url", "audience_kind", "audience_value", "schedule", "at",
          "preset", "time", "weekday", "monthday", "cron", "until", "post_title", "override_quiet")


def audience_label(audience: str) -> str:
    """ "unit:CT.PHULOI" -> "Đơn vị CT.PHULOI", for staff."""
    kind, _, value = audience.partition(":")
    if kind == "all":
        return "Tất cả hội viên"
    label = {"channel": "Kênh", "unit": "Đơn vị", "tag": "Nhãn", "contest": "Người tham gia cuộc thi", "group": "Nhóm chat"}.get(kind, kind)
    return f"{label} {CHANNEL_LABELS.get(value, value)}"


def _example_unit() -> str:
    """A real code of content/units.yaml for the help text (a commune, else the first unit)."""
    from bot.participation.catalog import get_catalog

    codes = list(get_catalog(current_app.config).units.units)
    return next((c for c in codes if c.count(".") == 1), codes[0] if codes else "")


def within_unit(audience: str, unit: str) -> bool:
    """A unit-bound staff member may send only to their unit or one of its sub-units."""
    kind, _, value = audience.partition(":")
    return kind == "unit" and unit_within(value, unit)


def _defaults() -> dict[str, str]:
    values = {k: "" for k in FIELDS}
    values.update(audience_kind="all", schedule="now", preset="weekly", time="08:00", weekday="1", monthday="1")
    values["places"] = [broadcast_posts.CHAT]  # type: ignore[assignment]
    unit = staff_unit()
    if unit:
        values.update(audience_kind="unit", audience_value=unit)
    return values


def _audience(values: dict[str, str]) -> str:
    kind = values["audience_kind"] if values["audience_kind"] in AUDIENCE_KINDS else "all"
    return "all" if kind == "all" else f"{kind}:{values['audience_value'].strip()}"


def _cron(values: dict[str, str]) -> str:
    """The preset and its time as a crontab, or the cron staff typed."""
    preset = values["preset"]
    if preset == "custom":
        return values["cron"].strip()
    hour, _, minute = (values["time"] or "08:00").partition(":")
    if not (hour.isdigit() and minute.isdigit()):
        raise FieldError("time", "Giờ gửi phải dạng HH:MM, ví dụ 08:00.")
    h, m = int(hour), int(minute)
    if preset == "daily":
        return f"{m} {h} * * *"
    if preset == "monthly":
        day = values["monthday"] or "1"
        if not day.isdigit() or not 1 <= int(day) <= 28:
            raise FieldError("monthday", "Ngày trong tháng từ 1 đến 28 (để tháng nào cũng có).")
        return f"{m} {h} {int(day)} * *"
    return f"{m} {h} * * {values['weekday'] if values['weekday'] in '0123456' else '1'}"


def _api_data(values: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "text": values["text"], "schedule": values["schedule"], "audience": _audience(values),
        "image_url": values["image_url"], "until": values["until"],
    }
    if values["link_url"].strip():
        data["link"] = {"title": values["link_title"], "url": values["link_url"]}
    if values["schedule"] == "once":
        data["at"] = values["at"]
    elif values["schedule"] == "cron":
        data["cron"] = _cron(values)
    return data


def _reply(values: dict[str, str]) -> Reply:
    link = (values["link_title"].strip() or "Xem thêm", values["link_url"].strip()) if values["link_url"].strip() else None
    return Reply(values["text"].strip(), image_url=values["image_url"].strip() or None, link=link)


def _values() -> dict[str, Any]:
    values: dict[str, Any] = {k: request.form.get(k, "") for k in FIELDS}
    values["places"] = broadcast_posts.places_of(request.form)
    return values


def _preview(values: dict[str, Any]) -> dict[str, Any]:
    if not values["text"].strip():
        return {"platforms": [], "warnings": [], "empty": "Nhập nội dung để xem trước."}
    if broadcast_posts.CHAT in values["places"]:
        preview = preview_reply(_reply(values), get_services(), current_app.config)
    else:
        preview = {"platforms": [], "warnings": []}
    preview["posts"] = broadcast_posts.posts_preview(values)
    return preview


def _form(values: dict[str, str], errors: dict[str, list[str]], status: int = 200, confirm: dict[str, Any] | None = None):
    return render_template(
        "admin/broadcast_new.html", values=values, errors=errors, kinds=AUDIENCE_KINDS, presets=PRESETS,
        weekdays=WEEKDAY_OPTIONS, channels=[(c, CHANNEL_LABELS[c]) for c in BROADCAST_CHANNELS],
        preview=_preview(values), reasons=broadcasts.REASONS, places=broadcast_posts.PLACE_LABELS,
        unit=staff_unit(), example_unit=_example_unit(), confirm=confirm,
    ), status


class _CheckOnly(Exception):
    """Rolls back a broadcast created only to validate the form."""


def _confirmation(store: Any, args: dict[str, Any], audience: str) -> dict[str, Any]:
    """Validate a "send now" exactly as creating it would (then roll back), and count its recipients."""
    try:
        with store.transaction():
            broadcasts.create_broadcast(store, current_app.config, now=clock_now(), created_by=_username(), **args)
            raise _CheckOnly
    except _CheckOnly:
        pass
    count = broadcasts.dry_run(store, current_app.config, audience, clock_now())
    by_channel = [
        (CHANNEL_LABELS.get(ch, ch), entry["would_send"], sum(entry["would_skip"].values()))
        for ch, entry in count["by_channel"].items()
    ]
    return {
        "chat": True, "total": count["total"], "would_send": sum(n for _, n, _ in by_channel),
        "skipped": sum(k for _, _, k in by_channel), "by_channel": by_channel,
    }


@bp.get("/broadcasts", endpoint="broadcasts")
@requires("read")
def broadcasts_list():
    store = get_store()
    unit = staff_unit()
    items = [b for b in store.list_broadcasts() if not unit or within_unit(b["audience"], unit)][:200]
    progress = store.broadcast_progress([b["id"] for b in items])
    tz = current_app.config["TIMEZONE"]
    return render_template(
        "admin/broadcasts.html", items=items, progress=progress, states=STATES, audience_label=audience_label,
        next_run=lambda b: time_text(b["next_fire_at"], tz) if b["next_fire_at"] else "—",
    )


@bp.get("/broadcasts/new")
@requires("broadcast")
def broadcast_new():
    return _form(_defaults(), {})


def _form_field(field: str, values: dict[str, str]) -> str:
    """The form's input for a field named by the API ("audience", "cron") or by the message."""
    return {"audience": "audience_value", "at": "at", "cron": "cron" if values["preset"] == "custom" else "time"}.get(field, field)


def _all_errors(values: dict[str, str]) -> dict[str, list[str]]:
    """One error per field, every field checked at once (creating the broadcast stops at the first)."""
    errors: dict[str, list[str]] = {}
    text = values["text"].strip()
    if not text:
        errors["text"] = ["Nội dung tin nhắn đang trống."]
    elif len(text) > TEXT_LIMIT:
        errors["text"] = [f"Nội dung dài {len(text)} ký tự, tối đa {TEXT_LIMIT}."]
    for field in ("image_url", "link_url"):
        url = values[field].strip()
        if url and not url.startswith(("https://", "http://")):
            errors[field] = [f"Đường dẫn phải bắt đầu bằng https://: {url}"]
    try:
        data = _api_data(values)
    except FieldError as exc:
        errors.setdefault(_form_field(exc.field, values), [str(exc)])
        return errors
    unit = staff_unit()
    if unit and not within_unit(data["audience"], unit):
        errors["audience_value"] = [f"Tài khoản của đơn vị {unit} chỉ gửi được cho đơn vị {unit} hoặc đơn vị trực thuộc."]
    else:
        try:
            broadcasts.validate_audience(get_store(), data["audience"], current_app.config)
        except broadcasts.BroadcastError as exc:
            errors["audience_value"] = [str(exc)]
    try:
        parse_form(data)
    except FieldError as exc:
        errors.setdefault(_form_field(exc.field, values), [str(exc)])
    return errors


@bp.post("/broadcasts/new")
@requires("broadcast")
def broadcast_create():
    values = _values()
    errors = _all_errors(values) if broadcast_posts.CHAT in values["places"] else {}
    for field, messages in broadcast_posts.post_errors(values).items():
        errors.setdefault(field, messages)
    if errors:
        return _form(values, errors, 400)
    if broadcast_posts.CHAT not in values["places"]:
        return _posts_only(values)
    unit = staff_unit()
    try:
        data = _api_data(values)
        if unit and not within_unit(data["audience"], unit):
            raise FieldError("audience_value", f"Tài khoản của đơn vị {unit} chỉ gửi được cho đơn vị {unit} hoặc đơn vị trực thuộc.")
        args = parse_form(data)
        if values["schedule"] == "now" and request.form.get("confirm") != "1":
            # "Gửi ngay" cannot be undone: show who it reaches and ask once more
            confirm = _confirmation(get_store(), args, data["audience"])
            return _form(values, {}, 200, confirm={**confirm, "posts": broadcast_posts.post_labels(values)})
        broadcast_id = broadcasts.create_broadcast(
            get_store(), current_app.config, now=clock_now(), created_by=_username(), **args
        )
        if values["schedule"] == "now":
            broadcasts.plan_due_runs(get_store(), current_app.config, clock_now())  # the run shows at once
    except FieldError as exc:
        field = {"cron": "cron" if values["preset"] == "custom" else "time"}.get(exc.field, exc.field)
        errors[field] = [str(exc)]
    except broadcasts.BroadcastError as exc:
        field = field_of(str(exc)) or ""
        field = {"audience": "audience_value", "cron": "cron" if values["preset"] == "custom" else "time"}.get(field, field)
        if field == "image_url" and values["link_url"] and values["link_url"] in str(exc):
            field = "link_url"
        errors[field] = [str(exc)]
    if errors:
        return _form(values, errors, 400)
    audit("broadcast.create", broadcast_id, f"{data['audience']}; {values['schedule']}; {values['text'][:200]}")
    flash(_scheduled_text(values["schedule"], data.get("cron")), "success")
    _post_too(values)
    return redirect(url_for("console.broadcast_detail", broadcast_id=broadcast_id))


def _scheduled_text(schedule: str, cron: str | None) -> str:
    """What staff are told once a broadcast is saved, a repeating schedule in words."""
    if schedule == "now":
        return "Đã bắt đầu gửi tin nhắn."
    if cron:
        return f"Đã lên lịch tin nhắn: {schedule_in_words(cron)}."
    return "Đã lên lịch tin nhắn."


def _post_too(values: dict[str, Any]) -> int | None:
    """The post of the ticked places (already checked), with a message saying where to follow it."""
    try:
        post_id = broadcast_posts.create_posts(values)
    except broadcast_posts.PostInputError as exc:  # changed since the check (e.g. a setting): say so, keep the broadcast
        flash(f"Không tạo được bài đăng: {exc}", "error")
        return None
    if post_id is not None:
        flash(f"Đã tạo bài đăng #{post_id} ({', '.join(broadcast_posts.post_labels(values))}); xem trạng thái ở trang Đăng bài.", "success")
    return post_id


def _posts_only(values: dict[str, Any]):
    """Only post places ticked: no broadcast; "Gửi ngay" asks once more, like a broadcast."""
    if values["schedule"] == "now" and request.form.get("confirm") != "1":
        return _form(values, {}, 200, confirm={"chat": False, "posts": broadcast_posts.post_labels(values)})
    if _post_too(values) is None:
        return _form(values, {}, 400)
    return redirect(url_for("console.posts"))


def _username() -> str:
    from flask import g

    return g.staff["username"] if g.get("staff") else ""


@bp.post("/broadcasts/preview")
@requires("broadcast")
def broadcast_preview():
    values = _values()
    return render_template("admin/_preview_fragment.html", preview=_preview(values))


@bp.get("/broadcasts/<int:broadcast_id>")
@requires("read")
def broadcast_detail(broadcast_id: int):
    store = get_store()
    broadcast = store.get_broadcast(broadcast_id)
    if broadcast is None:
        abort(404, "Không có tin nhắn này.")
    _check_unit(broadcast)
    report = broadcasts.report(store, broadcast_id)
    failures = store.run_failures([r["id"] for r in report["runs"]], 100)
    for row in failures:
        member = store.get_member(row["member_id"]) if row["member_id"] else None
        row["name"] = (member.get("full_name") or member.get("display_name")) if member else ""
    tz = current_app.config["TIMEZONE"]
    return render_template(
        "admin/broadcast_detail.html", b=broadcast, report=report, audience_label=audience_label, failures=failures, states=STATES, run_states=RUN_STATES,
        reasons=broadcasts.REASONS, channels=CHANNEL_LABELS, next_run=time_text(broadcast["next_fire_at"], tz) if broadcast["next_fire_at"] else None,
        progress=progress_of(report), delivery_chart=delivery_chart(report),
    )


def delivery_chart(report: dict[str, Any]) -> Any:
    """Per channel, one column split into what became of each recipient (inline SVG, no script):
    read, delivered, sent without a receipt (or on a channel without receipts), unknown, failed, skipped."""
    names = list(report["by_channel"])
    rows = [report["by_channel"][n] for n in names]

    def values(get: Any) -> list[float]:
        return [float(get(c)) for c in rows]

    series = [
        ("Đã xem", values(lambda c: c.get("read") or 0), "green"),
        ("Đã nhận", values(lambda c: (c.get("delivered") or 0) - (c.get("read") or 0)), "light"),
        ("Chỉ biết đã gửi", values(lambda c: c.get("sent", 0) - (c.get("delivered") or 0)), "blue"),
        ("Không rõ", values(lambda c: c.get("uncertain", 0)), "amber"),
        ("Lỗi", values(lambda c: c.get("failed", 0)), "red"),
        ("Bỏ qua", values(lambda c: c.get("skipped", 0)), "grey"),
    ]
    return charts.bar_chart("Kết quả gửi theo kênh", [CHANNEL_LABELS.get(n, n) for n in names], series)


def _check_unit(broadcast: dict[str, Any] | None) -> None:
    """Staff bound to a unit see and control only the broadcasts to their unit or its sub-units (403)."""
    unit = staff_unit()
    if broadcast is not None and unit and not within_unit(broadcast["audience"], unit):
        abort(403)


def progress_of(report: dict[str, Any]) -> dict[str, Any]:
    """Recipients finished out of those targeted, for the progress bar."""
    targeted = report["targeted"]
    finished = targeted - report["pending"]
    if targeted:
        share = finished / targeted
    else:
        share = 1.0 if report["state"] in ("done", "cancelled") and report["runs"] else 0.0
    return {"targeted": targeted, "finished": finished, "percent": round(100 * share)}


@bp.post("/broadcasts/<int:broadcast_id>/<any(pause, resume, cancel):action>")
@requires("broadcast")
def broadcast_control(broadcast_id: int, action: str):
    do = {"pause": broadcasts.pause, "resume": broadcasts.resume, "cancel": broadcasts.cancel}[action]
    _check_unit(get_store().get_broadcast(broadcast_id))
    try:
        do(get_store(), broadcast_id, clock_now())
    except broadcasts.BroadcastError as exc:
        flash(str(exc), "error")
    else:
        audit(f"broadcast.{action}", broadcast_id)
        flash({"pause": "Đã tạm dừng.", "resume": "Đã tiếp tục gửi.", "cancel": "Đã hủy tin nhắn."}[action], "success")
    return redirect(url_for("console.broadcast_detail", broadcast_id=broadcast_id))
