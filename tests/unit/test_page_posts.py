"""Pure parts of the website chat and posts: error classification, article body, origins, the rate limiter."""

from __future__ import annotations

import pytest

from bot.channels.page_posts import article_body, graph_error, zalo_error
from bot.core.config import ConfigError, load_config


@pytest.mark.parametrize(
    ("status", "code", "retry", "auth", "words"),
    [
        (401, 190, False, True, "hết hạn"),
        (403, 200, False, True, "pages_manage_posts"),
        (400, 10, False, True, "pages_manage_posts"),
        (400, 4, True, False, "giới hạn"),
        (400, 32, True, False, "giới hạn"),
        (500, 2, True, False, "tạm thời"),
        (503, None, True, False, "tạm thời"),
        (400, 100, False, False, "từ chối"),
        (400, 368, False, False, "mã 368"),
    ],
)
def test_graph_errors_say_what_to_do_and_retry_only_when_it_can_help(status, code, retry, auth, words):
    body = {"error": {"message": "x", "code": code}} if code is not None else {}
    err = graph_error(status, body)
    assert (err.retry, err.auth) == (retry, auth)
    assert words in err.message


@pytest.mark.parametrize(
    ("status", "code", "retry", "words"),
    [(200, -216, False, "cấp quyền lại"), (200, -32, True, "thử lại"), (502, None, True, "thử lại"),
     (200, -201, False, "mã -201"), (200, -224, False, "chưa được phép"), (200, -999, False, "mã -999")],
)
def test_zalo_errors(status, code, retry, words):
    err = zalo_error(status, {"error": code, "message": "m"} if code is not None else {})
    assert err.retry == retry and words in err.message


def test_article_body_escapes_the_text_and_keeps_paragraphs():
    body = article_body(title="T" * 200, text="Dòng <1>\nvẫn đoạn 1\n\nĐoạn 2 & hết", author="Hội", cover_url="https://a.vn/c.jpg",
                        link="https://a.vn/x?a=1&b=2", image_url="https://a.vn/i.jpg")
    content = body["body"][0]["content"]
    assert content.startswith("<p>Dòng &lt;1&gt;<br>vẫn đoạn 1</p><p>Đoạn 2 &amp; hết</p>")
    assert '<a href="https://a.vn/x?a=1&amp;b=2">' in content
    assert body["body"][1] == {"type": "image", "url": "https://a.vn/i.jpg", "caption": ""}
    assert len(body["title"]) == 150 and body["cover"]["photo_url"] == "https://a.vn/c.jpg"


def test_chat_origins_are_checked_at_start():
    assert load_config({"CHAT_ALLOWED_ORIGINS": "https://Phunu.Example.vn/, http://localhost:8080"})["CHAT_ALLOWED_ORIGINS"] == [
        "https://phunu.example.vn", "http://localhost:8080"]
    with pytest.raises(ConfigError, match="CHAT_ALLOWED_ORIGINS"):
        load_config({"CHAT_ALLOWED_ORIGINS": "https://phunu.example.vn/chat"})
    with pytest.raises(ConfigError, match="CHAT_ALLOWED_ORIGINS"):
        load_config({"CHAT_ALLOWED_ORIGINS": "*"})
