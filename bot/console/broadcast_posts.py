"""The broadcast composer's other places: a post on the Facebook Page and a Zalo OA article.

Staff tick where the announcement goes: messages to members (the chat audiences),
"Đăng lên Trang Facebook", "Bài viết Zalo OA".  Posts are checked and created by
the same service as ``flask post create`` (:mod:`bot.posts.publish`); every problem
is reported at once, on its field, in Vietnamese.  Quiet hours hold posts back
unless staff tick the override.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, g

from bot.posts.preview import preview_posts
from bot.posts.publish import (
    TARGET_LABELS,
    PostInputError,
    build_clients,
    check_post,
    create_post,
    publish_due,
)
from bot.web.auth import audit, staff_unit
from bot.web.context import clock_now, get_services, get_store

CHAT = "chat"
PLACES = (CHAT, "facebook_page", "zalo_article")
PLACE_LABELS = {
    CHAT: "Tin nhắn đến hội viên (Messenger, Zalo OA, Zalo Bot)",
    "facebook_page": "Đăng lên Trang Facebook",
    "zalo_article": "Bài viết Zalo OA",
}
UNIT_NO_POSTS = (
    "Tài khoản của đơn vị chỉ gửi tin nhắn cho đơn vị mình; bài đăng trên Trang Facebook và Zalo OA"
    " do tài khoản cấp thành phố thực hiện."
)
# the post service's fields -> the composer's inputs
FORM_FIELD = {"text": "text", "link": "link_url", "image": "image_url", "targets": "places", "at": "at"}
# the service speaks CLI; the composer has a checkbox and an input instead of the flags
CONSOLE_WORDING = {
    "thêm --override-quiet-hours": "đánh dấu “Đăng bài cả trong giờ nghỉ”",
    "thêm --image URL": "nhập địa chỉ ảnh",
}


def places_of(form: Any) -> list[str]:
    """The ticked places; a form without the places fieldset (an older page) sends messages only."""
    if form.get("places_shown") != "1":
        return [CHAT]
    return [p for p in PLACES if p in form.getlist("places")]


def post_targets(places: list[str]) -> list[str]:
    return [p for p in places if p != CHAT]


def _sentence(message: str) -> str:
    for cli, console in CONSOLE_WORDING.items():
        message = message.replace(cli, console)
    message = message[:1].upper() + message[1:]
    return message if message.endswith(".") else message + "."


def _publish_at(values: dict[str, Any]) -> float | None:
    """None for "Gửi ngay"; the local time chosen for "Một lần"."""
    if values["schedule"] != "once":
        return None
    try:
        local = datetime.fromisoformat(values["at"].strip())
    except ValueError:
        raise PostInputError("Chọn thời điểm đăng bài (giờ Việt Nam).") from None
    return local.replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"])).timestamp()


def post_errors(values: dict[str, Any]) -> dict[str, list[str]]:
    """Every problem of the places and of the posts at once, by form field."""
    places = values["places"]
    if not places:
        return {"places": ["Chọn ít nhất một nơi: tin nhắn đến hội viên, Trang Facebook hoặc bài viết Zalo OA."]}
    targets = post_targets(places)
    if not targets:
        return {}
    errors: dict[str, list[str]] = {}
    if staff_unit():
        errors["places"] = [UNIT_NO_POSTS]
    publish_at = None
    if values["schedule"] == "cron":
        errors["schedule"] = ["Bài đăng không lặp lại theo lịch: chọn “Gửi ngay” hoặc “Một lần, vào lúc”."]
    else:
        try:
            publish_at = _publish_at(values)
        except PostInputError as exc:
            errors["at"] = [str(exc)]
    services = get_services()
    problems = check_post(
        current_app.config, build_clients(current_app.config, services.channels), text=values["text"], targets=targets,
        now=clock_now(), publish_at=publish_at, link=values["link_url"], image=values["image_url"],
        override_quiet=values["override_quiet"] == "1", allowed=services.broadcasts_allowed,
    )
    for field, message in problems.items():
        errors.setdefault(FORM_FIELD.get(field, ""), [_sentence(message)])
    return errors


def create_posts(values: dict[str, Any]) -> int | None:
    """Create the post for the ticked places and publish what is due now; its id (None: no post place ticked)."""
    targets = post_targets(values["places"])
    if not targets:
        return None
    config, services, store, now = current_app.config, get_services(), get_store(), clock_now()
    clients = build_clients(config, services.channels)
    staff = g.get("staff")
    post_id = create_post(
        store, config, clients, text=values["text"], title=values["post_title"], link=values["link_url"],
        image=values["image_url"], targets=targets, now=now, publish_at=_publish_at(values),
        override_quiet=values["override_quiet"] == "1", allowed=services.broadcasts_allowed,
        created_by=f"staff:{staff['username']}" if staff else "console",
    )
    publish_due(store, config, clients, now, allowed=services.broadcasts_allowed, post_id=post_id)
    audit("post.create", str(post_id), ",".join(targets))
    return post_id


def post_labels(values: dict[str, Any]) -> list[str]:
    return [TARGET_LABELS[t] for t in post_targets(values["places"])]


def posts_preview(values: dict[str, Any]) -> list[dict[str, Any]]:
    """What each ticked post place will show (text, title, link, image)."""
    return preview_posts(
        current_app.config, post_targets(values["places"]), text=values["text"], title=values["post_title"],
        link=values["link_url"], image=values["image_url"],
    )
