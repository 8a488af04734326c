"""The quiz in chat: THI lists the open quizzes; questions come one at a time.

The attempt lives in the database (quiz_attempts: the shuffled plan, the
position, the score), the conversation row only points at it, so a restart
changes nothing.  Answers come as a tap (payload ``QA:<attempt>:<position>:<choice>``),
a letter, a number or the choice's text.  An attempt with no answer for
QUIZ_ATTEMPT_EXPIRY_MINUTES expires and is not scored.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from typing import Any

from bot.answers.citation import source_line
from bot.answers.sources import SourcesFileError, load_rules
from bot.conversation.dispatcher import Context, Handler
from bot.conversation.flow import (
    MENU_CHOICE,
    expiry,
    format_duration,
    format_time,
    options_reply,
    pick_index,
    register_commands,
    takes_free_text,
)
from bot.core import models
from bot.core.models import Choice, Reply
from bot.participation.catalog import bank_entry, get_catalog
from bot.participation.quizzes import Question, Quiz

logger = logging.getLogger(__name__)

FLOW = "quiz"
QUIZ_COMMANDS = register_commands(FLOW, "thi", "thi trắc nghiệm", "làm bài thi", "bắt đầu thi", "thi tìm hiểu", "vào thi", "quiz")
TIME_GRACE_SECONDS = 3.0  # network and typing delay on top of a question's time limit
STOP_CHOICE = Choice("Dừng thi", "QUIZ_STOP")


def answer_seconds(ctx: Context, attempt: dict[str, Any]) -> float:
    """How long the member took: from when the question was actually sent (its outbox
    send time) to the platform's time of the answer, so queue delays on either side
    never count against the member."""
    if "question_sent_at" in attempt:  # read with the attempt (get_attempt(with_sent_at=True))
        sent_at = attempt["question_sent_at"]
    else:
        sent_at = ctx.store.question_sent_at(attempt["channel"], attempt.get("asked_event_key"))
    if sent_at is None:  # not through the inbox (simulator tests, CLI) or not sent yet
        sent_at = attempt["asked_at"]
    timestamp = ctx.event.timestamp
    answered_at = min(timestamp, ctx.now) if timestamp and timestamp > 0 else ctx.now
    return max(0.0, answered_at - sent_at)


def cite(entry: Any) -> str:
    """'Nguồn: <short name>, <date> – <url>': the entry's first source members may see ('' without one).

    Quiz feedback shows one short source, as :func:`bot.answers.citation.source_line` renders
    it; the full list stays in the entry for staff.
    """
    if entry is None or not entry.sources:
        return ""
    try:
        rules = load_rules(os.path.dirname(os.path.dirname(entry.file)) if entry.file else None)
    except SourcesFileError:
        rules = None
    return source_line(entry, rules=rules, limit=1)


def explain(ctx: Context, question: Question, chosen: int | None, get_bank: Callable[[], Any], *, timed_out: bool = False) -> str:
    """Right or wrong, the right answer, the explanation and its source."""
    right = chosen == question.correct and not timed_out
    if timed_out:
        head = f"⏰ Hết thời gian trả lời câu này ({question.time_limit} giây)."
    elif right:
        head = "✅ Chính xác!"
    else:
        head = "❌ Chưa đúng."
    lines = [head if right else f"{head} Đáp án đúng: {question.choices[question.correct]}.", question.explanation]
    source = cite(bank_entry(get_bank, question.source))
    if source:
        lines.append(source)
    return "\n".join(lines)


def question_reply(ctx: Context, quiz: Quiz, attempt: dict[str, Any], intro: str = "") -> Reply:
    """The attempt's current question with its choices in the attempt's order."""
    position = attempt["position"]
    question_id, order = attempt["plan"][position]
    question = quiz.question(question_id)
    assert question is not None
    text = f"Câu {position + 1}/{attempt['total']}: {question.text}"
    if question.time_limit:
        text += f"\n(Chị trả lời trong {question.time_limit} giây.)"
    options = [(question.choices[i], f"QA:{attempt['id']}:{position}:{i}") for i in order]
    reply = options_reply(ctx, text, options, extras=[STOP_CHOICE], letters=True)
    if intro:
        reply.text = f"{intro}\n\n{reply.text}"
    return reply


class QuizHandler(Handler):
    """THI, starting and resuming attempts, and answers."""

    name = FLOW

    def __init__(self, get_bank: Callable[[], Any]):
        self.get_bank = get_bank  # quiz explanations cite the source entry

    def handle(self, ctx: Context) -> bool:
        if ctx.event.kind not in (models.TEXT, models.POSTBACK):
            return False
        payload = ctx.event.payload or ""
        if payload == "QUIZ_LIST" or (not payload and ctx.folded in QUIZ_COMMANDS):
            return self.list(ctx)
        if payload.startswith("QUIZ_START:"):
            return self.start(ctx, payload[len("QUIZ_START:"):])
        if payload == "QUIZ_STOP":
            return self.pause(ctx)
        if payload.startswith("QA:"):
            return self.answer(ctx, payload)
        if takes_free_text(ctx, FLOW):
            return self.answer(ctx, None)
        return False

    def on_expired(self, ctx: Context) -> None:
        attempt_id = (ctx.conversation.get("state") or {}).get("attempt_id")
        attempt = ctx.store.get_attempt(attempt_id) if attempt_id else None
        if attempt is None or attempt["state"] != "active":
            return
        ctx.store.end_attempt(attempt["id"], "expired", at=ctx.now)
        ctx.meta["quiz_expired"] = attempt["id"]
        quiz = get_catalog(ctx.config).quizzes.get(attempt["quiz_id"])
        minutes = int(float(ctx.config["QUIZ_ATTEMPT_EXPIRY_MINUTES"]))
        ctx.say(f"Lượt thi “{quiz.title if quiz else attempt['quiz_id']}” đã hết hạn vì quá {minutes} phút chưa có câu "
                "trả lời; lượt này không được tính điểm. Gõ THI để thi lại.")

    # -- listing and starting --------------------------------------------------
    def _expire_stale(self, ctx: Context) -> None:
        minutes = float(ctx.config.get("QUIZ_ATTEMPT_EXPIRY_MINUTES") or 0)
        if minutes > 0:
            ctx.store.expire_stale_attempts(before=ctx.now - minutes * 60, at=ctx.now, member_id=ctx.member["id"])  # type: ignore[index]

    def list(self, ctx: Context) -> bool:
        self._expire_stale(ctx)
        catalog = get_catalog(ctx.config)
        tz = ctx.config["TIMEZONE"]
        quizzes = catalog.open_quizzes(ctx.now, tz)
        ctx.meta["command"] = "quiz_list"
        if not quizzes:
            upcoming = sorted((q for q in catalog.quizzes.values() if q.status(ctx.now, tz) == "upcoming"), key=lambda q: q.opens)
            text = "Hiện chưa có bài thi nào đang mở."
            if upcoming:
                text += " Sắp mở: " + "; ".join(f"“{q.title}” từ {format_time(q.window(tz)[0], tz)}" for q in upcoming[:3]) + "."
            ctx.say(Reply(text + " Trong lúc chờ, chị có thể hái hoa dân chủ để ôn luyện.", [Choice("Hái hoa dân chủ", "HAIHOA"), MENU_CHOICE]))
            return True
        lines = ["Các bài thi đang mở:"]
        options = []
        for quiz in quizzes:
            note = f"{len(quiz.questions)} câu, hạn đến {format_time(quiz.window(tz)[1], tz)}"
            active = ctx.store.active_attempt(ctx.member["id"], quiz.id)  # type: ignore[index]
            if active:
                note += f"; chị đang làm dở câu {active['position'] + 1}"
            lines.append(f"– {quiz.title} ({note})")
            options.append((quiz.title, f"QUIZ_START:{quiz.id}"))
        lines.append("Kết quả thi được lưu để tổng hợp theo đơn vị (xem: DỮ LIỆU CỦA TÔI). Chị chọn bài thi:")
        ctx.say(options_reply(ctx, "\n".join(lines), options, extras=[MENU_CHOICE]))
        return True

    def start(self, ctx: Context, quiz_id: str) -> bool:
        catalog = get_catalog(ctx.config)
        tz = ctx.config["TIMEZONE"]
        quiz = catalog.quizzes.get(quiz_id)
        member = ctx.member or {}
        if quiz is None:
            ctx.say(Reply("Bài thi này không còn. Gõ THI để xem các bài thi đang mở.", [MENU_CHOICE]))
            return True
        status = quiz.status(ctx.now, tz)
        opens, closes = quiz.window(tz)
        if status == "closed":
            ctx.meta["command"] = "quiz_closed"
            ctx.say(Reply(f"Bài thi “{quiz.title}” đã đóng từ {format_time(closes, tz)}. Gõ THI để xem các bài thi đang mở.",
                          [Choice("Bài thi khác", "QUIZ_LIST"), MENU_CHOICE]))
            return True
        if status == "upcoming":
            ctx.say(Reply(f"Bài thi “{quiz.title}” chưa mở; sẽ mở từ {format_time(opens, tz)}.", [MENU_CHOICE]))
            return True
        self._expire_stale(ctx)
        active = ctx.store.active_attempt(member["id"], quiz.id)
        if active is not None:
            return self._next(ctx, quiz, active, f"Chị đang làm dở bài “{quiz.title}”, tiếp tục nhé.")
        used = ctx.store.count_attempts(member["id"], quiz.id)
        if quiz.attempts_allowed and used >= quiz.attempts_allowed:
            ctx.say(Reply(f"Chị đã thi đủ {quiz.attempts_allowed} lượt cho bài “{quiz.title}”. Cảm ơn chị đã tham gia!",
                          [Choice("Hái hoa dân chủ", "HAIHOA"), MENU_CHOICE]))
            return True
        seed = secrets.randbelow(2**31)
        attempt_id = ctx.store.start_attempt(
            quiz_id=quiz.id, member_id=member["id"], unit_code=member.get("unit_code"), channel=ctx.event.channel,
            seed=seed, plan=quiz.plan(seed), at=ctx.now, event_key=ctx.event.event_key,
        )
        attempt = ctx.store.get_attempt(attempt_id)
        assert attempt is not None
        self._flow(ctx, attempt)
        ctx.meta["command"] = "quiz_start"
        intro = (f"Bắt đầu bài thi “{quiz.title}” gồm {attempt['total']} câu. Chị trả lời bằng cách chạm vào đáp án, "
                 "hoặc gõ chữ cái, số thứ tự hay nội dung đáp án.")
        ctx.say(question_reply(ctx, quiz, attempt, intro))
        return True

    def on_cancel(self, ctx: Context) -> bool:
        """"hủy", "thôi", "dừng lại" during a quiz: pause it (the attempt can be resumed, as with "Dừng thi")."""
        return self.pause(ctx)

    def pause(self, ctx: Context) -> bool:
        ctx.set_flow(None)
        minutes = int(float(ctx.config.get("QUIZ_ATTEMPT_EXPIRY_MINUTES") or 0))
        later = f"trong vòng {minutes} phút" if minutes else "khi nào tiện"
        ctx.say(Reply(f"Đã tạm dừng bài thi. Chị gõ THI {later} để làm tiếp.", [Choice("Làm tiếp", "QUIZ_LIST"), MENU_CHOICE]))
        return True

    def _flow(self, ctx: Context, attempt: dict[str, Any]) -> None:
        ctx.set_flow(FLOW, {"attempt_id": attempt["id"]}, expires_at=expiry(ctx, "QUIZ_ATTEMPT_EXPIRY_MINUTES"))

    # -- answering -------------------------------------------------------------
    def answer(self, ctx: Context, payload: str | None) -> bool:
        tapped: tuple[int, int, int] | None = None
        if payload:
            try:
                attempt_id, position, choice = (int(x) for x in payload[3:].split(":"))
            except ValueError:
                return False
            tapped = (attempt_id, position, choice)
        else:
            attempt_id = (ctx.conversation.get("state") or {}).get("attempt_id")
        attempt = ctx.store.get_attempt(attempt_id, with_sent_at=True) if attempt_id else None
        if attempt is None or attempt["member_id"] != (ctx.member or {}).get("id"):
            ctx.set_flow(None)
            ctx.say(Reply("Không tìm thấy lượt thi này. Gõ THI để bắt đầu.", [MENU_CHOICE]))
            return True
        quiz = get_catalog(ctx.config).quizzes.get(attempt["quiz_id"])
        if not self._still_open(ctx, attempt, quiz):
            return True
        assert quiz is not None
        position = attempt["position"]
        question_id, order = attempt["plan"][position]
        question = quiz.question(question_id)
        if question is None:  # removed from the file during the attempt: it counts as not answered
            ctx.store.record_answer(attempt["id"], position=position, question_id=question_id, choice=None,
                                    correct=False, at=ctx.now, elapsed=0.0, event_key=ctx.event.event_key)
            return self._next(ctx, quiz, attempt, "")
        if tapped and tapped[1] != position:
            ctx.say(question_reply(ctx, quiz, attempt, "Câu đó chị đã trả lời rồi. Câu hiện tại:"))
            return True
        if tapped:
            chosen: int | None = tapped[2] if 0 <= tapped[2] < len(question.choices) else None
        else:
            shown = pick_index(ctx.text, [question.choices[i] for i in order])
            chosen = order[shown] if shown is not None else None
        if chosen is None:
            ctx.meta["quiz_invalid"] = True
            ctx.say(question_reply(ctx, quiz, attempt, "Trợ lý chưa nhận ra đáp án. Chị chạm vào một đáp án, hoặc gõ chữ "
                                   "cái (A, B…), số thứ tự hay nội dung đáp án. Gõ MENU nếu muốn dừng thi."))
            return True
        elapsed = answer_seconds(ctx, attempt)
        timed_out = bool(question.time_limit) and elapsed > question.time_limit + TIME_GRACE_SECONDS
        correct = chosen == question.correct and not timed_out
        moved = ctx.store.record_answer(attempt["id"], position=position, question_id=question.id, choice=chosen,
                                        correct=correct, at=ctx.now, elapsed=elapsed, event_key=ctx.event.event_key)
        if moved is None:
            return True  # a duplicate delivery of the same answer
        ctx.meta.update(quiz_answer=question.id, correct=correct)
        return self._next(ctx, quiz, moved, explain(ctx, question, chosen, self.get_bank, timed_out=timed_out), fresh=True)

    def _still_open(self, ctx: Context, attempt: dict[str, Any], quiz: Quiz | None) -> bool:
        """False (after telling her) when the quiz has closed or the attempt has expired or ended."""
        tz = ctx.config["TIMEZONE"]
        if attempt["state"] == "active":
            minutes = float(ctx.config.get("QUIZ_ATTEMPT_EXPIRY_MINUTES") or 0)
            if quiz is None or quiz.status(ctx.now, tz) == "closed":
                ctx.store.end_attempt(attempt["id"], "closed", at=ctx.now)
                ctx.set_flow(None)
                when = format_time(quiz.window(tz)[1], tz) if quiz else ""
                ctx.say(Reply(f"Bài thi đã đóng{' từ ' + when if when else ''}; lượt thi của chị dừng ở câu "
                              f"{attempt['position'] + 1} và không được xếp hạng.", [Choice("Bài thi khác", "QUIZ_LIST"), MENU_CHOICE]))
                return False
            if minutes > 0 and attempt["asked_at"] < ctx.now - minutes * 60:
                ctx.store.end_attempt(attempt["id"], "expired", at=ctx.now)
                attempt["state"] = "expired"
        if attempt["state"] != "active":
            ctx.set_flow(None)
            if ctx.meta.get("quiz_expired") != attempt["id"]:  # on_expired has said it already
                word = "đã hết hạn" if attempt["state"] == "expired" else "đã kết thúc"
                ctx.say(Reply(f"Lượt thi này {word}. Gõ THI để thi lại.", [Choice("Thi lại", "QUIZ_LIST"), MENU_CHOICE]))
            return False
        return True

    def _next(self, ctx: Context, quiz: Quiz, attempt: dict[str, Any], feedback: str, *, fresh: bool = False) -> bool:
        """``fresh``: ``attempt`` was just returned by the store (no need to read it again)."""
        if not fresh:
            attempt = ctx.store.get_attempt(attempt["id"]) or attempt
        while attempt["position"] < attempt["total"] and quiz.question(attempt["plan"][attempt["position"]][0]) is None:
            # removed from the file during the attempt: it counts as not answered
            ctx.store.record_answer(attempt["id"], position=attempt["position"], question_id=attempt["plan"][attempt["position"]][0],
                                    choice=None, correct=False, at=ctx.now, elapsed=0.0, event_key=ctx.event.event_key)
            attempt = ctx.store.get_attempt(attempt["id"]) or attempt
        if attempt["position"] < attempt["total"]:
            self._flow(ctx, attempt)
            ctx.say(question_reply(ctx, quiz, attempt, feedback))
            return True
        ctx.store.end_attempt(attempt["id"], "finished", at=ctx.now)
        ctx.set_flow(None)
        ctx.say(Reply(feedback + "\n\n" + self._result(ctx, quiz, attempt), self._after_choices(ctx, quiz)))
        return True

    def _result(self, ctx: Context, quiz: Quiz, attempt: dict[str, Any]) -> str:
        member = ctx.member or {}
        finished = ctx.store.get_attempt(attempt["id"]) or attempt
        lines = [
            f"🎉 Chị đã hoàn thành bài thi “{quiz.title}”!",
            f"Điểm: {finished['score']}/{finished['total']} câu đúng.",
            f"Thời gian: {format_duration(finished['duration'])}.",
        ]
        unit = member.get("unit_code")
        rank = ctx.store.unit_rank(quiz.id, member["id"], unit) if unit else None
        if rank:
            label = get_catalog(ctx.config).units.label(unit)
            lines.append(f"Xếp hạng trong {label}: {rank[0]}/{rank[1]} (theo kết quả tốt nhất của mỗi người).")
        else:
            lines.append("Chị chưa khai báo đơn vị nên chưa có xếp hạng theo chi hội. Gõ ĐĂNG KÝ để khai báo.")
        ctx.meta["quiz_finished"] = {"score": finished["score"], "total": finished["total"], "rank": rank}
        return "\n".join(lines)

    def _after_choices(self, ctx: Context, quiz: Quiz) -> list[Choice]:
        choices = []
        left = quiz.attempts_allowed - ctx.store.count_attempts(ctx.member["id"], quiz.id) if quiz.attempts_allowed else 1  # type: ignore[index]
        if left > 0:
            choices.append(Choice("Thi lại", f"QUIZ_START:{quiz.id}"))
        return choices + [Choice("Hái hoa dân chủ", "HAIHOA"), MENU_CHOICE]
