"""Staff accounts, login, roles, CSRF protection and the audit log.

The staff console lives under /admin/.  Sessions are signed cookies (HttpOnly,
SameSite=Lax, Secure when the request came over HTTPS).  Every state-changing
request under /admin/ carries a CSRF token (form field ``csrf_token`` or header
``X-CSRF-Token``).  Failed logins are counted per username and address.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import secrets
import sys
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import click
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.cli import AppGroup
from flask.sessions import SecureCookieSessionInterface
from werkzeug.security import check_password_hash, generate_password_hash

from bot.web.context import clock_now, get_store

logger = logging.getLogger(__name__)

ROLES = {
    "admin": "Quản trị",
    "editor": "Biên tập nội dung",
    "broadcaster": "Gửi tin",
    "reporter": "Báo cáo",
    "viewer": "Chỉ xem",
}

# permission -> roles that have it
PERMISSIONS = {
    "read": set(ROLES),
    "content": {"admin", "editor"},
    "broadcast": {"admin", "broadcaster"},
    "report": {"admin", "reporter"},
    "accounts": {"admin"},
}

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
MIN_PASSWORD = 10

bp = Blueprint("auth", __name__, url_prefix="/admin")


class SessionInterface(SecureCookieSessionInterface):
    """Mark the session cookie Secure whenever the request itself came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def init_app(app: Flask) -> None:
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_NAME="bot_session")
    app.config.setdefault("SESSION_COOKIE_SECURE", str(app.config.get("PUBLIC_BASE_URL") or "").startswith("https://"))
    app.session_interface = SessionInterface()
    app.before_request(load_staff)
    app.before_request(check_csrf)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["ROLES"] = ROLES
    app.register_blueprint(bp)
    app.cli.add_command(users_cli)


# -- passwords and accounts ---------------------------------------------------------
def hash_password(password: str) -> str:
    return generate_password_hash(password)  # scrypt (werkzeug's default)


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự.")


def create_account(store: Any, username: str, password: str, role: str, unit_code: str | None, *, now: float) -> int:
    username = username.strip()
    if not username or len(username) > 64 or not username.replace(".", "").replace("_", "").replace("-", "").isalnum():
        raise ValueError("Tên đăng nhập chỉ gồm chữ, số, dấu chấm, gạch dưới hoặc gạch nối (tối đa 64 ký tự).")
    if role not in ROLES:
        raise ValueError(f"Vai trò không hợp lệ: {role} (có: {', '.join(ROLES)})")
    validate_password(password)
    if store.find_staff(username):
        raise ValueError(f"Tên đăng nhập {username} đã có.")
    return store.create_staff(username, hash_password(password), role, unit_code or None, at=now)


# -- request hooks ---------------------------------------------------------------------
def _session_key(token: str) -> str:
    """What the database keeps of a session id: its hash (a copy of the table opens no session)."""
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(store: Any, staff: dict[str, Any], *, now: float) -> None:
    """A new server-side session for ``staff``; its random id goes into the signed cookie."""
    token = secrets.token_urlsafe(32)
    store.start_staff_session(_session_key(token), staff["id"], at=now)
    session["staff_id"] = staff["id"]
    session["sid"] = token
    session["pw"] = staff["password_hash"][-16:]


def _live_session(store: Any, staff_id: int) -> bool:
    """The cookie's session exists server-side (logout deletes it) and is inside the idle and absolute limits."""
    token = session.get("sid")
    row = store.get_staff_session(_session_key(token)) if isinstance(token, str) and token else None
    if row is None or row["staff_id"] != staff_id:
        return False
    now = clock_now()
    idle = float(current_app.config.get("SESSION_IDLE_MINUTES") or 0) * 60
    lifetime = float(current_app.config.get("SESSION_MAX_HOURS") or 0) * 3600
    if (idle and now - row["last_seen_at"] > idle) or (lifetime and now - row["created_at"] > lifetime):
        store.end_staff_session(row["token_hash"])
        logger.info("console session expired staff_id=%s", staff_id)
        return False
    if now - row["last_seen_at"] >= min(60.0, idle / 10 if idle else 60.0):  # one write a minute, not per request
        store.touch_staff_session(row["token_hash"], at=now)
    return True


