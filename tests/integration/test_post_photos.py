"""`flask post create --image URL` on the Facebook Page: a photo post (POST /{page-id}/photos) against the fake platform."""

from __future__ import annotations

import pytest

from tests.conftest import platform_config
from tests.integration.test_posts import (
    PAGE_ID,
    _create,
    _graph_error,
    _local,
    _post_id,
    _target,
)

PHOTOS = f"/{PAGE_ID}/photos"
FEED = f"/{PAGE_ID}/feed"
IMAGE = "https://phunu.example.vn/anh/ngay-bien-phong.jpg"
LINK = "https://phunu.example.vn/tin/ngay-bien-phong"
TEXT = "Hưởng ứng Ngày Biên phòng toàn dân 3/3."
PHOTO_ANSWER = {"id": "178901234567890", "post_id": f"{PAGE_ID}_178901234567890"}


def _runner(httpserver, db_path, clock, **settings):
    from app import create_app

    config = platform_config(httpserver.url_for("/"), db_path, FACEBOOK_PAGE_ID=PAGE_ID, **settings)
    return create_app(config, clock=clock).test_cli_runner()


@pytest.fixture
def photo_runner(httpserver, db_path, clock):
    return _runner(httpserver, db_path, clock)


def test_an_image_makes_a_photo_post_with_url_and_caption(photo_runner, httpserver):
    httpserver.expect_oneshot_request(PHOTOS, method="POST").respond_with_json(PHOTO_ANSWER)
    post_id = _post_id(_create(
        photo_runner, "--title", "Ngày Biên phòng", "--link", LINK, "--image", IMAGE, "--now", "--to", "facebook-page"
    ))
    ((request, _),) = httpserver.log
    assert request.path == PHOTOS  # not /feed
    assert request.form.to_dict() == {
        "url": IMAGE,
        "caption": f"Ngày Biên phòng\n\n{TEXT}\n\n{LINK}",  # a photo post has no link card: the link ends the caption
        "access_token": "page-token",
    }
    target = _target(photo_runner, post_id, "facebook-page")
    assert (target["state"], target["platform_id"]) == ("published", PHOTO_ANSWER["post_id"])  # the post, not the photo


def test_a_photo_post_later_is_scheduled_on_facebook(photo_runner, httpserver, clock):
    httpserver.expect_oneshot_request(PHOTOS, method="POST").respond_with_json(PHOTO_ANSWER)
    at = clock.now() + 2 * 86400
    post_id = _post_id(_create(photo_runner, "--image", IMAGE, "--at", _local(at), "--to", "facebook-page"))
    form = httpserver.log[0][0].form.to_dict()
    assert form == {
        "url": IMAGE, "caption": TEXT, "access_token": "page-token",
        "published": "false", "scheduled_publish_time": str(int(at // 60 * 60)),
    }
    assert _target(photo_runner, post_id, "facebook-page")["state"] == "scheduled"


def test_photo_scheduling_on_facebook_can_be_switched_off(httpserver, db_path, clock):
    runner = _runner(httpserver, db_path, clock, FACEBOOK_PHOTO_SCHEDULE_ON_FACEBOOK="false")
    at = clock.now() + 2 * 86400
    post_id = _post_id(_create(runner, "--image", IMAGE, "--at", _local(at), "--to", "facebook-page"))
    assert httpserver.log == [] and _target(runner, post_id, "facebook-page")["state"] == "pending"
    httpserver.expect_oneshot_request(PHOTOS, method="POST").respond_with_json(PHOTO_ANSWER)
    clock.advance(2 * 86400 + 60)
    assert runner.invoke(args=["post", "publish-due"]).exit_code == 0
    form = httpserver.log[0][0].form.to_dict()
    assert "published" not in form and "scheduled_publish_time" not in form  # our scheduler publishes it at its time
    assert _target(runner, post_id, "facebook-page")["state"] == "published"


def test_the_caption_field_is_a_setting(httpserver, db_path, clock):
    runner = _runner(httpserver, db_path, clock, FACEBOOK_PHOTO_CAPTION_FIELD="message")
    httpserver.expect_oneshot_request(PHOTOS, method="POST").respond_with_json(PHOTO_ANSWER)
    _post_id(_create(runner, "--image", IMAGE, "--now", "--to", "facebook-page"))
    assert httpserver.log[0][0].form.to_dict() == {"url": IMAGE, "message": TEXT, "access_token": "page-token"}


@pytest.mark.parametrize(
    ("error", "status", "words"),
    [
        (_graph_error(324, "(#324) Missing or invalid image file"), 400, "không dùng được ảnh"),
        (_graph_error(190, "Error validating access token: Session has expired.", error_subcode=463), 401, "hết hạn"),
        (_graph_error(200, "(#200) Requires pages_manage_posts permission to manage the object"), 403, "pages_manage_posts"),
    ],
)
def test_photo_errors_retrying_cannot_help_fail_at_once_in_vietnamese(photo_runner, httpserver, error, status, words):
    httpserver.expect_request(PHOTOS, method="POST").respond_with_json(error, status=status)
    post_id = _post_id(_create(photo_runner, "--image", IMAGE, "--now", "--to", "facebook-page"))
    target = _target(photo_runner, post_id, "facebook-page")
    assert target["state"] == "failed" and words in target["error"] and target["platform_id"] is None
    photo_runner.invoke(args=["post", "publish-due"])
    assert len(httpserver.log) == 1  # never retried


def test_a_transient_photo_error_is_retried_as_a_photo(photo_runner, httpserver, clock):
    httpserver.expect_oneshot_request(PHOTOS, method="POST").respond_with_json(
        _graph_error(2, "An unexpected error has occurred. Please retry your request later.", is_transient=True), status=500
    )
    post_id = _post_id(_create(photo_runner, "--image", IMAGE, "--now", "--to", "facebook-page"))
    target = _target(photo_runner, post_id, "facebook-page")
    assert (target["state"], target["attempts"]) == ("pending", 1) and "thử lại" in target["error"]
    httpserver.expect_oneshot_request(PHOTOS, method="POST").respond_with_json(PHOTO_ANSWER)
    clock.advance(3600)
    photo_runner.invoke(args=["post", "publish-due"])
    assert [r.path for r, _ in httpserver.log] == [PHOTOS, PHOTOS]
    assert _target(photo_runner, post_id, "facebook-page")["state"] == "published"


def test_without_an_image_the_post_still_goes_to_the_feed(photo_runner, httpserver):
    httpserver.expect_oneshot_request(FEED, method="POST").respond_with_json({"id": f"{PAGE_ID}_1"})
    _post_id(_create(photo_runner, "--now", "--to", "facebook-page"))
    assert httpserver.log[0][0].path == FEED
