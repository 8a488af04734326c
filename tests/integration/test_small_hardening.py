"""The smaller items of issue 11 (D22): the simulator's endpoint on bad JSON, an over-long CSV field,
quiz ids in download file names, quiz answer keys for viewers and reporters."""

from __future__ import annotations

import io

import pytest

from bot.participation.catalog import get_catalog
from bot.participation.importer import ImportFileError, import_participation
from tests import dbcheck
from tests.integration.test_participation_import import login
from tests.participation_support import content_app, make_content


@pytest.fixture
def app(httpserver, db_path, tmp_path, clock):
    return content_app(httpserver, db_path, clock, make_content(tmp_path / "content"))


# -- the simulator ----------------------------------------------------------------------------------
def test_the_simulator_answers_400_to_non_object_json_and_replaces_lone_surrogates(app, client, store):
    login(client, store, "admin")  # with platforms set up the simulator is for staff
    send = "/simulator/api/send"
    for body in (b"[]", b"5", b'"menu"', b"null", b"[" * 5000 + b"]" * 5000, b'{"user":"u1","text":NaN}',
                 b'{"user":["u1"],"text":"menu"}', b'{"user":"u1","payload":{"a":1}}'):
        resp = client.post(send, data=body, content_type="application/json")
        assert resp.status_code == 400, body[:40]
    resp = client.post(send, data=b'{"user":"u1","text":"menu \\ud83d"}', content_type="application/json")
    assert resp.status_code == 200
    [event] = [r["event"] for r in dbcheck.rows(store, "SELECT event FROM inbox")]
    assert "\ufffd" in event


# -- participation import -------------------------------------------------------------------------
def test_a_csv_field_over_the_csv_limit_is_a_clear_error(app, client, store):
    catalog = get_catalog(app.config)
    data = ('name,phone,unit,contest,date\n"Nguyễn Thị An,0912345678,CT.PHULOI,x,01/01/2026\n' + "x" * 140_000).encode()
    with pytest.raises(ImportFileError, match="131.072 ký tự"):
        import_participation(store, catalog, data, filename="a.csv", now=0, tz="Asia/Ho_Chi_Minh")
    headers = login(client, store, "reporter")
    resp = client.post("/admin/api/participation/import", headers=headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), "a.csv")})
    assert resp.status_code == 400 and "131.072" in resp.get_json()["error"]


# -- quiz ids and answer keys -------------------------------------------------------------------------
def test_an_unknown_quiz_id_never_reaches_a_download_file_name(app, client, store):
    login(client, store, "reporter")
    ok = client.get("/admin/api/quizzes/test-open/results?format=csv")
    assert ok.status_code == 200 and ok.headers["Content-Disposition"] == 'attachment; filename="ket-qua_test-open.csv"'
    for quiz_id in ('x"; filename="evil.exe', "a%0D%0ASet-Cookie:%20x=1", "nope"):
        resp = client.get(f"/admin/api/quizzes/{quiz_id}/results?format=csv")
        assert resp.status_code == 404, quiz_id
        assert "Set-Cookie" not in resp.headers
    export = client.get("/admin/api/reports/export?format=csv&section=tong-hop&unit=CT.PHULOI")
    assert export.status_code == 200 and '"' not in export.headers["Content-Disposition"].split("filename=")[1].strip('"')


@pytest.mark.parametrize("role,sees", [("viewer", False), ("reporter", False), ("broadcaster", False), ("editor", True), ("admin", True)])
def test_only_content_editors_read_quiz_answer_keys(app, client, store, role, sees):
    login(client, store, role)
    detail = client.get("/admin/api/quizzes/test-open").get_json()
    assert detail["questions"] and all(("correct" in q) is sees and ("explanation" in q) is sees for q in detail["questions"])
    page = client.get("/admin/participation/quizzes/test-open")
    assert page.status_code == 200
    assert ("đáp án" in page.get_data(as_text=True)) is sees
