"""Staff console security: login on every route, roles, CSRF, escaping, harmless search, rate limit, cookies.

Routes are enumerated from ``app.url_map``, so a page added later is covered
without touching these tests.
"""

from __future__ import annotations

import re
import shutil
import time

import pytest

from bot.web.auth import PERMISSIONS, ROLES, create_account
from tests import dbcheck
from tests.conftest import DATA, platform_config

PASSWORD = "mat-khau-du-dai-1"
XSS = '<script>alert("xss")</script>'
XSS_ENTRY = f"""
  - id: xss-thu-nghiem
    topic: bien-gioi
    question: 'Câu hỏi {XSS} thử?'
    variants: [xss mot, xss hai, xss ba]
    keywords: ['{XSS}']
    answer: 'Trả lời {XSS} ở đây.'
    sources:
      - name: 'Nguồn {XSS}'
        url: https://example.org/a
    status: draft
    reviewed: 2026-11-28
"""


@pytest.fixture
def content_dir(tmp_path):
    folder = tmp_path / "content"
    shutil.copytree(DATA / "content_small", folder)
    with open(folder / "bank" / "bien-gioi.yaml", "a", encoding="utf-8") as fh:
        fh.write(XSS_ENTRY)
    return folder


@pytest.fixture
def app(httpserver, db_path, content_dir, clock):
    from app import create_app

    application = create_app(platform_config(httpserver.url_for("/"), db_path, CONTENT_DIR=str(content_dir), LOGIN_MAX_FAILURES="3"), clock=clock)
    from bot.storage.store import Store

    store = Store.open(db_path)
    for role in ROLES:
        create_account(store, role, PASSWORD, role, None, now=time.time())
    create_account(store, "donvi", PASSWORD, "reporter", "CT.NK", now=time.time())
    store.close()
    return application


def csrf_of(client) -> str:
    page = client.get("/admin/login").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def login(client, username: str, password: str = PASSWORD, **kwargs):
    token = csrf_of(client)
    return client.post("/admin/login", data={"username": username, "password": password, "csrf_token": token}, **kwargs)


def logged_in(app, username: str):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client, csrf_of_page(client)


