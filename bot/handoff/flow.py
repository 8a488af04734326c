"""The member's side of a conversation with staff: GẶP CÁN BỘ opens it, KẾT THÚC ends it.

While it is open the bot does not answer her questions: her text goes to the staff
thread and the bot stays silent.  Commands (MENU, DỪNG...), taps on choices and the
participation commands (THI, ĐĂNG KÝ...) still work, because the relay runs after
them and takes only free text.  In a Zalo group the bot asks her to write privately.
"""

from __future__ import annotations

from typing import Any

from bot.conversation.dispatcher import Context, Dispatcher, Handler, MenuItem
from bot.core import models
from bot.core.models import Reply
from bot.handoff import notify

OPEN_PAYLOAD, CLOSE_PAYLOAD = "GAP_CAN_BO", "KET_THUC"
OPEN_COMMANDS = {
    "gap can bo", "gap can bo a", "gap can bo hoi", "toi muon gap can bo", "muon gap can bo", "cho gap can bo",
    "noi chuyen voi can bo", "hoi can bo", "gap nguoi that", "gap cb", "gapcanbo",
}
CLOSE_COMMANDS = {"ket thuc", "ket thuc a", "ket thuc tro chuyen", "ket thuc trao doi", "ketthuc", "quay lai tro ly"}
RECENT_QUESTION_SECONDS = 3600  # her unanswered questions of the last hour open the thread
HANDLER_NAME = "handoff"


def opened_text(config: dict[str, Any], *, already: bool = False) -> str:
    hours = str(config.get("OFFICE_HOURS") or "").strip()
    org = config.get("ORG_NAME") or "Hội"
    first = (
        "Chị đang trong cuộc trao đổi với cán bộ." if already
        else f"Trợ lý đã chuyển cuộc trò chuyện của chị đến cán bộ {org}."
    )
    when = f" Cán bộ thường trả lời trong giờ làm việc: {hours}." if hours else ""
    return (
        f"{first} Chị cứ nhắn điều cần hỏi tại đây, cán bộ sẽ trả lời trong cuộc trò chuyện này.{when}\n\n"
        "Trong lúc này trợ lý tự động tạm ngừng trả lời; các lệnh như MENU, DỪNG vẫn dùng được. "
        "Gõ KẾT THÚC để quay lại trò chuyện với trợ lý."
    )


CLOSED_TEXT = (
    "Đã kết thúc trao đổi với cán bộ. Trợ lý tự động tiếp tục trả lời câu hỏi của chị. "
    "Khi cần gặp cán bộ, chị gõ GẶP CÁN BỘ."
)
GROUP_TEXT = (
    "Để trao đổi riêng với cán bộ, chị vui lòng nhắn tin riêng cho trợ lý (không nhắn trong nhóm) "
    "và gõ GẶP CÁN BỘ."
)
EXPIRED_TEXT = "Cuộc trao đổi trước với cán bộ đã kết thúc vì lâu không có tin nhắn mới. Trợ lý tự động trả lời chị:"


def _now_open(ctx: Context) -> dict[str, Any] | None:
    """Her open conversation; one idle longer than HANDOFF_EXPIRY_DAYS is closed first (the bot answers again)."""
    member = ctx.member
    if member is None:
        return None
    handoff = ctx.store.open_handoff(member["id"])
    if handoff is None:
        return None
    days = float(ctx.config.get("HANDOFF_EXPIRY_DAYS", 7) or 0)
    last = max(x for x in (handoff["opened_at"], handoff["last_member_at"], handoff["first_staff_reply_at"]) if x)
    last = max(last, ctx.store.last_handoff_activity(handoff["id"]) or 0)
    if days > 0 and ctx.now - last > days * 86400:
        ctx.store.close_handoff(handoff["id"], at=ctx.now, by="expired")
        ctx.meta["handoff_expired"] = handoff["id"]
        return None
    return handoff


def open_for(ctx: Context) -> int:
    """Open (or keep) her conversation with staff and say so; returns its id."""
    member = ctx.member
    assert member is not None
    existing = _now_open(ctx)
    if existing is not None:
        ctx.say(Reply(opened_text(ctx.config, already=True)))
        return int(existing["id"])
    handoff_id = ctx.store.create_handoff(
        member_id=member["id"], channel=ctx.event.channel, unit_code=member.get("unit_code"), at=ctx.now
    )
    for question in ctx.store.recent_unanswered(member["id"], since=ctx.now - RECENT_QUESTION_SECONDS):
        ctx.store.add_handoff_message(handoff_id, author="member", text=question["text"], at=question["asked_at"])
    text = opened_text(ctx.config)
    ctx.store.add_handoff_message(handoff_id, author="bot", text=text, at=ctx.now)
    ctx.set_flow(None)  # an unfinished quiz or registration must not take her messages meant for staff
    ctx.say(Reply(text))
    notify.queue_notice(ctx.store, ctx.config, ctx.now)
    return handoff_id


class HandoffCommands(Handler):
    """GẶP CÁN BỘ and KẾT THÚC, right after the core commands (they work inside any flow)."""

    name = HANDLER_NAME

    def handle(self, ctx: Context) -> bool:
        event = ctx.event
        if event.kind not in (models.TEXT, models.POSTBACK):
            return False
        folded, payload = ctx.folded, event.payload
        if payload == OPEN_PAYLOAD or (not payload and folded in OPEN_COMMANDS):
            ctx.meta.update(command="handoff_open", decision="handoff")
            if event.is_group:
                ctx.say(GROUP_TEXT)
                return True
            ctx.meta["handoff_id"] = open_for(ctx)
            return True
        if payload == CLOSE_PAYLOAD or (not payload and folded in CLOSE_COMMANDS):
            handoff = None if event.is_group else _now_open(ctx)
            if handoff is None:
                return False  # nothing to end: let the other handlers read it
            ctx.store.close_handoff(handoff["id"], at=ctx.now, by="member")
            ctx.store.add_handoff_message(handoff["id"], author="bot", text=CLOSED_TEXT, at=ctx.now)
            ctx.meta.update(command="handoff_close", decision="handoff", handoff_id=handoff["id"])
            ctx.say(CLOSED_TEXT)
            return True
        return False


class HandoffRelay(Handler):
    """While her conversation with staff is open, her free text goes to the thread and the bot is silent."""

    name = "handoff_relay"

    def handle(self, ctx: Context) -> bool:
        event = ctx.event
        if event.is_group or event.kind != models.TEXT or event.payload or not ctx.text:
            return False
        handoff = _now_open(ctx)
        if handoff is None:
            if ctx.meta.get("handoff_expired"):
                ctx.say(EXPIRED_TEXT)
            return False
        ctx.store.add_handoff_message(handoff["id"], author="member", text=ctx.text, at=ctx.now)
        ctx.meta.update(decision="handoff", handoff_id=handoff["id"], entry_id=None, score=0.0)
        return True


def install_handoff(dispatcher: Dispatcher) -> None:
    """GẶP CÁN BỘ right after the core commands; the relay before small talk and questions; a menu item."""
    handlers = dispatcher.handlers
    after_commands = next((i + 1 for i, h in enumerate(handlers) if h.name == "commands"), 0)
    handlers.insert(after_commands, HandoffCommands())
    before = next((i for i, h in enumerate(handlers) if h.name in ("smalltalk", "answers")), len(handlers))
    handlers.insert(before, HandoffRelay())
    dispatcher.add_menu_item(MenuItem("Gặp cán bộ", OPEN_PAYLOAD, "Gõ GẶP CÁN BỘ để trao đổi trực tiếp với cán bộ của Hội", 80))
