"""Questions, and taps on TOPICS / TOPIC: / ENTRY: choices, answered from the content bank."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from bot.answers import reply as answers
from bot.answers.bank import ContentBank
from bot.conversation.commands import self_menu_hint
from bot.conversation.dispatcher import Context, Handler
from bot.conversation.flow import button_capacity
from bot.core import models
from bot.core.models import Choice, Reply


class AnswerHandler(Handler):
    """Questions and taps on ENTRY:/TOPIC: choices, answered from the content bank."""

    name = "answers"

    def __init__(self, get_bank: Callable[[], ContentBank | None]):
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
        org = org_of(ctx.config)
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
        ctx.say(numbered_for_channel(ctx, result.reply))
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


_KEY = re.compile(r"^\d+\. ")


def numbered_for_channel(ctx: Context, reply: Reply) -> Reply:
    """Suggestion chips carry their line's number ("1. Lãnh hải"); a channel that shows choices
    as a numbered text list numbers them itself, so the key is left off there."""
    if button_capacity(ctx) >= len(reply.choices) or not any(_KEY.match(c.title) for c in reply.choices):
        return reply
    return dataclasses.replace(reply, choices=[Choice(_KEY.sub("", c.title), c.payload) for c in reply.choices])


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


def org_of(config: dict[str, Any]) -> dict[str, Any]:
    # DATA_RETENTION_MONTHS, BACKUP_KEEP: the {data_notice} and {data_rights} placeholders say how long data is kept
    keys = ("ORG_NAME", "ORG_PHONES", "ORG_EMAIL", "ORG_WEBSITE", "DATA_RETENTION_MONTHS", "BACKUP_KEEP")
    return {k: config.get(k) for k in keys}
