"""Members: search and filter (unit, channel, status), export as CSV; unit-bound staff see their unit only."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask import Response, current_app, render_template, request, stream_with_context

from bot.console.blueprint import bp, can, local_time
from bot.console.labels import unit_names
from bot.core.formats import file_stamp
from bot.reports.export import safe_row
from bot.web.auth import audit, requires, staff_unit
from bot.web.context import get_services, get_store

PER_PAGE = 50
CHANNELS = {"messenger": "Messenger", "zalo": "Zalo OA", "zalo_bot": "Zalo Bot", "web": "Trang web", "simulator": "Mô phỏng"}
STATUSES = {
    "active": "Đang nhận tin",
    "unsubscribed": "Đã nhắn DỪNG",
    "blocked": "Không liên lạc được (đã chặn, lỗi 551…)",
    "unfollowed": "Đã bỏ quan tâm OA",
    "registered": "Đã đăng ký hội viên",
    "erased": "Đã xóa dữ liệu",
}
CSV_HEADERS = [
    "Mã", "Kênh", "Mã trên nền tảng", "Tên hiển thị", "Họ và tên", "Điện thoại", "Mã đơn vị", "Đơn vị",
    "Trạng thái", "Nhận tin", "Lần đầu nhắn", "Lần nhắn gần nhất", "Ngày đăng ký",
]


def _filters() -> dict:
    channel = request.args.get("channel", "")
    status = request.args.get("status", "")
    return {
        "query": request.args.get("q", "").strip()[:100],
        "unit": request.args.get("unit", "").strip()[:64] or None,
        "channel": channel if channel in CHANNELS else None,
        "status": status if status in STATUSES else None,
        "scope_unit": staff_unit(),
    }


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    return "•" * max(0, len(phone) - 3) + phone[-3:]


@bp.get("/members")
@requires("read")
def members():
    filters = _filters()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    rows, total = get_store().search_members(limit=PER_PAGE, offset=(page - 1) * PER_PAGE, **filters)
    names = unit_names()
    codes = get_store().member_unit_codes(staff_unit())
    show_phone = can("report")
    for row in rows:
        row["unit_name"] = names.get(row["unit_code"] or "", "")
        row["phone_shown"] = row["phone"] if show_phone else mask_phone(row["phone"])
    args = {k: v for k, v in {"q": filters["query"], "unit": filters["unit"], "channel": filters["channel"], "status": filters["status"]}.items() if v}
    return render_template(
        "admin/members.html", rows=rows, total=total, page=page, pages=max(1, -(-total // PER_PAGE)),
        f=filters, args=args, channels=CHANNELS, statuses=STATUSES,
        unit_options=sorted(set(codes) | set(names)), names=names, scope=staff_unit(),
    )


def member_status(row: dict) -> str:
    if row["status"] in STATUSES and row["status"] != "active":
        return STATUSES[row["status"]]
    return STATUSES["active"] if row["subscribed"] else STATUSES["unsubscribed"]


@bp.get("/members/export.csv")
@requires("report")
def members_export():
    filters = _filters()
    names = unit_names()
    store = get_store()

    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")  # Excel opens UTF-8 with a BOM correctly
        writer.writerow(CSV_HEADERS)
        for row in store.iter_members(**filters):
            writer.writerow(safe_row([
                row["id"], CHANNELS.get(row["channel"], row["channel"]), row["platform_id"], row["display_name"],
                row["full_name"], row["phone"], row["unit_code"] or "", names.get(row["unit_code"] or "", ""),
                member_status(row), "có" if row["subscribed"] else "không", local_time(row["first_seen_at"]),
                local_time(row["last_inbound_at"]), local_time(row["registered_at"]) if row["registered_at"] else "",
            ]))
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    audit("members.export", filters["unit"] or filters["scope_unit"] or "all", _describe(filters))
    stamp = file_stamp(get_services().clock.now(), current_app.config["TIMEZONE"])  # local time, not UTC
    return Response(
        stream_with_context(generate()), mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="hoi-vien-{stamp}.csv"'},
    )


def _describe(filters: dict) -> str:
    parts = [f"{k}={v}" for k, v in filters.items() if v]
    return ", ".join(parts) or "tất cả"
