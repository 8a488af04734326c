"""Contest self-reports: counted in the contest's period, old contests no longer offered, the typed result shown to staff."""

from __future__ import annotations

import datetime as dt

from bot.participation.catalog import get_catalog
from bot.participation.contest_flow import _within_period
from bot.participation.contests import parse_contests
from tests.integration.test_haihoa_contests import app  # noqa: F401  (fixture)
from tests.integration.test_participation_import import login
from tests.participation_support import ROOT, Chat

CONTESTS, _ = parse_contests(ROOT / "content")


def test_a_report_made_after_the_end_counts_on_the_last_day_of_the_contest(app, store):  # noqa: F811
    chat = Chat(app, store, channel="messenger")
    chat.register()
    contest = CONTESTS["tim-hieu-luat-bien-phong-2023"]  # the shipped file's own period, long over
    chat.send("x", payload=f"CONTEST_PICK:{contest.id}")  # an old button
    chat.tap("Tôi đã tham gia")
    row = store.member_participation(chat.member["id"], contest.id)
    assert row["participated_on"] == contest.ends.isoformat()
    inside = contest.starts + dt.timedelta(days=4)
    assert _within_period(contest, inside.isoformat()) == inside.isoformat()  # inside the period: that day
    before = contest.starts - dt.timedelta(days=300)
    assert _within_period(contest, before.isoformat()) == contest.starts.isoformat()


def test_contests_that_ended_long_ago_are_not_offered(app, store):  # noqa: F811
    chat = Chat(app, store, channel="messenger")
    chat.send("THAM GIA CUỘC THI")
    shown = chat.rendered
    assert "Luật Biên phòng" not in shown  # the contest's own end date is long past
    assert "Tổ quốc bên bờ sóng" in shown  # no end date on file: still offered
    week_after = CONTESTS["tim-hieu-luat-bien-phong-2023"].ends + dt.timedelta(days=8)
    offered = [c.id for c in get_catalog(app.config).reportable_contests(week_after)]
    assert "tim-hieu-luat-bien-phong-2023" in offered  # a week after the end: still offered


def test_the_result_a_member_typed_shows_in_the_staff_list(app, client, store):  # noqa: F811
    chat = Chat(app, store, channel="messenger")
    chat.register()
    chat.send("x", payload="CONTEST_YES:to-quoc-ben-bo-song-2022")
    chat.send("Đạt giải khuyến khích tuần 3")
    login(client, store, "reporter")
    page = client.get("/admin/participation").get_data(as_text=True)
    assert "Đạt giải khuyến khích tuần 3" in page


def test_report_sheets_have_unique_headers_numeric_durations_and_no_internal_codes(httpserver, db_path, tmp_path, clock):
    from bot.reports.unit_report import report_tables
    from tests.integration.test_reports import MEMBERS, report_for
    from tests.participation_support import content_app, make_content

    app = content_app(httpserver, db_path, clock, make_content(tmp_path / "content"), COMMEND_UNIT_MIN_MEMBERS="1")
    from bot.storage.store import Store

    store = Store.open(db_path)
    t = app.extensions["bot"].clock.now() - 3600
    for user, name, unit, phone, answers, gap in MEMBERS:
        chat = Chat(app, store, user=user, channel="messenger")
        chat.register(name=name, unit_query=unit, phone=phone)
        chat.send("x", payload="QUIZ_START:test-open", now=t)
        for i, answer in enumerate(answers, 1):
            chat.send(answer, now=t + gap * i)
    ward = Chat(app, store, user="W1", channel="messenger")  # registered at the ward itself: the '_self' row
    ward.register(name="Hồ Thị Phường", unit_query="CT.PHULOI", phone="0912000077")
    tables = report_tables(report_for(app, store, "CT.PHULOI"))
    store.close()
    for table in tables:
        assert len(set(table.headers)) == len(table.headers), table.headers
        for row in table.rows:
            assert not any(isinstance(v, str) and v.startswith("_") for v in row), row
    summary = next(t for t in tables if t.key == "tong-hop")
    assert any(str(r[1]).startswith("Trực thuộc trực tiếp") and r[2] == "" for r in summary.rows)  # the '_self' row
    quizzes = next(t for t in tables if t.key == "thi-truc-tuyen")
    assert quizzes.headers[-1] == "Thời gian trung bình (giây)"
    assert all(isinstance(r[-1], (int, float)) for r in quizzes.rows if r[4])


def test_the_offer_cut_off_after_the_end_is_a_setting(app, store):  # noqa: F811
    ended = CONTESTS["tim-hieu-luat-bien-phong-2023"]
    catalog = get_catalog(app.config)

    def offered(today, days):
        return [c.id for c in catalog.reportable_contests(today, days)]

    twenty_days_after = ended.ends + dt.timedelta(days=20)
    assert ended.id in offered(twenty_days_after, 30)
    assert ended.id not in offered(twenty_days_after, 10)
    assert ended.id in offered(ended.ends + dt.timedelta(days=3000), 0)  # 0 switches the cut-off off
    assert "thi-nu-chien-si-cach-mang-2025" in offered(ended.ends + dt.timedelta(days=3000), 10)  # no end date: stays
    assert "em-yeu-bien-dao-que-huong-2025-2026" not in offered(ended.ends, 0)  # for pupils: never offered to members

    app.config["CONTEST_OFFER_DAYS_AFTER_END"] = 0  # the chat reads the setting
    chat = Chat(app, store, channel="messenger")
    chat.send("THAM GIA CUỘC THI")
    assert "Luật Biên phòng" in chat.rendered
