"""Staff actions on a conversation (console and CLI): reply through the outbox, assign, close, list."""

from __future__ import annotations

from typing import Any

from bot.channels.base import Channel
from bot.core.models import Reply
from bot.handoff.flow import CLOSED_TEXT
from bot.handoff.window import Window, reply_window
from bot.pipeline.outbox import drain
from bot.storage.store import Store

STAFF_KIND = "staff"  # outbox kind of a staff reply (sent like a reply, never held by quiet hours)
TEXT_LIMIT = 2000


class HandoffError(Exception):
    """A staff action that cannot be done; the message is for staff, in Vietnamese."""


def get_open(store: Store, handoff_id: int) -> dict[str, Any]:
    handoff = store.get_handoff(handoff_id)
    if handoff is None:
        raise HandoffError(f"Không có cuộc trò chuyện số {handoff_id}.")
    return handoff


def window_now(store: Store, handoff: dict[str, Any], config: dict[str, Any], now: float, *, confirmed_paid: bool = False) -> Window:
    """What the platform allows a staff reply in this conversation right now."""
    member = store.get_member(handoff["member_id"]) or {}
    return reply_window(
        handoff["channel"], member.get("last_inbound_at"), now, config,
        human=True, confirmed_paid=confirmed_paid, status=member.get("status") or "active",
    )


def reply(
    store: Store,
    channels: dict[str, Channel],
    config: dict[str, Any],
    handoff_id: int,
    text: str,
    *,
    now: float,
    staff_id: int | None = None,
    staff_name: str = "",
    confirm_paid: bool = False,
) -> dict[str, Any]:
    """Queue a reply a person wrote; refused (HandoffError with the reason) outside the platform's window."""
    text = (text or "").strip()
    if not text:
        raise HandoffError("Nội dung trả lời đang trống.")
    if len(text) > TEXT_LIMIT:
        raise HandoffError(f"Nội dung trả lời dài quá {TEXT_LIMIT} ký tự.")
    with store.transaction():
        handoff = get_open(store, handoff_id)
        if handoff["state"] != "open":
            raise HandoffError("Cuộc trò chuyện này đã kết thúc; hội viên cần gõ GẶP CÁN BỘ để mở lại.")
        window = window_now(store, handoff, config, now, confirmed_paid=confirm_paid)
        if not window.allowed:
            raise HandoffError(window.reason)
        channel = channels.get(handoff["channel"])
        messages = channel.render(Reply(text)) if channel is not None else [{"text": text}]
        ids = store.enqueue(
            channel=handoff["channel"],
            recipient=handoff["platform_id"],
            messages=messages,
            at=now,
            member_id=handoff["member_id"],
            kind=STAFF_KIND,
            messaging_type=window.messaging_type,
        )
        store.add_handoff_message(
            handoff_id, author="staff", text=text, at=now, staff_id=staff_id, staff_name=staff_name,
            outbox_id=ids[0], messaging_type=window.messaging_type,
        )
        if handoff["assigned_staff_id"] is None and staff_id is not None:
            store.assign_handoff(handoff_id, staff_id)
    return {"outbox_ids": ids, "window": window}


def close(store: Store, handoff_id: int, *, now: float, by: str, tell_member: bool = True,
          channels: dict[str, Channel] | None = None, config: dict[str, Any] | None = None) -> bool:
    """End the conversation; the member is told (when the platform still allows a bot message)."""
    with store.transaction():
        handoff = get_open(store, handoff_id)
        if not store.close_handoff(handoff_id, at=now, by=by):
            return False
        store.add_handoff_message(handoff_id, author="bot", text=CLOSED_TEXT, at=now)
        if tell_member and config is not None:
            member = store.get_member(handoff["member_id"]) or {}
            window = reply_window(
                handoff["channel"], member.get("last_inbound_at"), now, config, human=False,
                status=member.get("status") or "active",
            )
            if window.allowed and not window.billed:
                channel = (channels or {}).get(handoff["channel"])
                messages = channel.render(Reply(CLOSED_TEXT)) if channel is not None else [{"text": CLOSED_TEXT}]
                store.enqueue(
                    channel=handoff["channel"], recipient=handoff["platform_id"], messages=messages, at=now,
                    member_id=handoff["member_id"], messaging_type=window.messaging_type,
                )
    return True


def deliver_now(store: Store, services: Any, channel_name: str) -> None:
    """Get a reply moving: wake the channel's sender, or (no workers in this process) drain the
    local simulator channel here, as the simulator's own requests do."""
    if services.workers is not None:
        services.workers.wake_senders([channel_name])
    elif channel_name == "simulator":
        drain(store, services.channels[channel_name], services.config, clock=services.clock)


def assign(store: Store, handoff_id: int, staff_id: int | None) -> None:
    get_open(store, handoff_id)
    store.assign_handoff(handoff_id, staff_id)


def summary(row: dict[str, Any]) -> dict[str, Any]:
    """One conversation as the CLI and the JSON list show it."""
    return {
        "id": row["id"],
        "channel": row["channel"],
        "member": row.get("full_name") or row.get("display_name") or f"#{row['member_id']}",
        "member_id": row["member_id"],
        "unit": row.get("unit_code"),
        "state": row["state"],
        "opened_at": row["opened_at"],
        "last_message": row.get("last_text") or "",
        "last_message_at": row.get("last_at"),
        "waiting_since": row.get("waiting_since"),
        "assigned": row.get("assigned_username"),
    }
