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


# The page's own fetch, with the responses to some messages held back as a slow mobile network does
# (the server has answered them; the page hears of it 1.5 s later).
LATE_RESPONSES = """
(() => {
  const fetch0 = window.fetch;
  window.fetch = (url, options) => fetch0(url, options).then((response) => {
    const late = options && options.method === "POST" && (window.lateReplies || []).some(
      (text) => options.body.includes(JSON.stringify(text)));
    return late ? new Promise((resolve) => setTimeout(() => resolve(response), 1500)) : response;
  });
})();
"""


def test_simulator_on_a_phone(phone, bot):
    page = phone.new_page()
    page.add_init_script(LATE_RESPONSES)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(bot + "/simulator")
    sync_api.expect(page.locator(".msg.bot").first).to_contain_text("Xin chào")  # not a blank page
    title = page.locator("header h1")
    assert page.evaluate("el => el.scrollWidth <= el.clientWidth", title.element_handle())  # the title fits
    header = page.locator("header").bounding_box()
    assert header["height"] < 60  # one line, buttons included

    # A member types four messages in a row and, on a phone's network, the answers to the first three
    # come back after the answer to the fourth: once all have come, they stand in the order the bot sent
    # them and the chat shows the last one and its buttons.
    page.evaluate("window.lateReplies = ['chào', 'cảm ơn', 'ok']")
    for text in ("chào", "cảm ơn", "ok", "xin chào"):
        page.fill("#text", text)
        page.press("#text", "Enter")
        page.wait_for_timeout(200)
    page.wait_for_function("document.querySelectorAll('.msg.bot').length >= 5")  # the welcome and four replies
    page.evaluate("window.lateReplies = []")
    shown = page.evaluate("Array.from(document.querySelectorAll('.msg.bot:not(.welcome)')).map(e => e.firstChild.nodeValue)")
    sent = page.evaluate("""async () => {
      const user = localStorage.getItem("sim-user");
      const response = await fetch("/simulator/api/messages?after=0&user=" + encodeURIComponent(user));
      return (await response.json()).messages.map((m) => m.text);
    }""")
    assert len(sent) >= 4 and shown == sent, (shown, sent)  # in the order the bot sent them
    log = page.locator("#log")
    last_chip = page.locator(".msg.bot").last.locator(".chip").last
    for _ in range(50):  # the replies' buttons may still be coming in; look again until they are scrolled to
        chip_box, log_box = last_chip.bounding_box(), log.bounding_box()
        if chip_box and chip_box["y"] + chip_box["height"] <= log_box["y"] + log_box["height"] + 1:
            break
        page.wait_for_timeout(100)
    assert chip_box["y"] + chip_box["height"] <= log_box["y"] + log_box["height"] + 1, (chip_box, log_box)

    before = page.locator(".msg.bot").count()
    page.fill("#text", "Chỉ thị 01/CT-TTg là gì")
    page.press("#text", "Enter")
    sync_api.expect(page.locator(".msg.bot").last).to_contain_text("Nguồn:")
    page.wait_for_timeout(300)
    replies = page.locator(".msg.bot")
    answer = replies.nth(before)  # the answer's first part
    sync_api.expect(answer).to_contain_text("01/CT-TTg")
    answer_box, log_box = answer.bounding_box(), log.bounding_box()
    height = sum(replies.nth(i).bounding_box()["height"] for i in range(before, replies.count()))
    if height > log_box["height"]:
        # a long answer opens at its first sentence, not at its source line
        assert log_box["y"] - 1 <= answer_box["y"] <= log_box["y"] + 40, (answer_box, log_box)
    else:
        assert answer_box["y"] >= log_box["y"] - 1
    assert not errors, errors
    page.close()
