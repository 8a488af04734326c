"""The console in Vietnamese all through (issue 14, item 6): setting descriptions, audit actions and roles,
schedules in words, Vietnamese numbers and dates, local-time file names."""

from __future__ import annotations

import re

from bot.core.config import SETTINGS
from bot.core.text import has_diacritics
from tests.integration.test_participation_import import login

TZ = "Asia/Ho_Chi_Minh"


def test_every_setting_has_a_vietnamese_description():
    missing = [s.name for s in SETTINGS if not s.vi or not has_diacritics(s.vi)]
    assert missing == [], "add vi=... to these settings in bot/core/config.py"


def test_the_system_page_describes_settings_in_vietnamese(client, store):
    login(client, store, "viewer")
    page = client.get("/admin/system").get_data(as_text=True)
    by_name = {s.name: s for s in SETTINGS}
    for name in ("ANSWER_THRESHOLD", "TIMEZONE", "MESSENGER_APP_SECRET", "CONTEST_OFFER_DAYS_AFTER_END"):
        assert by_name[name].vi in page, name
        assert by_name[name].doc not in page, name  # the English text is for .env.example and the README
    row = page.split("<code>ANSWER_THRESHOLD</code>", 1)[1].split("</tr>", 1)[0]
    assert ">0,4<" in row  # decimal comma


def test_audit_actions_and_roles_are_shown_in_vietnamese(client, store, clock):
    store.audit(staff_id=None, username="cli", action="users.create", target="chihoi1", detail="viewer", at=clock.now())
    store.audit(staff_id=None, username="cli", action="something.new", target="x", at=clock.now())
    login(client, store, "admin")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Tạo tài khoản" in page
    assert "something.new" in page  # an unknown code is shown as it is
    assert "(Quản trị)" in page  # the logged-in account's role in the header
    accounts = client.get("/admin/accounts").get_data(as_text=True)
    assert '<td data-label="Vai trò">Quản trị</td>' in accounts and ">admin<" not in accounts


def test_schedules_are_shown_in_words(client, store, clock):
    from scheduler import broadcasts

    config = client.application.config
    broadcasts.create_broadcast(store, config, text="Tin hằng tuần", now=clock.now(), schedule="cron", cron="0 8 * * 1",
                                audience="all", created_by="test")
    broadcasts.create_broadcast(store, config, text="Tin hằng tháng", now=clock.now(), schedule="cron", cron="0 8 15 * *",
                                audience="all", created_by="test")
    login(client, store, "viewer")
    page = client.get("/admin/broadcasts").get_data(as_text=True)
    assert "Thứ Hai hằng tuần, 08:00" in page and "Ngày 15 hằng tháng, 08:00" in page
    assert "0 8 * * 1" not in page and "0 8 15 * *" not in page
    listing = client.application.test_cli_runner().invoke(args=["broadcast", "list"])
    assert "Thứ Hai hằng tuần, 08:00" in listing.output


def test_the_members_export_is_named_by_the_local_date(client, store, clock):
    login(client, store, "reporter")
    response = client.get("/admin/members/export.csv")
    name = re.search(r'filename="([^"]+)"', response.headers["Content-Disposition"]).group(1)
    assert name == f"hoi-vien-{clock.local(TZ).strftime('%Y%m%d-%H%M')}.csv"


def test_the_report_page_shows_vietnamese_dates_and_numbers(client, store, clock):
    login(client, store, "reporter")
    page = client.get("/admin/reports").get_data(as_text=True)
    today = clock.today(TZ)
    assert f"đến {today.strftime('%d/%m/%Y')}" in page
    assert today.isoformat() not in page.split("<h2", 1)[1].split("</h2>", 1)[0]


def test_the_cli_account_list_names_each_role_in_vietnamese(app, store, clock):
    from bot.web.auth import hash_password

    store.create_staff("chihoi1", hash_password("mat-khau-rat-dai"), "viewer", "CT.PHULOI", at=clock.now())
    output = app.test_cli_runner().invoke(args=["users", "list"]).output
    assert "viewer (Chỉ xem)" in output and "CT.PHULOI" in output
