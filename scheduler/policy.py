"""The platform rules a broadcast obeys, checked per member at send time, and their labels for staff.

Messenger: 24 h after the member's last message.  Zalo OA: 48 h free, then the paid
window when it is on (or promotion messages under the OA's quota).  Zalo Bot: chats
that have written to the bot.  Never to someone who said DỪNG, blocked or unfollowed.
"""

from __future__ import annotations

from typing import Any

from bot.storage.store import Store

# Vietnamese labels of skip/failure reasons, for staff reports.
REASONS = {
    "unsubscribed": "Đã nhắn DỪNG (hủy nhận tin)",
    "unreachable": "Không liên lạc được (đã chặn, bỏ quan tâm hoặc không còn dùng kênh)",
    "blocked": "Đã chặn hoặc không còn liên lạc được",
    "unfollowed": "Đã bỏ quan tâm OA",
    "outside_window": "Ngoài khung thời gian nền tảng cho phép",
    "paid_window_disabled": "Chỉ gửi được trong khung tính phí 48 giờ–7 ngày (đang tắt)",
    "out_of_quota": "Hết hạn mức gửi của OA",
    "unknown_chat": "Chưa từng nhắn cho bot",
    "max_attempts": "Lỗi tạm thời, đã thử lại nhiều lần",
    "in_flight_at_crash": "Đang gửi thì máy chủ dừng (không rõ đã đến hay chưa)",
    "token_invalid": "Mã truy cập của kênh không hợp lệ",
    "invalid_user": "Người nhận không tồn tại",
    "platform_error": "Nền tảng từ chối",
    "paid_window_unavailable": "Tài khoản ZCA chưa liên kết hoặc hết tiền",
    "user_refused": "Người nhận từ chối loại tin này",
    "network": "Lỗi mạng",
    "internal_error": "Lỗi nội bộ",
    "cancelled": "Tin đã bị hủy trước khi gửi",
    "confirmed_by_echo": "Nền tảng xác nhận đã gửi (sau khi máy chủ dừng hoặc mất trả lời)",
}


def skip_reason(member: dict[str, Any] | None, channel: str, config: dict[str, Any], now: float) -> str | None:
    """Why this member may not get a broadcast now on ``channel`` (None: send)."""
    if member is None:
        return "unknown_chat"
    if not member["subscribed"]:
        return "unsubscribed"
    if member["status"] in ("blocked", "unfollowed"):
        return "unreachable"  # a send failed with 551 / not following / blocked; her next message clears it
    last = member["last_inbound_at"]
    age = now - last if last else float("inf")
    if channel == "messenger":
        if age > float(config["MESSENGER_WINDOW_HOURS"]) * 3600:
            return "outside_window"
    elif channel == "zalo":
        if config.get("ZALO_BROADCAST_TYPE") == "promotion":
            return None  # promotion messages go to followers under the OA's quota
        if age > float(config["ZALO_PAID_WINDOW_DAYS"]) * 86400:
            return "outside_window"
        if age > float(config["ZALO_FREE_WINDOW_HOURS"]) * 3600 and not config["ZALO_ALLOW_PAID_WINDOW"]:
            return "paid_window_disabled"
    elif channel == "zalo_bot":
        if last is None:
            return "unknown_chat"
    return None


def make_policy(config: dict[str, Any]):
    """The outbox's send-time check for broadcast rows."""

    def policy(store: Store, row: dict[str, Any], now: float) -> str | None:
        run = store.get_run(row["run_id"]) if row["run_id"] else None
        if run is not None and run["state"] == "cancelled":
            return "cancelled"  # in flight at the cancel, then put back for a retry: not sent after all
        if row["is_group"]:
            return None  # staff named this group explicitly
        member = store.get_member(row["member_id"]) if row["member_id"] else None
        return skip_reason(member, row["channel"], config, now)

    return policy