def load_staff() -> None:
    g.staff = None
    staff_id = session.get("staff_id")
    if staff_id is None:
        return
    store = get_store()
    staff = store.get_staff(staff_id)
    if staff is None or not staff["active"] or session.get("pw") != staff["password_hash"][-16:]:
        session.clear()  # deleted, disabled, or password changed since login
        return
    if not _live_session(store, staff_id):
        session.clear()  # logged out, idle too long, or past the session's lifetime
        return
    g.staff = staff


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """State-changing requests to the console need the session's CSRF token."""
    if request.method not in UNSAFE_METHODS or not request.path.startswith("/admin"):
        return
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    expected = session.get("csrf") or ""
    if not expected or not hmac.compare_digest(sent, expected):
        logger.warning("csrf rejected path=%s", request.path)
        if _wants_json():
            abort(400, "Thiếu hoặc sai mã CSRF.")
        abort(400, "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Vui lòng tải lại trang và thử lại.")


def _wants_json() -> bool:
    return "/api/" in request.path or request.accept_mimetypes.best == "application/json" or request.is_json


def requires(permission: str) -> Callable:
    """Login required (redirect, or 401 for JSON), and a role with ``permission`` (403)."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if g.get("staff") is None:
                if _wants_json():
                    return jsonify({"error": "Cần đăng nhập."}), 401
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if g.staff["role"] not in PERMISSIONS[permission]:
                if _wants_json():
                    return jsonify({"error": "Tài khoản không có quyền này."}), 403
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permission = permission  # type: ignore[attr-defined]  (read by the route tests)
        return wrapped

    return decorator


def staff_unit() -> str | None:
    """The unit the logged-in staff member is bound to (None: every unit)."""
    staff = g.get("staff")
    return staff["unit_code"] if staff else None


def audit(action: str, target: str = "", detail: str = "") -> None:
    staff = g.get("staff")
    get_store().audit(
        staff_id=staff["id"] if staff else None,
        username=staff["username"] if staff else "-",
        action=action,
        target=str(target),
        detail=detail,
        at=clock_now(),
    )


# -- login and logout ---------------------------------------------------------------------
def _safe_next(target: str | None) -> str:
    if target and target.startswith(("/admin", "/simulator")) and not urlparse(target).netloc and "//" not in target:
        return target
    return url_for("auth.home")


# password hashes (scrypt) checked at once: more attempts get 429 at once instead of taking
# the CPU and the server's threads from the webhooks
_HASHING = threading.BoundedSemaphore(2)


@functools.cache
def _dummy_hash() -> str:
    """A hash of a random password, checked when the account does not exist (same time as a real check)."""
    return hash_password(secrets.token_urlsafe(16))


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    username = ""
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()
        password = request.form.get("password") or ""
        store = get_store()
        now = clock_now()
        key = f"{username.lower()}|{request.remote_addr}"
        limit = int(current_app.config["LOGIN_MAX_FAILURES"])
        window = float(current_app.config["LOGIN_LOCKOUT_MINUTES"]) * 60
        if limit and store.failed_logins_since(key, now - window) >= limit:
            logger.warning("login locked user=%s", username)
            error = f"Đã đăng nhập sai {limit} lần. Vui lòng thử lại sau {int(window // 60)} phút."
            return render_template("admin/login.html", error=error, username=username), 429
        # per address, whatever the usernames: counted before the hash is checked, so parallel attempts see each other
        address_key = f"*|{request.remote_addr}"
        address_limit = int(current_app.config.get("LOGIN_MAX_FAILURES_PER_ADDRESS") or 0)
        address_attempt = store.record_login_attempt(address_key, ok=False, at=now) if address_limit else None
        if address_limit and store.failed_logins_since(address_key, now - window) > address_limit:
            logger.warning("login locked address=%s", request.remote_addr)
            error = f"Có quá nhiều lần đăng nhập sai từ địa chỉ này. Vui lòng thử lại sau {max(1, int(window // 60))} phút."
            return render_template("admin/login.html", error=error, username=username), 429
        if not _HASHING.acquire(timeout=0.05):
            logger.warning("login refused: password checks busy")
            error = "Máy chủ đang bận kiểm tra đăng nhập. Vui lòng thử lại sau ít giây."
            return render_template("admin/login.html", error=error, username=username), 429
        try:
            staff = store.find_staff(username) if username else None
            # always check one hash, so an unknown or locked account answers as slowly as a real one
            password_ok = check_password_hash(staff["password_hash"] if staff else _dummy_hash(), password)
        finally:
            _HASHING.release()
        if staff and staff["active"] and password_ok:
            store.record_login_attempt(key, ok=True, at=now)
            if address_attempt is not None:
                store.mark_login_attempt_ok(address_attempt)
            session.clear()
            start_session(store, staff, now=now)
            session.permanent = False
            csrf_token()
            store.update_staff(staff["id"], last_login_at=now)
            g.staff = staff
            audit("login")
            return redirect(_safe_next(request.args.get("next")))
        store.record_login_attempt(key, ok=False, at=now)
        logger.info("login failed user=%s", username)
        error = "Tên đăng nhập hoặc mật khẩu không đúng."
    return render_template("admin/login.html", error=error, username=username), 401 if error else 200


@bp.post("/logout")
def logout():
    if g.get("staff"):
        audit("logout")
    token = session.get("sid")
    if isinstance(token, str) and token:
        get_store().end_staff_session(_session_key(token))  # a copy of the cookie opens nothing any more
    session.clear()
    return redirect(url_for("auth.login"))


@bp.get("/")
@requires("read")
def home():
    """The console's front page (the dashboard, when installed)."""
    if "console.dashboard" in current_app.view_functions:
        return redirect(url_for("console.dashboard"))
    return render_template("admin/home.html")


