"""The bank's answers about personal data say exactly what the consent notice and DỮ LIỆU CỦA TÔI say."""

from __future__ import annotations

import pytest

from bot.core.privacy_notice import (
    RIGHTS,
    data_notice,
    data_rights,
    erase_effect,
    retention,
)
from tests.participation_support import Chat, content_app, make_content


@pytest.fixture
def app(httpserver, db_path, tmp_path, clock):
    return content_app(httpserver, db_path, clock, make_content(tmp_path / "content"),
                       ORG_NAME="Hội LHPN phường Phú Lợi", ORG_PHONES="0292 3821 234", DATA_RETENTION_MONTHS="18",
                       BACKUP_KEEP="7")


def test_the_stored_data_answer_is_the_consent_notice(app, store):
    config = app.config
    notice = data_notice(config)
    assert "Hội LHPN phường Phú Lợi (liên hệ: 0292 3821 234)" in notice and "18 tháng" in notice
    chat = Chat(app, store)
    chat.send("ĐĂNG KÝ")
    assert notice in chat.text  # the consent notice
    chat.send("Không đồng ý", payload="REG_DECLINE")
    chat.send("", payload="ENTRY:bot-du-lieu-luu-tru")
    assert notice in chat.text  # the bank's answer, word for word
    assert "SỬA THÔNG TIN" in chat.text and "{" not in chat.text


def test_the_see_and_erase_answer_uses_the_words_of_my_data_and_erase(app, store):
    config = app.config
    chat = Chat(app, store)
    chat.register()
    chat.send("DỮ LIỆU CỦA TÔI")
    my_data = chat.text
    assert retention(config) in my_data and RIGHTS in my_data
    chat.send("XÓA DỮ LIỆU")
    assert erase_effect(config) in chat.text and "tối đa khoảng 7 ngày" in chat.text  # as long as backups keep it
    chat.tap("Không xóa")
    chat.send("", payload="ENTRY:bot-xem-xoa-du-lieu")
    answer = chat.text
    assert data_rights(config) in answer
    assert retention(config) in answer and RIGHTS in answer and erase_effect(config) in answer
    assert "SỬA THÔNG TIN" in answer and "{" not in answer


def test_a_typed_question_gets_the_filled_notice(app, store):
    chat = Chat(app, store)
    chat.send("chatbot luu du lieu gi cua toi")
    assert data_notice(app.config) in chat.text
