"""Conversations with staff (issue 15): GẶP CÁN BỘ, the silent bot, KẾT THÚC, staff replies per platform, CLI, notices."""

from __future__ import annotations

import json
import uuid

import pytest

from bot.core import models
from bot.core.models import Event
from bot.handoff import notify, service
from bot.pipeline.outbox import drain

HOUR, DAY = 3600.0, 86400.0
APOLOGY = "chưa có câu trả lời"
UNKNOWN = "Máy giặt nhà tôi bị hỏng thì sửa ở đâu"


def run(app, store, text="", *, user="U1", channel="simulator", payload=None, group=None, at=None):
    services = app.extensions["bot"]
    now = services.clock.now()
    event = Event(channel=channel, kind=models.POSTBACK if payload else models.TEXT, user_id=user,
                  event_key=uuid.uuid4().hex, timestamp=at if at is not None else now, text=text, payload=payload,
                  group_id=group, addressed=True)
    with store.transaction():
        return services.dispatcher.handle(event, store, now)


def texts(result) -> str:
    return "\n".join(r.text for r in result.replies)


def open_one(app, store, user="U1", channel="simulator", **kw):
    run(app, store, "xin chào", user=user, channel=channel, **kw)  # first contact: the welcome
    result = run(app, store, "GẶP CÁN BỘ", user=user, channel=channel, **kw)
    return result, result.meta["handoff_id"]


@pytest.mark.parametrize("text", ["GẶP CÁN BỘ", "gặp cán bộ", "gap can bo", "Gặp cán bộ!", "gặp cán bộ ạ"])
def test_gap_can_bo_in_any_case_or_diacritics_opens_a_conversation(app, store, text):
    run(app, store, "xin chào")
    result = run(app, store, text)
    assert result.meta["command"] == "handoff_open"
    assert "cán bộ" in texts(result) and "KẾT THÚC" in texts(result)
    assert "Thứ Hai–Thứ Sáu" in texts(result)  # OFFICE_HOURS
    assert store.open_handoff(result.member["id"]) is not None


def test_the_fallback_reply_and_the_menu_offer_staff(app, store):
    run(app, store, "xin chào")
    fallback = run(app, store, UNKNOWN)
    assert APOLOGY in texts(fallback)
    assert ("Gặp cán bộ", "GAP_CAN_BO") in [(c.title, c.payload) for c in fallback.replies[-1].choices]
    assert "GẶP CÁN BỘ" in texts(run(app, store, "MENU"))
    tapped = run(app, store, payload="GAP_CAN_BO")
    assert tapped.meta["command"] == "handoff_open"
    thread = store.handoff_messages(tapped.meta["handoff_id"])
    assert thread[0]["author"] == "member" and thread[0]["text"] == UNKNOWN  # her unanswered question opens it
    assert thread[-1]["author"] == "bot"


def test_the_bot_stays_silent_while_open_and_her_messages_reach_the_thread(app, store):
    _, handoff_id = open_one(app, store)
    for text in (UNKNOWN, "Biên giới đất liền Việt Nam dài bao nhiêu km", "cảm ơn chị"):
        result = run(app, store, text)
        assert result.replies == [] and result.meta["decision"] == "handoff"
    thread = [m["text"] for m in store.handoff_messages(handoff_id) if m["author"] == "member"]
    assert thread[-3:] == [UNKNOWN, "Biên giới đất liền Việt Nam dài bao nhiêu km", "cảm ơn chị"]
    assert store.get_handoff(handoff_id)["waiting_since"] is not None
    # nothing of it went to the unanswered-questions queue
    assert all(q["text"] != "Biên giới đất liền Việt Nam dài bao nhiêu km" for q in store.unanswered_questions(status="new", limit=50))


def test_commands_still_work_while_open(app, store):
    _, handoff_id = open_one(app, store)
    assert "Đây là trợ lý" in texts(run(app, store, "MENU"))
    assert "Đã dừng gửi tin" in texts(run(app, store, "DỪNG"))
    again = run(app, store, "gặp cán bộ")
    assert "đang trong cuộc trao đổi" in texts(again) and again.meta["handoff_id"] == handoff_id
    assert store.get_handoff(handoff_id)["state"] == "open"


def test_ket_thuc_returns_her_to_the_bot(app, store):
    _, handoff_id = open_one(app, store)
    closed = run(app, store, "kết thúc")
    assert "Trợ lý tự động tiếp tục" in texts(closed)
    assert store.get_handoff(handoff_id)["state"] == "closed"
    answered = run(app, store, "Biên giới đất liền Việt Nam dài bao nhiêu km")
    assert answered.replies and answered.meta.get("decision") in ("answer", "suggest")
    # with nothing open, "kết thúc" is not swallowed
    assert run(app, store, "kết thúc").meta.get("command") != "handoff_close"


