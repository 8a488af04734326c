"""The staff console in a real headless Chromium, against the app served on 127.0.0.1.

The app runs as in production (`python app.py`: waitress, workers, scheduler) on
a copy of content/ in a temporary folder, with the three platforms pointed at a
local fake platform server.  Chromium is Debian's package (/usr/bin/chromium),
driven by Playwright; .ci/run installs it.  Without it these tests are skipped.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

from tests.e2e.browser import ARGS, CHROMIUM, sync_api  # noqa: E402  (skips this module without a browser)

from pytest_httpserver import HTTPServer  # noqa: E402
from werkzeug import Request, Response  # noqa: E402

from tests.conftest import ROOT, platform_config  # noqa: E402
from tests.e2e.test_server import start_server, stop  # noqa: E402

PASSWORD = "mat-khau-thu-nghiem-1"
MEMBERS = 24
TIMEOUT = 30_000  # ms
CONTEST = "tim-hieu-luat-bien-phong-2023"  # a contest of the shipped contests.yaml


@pytest.fixture(scope="module")
def platform():
    """The fake Messenger / Zalo OA / Zalo Bot: accepts every send, a little slowly."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    counter = {"n": 0}
    lock = threading.Lock()

    def ok(request: Request) -> Response:
        time.sleep(0.05)
        with lock:
            counter["n"] += 1
            n = counter["n"]
        if request.path.startswith("/v3.0/oa/"):
            body = {"error": 0, "message": "Success", "data": {"message_id": f"z{n}"}}
        elif "/sendMessage" in request.path:
            body = {"ok": True, "result": {"message_id": f"b{n}"}}
        else:
            body = {"recipient_id": "x", "message_id": f"m{n}"}
        return Response(json.dumps(body), content_type="application/json")

    server.expect_request(__import__("re").compile(".*")).respond_with_handler(ok)
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture(scope="module")
def site(platform, tmp_path_factory):
    """The app served for real, on a copy of the content folder, with an admin and some Zalo members."""
    from bot.storage.store import Store
    from bot.web.auth import create_account

    work = tmp_path_factory.mktemp("console-e2e")
    content = work / "content"
    shutil.copytree(ROOT / "content", content)
    db_path = str(work / "bot.db")
    store = Store.open(db_path, migrate=True)
    create_account(store, "canbo", PASSWORD, "admin", None, now=time.time())
    now = time.time()
    for i in range(MEMBERS):
        store.touch_member("zalo", f"ZE2E{i:03d}", at=now, display_name=f"Hội viên {i}")
    store.close()
    config = platform_config(platform.url_for("/"), db_path, CONTENT_DIR=str(content), SCHEDULER_TICK_SECONDS="1",
                             ZALO_RATE_PER_SECOND="8", SENDER_THREADS="2")
    proc, base = start_server({k: v for k, v in config.items() if k != "TESTING"}, work)
    yield {"base": base, "content": content, "db": db_path, "work": work}
    stop(proc)


@pytest.fixture(scope="module")
def browser_context(site):
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            tempfile.mkdtemp(prefix="chromium-profile-"), executable_path=CHROMIUM, args=ARGS, headless=True,
            accept_downloads=True, viewport={"width": 1280, "height": 900}, locale="vi-VN",
        )
        context.set_default_timeout(TIMEOUT)
        yield context
        context.close()


@pytest.fixture
def page(browser_context, site):
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(site["base"] + "/admin/dashboard")
    if "/admin/login" in page.url:
        page.fill("#username", "canbo")
        page.fill("#password", PASSWORD)
        page.click("form button[type=submit]")
        page.wait_for_url("**/admin/dashboard")
    yield page
    page.close()
    assert not errors, f"JavaScript errors: {errors}"


def test_log_in_with_a_wrong_then_the_right_password(browser_context, site):
    page = browser_context.new_page()
    browser_context.clear_cookies()
    page.goto(site["base"] + "/admin/")
    assert "/admin/login" in page.url
    page.fill("#username", "canbo")
    page.fill("#password", "sai-mat-khau")
    page.click("form button[type=submit]")
    sync_api.expect(page.locator("#login-error")).to_contain_text("không đúng")
    assert page.input_value("#username") == "canbo"  # what was typed is kept
    # the keyboard alone: type the password and send the form with Enter
    page.focus("#password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/dashboard")
    sync_api.expect(page.locator("h1")).to_have_text("Tổng quan")
    assert page.locator("svg.chart").count() >= 4
    page.keyboard.press("Tab")  # the first stop on every page skips the navigation
    assert page.evaluate("document.activeElement.className") == "skip"
    page.close()


