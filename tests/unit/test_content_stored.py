"""Stored entries (CONTENT_STORE=database), the pure part: JSON that keeps YAML's dates, the bank
rebuilt from stored entries checks like the files, and export's merge into a file."""

from __future__ import annotations

import datetime as dt

from bot.answers.check import check_content
from bot.answers.stored import StoredEntry, check_stored, decode_data, encode_data
from bot.answers.stored_sync import folder_entries, merged_text
from tests.conftest import ROOT

CONTENT = str(ROOT / "content")

FILE = """\
# Biên giới: comments stay
entries:
  - id: mot
    topic: bien-gioi
    question: Một?
    status: draft

  # about hai
  - id: hai
    topic: bien-gioi
    question: Hai?
    status: draft
"""


def _entry(entry_id: str, question: str, position: int = 0) -> StoredEntry:
    return StoredEntry.of({"id": entry_id, "topic": "bien-gioi", "question": question, "status": "draft"}, "x.yaml", position)


def test_dates_and_years_survive_the_json(clock):
    today = clock.today("Asia/Ho_Chi_Minh")
    data = {"id": "a", "reviewed": today, "sources": [{"name": "Luật", "date": today.year - 14},
                                                       {"name": "Báo", "date": (today - dt.timedelta(days=900)).isoformat()}]}
    back = decode_data(encode_data(data))
    assert back == data
    assert isinstance(back["reviewed"], dt.date) and isinstance(back["sources"][0]["date"], int)
    assert isinstance(back["sources"][1]["date"], str)  # a quoted date stays text


def test_the_shipped_bank_from_stored_entries_checks_like_the_files():
    entries = [StoredEntry.from_row(e.row()) for e in folder_entries(CONTENT)]
    as_files = [(i.entry_id, i.message, i.severity) for i in check_content(CONTENT)]
    as_stored = [(i.entry_id, i.message, i.severity) for i in check_stored(CONTENT, entries)]
    assert sorted(as_stored) == sorted(as_files)


def test_merge_keeps_unchanged_entries_and_comments_byte_for_byte():
    wanted = [StoredEntry.of({"id": "mot", "topic": "bien-gioi", "question": "Một?", "status": "draft"}, "x.yaml", 0),
              StoredEntry.of({"id": "hai", "topic": "bien-gioi", "question": "Hai?", "status": "draft"}, "x.yaml", 1)]
    assert merged_text(FILE, wanted) == FILE


def test_merge_rewrites_a_changed_entry_removes_a_gone_one_and_appends_a_new_one():
    text = merged_text(FILE, [_entry("hai", "Hai, đã sửa?", 1), _entry("ba", "Ba?", 2)])
    assert "id: mot" not in text and "Một?" not in text
    assert text.startswith("# Biên giới: comments stay\nentries:\n  # about hai\n  - id: hai\n")
    assert "question: Hai, đã sửa?" in text
    assert text.index("id: hai") < text.index("id: ba")
    assert merged_text(text, [_entry("hai", "Hai, đã sửa?", 1), _entry("ba", "Ba?", 2)]) == text  # nothing more to do


def test_merge_of_no_entries_leaves_an_empty_list_and_a_new_file_is_written_whole():
    assert merged_text(FILE, []) == "# Biên giới: comments stay\nentries: []\n"
    fresh = merged_text(None, [_entry("mot", "Một?")])
    assert fresh is not None and fresh.startswith("entries:\n  - id: mot\n")
    assert merged_text(None, []) is None


def test_merge_keeps_windows_line_ends():
    crlf = FILE.replace("\n", "\r\n")
    text = merged_text(crlf, [_entry("mot", "Một, sửa?"), _entry("hai", "Hai?", 1)])
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")


def test_an_entry_added_to_an_empty_windows_file_keeps_its_line_ends():
    empty = "# Biên giới\r\nentries: []\r\n"
    text = merged_text(empty, [_entry("ba", "Ba?")])
    assert text is not None and text.startswith("# Biên giới\r\nentries:\r\n  - id: ba\r\n")
    assert "\n" not in text.replace("\r\n", "")  # no bare line end anywhere
