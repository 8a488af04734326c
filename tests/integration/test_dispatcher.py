"""Commands, greetings, choices and the group addressing rule, through the dispatcher."""

from __future__ import annotations

import uuid

import pytest

from bot.core import models
from bot.core.models import Event
from tests import dbcheck


def run(app, store, text="", *, user="U1", channel="simulator", payload=None, kind=models.TEXT, group=None, addressed=True, extra=None):
    services = app.extensions["bot"]
    event = Event(
        channel=channel, kind=kind, user_id=user, event_key=uuid.uuid4().hex, timestamp=services.clock.now(),
        text=text, payload=payload, group_id=group, addressed=addressed, extra=extra or {},
    )
    with store.transaction():
        return services.dispatcher.handle(event, store, services.clock.now())


def all_text(result) -> str:
    return "\n".join(r.text for r in result.replies)


@pytest.mark.parametrize("command", ["DỪNG", "dừng", "dung", "STOP", "Hủy", "huy!"])
def test_stop_commands_unsubscribe_and_say_how_to_come_back(app, store, command):
    run(app, store, "xin chào")
    result = run(app, store, command)
    assert store.find_member("simulator", "U1")["subscribed"] == 0
    assert "ĐĂNG KÝ NHẬN TIN" in all_text(result)


@pytest.mark.parametrize("command", ["ĐĂNG KÝ NHẬN TIN", "dang ky nhan tin", "Đăng ký nhận tin!"])
def test_resubscribe_command(app, store, command):
    run(app, store, "DỪNG")
    run(app, store, command)
    assert store.find_member("simulator", "U1")["subscribed"] == 1


def test_first_contact_greets_and_says_how_to_stop(app, store):
    result = run(app, store, "bờ biển dài bao nhiêu")
    text = all_text(result)
    assert "Hội LHPN Thử nghiệm" in text and "DỪNG" in text
    assert len(result.replies) >= 2  # the greeting, then the answer to the question
    second = run(app, store, "bờ biển dài bao nhiêu")
    assert "Xin chào" not in all_text(second)


def test_get_started_and_follow_greet_with_the_menu(app, store):
    result = run(app, store, payload="GET_STARTED", kind=models.POSTBACK)
    assert "DỪNG" in all_text(result) and result.replies[-1].choices
    result = run(app, store, user="Z9", channel="zalo", kind=models.FOLLOW)
    assert "DỪNG" in all_text(result)


def test_unfollow_marks_member_and_follow_brings_them_back(app, store):
    run(app, store, user="Z1", channel="zalo", kind=models.FOLLOW)
    run(app, store, user="Z1", channel="zalo", kind=models.UNFOLLOW)
    assert store.find_member("zalo", "Z1")["status"] == "unfollowed"
    run(app, store, user="Z1", channel="zalo", kind=models.FOLLOW)
    assert store.find_member("zalo", "Z1")["status"] == "active"


def test_menu_and_numbered_choice(app, store):
    menu = run(app, store, "MENU")
    assert menu.replies[-1].choices
    first = menu.replies[-1].choices[0]
    result = run(app, store, "1")  # typing the number picks the first offered choice
    assert result.meta.get("handler") in {"answers", "commands"}
    assert first.payload == "TOPICS"
    assert result.replies[-1].choices and result.replies[-1].choices[0].payload.startswith("TOPIC:")


def test_non_text_message_gets_a_polite_text_only_reply(app, store):
    result = run(app, store, kind=models.UNSUPPORTED)
    assert "chữ" in all_text(result)


@pytest.mark.parametrize(
    "text,addressed,expect_reply",
    [
        ("hôm nay trời đẹp quá", False, False),  # ordinary group chatter: silent
        ("? bờ biển dài bao nhiêu", True, True),
        ("/hỏi bờ biển dài bao nhiêu", True, True),
    ],
)
def test_group_messages_are_answered_only_when_addressed(app, store, text, addressed, expect_reply):
    result = run(app, store, text, user="A1", channel="zalo", group="G1", addressed=addressed)
    assert bool(result.replies) is expect_reply


