"""Hộp thư (issue 15): staff see the conversations of their unit, the thread, reply within the platform's rules, close."""

from __future__ import annotations

import re
import time
import uuid

import pytest

from bot.core import models
from bot.core.models import Event
from bot.web.auth import create_account
from tests import dbcheck

PASSWORD = "mat-khau-du-dai-2"
DAY = 86400.0


@pytest.fixture
def staff_app(app):
    from bot.storage.store import Store

    store = Store.open(app.config.get("DATABASE_URL") or app.config["DATABASE_PATH"])
    create_account(store, "canbo", PASSWORD, "editor", None, now=time.time())
    create_account(store, "chihoi", PASSWORD, "broadcaster", "CT.NK", now=time.time())
    create_account(store, "xem", PASSWORD, "viewer", None, now=time.time())
    store.close()
    return app


def login(app, username="canbo"):
    client = app.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    assert client.post("/admin/login", data={"username": username, "password": PASSWORD, "csrf_token": token}).status_code == 302
    page = client.get("/admin/dashboard").get_data(as_text=True)
    return client, re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def say(app, text, *, user="web1", channel="simulator"):
    services = app.extensions["bot"]
    from bot.storage.store import Store

    store = Store.open(app.config.get("DATABASE_URL") or app.config["DATABASE_PATH"])
    try:
        event = Event(channel=channel, kind=models.TEXT, user_id=user, event_key=uuid.uuid4().hex,
                      timestamp=services.clock.now(), text=text)
        with store.transaction():
            return services.dispatcher.handle(event, store, services.clock.now())
    finally:
        store.close()


def test_staff_see_the_thread_reply_and_the_member_gets_it_in_the_simulator(staff_app):
    member, _ = login(staff_app, "xem")  # the simulator may need a staff login once platforms are set up
    sent = member.post("/simulator/api/send", json={"user": "web1", "text": "gặp cán bộ"}).get_json()
    assert any("cán bộ" in m["text"] for m in sent["messages"])
    member.post("/simulator/api/send", json={"user": "web1", "text": "Tôi muốn hỏi về thủ tục kết nạp hội viên"})
    client, token = login(staff_app)
    page = client.get("/admin/inbox").get_data(as_text=True)
    assert "Hộp thư" in page and "Tôi muốn hỏi về thủ tục kết nạp hội viên" in page
    assert re.search(r'Hộp thư <span class="badge nav-count"[^>]*>1</span>', page)  # the badge: one waiting
    handoff_id = int(re.search(r'data-handoff="(\d+)"', page).group(1))
    thread = client.get(f"/admin/inbox/{handoff_id}").get_data(as_text=True)
    assert "Tôi muốn hỏi về thủ tục kết nạp hội viên" in thread and "Trợ lý tự động" in thread and "Gửi được" in thread
    assert client.post(f"/admin/inbox/{handoff_id}/assign", data={"csrf_token": token}).status_code == 302
    reply = client.post(f"/admin/inbox/{handoff_id}/reply", data={"csrf_token": token, "text": "Chào chị, chị mang CCCD đến chi hội nhé."})
    assert reply.status_code == 302
    got = member.get("/simulator/api/messages?user=web1&after=0").get_json()["messages"]
    assert any(m["text"] == "Chào chị, chị mang CCCD đến chi hội nhé." for m in got)
    page = client.get("/admin/inbox").get_data(as_text=True)
    assert 'class="badge nav-count"' not in page  # answered: nothing waiting
    assert "canbo" in client.get(f"/admin/inbox/{handoff_id}").get_data(as_text=True)
    assert client.post(f"/admin/inbox/{handoff_id}/close", data={"csrf_token": token}).status_code == 302
    page = client.get("/admin/inbox").get_data(as_text=True)
    assert "Không có cuộc trò chuyện nào đang mở" in page
    figures = re.search(r'id="inbox-figures".*?</div>\s*</div>', page, re.DOTALL).group(0)
    assert re.search(r'<span class="value">1</span><span class="label">Cuộc mở trong 30 ngày', figures)
    assert re.search(r'<span class="value">1</span><span class="label">Đã đóng', figures)
    # back with the bot: a question is answered again
    answered = member.post("/simulator/api/send", json={"user": "web1", "text": "Biên giới đất liền Việt Nam dài bao nhiêu km"}).get_json()
    assert answered["messages"]


