"""The console blueprint and what every page shares: navigation, permissions, formats, headers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, g, request, url_for

from bot.console.labels import audit_action_label, role_label, unit_names
from bot.core import formats
from bot.web.auth import PERMISSIONS, staff_unit

bp = Blueprint("console", __name__, url_prefix="/admin")

# (endpoint, label, permission): the navigation, in order
NAV: list[tuple[str, str, str]] = [
    ("console.dashboard", "Tổng quan", "read"),
    ("console.content_list", "Kho nội dung", "read"),
    ("console.inbox", "Hộp thư", "read"),
    ("console.unanswered", "Câu hỏi chưa trả lời", "read"),
    ("console.broadcasts", "Gửi tin", "read"),
    ("console.posts", "Đăng bài", "read"),
    ("console.participation", "Thi và cuộc thi", "read"),
    ("console.members", "Hội viên", "read"),
    ("console.reports", "Báo cáo", "report"),
    ("console.system", "Hệ thống", "read"),
    ("console.audit", "Nhật ký", "accounts"),
    ("console.accounts", "Tài khoản", "accounts"),
]

# endpoint -> a function giving the number shown beside the link (e.g. conversations waiting)
NAV_BADGES: dict[str, Callable[[], int]] = {}

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self';"
    " form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def can(permission: str) -> bool:
    """Whether the logged-in staff member's role has ``permission``."""
    staff = g.get("staff")
    return bool(staff) and staff["role"] in PERMISSIONS[permission]


def console_nav() -> list[dict[str, Any]]:
    """The navigation links the logged-in staff member may use; the current page marked."""
    items = []
    for endpoint, label, permission in NAV:
        if endpoint in current_app.view_functions and can(permission):
            prefix = url_for(endpoint)
            badge = NAV_BADGES.get(endpoint)
            items.append({
                "url": prefix, "label": label, "current": request.path.startswith(prefix),
                "badge": badge() if badge is not None else 0,
            })
    return items


def local_time(ts: float | None, fmt: str = formats.DATE_TIME) -> str:
    """Epoch seconds as local time (TIMEZONE) for staff: 04/12/2026 08:00; "—" when missing."""
    return formats.time_text(ts, current_app.config["TIMEZONE"], fmt)


def number(value: Any) -> str:
    """1234567 -> "1.234.567", 12.5 -> "12,5" (Vietnamese separators)."""
    return formats.number_text(value)


def percent(part: float, whole: float) -> str:
    """A share as "12,5%" (Vietnamese decimal comma); "—" when there is nothing to share."""
    return formats.share_text(part, whole)


def staff_scope() -> dict[str, str] | None:
    """The unit a unit-bound staff account sees (code and label); None for organisation-wide accounts."""
    code = staff_unit()
    if not code:
        return None
    return {"code": code, "label": unit_names().get(code, code)}


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    return {"console_nav": console_nav, "can": can, "staff_scope": staff_scope}


@bp.app_template_filter("action")
def _action_filter(code: str | None) -> str:
    return audit_action_label(code)


@bp.app_template_filter("role")
def _role_filter(code: str | None) -> str:
    return role_label(code)


@bp.app_template_filter("localtime")
def _localtime_filter(ts: float | None, fmt: str = formats.DATE_TIME) -> str:
    return local_time(ts, fmt)


@bp.app_template_filter("number")
def _number_filter(value: Any, decimals: int | None = None) -> str:
    return formats.number_text(value, decimals)


@bp.app_template_filter("pct")
def _percent_filter(value: float | None) -> str:
    return formats.percent_text(value)


@bp.app_template_filter("vndate")
def _date_filter(value: Any) -> str:
    return formats.date_text(value)


@bp.app_template_filter("schedule")
def _schedule_filter(cron: str | None) -> str:
    return formats.schedule_in_words(cron)


@bp.app_template_filter("cell")
def _cell_filter(value: Any) -> str:
    """A report table cell: numbers in Vietnamese format, ISO dates as 04/12/2026, text unchanged."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return formats.number_text(value)
    if isinstance(value, str) and len(value) == 10 and value[4:5] == "-" and value[7:8] == "-":
        return formats.date_text(value)
    return "" if value is None else str(value)


@bp.after_app_request
def _security_headers(response):
    """Console pages: no framing, no sniffing, no caching of personal data, scripts from the app only."""
    if request.path.startswith("/admin"):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cache-Control", "no-store")
    return response
