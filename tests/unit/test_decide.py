"""Deciding on the shipped bank (issue 13): answer the entry clearly asked about and offer a close
runner-up as a related question; suggest only for genuinely ambiguous questions; use what the
question asks for (a date, a number, a person) and the document number it names."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answers import reply as answers
from bot.answers.bank import ContentBank
from bot.answers.matcher import content_words, document_numbers, intents

ROOT = Path(__file__).resolve().parents[2]
ORG = {"ORG_NAME": "Hội", "ORG_PHONES": [], "ORG_EMAIL": "", "ORG_WEBSITE": ""}


@pytest.fixture(scope="module")
def bank() -> ContentBank:
    return ContentBank.load(ROOT / "content")


def ask(bank, text, answer_threshold=0.40, suggest_threshold=0.25):
    return answers.answer(text, bank, org=ORG, answer_threshold=answer_threshold, suggest_threshold=suggest_threshold)


def test_lanh_hai_is_answered_and_the_contiguous_zone_offered(bank):
    result = ask(bank, "Lãnh hải rộng bao nhiêu hải lý?")
    assert result.decision == answers.ANSWER and result.entry_id == "vung-bien-lanh-hai"
    assert "ENTRY:vung-bien-tiep-giap-lanh-hai" in [c.payload for c in result.reply.choices]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Chỉ thị 01/CT-TTg ban hành ngày nào?", {"phong-trao-chi-thi-01"}),  # not Hướng dẫn 7210
        ("Luật Biên giới quốc gia ban hành năm nào", {"phap-luat-luat-bien-gioi-2003"}),  # not Nghị quyết 33
        ("luật 06/2003/QH11 là luật gì", {"phap-luat-luat-bien-gioi-2003"}),
        ("Sự kiện Gạc Ma xảy ra năm nào?", {"hs-ts-gac-ma-1988", "ngay-14-3-gac-ma"}),
    ],
)
def test_clear_questions_are_answered_not_suggested(bank, question, expected):
    result = ask(bank, question)
    assert result.decision == answers.ANSWER and result.entry_id in expected, result.candidates


@pytest.mark.parametrize("question", ["biển", "biên giới"])
def test_a_word_that_fits_many_entries_is_still_a_suggestion(bank, question):
    result = ask(bank, question)
    assert result.decision == answers.SUGGEST
    assert [c.title[:3] for c in result.reply.choices[:3]] == ["1. ", "2. ", "3. "]


def test_what_the_question_asks_for():
    assert intents("Gạc Ma xảy ra năm nào?") == {"date"}
    assert intents("chi thi 01 ban hanh khi nao") == {"date"}
    assert intents("lãnh hải rộng bn hải lý") == {"number"}
    assert intents("ai tổ chức cuộc thi") == {"who"}
    assert intents("lãnh hải là gì") == frozenset()


def test_document_numbers():
    assert document_numbers("Chỉ thị 01/CT-TTg") == {("1", "")}
    assert document_numbers("Luật 06/2003/QH11") == {("6", "2003")}
    assert ("71", "2015") in document_numbers("nd 71/2015 la gi")
    assert ("7210", "") in document_numbers("hướng dẫn 7210")
    assert document_numbers("bờ biển dài 3.260 km") == frozenset()


def test_content_words_leave_out_question_words():
    assert content_words("biển") == 1
    assert content_words("lãnh hải rộng bao nhiêu") == 3
