"""Rendering replies to each platform's limits: 2,000-character parts, buttons, numbered text."""

from __future__ import annotations

import re

import pytest

from bot.channels.messenger import MessengerChannel
from bot.channels.zalo_bot import ZaloBotChannel
from bot.channels.zalo_oa import ZaloOAChannel
from bot.channels.zalo_tokens import ZaloTokenManager
from bot.core.models import Choice, Reply

CONFIG = {"ORG_NAME": "Hội LHPN Thử nghiệm"}
# Vietnamese sentences of varied length; 60 of them make ~5,000 characters
SENTENCES = [
    f"Ý thứ {i} là quần đảo Trường Sa và quần đảo Hoàng Sa là bộ phận lãnh thổ không thể tách rời của Việt Nam"
    + ", được các thế hệ cha ông xác lập chủ quyền từ rất sớm" * (i % 3)
    + ("!" if i % 7 == 0 else "?" if i % 5 == 0 else ".")
    for i in range(60)
]
LONG_TEXT = " ".join(SENTENCES)


def choices(n: int) -> list[Choice]:
    return [Choice(f"Phương án số {i} rất dài để thử cắt tiêu đề", f"Q_{i}") for i in range(1, n + 1)]


def messenger() -> MessengerChannel:
    return MessengerChannel(CONFIG)


def zalo() -> ZaloOAChannel:
    return ZaloOAChannel(CONFIG, tokens=ZaloTokenManager(CONFIG, store_factory=lambda: None))


def zalo_bot() -> ZaloBotChannel:
    return ZaloBotChannel(CONFIG)


def texts(messages: list[dict]) -> list[str]:
    """The text of each message, whichever field carries it on the platform."""
    out = []
    for m in messages:
        if "text" in m:
            out.append(m["text"])
        elif m.get("attachment", {}).get("payload", {}).get("template_type") == "button":
            out.append(m["attachment"]["payload"]["text"])
    return out


# -- splitting ---------------------------------------------------------------------
@pytest.mark.parametrize("make", [messenger, zalo, zalo_bot], ids=["messenger", "zalo", "zalo_bot"])
def test_long_text_is_split_on_sentence_boundaries_with_nothing_lost(make):
    assert len(LONG_TEXT) > 5000
    parts = texts(make().render(Reply(LONG_TEXT)))
    assert len(parts) >= 3
    assert all(len(p) <= 2000 for p in parts)
    assert all(p[-1] in ".!?" for p in parts)  # every cut falls after a sentence
    assert " ".join(parts) == LONG_TEXT  # nothing lost, nothing added


def test_a_sentence_longer_than_the_limit_is_cut_on_spaces():
    words = ("chủ quyền biển đảo " * 200).strip()
    parts = texts(messenger().render(Reply(words)))
    assert all(len(p) <= 2000 for p in parts)
    assert " ".join(parts).split() == words.split()


# -- Messenger ---------------------------------------------------------------------
def test_messenger_quick_replies_go_on_the_last_part_only():
    messages = messenger().render(Reply(LONG_TEXT, choices(13)))
    assert all("quick_replies" not in m for m in messages[:-1])
    quick = messages[-1]["quick_replies"]
    assert len(quick) == 13
    assert all(q["content_type"] == "text" and len(q["title"]) <= 20 for q in quick)
    assert quick[0] == {"content_type": "text", "title": "Phương án số 1 rất…", "payload": "Q_1"}


def test_messenger_more_than_13_choices_become_numbered_text():
    messages = messenger().render(Reply("Chọn một chủ đề:", choices(14)))
    assert all("quick_replies" not in m for m in messages)
    text = "\n".join(texts(messages))
    assert "1. Phương án số 1" in text and "14. Phương án số 14" in text


def test_messenger_link_becomes_a_button_template_on_the_last_part():
    reply = Reply("Thể lệ cuộc thi đã có.", choices(2), link=("Xem thể lệ cuộc thi năm 2026", "https://example.org/the-le"))
    [message] = messenger().render(reply)
    payload = message["attachment"]["payload"]
    assert payload["template_type"] == "button" and payload["text"] == "Thể lệ cuộc thi đã có."
    [button] = payload["buttons"]
    assert button["type"] == "web_url" and button["url"] == "https://example.org/the-le" and len(button["title"]) <= 20
    assert len(message["quick_replies"]) == 2