# -- accounts from the command line -------------------------------------------------------------
users_cli = AppGroup("users", help="Tài khoản cán bộ / staff accounts.")


@users_cli.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(sorted(ROLES)))
@click.option("--unit", "unit_code", default=None, help="Mã đơn vị: chỉ thấy hội viên và báo cáo của đơn vị này.")
def users_create(username: str, role: str, unit_code: str | None) -> None:
    """Create a staff account (password prompted, or read from standard input)."""
    if sys.stdin.isatty():
        password = click.prompt("Mật khẩu", hide_input=True, confirmation_prompt="Nhập lại mật khẩu")
    else:
        password = sys.stdin.readline().rstrip("\n")
    try:
        if unit_code:  # a code that is not in content/units.yaml would bind the account to nothing
            from bot.participation.catalog import check_unit

            unit_code = check_unit(current_app.config, unit_code)
        staff_id = create_account(get_store(), username, password, role, unit_code, now=clock_now())
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    get_store().audit(staff_id=None, username="cli", action="users.create", target=username, detail=role, at=clock_now())
    click.echo(f"Đã tạo tài khoản {username} ({ROLES[role]}), id {staff_id}.")


@users_cli.command("list")
def users_list() -> None:
    """List staff accounts."""
    for s in get_store().list_staff():
        state = "" if s["active"] else " (đã khóa)"
        role = f"{s['role']} ({ROLES.get(s['role'], s['role'])})"  # the code --role takes, and its Vietnamese name
        click.echo(f"{s['username']:<20} {role:<32} {s['unit_code'] or '-':<12}{state}")


@users_cli.command("set-password")
@click.option("--username", required=True)
def users_set_password(username: str) -> None:
    """Set a new password (prompted, or read from standard input)."""
    store = get_store()
    staff = store.find_staff(username)
    if staff is None:
        raise click.ClickException(f"Không có tài khoản {username}.")
    password = click.prompt("Mật khẩu mới", hide_input=True, confirmation_prompt=True) if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    try:
        validate_password(password)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    store.update_staff(staff["id"], password_hash=hash_password(password))
    store.audit(staff_id=None, username="cli", action="users.set_password", target=username, at=clock_now())
    click.echo("Đã đổi mật khẩu.")
