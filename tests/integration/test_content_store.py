"""Saving content-bank entries from the console: only the entry's lines change, validated, atomic,
and a concurrent edit of the same entry is refused."""

from __future__ import annotations

import datetime as dt
import os
import shutil

import pytest
import yaml

from bot.answers import edit as cs
from bot.answers.bank import parse_content
from bot.core.config import load_config
from tests.conftest import DATA, ROOT

TZ = load_config({})["TIMEZONE"]  # review dates are the union's calendar days


@pytest.fixture
def folder(tmp_path):
    target = tmp_path / "content"
    shutil.copytree(DATA / "content_small", target)
    return str(target)


def _record(folder: str, entry_id: str) -> cs.EntryRecord:
    record = cs.find_entry(folder, entry_id)
    assert record is not None
    return record


def test_every_entry_of_the_real_bank_is_written_back_exactly():
    for record in cs.read_entries(str(ROOT / "content")):
        block = cs.render_entry(record.data)
        assert yaml.safe_load("entries:\n" + block)["entries"][0] == record.data, record.id


def test_saving_an_entry_rewrites_only_its_lines(folder):
    record = _record(folder, "bien-gioi-viet-lao")
    before = open(record.file, encoding="utf-8").read()
    data = dict(record.data, answer="Đường biên giới Việt Nam – Lào dài 2.337,459 km. Đây là đoạn dài nhất.")
    result = cs.save_entry(folder, data, original_id=record.id, version=record.version)
    after = open(record.file, encoding="utf-8").read()
    assert result.file == record.file and not result.created
    assert after[: record.start] == before[: record.start]  # comments and earlier entries untouched
    assert after.endswith(before[record.end :])  # later entries untouched
    assert "      Đường biên giới Việt Nam – Lào dài 2.337,459 km.\n      Đây là đoạn dài nhất.\n" in after
    entry = next(e for e in parse_content(folder)[1] if e.id == "bien-gioi-viet-lao")
    assert entry.answer.endswith("Đây là đoạn dài nhất.")
    assert not [n for n in os.listdir(os.path.dirname(record.file)) if n.endswith(".tmp")]  # no temporary file left


def test_a_new_entry_is_appended_to_its_topic_file(folder, clock):
    reviewed = clock.today(TZ) - dt.timedelta(days=6)
    data = {
        "id": "bien-gioi-moi", "topic": "bien-gioi", "question": "Câu hỏi mới: có dấu hai chấm?",
        "variants": ["cau hoi moi", "câu hỏi mới nè", "hỏi mới"], "keywords": ["1,852 km", "mới"],
        "answer": "Câu trả lời mới.\n\nĐoạn thứ hai.", "sources": [{"name": "Nguồn: có dấu hai chấm", "number": "18/2012/QH13", "date": "2012-06-21"}],
        "status": "draft", "reviewed": reviewed,
    }
    result = cs.save_entry(folder, data)
    assert result.created and result.file.endswith("bien-gioi.yaml")
    text = open(result.file, encoding="utf-8").read()
    assert text.startswith("entries:") or text.lstrip().startswith("#") or "entries:" in text
    entry = next(e for e in parse_content(folder)[1] if e.id == "bien-gioi-moi")
    assert entry.keywords == ("1,852 km", "mới") and entry.answer == "Câu trả lời mới.\n\nĐoạn thứ hai."
    assert entry.sources[0].number == "18/2012/QH13" and entry.sources[0].date == "2012-06-21"
    assert entry.reviewed == reviewed


def test_an_edit_of_the_same_entry_since_loading_is_refused(folder):
    mine = _record(folder, "bien-gioi-viet-lao")
    theirs = dict(mine.data, answer="Bản của người khác, lưu trước.")
    cs.save_entry(folder, theirs, original_id=mine.id, version=mine.version)
    before = open(mine.file, encoding="utf-8").read()
    with pytest.raises(cs.ContentConflict) as info:
        cs.save_entry(folder, dict(mine.data, answer="Bản của tôi."), original_id=mine.id, version=mine.version)
    assert info.value.current.data["answer"] == "Bản của người khác, lưu trước."
    assert open(mine.file, encoding="utf-8").read() == before


