"""Posts: staff announcements published on the Facebook Page and as Zalo OA articles.

``create_post`` checks and stores a post with one target per place; ``publish_due``
does the platform calls that are due (the CLI calls it at once, the scheduler
every tick).  A Facebook post far enough ahead is handed to Facebook with
``scheduled_publish_time``; everything else waits in our scheduler.  Quiet hours
hold posts back, like broadcasts, unless staff override them.  Errors are kept in
Vietnamese on the target; only those that retrying can help are retried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from bot.channels.page_posts import (
    FacebookPageClient,
    PostError,
    ZaloArticleClient,
    article_body,
)
from bot.channels.zalo_tokens import TokenError
from bot.core.formats import time_text
from bot.storage.posts import POST_TARGETS

logger = logging.getLogger(__name__)

TARGET_NAMES = {"facebook-page": "facebook_page", "zalo-article": "zalo_article"}
TARGET_LABELS = {"facebook_page": "Trang Facebook", "zalo_article": "Bài viết Zalo OA"}
STATE_LABELS = {
    "pending": "đang chờ đăng",
    "scheduled": "đã hẹn giờ trên Facebook",
    "verifying": "Zalo đang xử lý",
    "published": "đã đăng",
    "failed": "lỗi",
}
TEXT_LIMIT = 5000
FACEBOOK_MAX_AHEAD = 28 * 24 * 3600.0  # Facebook accepts about 30 days ahead (unconfirmed): beyond, our scheduler waits
VERIFY_DELAY = 20.0  # seconds between Zalo verify checks
POSTS_JOB = "posts-publish"


Allowed = Callable[[float], bool]  # False while quiet hours hold publications back (services.broadcasts_allowed)


class PostInputError(ValueError):
    """A post staff asked for that cannot be made (Vietnamese message)."""


@dataclass
class Clients:
    """The platform clients that are configured (None: not configured)."""

    facebook: FacebookPageClient | None = None
    zalo: ZaloArticleClient | None = None


def build_clients(config: Mapping[str, Any], channels: Mapping[str, Any], session: requests.Session | None = None) -> Clients:
    """Clients from the settings; the Zalo one uses the OA channel's token manager."""
    session = session or requests.Session()
    timeout = float(config.get("HTTP_TIMEOUT_SECONDS", 10))
    clients = Clients()
    if config.get("FACEBOOK_PAGE_ID") and config.get("MESSENGER_PAGE_ACCESS_TOKEN"):
        clients.facebook = FacebookPageClient(
            config["MESSENGER_API_BASE"], session, page_id=config["FACEBOOK_PAGE_ID"],
            token=config["MESSENGER_PAGE_ACCESS_TOKEN"], timeout=timeout,
            caption_field=str(config.get("FACEBOOK_PHOTO_CAPTION_FIELD") or "caption"),
        )
    zalo = channels.get("zalo")
    if zalo is not None and zalo.enabled:
        clients.zalo = ZaloArticleClient(config["ZALO_API_BASE"], session, access_token=_zalo_token(zalo.tokens), timeout=timeout)
    return clients


def _zalo_token(tokens: Any) -> Any:
    def get(stale: str | None) -> str:
        try:
            return tokens.refresh(stale_token=stale) if stale else tokens.access_token()
        except TokenError as exc:
            if exc.retry:
                raise PostError("token", f"Chưa lấy được mã truy cập Zalo OA ({exc}); sẽ thử lại.", retry=True) from None
            raise PostError(
                "token", f"Không có mã truy cập Zalo OA dùng được ({exc}). Hãy cấp quyền lại (flask zalo consent-url).", auth=True
            ) from None

    return get


def parse_targets(text: str) -> list[str]:
    """``"facebook-page,zalo-article"`` -> ["facebook_page", "zalo_article"]."""
    out: list[str] = []
    for part in text.split(","):
        name = part.strip().lower()
        if not name:
            continue
        if name not in TARGET_NAMES:
            raise PostInputError(f"không có nơi đăng '{name}' (có: {', '.join(TARGET_NAMES)})")
        if TARGET_NAMES[name] not in out:
            out.append(TARGET_NAMES[name])
    if not out:
        raise PostInputError("chưa chọn nơi đăng (--to facebook-page,zalo-article)")
    return out


def _url(value: str | None, what: str) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.startswith(("https://", "http://")) or any(c.isspace() for c in value):
        raise PostInputError(f"{what} phải là địa chỉ http(s): {value}")
    return value


def _fb_ahead(config: Mapping[str, Any], publish_at: float, now: float, *, image: str | None = None) -> bool:
    """True when a Facebook post at ``publish_at`` is scheduled on Facebook's side (a photo post
    only if FACEBOOK_PHOTO_SCHEDULE_ON_FACEBOOK)."""
    if image and not config.get("FACEBOOK_PHOTO_SCHEDULE_ON_FACEBOOK", True):
        return False
    lead = publish_at - now
    return float(config["FACEBOOK_SCHEDULE_MIN_MINUTES"]) * 60 <= lead <= FACEBOOK_MAX_AHEAD


