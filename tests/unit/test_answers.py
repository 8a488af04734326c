"""The answer engine over the small fixture bank: decisions, rendering, placeholders, sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answers import reply as answers
from bot.answers.bank import ContentBank, Source
from bot.answers.citation import format_source, source_line
from bot.answers.reply import (
    NO_CONTACTS,
    answer,
    entry_reply,
    fallback_reply,
    fill_placeholders,
    render_contacts,
    short_title,
)

SMALL = Path(__file__).resolve().parents[1] / "data" / "content_small"
ORG = {
    "ORG_NAME": "Hội LHPN phường Phú Lợi",
    "ORG_PHONES": ["0292 3821 234", "0909 000 111"],
    "ORG_EMAIL": "hoiphunu@example.vn",
    "ORG_WEBSITE": "https://phunu.example.vn",
}
NO_ORG_CONTACTS = {"ORG_NAME": "Hội LHPN phường Phú Lợi", "ORG_PHONES": [], "ORG_EMAIL": "", "ORG_WEBSITE": ""}
# fixed here so these tests do not move when the shipped defaults are re-calibrated
ANSWER_AT, SUGGEST_AT = 0.40, 0.25


@pytest.fixture(scope="module")
def bank() -> ContentBank:
    return ContentBank.load(SMALL)


def ask(bank: ContentBank, text: str, org: dict = ORG, **thresholds: float) -> answers.Answer:
    thresholds.setdefault("answer_threshold", ANSWER_AT)
    thresholds.setdefault("suggest_threshold", SUGGEST_AT)
    return answer(text, bank, org=org, **thresholds)


@pytest.mark.parametrize(
    ("question", "decision", "entry_id"),
    [
        ("Bờ biển Việt Nam dài bao nhiêu km?", "answer", "bien-dao-bo-bien"),
        ("bo bien vn dai bn km vay ad", "answer", "bien-dao-bo-bien"),
        ("cho em hỏi nước mình có bao nhiu đảo ạ", "answer", "bien-dao-so-dao"),
        ("bien gioi viet lao dai bnh km", "answer", "bien-gioi-viet-lao"),
        ("luat bien thong qua khi nao", "answer", "phap-luat-luat-bien-2012"),
        ("vùng biên gồm những gì", "answer", "bien-gioi-khu-vuc"),
        ("vùng biển gồm những gì", "answer", "bien-dao-cac-vung-bien"),
        # the same words without marks fit both entries equally: ask instead of guessing
        ("vung bien gom nhung gi", "suggest", None),
        ("biển", "suggest", None),
        # off-topic
        ("giá vàng hôm nay", "fallback", None),
        ("cach nau pho bo", "fallback", None),
        ("", "fallback", None),
        ("ad ơi ạ", "fallback", None),
    ],
)
def test_decisions(bank, question, decision, entry_id):
    result = ask(bank, question)
    assert (result.decision, result.entry_id) == (decision, entry_id)


def test_answer_reply_has_the_answer_then_the_source_line(bank):
    result = ask(bank, "luat bien thong qua khi nao")
    text = result.reply.text
    assert text.startswith("Luật Biển Việt Nam được Quốc hội thông qua ngày 21/6/2012")
    body, sources = text.split("\n\n")
    assert sources == "Nguồn: Luật Biển Việt Nam, 21/6/2012 – https://vbpl.vn/luat-bien-2012; Báo Lập pháp, 2013"


def test_answer_choices_are_approved_related_entries_then_menu(bank):
    reply = ask(bank, "luat bien thong qua khi nao").reply
    # related: [bien-dao-cac-vung-bien, bot-huong-dan-nhap]; the second is a draft
    assert [c.payload for c in reply.choices] == ["ENTRY:bien-dao-cac-vung-bien", "MENU"]
    assert reply.choices[0].title == "Vùng biển"  # the entry's first keyword
    assert reply.choices[-1].title == "Menu"


def test_related_choices_are_capped_and_short(bank):
    reply = entry_reply(bank.get("bien-gioi-tong-chieu-dai"), bank, ORG)
    assert [c.payload for c in reply.choices] == ["ENTRY:bien-gioi-viet-lao", "ENTRY:bien-gioi-viet-trung", "MENU"]
    assert all(len(c.title) <= 20 for c in reply.choices)


def test_placeholders_are_filled_from_settings(bank):
    result = ask(bank, "muốn hỏi thêm thì liên hệ ai")
    assert result.entry_id == "bien-dao-lien-he"
    text = result.reply.text
    assert "{" not in text and "}" not in text
    assert "liên hệ Hội LHPN phường Phú Lợi để được hướng dẫn" in text
    assert "Điện thoại: 0292 3821 234, 0909 000 111; E-mail: hoiphunu@example.vn; Website: https://phunu.example.vn" in text


def test_placeholders_without_contacts_give_a_sentence(bank):
    text = ask(bank, "muốn hỏi thêm thì liên hệ ai", org=NO_ORG_CONTACTS).reply.text
    assert f"Thông tin liên hệ: {NO_CONTACTS}." in text


def test_suggest_reply_lists_questions_to_tap(bank):
    result = ask(bank, "vung bien gom nhung gi")
    lines = result.reply.text.splitlines()
    assert lines[0] == "Có phải chị muốn hỏi:"
    # "vung bien" without marks is vùng biển or vùng biên: both are offered, numbered
    assert {lines[1][3:], lines[2][3:]} == {
        "Vùng biển Việt Nam gồm những vùng nào?", "Khu vực biên giới (vùng biên) gồm những nơi nào?"
    }
    assert [lines[1][:3], lines[2][:3]] == ["1. ", "2. "]
    payloads = [c.payload for c in result.reply.choices]
    assert set(payloads[:2]) == {"ENTRY:bien-dao-cac-vung-bien", "ENTRY:bien-gioi-khu-vuc"} and payloads[2] == "MENU"
    assert [c.title[:3] for c in result.reply.choices[:2]] == ["1. ", "2. "]  # chips carry the list's numbers
    assert all(len(c.title) <= 20 for c in result.reply.choices)
    assert result.entry_id is None and result.score > 0.6


def test_suggestions_are_at_most_three(bank):
    result = ask(bank, "biển")
    assert len([c for c in result.reply.choices if c.payload.startswith("ENTRY:")]) == 3


@pytest.mark.parametrize(
    ("answer_delta", "suggest_delta", "decision"),
    [
        (-0.01, -0.02, "answer"),  # score above the answer threshold
        (0.0, -0.01, "answer"),  # at the threshold counts
        (+0.01, -0.01, "suggest"),  # between the two thresholds
        (+0.02, 0.0, "suggest"),
        (+0.02, +0.01, "fallback"),  # below both
    ],
)
def test_threshold_bands(bank, answer_delta, suggest_delta, decision, monkeypatch):
    monkeypatch.setattr(answers, "CLEAR_MARGIN", 99.0)  # the bands alone (the clear-lead rule is tested below)
    monkeypatch.setattr(answers, "LEAD_MARGIN", 99.0)  # ...and the fair-lead rule (tests/unit/test_decide.py)
    question = "bo bien dai bao nhieu"
    score = ask(bank, question).score
    result = ask(bank, question, answer_threshold=score + answer_delta, suggest_threshold=score + suggest_delta)
    assert result.decision == decision
    assert result.score == pytest.approx(score)


def test_candidates_are_logged_best_first(bank):
    result = ask(bank, "bo bien dai bao nhieu")
    assert result.candidates[0] == {"entry_id": "bien-dao-bo-bien", "score": pytest.approx(result.score, abs=1e-4)}
    assert 1 < len(result.candidates) <= answers.CANDIDATES
    assert all(set(c) == {"entry_id", "score"} for c in result.candidates)


def test_fallback_says_so_and_tells_how_to_reach_staff(bank):
    reply = ask(bank, "giá vàng hôm nay").reply
    assert "chưa có câu trả lời đã được kiểm chứng" in reply.text
    assert "đã được chuyển đến cán bộ Hội LHPN phường Phú Lợi" in reply.text
    # topics with approved entries only ("Sử dụng chatbot" has only a draft)
    assert "Trợ lý có thể trả lời các câu hỏi về: Biên giới đất liền; Biển, đảo; Pháp luật." in reply.text
    assert "Điện thoại: 0292 3821 234" in reply.text
    assert [c.payload for c in reply.choices] == ["GAP_CAN_BO", "MENU"]  # GẶP CÁN BỘ (issue 15), then the menu


def test_fallback_without_contacts(bank):
    text = fallback_reply(bank, NO_ORG_CONTACTS).text
    assert text.endswith(f"chị vui lòng {NO_CONTACTS}.")


def test_drafts_are_never_answered(bank):
    assert bank.get("bot-huong-dan-nhap") is None
    result = ask(bank, "chatbot dùng như thế nào")
    assert result.entry_id != "bot-huong-dan-nhap"
    assert all(c["entry_id"] != "bot-huong-dan-nhap" for c in result.candidates)


def test_entry_reply_for_a_tapped_choice(bank):
    reply = entry_reply(bank.get("bien-dao-so-dao"), bank, ORG)
    assert reply.text == (
        "Việt Nam có khoảng 3.000 hòn đảo lớn nhỏ, cùng hai quần đảo Hoàng Sa và Trường Sa.\n\n"
        "Nguồn: Tạp chí Cộng sản, 2018"
    )
    assert [c.payload for c in reply.choices] == ["MENU"]


@pytest.mark.parametrize(
    ("org", "expected"),
    [
        (ORG, "Điện thoại: 0292 3821 234, 0909 000 111; E-mail: hoiphunu@example.vn; Website: https://phunu.example.vn"),
        ({"ORG_PHONES": ["0292 1"]}, "Điện thoại: 0292 1"),
        ({"ORG_PHONES": "0292 1, 0292 2"}, "Điện thoại: 0292 1, 0292 2"),  # a raw setting string works too
        ({"ORG_EMAIL": "a@b.vn"}, "E-mail: a@b.vn"),
        ({}, NO_CONTACTS),
    ],
)
def test_render_contacts(org, expected):
    assert render_contacts(org) == expected


def test_fill_placeholders_leaves_other_braces():
    assert fill_placeholders("{org_name}: {org_contacts} {x}", {"ORG_NAME": "Hội"}) == f"Hội: {NO_CONTACTS} {{x}}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (Source("Luật Biển Việt Nam", "18/2012/QH13", "2012-06-21", "https://x.vn"),
         "Luật Biển Việt Nam, số 18/2012/QH13, ngày 21/06/2012 – https://x.vn"),
        (Source("Chỉ thị 01/CT-TTg", "01/CT-TTg", "2015-01-09"), "Chỉ thị 01/CT-TTg, ngày 09/01/2015"),  # number in name
        (Source("Báo Lập pháp", date="2013"), "Báo Lập pháp, năm 2013"),
        (Source("Tạp chí Cộng sản", url="https://t.vn"), "Tạp chí Cộng sản – https://t.vn"),
    ],
)
def test_format_source(source, expected):
    assert format_source(source) == expected


def test_source_line_joins_sources(bank):
    assert source_line(bank.get("phap-luat-luat-bien-2012")).count("; ") == 1


def test_short_title_prefers_a_keyword_that_reads_as_words(bank):
    entry = bank.get("phap-luat-luat-bien-2012")  # keywords: Luật Biển Việt Nam, 18/2012/QH13, hiệu lực
    assert short_title(entry) == "Luật Biển Việt Nam"
    assert short_title(entry, taken=["Luật Biển Việt Nam"]) == "Hiệu lực"  # not the document number
    long_only = entry.__class__(**{**entry.__dict__, "keywords": ("một từ khóa dài hơn hai mươi ký tự",)})
    title = short_title(long_only)
    assert len(title) <= 20 and title.endswith("…") and title.startswith("Luật Biển")
