"""What the platforms say about our sends after the fact (storage layer, mixed into Store):
delivery and read receipts, and echoes that confirm a send whose answer was lost.

Receipt and echo events are applied where the webhook is acknowledged: a few indexed
updates of the outbox, never a member created, never queued behind conversations.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from bot.core.models import DELIVERY, ECHO, ECHO_REF_PREFIX, READ, Event

logger = logging.getLogger(__name__)


class DeliveryStore:
    """Methods of Store for receipts and echoes."""

    _rows: Any
    _row: Any
    _write: Any
    transaction: Any

    def apply_delivery_event(self, event: Event, *, at: float, skew: float = 2.0, echo_window: float = 120.0) -> int:
        """Apply one receipt or echo event; returns how many outbox rows it changed.

        ``skew``: seconds of clock difference allowed between the platform's watermark
        and our send times.  ``echo_window``: how far apart (seconds) a Zalo echo and our
        send may be when they are matched by recipient and text.
        """
        extra = event.extra
        if event.kind in (DELIVERY, READ):
            read = event.kind == READ
            changed = self.mark_delivery(event.channel, [str(m) for m in extra.get("mids") or []], at=at, read=read)
            watermark = _number(extra.get("watermark"))
            if watermark:  # Messenger: ms; everything sent to her before it
                changed += self.mark_watermark(
                    event.channel, event.user_id, watermark / 1000 + skew, at=at, read=read
                )
            return changed
        if event.kind == ECHO:
            return self.confirm_echo(event, at=at, window=echo_window)
        return 0

    def mark_delivery(self, channel: str, mids: list[str], *, at: float, read: bool = False) -> int:
        """Delivery/read receipt for messages by platform message id; read implies delivered."""
        if not mids:
            return 0
        columns = "delivered_at = coalesce(delivered_at, ?)" + (", read_at = coalesce(read_at, ?)" if read else "")
        sql = (
            f"UPDATE outbox SET {columns} WHERE channel = ?"
            f" AND platform_message_id IN ({','.join('?' * len(mids))})"
            + (" AND read_at IS NULL" if read else " AND delivered_at IS NULL")
        )
        return self._write(sql, [at, *([at] if read else []), channel, *mids]).rowcount

    def mark_watermark(self, channel: str, recipient: str, watermark: float, *, at: float, read: bool) -> int:
        """Messenger receipts: every message sent to ``recipient`` at or before ``watermark``
        (epoch seconds) is delivered (read).  The send time compared is when the request
        left (claimed_at), which is before the platform stamped the message."""
        columns = "delivered_at = coalesce(delivered_at, ?)" + (", read_at = coalesce(read_at, ?)" if read else "")
        sql = (
            f"UPDATE outbox SET {columns} WHERE channel = ? AND recipient = ? AND status = 'sent'"
            " AND coalesce(claimed_at, finished_at) <= ?"
            + (" AND read_at IS NULL" if read else " AND delivered_at IS NULL")
        )
        return self._write(sql, [at, *([at] if read else []), channel, recipient, watermark]).rowcount

    def confirm_echo(self, event: Event, *, at: float, window: float) -> int:
        """An echo of a message we sent: the row becomes 'sent' (never resent), with the
        platform's message id.  Messenger: by the outbox id we put in the metadata.
        Zalo OA: by message id, else the oldest open send to the same member with the same
        text within ``window`` seconds of the echo (best effort: no field we set comes back)."""
        mid = str(event.extra.get("mid") or "")
        metadata = str(event.extra.get("metadata") or "")
        if metadata.startswith(ECHO_REF_PREFIX):
            ref = metadata[len(ECHO_REF_PREFIX) :]
            if not (ref.isascii() and ref.isdigit()) or len(ref) > 18:  # not one of ours (SQLite integers end at 2**63)
                return 0
            outbox_id = int(ref)
            return self._confirm_sent(outbox_id, event.channel, event.user_id, mid, at=at)
        if event.channel != "zalo":
            return 0  # a Messenger echo without our reference: typed by staff in the Page inbox
        with self.transaction():
            if mid and self._row("SELECT 1 FROM outbox WHERE channel = ? AND platform_message_id = ?", [event.channel, mid]):
                return 0  # already known: its send returned normally
            candidates = self._rows(
                "SELECT id, message, run_id, part FROM outbox WHERE channel = ? AND recipient = ? AND is_group = 0"
                " AND status IN ('sending', 'uncertain') AND platform_message_id IS NULL"
                " AND claimed_at >= ? AND claimed_at <= ? ORDER BY id",
                [event.channel, event.user_id, event.timestamp - window, event.timestamp + window],
            )
            text = (event.extra.get("text") or "").strip()
            for row in candidates:
                if self._sent_text(row).strip() == text:
                    return self._confirm_sent(row["id"], event.channel, event.user_id, mid, at=at)
        return 0

    def _sent_text(self, row: dict[str, Any]) -> str:
        raw = row["message"]
        if not raw and row["run_id"] is not None:  # a broadcast row: the message is stored once per run
            part = self._row(
                "SELECT message FROM broadcast_parts WHERE run_id = ? AND channel = 'zalo' AND part = ?",
                [row["run_id"], row["part"]],
            )
            raw = part["message"] if part else ""
        try:
            message = json.loads(raw) if raw else {}
        except ValueError:
            return ""
        return str(message.get("text") or "") if isinstance(message, dict) else ""

    def _confirm_sent(self, outbox_id: int, channel: str, recipient: str, mid: str, *, at: float) -> int:
        cursor = self._write(
            "UPDATE outbox SET status = 'sent', platform_message_id = coalesce(platform_message_id, ?),"
            " finished_at = coalesce(finished_at, ?), reason = CASE WHEN status = 'uncertain' THEN 'confirmed_by_echo'"
            " ELSE NULL END, error_code = NULL, error_subcode = NULL, error_message = NULL"
            " WHERE id = ? AND channel = ? AND recipient = ? AND status != 'sent'",
            [mid or None, at, outbox_id, channel, recipient],
        )
        if cursor.rowcount:
            logger.info("echo confirmed outbox_id=%s channel=%s as sent", outbox_id, channel)
        return cursor.rowcount


def _number(value: Any) -> float:
    if isinstance(value, bool):
        return 0.0
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return 0.0
    return number if math.isfinite(number) and 0 < number < 1e15 else 0.0
