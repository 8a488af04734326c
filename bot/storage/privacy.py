"""Erasure helpers that leave no platform id behind (storage layer, mixed into Store)."""

from __future__ import annotations

from typing import Any


class PrivacyStore:
    """Methods of Store used by XÓA DỮ LIỆU and the retention purge."""

    _write: Any

    def erase_inbox_keys(self, channel: str, platform_id: str) -> int:
        """Give the member's inbox rows an anonymous key: keys such as ``follow:<platform id>:<time>``
        (Zalo events without a msg_id) carry the id.  Runs before the events themselves are blanked."""
        return self._write(
            "UPDATE inbox SET event_key = 'erased:' || id WHERE channel = ? AND json_extract(event, '$.user_id') = ?",
            [channel, platform_id],
        ).rowcount