def check_post(
    config: Mapping[str, Any],
    clients: Clients,
    *,
    text: str,
    targets: list[str],
    now: float,
    publish_at: float | None = None,
    link: str | None = None,
    image: str | None = None,
    override_quiet: bool = False,
    allowed: Allowed = lambda at: True,
) -> dict[str, str]:
    """Every problem of a post at once, by field (text, link, image, targets, at); empty when it can be made."""
    errors: dict[str, str] = {}
    text = (text or "").strip()
    if not text:
        errors["text"] = "nội dung bài đăng trống"
    elif len(text) > TEXT_LIMIT:
        errors["text"] = f"nội dung dài quá {TEXT_LIMIT} ký tự ({len(text)})"
    for field, value, what in (("link", link, "Liên kết"), ("image", image, "Ảnh")):
        try:
            _url(value, what)
        except PostInputError as exc:
            errors[field] = str(exc)
    _check_targets(config, clients, targets, image, errors)
    at = now if publish_at is None else publish_at
    if at < now - 60:
        errors["at"] = f"thời điểm đăng đã qua: {time_text(at, config['TIMEZONE'])}"
    elif publish_at is not None and not override_quiet and not allowed(at):
        errors["at"] = (
            f"{time_text(at, config['TIMEZONE'])} nằm trong giờ yên lặng; chọn giờ khác hoặc thêm --override-quiet-hours"
        )
    return errors


def _check_targets(config: Mapping[str, Any], clients: Clients, targets: list[str], image: str | None, errors: dict[str, str]) -> None:
    if not targets or set(targets) - set(POST_TARGETS):
        errors["targets"] = "nơi đăng không hợp lệ"
        return
    missing = []
    if "facebook_page" in targets and clients.facebook is None:
        missing.append("chưa cấu hình Trang Facebook: cần FACEBOOK_PAGE_ID và MESSENGER_PAGE_ACCESS_TOKEN")
    if "zalo_article" in targets and clients.zalo is None:
        missing.append("chưa cấu hình Zalo OA (ZALO_APP_ID, ZALO_APP_SECRET, ZALO_OA_SECRET_KEY và token)")
    if missing:
        errors["targets"] = "; ".join(missing)
    if "zalo_article" in targets and not ((image or "").strip() or config.get("ZALO_ARTICLE_COVER_URL")):
        errors.setdefault("image", "bài viết Zalo OA cần ảnh bìa: thêm --image URL hoặc đặt ZALO_ARTICLE_COVER_URL")


def create_post(
    store: Any,
    config: Mapping[str, Any],
    clients: Clients,
    *,
    text: str,
    targets: list[str],
    now: float,
    publish_at: float | None = None,
    title: str | None = None,
    link: str | None = None,
    image: str | None = None,
    override_quiet: bool = False,
    created_by: str = "cli",
    allowed: Allowed = lambda at: True,
) -> int:
    """Check and store a post; ``publish_at`` None means now.  Raises PostInputError (the first problem)."""
    errors = check_post(
        config, clients, text=text, targets=targets, now=now, publish_at=publish_at, link=link, image=image,
        override_quiet=override_quiet, allowed=allowed,
    )
    if errors:
        raise PostInputError(next(iter(errors.values())))
    text = text.strip()
    link, image = _url(link, "Liên kết"), _url(image, "Ảnh")
    at = now if publish_at is None else publish_at
    data = {
        "title": (title or "").strip() or None, "text": text, "link_url": link, "image_url": image,
        "publish_at": at, "override_quiet": int(override_quiet), "created_by": created_by,
    }
    post_id = store.create_post(data, targets, at=now)
    if "facebook_page" in targets and _fb_ahead(config, at, now, image=image):
        for target in store.get_post(post_id)["targets"]:
            if target["target"] == "facebook_page":  # hand it to Facebook now, with its scheduled time
                store.update_post_target(target["id"], next_attempt_at=now)
    return post_id


def publish_due(
    store: Any, config: Mapping[str, Any], clients: Clients, now: float, *, allowed: Allowed, post_id: int | None = None
) -> list[dict[str, Any]]:
    """Do the due platform calls; return one result per target worked on (``allowed``: quiet hours)."""
    quiet = not allowed(now)
    results = []
    for target in store.due_post_targets(now, post_id=post_id):
        ahead = target["target"] == "facebook_page" and target["state"] == "pending" and _fb_ahead(
            config, target["publish_at"], now, image=target["image_url"]
        )
        if quiet and not target["override_quiet"] and not ahead:
            continue  # quiet hours: it waits for the next tick after they end
        if not store.claim_post_target(target["id"], target["state"], at=now):
            continue  # another process took it
        try:
            if target["target"] == "facebook_page":
                fields = _publish_facebook(clients, target, now, ahead=ahead)
            else:
                fields = _publish_zalo(store, config, clients, target, now)
        except PostError as exc:
            fields = _failure(config, target, exc, now)
            logger.warning("post %s %s: %s", target["post_id"], target["target"], exc.code)
        store.update_post_target(target["id"], updated_at=now, **fields)
        results.append({"post_id": target["post_id"], "target": target["target"], **fields})
    return results


