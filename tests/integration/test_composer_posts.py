"""The broadcast composer's "Đăng lên Trang Facebook" and "Bài viết Zalo OA": previews, field errors,
confirmation, quiet hours, through the Flask test client against the fake platform."""

from __future__ import annotations

import datetime as dt
import re
import time
from zoneinfo import ZoneInfo

import pytest

from bot.core.config import database_target
from tests.conftest import platform_config
from tests.integration.test_posts import CREATE, PAGE_ID, TZ, VERIFY, _console

PHOTOS = f"/{PAGE_ID}/photos"
FEED = f"/{PAGE_ID}/feed"
IMAGE = "https://phunu.example.vn/anh/ngay-bien-phong.jpg"
LINK = "https://phunu.example.vn/tin/ngay-bien-phong"
TEXT = "Hưởng ứng Ngày Biên phòng toàn dân 3/3.\n\nMời chị em cùng tham gia."
TITLE = "Ngày Biên phòng toàn dân"


def _app(httpserver, db_path, clock, **settings):
    from app import create_app

    return create_app(platform_config(httpserver.url_for("/"), db_path, FACEBOOK_PAGE_ID=PAGE_ID, **settings), clock=clock)


@pytest.fixture
def console(httpserver, db_path, clock):
    app = _app(httpserver, db_path, clock)
    client, token = _console(app)
    return app, client, token


def _form(token, *places, **fields):
    form = {
        "csrf_token": token, "places_shown": "1", "places": list(places), "text": TEXT, "post_title": TITLE,
        "image_url": IMAGE, "link_title": "Xem thêm", "link_url": LINK, "audience_kind": "all", "audience_value": "",
        "schedule": "now", "preset": "weekly", "time": "08:00", "weekday": "1", "monthday": "1",
    }
    form.update(fields)
    return form


def _local(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, ZoneInfo(TZ)).strftime("%Y-%m-%dT%H:%M")


def _posts(app):
    from bot.storage.store import Store

    store = Store.open(database_target(app.config))
    try:
        return [store.get_post(p["id"]) for p in store.list_posts(limit=50)], store.list_broadcasts()
    finally:
        store.close()


def test_the_composer_offers_the_page_and_the_oa_beside_the_chat_audiences(console):
    _, client, _ = console
    page = client.get("/admin/broadcasts/new").get_data(as_text=True)
    assert "Gửi và đăng ở đâu" in page
    for value, label in (("chat", "Tin nhắn đến hội viên"), ("facebook_page", "Đăng lên Trang Facebook"),
                         ("zalo_article", "Bài viết Zalo OA")):
        assert re.search(rf'value="{value}"[^>]*> {label}', page), label
    assert re.search(r'value="chat" checked', page) and not re.search(r'value="facebook_page" checked', page)
    assert "Đăng bài cả trong giờ nghỉ" in page


def test_preview_shows_each_place_as_it_will_be_published(console):
    _, client, token = console
    html = client.post("/admin/broadcasts/preview", data=_form(token, "facebook_page", "zalo_article")).get_data(as_text=True)
    # Facebook: with an image, a photo post whose caption is the title, the text and the link
    assert "Trang Facebook" in html and "Bài đăng ảnh" in html and f"[Ảnh] {IMAGE}" in html
    assert f"{TITLE}\n\n{TEXT}\n\n{LINK}" in html
    # Zalo: the article's title, cover, lead, paragraphs and link
    assert "Bài viết Zalo OA" in html and f"Ảnh bìa: {IMAGE}" in html and f"<strong>{TITLE}</strong>" in html
    assert "Mô tả: Hưởng ứng Ngày Biên phòng toàn dân 3/3. Mời chị em cùng tham gia." in html
    assert f"Liên kết: {LINK}" in html
    assert 'class="phone messenger"' not in html  # no chat message chosen: no chat preview
    feed = client.post("/admin/broadcasts/preview", data=_form(token, "chat", "facebook_page", image_url="")).get_data(as_text=True)
    assert "(Bài đăng)" in feed and f"Thẻ liên kết: {LINK}" in feed and 'class="phone messenger"' in feed
    assert "Bài viết Zalo OA" not in feed