def test_an_edit_of_another_entry_of_the_same_file_is_kept(folder):
    first = _record(folder, "bien-gioi-viet-lao")
    second = _record(folder, "bien-gioi-tong-chieu-dai")
    assert first.file == second.file
    cs.save_entry(folder, dict(first.data, answer="Lào: 2.337,459 km."), original_id=first.id, version=first.version)
    # the second form was loaded before the first save: the file changed, its entry did not
    cs.save_entry(folder, dict(second.data, answer="Tổng: khoảng 4.900–5.000 km."), original_id=second.id, version=second.version)
    entries = {e.id: e for e in parse_content(folder)[1]}
    assert entries["bien-gioi-viet-lao"].answer == "Lào: 2.337,459 km."
    assert entries["bien-gioi-tong-chieu-dai"].answer == "Tổng: khoảng 4.900–5.000 km."


def test_an_invalid_entry_is_refused_with_its_field_and_the_file_is_untouched(folder):
    record = _record(folder, "bien-gioi-viet-lao")
    before = open(record.file, "rb").read()
    with pytest.raises(cs.ContentInvalid) as info:
        cs.save_entry(folder, dict(record.data, variants=["chỉ một"], answer="{ten_hoi} trả lời"), original_id=record.id, version=record.version)
    assert "variants" in info.value.fields and "answer" in info.value.fields
    assert open(record.file, "rb").read() == before


def test_a_duplicate_id_and_a_bad_file_name_are_refused(folder):
    record = _record(folder, "bien-gioi-viet-lao")
    with pytest.raises(cs.ContentInvalid) as info:
        cs.save_entry(folder, dict(record.data))
    assert "id" in info.value.fields
    with pytest.raises(cs.ContentInvalid) as info:
        cs.save_entry(folder, dict(record.data, id="khac-han"), file="../../etc/passwd")
    assert "file" in info.value.fields


def test_approving_needs_a_source_then_sets_the_status_and_the_review_date(folder, clock):
    today = clock.today(TZ)
    draft = _record(folder, "bot-huong-dan-nhap")
    assert draft.data["status"] == "draft" and not draft.data.get("sources")
    with pytest.raises(cs.ContentInvalid) as info:
        cs.approve_entry(folder, draft.id, version=draft.version, today=today)
    assert any("nguồn" in m for messages in info.value.fields.values() for m in messages)
    cs.save_entry(folder, dict(draft.data, sources=[{"name": "Hướng dẫn sử dụng"}]), original_id=draft.id, version=draft.version)
    cs.approve_entry(folder, draft.id, version=None, today=today)
    entry = next(e for e in parse_content(folder)[1] if e.id == draft.id)
    assert entry.status == "approved" and entry.reviewed == today


def test_a_comment_above_the_next_entry_is_kept_when_an_entry_is_saved(folder):
    path = _record(folder, "bien-gioi-viet-lao").file
    text = open(path, encoding="utf-8").read()
    comment = "  # Ghi chú của biên tập viên về mục tiếp theo: đối chiếu lại số liệu.\n"
    text = text.replace("  - id: bien-gioi-viet-trung", comment + "  - id: bien-gioi-viet-trung", 1)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    record = _record(folder, "bien-gioi-viet-lao")
    cs.save_entry(folder, dict(record.data, answer="Đường biên giới Việt Nam – Lào dài 2.337,459 km."),
                  original_id=record.id, version=record.version)
    after = open(path, encoding="utf-8").read()
    assert comment + "  - id: bien-gioi-viet-trung" in after
    assert "Lào dài 2.337,459 km." in after


def test_the_editor_reads_a_file_as_the_checker_does(folder):
    """A tab after a value is accepted by the bank's YAML parser (libyaml); the editor reads the file with the same
    parser, so it neither loses the file's entries nor fails to save one the checker accepts."""
    path = os.path.join(folder, "bank", "bien-gioi.yaml")
    text = open(path, encoding="utf-8").read()
    assert "status: approved\n" in text
    open(path, "w", encoding="utf-8").write(text.replace("status: approved\n", "status: approved\t\n", 1))
    checked = {e.id for e in parse_content(folder)[1]}
    assert {r.id for r in cs.read_entries(folder)} == checked
    record = _record(folder, "bien-gioi-viet-lao")
    cs.save_entry(folder, dict(record.data, answer="Việt Nam – Lào: 2.337,459 km."), original_id=record.id, version=record.version)
    assert _record(folder, "bien-gioi-viet-lao").data["answer"] == "Việt Nam – Lào: 2.337,459 km."
