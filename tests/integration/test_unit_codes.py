"""Unit codes typed by staff are checked against content/units.yaml everywhere, with near misses suggested."""

from __future__ import annotations

import io
import re

from bot.participation.units import (
    UnknownUnitError,
    check_unit_code,
    parse_units,
    suggest_units,
)
from tests.conftest import ROOT
from tests.integration.test_participation_import import login

UNITS, _ = parse_units(ROOT / "content")


def test_codes_are_accepted_in_any_case_and_near_misses_are_suggested():
    assert check_unit_code(UNITS, " ct.phuloi ") == "CT.PHULOI"
    for typed in ("Phu Loi", "PHULOI", "CT.PHULOl", "phú lợi"):
        try:
            check_unit_code(UNITS, typed)
        except UnknownUnitError as exc:
            assert str(exc).startswith(f"Không có đơn vị '{typed}'. Có phải: CT.PHULOI (Phường Phú Lợi)"), str(exc)
        else:
            raise AssertionError(typed)
    assert suggest_units(UNITS, "CT.PHULOI.CH1")[0].code == "CT.PHULOI.CH01"
    try:
        check_unit_code(UNITS, "NOPE")
    except UnknownUnitError as exc:
        assert "Không có đơn vị 'NOPE'" in str(exc) and "units.yaml" in str(exc)


def test_cli_broadcast_to_an_unknown_unit_is_refused(runner, store):
    result = runner.invoke(args=["broadcast", "create", "--text", "Tin thử", "--now", "--audience", "unit:Phu Loi"])
    assert result.exit_code != 0
    assert "Không có đơn vị 'Phu Loi'. Có phải: CT.PHULOI (Phường Phú Lợi)" in result.output
    assert store.list_broadcasts() == []
    dry = runner.invoke(args=["broadcast", "create", "--text", "x", "--now", "--audience", "unit:CT.NK", "--dry-run"])
    assert dry.exit_code != 0 and "Không có đơn vị 'CT.NK'" in dry.output


def test_api_and_console_refuse_an_unknown_unit_on_the_audience_field(app, client, store):
    headers = login(client, store, "broadcaster")
    api = client.post("/admin/api/broadcasts", json={"text": "Tin thử", "audience": "unit:Phu Loi"}, headers=headers)
    assert api.status_code == 400 and api.json["field"] == "audience" and "CT.PHULOI" in api.json["error"]
    dry = client.post("/admin/api/broadcasts/dry-run", json={"audience": "unit:NOPE"}, headers=headers)
    assert dry.status_code == 400 and dry.json["field"] == "audience" and "Không có đơn vị 'NOPE'" in dry.json["error"]
    form = {"csrf_token": "test-csrf", "text": "Tin thử", "audience_kind": "unit", "audience_value": "Phu Loi", "schedule": "now"}
    page = client.post("/admin/broadcasts/new", data=form)
    body = page.get_data(as_text=True)
    assert page.status_code == 400 and "Không có đơn vị" in body and "CT.PHULOI" in body
    assert re.search(r'id="audience_value-error\d*"', body)
    assert store.list_broadcasts() == []


def test_broadcast_help_names_a_code_that_exists(app, client, store):
    login(client, store, "broadcaster")
    page = client.get("/admin/broadcasts/new").get_data(as_text=True)
    assert "CT.NK" not in page and "ví dụ CT.PHULOI" in page


def test_staff_account_with_an_unknown_unit_is_refused(runner, store, client, app):
    result = runner.invoke(args=["users", "create", "--username", "xa", "--role", "reporter", "--unit", "NOPE"],
                           input="mat-khau-dai-du\n")
    assert result.exit_code != 0 and "Không có đơn vị 'NOPE'" in result.output
    assert store.find_staff("xa") is None
    result = runner.invoke(args=["users", "create", "--username", "xa", "--role", "reporter", "--unit", "ct.phuloi"],
                           input="mat-khau-dai-du\n")
    assert result.exit_code == 0, result.output
    assert store.find_staff("xa")["unit_code"] == "CT.PHULOI"
    login(client, store, "admin")
    form = {"csrf_token": "test-csrf", "username": "xa2", "role": "reporter", "unit_code": "Phu Loi",
            "password": "mat-khau-dai-du", "password2": "mat-khau-dai-du"}
    page = client.post("/admin/accounts", data=form)
    assert page.status_code == 400 and "Có phải: CT.PHULOI" in page.get_data(as_text=True)
    assert store.find_staff("xa2") is None


def test_csv_import_suggests_the_unit_it_could_not_find(app, client, store):
    headers = login(client, store, "reporter")
    text = "name,phone,unit,contest,date\nNguyễn Thị A,0912000001,CT.PHULOI.CH1,to-quoc-ben-bo-song-2022,2022-06-01\n"
    data = {"file": (io.BytesIO(text.encode()), "ds.csv"), "dry_run": "1"}
    reply = client.post("/admin/api/participation/import", data=data, headers=headers, content_type="multipart/form-data")
    reasons = str(reply.get_json())
    assert "không có đơn vị “CT.PHULOI.CH1” trong danh mục; có phải: CT.PHULOI.CH01" in reasons, reasons


def test_the_broadcast_form_shows_every_field_error_at_once(app, client, store):
    login(client, store, "broadcaster")
    form = {"csrf_token": "test-csrf", "text": "", "audience_kind": "unit", "audience_value": "Phu Loi",
            "schedule": "once", "at": "", "image_url": "ftp://anh.example/a.png"}
    page = client.post("/admin/broadcasts/new", data=form)
    body = page.get_data(as_text=True)
    assert page.status_code == 400
    for field in ("text", "audience_value", "at", "image_url"):
        assert re.search(rf'id="{field}-error\d*"', body), field
    assert body.count("Nội dung tin nhắn đang trống.") >= 1 and "Có phải: CT.PHULOI" in body and "Cần thời điểm gửi." in body
    assert store.list_broadcasts() == []