def test_posts_only_now_asks_once_then_publishes_on_both_places(console, httpserver):
    app, client, token = console
    first = client.post("/admin/broadcasts/new", data=_form(token, "facebook_page", "zalo_article"))
    page = first.get_data(as_text=True)
    assert first.status_code == 200 and 'id="confirm-send"' in page
    assert "Đăng ngay: Trang Facebook, Bài viết Zalo OA?" in page and "Gửi ngay cho" not in page
    assert httpserver.log == [] and _posts(app) == ([], [])
    httpserver.expect_oneshot_request(PHOTOS, method="POST").respond_with_json({"id": "p1", "post_id": f"{PAGE_ID}_31"})
    httpserver.expect_oneshot_request(CREATE, method="POST").respond_with_json({"error": 0, "data": {"token": "tk31"}})
    httpserver.expect_oneshot_request(VERIFY, method="POST").respond_with_json({"error": 0, "data": {"id": "z31"}})
    sent = client.post("/admin/broadcasts/new", data={**_form(token, "facebook_page", "zalo_article"), "confirm": "1"})
    assert sent.status_code == 302 and sent.location.endswith("/admin/posts")
    photo = next(r for r, _ in httpserver.log if r.path == PHOTOS).form.to_dict()
    assert photo == {"url": IMAGE, "caption": f"{TITLE}\n\n{TEXT}\n\n{LINK}", "access_token": "page-token"}
    article = next(r for r, _ in httpserver.log if r.path == CREATE).get_json()
    assert article["title"] == TITLE and article["cover"]["photo_url"] == IMAGE
    (post,), broadcasts = _posts(app)
    assert broadcasts == []  # no chat message was ticked
    assert {t["target"]: (t["state"], t["platform_id"]) for t in post["targets"]} == {
        "facebook_page": ("published", f"{PAGE_ID}_31"), "zalo_article": ("published", "z31"),
    }
    assert post["created_by"] == "staff:guitin"
    listing = client.get("/admin/posts").get_data(as_text=True)
    assert f"Đã tạo bài đăng #{post['id']}" in listing and f"mã {PAGE_ID}_31" in listing


