"""Tell staff about new conversations: a message to a staff chat through the Zalo Bot.

At most one message per HANDOFF_NOTIFY_DIGEST_MINUTES: the first new conversation
is announced at once; those opened within the next minutes wait and go out together,
as one digest, at the next chance (a new conversation or the scheduler's tick).
"""

from __future__ import annotations

from typing import Any

from bot.storage.store import Store

NOTIFY_CHANNEL = "zalo_bot"
MAX_LISTED = 10


def digest_text(rows: list[dict[str, Any]], config: dict[str, Any]) -> str:
    if len(rows) == 1:
        lines = ["Có 1 hội viên cần gặp cán bộ:"]
    else:
        lines = [f"Có {len(rows)} hội viên mới cần gặp cán bộ:"]
    for row in rows[:MAX_LISTED]:
        who = row.get("full_name") or row.get("display_name") or f"hội viên #{row['member_id']}"
        unit = row.get("unit_code") or "cấp Hội"
        last = " ".join(str(row.get("last_text") or "").split())
        last = (last[:80] + "…") if len(last) > 80 else last
        lines.append(f"• #{row['id']} {who} ({unit}, {row['channel']}): {last}")
    if len(rows) > MAX_LISTED:
        lines.append(f"… và {len(rows) - MAX_LISTED} cuộc khác.")
    base = str(config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    lines.append(f"Trả lời tại {base}/admin/inbox" if base else "Trả lời trong trang quản trị, mục Hộp thư.")
    return "\n".join(lines)


def queue_notice(store: Store, config: dict[str, Any], now: float) -> int | None:
    """Queue one notice listing the conversations staff have not been told about, if one is due.

    Returns the outbox id, or None (no chat id set, nothing new, or the last notice is too recent).
    """
    chat_id = str(config.get("HANDOFF_NOTIFY_ZALO_BOT_CHAT_ID") or "").strip()
    if not chat_id:
        return None
    with store.transaction():
        rows = store.unnotified_handoffs()
        if not rows:
            return None
        last = store.last_handoff_notice_at()
        gap = float(config.get("HANDOFF_NOTIFY_DIGEST_MINUTES", 15) or 0) * 60
        if last is not None and now - last < gap:
            return None  # they wait for the digest
        ids = store.enqueue(
            channel=NOTIFY_CHANNEL,
            recipient=chat_id,
            messages=[{"text": digest_text(rows, config)}],
            at=now,
            kind="notice",
        )
        store.mark_handoffs_notified([r["id"] for r in rows], at=now)
    return ids[0]


NOTICE_JOB = "handoff-notices"
NOTICE_CHECK_SECONDS = 60


def run_notices(services: Any) -> int | None:
    """The scheduler's job: send the waiting digest once it is due."""
    if not str(services.config.get("HANDOFF_NOTIFY_ZALO_BOT_CHAT_ID") or "").strip():
        return None
    store = services.open_store()
    try:
        outbox_id = queue_notice(store, services.config, services.clock.now())
    finally:
        store.close()
    if outbox_id is not None:
        wake = getattr(services.workers, "wake_senders", None)
        if wake:
            wake([NOTIFY_CHANNEL])
    return outbox_id


def schedule_notices(scheduler: Any, services: Any) -> None:
    """Check every minute for conversations staff have not been told about (the digest)."""
    scheduler.add_job(run_notices, "interval", seconds=NOTICE_CHECK_SECONDS, args=[services], id=NOTICE_JOB,
                      replace_existing=True, coalesce=True, max_instances=1)
