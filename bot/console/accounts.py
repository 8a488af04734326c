"""Admins only: the audit log, and staff accounts (list, create, lock/unlock, set a password).

An admin bound to a unit manages only accounts of that unit and the units below it, never
organisation-wide ones (no unit), and reads only the audit entries of those accounts.
"""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from bot.console.blueprint import bp
from bot.console.labels import AUDIT_ACTIONS
from bot.core.units import unit_within
from bot.web.auth import (
    MIN_PASSWORD,
    ROLES,
    audit,
    create_account,
    hash_password,
    requires,
    staff_unit,
    validate_password,
)
from bot.web.context import clock_now, get_store

PER_PAGE = 100


def manageable(unit_code: str | None) -> bool:
    """Whether the logged-in admin may manage an account bound to ``unit_code`` (None: organisation-wide)."""
    bound = staff_unit()
    if bound is None:
        return True
    code, bound = (unit_code or "").strip().upper(), bound.strip().upper()
    return unit_within(code, bound)


def _target(staff_id: int):
    """The account to act on; 403 when it is outside the admin's unit (404-like flash when missing)."""
    target = get_store().get_staff(staff_id)
    if target is not None and not manageable(target["unit_code"]):
        audit("users.denied", target["username"], "ngoài đơn vị của quản trị viên")
        abort(403)
    return target


@bp.get("/audit", endpoint="audit")
@requires("accounts")
def audit_log():
    store = get_store()
    username = request.args.get("user", "")[:64]
    action = request.args.get("action", "").strip()[:64]
    query = request.args.get("q", "").strip()[:100]
    page = max(1, request.args.get("page", 1, type=int) or 1)
    scope = staff_unit()
    rows, total = store.search_audit(
        query=query, username=username, action=action, limit=PER_PAGE, offset=(page - 1) * PER_PAGE, scope_unit=scope
    )
    args = {k: v for k, v in {"user": username, "action": action, "q": query}.items() if v}
    return render_template(
        "admin/audit.html", rows=rows, total=total, page=page, pages=max(1, -(-total // PER_PAGE)),
        users=store.audit_usernames(scope), actions=AUDIT_ACTIONS, username=username, action=action, q=query, args=args,
    )


def _page(values=None, errors=None, status=200):
    return render_template(
        "admin/accounts.html", staff=get_store().list_staff_within(staff_unit()), roles=ROLES, values=values or {"role": "viewer"},
        errors=errors or {}, min_password=MIN_PASSWORD,
    ), status


@bp.get("/accounts")
@requires("accounts")
def accounts():
    return _page()


@bp.post("/accounts")
@requires("accounts")
def account_create():
    values = {k: request.form.get(k, "").strip() for k in ("username", "role", "unit_code")}
    password = request.form.get("password", "")
    errors: dict[str, list[str]] = {}
    if password != request.form.get("password2", ""):
        errors["password2"] = ["Hai lần nhập mật khẩu không giống nhau."]
    if values["unit_code"]:  # a code that is not in content/units.yaml would bind the account to nothing
        from bot.participation.catalog import check_unit
        from bot.participation.units import UnknownUnitError

        try:
            values["unit_code"] = check_unit(current_app.config, values["unit_code"])
        except UnknownUnitError as exc:
            errors["unit_code"] = [str(exc)]
            return _page(values, errors, 400)
    if not manageable(values["unit_code"] or None):
        bound = staff_unit()
        errors["unit_code"] = [f"Tài khoản của đơn vị {bound} chỉ tạo được tài khoản thuộc đơn vị {bound} hoặc đơn vị cấp dưới."]
        audit("users.denied", values["username"], f"tạo tài khoản ngoài đơn vị của quản trị viên: {values['unit_code'] or 'toàn hội'}")
        return _page(values, errors, 403)
    if not errors:
        try:
            create_account(get_store(), values["username"], password, values["role"], values["unit_code"] or None, now=clock_now())
        except ValueError as exc:
            message = str(exc)
            field = "password" if "Mật khẩu" in message else "role" if "Vai trò" in message else "username"
            errors[field] = [message]
    if errors:
        return _page(values, errors, 400)
    audit("users.create", values["username"], values["role"] + (f" @{values['unit_code']}" if values["unit_code"] else ""))
    flash(f"Đã tạo tài khoản {values['username']} ({ROLES[values['role']]}).", "success")
    return redirect(url_for("console.accounts"))


@bp.post("/accounts/<int:staff_id>/active")
@requires("accounts")
def account_active(staff_id: int):
    store = get_store()
    target = _target(staff_id)
    if target is None:
        flash("Không có tài khoản này.", "error")
    elif target["id"] == g.staff["id"]:
        flash("Không tự khóa tài khoản của mình được.", "error")
    else:
        active = request.form.get("active") == "1"
        store.update_staff(staff_id, active=int(active))
        audit("users.unlock" if active else "users.lock", target["username"])
        flash(f"Đã {'mở khóa' if active else 'khóa'} tài khoản {target['username']}.", "success")
    return redirect(url_for("console.accounts"))


@bp.post("/accounts/<int:staff_id>/password")
@requires("accounts")
def account_password(staff_id: int):
    store = get_store()
    target = _target(staff_id)
    password = request.form.get("password", "")
    if target is None:
        flash("Không có tài khoản này.", "error")
        return redirect(url_for("console.accounts"))
    try:
        validate_password(password)
    except ValueError as exc:
        flash(f"{target['username']}: {exc}", "error")
        return redirect(url_for("console.accounts"))
    store.update_staff(staff_id, password_hash=hash_password(password))
    audit("users.set_password", target["username"])
    flash(f"Đã đặt mật khẩu mới cho {target['username']}; phiên đăng nhập cũ của tài khoản này hết hiệu lực.", "success")
    return redirect(url_for("console.accounts"))
