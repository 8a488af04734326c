"""The simulator page on a phone-sized headless Chromium (issue 13): a welcome instead of a blank
page, a title that fits, the chat scrolled after the buttons are added, and a long answer opened
at its first sentence."""

from __future__ import annotations

import tempfile

import pytest

pytestmark = pytest.mark.browser

from tests.e2e.browser import ARGS, CHROMIUM, sync_api  # noqa: E402  (skips this module without a browser)

from tests.conftest import ROOT
from tests.e2e.test_server import start_server, stop

TIMEOUT = 30_000  # ms


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    work = tmp_path_factory.mktemp("simulator-e2e")
    proc, base = start_server({"DATABASE_PATH": str(work / "bot.db"), "CONTENT_DIR": str(ROOT / "content")}, work)
    yield base
    stop(proc)


@pytest.fixture(scope="module")
def phone(bot):
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            tempfile.mkdtemp(prefix="chromium-profile-"), executable_path=CHROMIUM, args=ARGS, headless=True,
            viewport={"width": 360, "height": 640}, locale="vi-VN", is_mobile=True, has_touch=True,
        )
        context.set_default_timeout(TIMEOUT)
        yield context
        context.close()


def test_simulator_on_a_phone(phone, bot):
    page = phone.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(bot + "/simulator")
    sync_api.expect(page.locator(".msg.bot").first).to_contain_text("Xin chào")  # not a blank page
    title = page.locator("header h1")
    assert page.evaluate("el => el.scrollWidth <= el.clientWidth", title.element_handle())  # the title fits
    header = page.locator("header").bounding_box()
    assert header["height"] < 60  # one line, buttons included

    for text in ("chào", "cảm ơn", "ok", "xin chào"):  # short replies with buttons, below the welcome
        page.fill("#text", text)
        page.press("#text", "Enter")
        page.wait_for_timeout(200)
    sync_api.expect(page.locator(".msg.bot").last.locator(".chip").last).to_be_attached()
    log = page.locator("#log")
    # scrolled after the buttons were added: the last button is inside the visible chat (the four
    # replies arrive one after another, so look again until the newest one has been scrolled to)
    for _ in range(50):
        last_chip = page.locator(".msg.bot").last.locator(".chip").last
        chip_box, log_box = last_chip.bounding_box(), log.bounding_box()
        if chip_box and chip_box["y"] + chip_box["height"] <= log_box["y"] + log_box["height"] + 1:
            break
        page.wait_for_timeout(100)
    assert chip_box["y"] + chip_box["height"] <= log_box["y"] + log_box["height"] + 1, (chip_box, log_box)

    page.fill("#text", "Chỉ thị 01/CT-TTg là gì")
    page.press("#text", "Enter")
    sync_api.expect(page.locator(".msg.bot").last).to_contain_text("Nguồn:")
    page.wait_for_timeout(300)
    # the answer's first part: the first bot bubble after the question
    answer = page.locator(".msg.me").last.locator("xpath=following-sibling::div[contains(@class, 'bot')][1]")
    answer_box, log_box = answer.bounding_box(), log.bounding_box()
    replies = page.locator(".msg.me").last.locator("xpath=following-sibling::div[contains(@class, 'bot')]")
    height = sum(replies.nth(i).bounding_box()["height"] for i in range(replies.count()))
    if height > log_box["height"]:
        # a long answer opens at its first sentence, not at its source line
        assert log_box["y"] - 1 <= answer_box["y"] <= log_box["y"] + 40, (answer_box, log_box)
    else:
        assert answer_box["y"] >= log_box["y"] - 1
    assert not errors, errors
    page.close()
