"""THAM GIA CUỘC THI: a member reports taking part in a contest (choose, confirm, optional note)."""

from __future__ import annotations

import datetime as dt

from bot.conversation.dispatcher import Context, Handler
from bot.conversation.flow import (
    MENU_CHOICE,
    expiry,
    format_time,
    local_date,
    options_reply,
    register_commands,
    takes_free_text,
)
from bot.core import models
from bot.core.models import Choice, Reply
from bot.participation.catalog import get_catalog
from bot.participation.contests import Contest

FLOW = "contest"
COMMANDS = register_commands(
    FLOW, "tham gia cuộc thi", "báo tham gia cuộc thi", "báo cáo tham gia cuộc thi", "báo cáo cuộc thi", "đã tham gia cuộc thi",
    "tham gia cuoc thi",
)
NOTE_MAX = 300
# typed answers to "Chị xác nhận đã tham gia…?" / "Chị có muốn bổ sung…?" (folded)
YES = {"co", "co a", "vang", "vang a", "da", "da co", "roi", "co roi", "da roi", "dung roi", "ok", "xac nhan", "dong y",
       "da tham gia", "da tham gia roi", "toi da tham gia", "co bo sung", "bo sung"}
NO = {"khong", "khong a", "chua", "chua a", "chua tham gia", "khong co", "khong bo sung", "thoi"}
SKIP = Choice("Bỏ qua", "CONTEST_NOTE_SKIP")


def _within_period(contest: Contest, today: str) -> str:
    """The day a self-report counts on: today, moved into the contest's period (a report made after
    the end counts on the last day, so the contest's period in the reports includes it)."""
    day = dt.date.fromisoformat(today)
    if contest.ends and day > contest.ends:
        day = contest.ends
    if contest.starts and day < contest.starts:
        day = contest.starts
    return day.isoformat()


def contest_details(contest: Contest) -> str:
    unverified = set(contest.unverified)
    organiser = contest.organiser or "chưa rõ"
    if "organiser" in unverified:
        organiser += " (chưa xác minh)"
    lines = [f"Cuộc thi: {contest.name}", f"Đơn vị tổ chức: {organiser}", f"Thời gian: {contest.dates_text()}"]
    if contest.note:
        lines.append(f"Ghi chú: {contest.note}")
    return "\n".join(lines)


