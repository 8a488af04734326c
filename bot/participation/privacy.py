"""DỮ LIỆU CỦA TÔI (everything stored about the member) and XÓA DỮ LIỆU (erase it, after confirmation).

Also the retention rule: personal data of members silent for DATA_RETENTION_MONTHS
is erased by :func:`purge_silent_members` (`flask privacy purge`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from bot.conversation.dispatcher import Context, Handler
from bot.conversation.flow import (
    MENU_CHOICE,
    expiry,
    format_duration,
    format_time,
    in_group_notice,
    register_commands,
    takes_free_text,
)
from bot.core import models
from bot.core.models import Choice, Reply
from bot.core.privacy_notice import RIGHTS, erase_effect, retention
from bot.participation.catalog import get_catalog
from bot.storage.store import Store

logger = logging.getLogger(__name__)

FLOW = "privacy"
MY_DATA = register_commands(FLOW, "dữ liệu của tôi", "xem dữ liệu", "xem dữ liệu của tôi", "thông tin của tôi", "du lieu cua toi")
ERASE = register_commands(FLOW, "xóa dữ liệu", "xóa dữ liệu của tôi", "xóa thông tin", "xóa tài khoản", "rút lại đồng ý")
CHANNEL_NAMES = {"messenger": "Messenger", "zalo": "Zalo OA", "zalo_bot": "Zalo Bot", "web": "Trang web", "simulator": "Mô phỏng", "console": "Dòng lệnh"}
DAY = 86400.0


def my_data_text(store: Store, member: dict[str, Any], config: dict[str, Any]) -> str:
    """Every piece of data stored about the member, in plain Vietnamese."""
    tz = config["TIMEZONE"]
    data = store.member_data(member["id"])
    m = data["member"]
    catalog = get_catalog(config)
    lines = [f"Dữ liệu {config['ORG_NAME']} đang lưu về chị:"]
    lines.append(f"• Kênh: {CHANNEL_NAMES.get(m['channel'], m['channel'])}; mã người dùng trên kênh: {m['platform_id']}")
    if m.get("display_name"):
        lines.append(f"• Tên hiển thị trên kênh: {m['display_name']}")
    lines.append(f"• Họ và tên: {m.get('full_name') or '(chưa đăng ký)'}")
    lines.append(f"• Đơn vị: {catalog.units.label(m['unit_code']) if m.get('unit_code') else '(chưa đăng ký)'}")
    lines.append(f"• Số điện thoại: {m.get('phone') or '(không có)'}")
    if m.get("consent_at"):
        lines.append(f"• Đồng ý xử lý dữ liệu: {format_time(m['consent_at'], tz)} (bản thông báo {m.get('consent_version') or '-'})")
    if m.get("registered_at"):
        lines.append(f"• Đăng ký: {format_time(m['registered_at'], tz)}")
    lines.append(f"• Nhận tin định kỳ: {'có' if m.get('subscribed') else 'không'}")
    lines.append(f"• Nhắn tin lần đầu: {format_time(m.get('first_seen_at'), tz)}; gần nhất: {format_time(m.get('last_inbound_at'), tz)}")
    tags = json.loads(m.get("tags") or "[]")
    if tags:
        lines.append(f"• Nhóm nhận tin: {', '.join(tags)}")
    q = data["questions"] or {}
    if q.get("n"):
        recent = "; ".join(f"“{t[:60]}”" for t in data["recent_questions"])
        lines.append(f"• Câu hỏi đã gửi: {q['n']} (gần nhất: {recent})")
    attempts = data["attempts"]
    if attempts:
        lines.append(f"• Bài thi: {len(attempts)} lượt, {data['answers']} câu trả lời được lưu")
        for a in attempts[:5]:
            quiz = catalog.quizzes.get(a["quiz_id"])
            title = quiz.title if quiz else a["quiz_id"]
            result = f"{a['score']}/{a['total']} câu đúng, {format_duration(a['duration'])}" if a["state"] == "finished" else "chưa hoàn thành"
            lines.append(f"   – {title} ({format_time(a['started_at'], tz, with_time=False)}): {result}")
    if data["draws"]:
        lines.append(f"• Hái hoa dân chủ: {data['draws']} lượt")
    for p in data["participations"]:
        contest = catalog.contests.get(p["contest_id"])
        extra = "".join(f" – {v}" for v in (p["result"], p["note"]) if v)
        lines.append(f"• Tham gia cuộc thi: {contest.name if contest else p['contest_id']} ({p['participated_on'] or '?'}){extra}")
    lines.append(f"• Tin nhắn với trợ lý: {data['inbound']} tin chị gửi, {data['outbound']} tin trợ lý gửi (lưu để gửi và đối soát)")
    staff = store.handoff_counts(member["id"])
    if staff["conversations"]:
        lines.append(f"• Trao đổi với cán bộ (GẶP CÁN BỘ): {staff['conversations']} cuộc, {staff['messages']} tin nhắn được lưu")
    lines.append(f"Thời gian lưu: {retention(config)}.")  # the consent notice's words (bot.core.privacy_notice)
    lines.append(f"Quyền của chị: {RIGHTS}.")
    return "\n".join(lines)


class PrivacyHandler(Handler):
    """DỮ LIỆU CỦA TÔI and XÓA DỮ LIỆU."""

    name = FLOW

    def handle(self, ctx: Context) -> bool:
        if ctx.event.kind not in (models.TEXT, models.POSTBACK):
            return False
        payload = ctx.event.payload or ""
        if payload == "MY_DATA" or (not payload and ctx.folded in MY_DATA):
            if in_group_notice(ctx, "xem dữ liệu của mình"):
                return True
            ctx.say(Reply(my_data_text(ctx.store, ctx.member or {}, ctx.config),
                          [Choice("Sửa thông tin", "EDIT"), Choice("Xóa dữ liệu", "ERASE"), MENU_CHOICE]))
            ctx.meta["command"] = "my_data"
            return True
        if payload == "ERASE" or (not payload and ctx.folded in ERASE):
            if in_group_notice(ctx, "yêu cầu xóa dữ liệu"):
                return True
            ctx.set_flow(FLOW, {"step": "confirm"}, expires_at=expiry(ctx, "FLOW_EXPIRY_MINUTES"))
            ctx.say(Reply(
                f"Chị muốn xóa dữ liệu cá nhân? {erase_effect(ctx.config)} Chị xác nhận xóa?",
                [Choice("Đồng ý xóa", "ERASE_YES"), Choice("Không xóa", "ERASE_NO")],
            ))
            return True
        if payload in ("ERASE_YES", "ERASE_NO"):
            if ctx.conversation.get("flow") != FLOW:
                ctx.say(Reply("Yêu cầu xóa đã hết hạn. Gõ XÓA DỮ LIỆU để làm lại.", [MENU_CHOICE]))
                return True
            ctx.set_flow(None)
            if payload == "ERASE_NO":
                ctx.say(Reply("Dữ liệu của chị được giữ nguyên.", [MENU_CHOICE]))
                return True
            counts = ctx.store.erase_member(ctx.member["id"], at=ctx.now)  # type: ignore[index]
            logger.info("member erased id=%s rows=%s", ctx.member["id"], counts)  # type: ignore[index]
            ctx.meta["command"] = "erased"
            ctx.conversation.clear()  # the conversation row is gone with the rest
            ctx.say("Đã xóa dữ liệu cá nhân của chị. Nếu nhắn tin lại, chị sẽ được coi là người dùng mới. "
                    "Cảm ơn chị đã đồng hành cùng Hội.")
            return True
        if takes_free_text(ctx, FLOW):
            # anything else while the question is open: ask again, do not erase by accident
            ctx.say(Reply("Chị chọn “Đồng ý xóa” hoặc “Không xóa”.", [Choice("Đồng ý xóa", "ERASE_YES"), Choice("Không xóa", "ERASE_NO")]))
            return True
        return False


def purge_silent_members(store: Store, config: dict[str, Any], now: float) -> int:
    """Erase the personal data of members silent for DATA_RETENTION_MONTHS (0: never).

    Each member is erased in its own short transaction (indexed look-ups), so the
    nightly purge never holds the write lock long enough to delay a webhook.
    """
    months = int(config.get("DATA_RETENTION_MONTHS") or 0)
    erased = 0
    if months:
        for member_id in store.silent_members(now - months * 30.44 * DAY):
            store.erase_member(member_id, at=now)
            erased += 1
    store.scrub_erased_outbox()
    return erased


def prune_queues(store: Store, config: dict[str, Any], now: float) -> dict[str, int]:
    """Delete inbox and outbox rows older than QUEUE_RETENTION_DAYS (0: never), in short transactions."""
    days = int(config.get("QUEUE_RETENTION_DAYS") or 0)
    if not days:
        return {"inbox": 0, "outbox": 0}
    counts = store.prune_queues(before=now - days * DAY)
    if counts["inbox"] or counts["outbox"]:
        logger.info("retention: deleted %d inbox and %d outbox rows older than %d days",
                    counts["inbox"], counts["outbox"], days)
    return counts


PURGE_JOB = "privacy-purge"


def run_purge(services: Any) -> int:
    """The nightly job: erase data past the retention period; never raises."""
    store = services.open_store()
    try:
        erased = purge_silent_members(store, services.config, services.clock.now())
        prune_queues(store, services.config, services.clock.now())
        if erased:
            logger.info("retention: erased the personal data of %d silent members", erased)
        return erased
    except Exception:
        logger.exception("retention purge failed")
        return 0
    finally:
        store.close()


def schedule_purge(scheduler: Any, services: Any) -> None:
    """Add the nightly purge (03:15 local time) to the APScheduler scheduler."""
    scheduler.add_job(run_purge, "cron", hour=3, minute=15, args=[services], id=PURGE_JOB,
                      replace_existing=True, coalesce=True, max_instances=1)
