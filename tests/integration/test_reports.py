"""Unit reports: counts per unit with sub-units, leaderboards, commendations, exports, scoping, erasure."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest

from bot.participation.catalog import get_catalog
from bot.reports.unit_report import build_report, parse_period
from tests import dbcheck
from tests.integration.test_participation_import import login
from tests.participation_support import Chat, content_app, make_content

MEMBERS = [
    # user, name, unit query, phone, answers, seconds per answer
    ("A1", "Nguyễn Thị An", "khom 1 phu loi", "0912000001", "abb", 2),
    ("A2", "Trần Thị Bình", "khom 1 phu loi", "0912000002", "abb", 9),
    ("A3", "Lê Thị Cúc", "khom 2 phu loi", "0912000003", "aab", 3),
    ("B1", "Phạm Thị Dung", "ap 1 lai hoa", "0912000004", "bab", 1),
]


@pytest.fixture
def app(httpserver, db_path, tmp_path, clock):
    return content_app(httpserver, db_path, clock, make_content(tmp_path / "content"), COMMEND_UNIT_MIN_MEMBERS="1")


@pytest.fixture
def population(app, store):
    """Four registered members who took the open quiz; one reported a contest; one asked questions."""
    t = app.extensions["bot"].clock.now() - 3600
    chats = {}
    for user, name, unit, phone, answers, gap in MEMBERS:
        chat = Chat(app, store, user=user, channel="messenger")
        chat.register(name=name, unit_query=unit, phone=phone)
        chat.send("x", payload="QUIZ_START:test-open", now=t)
        for i, answer in enumerate(answers, 1):
            chat.send(answer, now=t + gap * i)
        chats[user] = chat
    chats["A1"].send("x", payload="CONTEST_YES:to-quoc-ben-bo-song-2022")
    chats["A1"].tap("Bỏ qua")
    chats["B1"].send("bờ biển việt nam dài bao nhiêu km")
    chats["B1"].send("giá vàng hôm nay")
    unregistered = Chat(app, store, user="X9", channel="zalo")
    unregistered.send("hái hoa")
    # replies and a broadcast that reached members
    for user in ("A1", "B1"):
        member = chats[user].member
        [reply] = store.enqueue(channel="messenger", recipient=user, messages=[{"text": "x"}], at=t, member_id=member["id"])
        store.mark_sent(reply, platform_message_id=f"m-{user}", at=t + 1)
    [bcast] = store.enqueue(channel="messenger", recipient="A2", messages=[{"text": "tin"}], at=t,
                            member_id=chats["A2"].member["id"], kind="broadcast")
    store.mark_sent(bcast, platform_message_id="m-b", at=t + 1)
    return chats


def report_for(app, store, unit=None):
    now = app.extensions["bot"].clock.now()
    period = parse_period(None, None, app.config["TIMEZONE"], now)
    return build_report(store, get_catalog(app.config), app.config, period, unit, now=now)


def row(report, code):
    return next(r["values"] for r in report["summary"]["rows"] if r["unit_code"] == code)


def test_summary_counts_per_unit_with_sub_units(app, store, population):
    city = report_for(app, store)
    phu_loi, lai_hoa = row(city, "CT.PHULOI"), row(city, "CT.LAIHOA")
    assert phu_loi["registered"] == 3 and lai_hoa["registered"] == 1
    assert phu_loi["quiz_attempts"] == 3 and phu_loi["quiz_participants"] == 3 and phu_loi["quiz_finished"] == 3
    assert phu_loi["quiz_avg"] == round((100 + 100 + 200 / 3) / 3, 1)
    # reached: a reply to A1 and a broadcast to A2 were sent
    assert phu_loi["contest_participants"] == 1 and phu_loi["reached"] == 2 and phu_loi["broadcasts"] == 1
    assert lai_hoa["questions"] == 2 and lai_hoa["answered"] + lai_hoa["suggested"] + lai_hoa["unanswered"] == 2
    assert lai_hoa["reached"] == 1
    none = row(city, None)  # the unregistered Zalo member's hái hoa
    assert none["haihoa"] == 1
    total = city["summary"]["total"]
    assert total["registered"] == 4 and total["quiz_attempts"] == 4 and total["haihoa"] == 1
    # a commune's report: its chi hội as rows, nothing from elsewhere
    ward = report_for(app, store, "CT.PHULOI")
    assert [r["unit_code"] for r in ward["summary"]["rows"]] == ["CT.PHULOI.CH01", "CT.PHULOI.CH02"]
    assert row(ward, "CT.PHULOI.CH01")["quiz_participants"] == 2
    assert ward["summary"]["total"]["registered"] == 3 and ward["summary"]["total"]["questions"] == 0


def test_leaderboards_overall_and_per_unit(app, store, population):
    report = report_for(app, store)
    [board] = report["leaderboards"]
    assert [r["name"] for r in board["rows"]] == ["Nguyễn Thị An", "Trần Thị Bình", "Lê Thị Cúc", "Phạm Thị Dung"]
    assert [r["rank"] for r in board["rows"]] == [1, 2, 3, 4]
    per_unit = {b["unit_code"]: [r["name"] for r in b["rows"]] for b in report["unit_leaderboards"]}
    assert per_unit["CT.PHULOI"] == ["Nguyễn Thị An", "Trần Thị Bình", "Lê Thị Cúc"]
    assert per_unit["CT.LAIHOA"] == ["Phạm Thị Dung"]


def test_commendation_candidates_follow_the_settings(app, store, population):
    commend = report_for(app, store)["commendations"]
    assert [m["name"] for m in commend["members"]] == ["Nguyễn Thị An", "Trần Thị Bình"]  # 100 %; Cúc and Dung below 80 %
    assert commend["members"][0]["contests"] == 1
    assert [u["unit_code"] for u in commend["units"]] == ["CT.PHULOI", "CT.LAIHOA"]
    app.config["COMMEND_MIN_SCORE_PERCENT"] = 30
    app.config["COMMEND_TOP_UNITS"] = 0  # switched off
    commend = report_for(app, store)["commendations"]
    assert len(commend["members"]) == 4 and commend["units"] == []


def test_commendation_time_is_the_time_of_the_best_attempt(app, store, population, clock):
    # Bình (100 % in 27 s) tries again and gets 0/3 in 3 s: her time stays 27 s, not the 3 s of the worse try
    t = clock.now() - 600
    chat = population["A2"]
    chat.send("x", payload="QUIZ_START:test-open", now=t)
    for i, answer in enumerate("baa", 1):
        chat.send(answer, now=t + i)
    assert "Điểm: 0/3" in chat.text
    [binh] = [m for m in report_for(app, store)["commendations"]["members"] if m["name"] == "Trần Thị Bình"]
    assert binh["avg_pct"] == 100.0 and binh["total_duration"] == 27.0


def test_xlsx_export_has_one_sheet_per_section_with_vietnamese_headers(app, runner, population, tmp_path):
    out = tmp_path / "bao-cao.xlsx"
    result = runner.invoke(args=["report", "export", "--format", "xlsx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Tổng hợp", "Thi trực tuyến", "Xếp hạng", "Xếp hạng theo đơn vị", "Cuộc thi",
                               "Đề xuất khen cá nhân", "Đề xuất khen tập thể", "Bài đăng"]
    sheet = book["Tổng hợp"]
    values = list(sheet.iter_rows(values_only=True))
    header = next(r for r in values if r[0] == "STT")
    assert header[:4] == ("STT", "Đơn vị", "Mã đơn vị", "Hội viên được tiếp cận")
    assert any(r[1] == "Tổng cộng" for r in values)
    assert values[0][0] == "HỘI LHPN THỬ NGHIỆM"
    ranks = [r for r in book["Xếp hạng"].iter_rows(values_only=True) if r[0] == "Bài thi thử đang mở"]
    assert [r[2] for r in ranks] == ["Nguyễn Thị An", "Trần Thị Bình", "Lê Thị Cúc", "Phạm Thị Dung"]


def test_csv_export_writes_one_file_per_section(app, runner, population, tmp_path):
    result = runner.invoke(args=["report", "export", "--format", "csv", "--unit", "CT.PHULOI", "--out", str(tmp_path / "csv")])
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (tmp_path / "csv").iterdir())
    assert "bao-cao_tong-hop.csv" in files and "bao-cao_xep-hang.csv" in files and len(files) == 8
    data = (tmp_path / "csv" / "bao-cao_tong-hop.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens Vietnamese correctly
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][1] == "Đơn vị" and [r[2] for r in rows[1:-1]] == ["CT.PHULOI.CH01", "CT.PHULOI.CH02"]


def test_quiz_results_command_lists_channel_platform_id_unit_score_duration(app, runner, population):
    result = runner.invoke(args=["quiz", "results", "test-open", "--format", "csv"])
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.output.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Lượt thi", "Kênh", "Mã người dùng trên kênh"]
    by_user = {r[2]: r for r in rows[1:]}
    assert set(by_user) == {"A1", "A2", "A3", "B1"}
    assert by_user["A1"][1] == "messenger" and by_user["A1"][4] == "CT.PHULOI.CH01" and by_user["A1"][7] == "3"
    assert float(by_user["A2"][9]) == pytest.approx(27, abs=0.5)


def test_report_endpoints_need_login_and_are_scoped_to_the_staff_unit(app, client, store, population):
    assert client.get("/admin/api/reports/summary").status_code == 401
    login(client, store, "viewer")
    assert client.get("/admin/api/reports/summary").status_code == 403  # "report" permission
    assert client.get("/admin/api/quizzes").status_code == 200  # "read" is enough for the list
    login(client, store, "reporter", "CT.LAIHOA")
    body = client.get("/admin/api/reports/summary").get_json()
    assert body["unit"]["code"] == "CT.LAIHOA" and body["summary"]["total"]["registered"] == 1
    assert client.get("/admin/api/reports/summary?unit=CT.PHULOI").status_code == 403
    assert client.get("/admin/api/reports/summary?unit=ct.laihoa.ch01").status_code == 200
    board = client.get("/admin/api/reports/leaderboard?quiz=test-open").get_json()
    assert [r["name"] for r in board["rows"]] == ["Phạm Thị Dung"]
    results = client.get("/admin/api/quizzes/test-open/results").get_json()
    assert [r[2] for r in results["rows"]] == ["B1"]
    units = client.get("/admin/api/units").get_json()["units"]
    assert {u["code"] for u in units} == {"CT.LAIHOA", "CT.LAIHOA.CH01", "CT.LAIHOA.CH02"}
    xlsx = client.get("/admin/api/reports/export?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    section = client.get("/admin/api/reports/export?format=csv&section=xep-hang")
    assert "Phạm Thị Dung" in section.data.decode("utf-8-sig") and "Nguyễn Thị An" not in section.data.decode("utf-8-sig")
    assert client.get("/admin/api/reports/summary?from=2026-13-01").status_code == 400


def _everything_staff_can_get(app, client, runner, tmp_path) -> str:
    """The text of every report, list and export, through the API and the commands."""
    parts = []
    for url in ("/admin/api/reports/summary", "/admin/api/reports/leaderboard?quiz=test-open", "/admin/api/reports/commendations",
                "/admin/api/quizzes/test-open/results", "/admin/api/quizzes/test-open/results?format=csv"):
        parts.append(client.get(url).data.decode("utf-8-sig"))
    report = client.get("/admin/api/reports/summary").get_json()
    for table in ("tong-hop", "thi-truc-tuyen", "xep-hang", "xep-hang-don-vi", "cuoc-thi", "de-xuat-ca-nhan", "de-xuat-tap-the"):
        parts.append(client.get(f"/admin/api/reports/export?format=csv&section={table}").data.decode("utf-8-sig"))
    book = openpyxl.load_workbook(io.BytesIO(client.get("/admin/api/reports/export?format=xlsx").data))
    parts += [str(cell) for sheet in book for r in sheet.iter_rows(values_only=True) for cell in r if cell is not None]
    for args in (["quiz", "results", "test-open"], ["quiz", "results", "test-open", "--format", "json"],
                 ["report", "summary", "--json"], ["report", "leaderboard", "test-open"], ["report", "commendations"]):
        parts.append(runner.invoke(args=args).output)
    runner.invoke(args=["report", "export", "--format", "csv", "--out", str(tmp_path / "csv")])
    parts += [p.read_text(encoding="utf-8-sig") for p in (tmp_path / "csv").iterdir()]
    parts.append(json.dumps(report, ensure_ascii=False))
    return "\n".join(parts)


def test_erasure_removes_the_member_from_every_report_and_export(app, client, runner, store, population, tmp_path, clock):
    from bot.participation.importer import import_participation

    csv_text = "name,phone,unit,contest,date\nNguyễn Thị An,0912000001,CT.PHULOI.CH01,tim-hieu-luat-bien-phong-2023,01/12/2023\n"
    import_participation(store, get_catalog(app.config), csv_text.encode(), filename="x.csv", now=clock.now(), tz="Asia/Ho_Chi_Minh")
    login(client, store, "admin")
    before = _everything_staff_can_get(app, client, runner, tmp_path / "before")
    assert "Nguyễn Thị An" in before and "A1" in before  # she is there before
    totals = report_for(app, store)["summary"]["total"]

    chat = population["A1"]
    chat.send("XÓA DỮ LIỆU")
    chat.tap("Đồng ý xóa")

    after = _everything_staff_can_get(app, client, runner, tmp_path / "after")
    for personal in ("Nguyễn Thị An", "Nguyen Thi An", "0912000001", "A1,", '"A1"'):
        assert personal not in after, personal
    assert "Trần Thị Bình" in after  # the others are still there
    # anonymous counts stay: the attempt still counts, her registration does not
    new_totals = report_for(app, store)["summary"]["total"]
    assert new_totals["quiz_attempts"] == totals["quiz_attempts"] and new_totals["registered"] == totals["registered"] - 1
    # and nothing personal is left anywhere in the database
    dump = dbcheck.dump(store)
    assert "Nguyễn Thị An" not in dump and "0912000001" not in dump
    assert "'A1'" not in dump and '"A1"' not in dump and "m-A1" in dump  # the platform's message id is not personal


def test_erasure_through_the_webhook_scrubs_inbox_and_outbox(app, client, store, httpserver, clock):
    from bot.pipeline.outbox import drain
    from tests.integration.test_pipeline import messenger_text, post_messenger

    httpserver.expect_request("/me/messages", method="POST").respond_with_json({"recipient_id": "PSIDX", "message_id": "m_out"})
    services = app.extensions["bot"]
    for i, text in enumerate(["ĐĂNG KÝ", "1", "Hoàng Thị Xuyến", "khom 2 phu loi", "1", "Xác nhận", "0977 123 456", "1",
                              "XÓA DỮ LIỆU", "1"]):
        post_messenger(client, messenger_text(text, mid=f"m_e{i}", psid="PSIDX"))
        services.processor.process_pending(store)
        drain(store, services.channels["messenger"], app.config, clock=app.extensions["bot"].clock)
    assert store.find_member("messenger", "PSIDX") is None
    from bot.participation.privacy import purge_silent_members

    with store.transaction():
        purge_silent_members(store, app.config, clock.now())  # also blanks the goodbye, sent after the erasure
    dump = dbcheck.dump(store)
    for personal in ("PSIDX", "Hoàng Thị Xuyến", "Ho\\u00e0ng", "0977123456", "0977 123 456"):
        assert personal not in dump, personal


def test_summary_sums_broadcasts_delivered_read_and_uncertain(app, store, population):
    from tests.integration.test_delivery_truth import messenger_post, ms, read

    now = app.extensions["bot"].clock.now()
    [lost] = store.enqueue(channel="messenger", recipient="A1", messages=[{"text": "tin"}], at=now - 60,
                           member_id=population["A1"].member["id"], kind="broadcast")
    store.claim_outbound("messenger", now=now - 60)
    store.recover_in_flight(at=now - 59)  # in flight at a crash, never echoed
    assert store.get_outbound(lost)["status"] == "uncertain"
    messenger_post(app.test_client(), read("A2", ms(now)))  # A2 read everything sent before now
    phu_loi = row(report_for(app, store), "CT.PHULOI")
    assert (phu_loi["broadcasts"], phu_loi["broadcasts_delivered"], phu_loi["broadcasts_read"], phu_loi["broadcasts_uncertain"]) == (1, 1, 1, 1)
    assert row(report_for(app, store), "CT.LAIHOA")["broadcasts_delivered"] == 0