def test_an_idle_conversation_expires_and_the_bot_answers_again(app, store, clock):
    _, handoff_id = open_one(app, store)
    clock.advance(8 * DAY)
    result = run(app, store, "Biên giới đất liền Việt Nam dài bao nhiêu km")
    assert result.replies and "đã kết thúc" in texts(result)
    assert store.get_handoff(handoff_id)["closed_by"] == "expired"


def test_in_a_zalo_group_the_bot_asks_her_to_write_privately(app, store):
    result = run(app, store, "gặp cán bộ", channel="zalo_bot", user="Z1", group="G1")
    assert "nhắn tin riêng" in texts(result)
    assert store.list_handoffs() == []


# -- staff replies through the outbox, per platform ---------------------------------------
def _staff_reply(app, store, handoff_id, text="Chào chị, cán bộ Hội trả lời ạ.", **kw):
    services = app.extensions["bot"]
    return service.reply(store, services.channels, services.config, handoff_id, text, now=services.clock.now(),
                         staff_name="canbo", **kw)


def test_simulator_member_gets_the_staff_reply_and_the_wait_ends(app, store):
    _, handoff_id = open_one(app, store)
    run(app, store, UNKNOWN)
    result = _staff_reply(app, store, handoff_id)
    row = next(r for r in store.outbound_for("simulator", "U1") if r["id"] == result["outbox_ids"][0])
    assert row["kind"] == "staff" and json.loads(row["message"])["text"] == "Chào chị, cán bộ Hội trả lời ạ."
    handoff = store.get_handoff(handoff_id)
    assert handoff["waiting_since"] is None and handoff["first_staff_reply_at"] is not None


def test_messenger_staff_reply_after_24_hours_carries_human_agent_and_is_refused_after_7_days(app, store, clock, httpserver):
    services = app.extensions["bot"]
    _, handoff_id = open_one(app, store, user="P1", channel="messenger")
    clock.advance(30 * HOUR)
    result = _staff_reply(app, store, handoff_id)
    row = next(r for r in store.outbound_for("messenger", "P1") if r["id"] == result["outbox_ids"][0])
    assert row["messaging_type"] == "MESSAGE_TAG:HUMAN_AGENT"
    httpserver.expect_request("/me/messages", method="POST").respond_with_json({"recipient_id": "P1", "message_id": "m_1"})
    drain(store, services.channels["messenger"], services.config, clock=clock)
    sent = [req.json for req, _ in httpserver.log if req.path == "/me/messages"]
    tagged = [b for b in sent if b.get("tag")]
    assert tagged and tagged[-1]["messaging_type"] == "MESSAGE_TAG" and tagged[-1]["tag"] == "HUMAN_AGENT"
    # closing after 24 h: the bot's goodbye is not a human reply, so it is not sent (no tag on bot text)
    before = len(store.outbound_for("messenger", "P1"))
    service.close(store, handoff_id, now=clock.now(), by="staff:canbo", channels=services.channels, config=services.config)
    assert len(store.outbound_for("messenger", "P1")) == before
    # a new conversation, 8 days of silence: refused with the reason
    _, second = open_one(app, store, user="P2", channel="messenger")
    clock.advance(8 * DAY)
    with pytest.raises(service.HandoffError, match="7 ngày"):
        _staff_reply(app, store, second)


def test_zalo_oa_staff_reply_in_the_billed_window_needs_a_confirmation(app, store, clock):
    _, handoff_id = open_one(app, store, user="Z9", channel="zalo")
    clock.advance(3 * DAY)
    with pytest.raises(service.HandoffError, match="tính phí"):
        _staff_reply(app, store, handoff_id)
    result = _staff_reply(app, store, handoff_id, confirm_paid=True)
    assert result["window"].billed and result["outbox_ids"]


def test_a_closed_conversation_takes_no_reply(app, store):
    _, handoff_id = open_one(app, store)
    run(app, store, "kết thúc")
    with pytest.raises(service.HandoffError, match="đã kết thúc"):
        _staff_reply(app, store, handoff_id)