def test_messenger_link_after_a_part_too_long_for_a_template():
    text = "Một câu dài. " * 100  # ~1,300 characters: more than a button template's 640
    messages = messenger().render(Reply(text, link=("Xem thêm", "https://example.org")))
    assert messages[0]["text"] == text.strip()
    assert messages[1]["attachment"]["payload"]["text"] == "Xem thêm"
    assert all(len(t) <= 640 for t in texts(messages[1:]))


def test_messenger_image_is_an_attachment_before_the_text():
    messages = messenger().render(Reply("Bản đồ", choices(1), image_url="https://example.org/map.png"))
    assert messages[0] == {"attachment": {"type": "image", "payload": {"url": "https://example.org/map.png", "is_reusable": True}}}
    assert messages[1]["text"] == "Bản đồ" and "quick_replies" in messages[1]


# -- Zalo OA -----------------------------------------------------------------------
def zalo_buttons(messages: list[dict]) -> list[dict]:
    return [b for m in messages for b in m.get("attachment", {}).get("payload", {}).get("buttons", [])]


def test_zalo_up_to_five_choices_are_buttons_on_the_last_part():
    messages = zalo().render(Reply(LONG_TEXT, choices(5)))
    assert all("attachment" not in m for m in messages[:-1])
    buttons = zalo_buttons(messages)
    assert len(buttons) == 5
    assert all(b["type"] == "oa.query.hide" and len(b["title"]) <= 35 for b in buttons)
    # the tap comes back as a text "#Q_1": recognisably a payload
    assert [b["payload"] for b in buttons] == [f"#Q_{i}" for i in range(1, 6)]


@pytest.mark.parametrize("n", [6, 9])
def test_zalo_more_than_five_choices_become_numbered_text(n):
    messages = zalo().render(Reply("Chọn:", choices(n)))
    assert zalo_buttons(messages) == []
    assert f"{n}. Phương án số {n}" in messages[-1]["text"]


def test_zalo_link_is_an_open_url_button_and_counts_towards_five():
    link = ("Thể lệ", "https://example.org/the-le")
    few = zalo_buttons(zalo().render(Reply("Chọn:", choices(4), link=link)))
    assert [b["type"] for b in few] == ["oa.query.hide"] * 4 + ["oa.open.url"]
    assert few[-1]["payload"] == {"url": "https://example.org/the-le"}
    many = zalo().render(Reply("Chọn:", choices(5), link=link))
    assert [b["type"] for b in zalo_buttons(many)] == ["oa.open.url"]
    assert "5. Phương án số 5" in many[-1]["text"]


def test_zalo_group_replies_are_plain_numbered_text():
    reply = Reply("Chọn:", choices(3), image_url="https://example.org/a.png", link=("Thể lệ", "https://example.org/t"))
    messages = zalo().render(reply, group=True)
    assert all(set(m) == {"text"} for m in messages)
    text = messages[-1]["text"]
    assert "1. Phương án số 1" in text and "3. Phương án số 3" in text
    assert "\nThể lệ: https://example.org/t" in text
    assert re.search(r"^https://example\.org/a\.png$", text, re.M)  # the image URL on its own line


def test_zalo_image_is_a_media_template_one_to_one():
    messages = zalo().render(Reply("Bản đồ", image_url="https://example.org/map.png"))
    assert messages[0]["attachment"]["payload"] == {
        "template_type": "media",
        "elements": [{"media_type": "image", "url": "https://example.org/map.png"}],
    }
    assert messages[1] == {"text": "Bản đồ"}


# -- Zalo Bot ----------------------------------------------------------------------
@pytest.mark.parametrize("group", [False, True])
def test_zalo_bot_always_numbered_text(group):
    reply = Reply("Chọn:", choices(3), image_url="https://example.org/a.png", link=("Thể lệ", "https://example.org/t"))
    messages = zalo_bot().render(reply, group=group)
    assert all(set(m) == {"text"} for m in messages)
    text = messages[-1]["text"]
    assert "1. Phương án số 1 rất dài để thử cắt tiêu đề" in text  # full titles: no button limit
    assert "Thể lệ: https://example.org/t" in text and "https://example.org/a.png" in text


def test_zalo_bot_long_numbered_text_is_split():
    messages = zalo_bot().render(Reply(LONG_TEXT, choices(4)))
    assert len(messages) >= 3 and all(len(m["text"]) <= 2000 for m in messages)
    assert "4. Phương án số 4" in messages[-1]["text"]