def test_create_and_approve_an_entry_then_ask_it_in_the_simulator(page, site):
    repo_files = {p: p.read_bytes() for p in (ROOT / "content" / "bank").glob("*.yaml")}
    page.goto(site["base"] + "/admin/content/new")
    page.fill("#f-id", "e2e-ngay-hoi-kim-cuong")
    page.select_option("#f-topic", "su-dung-bot")
    page.fill("#f-question", "Ngày hội Kim Cương Xanh tổ chức ở đâu?")
    page.fill("#f-variants", "ngay hoi kim cuong xanh to chuc o dau\nngày hội kim cương xanh ở chỗ nào vậy ad\nđịa điểm ngày hội Kim Cương Xanh")
    page.fill("#f-keywords", "Kim Cương Xanh\nngày hội")
    page.fill("#source-0-name", "Thông báo của Hội về Ngày hội Kim Cương Xanh")
    page.fill("#source-0-date", "2026")
    page.get_by_role("button", name="Thêm mục", exact=True).click()
    # the answer is missing: the error sits next to the field and what was typed stays
    sync_api.expect(page.locator(".field.has-error #f-answer")).to_be_visible()
    sync_api.expect(page.locator("#answer-error1")).to_contain_text("Cần câu trả lời")
    assert page.input_value("#f-question") == "Ngày hội Kim Cương Xanh tổ chức ở đâu?"
    assert page.input_value("#source-0-name").startswith("Thông báo của Hội")
    page.fill("#f-answer", "Ngày hội Kim Cương Xanh được tổ chức tại Nhà văn hóa phường Phú Lợi. Mời chị em cùng tham gia.")
    sync_api.expect(page.locator("#preview .phone.messenger .bubble").first).to_contain_text("Nhà văn hóa phường Phú Lợi")
    page.get_by_role("button", name="Thêm mục", exact=True).click()
    page.wait_for_url("**/admin/content/e2e-ngay-hoi-kim-cuong")
    sync_api.expect(page.locator(".flashes")).to_contain_text("Đã thêm mục e2e-ngay-hoi-kim-cuong")
    page.get_by_role("button", name="Duyệt mục này", exact=True).click()
    sync_api.expect(page.locator(".flashes")).to_contain_text("Đã duyệt mục e2e-ngay-hoi-kim-cuong")
    sync_api.expect(page.locator(".page-head .badge")).to_have_text("Đã duyệt")

    written = "".join(p.read_text(encoding="utf-8") for p in (site["content"] / "bank").glob("*.yaml"))
    assert "id: e2e-ngay-hoi-kim-cuong" in written and "Nhà văn hóa phường Phú Lợi" in written
    assert {p: p.read_bytes() for p in (ROOT / "content" / "bank").glob("*.yaml")} == repo_files  # the repository is untouched

    page.goto(site["base"] + "/simulator")
    page.fill("#text", "ngay hoi kim cuong xanh to chuc o dau")
    page.press("#text", "Enter")
    sync_api.expect(page.locator(".msg.bot").last).to_contain_text("Nhà văn hóa phường Phú Lợi", timeout=TIMEOUT)


def test_schedule_a_broadcast_and_watch_it_complete(page, site, platform):
    page.goto(site["base"] + "/admin/broadcasts/new")
    page.fill("#f-text", "Thư mời dự Ngày hội Kim Cương Xanh sáng Chủ nhật tại Nhà văn hóa phường.")
    page.select_option("#f-audience_kind", "channel")
    page.fill("#f-audience_value", "zalo")
    sync_api.expect(page.locator("#audience-count")).to_contain_text(f"{MEMBERS} người nhận")
    sync_api.expect(page.locator("#preview .phone.zalo .bubble").first).to_contain_text("Kim Cương Xanh")
    page.check("input[name=schedule][value=now]")
    page.get_by_role("button", name="Lên lịch gửi", exact=True).click()
    # "Gửi ngay" asks once more, with the recipient count
    sync_api.expect(page.locator("#confirm-send")).to_contain_text(f"Gửi ngay cho {MEMBERS} người nhận?")
    page.get_by_role("button", name="Xác nhận gửi ngay", exact=True).click()
    page.wait_for_url(lambda url: url.rstrip("/").rsplit("/", 1)[-1].isdigit())
    seen = set()
    deadline = time.time() + 40
    while time.time() < deadline:
        seen.add(page.locator('[data-field="percent"]').inner_text())
        if "100%" in seen and page.locator("#state").get_attribute("data-state") == "done":
            break
        page.wait_for_timeout(150)
    assert "100%" in seen, seen
    progress = page.locator("#progress")
    assert progress.get_attribute("value") == progress.get_attribute("max") == str(MEMBERS)
    sync_api.expect(page.locator('[data-count="sent"]')).to_have_text(str(MEMBERS))
    sync_api.expect(page.locator("#state")).to_have_text("Đã xong")
    sent = [r for r, _ in platform.log if r.path == "/v3.0/oa/message/cs" and b"Kim C" in r.data]
    assert len(sent) == MEMBERS


