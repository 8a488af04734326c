"""Registration in chat: consent first, name, unit search, phone, edits, Zalo's shared info; my data; erasure."""

from __future__ import annotations

import pytest

from bot.core import models
from bot.core.people import clean_name, normalise_phone
from bot.core.privacy_notice import LEGAL_BASIS
from tests import dbcheck
from tests.participation_support import Chat, content_app, make_content


@pytest.fixture
def app(httpserver, db_path, tmp_path, clock):
    return content_app(httpserver, db_path, clock, make_content(tmp_path / "content"))


# the three channel styles: quick replies (simulator/Messenger), buttons (Zalo OA), numbered text (Zalo Bot, console)
STYLES = ["simulator", "messenger", "zalo", "zalo_bot", "console"]


@pytest.mark.parametrize("channel", STYLES)
def test_registration_asks_consent_first_then_name_unit_phone(app, store, channel):
    chat = Chat(app, store, channel=channel)
    chat.send("Đăng ký")
    consent = chat.text
    # what is stored, why, for how long, how to delete, and the law
    for needle in ("họ và tên", "Mục đích", "Thời gian lưu", "XÓA DỮ LIỆU", "91/2025/QH15", "356/2025/NĐ-CP", LEGAL_BASIS):
        assert needle in consent
    assert store.find_member(channel, "U1")["consent_at"] is None  # nothing recorded before the answer
    chat.send("1")  # "Đồng ý" is the first choice: typed number works on every channel
    assert "họ và tên" in chat.text
    chat.send("nguyễn thị lan")
    chat.send("khom 1 phu loi")  # without diacritics
    assert "1. Chi hội Khóm 1 (mẫu) – Phường Phú Lợi" in chat.rendered
    if channel in ("zalo_bot", "console"):
        assert [c.title for c in chat.last.choices][0] == "Chi hội Khóm 1 (mẫu) – Phường Phú Lợi"  # numbered by the channel
    else:
        assert chat.last.choices[0].title.startswith("1. ")  # listed in the text, key on the button
    chat.send("1")
    assert "Đúng không" in chat.text
    chat.send("đúng")  # "đúng" folds like "dừng": it must confirm, not unsubscribe
    assert chat.member["subscribed"] == 1
    assert "Số điện thoại" in chat.text
    chat.send("+84 912 345 678")
    assert "0912345678" in chat.text
    chat.tap("Lưu thông tin")
    member = chat.member
    assert member["full_name"] == "Nguyễn Thị Lan"
    assert member["unit_code"] == "CT.PHULOI.CH01"
    assert member["phone"] == "0912345678"
    assert member["consent_at"] and member["consent_version"] == app.config["CONSENT_VERSION"]
    assert member["registered_at"]
    assert chat.result.meta["command"] == "registered"


def test_declining_consent_stores_nothing(app, store):
    chat = Chat(app, store)
    chat.send("ĐĂNG KÝ")
    chat.tap("Không đồng ý")
    member = chat.member
    assert member["consent_at"] is None and member["full_name"] is None and member["registered_at"] is None
    assert "không lưu" in chat.text


@pytest.mark.parametrize("query,expected", [
    ("Phú Lợi", "CT.PHULOI"),          # with diacritics
    ("phu loi", "CT.PHULOI"),          # without
    ("PHU LOI", "CT.PHULOI"),
    ("lai hoa", "CT.LAIHOA"),
    ("Ấp 2", "CT.LAIHOA.CH02"),
    ("ap 2 lai hoa", "CT.LAIHOA.CH02"),
    ("trần đề", "CT.TRANDE"),
])
def test_unit_search_with_and_without_diacritics(app, store, query, expected):
    chat = Chat(app, store)
    chat.send("ĐĂNG KÝ")
    chat.tap("Đồng ý")
    chat.send("Trần Thị Mai")
    chat.send(query)
    payloads = [c.payload for c in chat.last.choices]
    assert f"REG_UNIT:{expected}" in payloads


def test_unit_search_without_match_asks_again_and_typed_text_searches_again(app, store):
    chat = Chat(app, store)
    chat.send("ĐĂNG KÝ")
    chat.tap("Đồng ý")
    chat.send("Trần Thị Mai")
    chat.send("Hà Nội")
    assert "không tìm thấy" in chat.text
    chat.send("vinh hai")
    assert any(c.payload == "REG_UNIT:CT.VINHHAI" for c in chat.last.choices)
    chat.tap("Gõ lại")
    chat.send("tran de")
    chat.send("1")
    chat.tap("Chọn lại")
    assert "gõ một phần tên" in chat.text


@pytest.mark.parametrize("bad", ["123", "Lan", "Nguyễn 2"])
def test_invalid_name_is_asked_again(app, store, bad):
    chat = Chat(app, store)
    chat.send("ĐĂNG KÝ")
    chat.tap("Đồng ý")
    chat.send(bad)
    assert "ít nhất hai chữ" in chat.text
    assert chat.store.get_conversation(chat.member["id"])["state"]["step"] == "name"


