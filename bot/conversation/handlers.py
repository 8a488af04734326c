"""The core handlers: greetings, subscription commands, the menu, and questions."""

from __future__ import annotations

import logging
import unicodedata
from typing import Any

from bot.conversation.dispatcher import (
    Context,
    Dispatcher,
    Handler,
    MenuItem,
    menu_reply,
)
from bot.core import models
from bot.core.models import Choice, Reply

logger = logging.getLogger(__name__)

STOP_COMMANDS = {"dung", "stop", "huy", "dung nhan tin", "huy nhan tin", "huy dang ky", "unsubscribe"}
RESUBSCRIBE_COMMANDS = {"dang ky nhan tin", "dang ki nhan tin", "nhan tin lai", "subscribe"}
MENU_COMMANDS = {"menu", "tro giup", "help", "huong dan", "bat dau", "start"}


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
            ctx.say(
                "Hiện trợ lý chỉ đọc được tin nhắn dạng chữ. Chị vui lòng gõ câu hỏi bằng chữ, "
                "hoặc gõ MENU để xem các chức năng."
            )
            ctx.meta["command"] = "unsupported"
            return True
        if event.kind not in (models.TEXT, models.POSTBACK):
            return True  # e.g. submit_info without a flow that wants it: nothing to say

        folded = ctx.folded
        payload = event.payload
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
        return False

    def _menu(self, ctx: Context, intro: str | None = None) -> Reply:
        return menu_reply(self.dispatcher.menu_items, ctx.config, intro=intro)


class AnswerHandler(Handler):
    """Questions and taps on ENTRY:/TOPIC: choices, answered from the content bank."""

    name = "answers"

    def __init__(self, get_bank: Any):
        self.get_bank = get_bank

    def handle(self, ctx: Context) -> bool:
        event = ctx.event
        if event.kind not in (models.TEXT, models.POSTBACK):
            return False
        bank = self.get_bank()
        payload = event.payload or ""
        if bank is None:
            ctx.say(
                "Xin lỗi, trợ lý chưa thể trả lời câu hỏi lúc này vì kho nội dung chưa sẵn sàng. "
                "Gõ MENU để xem các chức năng khác."
            )
            ctx.meta.update(decision="fallback", entry_id=None, score=0.0)
            return True
        from bot.answers import reply as answers

        org = _org(ctx.config)
        if payload == "TOPICS":
            ctx.say(topics_reply(bank))
            return True
        if payload.startswith("TOPIC:"):
            ctx.say(topic_reply(bank, payload[len("TOPIC:") :]))
            return True
        if payload.startswith("ENTRY:"):
            entry = bank.get(payload[len("ENTRY:") :])
            if entry is not None:
                ctx.say(answers.entry_reply(entry, bank, org))
                ctx.meta.update(decision="answer", entry_id=entry.id, score=1.0)
                ctx.store.log_question(
                    member_id=ctx.member["id"] if ctx.member else None,
                    channel=event.channel,
                    text=event.text or entry.question,
                    at=ctx.now,
                    decision="answer",
                    entry_id=entry.id,
                    score=1.0,
                    candidates=[],
                )
                return True
        if not ctx.text:
            ctx.say(self_menu_hint())
            return True
        result = answers.answer(
            ctx.text,
            bank,
            org=org,
            answer_threshold=ctx.config["ANSWER_THRESHOLD"],
            suggest_threshold=ctx.config["SUGGEST_THRESHOLD"],
        )
        ctx.say(result.reply)
        ctx.meta.update(decision=result.decision, entry_id=result.entry_id, score=result.score)
        ctx.store.log_question(
            member_id=ctx.member["id"] if ctx.member else None,
            channel=event.channel,
            text=ctx.text,
            at=ctx.now,
            decision=result.decision,
            entry_id=result.entry_id,
            score=result.score,
            candidates=result.candidates,
        )
        return True


def self_menu_hint() -> str:
    return "Chị hãy gõ câu hỏi, hoặc gõ MENU để xem các chức năng."


def topics_reply(bank: Any) -> Reply:
    topics = [t for t in bank.topics if any(e.topic == t.id for e in bank.approved)]
    return Reply(
        "Chị chọn một chủ đề, hoặc gõ thẳng câu hỏi:",
        [Choice(t.title, f"TOPIC:{t.id}") for t in topics],
    )


def topic_reply(bank: Any, topic_id: str) -> Reply:
    entries = [e for e in bank.approved if e.topic == topic_id][:10]
    if not entries:
        return Reply("Chủ đề này chưa có câu hỏi nào. Gõ MENU để xem các chức năng.", [Choice("Menu", "MENU")])
    lines = ["Một số câu hỏi thường gặp:"] + [f"{i}. {e.question}" for i, e in enumerate(entries, 1)]
    lines.append("Chị gõ số thứ tự để xem câu trả lời, hoặc gõ câu hỏi của mình.")
    return Reply("\n".join(lines), [Choice(f"Câu {i}", f"ENTRY:{e.id}") for i, e in enumerate(entries, 1)])


def _org(config: dict[str, Any]) -> dict[str, Any]:
    return {k: config[k] for k in ("ORG_NAME", "ORG_PHONES", "ORG_EMAIL", "ORG_WEBSITE")}


def build_dispatcher(config: dict[str, Any], services: Any, get_bank: Any) -> Dispatcher:
    """The dispatcher with the core handlers and menu; features add theirs here."""
    dispatcher = Dispatcher([], config=config, services=services)
    dispatcher.handlers.append(CommandHandler(dispatcher))
    # ongoing conversations (quiz, registration...) plug in here, before questions
    from bot.participation.install import install_participation

    install_participation(dispatcher)  # submit_info first; privacy, registration, quiz, hái hoa, contest here
    dispatcher.handlers.append(AnswerHandler(get_bank))
    dispatcher.add_menu_item(
        MenuItem("Hỏi đáp theo chủ đề", "TOPICS", "Hỏi về biên giới, biển, đảo, pháp luật và các chương trình của Hội", 10)
    )
    dispatcher.add_menu_item(MenuItem("Dừng nhận tin", "DUNG", "Gõ DỪNG để ngừng nhận tin nhắn định kỳ (gõ ĐĂNG KÝ NHẬN TIN để nhận lại)", 90))
    return dispatcher
