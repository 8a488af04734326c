"""Choices a member taps (issue 13): chips match the numbered list, stay unique after
Messenger's 20-character cut, and related-entry chips read as words, not document numbers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.answers.bank import ContentBank
from bot.answers.reply import TITLE_LIMIT, entry_reply, short_title, suggest_reply
from bot.conversation.flow import button_titles

DOCUMENT_NUMBER = re.compile(r"\d+/\d{4}|\d/[^\W\d_]{2,}|[A-ZĐ]{2,}-[A-ZĐ]")
ROOT = Path(__file__).resolve().parents[2]
ORG = {"ORG_NAME": "Hội", "ORG_PHONES": [], "ORG_EMAIL": "", "ORG_WEBSITE": ""}


@pytest.fixture(scope="module")
def bank() -> ContentBank:
    return ContentBank.load(ROOT / "content")


def test_suggestion_chips_carry_the_number_of_their_line(bank):
    entries = [bank.get("vung-bien-lanh-hai"), bank.get("vung-bien-tiep-giap-lanh-hai"), bank.get("vung-bien-hai-ly")]
    reply = suggest_reply(entries)
    lines = reply.text.splitlines()[1:4]
    chips = [c for c in reply.choices if c.payload.startswith("ENTRY:")]
    assert [c.title.split(".")[0] for c in chips] == ["1", "2", "3"]
    assert [line.split(".")[0] for line in lines] == ["1", "2", "3"]
    assert chips[0].title == "1. Lãnh hải"  # the subject, not a figure ("24 hải lý")
    assert all(len(c.title) <= TITLE_LIMIT for c in reply.choices)
    assert len({c.title for c in reply.choices}) == len(reply.choices)


def test_chip_titles_are_unique_after_the_cut_for_every_entry_set(bank):
    approved = bank.snapshot().approved
    for i in range(0, len(approved) - 2, 3):
        reply = suggest_reply(approved[i : i + 3])
        titles = [c.title[:TITLE_LIMIT] for c in reply.choices]
        assert len(set(titles)) == len(titles), titles


def test_related_chips_read_as_words_not_document_numbers(bank):
    for entry in bank.snapshot().approved:
        for choice in entry_reply(entry, bank, ORG).choices:
            assert not DOCUMENT_NUMBER.search(choice.title), choice.title  # "18/2012/QH13", "01/CT-TTg"
            assert len(choice.title) <= TITLE_LIMIT


def test_short_title_skips_directive_numbers(bank):
    entry = bank.get("phong-trao-chi-thi-01")
    assert "/CT-TTg" not in short_title(entry)


def test_option_buttons_leave_out_words_the_options_share():
    titles = button_titles(
        ["1", "2", "3"],
        ["Cuộc thi tìm hiểu biển đảo Việt Nam", "Cuộc thi tìm hiểu 80 năm Bộ đội Biên phòng", "Hội thi tuyên truyền"],
    )
    assert titles[0] == "1. Biển đảo Việt Nam" and titles[1].startswith("2. 80 năm")
    assert titles[2] == "3. Hội thi tuyên…" or titles[2] == "3. Hội thi tuyên truyền"
    assert all(len(t) <= TITLE_LIMIT for t in titles) and len(set(titles)) == 3


def test_short_option_buttons_are_kept_whole():
    assert button_titles(["A", "B"], ["Khánh Hòa", "Đà Nẵng"]) == ["A. Khánh Hòa", "B. Đà Nẵng"]
