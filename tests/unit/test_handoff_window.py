"""The platforms' reply windows for staff conversations (issue 15), one channel at a time."""

from __future__ import annotations

import pytest

from bot.handoff import window as w

HOUR, DAY = 3600.0, 86400.0
NOW = 1_000_000_000.0
CONFIG = {"MESSENGER_WINDOW_HOURS": 24, "ZALO_FREE_WINDOW_HOURS": 48, "ZALO_PAID_WINDOW_DAYS": 7, "ZALO_ALLOW_PAID_WINDOW": False}


def rule(channel, age, *, human=True, config=CONFIG, **kw):
    return w.reply_window(channel, NOW - age, NOW, config, human=human, **kw)


# -- Messenger --------------------------------------------------------------------------
@pytest.mark.parametrize("human", [True, False])
def test_messenger_within_24_hours_is_a_normal_response(human):
    r = rule("messenger", 23 * HOUR, human=human)
    assert r.allowed and r.messaging_type == "RESPONSE" and r.tag is None and r.code == w.FREE


def test_messenger_after_24_hours_a_human_reply_carries_the_human_agent_tag():
    r = rule("messenger", 25 * HOUR)
    assert r.allowed and r.messaging_type == "MESSAGE_TAG:HUMAN_AGENT" and r.tag == "HUMAN_AGENT"
    assert "HUMAN_AGENT" in r.reason
    assert rule("messenger", 7 * DAY - 60).tag == "HUMAN_AGENT"


def test_messenger_never_tags_a_bot_message():
    for age in (25 * HOUR, 3 * DAY, 7 * DAY - 60):
        r = rule("messenger", age, human=False)
        assert not r.allowed and r.code == w.BOT_OUTSIDE_WINDOW and r.tag is None


@pytest.mark.parametrize("human", [True, False])
def test_messenger_after_7_days_nothing_goes_with_a_vietnamese_reason(human):
    r = rule("messenger", 7 * DAY + 60, human=human)
    assert not r.allowed and r.code == w.EXPIRED and r.tag is None
    assert "7 ngày" in r.reason and "Messenger" in r.reason


# -- Zalo OA ----------------------------------------------------------------------------
def test_zalo_within_48_hours_is_free():
    r = rule("zalo", 47 * HOUR)
    assert r.allowed and not r.billed and r.code == w.FREE and r.messaging_type == "cs"


def test_zalo_between_48_hours_and_7_days_is_billed_and_needs_the_setting_or_a_confirmation():
    r = rule("zalo", 3 * DAY)
    assert not r.allowed and r.code == w.NEEDS_CONFIRMATION and r.billed and "tính phí" in r.reason
    confirmed = rule("zalo", 3 * DAY, confirmed_paid=True)
    assert confirmed.allowed and confirmed.billed and confirmed.code == w.PAID
    allowed = rule("zalo", 3 * DAY, config={**CONFIG, "ZALO_ALLOW_PAID_WINDOW": True})
    assert allowed.allowed and allowed.billed


@pytest.mark.parametrize("confirmed", [True, False])
def test_zalo_after_7_days_is_refused_even_when_confirmed(confirmed):
    r = rule("zalo", 7 * DAY + 60, confirmed_paid=confirmed, config={**CONFIG, "ZALO_ALLOW_PAID_WINDOW": True})
    assert not r.allowed and r.code == w.EXPIRED and "7 ngày" in r.reason


def test_zalo_window_lengths_follow_the_settings():
    config = {**CONFIG, "ZALO_FREE_WINDOW_HOURS": 24, "ZALO_PAID_WINDOW_DAYS": 3}
    assert rule("zalo", 30 * HOUR, config=config).code == w.NEEDS_CONFIRMATION
    assert rule("zalo", 4 * DAY, config=config, confirmed_paid=True).code == w.EXPIRED


# -- Zalo Bot and the rest ----------------------------------------------------------------
def test_zalo_bot_answers_known_chats_only():
    assert rule("zalo_bot", 30 * DAY).allowed
    r = w.reply_window("zalo_bot", None, NOW, CONFIG, human=True)
    assert not r.allowed and r.code == w.UNKNOWN_CHAT


@pytest.mark.parametrize("channel", ["messenger", "zalo", "zalo_bot", "simulator"])
@pytest.mark.parametrize("status", ["blocked", "unfollowed", "erased"])
def test_unreachable_members_get_nothing(channel, status):
    assert rule(channel, HOUR, status=status).code == w.UNREACHABLE
