"""What each platform allows a reply to a member right now (pure: no storage, no Flask).

Messenger (Send API): within 24 h of her last message a normal RESPONSE; from 24 h
to 7 days only a message a person wrote, sent with ``messaging_type=MESSAGE_TAG`` and
``tag=HUMAN_AGENT`` (never a bot's message); after 7 days nothing.
Zalo OA (consultation messages): within 48 h free; from 48 h to 7 days billed, sent
only when ZALO_ALLOW_PAID_WINDOW is on or staff confirm that very reply; after 7 days
Zalo rejects it.  Zalo Bot: any chat that has written to the bot.
The simulator and the terminal chat have no window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

HUMAN_AGENT_DAYS = 7.0  # Messenger's HUMAN_AGENT tag: up to 7 days after her last message
HUMAN_AGENT = "MESSAGE_TAG:HUMAN_AGENT"  # the outbox's messaging_type; the Messenger channel splits it

# decision codes
FREE = "free"  # inside the standard window
HUMAN_TAG = "human_agent"  # Messenger 24 h-7 d, a person's text with the HUMAN_AGENT tag
PAID = "paid"  # Zalo OA 48 h-7 d, billed
NEEDS_CONFIRMATION = "needs_confirmation"  # Zalo OA 48 h-7 d, paid window off: staff must confirm
BOT_OUTSIDE_WINDOW = "bot_outside_window"  # Messenger after 24 h: a bot message may not use the tag
EXPIRED = "expired"  # after 7 days
UNKNOWN_CHAT = "unknown_chat"  # she never wrote to us
UNREACHABLE = "unreachable"  # blocked, unfollowed, erased


@dataclass(frozen=True)
class Window:
    """May a message go now, how (``messaging_type``), and why, in Vietnamese for staff."""

    allowed: bool
    code: str
    messaging_type: str
    reason: str
    billed: bool = False

    @property
    def tag(self) -> str | None:
        return self.messaging_type.split(":", 1)[1] if self.messaging_type.startswith("MESSAGE_TAG:") else None


def _hours(seconds: float) -> str:
    if seconds < 3600:
        return f"{max(1, int(seconds // 60))} phút"
    if seconds < 2 * 86400:
        return f"{int(seconds // 3600)} giờ"
    return f"{seconds / 86400:.1f}".replace(".", ",") + " ngày"


def reply_window(
    channel: str,
    last_inbound_at: float | None,
    now: float,
    config: dict[str, Any],
    *,
    human: bool,
    confirmed_paid: bool = False,
    status: str = "active",
) -> Window:
    """The rule for one message to one member on ``channel`` at ``now``.

    ``human``: a person (staff) wrote this text; bot messages never get the HUMAN_AGENT tag.
    ``confirmed_paid``: staff confirmed this Zalo reply in the billed window.
    """
    if status in ("blocked", "unfollowed", "erased"):
        return Window(False, UNREACHABLE, "", "Không gửi được: hội viên đã chặn, bỏ quan tâm hoặc đã xóa dữ liệu.")
    if last_inbound_at is None:
        return Window(False, UNKNOWN_CHAT, "", "Không gửi được: hội viên chưa từng nhắn tin đến kênh này.")
    age = max(0.0, now - float(last_inbound_at))
    since = f"Hội viên nhắn lần cuối cách đây {_hours(age)}."
    if channel == "messenger":
        window = float(config.get("MESSENGER_WINDOW_HOURS", 24)) * 3600
        if age <= window:
            return Window(True, FREE, "RESPONSE", f"{since} Trong 24 giờ: gửi như tin trả lời bình thường.")
        if age > HUMAN_AGENT_DAYS * 86400:
            return Window(
                False, EXPIRED, "",
                f"{since} Messenger không cho gửi sau 7 ngày kể từ tin nhắn cuối của hội viên; "
                "chờ hội viên nhắn lại, hoặc liên hệ qua điện thoại.",
            )
        if not human:
            return Window(
                False, BOT_OUTSIDE_WINDOW, "",
                f"{since} Quá 24 giờ: Messenger chỉ cho gửi tin do cán bộ tự viết (nhãn HUMAN_AGENT), không gửi tin tự động.",
            )
        return Window(
            True, HUMAN_TAG, HUMAN_AGENT,
            f"{since} Quá 24 giờ nhưng chưa quá 7 ngày: gửi kèm nhãn HUMAN_AGENT (chỉ cho tin do cán bộ tự viết).",
        )
    if channel == "zalo":
        free = float(config.get("ZALO_FREE_WINDOW_HOURS", 48)) * 3600
        limit = float(config.get("ZALO_PAID_WINDOW_DAYS", 7)) * 86400
        if age <= free:
            return Window(True, FREE, "cs", f"{since} Trong 48 giờ: tin tư vấn miễn phí.")
        if age > limit:
            return Window(
                False, EXPIRED, "",
                f"{since} Zalo không cho gửi tin tư vấn sau 7 ngày kể từ lần tương tác cuối; chờ hội viên nhắn lại.",
            )
        if config.get("ZALO_ALLOW_PAID_WINDOW") or confirmed_paid:
            return Window(True, PAID, "cs", f"{since} Từ 48 giờ đến 7 ngày: tin tư vấn có tính phí (trừ vào tài khoản ZCA).", billed=True)
        return Window(
            False, NEEDS_CONFIRMATION, "cs",
            f"{since} Từ 48 giờ đến 7 ngày: tin này có tính phí. Cán bộ cần xác nhận gửi có tính phí.",
            billed=True,
        )
    # zalo_bot, simulator, console: a chat that has written to us can be answered
    return Window(True, FREE, "RESPONSE", f"{since} Gửi được.")