class ContestHandler(Handler):
    """The contest participation flow."""

    name = FLOW

    def handle(self, ctx: Context) -> bool:
        if ctx.event.kind not in (models.TEXT, models.POSTBACK):
            return False
        payload = ctx.event.payload or ""
        if payload == "CONTEST_LIST" or (not payload and ctx.folded in COMMANDS):
            return self.list(ctx)
        if payload.startswith("CONTEST_PICK:"):
            return self.pick(ctx, payload.split(":", 1)[1])
        if payload.startswith("CONTEST_YES:"):
            return self.confirm(ctx, payload.split(":", 1)[1])
        if payload.startswith("CONTEST_NOTE:"):
            return self.ask_note(ctx, payload.split(":", 1)[1])
        if payload == "CONTEST_NOTE_SKIP":
            ctx.set_flow(None)
            ctx.say(Reply("Đã xong. Cảm ơn chị đã báo cáo!" + self._register_hint(ctx), [MENU_CHOICE]))
            return True
        state = ctx.conversation.get("state") or {}
        if takes_free_text(ctx, FLOW) and state.get("step") == "note":
            return self.save_note(ctx, int(state["participation_id"]))
        if takes_free_text(ctx, FLOW) and state.get("step") == "confirm":
            return self.typed_answer(ctx, state)
        return False

    def typed_answer(self, ctx: Context, state: dict) -> bool:
        """A typed yes or no to the question asked by :meth:`pick`; anything else is left to the other handlers."""
        contest_id = str(state.get("contest_id") or "")
        ctx.set_flow(None)
        if ctx.folded in YES:
            return self.ask_note(ctx, contest_id) if state.get("reported") else self.confirm(ctx, contest_id)
        if ctx.folded in NO:
            ctx.say(Reply("Vâng, trợ lý chưa ghi nhận gì thêm.", [Choice("Cuộc thi khác", "CONTEST_LIST"), MENU_CHOICE]))
            return True
        return False

    def list(self, ctx: Context) -> bool:
        if ctx.conversation.get("flow") == FLOW:  # a question or note left open is over
            ctx.set_flow(None)
        today = dt.date.fromisoformat(local_date(ctx.now, ctx.config["TIMEZONE"]))
        # not those that ended long ago (CONTEST_OFFER_DAYS_AFTER_END)
        contests = get_catalog(ctx.config).reportable_contests(today, int(ctx.config.get("CONTEST_OFFER_DAYS_AFTER_END", 30)))
        ctx.meta["command"] = "contest_list"
        if not contests:
            ctx.say(Reply("Hiện chưa có cuộc thi nào để báo cáo. Khi Hội thông báo cuộc thi mới, chị quay lại nhé.", [MENU_CHOICE]))
            return True
        options = [(c.name, f"CONTEST_PICK:{c.id}") for c in contests[:8]]
        ctx.say(options_reply(ctx, "Chị đã tham gia cuộc thi nào? Chọn để báo cáo với Hội:", options, extras=[MENU_CHOICE]))
        return True

    def pick(self, ctx: Context, contest_id: str) -> bool:
        contest = get_catalog(ctx.config).contests.get(contest_id)
        if contest is None or not contest.reportable:
            ctx.say(Reply("Cuộc thi này không còn trong danh sách.", [Choice("Cuộc thi khác", "CONTEST_LIST"), MENU_CHOICE]))
            return True
        link = (contest.link_title, contest.link) if contest.link else None
        existing = ctx.store.member_participation(ctx.member["id"], contest.id)  # type: ignore[index]
        if existing is not None:
            when = existing["participated_on"] or format_time(existing["reported_at"], ctx.config["TIMEZONE"], with_time=False)
            self._await_answer(ctx, contest.id, reported=True)
            ctx.say(Reply(f"{contest_details(contest)}\n\nChị đã báo tham gia cuộc thi này ({when}). Chị có muốn bổ sung kết quả "
                          "hoặc ghi chú không?", [Choice("Bổ sung ghi chú", f"CONTEST_NOTE:{contest.id}"), MENU_CHOICE], link=link))
            return True
        self._await_answer(ctx, contest.id, reported=False)
        ctx.say(Reply(f"{contest_details(contest)}\n\nChị xác nhận đã tham gia cuộc thi này?",
                      [Choice("Tôi đã tham gia", f"CONTEST_YES:{contest.id}"), Choice("Cuộc thi khác", "CONTEST_LIST")], link=link))
        return True

    def _await_answer(self, ctx: Context, contest_id: str, *, reported: bool) -> None:
        ctx.set_flow(FLOW, {"step": "confirm", "contest_id": contest_id, "reported": reported},
                     expires_at=expiry(ctx, "FLOW_EXPIRY_MINUTES"))

    def confirm(self, ctx: Context, contest_id: str) -> bool:
        contest = get_catalog(ctx.config).contests.get(contest_id)
        member = ctx.member or {}
        if contest is None or not contest.reportable:
            return self.pick(ctx, contest_id)
        existing = ctx.store.member_participation(member["id"], contest.id)
        if existing is None:
            participation_id = ctx.store.add_participation(
                contest_id=contest.id, member_id=member["id"], source="chat", at=ctx.now,
                participated_on=_within_period(contest, local_date(ctx.now, ctx.config["TIMEZONE"])),
                unit_code=member.get("unit_code"),
            )
        else:  # a second tap on the same button: one row per member and contest
            participation_id = existing["id"]
        ctx.meta["command"] = "contest_reported"
        ctx.set_flow(FLOW, {"step": "note", "participation_id": participation_id}, expires_at=expiry(ctx, "FLOW_EXPIRY_MINUTES"))
        ctx.say(Reply(f"Đã ghi nhận chị tham gia “{contest.name}”. Chị có thể gõ thêm kết quả hoặc ghi chú (ví dụ: “đạt giải "
                      "khuyến khích tuần 2”), hoặc chọn “Bỏ qua”.", [SKIP]))
        return True

    def ask_note(self, ctx: Context, contest_id: str) -> bool:
        existing = ctx.store.member_participation(ctx.member["id"], contest_id)  # type: ignore[index]
        if existing is None:
            return self.pick(ctx, contest_id)
        ctx.set_flow(FLOW, {"step": "note", "participation_id": existing["id"]}, expires_at=expiry(ctx, "FLOW_EXPIRY_MINUTES"))
        ctx.say(Reply("Chị gõ kết quả hoặc ghi chú cần bổ sung:", [SKIP]))
        return True

    def save_note(self, ctx: Context, participation_id: int) -> bool:
        row = ctx.store.get_participation(participation_id)
        ctx.set_flow(None)
        if row is None or row["member_id"] != (ctx.member or {}).get("id"):
            return False
        note = " ".join(ctx.text.split())[:NOTE_MAX]
        ctx.store.update_participation(participation_id, at=ctx.now, note=note)
        ctx.say(Reply(f"Đã lưu ghi chú: “{note}”. Cảm ơn chị!" + self._register_hint(ctx),
                      [Choice("Cuộc thi khác", "CONTEST_LIST"), MENU_CHOICE]))
        return True

    def _register_hint(self, ctx: Context) -> str:
        if (ctx.member or {}).get("unit_code"):
            return ""
        return " Chị chưa khai báo đơn vị: gõ ĐĂNG KÝ để việc tham gia được tính cho chi hội của chị."
