"""Vietnamese names of the codes staff see in the console: audit-log actions, roles and units.

One mapping for every page; a code not listed here (a new action) is shown as it is.
"""

from __future__ import annotations

from flask import current_app

from bot.web.auth import ROLES

AUDIT_ACTIONS: dict[str, str] = {
    "login": "Đăng nhập",
    "logout": "Đăng xuất",
    "content.create": "Thêm mục nội dung",
    "content.edit": "Sửa mục nội dung",
    "content.approve": "Duyệt mục nội dung",
    "content.eval": "Chạy đánh giá độ chính xác",
    "broadcast.create": "Tạo tin gửi hàng loạt",
    "broadcast.pause": "Tạm dừng tin gửi",
    "broadcast.resume": "Tiếp tục gửi tin",
    "broadcast.cancel": "Hủy tin gửi",
    "post.create": "Tạo bài đăng",
    "inbox.reply": "Trả lời hội viên",
    "inbox.assign": "Nhận xử lý cuộc trò chuyện",
    "inbox.close": "Đóng cuộc trò chuyện",
    "unanswered.ignore": "Bỏ qua câu hỏi chưa trả lời",
    "unanswered.restore": "Khôi phục câu hỏi chưa trả lời",
    "unanswered.link": "Gắn câu hỏi vào mục nội dung",
    "unanswered.recheck": "Kiểm tra lại câu hỏi chưa trả lời",
    "members.export": "Tải danh sách hội viên",
    "member.view": "Xem trang hội viên",
    "participation.import": "Nhập danh sách tham gia",
    "report.export": "Tải báo cáo",
    "users.create": "Tạo tài khoản",
    "users.denied": "Bị từ chối: tài khoản ngoài đơn vị",
    "users.lock": "Khóa tài khoản",
    "users.unlock": "Mở khóa tài khoản",
    "users.set_password": "Đặt lại mật khẩu",
    "zalo.consent_url": "Tạo liên kết cấp quyền Zalo OA",
    "zalo.exchange_code": "Lưu token Zalo OA mới",
}


def audit_action_label(code: str | None) -> str:
    """The Vietnamese name of an audit action; an unknown code as it is."""
    return AUDIT_ACTIONS.get(code or "", code or "")


def role_label(code: str | None) -> str:
    """The Vietnamese name of a staff role; an unknown code as it is."""
    return ROLES.get(code or "", code or "")


def unit_tree():
    """The organisation's unit tree (content/units.yaml), or None when there is none."""
    from bot.participation.units import parse_units

    try:
        tree, _ = parse_units(current_app.config["CONTENT_DIR"])
    except (OSError, ValueError):
        return None
    return tree if tree.units else None


def unit_names() -> dict[str, str]:
    """Unit code -> its label ("Chi hội Khóm 1 – Phường Phú Lợi")."""
    tree = unit_tree()
    return {code: tree.label(code) for code in tree.units} if tree else {}
