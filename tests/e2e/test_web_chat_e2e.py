"""The website chat in a real headless Chromium: the one-tag embed on a page of another origin.

The union's "website" is a page served by a second local server on http://localhost:<port>
(another origin and another site than the bot on http://127.0.0.1:<port>, so the embed
works without third-party cookies), with its own strict CSP that only lets the bot's
server in.  The bot runs as in production (`python app.py`) with no platform settings.
"""

from __future__ import annotations

import tempfile
import time

import pytest

pytestmark = pytest.mark.browser

from tests.e2e.browser import ARGS, CHROMIUM, sync_api  # noqa: E402  (skips this module without a browser)

from pytest_httpserver import HTTPServer

from tests.conftest import ROOT
from tests.e2e.test_server import start_server, stop

TIMEOUT = 30_000  # ms
VISITOR_LIMIT = 3


@pytest.fixture(scope="module")
def union_site():
    """The union's website: another origin that embeds the chat with one script tag."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture(scope="module")
def bot(union_site, tmp_path_factory):
    work = tmp_path_factory.mktemp("chat-e2e")
    site_origin = f"http://localhost:{union_site.port}"
    config = {
        "DATABASE_PATH": str(work / "bot.db"), "CONTENT_DIR": str(ROOT / "content"),
        "CHAT_ALLOWED_ORIGINS": site_origin, "CHAT_VISITOR_MESSAGES_PER_MINUTE": str(VISITOR_LIMIT),
    }
    proc, base = start_server(config, work)
    page = f"""<!doctype html><html lang="vi"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src {base}; style-src {base}; connect-src {base}; img-src * data:">
<title>Hội LHPN tỉnh – Trang chủ</title></head>
<body><h1>Tin hoạt động</h1><p>Trang web của Hội.</p>
<script src="{base}/chat/embed.js" defer></script></body></html>"""
    union_site.expect_request("/").respond_with_data(page, content_type="text/html; charset=utf-8")
    yield {"base": base, "site": site_origin + "/"}
    stop(proc)


@pytest.fixture(scope="module")
def browser_context(bot):
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            tempfile.mkdtemp(prefix="chromium-profile-"), executable_path=CHROMIUM, args=ARGS, headless=True,
            viewport={"width": 390, "height": 800}, locale="vi-VN", is_mobile=True, has_touch=True,
        )
        context.set_default_timeout(TIMEOUT)
        yield context
        context.close()


def _watch(page) -> list[str]:
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" and "429" not in msg.text else None)
    return problems


def test_embedded_chat_answers_with_its_source_then_hits_the_rate_limit(browser_context, bot):
    page = browser_context.new_page()
    problems = _watch(page)
    page.goto(bot["site"])
    launcher = page.get_by_role("button", name="Hỏi đáp")
    sync_api.expect(launcher).to_have_attribute("aria-expanded", "false")
    launcher.click()
    sync_api.expect(launcher).to_have_attribute("aria-expanded", "true")
    panel = page.get_by_role("dialog")
    sync_api.expect(panel).to_be_visible()
    box = panel.bounding_box()
    assert box["width"] >= 380  # mobile: the panel takes the whole width
    question = page.get_by_label("Câu hỏi của bạn")
    assert page.evaluate("document.activeElement.dataset.unionChat !== undefined")  # focus went into the panel
    question.fill("truong sa thuoc tinh nao")
    question.press("Enter")
    answer = page.locator(".msg.bot", has_text="Khánh Hòa")
    sync_api.expect(answer).to_contain_text("Nguồn:")
    assert answer.locator("a[href^='https://']").count() >= 1  # the source is a link
    for text in ("cảm ơn", "menu"):  # the visitor's 2nd and 3rd messages of the minute
        question.fill(text)
        question.press("Enter")
        page.wait_for_function("() => !document.querySelector('[data-union-chat]').shadowRoot.querySelector('.send').disabled")
    question.fill("bien gioi dai bao nhieu km")
    question.press("Enter")
    sync_api.expect(page.get_by_role("alert")).to_contain_text("Bạn gửi tin nhanh quá")
    page.keyboard.press("Escape")
    sync_api.expect(panel).to_be_hidden()
    assert not [p for p in problems if "Content Security Policy" in p or "CORS" in p], problems
    assert not [p for p in problems if "429" not in p and "Failed to load resource" not in p], problems
    page.close()


def test_the_chat_page_on_the_bots_own_origin(browser_context, bot):
    page = browser_context.new_page()
    problems = _watch(page)
    started = time.time()
    page.goto(bot["base"] + "/chat")
    question = page.get_by_label("Câu hỏi của bạn")
    sync_api.expect(question).to_be_focused()
    question.fill("MENU")
    page.get_by_role("button", name="Gửi").click()
    sync_api.expect(page.locator(".msg.bot").nth(1)).to_be_visible()
    chips = page.locator(".chip")
    assert chips.count() >= 2
    assert not problems, problems
    assert time.time() - started < 20
    page.close()
