"""The broadcast JSON endpoints of the staff console: login, roles, CSRF, operations."""

from __future__ import annotations

import re
import time

import pytest

from bot.web.auth import create_account


def login(client, store, username="lan", role="broadcaster") -> str:
    """Create an account, log in through the form, return the session's CSRF token."""
    create_account(store, username, "mat-khau-dai-du", role, None, now=time.time())
    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = client.post("/admin/login", data={"username": username, "password": "mat-khau-dai-du", "csrf_token": token})
    assert resp.status_code == 302
    # the token is rotated at login: read the new one from a console page
    page = client.get("/admin/", follow_redirects=True).get_data(as_text=True)
    new_token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    assert new_token != token
    return new_token


def test_endpoints_need_login(client):
    assert client.get("/admin/api/broadcasts").status_code == 401
    assert client.post("/admin/api/broadcasts", json={}).status_code in (400, 401)


def test_create_requires_a_csrf_token(client, store):
    login(client, store)
    resp = client.post("/admin/api/broadcasts", json={"text": "x", "schedule": "now"})
    assert resp.status_code == 400
    assert store.list_broadcasts() == []


def test_viewer_cannot_create(client, store):
    token = login(client, store, role="viewer")
    resp = client.post("/admin/api/broadcasts", json={"text": "x", "schedule": "now"}, headers={"X-CSRF-Token": token})
    assert resp.status_code == 403
    assert client.get("/admin/api/broadcasts").status_code == 200  # but may read


def test_create_pause_resume_cancel_and_report(client, store, clock):
    token = login(client, store)
    headers = {"X-CSRF-Token": token}
    store.touch_member("zalo", "Z1", at=clock.now())
    dry = client.post("/admin/api/broadcasts/dry-run", json={"audience": "all"}, headers=headers).get_json()
    assert dry["total"] == 1
    resp = client.post(
        "/admin/api/broadcasts",
        json={"text": "Nhắc lịch thi", "schedule": "cron", "cron": "every Monday 08:00", "audience": "channel:zalo"},
        headers=headers,
    )
    assert resp.status_code == 201, resp.get_json()
    created = resp.get_json()
    assert created["cron"] == "0 8 * * 1" and created["next_run"].endswith("08:00") and created["created_by"] == "lan"
    bid = created["id"]
    assert client.post(f"/admin/api/broadcasts/{bid}/pause", headers=headers).get_json()["state"] == "paused"
    assert client.post(f"/admin/api/broadcasts/{bid}/pause", headers=headers).status_code == 409
    assert client.post(f"/admin/api/broadcasts/{bid}/resume", headers=headers).get_json()["state"] == "scheduled"
    assert client.post(f"/admin/api/broadcasts/{bid}/cancel", headers=headers).get_json()["state"] == "cancelled"
    report = client.get(f"/admin/api/broadcasts/{bid}/report").get_json()
    assert set(report) >= {"targeted", "sent", "failed", "skipped", "pending"}
    actions = [e["action"] for e in store.audit_entries()]
    assert {"broadcast.create", "broadcast.pause", "broadcast.resume", "broadcast.cancel"} <= set(actions)


@pytest.mark.parametrize(
    "body,field",
    [
        ({"text": "", "schedule": "now"}, "text"),
        ({"text": "x", "schedule": "once"}, "at"),
        ({"text": "x", "schedule": "once", "at": "ngày mai"}, "at"),
        ({"text": "x", "schedule": "cron", "cron": "thỉnh thoảng"}, "cron"),
        ({"text": "x", "schedule": "now", "audience": "group:khong-co"}, "audience"),
    ],
)
def test_bad_input_names_the_field_and_creates_nothing(client, store, body, field):
    token = login(client, store)
    resp = client.post("/admin/api/broadcasts", json=body, headers={"X-CSRF-Token": token})
    assert resp.status_code == 400
    assert resp.get_json()["field"] == field
    assert store.list_broadcasts() == []


def test_unit_bound_staff_cannot_count_or_reach_other_units(client, store):
    create_account(store, "xa", "mat-khau-dai-du", "broadcaster", "CT.PHULOI", now=time.time())
    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/admin/login", data={"username": "xa", "password": "mat-khau-dai-du", "csrf_token": token})
    page = client.get("/admin/", follow_redirects=True).get_data(as_text=True)
    headers = {"X-CSRF-Token": re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)}
    assert client.post("/admin/api/broadcasts/dry-run", json={"audience": "all"}, headers=headers).status_code == 403
    assert client.post("/admin/api/broadcasts/dry-run", json={"audience": "unit:CT.PHULOI.CH01"}, headers=headers).status_code == 200
    assert client.post("/admin/api/broadcasts", json={"text": "x", "schedule": "now", "audience": "unit:CT"}, headers=headers).status_code == 403
