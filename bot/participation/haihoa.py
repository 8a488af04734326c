"""Hái hoa dân chủ: a random question from a pool of quiz questions and content bank entries.

A quiz question is asked with its choices and judged; a bank entry is asked with
its canonical question, and its answer is revealed (with its source) when the
member replies anything or taps "Xem đáp án".  Every draw is stored (counted in
the reports); the draw, not the conversation, holds what was asked.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from bot.conversation.dispatcher import Context, Handler
from bot.conversation.flow import (
    MENU_CHOICE,
    expiry,
    options_reply,
    pick_index,
    register_commands,
    takes_free_text,
)
from bot.core import models
from bot.core.models import Choice, Reply
from bot.participation.catalog import approved_entries, bank_entry, get_catalog
from bot.participation.quiz_flow import cite, explain

FLOW = "haihoa"
COMMANDS = register_commands(FLOW, "hái hoa", "hái hoa dân chủ", "hai hoa", "hái hoa tiếp", "câu hỏi hái hoa")
EXCLUDED_TOPICS = {"su-dung-bot"}  # how to use the bot is not quiz material
RECENT = 30  # a member does not get the same item again within this many draws
NEXT_CHOICE = Choice("Hái hoa tiếp", "HAIHOA_NEXT")


def pool(ctx: Context, get_bank: Callable[[], Any]) -> list[tuple[str, str]]:
    """(kind, item_id) of every question that can be drawn."""
    items: list[tuple[str, str]] = []
    for quiz in get_catalog(ctx.config).quizzes.values():
        items += [("quiz", f"{quiz.id}/{q.id}") for q in quiz.questions]
    for entry in approved_entries(get_bank):
        if entry.topic not in EXCLUDED_TOPICS and "{" not in entry.answer:
            items.append(("bank", entry.id))
    return items


def quiz_question(ctx: Context, item_id: str) -> Any:
    quiz_id, _, question_id = item_id.partition("/")
    quiz = get_catalog(ctx.config).quizzes.get(quiz_id)
    return quiz.question(question_id) if quiz else None


class HaiHoaHandler(Handler):
    """HÁI HOA: draw, ask, reveal."""

    name = FLOW

    def __init__(self, get_bank: Callable[[], Any], rng: random.Random | None = None):
        self.get_bank = get_bank
        self.rng = rng or random.Random()

    def handle(self, ctx: Context) -> bool:
        if ctx.event.kind not in (models.TEXT, models.POSTBACK):
            return False
        payload = ctx.event.payload or ""
        if payload in ("HAIHOA", "HAIHOA_NEXT") or (not payload and ctx.folded in COMMANDS):
            return self.draw(ctx)
        if payload.startswith(("HH:", "HH_REVEAL:")):
            return self.reveal(ctx, payload)
        if takes_free_text(ctx, FLOW):
            return self.reveal(ctx, None)
        return False

    def draw(self, ctx: Context) -> bool:
        items = pool(ctx, self.get_bank)
        if not items:
            ctx.say(Reply("Hiện chưa có câu hỏi hái hoa nào. Chị gõ câu hỏi để hỏi đáp nhé.", [MENU_CHOICE]))
            return True
        member_id = ctx.member["id"]  # type: ignore[index]
        recent = ctx.store.recent_draw_items(member_id, RECENT)
        fresh = [item for item in items if item[1] not in recent] or items
        kind, item_id = self.rng.choice(fresh)
        plan: list[int] = []
        question = quiz_question(ctx, item_id) if kind == "quiz" else None
        if question is not None:
            plan = list(range(len(question.choices)))
            self.rng.shuffle(plan)
        draw_id = ctx.store.add_draw(member_id=member_id, channel=ctx.event.channel, kind=kind, item_id=item_id, plan=plan, at=ctx.now)
        # a bank entry is an open question: a typed "b" is her answer, not the second button
        state = {"draw_id": draw_id} if question is not None else {"draw_id": draw_id, "free_text": True}
        ctx.set_flow(FLOW, state, expires_at=expiry(ctx, "FLOW_EXPIRY_MINUTES"))
        ctx.meta.update(command="haihoa", haihoa_item=item_id)
        if question is not None:
            options = [(question.choices[i], f"HH:{draw_id}:{i}") for i in plan]
            ctx.say(options_reply(ctx, f"🌸 Câu hỏi hái hoa: {question.text}", options,
                                  extras=[Choice("Xem đáp án", f"HH_REVEAL:{draw_id}")], letters=True))
            return True
        entry = bank_entry(self.get_bank, item_id)
        ctx.say(Reply(f"🌸 Câu hỏi hái hoa: {entry.question if entry else item_id}\nChị suy nghĩ rồi gõ câu trả lời của mình, "
                      "hoặc chọn “Xem đáp án”.", [Choice("Xem đáp án", f"HH_REVEAL:{draw_id}"), Choice("Câu khác", "HAIHOA_NEXT")]))
        return True

    def reveal(self, ctx: Context, payload: str | None) -> bool:
        chosen: int | None = None
        if payload and payload.startswith("HH:"):
            try:
                draw_id, chosen = (int(x) for x in payload[3:].split(":"))
            except ValueError:
                return False
        elif payload:
            draw_id = int(payload.split(":")[1]) if payload.split(":")[1].isdigit() else 0
        else:
            draw_id = (ctx.conversation.get("state") or {}).get("draw_id") or 0
        draw = ctx.store.get_draw(draw_id)
        current = (ctx.conversation.get("state") or {}).get("draw_id") if ctx.conversation.get("flow") == FLOW else None
        if draw is None or draw["member_id"] != (ctx.member or {}).get("id"):
            ctx.set_flow(None)
            return False
        if draw["answered_at"] is not None:
            if draw_id == current:
                ctx.set_flow(None)
            ctx.say(Reply("Câu này đã có đáp án rồi. Chị hái bông hoa khác nhé!", [NEXT_CHOICE, MENU_CHOICE]))
            return True
        if draw["kind"] == "quiz":
            question = quiz_question(ctx, draw["item_id"])
            if question is None:
                ctx.set_flow(None)
                ctx.say(Reply("Câu hỏi này không còn. Chị hái bông hoa khác nhé!", [NEXT_CHOICE, MENU_CHOICE]))
                return True
            if chosen is None and not (payload or "").startswith("HH_REVEAL:"):
                shown = pick_index(ctx.text, [question.choices[i] for i in draw["plan"]])
                if shown is None:
                    # the choices again (a typed "b" or "2" must still mean the second choice)
                    options = [(question.choices[i], f"HH:{draw_id}:{i}") for i in draw["plan"]]
                    ctx.say(options_reply(ctx, "Chị chọn một đáp án (chữ cái, số hoặc nội dung), hoặc chọn “Xem đáp án”.\n"
                                          f"🌸 Câu hỏi hái hoa: {question.text}", options,
                                          extras=[Choice("Xem đáp án", f"HH_REVEAL:{draw_id}")], letters=True))
                    return True
                chosen = draw["plan"][shown]
            correct = None if chosen is None else chosen == question.correct
            ctx.store.answer_draw(draw_id, correct=correct, at=ctx.now)
            text = explain(ctx, question, chosen, self.get_bank) if chosen is not None else (
                f"Đáp án: {question.choices[question.correct]}.\n{question.explanation}\n{cite(bank_entry(self.get_bank, question.source))}".strip()
            )
        else:
            entry = bank_entry(self.get_bank, draw["item_id"])
            ctx.store.answer_draw(draw_id, correct=None, at=ctx.now)
            text = "Đáp án: " + (entry.answer if entry else "(mục này không còn trong kho)")
            source = cite(entry)
            if source:
                text += "\n" + source
            if ctx.text and not payload:
                text = "Cảm ơn chị đã trả lời! " + text
        if current is None or draw_id == current:
            ctx.set_flow(None)  # an older flower's "Xem đáp án" leaves the current question open
        ctx.meta["haihoa_revealed"] = draw_id
        ctx.say(Reply(text, [NEXT_CHOICE, Choice("Thi tìm hiểu", "QUIZ_LIST"), MENU_CHOICE]))
        return True
