"""GẶP CÁN BỘ in a real headless Chromium (issue 15): a member asks through the simulator, staff see the
conversation in the Hộp thư, reply, and the member sees the reply; KẾT THÚC returns her to the bot.

The app runs as in production (`python app.py`: waitress, workers, scheduler), like tests/e2e/test_console_e2e.py.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time

import pytest

pytestmark = pytest.mark.browser

from tests.e2e.browser import ARGS, CHROMIUM, sync_api  # noqa: E402  (skips this module without a browser)

from pytest_httpserver import HTTPServer
from werkzeug import Response

from tests.conftest import ROOT, platform_config
from tests.e2e.test_server import start_server, stop

PASSWORD = "mat-khau-thu-nghiem-1"
TIMEOUT = 30_000  # ms
QUESTION = "Cho tôi hỏi lịch sinh hoạt của chi hội tháng này"
ANSWER = "Chào chị, chi hội sinh hoạt vào tối thứ Sáu tuần cuối tháng tại nhà văn hóa khóm."


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from bot.storage.store import Store
    from bot.web.auth import create_account

    platform = HTTPServer(host="127.0.0.1", port=0)
    platform.start()
    platform.expect_request(__import__("re").compile(".*")).respond_with_handler(
        lambda request: Response(json.dumps({"ok": True, "result": {"message_id": "b1"}}), content_type="application/json")
    )
    work = tmp_path_factory.mktemp("handoff-e2e")
    content = work / "content"
    shutil.copytree(ROOT / "content", content)
    db_path = str(work / "bot.db")
    store = Store.open(db_path, migrate=True)
    create_account(store, "canbo", PASSWORD, "admin", None, now=time.time())
    store.close()
    config = platform_config(platform.url_for("/"), db_path, CONTENT_DIR=str(content), OFFICE_HOURS="Thứ Hai–Thứ Sáu 7:30–17:00")
    proc, base = start_server({k: v for k, v in config.items() if k != "TESTING"}, work)
    yield {"base": base}
    stop(proc)
    platform.clear()
    if platform.is_running():
        platform.stop()


@pytest.fixture(scope="module")
def context(site):
    with sync_api.sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            tempfile.mkdtemp(prefix="chromium-profile-"), executable_path=CHROMIUM, args=ARGS, headless=True,
            viewport={"width": 1280, "height": 900}, locale="vi-VN",
        )
        ctx.set_default_timeout(TIMEOUT)
        yield ctx
        ctx.close()


def test_member_asks_staff_reply_in_the_inbox_and_she_sees_it(context, site):
    base = site["base"]
    errors: list[str] = []
    staff = context.new_page()
    staff.on("pageerror", lambda exc: errors.append(str(exc)))
    staff.goto(base + "/admin/dashboard")
    if "/admin/login" in staff.url:
        staff.fill("#username", "canbo")
        staff.fill("#password", PASSWORD)
        staff.click("form button[type=submit]")
        staff.wait_for_url("**/admin/dashboard")

    member = context.new_page()
    member.on("pageerror", lambda exc: errors.append(str(exc)))
    member.goto(base + "/simulator")
    member.fill("#text", "gặp cán bộ")
    member.press("#text", "Enter")
    sync_api.expect(member.locator(".msg.bot").last).to_contain_text("Thứ Hai–Thứ Sáu 7:30–17:00")
    bot_messages = member.locator(".msg.bot").count()
    member.fill("#text", QUESTION)
    member.press("#text", "Enter")

    staff.goto(base + "/admin/inbox")
    sync_api.expect(staff.locator("nav .nav-count")).to_have_text("1")
    sync_api.expect(staff.locator("#inbox-list")).to_contain_text(QUESTION)
    staff.locator("#inbox-list tbody tr a").first.click()
    sync_api.expect(staff.locator("#thread")).to_contain_text(QUESTION)
    sync_api.expect(staff.locator("#window-note")).to_contain_text("Gửi được")
    assert member.locator(".msg.bot").count() == bot_messages  # the bot stayed silent
    staff.fill("#reply-text", ANSWER)
    staff.click("#reply-send")
    sync_api.expect(staff.locator(".flashes")).to_contain_text("Đã gửi tin trả lời")
    sync_api.expect(staff.locator("#thread")).to_contain_text(ANSWER)

    sync_api.expect(member.locator(".msg.bot").last).to_contain_text(ANSWER)  # the simulator polls its messages
    member.fill("#text", "kết thúc")
    member.press("#text", "Enter")
    sync_api.expect(member.locator(".msg.bot").last).to_contain_text("Trợ lý tự động tiếp tục")
    staff.goto(base + "/admin/inbox")
    sync_api.expect(staff.locator("main")).to_contain_text("Không có cuộc trò chuyện nào đang mở")
    assert not errors, f"JavaScript errors: {errors}"