def test_composer_previews_the_page_post_and_the_oa_article(page, site):
    page.goto(site["base"] + "/admin/broadcasts/new")
    assert page.locator('[data-for-place="post"]').first.is_hidden()  # post fields only once a post place is ticked
    page.fill("#f-text", "Hưởng ứng Ngày Biên phòng toàn dân 3/3.\n\nMời chị em cùng tham gia.")
    page.get_by_label("Đăng lên Trang Facebook").check()
    page.get_by_label("Bài viết Zalo OA").check()
    page.get_by_label("Tin nhắn đến hội viên (Messenger, Zalo OA, Zalo Bot)").uncheck()
    sync_api.expect(page.locator("fieldset.audience")).to_be_hidden()  # the chat audiences only for messages
    page.fill("#f-post_title", "Ngày Biên phòng toàn dân")
    page.locator("summary", has_text="Thêm ảnh hoặc đường dẫn").click()
    page.fill("#f-image_url", "https://phunu.example.vn/anh/bien-phong.jpg")
    page.fill("#f-link_url", "https://phunu.example.vn/tin/bien-phong")
    facebook = page.locator("#preview .post-preview.facebook_page")
    sync_api.expect(facebook).to_contain_text("Bài đăng ảnh")
    sync_api.expect(facebook).to_contain_text("[Ảnh] https://phunu.example.vn/anh/bien-phong.jpg")
    sync_api.expect(facebook.locator("p.pre")).to_have_text(
        "Ngày Biên phòng toàn dân\n\nHưởng ứng Ngày Biên phòng toàn dân 3/3.\n\nMời chị em cùng tham gia."
        "\n\nhttps://phunu.example.vn/tin/bien-phong"
    )
    zalo = page.locator("#preview .post-preview.zalo_article")
    sync_api.expect(zalo.locator(".article-title")).to_have_text("Ngày Biên phòng toàn dân")
    sync_api.expect(zalo).to_contain_text("Ảnh bìa: https://phunu.example.vn/anh/bien-phong.jpg")
    sync_api.expect(zalo).to_contain_text("Liên kết: https://phunu.example.vn/tin/bien-phong")
    assert page.locator("#preview .phone").count() == 0  # no chat message ticked: no phone preview
    page.fill("#f-image_url", "")  # without an image: a feed post with a link card, and Zalo asks for a cover
    sync_api.expect(facebook).to_contain_text("Thẻ liên kết: https://phunu.example.vn/tin/bien-phong")
    sync_api.expect(zalo).to_contain_text("Chưa có ảnh bìa")


def _contest_day(days_after_start: int) -> str:
    """A day inside the shipped contest's own period (its file's dates, not the calendar)."""
    from bot.participation.contests import parse_contests

    contest = parse_contests(ROOT / "content")[0][CONTEST]
    return (contest.starts + dt.timedelta(days=days_after_start)).isoformat()


def test_import_a_participation_csv_with_one_bad_row(page, site):
    rows = [
        ["Họ và tên", "Số điện thoại", "Đơn vị", "Cuộc thi", "Ngày"],
        ["Nguyễn Thị Lan", "0912345678", "CT.PHULOI", CONTEST, _contest_day(4)],
        ["Trần Thị Mai", "", "CT.PHULOI.CH01", CONTEST, _contest_day(5)],
        ["Lê Thị Hồng", "0987654321", "CT.PHULOI", "khong-co-cuoc-thi-nay", _contest_day(6)],
    ]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    page.goto(site["base"] + "/admin/participation")
    page.set_input_files("#f-file", files=[{"name": "danh-sach.csv", "mimeType": "text/csv", "buffer": buffer.getvalue().encode("utf-8")}])
    page.get_by_role("button", name="Nhập danh sách", exact=True).click()
    report = page.locator("#import-report")
    sync_api.expect(report).to_contain_text("danh-sach.csv")
    sync_api.expect(report.locator('[data-result="added"]')).to_have_text("2")
    sync_api.expect(report.locator('[data-result="rejected"]')).to_have_text("1")
    sync_api.expect(report.locator("table.rejected")).to_contain_text("khong-co-cuoc-thi-nay")
    sync_api.expect(report.locator("table.rejected td").first).to_have_text("4")  # the line of the bad row
    sync_api.expect(page.locator("#list-h + form + p")).to_contain_text("2 lượt tham gia")


def test_download_a_report_and_open_it(page, site):
    import openpyxl

    page.goto(site["base"] + "/admin/reports")
    page.fill("#f-from", _contest_day(-30))  # a period that holds the imported rows
    page.get_by_role("button", name="Xem báo cáo", exact=True).click()
    sync_api.expect(page.locator("#t-tong-hop")).to_be_visible()
    with page.expect_download() as info:
        page.click("#download-xlsx")
    path = Path(site["work"]) / "report.xlsx"
    info.value.save_as(path)
    assert info.value.suggested_filename.endswith(".xlsx")
    workbook = openpyxl.load_workbook(path)
    assert "Tổng hợp" in workbook.sheetnames and "Cuộc thi" in workbook.sheetnames
    cells = [str(c.value) for row in workbook["Cuộc thi"].iter_rows() for c in row if c.value is not None]
    assert any("Luật Biên phòng" in c for c in cells)

    with page.expect_download() as info:
        page.click('[data-csv="cuoc-thi"]')
    csv_path = Path(site["work"]) / "report.csv"
    info.value.save_as(csv_path)
    table = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8-sig"))))
    header = next(r for r in table if "Cuộc thi" in r)
    assert "Tổng" in header
    assert any("Luật Biên phòng" in " ".join(r) and "2" in r for r in table)  # the two imported participants
