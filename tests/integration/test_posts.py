"""`flask post`: Facebook Page feed posts and Zalo OA articles against the fake platform."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import platform_config

PAGE_ID = "104857600123456"
FEED = f"/{PAGE_ID}/feed"
CREATE = "/v2.0/article/create"
VERIFY = "/v2.0/article/verify"
TOKEN_PATH = "/v4/oa/access_token"
COVER = "https://phunu.example.vn/anh/bia.jpg"
LINK = "https://phunu.example.vn/tin/ngay-bien-gioi"
TZ = "Asia/Ho_Chi_Minh"


@pytest.fixture
def app(httpserver, db_path, clock):
    from app import create_app

    config = platform_config(httpserver.url_for("/"), db_path, FACEBOOK_PAGE_ID=PAGE_ID)
    return create_app(config, clock=clock)


def _local(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, ZoneInfo(TZ)).strftime("%Y-%m-%dT%H:%M")


def _create(runner, *args):
    return runner.invoke(args=["post", "create", "--text", "Hưởng ứng Ngày Biên phòng toàn dân 3/3.", *args])


def _posts(runner):
    result = runner.invoke(args=["post", "list", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _target(runner, post_id, name):
    (post,) = [p for p in _posts(runner) if p["id"] == post_id]
    return next(t for t in post["targets"] if t["target"] == name)


def _post_id(result) -> int:
    assert result.exit_code == 0, result.output
    return int(result.stdout.splitlines()[0])


def _graph_error(code, message, **extra):
    return {"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbC", **extra}}


# -- Facebook Page --------------------------------------------------------------------
def test_post_now_goes_to_the_page_feed_with_its_link(runner, httpserver):
    httpserver.expect_oneshot_request(FEED, method="POST").respond_with_json({"id": f"{PAGE_ID}_987654321"})
    post_id = _post_id(_create(runner, "--title", "Ngày Biên phòng", "--link", LINK, "--now", "--to", "facebook-page"))
    (request, _), = httpserver.log
    form = request.form.to_dict()
    assert form["message"] == "Ngày Biên phòng\n\nHưởng ứng Ngày Biên phòng toàn dân 3/3."
    assert form["link"] == LINK and form["access_token"] == "page-token"
    assert "published" not in form and "scheduled_publish_time" not in form
    target = _target(runner, post_id, "facebook-page")
    assert (target["state"], target["platform_id"]) == ("published", f"{PAGE_ID}_987654321")


def test_post_later_is_scheduled_on_facebook(runner, httpserver, clock):
    httpserver.expect_oneshot_request(FEED, method="POST").respond_with_json({"id": f"{PAGE_ID}_555"})
    result = _create(runner, "--at", "ngày mai 09:00", "--to", "facebook-page")
    post_id = _post_id(result)
    form = httpserver.log[0][0].form.to_dict()
    tomorrow = dt.datetime.fromtimestamp(clock.now(), ZoneInfo(TZ)).date() + dt.timedelta(days=1)
    expected = dt.datetime.combine(tomorrow, dt.time(9, 0), ZoneInfo(TZ)).timestamp()
    assert form["published"] == "false"
    assert form["scheduled_publish_time"] == str(int(expected))
    target = _target(runner, post_id, "facebook-page")
    assert (target["state"], target["platform_id"]) == ("scheduled", f"{PAGE_ID}_555")
    assert "hẹn giờ" in result.stderr


def test_post_too_soon_for_facebook_scheduling_waits_in_our_scheduler(runner, httpserver, clock):
    post_id = _post_id(_create(runner, "--at", _local(clock.now() + 5 * 60), "--to", "facebook-page"))
    assert httpserver.log == []
    assert _target(runner, post_id, "facebook-page")["state"] == "pending"
    httpserver.expect_oneshot_request(FEED, method="POST").respond_with_json({"id": f"{PAGE_ID}_777"})
    clock.advance(6 * 60)
    assert runner.invoke(args=["post", "publish-due"]).exit_code == 0
    assert "scheduled_publish_time" not in httpserver.log[0][0].form
    assert _target(runner, post_id, "facebook-page")["state"] == "published"


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (_graph_error(190, "Error validating access token: Session has expired.", error_subcode=463), "hết hạn"),
        (_graph_error(200, "(#200) Requires pages_manage_posts permission to manage the object"), "pages_manage_posts"),
        (_graph_error(100, "(#100) The specified scheduled publish time is invalid."), "từ chối"),
    ],
)
def test_errors_retrying_cannot_help_fail_at_once_in_vietnamese(runner, httpserver, error, words):
    httpserver.expect_request(FEED, method="POST").respond_with_json(error, status=400 if error["error"]["code"] != 190 else 401)
    post_id = _post_id(_create(runner, "--now", "--to", "facebook-page"))
    target = _target(runner, post_id, "facebook-page")
    assert target["state"] == "failed" and words in target["error"]
    runner.invoke(args=["post", "publish-due"])
    assert len(httpserver.log) == 1  # never retried


def test_a_transient_error_is_retried_until_it_passes(runner, httpserver, clock):
    httpserver.expect_oneshot_request(FEED, method="POST").respond_with_json(
        _graph_error(2, "An unexpected error has occurred. Please retry your request later.", is_transient=True), status=500
    )
    post_id = _post_id(_create(runner, "--now", "--to", "facebook-page"))
    target = _target(runner, post_id, "facebook-page")
    assert (target["state"], target["attempts"]) == ("pending", 1) and "thử lại" in target["error"]
    httpserver.expect_oneshot_request(FEED, method="POST").respond_with_json({"id": f"{PAGE_ID}_1"})
    clock.advance(5)
    runner.invoke(args=["post", "publish-due"])
    target = _target(runner, post_id, "facebook-page")
    assert (target["state"], target["platform_id"], target["error"]) == ("published", f"{PAGE_ID}_1", None)


# -- Zalo OA articles -----------------------------------------------------------------
def test_article_is_created_then_verified_for_its_id(runner, httpserver):
    httpserver.expect_oneshot_request(CREATE, method="POST", headers={"access_token": "zalo-access-1"}).respond_with_json(
        {"error": 0, "message": "Success", "data": {"token": "a1b2c3-token"}}
    )
    httpserver.expect_oneshot_request(VERIFY, method="POST").respond_with_json(
        {"error": 0, "message": "Success", "data": {"id": "8f5e2b7c1d9a"}}
    )
    text = "Hưởng ứng Ngày Biên phòng toàn dân.\n\nMời chị em tham gia <cuộc thi> tìm hiểu."
    result = runner.invoke(args=["post", "create", "--text", text, "--title", "Ngày Biên phòng", "--image", COVER,
                                 "--link", LINK, "--now", "--to", "zalo-article"])
    post_id = _post_id(result)
    create, verify = (request.get_json() for request, _ in httpserver.log)
    assert create["type"] == "normal" and create["title"] == "Ngày Biên phòng" and create["author"] == "Hội LHPN Thử nghiệm"
    assert create["cover"] == {"cover_type": "photo", "photo_url": COVER, "status": "show"}
    assert create["body"][0]["type"] == "text"
    assert "<p>Mời chị em tham gia &lt;cuộc thi&gt; tìm hiểu.</p>" in create["body"][0]["content"]
    assert f'<a href="{LINK}">' in create["body"][0]["content"]
    assert (create["status"], create["comment"]) == ("show", "show")
    assert verify == {"token": "a1b2c3-token"}
    target = _target(runner, post_id, "zalo-article")
    assert (target["state"], target["platform_id"]) == ("published", "8f5e2b7c1d9a")


def test_verify_waits_while_zalo_is_processing_and_never_creates_twice(runner, httpserver, clock):
    httpserver.expect_oneshot_request(CREATE, method="POST").respond_with_json({"error": 0, "data": {"token": "tok"}})
    httpserver.expect_oneshot_request(VERIFY, method="POST").respond_with_json({"error": 0, "message": "Success", "data": {}})
    post_id = _post_id(_create(runner, "--image", COVER, "--now", "--to", "zalo-article"))
    assert _target(runner, post_id, "zalo-article")["state"] == "verifying"
    httpserver.expect_oneshot_request(VERIFY, method="POST").respond_with_json({"error": 0, "data": {"id": "art-2"}})
    clock.advance(30)
    runner.invoke(args=["post", "publish-due"])
    assert [r.path for r, _ in httpserver.log] == [CREATE, VERIFY, VERIFY]
    assert _target(runner, post_id, "zalo-article")["platform_id"] == "art-2"


def test_zalo_error_code_is_shown_in_vietnamese_and_not_retried(runner, httpserver):
    httpserver.expect_request(CREATE, method="POST").respond_with_json({"error": -201, "message": "Parameters are invalid"})
    post_id = _post_id(_create(runner, "--image", COVER, "--now", "--to", "zalo-article"))
    target = _target(runner, post_id, "zalo-article")
    assert target["state"] == "failed" and "mã -201" in target["error"] and "ảnh bìa" in target["error"]
    runner.invoke(args=["post", "publish-due"])
    assert len(httpserver.log) == 1


def test_expired_zalo_token_is_refreshed_once(runner, httpserver):
    httpserver.expect_oneshot_request(CREATE, headers={"access_token": "zalo-access-1"}).respond_with_json(
        {"error": -216, "message": "Access token is invalid"}
    )
    httpserver.expect_oneshot_request(TOKEN_PATH, method="POST").respond_with_json(
        {"access_token": "zalo-access-2", "refresh_token": "zalo-refresh-2", "expires_in": "90000"}
    )
    httpserver.expect_oneshot_request(CREATE, headers={"access_token": "zalo-access-2"}).respond_with_json({"error": 0, "data": {"token": "t"}})
    httpserver.expect_oneshot_request(VERIFY, headers={"access_token": "zalo-access-2"}).respond_with_json({"error": 0, "data": {"id": "a"}})
    post_id = _post_id(_create(runner, "--image", COVER, "--now", "--to", "zalo-article"))
    assert _target(runner, post_id, "zalo-article")["state"] == "published"


# -- both, checks, quiet hours ------------------------------------------------------
def test_one_post_to_both_places_and_the_text_list(runner, httpserver):
    # with an image the Page gets a photo post (tests/integration/test_post_photos.py)
    httpserver.expect_oneshot_request(f"/{PAGE_ID}/photos", method="POST").respond_with_json({"id": "p9", "post_id": f"{PAGE_ID}_9"})
    httpserver.expect_oneshot_request(CREATE, method="POST").respond_with_json({"error": 0, "data": {"token": "t"}})
    httpserver.expect_oneshot_request(VERIFY, method="POST").respond_with_json({"error": 0, "data": {"id": "z9"}})
    post_id = _post_id(_create(runner, "--image", COVER, "--now", "--to", "facebook-page,zalo-article"))
    listing = runner.invoke(args=["post", "list"]).output
    assert f"#{post_id}" in listing
    assert f"Trang Facebook: đã đăng  mã {PAGE_ID}_9" in listing and "Bài viết Zalo OA: đã đăng  mã z9" in listing


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--now", "--to", "zalo-article"], "ảnh bìa"),
        (["--now", "--to", "twitter"], "không có nơi đăng"),
        (["--to", "facebook-page"], "--now, --at"),
        (["--now", "--link", "javascript:alert(1)", "--to", "facebook-page"], "http(s)"),
        (["--at", "hôm nay 08:00", "--to", "facebook-page"], "đã qua"),
    ],
)
def test_bad_requests_are_refused_in_vietnamese(runner, httpserver, args, words):
    result = _create(runner, *args)
    assert result.exit_code != 0 and words in result.output
    assert httpserver.log == []


def test_facebook_needs_the_page_id(httpserver, db_path, clock):
    from app import create_app

    runner = create_app(platform_config(httpserver.url_for("/"), db_path), clock=clock).test_cli_runner()
    result = _create(runner, "--now", "--to", "facebook-page")
    assert result.exit_code != 0 and "FACEBOOK_PAGE_ID" in result.output


@pytest.fixture
def quiet_runner(httpserver, db_path, clock):
    from app import create_app

    config = platform_config(httpserver.url_for("/"), db_path, FACEBOOK_PAGE_ID=PAGE_ID, QUIET_HOURS="21:30-07:00")
    return create_app(config, clock=clock).test_cli_runner()


def test_quiet_hours_refuse_a_time_inside_them_unless_overridden(quiet_runner, httpserver):
    result = _create(quiet_runner, "--at", "hôm nay 22:00", "--to", "facebook-page")
    assert result.exit_code != 0 and "giờ yên lặng" in result.output
    httpserver.expect_oneshot_request(FEED, method="POST").respond_with_json({"id": f"{PAGE_ID}_2"})
    post_id = _post_id(_create(quiet_runner, "--at", "hôm nay 22:00", "--override-quiet-hours", "--to", "facebook-page"))
    assert _target(quiet_runner, post_id, "facebook-page")["state"] == "scheduled"


def test_post_now_during_quiet_hours_waits_for_their_end(quiet_runner, httpserver, clock):
    clock.advance(13 * 3600)  # 23:00 local
    post_id = _post_id(_create(quiet_runner, "--now", "--to", "facebook-page"))
    assert httpserver.log == [] and _target(quiet_runner, post_id, "facebook-page")["state"] == "pending"
    clock.advance(4 * 3600)  # 03:00
    quiet_runner.invoke(args=["post", "publish-due"])
    assert httpserver.log == []
    httpserver.expect_oneshot_request(FEED, method="POST").respond_with_json({"id": f"{PAGE_ID}_3"})
    clock.advance(4 * 3600 + 60)  # 07:01
    quiet_runner.invoke(args=["post", "publish-due"])
    assert _target(quiet_runner, post_id, "facebook-page")["state"] == "published"


def test_posts_published_are_counted_per_period(runner, httpserver, store, clock):
    httpserver.expect_oneshot_request(FEED, method="POST").respond_with_json({"id": f"{PAGE_ID}_4"})
    _post_id(_create(runner, "--now", "--to", "facebook-page"))
    assert store.count_posts_published(clock.now() - 3600, clock.now() + 3600) == {"facebook_page": 1}
    assert store.count_posts_published(clock.now() + 3600, clock.now() + 7200) == {}


def test_the_scheduler_job_publishes_due_posts(app, runner, httpserver, clock):
    from bot.posts.publish import run_publish

    post_id = _post_id(_create(runner, "--at", _local(clock.now() + 5 * 60), "--to", "facebook-page"))
    httpserver.expect_oneshot_request(FEED, method="POST").respond_with_json({"id": f"{PAGE_ID}_8"})
    clock.advance(5 * 60)
    run_publish(app.extensions["bot"])
    assert _target(runner, post_id, "facebook-page")["platform_id"] == f"{PAGE_ID}_8"


def test_the_unit_report_counts_posts_of_the_period(app, runner, httpserver, store, clock):
    from bot.participation.catalog import get_catalog
    from bot.reports.unit_report import build_report, parse_period, report_tables

    httpserver.expect_oneshot_request(FEED, method="POST").respond_with_json({"id": f"{PAGE_ID}_5"})
    httpserver.expect_oneshot_request(FEED, method="POST").respond_with_json({"id": f"{PAGE_ID}_6"})
    _post_id(_create(runner, "--now", "--to", "facebook-page"))
    _post_id(_create(runner, "--at", "ngày mai 09:00", "--to", "facebook-page"))  # scheduled: counted in its own period
    today = parse_period(None, None, TZ, clock.now())
    report = build_report(store, get_catalog(app.config), app.config, today, None, now=clock.now())
    assert report["posts"] == {"facebook_page": 1, "zalo_article": 0}
    (table,) = [t for t in report_tables(report) if t.key == "bai-dang"]
    assert table.rows == [[1, "Trang Facebook", 1], [2, "Bài viết Zalo OA", 0]] and table.total == ["", "Tổng cộng", 1]


# -- the console page ------------------------------------------------------------------
def _console(app):
    import re
    import time

    from bot.storage.store import Store
    from bot.web.auth import create_account

    store = Store.open(app.config.get("DATABASE_URL") or app.config["DATABASE_PATH"])
    create_account(store, "guitin", "mat-khau-thu-nghiem-1", "broadcaster", None, now=time.time())
    store.close()
    client = app.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    client.post("/admin/login", data={"username": "guitin", "password": "mat-khau-thu-nghiem-1", "csrf_token": token})
    page = client.get("/admin/dashboard").get_data(as_text=True)
    return client, re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def test_console_composer_previews_each_place_then_posts(app, runner, httpserver):
    client, token = _console(app)
    page = client.get("/admin/posts").get_data(as_text=True)
    assert "Đăng lên Trang Facebook" in page and "Bài viết Zalo OA" in page and "/admin/posts" in page
    form = {"csrf_token": token, "text": "Hưởng ứng Ngày Biên phòng toàn dân.", "title": "Ngày Biên phòng", "link": LINK,
            "image": COVER, "when": "now", "targets": ["facebook_page", "zalo_article"]}
    preview = client.post("/admin/posts", data={**form, "action": "preview"}).get_data(as_text=True)
    assert "Ngày Biên phòng\n\nHưởng ứng" in preview and f"Ảnh bìa: {COVER}" in preview
    assert httpserver.log == []
    httpserver.expect_oneshot_request(f"/{PAGE_ID}/photos", method="POST").respond_with_json({"id": "p42", "post_id": f"{PAGE_ID}_42"})
    httpserver.expect_oneshot_request(CREATE, method="POST").respond_with_json({"error": 0, "data": {"token": "t"}})
    httpserver.expect_oneshot_request(VERIFY, method="POST").respond_with_json({"error": 0, "data": {"id": "z42"}})
    response = client.post("/admin/posts", data={**form, "action": "create"})
    assert response.status_code == 302
    listing = client.get("/admin/posts").get_data(as_text=True)
    assert f"mã {PAGE_ID}_42" in listing and "mã z42" in listing
    refused = client.post("/admin/posts", data={**form, "action": "create", "targets": ["zalo_article"], "image": ""})
    assert refused.status_code == 400 and "ảnh bìa" in refused.get_data(as_text=True)
