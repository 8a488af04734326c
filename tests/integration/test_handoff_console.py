"""Hộp thư (issue 15): staff see the conversations of their unit, the thread, reply within the platform's rules, close."""

from __future__ import annotations

import re
import time
import uuid

import pytest

from bot.core import models
from bot.core.models import Event
from bot.web.auth import create_account

PASSWORD = "mat-khau-du-dai-2"
DAY = 86400.0


@pytest.fixture
def staff_app(app):
    from bot.storage.store import Store

    store = Store.open(app.config["DATABASE_PATH"])
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

    store = Store.open(app.config["DATABASE_PATH"])
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