def test_invalid_phone_is_refused_and_phone_is_optional(app, store):
    chat = Chat(app, store)
    chat.send("ĐĂNG KÝ")
    chat.tap("Đồng ý")
    chat.send("Lê Thị Hồng")
    chat.send("lai hoa")
    chat.tap("1.")
    chat.tap("Xác nhận")
    chat.send("0123 456")
    assert "chưa đúng" in chat.text
    chat.tap("Bỏ qua")
    chat.tap("Lưu thông tin")
    assert chat.member["phone"] is None and chat.member["registered_at"]


@pytest.mark.parametrize("raw,expected", [
    ("0912345678", "0912345678"), ("+84 912 345 678", "0912345678"), ("84912345678", "0912345678"),
    ("0292 3821 234", "02923821234"), ("(028) 3822.1234", "02838221234"),
    ("0123456789", None), ("091234567", None), ("09123456789", None), ("abc", None), ("", None),
])
def test_phone_numbers_are_validated_and_normalised(raw, expected):
    assert normalise_phone(raw) == expected


def test_names_are_capitalised():
    assert clean_name("  nguyễn   thị  lan ") == "Nguyễn Thị Lan"
    assert clean_name("Lan") is None


def test_edit_one_field_at_a_time(app, store):
    chat = Chat(app, store)
    chat.register()
    chat.send("SỬA THÔNG TIN")
    chat.tap("Họ và tên")
    chat.send("Nguyễn Thị Lan Anh")
    assert chat.member["full_name"] == "Nguyễn Thị Lan Anh"
    chat.tap("Đơn vị")
    chat.send("vinh chau")
    chat.tap("2.")  # the chi hội under Vĩnh Châu
    chat.tap("Xác nhận")
    assert chat.member["unit_code"] == "CT.VINHCHAU.CH01"
    chat.tap("Số điện thoại")
    chat.tap("Xóa số điện thoại")
    assert chat.member["phone"] is None
    chat.tap("Xong")
    assert store.get_conversation(chat.member["id"])["flow"] is None


def test_registered_member_typing_register_sees_their_info(app, store):
    chat = Chat(app, store)
    chat.register()
    chat.send("dang ky")
    assert "Chị đã đăng ký" in chat.text and "Nguyễn Thị Lan" in chat.text


def test_register_nhan_tin_is_still_resubscription(app, store):
    chat = Chat(app, store)
    chat.send("DỪNG")
    chat.send("ĐĂNG KÝ NHẬN TIN")
    assert chat.member["subscribed"] == 1
    assert chat.result.meta["handler"] == "commands"
    assert chat.member["consent_at"] is None


def test_zalo_submit_info_prefills_after_consent(app, store):
    chat = Chat(app, store, channel="zalo")
    chat.send(kind=models.SUBMIT_INFO, extra={"name": "Nguyễn Thị Lan", "phone": "84912345678"})
    assert "91/2025/QH15" in chat.text  # consent first, even with shared info
    assert chat.member["phone"] is None
    chat.tap("Đồng ý")
    assert "Nguyễn Thị Lan" in chat.text
    chat.tap("Dùng tên này")
    chat.send("khom 2 phu loi")
    chat.send("1")
    chat.tap("Xác nhận")
    assert "0912345678" in chat.text
    chat.tap("Dùng số này")
    chat.tap("Lưu thông tin")
    member = chat.member
    assert (member["full_name"], member["phone"], member["unit_code"]) == ("Nguyễn Thị Lan", "0912345678", "CT.PHULOI.CH02")


def test_zalo_submit_info_for_a_registered_member_asks_before_updating(app, store):
    chat = Chat(app, store, channel="zalo")
    chat.register(phone="")
    chat.send(kind=models.SUBMIT_INFO, extra={"name": "Nguyễn Thị Lan", "phone": "0987654321"})
    assert "0987654321" in chat.text and chat.member["phone"] is None
    chat.tap("Cập nhật")
    assert chat.member["phone"] == "0987654321"


def test_registration_is_refused_in_a_group(app, store):
    chat = Chat(app, store, channel="zalo", group="G1")
    chat.send("đăng ký")
    assert "nhắn riêng" in chat.text
    chat.send("dữ liệu của tôi")
    assert "nhắn riêng" in chat.text


def test_registration_survives_a_restart(httpserver, db_path, tmp_path, clock):
    from bot.storage.store import Store

    content = make_content(tmp_path / "content")
    first = content_app(httpserver, db_path, clock, content)
    store = Store.open(db_path)
    chat = Chat(first, store)
    chat.send("ĐĂNG KÝ")
    chat.tap("Đồng ý")
    chat.send("Phạm Thị Thu")
    second = content_app(httpserver, db_path, clock, content)  # a new process on the same database
    chat.app = second
    chat.send("lai hoa")
    assert any(c.payload == "REG_UNIT:CT.LAIHOA" for c in chat.last.choices)
    store.close()