def csrf_of_page(client) -> str:
    page = client.get("/admin/dashboard").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def console_rules(app):
    """Every (rule, method, url) under /admin except the login page."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or rule.endpoint == "auth.login":
            continue
        url = rule.rule
        for name, converter in rule._converters.items():
            options = getattr(converter, "items", None)
            value = sorted(options)[0] if options else ("1" if "int" in type(converter).__name__.lower() else "x")
            url = re.sub(rf"<[^>]*:?{name}>", value, url)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method, url


def test_the_console_has_its_pages(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    for name in ("dashboard", "content_list", "content_edit", "unanswered", "broadcasts", "broadcast_new", "members",
                 "members_export", "system", "audit", "accounts"):
        assert f"console.{name}" in endpoints


def test_every_console_route_without_login_goes_to_the_login_page(app):
    client = app.test_client()
    checked = 0
    for rule, method, url in console_rules(app):
        token = csrf_of(client)  # a real token (logout clears the session), so that the login check answers
        response = client.open(url, method=method, headers={"X-CSRF-Token": token, "Accept": "text/html"})
        if "/admin/api/" in url:
            assert response.status_code == 401, (method, url)
            assert response.is_json
        else:
            assert response.status_code == 302, (method, url, response.status_code)
            assert response.location.split("?")[0].endswith("/admin/login"), (method, url)
        checked += 1
    assert checked > 25


def test_every_console_route_requires_a_permission(app):
    for rule, method, url in console_rules(app):
        if rule.endpoint == "auth.logout":
            continue
        view = app.view_functions[rule.endpoint]
        assert getattr(view, "required_permission", None) in PERMISSIONS, f"{rule.endpoint} has no @requires"


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_a_role_without_the_permission_gets_403(app, role):
    client, token = logged_in(app, role)
    refused = 0
    for rule, method, url in console_rules(app):
        permission = getattr(app.view_functions[rule.endpoint], "required_permission", None)
        if permission is None or role in PERMISSIONS[permission]:
            continue
        response = client.open(url, method=method, headers={"X-CSRF-Token": token}, json={} if "/api/" in url else None)
        assert response.status_code == 403, (role, method, url, response.status_code)
        refused += 1
    assert refused > 0


def test_admin_reaches_every_page(app):
    client, _ = logged_in(app, "admin")
    for rule, method, url in console_rules(app):
        if method != "GET" or "<" in rule.rule or "/api/" in url or rule.endpoint == "auth.home":
            continue
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)


def test_a_state_changing_request_without_the_csrf_token_gets_400(app):
    client, token = logged_in(app, "admin")
    posts = [(rule, url) for rule, method, url in console_rules(app) if method in ("POST", "PUT", "PATCH", "DELETE")]
    assert len(posts) > 10
    for rule, url in posts:
        assert client.post(url, data={"text": "x"}).status_code == 400, url
        assert client.post(url, data={"csrf_token": "forged"}).status_code == 400, url
        assert client.post(url, json={}, headers={"X-CSRF-Token": token[:-2] + "xx"}).status_code == 400, url
    # the token from another session does not work either
    other, other_token = logged_in(app, "editor")
    assert client.post("/admin/content/preview", data={"csrf_token": other_token}).status_code == 400
    assert client.post("/admin/content/preview", data={"csrf_token": token, "answer": "a"}).status_code == 200


def _seed_hostile_data(app):
    from bot.storage.store import Store
    from scheduler import broadcasts

    store = Store.open(app.config.get("DATABASE_URL") or app.config["DATABASE_PATH"])
    now = app.extensions["bot"].clock.now()
    member, _ = store.touch_member("zalo", "Z-xss", at=now, display_name=XSS)
    dbcheck.execute(store, "UPDATE members SET full_name = ?, unit_code = ?, phone = ? WHERE id = ?", [XSS, "CT.NK<b>", "0912345678", member["id"]])
    store.log_question(member_id=member["id"], channel="zalo", text=f"hỏi {XSS} gì", at=now, decision="fallback",
                       entry_id=None, score=0.0, candidates=[])
    bid = broadcasts.create_broadcast(store, app.config, text=f"Tin {XSS}", now=now, schedule="cron", cron="0 8 * * 1",
                                      created_by=XSS)
    store.audit(staff_id=None, username=XSS, action="content.edit", target=XSS, detail=XSS, at=now)
    store.close()
    return bid


def test_script_in_any_data_is_shown_escaped_on_every_page(app):
    bid = _seed_hostile_data(app)
    client, token = logged_in(app, "admin")
    pages = [url for rule, method, url in console_rules(app) if method == "GET" and "<" not in rule.rule and "/api/" not in url]
    pages += ["/admin/content/xss-thu-nghiem", f"/admin/broadcasts/{bid}", "/admin/content?q=xss",
              "/admin/content/new?questions=1", "/admin/members?q=Z-xss", "/admin/audit?q=script"]
    escaped_somewhere = 0
    for url in pages:
        response = client.get(url)
        if response.status_code == 302:
            continue
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        if response.mimetype != "text/html":
            continue  # CSV exports are data, not pages
        assert "<script>alert" not in body, url
        escaped_somewhere += "&lt;script&gt;alert" in body
    assert escaped_somewhere >= 7
    # previews render the hostile text escaped too
    preview = client.post("/admin/content/preview", data={"csrf_token": token, "answer": XSS, "question": XSS})
    assert "<script>alert" not in preview.get_data(as_text=True) and "&lt;script&gt;" in preview.get_data(as_text=True)
    preview = client.post("/admin/broadcasts/preview", data={"csrf_token": token, "text": XSS})
    assert "<script>alert" not in preview.get_data(as_text=True)


def test_console_pages_carry_a_strict_content_security_policy(app):
    client, _ = logged_in(app, "admin")
    response = client.get("/admin/dashboard")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("query", ["' OR 1=1 --", "%", "_", "\\", "x'); DROP TABLE members; --", '"><img src=x onerror=alert(1)>'])
def test_search_input_with_sql_or_html_is_harmless(app, query):
    _seed_hostile_data(app)
    client, _ = logged_in(app, "admin")
    for url in ("/admin/members", "/admin/content", "/admin/audit", "/admin/members/export.csv"):
        response = client.get(url, query_string={"q": query, "unit": query, "action": query, "user": query})
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        assert "<img src=x" not in body or response.mimetype == "text/csv"
        if url == "/admin/members":
            assert "0 hội viên" in body  # nothing matches: the input is data, not SQL
    from bot.storage.store import Store

    store = Store.open(app.config.get("DATABASE_URL") or app.config["DATABASE_PATH"])
    assert store.count_members() == 1  # the table is still there
    store.close()


def test_unit_bound_staff_see_only_their_unit(app, clock):
    from bot.storage.store import Store

    store = Store.open(app.config.get("DATABASE_URL") or app.config["DATABASE_PATH"])
    now = clock.now()
    for i, unit in enumerate(["CT.NK", "CT.NK.01", "CT.NKX", "CT.CR", None]):
        m, _ = store.touch_member("zalo", f"Z{i}", at=now, display_name=f"Hội viên {i}")
        dbcheck.execute(store, "UPDATE members SET unit_code = ? WHERE id = ?", [unit, m["id"]])
    store.close()
    client, _ = logged_in(app, "donvi")
    page = client.get("/admin/members").get_data(as_text=True)
    assert "Hội viên 0" in page and "Hội viên 1" in page
    assert "Hội viên 2" not in page and "Hội viên 3" not in page and "Hội viên 4" not in page
    # asking for another unit, or wildcards, gives nothing outside CT.NK
    for unit in ("CT.CR", "CT", "%", "CT.NK%"):
        page = client.get("/admin/members", query_string={"unit": unit}).get_data(as_text=True)
        assert "Hội viên 3" not in page and "Hội viên 2" not in page
    export = client.get("/admin/members/export.csv").get_data(as_text=True)
    assert "Hội viên 0" in export and "Hội viên 1" in export and "Hội viên 3" not in export and "Hội viên 2" not in export


def test_viewers_see_phone_numbers_masked(app):
    _seed_hostile_data(app)
    client, _ = logged_in(app, "viewer")
    page = client.get("/admin/members").get_data(as_text=True)
    assert "0912345678" not in page and "678" in page
    client, _ = logged_in(app, "reporter")
    assert "0912345678" in client.get("/admin/members").get_data(as_text=True)


def test_login_is_rate_limited(app):
    client = app.test_client()
    for _ in range(3):
        assert login(client, "editor", "wrong-password-x").status_code == 401
    locked = login(client, "editor", PASSWORD)
    assert locked.status_code == 429
    assert "thử lại sau" in locked.get_data(as_text=True)
    assert "sai 3 lần" in locked.get_data(as_text=True)  # locked at the third failure, not after "more than 3"
    # another account from the same address is not locked
    assert login(app.test_client(), "viewer").status_code == 302


def _session_cookie(response) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("bot_session="))


def test_session_cookie_is_httponly_and_samesite_and_secure_over_https(app):
    cookie = _session_cookie(login(app.test_client(), "admin"))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    client = app.test_client()
    token_page = client.get("/admin/login", base_url="https://localhost").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', token_page).group(1)
    response = client.post("/admin/login", base_url="https://localhost",
                           data={"username": "admin", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    cookie = _session_cookie(response)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_redirect_never_leaves_the_console(app):
    client = app.test_client()
    token = csrf_of(client)
    for target in ("https://evil.example/admin", "//evil.example/admin", "/admin//evil.example"):
        response = client.post("/admin/login", query_string={"next": target},
                               data={"username": "admin", "password": PASSWORD, "csrf_token": token})
        assert "evil.example" not in response.location
        client.post("/admin/logout", data={"csrf_token": csrf_of(client)})
        token = csrf_of(client)


def test_login_checks_a_password_hash_even_for_unknown_or_locked_accounts(app, monkeypatch):
    """Same work whether the account exists or not: no timing difference to find user names."""
    import bot.web.auth

    calls = []
    real = bot.web.auth.check_password_hash
    monkeypatch.setattr(bot.web.auth, "check_password_hash", lambda h, p: calls.append(h) or real(h, p))
    from bot.storage.store import Store

    store = Store.open(app.config.get("DATABASE_URL") or app.config["DATABASE_PATH"])
    store.update_staff(store.find_staff("viewer")["id"], active=0)
    store.close()
    for username in ("khong-co-ai", "viewer", "editor"):
        calls.clear()
        assert login(app.test_client(), username, "wrong-password-x").status_code == 401
        assert len(calls) == 1, username


def test_unit_bound_staff_cannot_see_or_control_other_units_broadcasts(app, clock):
    from bot.storage.store import Store
    from scheduler import broadcasts

    store = Store.open(app.config.get("DATABASE_URL") or app.config["DATABASE_PATH"])
    create_account(store, "gui-donvi", PASSWORD, "broadcaster", "CT.NK", now=time.time())
    now = clock.now()
    m, _ = store.touch_member("zalo", "Z-CR", at=now, display_name="Người ở Cái Răng")
    dbcheck.execute(store, "UPDATE members SET unit_code = 'CT.CR' WHERE id = ?", [m["id"]])
    other = broadcasts.create_broadcast(store, app.config, text="Tin của đơn vị khác", now=now, schedule="once",
                                        run_at=now + 3600, audience="unit:CT.CR")
    province = broadcasts.create_broadcast(store, app.config, text="Tin toàn tỉnh", now=now, schedule="once",
                                           run_at=now + 3600)
    mine = broadcasts.create_broadcast(store, app.config, text="Tin của Ninh Kiều", now=now, schedule="once",
                                       run_at=now + 3600, audience="unit:CT.NK.01")
    store.close()
    client, token = logged_in(app, "gui-donvi")
    headers = {"X-CSRF-Token": token}
    for bid in (other, province):
        for action in ("pause", "cancel"):
            assert client.post(f"/admin/broadcasts/{bid}/{action}", data={"csrf_token": token}).status_code in (403, 404)
            assert client.post(f"/admin/api/broadcasts/{bid}/{action}", headers=headers).status_code in (403, 404)
        assert client.get(f"/admin/broadcasts/{bid}").status_code in (403, 404)
        assert client.get(f"/admin/api/broadcasts/{bid}", headers=headers).status_code in (403, 404)
        assert client.get(f"/admin/api/broadcasts/{bid}/report", headers=headers).status_code in (403, 404)
    store = Store.open(app.config.get("DATABASE_URL") or app.config["DATABASE_PATH"])
    assert store.get_broadcast(other)["state"] == "scheduled" and store.get_broadcast(province)["state"] == "scheduled"
    store.close()
    listed = client.get("/admin/broadcasts").get_data(as_text=True)
    assert "Tin của Ninh Kiều" in listed and "Tin của đơn vị khác" not in listed and "Tin toàn tỉnh" not in listed
    api = [b["id"] for b in client.get("/admin/api/broadcasts", headers=headers).get_json()]
    assert api == [mine]
    # their own unit's broadcast they can still control
    assert client.post(f"/admin/broadcasts/{mine}/pause", data={"csrf_token": token}).status_code == 302
    assert client.post(f"/admin/api/broadcasts/{mine}/resume", headers=headers).status_code == 200


def test_a_password_set_from_the_command_line_is_audited(app, runner):
    from bot.storage.store import Store

    store = Store.open(app.config.get("DATABASE_URL") or app.config["DATABASE_PATH"])
    result = runner.invoke(args=["users", "set-password", "--username", "editor"], input="mat-khau-moi-dai-du\n")
    assert result.exit_code == 0, result.output
    assert [(e["username"], e["action"], e["target"]) for e in store.audit_entries() if e["action"].startswith("users.")] == [
        ("cli", "users.set_password", "editor")
    ]
    store.close()
