"""The website chat API (/chat/api/*): a real channel "web", limits, CORS, the cap, privacy."""

from __future__ import annotations

import pytest

from tests import dbcheck
from tests.conftest import ROOT, platform_config

SITE = "https://phunu.example.vn"
QUESTION = "truong sa thuoc tinh nao"


@pytest.fixture
def chat_app(httpserver, db_path, clock):
    from app import create_app

    return create_app(platform_config(httpserver.url_for("/"), db_path, CHAT_ALLOWED_ORIGINS=SITE), clock=clock)


@pytest.fixture
def chat(chat_app):
    return chat_app.test_client()


def _send(client, text, **kwargs):
    return client.post("/chat/api/send", json={"text": text}, **kwargs)


def _web_members(app):
    from bot.storage.store import Store

    store = Store.open(app.config.get("DATABASE_URL") or app.config["DATABASE_PATH"])
    try:
        return dbcheck.rows(store, "SELECT * FROM members WHERE channel = 'web'")
    finally:
        store.close()


def test_send_returns_a_sourced_answer_on_the_web_channel(chat_app, chat, clock):
    response = _send(chat, QUESTION)
    assert response.status_code == 200
    texts = [m.get("text", "") for m in response.get_json()["messages"]]
    answer = next(t for t in texts if "Khánh Hòa" in t)
    assert "Nguồn:" in answer
    members = _web_members(chat_app)
    assert len(members) == 1  # a real member on the channel "web", counted in reports (not a test channel)
    from bot.storage.store import Store

    store = Store.open(chat_app.config.get("DATABASE_URL") or chat_app.config["DATABASE_PATH"])
    try:
        asked = store.count_questions(clock.now() - 3600, clock.now() + 3600, None)
    finally:
        store.close()
    assert sum(row["n"] for row in asked) == 1


def test_later_messages_are_read_with_the_cookie_or_the_token(chat_app, chat):
    data = _send(chat, QUESTION).get_json()
    ids = [m["id"] for m in data["messages"]]
    assert chat.get("/chat/api/messages?after=0").get_json()["messages"][-1]["id"] == ids[-1]
    assert chat.get(f"/chat/api/messages?after={ids[-1]}").get_json()["messages"] == []
    # the embed script on another origin has no cookie: it sends the signed token in a header
    other = chat_app.test_client()
    assert other.get("/chat/api/messages?after=0").get_json()["messages"] == []
    got = other.get("/chat/api/messages?after=0", headers={"X-Chat-Visitor": data["visitor"]}).get_json()["messages"]
    assert [m["id"] for m in got] == ids
    assert chat.get("/chat/api/messages?after=x").status_code == 400


def test_a_forged_visitor_token_is_a_new_visitor(chat_app, chat):
    first = _send(chat, QUESTION).get_json()["visitor"]
    forged = first[:-2] + ("AA" if not first.endswith("AA") else "BB")
    other = chat_app.test_client()
    response = _send(other, "xin chào", headers={"X-Chat-Visitor": forged})
    assert response.status_code == 200
    assert response.get_json()["visitor"] != first
    assert len(_web_members(chat_app)) == 2


def test_text_is_capped_at_2000_characters(chat):
    assert _send(chat, "a" * 2000).status_code == 200
    response = _send(chat, "a" * 2001)
    assert response.status_code == 413
    assert "2.000 ký tự" in response.get_json()["error"]
    assert _send(chat, "   ").status_code == 400
    assert chat.post("/chat/api/send", json={"text": "", "payload": "<script>"}).status_code == 400


def test_rate_limit_per_visitor_answers_429_in_vietnamese_until_the_minute_passes(httpserver, db_path, clock):
    from app import create_app

    app = create_app(
        platform_config(httpserver.url_for("/"), db_path, CHAT_VISITOR_MESSAGES_PER_MINUTE="3"), clock=clock
    )
    client = app.test_client()
    for _ in range(3):
        assert _send(client, "xin chào").status_code == 200
    response = _send(client, "xin chào")
    assert response.status_code == 429
    assert "Bạn gửi tin nhanh quá" in response.get_json()["error"]
    assert int(response.headers["Retry-After"]) > 0
    assert _send(app.test_client(), "xin chào").status_code == 200  # another visitor is not held back
    clock.advance(61)
    assert _send(client, "xin chào").status_code == 200


