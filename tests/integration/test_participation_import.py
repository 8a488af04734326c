"""Importing contest participation lists: every row added, merged or rejected with its reasons."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import time

import pytest

from bot.participation.catalog import get_catalog
from bot.participation.importer import ImportFileError, import_participation
from tests import dbcheck
from tests.participation_support import TODAY, Chat, content_app, make_content

HEADER = "Họ và tên,Số điện thoại,Đơn vị,Cuộc thi,Ngày,Kết quả\n"
GOOD = HEADER + (
    "Võ Thị Hoa,0903 111 222,Chi hội Khóm 2 (mẫu) – Phường Phú Lợi,to-quoc-ben-bo-song-2022,15/08/2022,\n"
    "Đỗ Thị Mai,,CT.LAIHOA.CH01,Cuộc thi trực tuyến “Tìm hiểu Luật Biên phòng Việt Nam”,2023-12-01,giải ba\n"
)
MESSY = HEADER + (
    "Võ Thị Hoa,0903 111 222,CT.PHULOI.CH02,to-quoc-ben-bo-song-2022,15/08/2022,\n"        # 2 added
    "vo thi hoa,+84903111222,CT.PHULOI.CH02,to-quoc-ben-bo-song-2022,16/08/2022,khuyến khích\n"  # 3 same phone: merged
    "Lê Văn,abc,Ấp 1 (mẫu),không có,32/13/2022,\n"                                         # 4 rejected, 4 reasons
    ",,,,,\n"                                                                                # 5 blank
    "Đỗ Thị Mai,,Phú Lợi,tim-hieu-luat-bien-phong-2023,01/12/2023,\n"                      # 6 added (the ward)
    "Đỗ Thị Mai,,phuong phu loi,tim-hieu-luat-bien-phong-2023,02/12/2023,\n"               # 7 same name+unit: merged
    f"Đỗ Thị Xuân,,CT.LAIHOA,tim-hieu-luat-bien-phong-2023,{TODAY + dt.timedelta(days=30):%d/%m/%Y},\n"  # 8 future date
    "Đỗ Thị Xuân,,CT.KHONGCO,tim-hieu-luat-bien-phong-2023,01/12/2023,\n"                  # 9 unknown unit
    "Trần Thị Út,0912 000 999,CT.LAIHOA,to-quoc-ben-bo-song-2022,01/01/2020,\n"            # 10 added, date warning
)


@pytest.fixture
def app(httpserver, db_path, tmp_path, clock):
    return content_app(httpserver, db_path, clock, make_content(tmp_path / "content"))


def run_import(app, store, text: str, **kwargs):
    return import_participation(store, get_catalog(app.config), text.encode("utf-8"), filename="ds.csv", now=app.extensions["bot"].clock.now(),
                                tz=app.config["TIMEZONE"], **kwargs)


def test_every_row_is_added_merged_or_rejected_with_reasons(app, store):
    report = run_import(app, store, MESSY)
    assert report.total == 8 and report.blank_lines == [5]
    assert [r["line"] for r in report.added] == [2, 6, 10]
    assert [m["line"] for m in report.merged] == [3, 7]
    assert "dòng 2" in report.merged[0]["reason"] and "dòng 6" in report.merged[1]["reason"]
    rejected = {r["line"]: r["reasons"] for r in report.rejected}
    assert sorted(rejected) == [4, 8, 9]
    assert len(rejected[4]) == 4  # phone, ambiguous unit, unknown contest, bad date: every reason listed
    assert any("khớp 3 đơn vị" in r for r in rejected[4])
    assert any("tương lai" in r for r in rejected[8])
    assert any("CT.KHONGCO" in r for r in rejected[9])
    assert report.total == len(report.added) + len(report.merged) + len(report.rejected)  # nothing dropped
    assert [w["line"] for w in report.warnings] == [10]  # before the contest started
    rows = dbcheck.rows(store, "SELECT * FROM participations WHERE source = 'import' ORDER BY id")
    assert [(r["full_name"], r["unit_code"], r["phone"]) for r in rows] == [
        ("Võ Thị Hoa", "CT.PHULOI.CH02", "0903111222"), ("Đỗ Thị Mai", "CT.PHULOI", None), ("Trần Thị Út", "CT.LAIHOA", "0912000999")]
    assert rows[0]["result"] == "khuyến khích"  # the duplicate's result was merged in
    log = dbcheck.row(store, "SELECT * FROM participation_imports")
    assert (log["total_rows"], log["added"], log["merged"], log["rejected"]) == (8, 3, 2, 3)
    assert "Lê Văn" not in log["reasons"]  # the stored log keeps line numbers and reasons, no names


def test_importing_the_same_file_again_merges_everything(app, store):
    run_import(app, store, GOOD)
    again = run_import(app, store, GOOD)
    assert (len(again.added), len(again.merged), len(again.rejected)) == (0, 2, 0)
    assert dbcheck.value(store, "SELECT count(*) FROM participations") == 2


def test_dry_run_writes_nothing(app, store):
    report = run_import(app, store, MESSY, dry_run=True)
    assert len(report.added) == 3 and report.dry_run
    assert dbcheck.value(store, "SELECT count(*) FROM participations") == 0
    assert dbcheck.value(store, "SELECT count(*) FROM participation_imports") == 0


def test_a_member_who_reported_in_chat_is_merged_and_a_registered_phone_is_linked(app, store):
    chat = Chat(app, store)
    chat.register(phone="0903111222")
    chat.send("x", payload="CONTEST_YES:to-quoc-ben-bo-song-2022")
    other = Chat(app, store, user="U2")
    other.register(name="Trần Thị Út", unit_query="ap 1 lai hoa", phone="0912000999")
    report = run_import(app, store, MESSY)
    assert 2 in [m["line"] for m in report.merged]  # Võ Thị Hoa's phone is the registered member's: her chat report
    added_10 = next(a for a in report.added if a["line"] == 10)
    assert added_10["linked_member"]
    assert store.get_participation(added_10["participation_id"])["member_id"] == other.member["id"]


def test_imported_rows_are_linked_when_the_person_registers_later(app, store):
    run_import(app, store, GOOD)
    chat = Chat(app, store)
    chat.register(name="Võ Thị Hoa", phone="0903111222")
    row = dbcheck.row(store, "SELECT * FROM participations WHERE phone = '0903111222'")
    assert row["member_id"] == chat.member["id"]


@pytest.mark.parametrize("data,message", [
    ("name,phone\nA B,0912345678\n".encode(), "Thiếu cột"),
    (HEADER.encode("cp1258", errors="replace") + "Võ Thị Hoa,,CT,x,1/1/2024,\n".encode("cp1258", errors="replace"), "UTF-8"),
    (b"", "trống"),
])
def test_unreadable_files_import_nothing(app, store, data, message, clock):
    with pytest.raises(ImportFileError, match=message):
        import_participation(store, get_catalog(app.config), data, filename="x.csv", now=clock.now(), tz="Asia/Ho_Chi_Minh")
    assert dbcheck.value(store, "SELECT count(*) FROM participations") == 0


def test_semicolon_separated_excel_files_are_read(app, store):
    report = run_import(app, store, GOOD.replace(",", ";"))
    assert len(report.added) == 2 and not report.rejected


def test_cli_import_prints_the_report_and_fails_on_rejected_rows(app, runner, tmp_path):
    path = tmp_path / "ds.csv"
    path.write_text(MESSY, encoding="utf-8-sig")
    result = runner.invoke(args=["participation", "import", str(path)])
    assert result.exit_code == 1
    assert "thêm mới 3, gộp trùng 2, bị loại 3" in result.output
    assert "LOẠI dòng 4" in result.output and "GỘP dòng 3" in result.output
    path.write_text(GOOD, encoding="utf-8")
    result = runner.invoke(args=["participation", "import", "--json", str(path)])
    assert result.exit_code == 0 and json.loads(result.output)["merged"] == 1  # Võ Thị Hoa was in the first file


def login(client, store, role: str = "reporter", unit: str | None = None) -> dict[str, str]:
    """A logged-in staff session; returns the CSRF header for POSTs."""
    from bot.web.auth import hash_password

    staff_id = store.create_staff(f"{role}-{unit or 'all'}", hash_password("mat-khau-dai-du"), role, unit, at=time.time())
    staff = store.get_staff(staff_id)
    token = f"test-session-{staff_id}"  # a server-side session, as a real login starts (logout ends it)
    store.start_staff_session(hashlib.sha256(token.encode()).hexdigest(), staff_id, at=client.application.extensions["bot"].clock.now())
    with client.session_transaction() as session:
        session.update(staff_id=staff_id, sid=token, pw=staff["password_hash"][-16:], csrf="test-csrf")
    return {"X-CSRF-Token": "test-csrf"}


def test_import_endpoint_is_a_multipart_upload_behind_the_report_permission(app, client, store):
    def upload(headers, text=MESSY, **form):
        data = {"file": (io.BytesIO(text.encode()), "ds.csv"), **form}
        return client.post("/admin/api/participation/import", data=data, headers=headers, content_type="multipart/form-data")

    with client.session_transaction() as session:
        session["csrf"] = "test-csrf"
    assert upload({"X-CSRF-Token": "test-csrf"}).status_code == 401  # not logged in
    viewer = login(client, store, "viewer")
    assert upload(viewer).status_code == 403
    headers = login(client, store, "reporter")
    assert upload({}).status_code == 400  # CSRF token missing
    body = upload(headers, dry_run="1").get_json()
    assert body["dry_run"] and body["added"] == 3 and dbcheck.value(store, "SELECT count(*) FROM participations") == 0
    body = upload(headers).get_json()
    assert (body["added"], body["merged"], body["rejected"]) == (3, 2, 3)
    assert {r["line"] for r in body["rejected_rows"]} == {4, 8, 9}
    assert dbcheck.row(store, "SELECT * FROM audit_log WHERE action = 'participation.import'") is not None
    bad = upload(headers, text="a,b\n1,2\n")
    assert bad.status_code == 400 and "Thiếu cột" in bad.get_json()["error"]


def test_staff_bound_to_a_unit_can_import_only_its_rows(app, client, store):
    headers = login(client, store, "reporter", "CT.LAIHOA")
    data = {"file": (io.BytesIO(MESSY.encode()), "ds.csv")}
    body = client.post("/admin/api/participation/import", data=data, headers=headers, content_type="multipart/form-data").get_json()
    rejected = {r["line"]: r["reasons"] for r in body["rejected_rows"]}
    assert any("ngoài phạm vi" in reason for reason in rejected[2])  # Phú Lợi is outside Lai Hòa
    assert body["added"] == 1  # only line 10 (CT.LAIHOA)


def test_a_list_larger_than_the_webhook_limit_can_be_uploaded(app, client, store):
    """Webhooks are capped at 1 MB; a staff import of a few MB is accepted and fully reported."""
    headers = login(client, store, "reporter")
    row = "Võ Thị Hoa,0903 111 222,CT.PHULOI.CH02,to-quoc-ben-bo-song-2022,15/08/2022,{}\n"
    text = HEADER + "".join(row.format("x" * 40) for _ in range(20000))
    assert 1024 * 1024 < len(text.encode()) < 5 * 1024 * 1024
    data = {"file": (io.BytesIO(text.encode()), "ds.csv"), "dry_run": "1"}
    resp = client.post("/admin/api/participation/import", data=data, headers=headers, content_type="multipart/form-data")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["added"] + body["merged"] + body["rejected"] == 20000
    webhook = client.post("/webhooks/messenger", data=b"x" * (1024 * 1024 + 10))
    assert webhook.status_code in (404, 413)  # never parsed past the 1 MB cap
