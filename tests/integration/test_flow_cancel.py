"""Flows do what members mean (issue 13): "hủy", "thôi", "dừng lại" cancel the flow, not the subscription;
an open hái hoa question takes "b" as an answer; a phone number at the unit step is not a unit name."""

from __future__ import annotations

import pytest

from tests.integration.test_haihoa_contests import draws, force_item
from tests.participation_support import Chat, content_app, make_content

CANCEL = ["hủy", "Hủy", "huy", "thôi", "dừng lại", "Dừng lại!"]


@pytest.fixture
def app(httpserver, db_path, tmp_path, clock):
    return content_app(httpserver, db_path, clock, make_content(tmp_path / "content"))


def start_registration(chat: Chat) -> None:
    chat.send("Đăng ký")
    chat.send("1")  # consent
    chat.send("nguyễn thị lan")
    assert "chi hội nào" in chat.text


@pytest.mark.parametrize("word", CANCEL)
def test_cancel_words_end_a_registration_and_keep_the_subscription(app, store, word):
    chat = Chat(app, store)
    start_registration(chat)
    chat.send(word)
    assert "Đã hủy việc đăng ký" in chat.text
    assert chat.member["subscribed"] == 1
    assert store.get_conversation(chat.member["id"]).get("flow") is None
    chat.send("Nguyễn Thị Lan")  # her next message is not taken as a question for the staff queue...
    chat.send("xin chào")
    assert store.unanswered_questions() == [] or all(q["text"] != "xin chào" for q in store.unanswered_questions())


@pytest.mark.parametrize("word", ["hủy", "thôi", "dừng lại"])
def test_cancel_words_pause_a_quiz_without_unsubscribing(app, store, word):
    chat = Chat(app, store)
    chat.send("THI")
    chat.tap(next(c.title for c in chat.last.choices if c.payload == "QUIZ_START:test-open"))
    chat.send(word)
    assert "tạm dừng bài thi" in chat.text
    assert chat.member["subscribed"] == 1


@pytest.mark.parametrize("word", ["hủy", "thôi"])
def test_cancel_words_end_haihoa_and_contest_reports(app, store, monkeypatch, word):
    force_item(app, monkeypatch, "bank", "vung-bien-lanh-hai")
    chat = Chat(app, store)
    chat.send("hái hoa")
    chat.send(word)
    assert "Đã hủy câu hái hoa" in chat.text and chat.member["subscribed"] == 1
    chat.send("tham gia cuộc thi")
    chat.send("1")
    chat.send(word)
    assert "Đã hủy" in chat.text and chat.member["subscribed"] == 1


def test_dung_outside_a_flow_still_unsubscribes_and_huy_too(app, store):
    chat = Chat(app, store)
    chat.send("DỪNG")
    assert chat.member["subscribed"] == 0
    chat.send("ĐĂNG KÝ NHẬN TIN")
    chat.send("hủy")
    assert chat.member["subscribed"] == 0


def test_dung_inside_a_flow_still_unsubscribes(app, store):
    chat = Chat(app, store)
    start_registration(chat)
    chat.send("DỪNG")
    assert chat.member["subscribed"] == 0


@pytest.mark.parametrize("channel", ["messenger", "zalo", "zalo_bot"])
def test_haihoa_open_question_takes_b_as_an_answer(app, store, monkeypatch, channel):
    force_item(app, monkeypatch, "bank", "vung-bien-lanh-hai")
    chat = Chat(app, store, channel=channel)
    chat.send("hái hoa")
    chat.send("b")
    assert "Đáp án: Lãnh hải Việt Nam rộng 12 hải lý" in chat.text
    assert len(draws(store, chat.member["id"])) == 1  # not "Câu khác"


def test_haihoa_an_older_xem_dap_an_still_reveals_its_answer(app, store, monkeypatch):
    force_item(app, monkeypatch, "bank", "vung-bien-lanh-hai")
    chat = Chat(app, store, channel="zalo")
    chat.send("hái hoa")
    old = chat.choice("Xem đáp án").payload
    chat.tap("Câu khác")
    assert len(draws(store, chat.member["id"])) == 2
    chat.send(payload=old)
    assert "Đáp án: Lãnh hải Việt Nam rộng 12 hải lý" in chat.text
    # the newer flower is still open: typing "xem đáp án" reveals it
    chat.send("Xem đáp án")
    assert "Đáp án:" in chat.text and "12 hải lý" not in chat.text
    assert all(d["answered_at"] for d in draws(store, chat.member["id"]))


def test_a_phone_number_at_the_unit_step_is_kept_for_later_not_searched(app, store):
    chat = Chat(app, store)
    start_registration(chat)
    chat.send("0912 345 678")
    assert "không tìm thấy" not in chat.text and "số điện thoại" in chat.text and "chi hội nào" in chat.text
    chat.send("khom 1 phu loi")
    chat.send("1")
    chat.send("đúng")
    assert "0912345678" in chat.text  # offered at the phone step
    assert store.unanswered_questions() == []