def test_group_reply_to_the_bots_message_counts_as_addressed(app, store, clock):
    ids = store.enqueue(channel="zalo", recipient="G1", messages=[{"text": "x"}], at=clock.now(), is_group=True)
    store.mark_sent(ids[0], platform_message_id="zbot-msg-1", at=clock.now())
    result = run(app, store, "thế còn lãnh hải?", user="A1", channel="zalo", group="G1", addressed=False, extra={"reply_to": "zbot-msg-1"})
    assert result.replies
    result = run(app, store, "thế còn lãnh hải?", user="A1", channel="zalo", group="G1", addressed=False, extra={"reply_to": "someone-else"})
    assert not result.replies


def test_group_replies_are_rate_limited(app, store, clock):
    from bot.pipeline.inbox import ingest

    services = app.extensions["bot"]
    events = [
        Event(channel="zalo", kind=models.TEXT, user_id=f"A{i}", event_key=f"g{i}", timestamp=clock.now(), text="? menu", group_id="G7")
        for i in range(int(app.config["GROUP_REPLIES_PER_MINUTE"]) + 3)
    ]
    ingest(store, events, now=clock.now())
    services.processor.process_pending(store)
    first_parts = [r for r in store.outbound_for("zalo", "G7") if r["part"] == 0]
    assert len(first_parts) == int(app.config["GROUP_REPLIES_PER_MINUTE"])
    assert all(r["is_group"] == 1 for r in store.outbound_for("zalo", "G7"))


def test_an_unreadable_inbox_row_does_not_stop_the_events_after_it(app, store, clock):
    """One bad event must not stop the others: a row whose stored event cannot be read is
    marked failed, and the next member's message is still answered."""
    from bot.pipeline.inbox import ingest

    services = app.extensions["bot"]
    dbcheck.execute(store, 
        "INSERT INTO inbox (channel, event_key, received_at, event, raw) VALUES (?, ?, ?, ?, ?)",
        ["simulator", "bad-1", clock.now(), '{"channel": "simulator", "kind": "text", "no_such_field": 1}', "{}"],
    )
    ingest(store, [Event(channel="simulator", kind=models.TEXT, user_id="U2", event_key="good-1", timestamp=clock.now(), text="menu")], now=clock.now())
    services.processor.process_pending(store)
    assert store.inbox_counts() == {"failed": 1, "done": 1}
    assert store.outbound_for("simulator", "U2")


def test_decomposed_dung_meaning_yes_does_not_unsubscribe(app, store):
    """"đúng" typed with combining marks (Unicode tổ hợp keyboards) is still "yes", not DỪNG."""
    import unicodedata

    run(app, store, "xin chào")
    result = run(app, store, unicodedata.normalize("NFD", "Đúng"))
    assert store.find_member("simulator", "U1")["subscribed"] == 1
    assert result.meta.get("command") != "unsubscribe"


def test_messenger_standby_events_are_recorded_but_not_answered(app, store):
    """Another app owns the thread (handover): the bot must neither answer nor act on the text."""
    run(app, store, "xin chào", channel="messenger", user="P1")
    result = run(app, store, "DỪNG", channel="messenger", user="P1", extra={"standby": True})
    assert result.replies == []
    member = store.find_member("messenger", "P1")
    assert member["subscribed"] == 1


@pytest.mark.parametrize("title", ["Thi trắc nghiệm", "Hái hoa dân chủ"])
def test_messenger_persistent_menu_taps_reach_their_feature(app, store, title):
    from bot.channels.messenger import PERSISTENT_MENU

    payload = dict(PERSISTENT_MENU)[title]
    run(app, store, "xin chào", channel="messenger", user="P2")
    result = run(app, store, title, channel="messenger", user="P2", payload=payload, kind=models.POSTBACK)
    assert result.meta.get("handler") not in (None, "answers"), result.meta