def test_unit_bound_staff_see_their_unit_only_and_viewers_cannot_reply(staff_app):
    say(staff_app, "gặp cán bộ")  # not registered: organisation level
    client, token = login(staff_app, "chihoi")
    assert "Không có cuộc trò chuyện nào đang mở" in client.get("/admin/inbox").get_data(as_text=True)
    assert client.get("/admin/inbox/1").status_code == 404
    assert client.post("/admin/inbox/1/reply", data={"csrf_token": token, "text": "x"}).status_code == 404
    viewer, vtoken = login(staff_app, "xem")
    assert viewer.get("/admin/inbox/1").status_code == 200
    assert viewer.post("/admin/inbox/1/reply", data={"csrf_token": vtoken, "text": "x"}).status_code == 403


def test_the_console_explains_what_the_platform_allows(staff_app, clock):
    say(staff_app, "gặp cán bộ", user="P1", channel="messenger")
    clock.advance(2 * DAY)
    client, token = login(staff_app)
    page = client.get("/admin/inbox/1").get_data(as_text=True)
    assert "HUMAN_AGENT" in page and 'id="reply-send"' in page
    clock.advance(6 * DAY)
    client, token = login(staff_app)
    page = client.get("/admin/inbox/1").get_data(as_text=True)
    assert "7 ngày" in page and 'id="reply-send"' not in page
    refused = client.post("/admin/inbox/1/reply", data={"csrf_token": token, "text": "Chào chị"}, follow_redirects=True)
    assert "7 ngày" in refused.get_data(as_text=True)


def test_zalo_billed_window_asks_staff_to_confirm(staff_app, clock):
    say(staff_app, "gặp cán bộ", user="Z1", channel="zalo")
    clock.advance(3 * DAY)
    client, token = login(staff_app)
    page = client.get("/admin/inbox/1").get_data(as_text=True)
    assert 'name="confirm_paid"' in page
    refused = client.post("/admin/inbox/1/reply", data={"csrf_token": token, "text": "Chào chị"}, follow_redirects=True)
    assert "tính phí" in refused.get_data(as_text=True)
    ok = client.post("/admin/inbox/1/reply", data={"csrf_token": token, "text": "Chào chị", "confirm_paid": "1"}, follow_redirects=True)
    assert "Tin này có tính phí" in ok.get_data(as_text=True)


def test_a_staff_reply_can_become_a_draft_entry(staff_app):
    say(staff_app, "gặp cán bộ")
    say(staff_app, "Hội phí mỗi năm đóng bao nhiêu vậy")
    say(staff_app, "hoi phi nam nay bao nhieu")
    client, token = login(staff_app)
    client.post("/admin/inbox/1/reply", data={"csrf_token": token, "text": "Hội phí do chi hội thống nhất, thường 12.000 đồng một năm."})
    thread = client.get("/admin/inbox/1").get_data(as_text=True)
    link = re.search(r'href="([^"]+)" data-draft="(\d+)"', thread)
    assert link and "Lưu thành mục nháp" in thread
    form = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "Hội phí do chi hội thống nhất, thường 12.000 đồng một năm." in form
    assert "Hội phí mỗi năm đóng bao nhiêu vậy" in form and "hoi phi nam nay bao nhieu" in form
    viewer, _ = login(staff_app, "xem")
    assert 'data-draft=' not in viewer.get("/admin/inbox/1").get_data(as_text=True)


def _log(app, text, decision="fallback", channel="zalo"):
    from bot.storage.store import Store

    store = Store.open(app.config.get("DATABASE_URL") or app.config["DATABASE_PATH"])
    try:
        return store.log_question(member_id=None, channel=channel, text=text, at=app.extensions["bot"].clock.now(),
                                  decision=decision, entry_id=None, score=0.1, candidates=[])
    finally:
        store.close()