# -- CLI ----------------------------------------------------------------------------------
def test_cli_list_reply_close(app, store, runner):
    _, handoff_id = open_one(app, store)
    run(app, store, UNKNOWN)
    out = runner.invoke(args=["handoff", "list", "--json"])
    assert out.exit_code == 0, out.output
    row = json.loads(out.output.splitlines()[0])
    assert row["id"] == handoff_id and row["channel"] == "simulator" and row["waiting_since"] and row["last_message"] == UNKNOWN
    assert {"id", "channel", "member", "unit", "opened_at", "last_message", "waiting_since"} <= set(row)
    assert f"#{handoff_id}" in runner.invoke(args=["handoff", "list"]).output
    out = runner.invoke(args=["handoff", "reply", str(handoff_id), "--text", "Cán bộ trả lời chị đây."])
    assert out.exit_code == 0, out.output
    assert any("Cán bộ trả lời chị đây." in r["message"] for r in store.outbound_for("simulator", "U1"))
    out = runner.invoke(args=["handoff", "close", str(handoff_id)])
    assert out.exit_code == 0 and store.get_handoff(handoff_id)["state"] == "closed"
    out = runner.invoke(args=["handoff", "reply", str(handoff_id), "--text", "x"])
    assert out.exit_code != 0 and "đã kết thúc" in out.output
    assert runner.invoke(args=["handoff", "reply", "999", "--text", "x"]).exit_code != 0


# -- notices to staff ----------------------------------------------------------------------
def test_staff_are_told_through_the_zalo_bot_with_a_digest(app, store, clock):
    services = app.extensions["bot"]
    services.config["HANDOFF_NOTIFY_ZALO_BOT_CHAT_ID"] = "STAFF-CHAT"
    services.config["HANDOFF_NOTIFY_DIGEST_MINUTES"] = 15
    open_one(app, store, user="A")
    assert len(store.outbound_for("zalo_bot", "STAFF-CHAT")) == 1  # the first one at once
    for user in ("B", "C", "D"):
        clock.advance(60)
        open_one(app, store, user=user)
    assert len(store.outbound_for("zalo_bot", "STAFF-CHAT")) == 1  # the others wait for the digest
    assert notify.queue_notice(store, services.config, clock.now()) is None
    clock.advance(15 * 60)
    assert notify.queue_notice(store, services.config, clock.now()) is not None
    notices = store.outbound_for("zalo_bot", "STAFF-CHAT")
    assert len(notices) == 2 and "Có 3 hội viên mới cần gặp cán bộ" in json.loads(notices[1]["message"])["text"]
    assert notify.queue_notice(store, services.config, clock.now()) is None  # nothing new


def test_erasing_her_data_closes_and_blanks_the_thread(app, store, clock):
    result, handoff_id = open_one(app, store)
    run(app, store, "Số điện thoại của tôi là 0912345678")
    store.erase_member(result.member["id"], at=clock.now())
    assert store.get_handoff(handoff_id)["state"] == "closed"
    assert all(m["text"] == "" for m in store.handoff_messages(handoff_id))


def test_the_scheduler_job_sends_the_waiting_digest(app, store, clock):
    services = app.extensions["bot"]
    assert notify.run_notices(services) is None  # no staff chat set: nothing to do
    services.config["HANDOFF_NOTIFY_ZALO_BOT_CHAT_ID"] = "STAFF-CHAT"
    open_one(app, store, user="A")
    clock.advance(60)
    open_one(app, store, user="B")
    assert notify.run_notices(services) is None  # within the digest gap
    clock.advance(15 * 60)
    assert notify.run_notices(services) is not None
    assert "Có 1 hội viên cần gặp cán bộ" in json.loads(store.outbound_for("zalo_bot", "STAFF-CHAT")[-1]["message"])["text"]

    class FakeScheduler:
        def __init__(self):
            self.jobs = []

        def add_job(self, func, *args, **kwargs):
            self.jobs.append((func, kwargs["id"]))

    scheduler = FakeScheduler()
    notify.schedule_notices(scheduler, services)
    assert scheduler.jobs == [(notify.run_notices, notify.NOTICE_JOB)]


def test_cli_report_counts_per_unit_and_the_median_wait(app, store, runner, clock):
    _, first = open_one(app, store, user="R1")
    clock.advance(600)
    _staff_reply(app, store, first)
    run(app, store, "kết thúc", user="R1")
    open_one(app, store, user="R2")
    out = runner.invoke(args=["handoff", "report", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["total"]["opened"] == 2 and data["total"]["closed"] == 1 and data["total"]["replied"] == 1
    assert data["total"]["median_first_reply_minutes"] == 10.0
    assert data["units"][0]["unit"] is None  # not registered: organisation level
    text = runner.invoke(args=["handoff", "report"]).output
    assert "Toàn Hội: mở 2, đã đóng 1" in text and "10 phút" in text


def test_her_data_lists_the_conversations_with_staff(app, store):
    open_one(app, store)
    run(app, store, "Tôi cần hỏi về hội phí")
    text = texts(run(app, store, "DỮ LIỆU CỦA TÔI"))
    assert "Trao đổi với cán bộ (GẶP CÁN BỘ): 1 cuộc, 2 tin nhắn" in text  # her message and the bot's confirmation