def facebook_message(title: str | None, text: str) -> str:
    """The Page post's text: the title, a blank line, the text."""
    return f"{title}\n\n{text}" if title else text


def article_title(title: str | None, text: str) -> str:
    """A Zalo article's title: the given one, else the text's first line."""
    return title or text.split("\n", 1)[0]


def _publish_facebook(clients: Clients, target: dict[str, Any], now: float, *, ahead: bool) -> dict[str, Any]:
    if clients.facebook is None:
        raise PostError("config", "Chưa cấu hình Trang Facebook (FACEBOOK_PAGE_ID, MESSENGER_PAGE_ACCESS_TOKEN).")
    message = facebook_message(target["title"], target["text"])
    post_id = clients.facebook.publish(
        message, link=target["link_url"], image=target["image_url"], scheduled_at=target["publish_at"] if ahead else None
    )
    if ahead:
        return {"state": "scheduled", "platform_id": post_id, "published_at": target["publish_at"], "error": None}
    return {"state": "published", "platform_id": post_id, "published_at": now, "error": None}


def _publish_zalo(store: Any, config: Mapping[str, Any], clients: Clients, target: dict[str, Any], now: float) -> dict[str, Any]:
    if clients.zalo is None:
        raise PostError("config", "Chưa cấu hình Zalo OA.")
    token = target["create_token"]
    if target["state"] == "pending" or not token:
        title = article_title(target["title"], target["text"])
        cover = target["image_url"] or config.get("ZALO_ARTICLE_COVER_URL") or ""
        body = article_body(
            title=title, text=target["text"], author=str(config.get("ORG_NAME") or ""), cover_url=cover,
            link=target["link_url"], image_url=target["image_url"],
        )
        token = clients.zalo.create(body)
        # keep the token at once: a later failure must verify, never create a second article
        store.update_post_target(target["id"], state="verifying", create_token=token, attempts=0, updated_at=now)
        target = {**target, "state": "verifying", "attempts": 0}
    article_id = clients.zalo.verify(token)
    if article_id:
        return {"state": "published", "platform_id": article_id, "published_at": now, "error": None}
    attempts = int(target["attempts"]) + 1
    if attempts >= int(config["OUTBOX_MAX_ATTEMPTS"]):
        return {"state": "failed", "attempts": attempts,
                "error": f"Zalo chưa xác nhận bài viết sau {attempts} lần kiểm tra; xem lại trong trang quản lý OA."}
    return {"state": "verifying", "attempts": attempts, "next_attempt_at": now + VERIFY_DELAY,
            "error": "Zalo đang xử lý bài viết; sẽ kiểm tra lại."}


def _failure(config: Mapping[str, Any], target: dict[str, Any], exc: PostError, now: float) -> dict[str, Any]:
    attempts = int(target["attempts"]) + 1
    if not exc.retry:
        return {"state": "failed", "attempts": attempts, "error": exc.message}
    if attempts >= int(config["OUTBOX_MAX_ATTEMPTS"]):
        return {"state": "failed", "attempts": attempts, "error": f"{exc.message} (đã thử {attempts} lần, dừng lại)"}
    delay = float(config["OUTBOX_RETRY_BASE_SECONDS"]) * 2 ** (attempts - 1)
    return {"attempts": attempts, "next_attempt_at": now + delay, "error": exc.message}


def describe(post: dict[str, Any], timezone: str) -> dict[str, Any]:
    """A post for listings (CLI, console): its targets' states and platform ids."""
    return {
        "id": post["id"],
        "title": post["title"],
        "text": post["text"],
        "link": post["link_url"],
        "image": post["image_url"],
        "publish_at": time_text(post["publish_at"], timezone),
        "override_quiet_hours": bool(post["override_quiet"]),
        "targets": [
            {
                "target": t["target"].replace("_", "-"),
                "label": TARGET_LABELS.get(t["target"], t["target"]),
                "state": t["state"],
                "state_label": STATE_LABELS.get(t["state"], t["state"]),
                "platform_id": t["platform_id"],
                "published_at": time_text(t["published_at"], timezone) if t["published_at"] else None,
                "attempts": t["attempts"],
                "error": t["error"],
            }
            for t in post["targets"]
        ],
    }


def run_publish(services: Any) -> None:
    """One scheduler pass over due posts."""
    store = services.open_store()
    try:
        clients = build_clients(services.config, services.channels)
        publish_due(store, services.config, clients, services.clock.now(), allowed=services.broadcasts_allowed)
    except Exception:
        logger.exception("posts: publishing failed")
    finally:
        store.close()


def schedule_posts(scheduler: Any, services: Any) -> None:
    """Add the posts job (every SCHEDULER_TICK_SECONDS) to the APScheduler scheduler."""
    scheduler.add_job(
        run_publish, "interval", seconds=float(services.config["SCHEDULER_TICK_SECONDS"]), args=[services],
        id=POSTS_JOB, replace_existing=True, coalesce=True, max_instances=1,
    )
