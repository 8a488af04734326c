"""Simulator traffic is staff testing: marked by its channel, left out of every official figure;
and the simulator is open only on a fresh install (no platform settings), else behind a staff login."""

from __future__ import annotations

import pytest

from app import create_app
from tests.conftest import database_config, platform_config
from tests.integration.test_participation_import import login
from tests.integration.test_reports import app, population, report_for  # noqa: F401  (fixtures)
from tests.participation_support import Chat


def figures(app, store):  # noqa: F811
    report = report_for(app, store)
    now = app.extensions["bot"].clock.now()
    bounds = [now - 86400, now + 60]
    return {
        "summary": report["summary"],
        "quizzes": report["quizzes"],
        "contests": report["contests"],
        "leaderboards": report["leaderboards"],
        "unit_leaderboards": report["unit_leaderboards"],
        "commendations": report["commendations"],
        "unanswered": [q["text"] for q in store.unanswered_questions()],
        "dashboard": [store.conversations_by_bucket(bounds), store.questions_by_bucket(bounds),
                      store.participation_by_bucket(bounds)],
        "board": [r["member_id"] for r in store.leaderboard("test-open")],
    }


def test_a_tester_in_the_simulator_changes_no_official_figure(app, store, population):  # noqa: F811
    before = figures(app, store)
    assert before["leaderboards"] and before["commendations"]["members"]  # the figures are not empty
    tester = Chat(app, store, user="TESTER", channel="simulator")
    tester.register(name="Cán Bộ Thử", unit_query="khom 1 phu loi", phone="0912000099")
    t = app.extensions["bot"].clock.now() - 1800
    tester.send("x", payload="QUIZ_START:test-open", now=t)
    for i, answer in enumerate("abb", 1):  # all right, fastest of all
        tester.send(answer, now=t + i)
    assert "3/3" in tester.text
    tester.send("x", payload="CONTEST_YES:to-quoc-ben-bo-song-2022")
    tester.tap("Bỏ qua")
    tester.send("giá cà phê hôm nay thế nào")  # a question the bank cannot answer
    tester.send("hái hoa")
    store.log_question(member_id=tester.member["id"], channel="simulator", text="câu hỏi thử không có đáp án",
                          at=t, decision="fallback", entry_id=None, score=0.0, candidates=[])
    assert store.find_member("simulator", "TESTER")["unit_code"].startswith("CT.PHULOI")  # marked by its channel
    assert figures(app, store) == before


def test_a_tester_still_sees_a_rank_in_the_simulator(app, store, population):  # noqa: F811
    tester = Chat(app, store, user="TESTER", channel="simulator")
    tester.register(name="Cán Bộ Thử", unit_query="khom 1 phu loi", phone="0912000099")
    tester.send("x", payload="QUIZ_START:test-open")
    for answer in "abb":
        tester.send(answer)
    assert "Xếp hạng trong" in tester.text  # among the unit's members and itself; they never see it


@pytest.fixture
def no_settings(monkeypatch):
    """A fresh install: no setting from the environment (no platform configured)."""
    from bot.core.config import SETTINGS

    for s in SETTINGS:
        monkeypatch.delenv(s.name, raising=False)


def test_simulator_is_open_on_a_fresh_install(tmp_path, no_settings):
    fresh = create_app({"TESTING": True, "DATABASE_PATH": str(tmp_path / "bot.db")})
    client = fresh.test_client()
    assert client.get("/simulator").status_code == 200
    assert client.post("/simulator/api/send", json={"user": "u1", "text": "menu"}).status_code == 200


@pytest.mark.engines
def test_simulator_replies_name_the_message_they_answer(db_path, no_settings):
    """The page orders and scrolls by these: a reply to an earlier message that reaches the page late
    is told apart from the answer to the member's latest one, and a poll finds both in the order sent."""
    client = create_app({"TESTING": True, **database_config(db_path)}).test_client()
    first = client.post("/simulator/api/send", json={"user": "u1", "text": "chào"}).get_json()
    second = client.post("/simulator/api/send", json={"user": "u1", "text": "cảm ơn"}).get_json()
    assert first["key"] != second["key"]
    assert first["messages"] and {m["reply_to"] for m in first["messages"]} == {first["key"]}
    assert second["messages"] and {m["reply_to"] for m in second["messages"]} == {second["key"]}
    polled = client.get("/simulator/api/messages?user=u1&after=0").get_json()["messages"]
    assert [m["id"] for m in polled] == sorted(m["id"] for m in first["messages"] + second["messages"])
    assert [m["reply_to"] for m in polled] == [first["key"]] * len(first["messages"]) + [second["key"]] * len(
        second["messages"])


def test_simulator_needs_a_staff_login_once_a_platform_is_configured(httpserver, db_path):
    configured = create_app(platform_config(httpserver.url_for("/"), db_path))
    client = configured.test_client()
    page = client.get("/simulator")
    assert page.status_code == 302 and "/admin/login?next=/simulator" in page.headers["Location"]
    api = client.post("/simulator/api/send", json={"user": "u1", "text": "menu"})
    assert api.status_code == 401 and "đăng nhập" in api.get_json()["error"]
    assert client.get("/simulator/api/messages?user=u1&after=0").status_code == 401
    from bot.storage.store import Store

    store = Store.open(db_path)
    try:
        login(client, store, "viewer")
    finally:
        store.close()
    assert client.get("/simulator").status_code == 200
    assert client.post("/simulator/api/send", json={"user": "u1", "text": "menu"}).status_code == 200


def test_one_platform_setting_is_enough_to_close_the_simulator(tmp_path, no_settings):
    half = create_app({"TESTING": True, "DATABASE_PATH": str(tmp_path / "bot.db"), "ZALO_BOT_TOKEN": "123:abc"})
    assert half.test_client().get("/simulator").status_code == 302


def test_login_returns_to_the_simulator(httpserver, db_path):
    from bot.web.auth import _safe_next

    configured = create_app(platform_config(httpserver.url_for("/"), db_path))
    with configured.test_request_context():
        assert _safe_next("/simulator") == "/simulator"
        assert _safe_next("//evil.example/simulator") != "//evil.example/simulator"