def test_a_broadcast_and_a_page_post_at_one_time_from_one_form(console, httpserver, clock):
    app, client, token = console
    at = clock.now() + 2 * 86400
    httpserver.expect_oneshot_request(FEED, method="POST").respond_with_json({"id": f"{PAGE_ID}_32"})
    form = _form(token, "chat", "facebook_page", schedule="once", at=_local(at), image_url="")
    response = client.post("/admin/broadcasts/new", data=form)
    assert response.status_code == 302 and "/admin/broadcasts/" in response.location
    feed = httpserver.log[0][0].form.to_dict()
    assert feed["message"] == f"{TITLE}\n\n{TEXT}" and feed["link"] == LINK
    assert feed["published"] == "false" and feed["scheduled_publish_time"] == str(int(at // 60 * 60))
    (post,), (broadcast,) = _posts(app)
    assert broadcast["state"] == "scheduled" and broadcast["text"] == TEXT
    assert [(t["target"], t["state"]) for t in post["targets"]] == [("facebook_page", "scheduled")]
    detail = client.get(response.location).get_data(as_text=True)
    assert f"Đã tạo bài đăng #{post['id']} (Trang Facebook)" in detail


def test_every_field_error_is_shown_at_once_in_vietnamese(console, httpserver):
    app, client, token = console
    form = _form(token, "facebook_page", "zalo_article", text="", link_url="javascript:alert(1)", image_url="",
                 schedule="cron")
    response = client.post("/admin/broadcasts/new", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    errors = dict(re.findall(r'<p class="field-error" id="([a-z_]+)-error1">([^<]+)</p>', page))
    assert errors["text"] == "Nội dung bài đăng trống."
    assert errors["link_url"].startswith("Liên kết phải là địa chỉ http(s)")
    assert errors["image_url"].startswith("Bài viết Zalo OA cần ảnh bìa: nhập địa chỉ ảnh")
    assert errors["schedule"].startswith("Bài đăng không lặp lại theo lịch")
    assert 'value="javascript:alert(1)"' in page  # what was typed is kept
    nothing = client.post("/admin/broadcasts/new", data=_form(token))
    assert nothing.status_code == 400 and "Chọn ít nhất một nơi" in nothing.get_data(as_text=True)
    past = client.post("/admin/broadcasts/new", data=_form(token, "facebook_page", schedule="once", at=""))
    assert past.status_code == 400 and 'id="at-error1">Chọn thời điểm đăng bài' in past.get_data(as_text=True)
    assert httpserver.log == [] and _posts(app) == ([], [])


def test_quiet_hours_hold_a_post_unless_staff_tick_the_override(httpserver, db_path, clock):
    app = _app(httpserver, db_path, clock, QUIET_HOURS="21:30-07:00")
    client, token = _console(app)
    tonight = dt.datetime.fromtimestamp(clock.now(), ZoneInfo(TZ)).replace(hour=22, minute=0, second=0, microsecond=0)
    form = _form(token, "facebook_page", schedule="once", at=tonight.strftime("%Y-%m-%dT%H:%M"))
    refused = client.post("/admin/broadcasts/new", data=form)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "nằm trong giờ yên lặng" in page and "đánh dấu “Đăng bài cả trong giờ nghỉ”" in page
    assert httpserver.log == []
    httpserver.expect_oneshot_request(PHOTOS, method="POST").respond_with_json({"id": "p", "post_id": f"{PAGE_ID}_33"})
    allowed = client.post("/admin/broadcasts/new", data={**form, "override_quiet": "1"})
    assert allowed.status_code == 302
    (post,), _ = _posts(app)
    assert post["override_quiet"] == 1 and post["targets"][0]["state"] == "scheduled"
    assert httpserver.log[0][0].form["scheduled_publish_time"] == str(int(tonight.timestamp()))


def test_a_unit_account_cannot_post_for_the_whole_union(httpserver, db_path, clock):
    from bot.storage.store import Store
    from bot.web.auth import create_account

    app = _app(httpserver, db_path, clock)
    _console(app)  # migrates and makes the city account
    store = Store.open(database_target(app.config))
    create_account(store, "phuongphuloi", "mat-khau-thu-nghiem-1", "broadcaster", "CT.PHULOI", now=time.time())
    store.close()
    client = app.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    client.post("/admin/login", data={"username": "phuongphuloi", "password": "mat-khau-thu-nghiem-1", "csrf_token": token})
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/admin/dashboard").get_data(as_text=True)).group(1)
    form = _form(token, "chat", "facebook_page", audience_kind="unit", audience_value="CT.PHULOI")
    response = client.post("/admin/broadcasts/new", data=form)
    assert response.status_code == 400 and 'id="places-error1">Tài khoản của đơn vị' in response.get_data(as_text=True)
    direct = client.post("/admin/posts", data={"csrf_token": token, "text": TEXT, "targets": ["facebook_page"], "when": "now"})
    assert direct.status_code == 403 and "Tài khoản của đơn vị không đăng bài" in direct.get_data(as_text=True)
    assert httpserver.log == [] and _posts(app) == ([], [])


def test_send_now_to_members_and_the_page_confirms_both_then_does_both(console, httpserver):
    app, client, token = console
    form = _form(token, "chat", "facebook_page", image_url="")
    first = client.post("/admin/broadcasts/new", data=form)
    page = first.get_data(as_text=True)
    assert first.status_code == 200 and "Gửi ngay cho" in page and "Đồng thời đăng ngay: Trang Facebook?" in page
    assert _posts(app) == ([], [])
    httpserver.expect_oneshot_request(FEED, method="POST").respond_with_json({"id": f"{PAGE_ID}_34"})
    sent = client.post("/admin/broadcasts/new", data={**form, "confirm": "1"})
    assert sent.status_code == 302
    (post,), (broadcast,) = _posts(app)
    assert broadcast["state"] == "sending" and post["targets"][0]["platform_id"] == f"{PAGE_ID}_34"


def test_a_place_that_is_not_configured_is_an_error_on_the_places(httpserver, db_path, clock):
    from app import create_app

    app = create_app(platform_config(httpserver.url_for("/"), db_path), clock=clock)  # no FACEBOOK_PAGE_ID
    client, token = _console(app)
    response = client.post("/admin/broadcasts/new", data=_form(token, "facebook_page", text=""))
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="places-error1">Chưa cấu hình Trang Facebook: cần FACEBOOK_PAGE_ID' in page
    assert 'id="text-error1"' in page  # and the other fields' errors with it