def test_rate_limit_per_address_covers_every_visitor_behind_it(httpserver, db_path, clock):
    from app import create_app

    app = create_app(
        platform_config(httpserver.url_for("/"), db_path, CHAT_ADDRESS_MESSAGES_PER_MINUTE="2"), clock=clock
    )
    assert _send(app.test_client(), "xin chào").status_code == 200
    assert _send(app.test_client(), "xin chào").status_code == 200
    response = _send(app.test_client(), "xin chào")
    assert response.status_code == 429
    assert "mạng của bạn" in response.get_json()["error"]
    other_address = app.test_client()
    assert _send(other_address, "xin chào", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200


def test_limits_hold_across_two_app_instances_on_one_database(httpserver, db_path, clock):
    """Two processes (here: two apps) share the counts through the database, not per-process memory."""
    from app import create_app

    config = platform_config(
        httpserver.url_for("/"), db_path, CHAT_VISITOR_MESSAGES_PER_MINUTE="2", CHAT_ADDRESS_MESSAGES_PER_MINUTE="3"
    )
    first, second = create_app(dict(config), clock=clock), create_app(dict(config), clock=clock)
    token = _send(first.test_client(), "xin chào").get_json()["visitor"]
    assert _send(second.test_client(), "xin chào", headers={"X-Chat-Visitor": token}).status_code == 200
    response = _send(first.test_client(), "xin chào", headers={"X-Chat-Visitor": token})
    assert response.status_code == 429 and "Bạn gửi tin nhanh quá" in response.get_json()["error"]
    # the address: two messages so far (the refused one is not counted); a new visitor on the second app
    # makes three, and the next from that address, on the first app, is one too many
    assert _send(second.test_client(), "xin chào").status_code == 200
    response = _send(first.test_client(), "xin chào")
    assert response.status_code == 429 and "mạng của bạn" in response.get_json()["error"]
    clock.advance(61)
    assert _send(second.test_client(), "xin chào", headers={"X-Chat-Visitor": token}).status_code == 200


def test_rate_window_in_the_store_slides_and_forgets_old_hits(store, clock):
    now = clock.now()
    assert [store.rate_hit("k", limit=2, window=60, now=now), store.rate_hit("k", limit=2, window=60, now=now + 1)] == [0, 0]
    assert store.rate_hit("k", limit=2, window=60, now=now + 10) == pytest.approx(50.0)
    assert store.rate_hit("other", limit=2, window=60, now=now + 10) == 0  # keys are counted apart
    assert store.rate_hit("k", limit=2, window=60, now=now + 60.5) == 0  # the first hit has left the window
    store.rate_hit("late", limit=5, window=60, now=now + 200)
    keys = {r["key"] for r in dbcheck.rows(store, "SELECT key FROM rate_hits")}
    assert keys == {"late"}  # hits older than the window are deleted, nothing kept for long


def test_cors_only_for_the_configured_site(chat):
    allowed = _send(chat, "xin chào", headers={"Origin": SITE})
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == SITE
    refused = _send(chat, "xin chào", headers={"Origin": "https://evil.example.com"})
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert "không được phép" in refused.get_json()["error"]
    preflight = chat.options(
        "/chat/api/send",
        headers={"Origin": SITE, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-chat-visitor"},
    )
    assert preflight.status_code == 204
    assert "X-Chat-Visitor" in preflight.headers["Access-Control-Allow-Headers"]
    assert chat.options("/chat/api/send", headers={"Origin": "https://evil.example.com"}).status_code == 403
    same_origin = _send(chat, "xin chào", headers={"Origin": "http://localhost"})
    assert same_origin.status_code == 200  # the /chat page of this server


def test_page_and_script_have_a_strict_csp_and_no_inline_code(chat):
    page = chat.get("/chat")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'lang="vi"' in html and "<script>" not in html and "style=" not in html
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert f"frame-ancestors 'self' {SITE}" in csp
    script = chat.get("/chat/embed.js")
    assert script.status_code == 200 and "X-Chat-Visitor" in script.get_data(as_text=True)
    assert script.headers["Cross-Origin-Resource-Policy"] == "cross-origin"


def test_chat_works_without_any_platform_channel(tmp_path, clock):
    from app import create_app

    app = create_app({"TESTING": True, "DATABASE_PATH": str(tmp_path / "bot.db"), "CONTENT_DIR": str(ROOT / "content")}, clock=clock)
    assert not any(app.extensions["bot"].channels[name].enabled for name in ("messenger", "zalo", "zalo_bot"))
    response = _send(app.test_client(), QUESTION)
    assert response.status_code == 200
    assert any("Nguồn:" in m.get("text", "") for m in response.get_json()["messages"])


def test_nothing_personal_is_stored_for_an_anonymous_visitor(chat_app, chat):
    _send(chat, QUESTION, environ_base={"REMOTE_ADDR": "203.0.113.77"})
    (member,) = _web_members(chat_app)
    assert member["full_name"] is None and member["phone"] is None and member["consent_at"] is None
    from bot.storage.store import Store

    store = Store.open(chat_app.config.get("DATABASE_URL") or chat_app.config["DATABASE_PATH"])
    try:
        dump = dbcheck.dump(store)
    finally:
        store.close()
    assert "203.0.113.77" not in dump  # the rate limit keeps only a keyed hash of the address


def test_chat_can_be_switched_off(httpserver, db_path, clock):
    from app import create_app

    app = create_app(platform_config(httpserver.url_for("/"), db_path, CHAT_ENABLED="false"), clock=clock)
    client = app.test_client()
    assert client.get("/chat").status_code == 404
    assert _send(client, "xin chào").status_code == 404


def test_registration_and_my_data_work_on_the_web_channel(chat):
    _send(chat, QUESTION)
    data = _send(chat, "DỮ LIỆU CỦA TÔI").get_json()["messages"]
    assert any("Kênh: Trang web" in m.get("text", "") for m in data)
    consent = _send(chat, "ĐĂNG KÝ").get_json()["messages"]
    assert any("dữ liệu cá nhân" in m.get("text", "") for m in consent)  # the same consent notice first
    payloads = [c["payload"] for m in consent for c in m.get("choices", [])]
    assert "REG_AGREE" in payloads and "REG_DECLINE" in payloads  # tappable on the web (chips)
    agreed = chat.post("/chat/api/send", json={"text": "Đồng ý", "payload": "REG_AGREE"}).get_json()["messages"]
    assert agreed  # the flow goes on (asks the name)
