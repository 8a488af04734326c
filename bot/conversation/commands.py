"""The conversation's own commands: greetings, DỪNG / ĐĂNG KÝ NHẬN TIN, MENU."""

from __future__ import annotations

import logging
import unicodedata
from typing import Any

from bot.conversation.dispatcher import (
    Context,
    Dispatcher,
    Handler,
    menu_reply,
)
from bot.conversation.smalltalk import media_reply
from bot.core import models
from bot.core.models import Choice, Reply

logger = logging.getLogger(__name__)

STOP_COMMANDS = {"dung", "stop", "huy", "dung nhan tin", "huy nhan tin", "huy dang ky", "unsubscribe"}
RESUBSCRIBE_COMMANDS = {"dang ky nhan tin", "dang ki nhan tin", "nhan tin lai", "subscribe"}
MENU_COMMANDS = {"menu", "tro giup", "help", "huong dan", "bat dau", "start"}
# Inside a flow (registration, quiz, hái hoa, contest report...) these cancel that flow only;
# outside a flow "hủy" still stops broadcasts (STOP_COMMANDS).  "dừng" alone always means DỪNG.
CANCEL_COMMANDS = {
    "huy", "huy bo", "huy a", "thoi", "thoi a", "thoi khong", "thoi khoi", "dung lai", "dung lai a", "thoat", "cancel",
    "khong lam nua", "thoi khong lam nua", "khong muon nua", "huy dang ky", "ngung lai",
}
FLOW_NAMES = {
    "registration": "việc đăng ký (thông tin vừa nhập chưa được lưu)",
    "quiz": "bài thi",
    "haihoa": "câu hái hoa",
    "contest": "việc báo cáo tham gia cuộc thi",
    "privacy": "yêu cầu xóa dữ liệu (dữ liệu của chị vẫn giữ nguyên)",
}


def greeting(config: dict[str, Any]) -> str:
    return (
        f"Xin chào! Đây là trợ lý hỏi đáp tự động của {config['ORG_NAME']} về biên giới, biển, đảo "
        "và phong trào “Toàn dân tham gia bảo vệ chủ quyền lãnh thổ, an ninh biên giới quốc gia "
        "trong tình hình mới”. Chị có thể gõ câu hỏi, ví dụ: “Bờ biển Việt Nam dài bao nhiêu km?”. "
        "Gõ MENU để xem các chức năng. Nếu không muốn nhận tin nhắn định kỳ, gõ DỪNG bất cứ lúc nào."
    )


class CommandHandler(Handler):
    """Greeting, DỪNG / ĐĂNG KÝ NHẬN TIN, MENU, and events that are not questions."""

    name = "commands"

    def __init__(self, dispatcher: Dispatcher):
        self.dispatcher = dispatcher

    def handle(self, ctx: Context) -> bool:
        event = ctx.event
        member = ctx.member
        assert member is not None
        if event.kind == models.UNFOLLOW:
            ctx.store.set_member_status(member["id"], "unfollowed", "unfollow")
            ctx.meta["command"] = "unfollow"
            return True
        if event.kind == models.FOLLOW or event.payload == "GET_STARTED":
            if member["status"] == "unfollowed":
                ctx.store.set_member_status(member["id"], "active", None)
            ctx.say(self._menu(ctx, intro=greeting(ctx.config)))
            ctx.meta["command"] = "greeting"
            return True
        if event.kind == models.UNSUPPORTED:
            # a sticker, a picture, a voice message...: a friendly word, never the no-answer apology
            if ctx.first_contact and not event.is_group:
                ctx.say(greeting(ctx.config))
            ctx.say(media_reply(event))
            ctx.meta["command"] = "unsupported"
            return True
        if event.kind not in (models.TEXT, models.POSTBACK):
            return True  # e.g. submit_info without a flow that wants it: nothing to say

        folded = ctx.folded
        payload = event.payload
        flow = ctx.conversation.get("flow")
        if flow and not payload and folded in CANCEL_COMMANDS:
            return self._cancel_flow(ctx, flow)
        # "đúng" (yes) folds to "dung" like "dừng" (stop): only the spelling tells them apart
        if (folded in STOP_COMMANDS and unicodedata.normalize("NFC", ctx.text).lower().strip(" .!") != "đúng") or payload == "DUNG":
            ctx.store.set_subscribed(member["id"], False)
            ctx.set_flow(None)
            ctx.say(
                "Đã dừng gửi tin nhắn định kỳ cho chị. Chị vẫn có thể hỏi đáp bình thường. "
                "Khi muốn nhận lại, gõ ĐĂNG KÝ NHẬN TIN."
            )
            ctx.meta["command"] = "unsubscribe"
            return True
        if folded in RESUBSCRIBE_COMMANDS or payload == "DANG_KY_NHAN_TIN":
            ctx.store.set_subscribed(member["id"], True)
            ctx.say("Chị đã đăng ký nhận tin trở lại. Khi không muốn nhận nữa, gõ DỪNG.")
            ctx.meta["command"] = "resubscribe"
            return True
        if folded in MENU_COMMANDS or payload in ("MENU", "MENU_FAQ"):
            ctx.set_flow(None)
            ctx.say(self._menu(ctx))
            ctx.meta["command"] = "menu"
            return True
        if ctx.first_contact and not event.is_group:
            ctx.say(greeting(ctx.config))  # then let the question itself be answered
            ctx.meta["welcomed"] = True  # small talk ("xin chào") adds the menu, not a second welcome
        return False

    def _cancel_flow(self, ctx: Context, flow: str) -> bool:
        """"hủy", "thôi", "dừng lại" inside a flow: end that flow and say so; subscriptions stay as they are."""
        ctx.meta["command"] = "cancel_flow"
        ctx.meta["cancelled_flow"] = flow
        for handler in self.dispatcher.handlers:
            on_cancel = getattr(handler, "on_cancel", None)
            if on_cancel is not None and handler.name == flow and on_cancel(ctx):
                return True  # the flow said it in its own words (e.g. the quiz can be resumed)
        ctx.set_flow(None)
        what = FLOW_NAMES.get(flow, "thao tác đang làm")
        ctx.say(
            Reply(
                f"Đã hủy {what}. Chị vẫn nhận tin nhắn định kỳ như bình thường (muốn ngừng nhận, gõ DỪNG). "
                "Chị có thể gõ câu hỏi, hoặc chọn Menu.",
                [Choice("Menu", "MENU")],
            )
        )
        return True

    def _menu(self, ctx: Context, intro: str | None = None) -> Reply:
        return menu_reply(self.dispatcher.menu_items, ctx.config, intro=intro)


def self_menu_hint() -> str:
    return "Chị hãy gõ câu hỏi, hoặc gõ MENU để xem các chức năng."