def test_unfinished_registration_expires(app, store, clock):
    
    chat = Chat(app, store)
    chat.send("ĐĂNG KÝ")
    chat.tap("Đồng ý")
    later = clock.now() + float(app.config["FLOW_EXPIRY_MINUTES"]) * 60 + 5
    chat.send("Phạm Thị Thu", now=later)
    assert "hết hạn" in chat.text
    assert chat.member["full_name"] is None


def test_my_data_shows_everything_stored(app, store):
    chat = Chat(app, store, channel="messenger", user="PSID42")
    chat.register()
    chat.send("bờ biển việt nam dài bao nhiêu km")
    chat.send("Dữ liệu của tôi")
    text = chat.text
    for needle in ("PSID42", "Nguyễn Thị Lan", "Chi hội Khóm 1 (mẫu)", "0912345678", "Đồng ý xử lý dữ liệu",
                   "Câu hỏi đã gửi: 1", "bờ biển việt nam", "Nhận tin định kỳ: có", "XÓA DỮ LIỆU"):
        assert needle in text, needle


def test_erase_needs_confirmation(app, store):
    chat = Chat(app, store)
    chat.register()
    chat.send("XÓA DỮ LIỆU")
    assert "không hoàn tác" in chat.text
    chat.send("à mà thôi")  # anything else: asked again, nothing erased
    assert chat.member["full_name"] == "Nguyễn Thị Lan"
    chat.tap("Không xóa")
    assert chat.member["full_name"] == "Nguyễn Thị Lan"
    chat.send("xoa du lieu")
    chat.tap("Đồng ý xóa")
    assert store.find_member("simulator", "U1") is None  # the platform id is gone too
    assert "Đã xóa" in chat.text
    chat.send("menu")
    fresh = chat.member
    assert fresh["full_name"] is None and fresh["registered_at"] is None  # a new member from now on


def test_retention_erases_silent_members_and_the_scheduler_runs_it_nightly(app, store, clock):
    from bot.participation.privacy import PURGE_JOB, run_purge
    from scheduler.runner import BroadcastScheduler

    quiet = Chat(app, store, user="OLD")
    quiet.register()
    active = Chat(app, store, user="NEW")
    active.register(name="Lê Thị Mới", phone="0912000111")
    months = int(app.config["DATA_RETENTION_MONTHS"])
    dbcheck.execute(store, "UPDATE members SET last_inbound_at = ? WHERE platform_id = 'OLD'", [clock.now() - (months * 31 + 1) * 86400])
    assert run_purge(app.extensions["bot"]) == 1
    assert store.find_member("simulator", "OLD") is None
    assert store.find_member("simulator", "NEW")["full_name"] == "Lê Thị Mới"
    scheduler = BroadcastScheduler(app.extensions["bot"])
    scheduler.start()
    try:
        assert scheduler.scheduler.get_job(PURGE_JOB) is not None
    finally:
        scheduler.shutdown()


@pytest.mark.parametrize("reply", ["không", "Không phải", "sai rồi"])
def test_answering_no_to_the_unit_confirmation_asks_for_the_unit_again(app, store, reply):
    chat = Chat(app, store, channel="zalo_bot")
    chat.send("ĐĂNG KÝ")
    chat.tap("Đồng ý")
    chat.send("Nguyễn Thị Lan")
    chat.send("lai hoa")
    chat.send("1")
    assert "Đúng không ạ?" in chat.text
    chat.send(reply)  # "no" is an answer, not a unit to search for
    assert "không tìm thấy" not in chat.text
    assert "chi hội nào" in chat.text
    chat.send("khom 1 phu loi")
    chat.send("1")
    chat.send("có")
    chat.tap("Bỏ qua")
    chat.tap("Lưu thông tin")
    assert chat.member["unit_code"] == "CT.PHULOI.CH01"


def test_my_data_shows_both_the_result_and_the_note_of_a_contest(app, store, clock):
    chat = Chat(app, store)
    chat.register()
    store.add_participation(contest_id="to-quoc-ben-bo-song-2022", member_id=chat.member["id"], source="import",
                            at=clock.now(), participated_on=clock.today("Asia/Ho_Chi_Minh").isoformat(), result="Giải Ba",
                            note="thi tuần 2")
    chat.send("DỮ LIỆU CỦA TÔI")
    assert "Giải Ba" in chat.text and "thi tuần 2" in chat.text


def test_erase_confirmation_does_not_promise_to_erase_the_unit_that_is_kept(app, store):
    # the unit stays on the anonymous record (counts per chi hội do not change), so the member must not be told
    # it is erased
    chat = Chat(app, store)
    chat.register()
    member_id = chat.member["id"]
    chat.send("XÓA DỮ LIỆU")
    promised = chat.text.split("Chỉ giữ lại")[0]
    chat.tap("Đồng ý xóa")
    kept = dbcheck.row(store, "SELECT unit_code FROM members WHERE id = ?", [member_id])
    assert kept["unit_code"] == "CT.PHULOI.CH01"
    assert "đơn vị" not in promised
