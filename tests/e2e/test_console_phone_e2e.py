"""The console's navigation on a phone (issue 14, item 7): folded behind one button, opened and used with a tap,
nothing wider than the screen; on a laptop the links stay in view and the button is hidden."""

from __future__ import annotations

import tempfile

import pytest

pytestmark = pytest.mark.browser

from tests.e2e.browser import ARGS, CHROMIUM, sync_api  # noqa: E402  (skips this module without a browser)
from tests.e2e.test_console_e2e import PASSWORD, TIMEOUT, platform, site  # noqa: E402, F401  (fixtures)

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def phone(site):  # noqa: F811
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            tempfile.mkdtemp(prefix="chromium-profile-"), executable_path=CHROMIUM, args=ARGS, headless=True,
            viewport=PHONE, locale="vi-VN", is_mobile=True, has_touch=True,
        )
        context.set_default_timeout(TIMEOUT)
        yield context
        context.close()


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_the_navigation_folds_behind_one_button_on_a_phone(phone, site):  # noqa: F811
    page = phone.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(site["base"] + "/admin/dashboard")
    page.fill("#username", "canbo")
    page.fill("#password", PASSWORD)
    page.tap("form button[type=submit]")
    page.wait_for_url("**/admin/dashboard")

    toggle = page.locator(".nav-toggle")
    members_link = page.locator("#console-nav a", has_text="Hội viên")
    sync_api.expect(toggle).to_be_visible()
    sync_api.expect(toggle).to_have_attribute("aria-expanded", "false")
    sync_api.expect(members_link).to_be_hidden()
    assert no_sideways_scroll(page)

    toggle.tap()
    sync_api.expect(toggle).to_have_attribute("aria-expanded", "true")
    sync_api.expect(members_link).to_be_visible()
    for link in page.locator("#console-nav a").all():  # big enough to tap, inside the screen
        box = link.bounding_box()
        assert box["height"] >= 40 and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1, link.inner_text()
    assert no_sideways_scroll(page)
    members_link.tap()
    page.wait_for_url("**/admin/members")
    sync_api.expect(page.locator("h1")).to_have_text("Hội viên")
    sync_api.expect(page.locator("#console-nav a", has_text="Tổng quan")).to_be_hidden()  # folded again on the new page

    toggle = page.locator(".nav-toggle")
    toggle.tap()
    sync_api.expect(page.locator("#console-nav a", has_text="Báo cáo")).to_be_visible()
    page.keyboard.press("Escape")  # Escape folds it and gives the focus back to the button
    sync_api.expect(page.locator("#console-nav a", has_text="Báo cáo")).to_be_hidden()
    assert page.evaluate("document.activeElement.className") == "nav-toggle"

    page.set_viewport_size({"width": 1280, "height": 900})  # a laptop: links in view, no button
    sync_api.expect(page.locator(".nav-toggle")).to_be_hidden()
    sync_api.expect(page.locator("#console-nav a", has_text="Báo cáo")).to_be_visible()
    page.close()
    assert not errors, f"JavaScript errors: {errors}"
