"""Posts on the Facebook Page and Zalo OA articles: the composer (with a preview of each) and the list."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, flash, redirect, render_template, request, url_for

from bot.console.blueprint import bp
from bot.posts.preview import preview_posts
from bot.posts.publish import (
    TARGET_LABELS,
    PostInputError,
    build_clients,
    create_post,
    describe,
    publish_due,
)
from bot.web.auth import audit, requires, staff_unit
from bot.web.context import clock_now, get_services, get_store

FIELDS = ("text", "title", "link", "image", "when", "at")
PLACES = ("facebook_page", "zalo_article")


def _values() -> dict[str, Any]:
    values: dict[str, Any] = {k: request.form.get(k, "").strip() for k in FIELDS}
    values["targets"] = [t for t in request.form.getlist("targets") if t in PLACES]
    values["override"] = request.form.get("override") == "1"
    values["when"] = values["when"] if values["when"] in {"now", "at"} else "now"
    return values


def _preview(values: dict[str, Any]) -> list[dict[str, Any]]:
    """What each chosen place will show (the same builders as the platform calls)."""
    return preview_posts(
        current_app.config, values["targets"], text=values.get("text") or "", title=values.get("title") or "",
        link=values.get("link") or "", image=values.get("image") or "",
    )


def _page(values: dict[str, Any], error: str | None = None, status: int = 200):
    timezone = current_app.config["TIMEZONE"]
    posts = [describe(p, timezone) for p in get_store().list_posts(limit=50)]
    return render_template(
        "admin/posts.html", values=values, error=error, posts=posts, labels=TARGET_LABELS,
        preview=_preview(values) if values.get("text") else None,
    ), status


@bp.get("/posts")
@requires("read")
def posts():
    return _page({"when": "now", "targets": list(PLACES), "override": False})


@bp.post("/posts")
@requires("broadcast")
def post_create():
    values = _values()
    if request.form.get("action") == "preview":
        return _page(values)
    config = current_app.config
    services = get_services()
    now = clock_now()
    publish_at = None
    if staff_unit():  # the Page and the OA speak for the whole union
        return _page(values, "Tài khoản của đơn vị không đăng bài lên Trang Facebook và Zalo OA.", 403)
    try:
        if values["when"] == "at":
            try:
                local = datetime.fromisoformat(values["at"])
            except ValueError:
                raise PostInputError("chọn thời điểm đăng") from None
            publish_at = local.replace(tzinfo=ZoneInfo(config["TIMEZONE"])).timestamp()
        clients = build_clients(config, services.channels)
        store = get_store()
        post_id = create_post(
            store, config, clients, text=values["text"], title=values["title"], link=values["link"], image=values["image"],
            targets=values["targets"], now=now, publish_at=publish_at, override_quiet=values["override"],
            created_by=_username(), allowed=services.broadcasts_allowed,
        )
    except PostInputError as exc:
        return _page(values, f"Không tạo được bài đăng: {exc}.", 400)
    publish_due(store, config, clients, now, allowed=services.broadcasts_allowed, post_id=post_id)
    audit("post.create", str(post_id), ",".join(values["targets"]))
    flash(f"Đã tạo bài đăng #{post_id}.")
    return redirect(url_for("console.posts"))


def _username() -> str:
    from flask import g

    staff = g.get("staff")
    return f"staff:{staff['username']}" if staff else "console"