def _questions(app):
    from bot.storage.store import Store

    store = Store.open(app.config.get("DATABASE_URL") or app.config["DATABASE_PATH"])
    try:
        return {q["text"]: q for q in dbcheck.rows(store, "SELECT * FROM questions")}
    finally:
        store.close()


def test_review_queue_pending_answered_ignored_link_and_recheck(staff_app):
    _log(staff_app, "Máy giặt nhà tôi bị hỏng thì sửa ở đâu")
    _log(staff_app, "Biên giới đất liền Việt Nam dài bao nhiêu km")  # asked before the bank knew it
    client, token = login(staff_app)
    page = client.get("/admin/unanswered").get_data(as_text=True)
    assert all(label in page for label in ("Đang chờ", "Đã trả lời", "Đã bỏ qua"))
    # the bank answers the second one now: a re-check marks it answered by that entry
    assert client.post("/admin/unanswered/recheck", data={"csrf_token": token}).status_code == 302
    answered = _questions(staff_app)["Biên giới đất liền Việt Nam dài bao nhiêu km"]
    assert answered["review_status"] == "done" and answered["review_entry_id"] and answered["reviewed_at"]
    assert _questions(staff_app)["Máy giặt nhà tôi bị hỏng thì sửa ở đâu"]["review_status"] == "new"
    done = client.get("/admin/unanswered?status=done").get_data(as_text=True)
    assert "Biên giới đất liền Việt Nam dài bao nhiêu km" in done and answered["review_entry_id"] in done
    # answer a group with an existing entry
    qid = _questions(staff_app)["Máy giặt nhà tôi bị hỏng thì sửa ở đâu"]["id"]
    assert client.post("/admin/unanswered/link", data={"csrf_token": token, "ids": str(qid), "entry_id": "no-such-entry"},
                       follow_redirects=True).get_data(as_text=True).count("Không có mục này") == 1
    response = client.post("/admin/unanswered/link", data={"csrf_token": token, "ids": str(qid), "entry_id": answered["review_entry_id"]})
    assert response.status_code == 302
    linked = _questions(staff_app)["Máy giặt nhà tôi bị hỏng thì sửa ở đâu"]
    assert linked["review_status"] == "done" and linked["review_entry_id"] == answered["review_entry_id"]


def test_a_new_entry_marks_the_questions_it_now_answers_as_answered(httpserver, db_path, tmp_path, clock):
    import shutil

    from app import create_app
    from bot.storage.store import Store
    from tests.conftest import DATA, platform_config

    content = tmp_path / "content"
    shutil.copytree(DATA / "content_small", content)
    app = create_app(platform_config(httpserver.url_for("/"), db_path, CONTENT_DIR=str(content)), clock=clock)
    store = Store.open(db_path)
    create_account(store, "canbo", PASSWORD, "editor", None, now=time.time())
    store.close()
    _log(app, "Ngày hội Kim Cương Xanh tổ chức ở đâu")
    client, token = login(app)
    response = client.post("/admin/content/new", data={
        "csrf_token": token, "id": "ngay-hoi-kcx", "topic": "su-dung-bot", "question": "Ngày hội Kim Cương Xanh tổ chức ở đâu?",
        "variants": "ngay hoi kim cuong xanh to chuc o dau\nđịa điểm ngày hội Kim Cương Xanh\nngày hội Kim Cương Xanh ở chỗ nào", "keywords": "Kim Cương Xanh",
        "answer": "Ngày hội Kim Cương Xanh tổ chức tại Nhà văn hóa phường Phú Lợi.", "status": "approved",
        "source-0-name": "Thông báo của Hội về Ngày hội Kim Cương Xanh", "source-0-date": "2026", "reviewed": clock.today("Asia/Ho_Chi_Minh").isoformat(),
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    question = _questions(app)["Ngày hội Kim Cương Xanh tổ chức ở đâu"]
    assert question["review_status"] == "done" and question["review_entry_id"] == "ngay-hoi-kcx"
