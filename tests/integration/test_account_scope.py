"""Account management obeys the unit scope (issue 11, D15): an admin bound to a unit manages only
accounts of its unit and below, never organisation-wide ones, and reads only their audit entries."""

from __future__ import annotations

from bot.web.auth import hash_password
from tests.integration.test_participation_import import login


def make(store, clock, username: str, role: str, unit: str | None) -> dict:
    staff_id = store.create_staff(username, hash_password("mat-khau-rat-dai"), role, unit, at=clock.now())
    return store.get_staff(staff_id)


def test_a_unit_admin_manages_only_accounts_of_its_unit_and_below(client, store, clock):
    org_admin = make(store, clock, "orgadmin", "admin", None)
    child = make(store, clock, "phuloi-ch01", "viewer", "CT.PHULOI.CH01")
    other = make(store, clock, "laihoa", "viewer", "CT.LAIHOA")
    store.audit(staff_id=org_admin["id"], username="orgadmin", action="content.secret", target="org-only", at=clock.now())
    store.audit(staff_id=child["id"], username="phuloi-ch01", action="login", target="child-visible", at=clock.now())
    csrf = login(client, store, "admin", "CT.PHULOI")
    form = {"csrf_token": csrf["X-CSRF-Token"]}

    page = client.get("/admin/accounts").get_data(as_text=True)
    assert "phuloi-ch01" in page and "orgadmin" not in page and "laihoa" not in page

    # no organisation-wide account, no account of another unit
    for unit in ("", "CT.LAIHOA", "CT"):  # organisation-wide, another ward, the city above
        resp = client.post("/admin/accounts", data={**form, "username": f"new{unit or 'org'}".replace(".", ""), "role": "admin",
                                                   "unit_code": unit, "password": "mat-khau-rat-dai", "password2": "mat-khau-rat-dai"})
        assert resp.status_code == 403, unit
    assert {s["username"] for s in store.list_staff()} == {"orgadmin", "phuloi-ch01", "laihoa", "admin-CT.PHULOI"}
    resp = client.post("/admin/accounts", data={**form, "username": "phuloi-ch02", "role": "admin", "unit_code": "CT.PHULOI.CH02",
                                               "password": "mat-khau-rat-dai", "password2": "mat-khau-rat-dai"})
    assert resp.status_code == 302 and store.find_staff("phuloi-ch02")["unit_code"] == "CT.PHULOI.CH02"

    # no password reset, no lock, of accounts outside the unit
    for target in (org_admin, other):
        assert client.post(f"/admin/accounts/{target['id']}/password", data={**form, "password": "bi-chiem-quyen-roi"}).status_code == 403
        assert client.post(f"/admin/accounts/{target['id']}/active", data={**form, "active": "0"}).status_code == 403
        after = store.get_staff(target["id"])
        assert after["password_hash"] == target["password_hash"] and after["active"] == 1
    # inside the unit: allowed
    assert client.post(f"/admin/accounts/{child['id']}/active", data={**form, "active": "0"}).status_code == 302
    assert store.get_staff(child["id"])["active"] == 0

    audit = client.get("/admin/audit").get_data(as_text=True)
    assert "child-visible" in audit and "org-only" not in audit and "content.secret" not in audit
    assert "content.secret" not in client.get("/admin/audit?q=org-only").get_data(as_text=True)


def test_an_organisation_admin_still_manages_every_account(client, store, clock):
    make(store, clock, "laihoa", "viewer", "CT.LAIHOA")
    store.audit(staff_id=None, username="cli", action="users.create", target="from-cli", at=clock.now())
    csrf = login(client, store, "admin")
    page = client.get("/admin/accounts").get_data(as_text=True)
    assert "laihoa" in page
    resp = client.post("/admin/accounts", data={"csrf_token": csrf["X-CSRF-Token"], "username": "org2", "role": "admin",
                                               "unit_code": "", "password": "mat-khau-rat-dai", "password2": "mat-khau-rat-dai"})
    assert resp.status_code == 302 and store.find_staff("org2")["unit_code"] is None
    assert "from-cli" in client.get("/admin/audit").get_data(as_text=True)
