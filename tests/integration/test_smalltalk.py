"""Small talk: greetings, thanks, "ok", emoji and non-text messages on every channel.

They get a short friendly reply, never the no-answer apology, and never a record in
the unanswered queue (issue 13).
"""

from __future__ import annotations

import json
import uuid

import pytest

from bot.conversation.smalltalk import classify
from bot.core import models
from bot.core.models import Event
from tests.conftest import sign_messenger, sign_zalo

APOLOGY = "chưa có câu trả lời"
SMALL_TALK = ["xin chào", "chào", "hi", "alo", "chào ad", "Chào chị ạ", "cảm ơn", "cám ơn ad nhiều", "thanks", "tks",
              "ok", "dạ", "vâng", "👍", "❤️❤️", "ok cảm ơn chị", "Dạ em cảm ơn ạ", "bye"]


def run(app, store, text="", *, user="U1", channel="simulator", kind=models.TEXT, extra=None):
    services = app.extensions["bot"]
    event = Event(channel=channel, kind=kind, user_id=user, event_key=uuid.uuid4().hex,
                  timestamp=services.clock.now(), text=text, extra=extra or {})
    with store.transaction():
        return services.dispatcher.handle(event, store, services.clock.now())


def outbox_text(store, channel: str, recipient: str) -> str:
    return "\n".join(json.dumps(json.loads(r["message"]), ensure_ascii=False) for r in store.outbound_for(channel, recipient))


@pytest.mark.parametrize("text", SMALL_TALK)
def test_small_talk_is_recognised(text):
    assert classify(text) is not None


@pytest.mark.parametrize("text", ["chào ad, lãnh hải rộng bao nhiêu", "biển", "được không", "cảm ơn là gì", "?", ""])
def test_questions_are_not_small_talk(text):
    assert classify(text) is None


@pytest.mark.parametrize("channel", ["simulator", "messenger", "zalo", "zalo_bot"])
def test_greetings_and_thanks_never_apologise_nor_reach_the_unanswered_queue(app, store, channel):
    for text in SMALL_TALK:
        result = run(app, store, text, channel=channel, user=f"{channel}-1")
        replies = "\n".join(r.text for r in result.replies)
        assert result.replies and APOLOGY not in replies, (text, replies)
        assert result.meta.get("handler") in ("smalltalk", "commands"), (text, result.meta)
    assert store.unanswered_questions() == []


def test_a_first_greeting_gets_one_welcome_with_the_menu(app, store):
    result = run(app, store, "xin chào")
    texts = [r.text for r in result.replies]
    assert len(texts) == 1 and "Xin chào" in texts[0] and "DỪNG" in texts[0]
    assert any(c.payload == "MENU" or c.payload == "TOPICS" for c in result.replies[-1].choices)
    second = run(app, store, "chào ad")
    assert "DỪNG" not in second.replies[0].text and second.replies[0].choices  # a short hello and the menu


def test_a_first_thanks_gets_the_welcome_and_a_reply(app, store):
    result = run(app, store, "cảm ơn ad")
    assert result.replies[0].text.startswith("Xin chào")
    assert "không có gì" in result.replies[-1].text


@pytest.mark.parametrize(
    "channel,extra,word",
    [
        ("messenger", {"attachments": ["image"], "raw": {"message": {"sticker_id": 369239263222822}}}, "cảm ơn"),
        ("messenger", {"attachments": ["audio"]}, "tin nhắn thoại"),
        ("zalo", {"event_name": "user_send_image"}, "hình ảnh"),
        ("zalo", {"event_name": "user_send_sticker"}, "cảm ơn"),
        ("zalo", {"event_name": "user_send_location"}, "vị trí"),
        ("zalo_bot", {"event_name": "message.voice.received"}, "tin nhắn thoại"),
    ],
)
def test_non_text_messages_get_a_friendly_reply(app, store, channel, extra, word):
    run(app, store, "chào", channel=channel)  # not the first contact
    result = run(app, store, channel=channel, kind=models.UNSUPPORTED, extra=extra)
    text = result.replies[0].text
    assert word in text.lower() and APOLOGY not in text
    assert store.unanswered_questions() == []


def test_webhooks_of_all_three_channels(app, client, store, httpserver, clock):
    """Greeting, thanks and a sticker through each platform's webhook: no apology queued, nothing unanswered."""
    ts = int(clock.now() * 1000)
    for n, text in enumerate(["xin chào", "cảm ơn ad", "ok"]):
        body = json.dumps({"object": "page", "entry": [{"id": "PAGE1", "time": ts, "messaging": [
            {"sender": {"id": "PSID7"}, "recipient": {"id": "PAGE1"}, "timestamp": ts + n,
             "message": {"mid": f"m_st_{n}", "text": text}}]}]}).encode()
        assert client.post("/webhooks/messenger", data=body, headers={
            "Content-Type": "application/json", "X-Hub-Signature-256": sign_messenger(body)}).status_code == 200
        zalo = json.dumps({"app_id": "2553928453557884079", "user_id_by_app": "1", "event_name": "user_send_text",
                           "timestamp": str(ts + n), "sender": {"id": "6142494823"}, "recipient": {"id": "366"},
                           "message": {"text": text, "msg_id": f"zst{n}"}}).encode()
        assert client.post("/webhooks/zalo", data=zalo, headers={"X-ZEvent-Signature": sign_zalo(zalo)}).status_code == 200
        bot = json.dumps({"ok": True, "result": {"event_name": "message.text.received", "message": {
            "from": {"id": "botuser7", "display_name": "Lan", "is_bot": False},
            "chat": {"id": "botuser7", "chat_type": "PRIVATE"}, "text": text, "message_id": f"bst{n}", "date": ts + n}}}).encode()
        assert client.post("/webhooks/zalo-bot", data=bot, headers={"X-Bot-Api-Secret-Token": "bot-webhook-secret"}).status_code == 200
    sticker = json.dumps({"app_id": "2553928453557884079", "event_name": "user_send_sticker", "timestamp": str(ts + 9),
                          "sender": {"id": "6142494823"}, "recipient": {"id": "366"},
                          "message": {"msg_id": "zst9", "attachments": [{"type": "sticker"}]}}).encode()
    assert client.post("/webhooks/zalo", data=sticker, headers={"X-ZEvent-Signature": sign_zalo(sticker)}).status_code == 200
    app.extensions["bot"].processor.process_pending(store)
    for channel, recipient in (("messenger", "PSID7"), ("zalo", "6142494823"), ("zalo_bot", "botuser7")):
        text = outbox_text(store, channel, recipient)
        assert text and APOLOGY not in text, channel
        assert text.count("Xin chào") == 1, channel  # one welcome
    assert store.unanswered_questions() == []
