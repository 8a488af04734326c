"""Local channels with no platform behind them: the web simulator and the terminal chat.

They go through the same dispatcher, inbox and outbox as the real platforms;
"sending" only marks the message sent, and the simulator page reads it back.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from bot.channels.base import Channel, numbered_text
from bot.core.models import Event, PayloadError, Reply, SendResult, SignatureError


class LocalChannel(Channel):
    """A channel whose messages stay in the database (simulator, console)."""

    def __init__(self, name: str, config: Mapping[str, Any], *, buttons: bool):
        super().__init__(config)
        self.name = name
        self.label = "Mô phỏng" if name == "simulator" else "Dòng lệnh"
        self.buttons = buttons

    @property
    def required_settings(self) -> tuple[str, ...]:
        return ()

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        raise SignatureError("local channels have no webhook")

    def parse(self, body: bytes) -> list[Event]:
        raise PayloadError("local channels have no webhook")

    def render(self, reply: Reply, *, group: bool = False) -> list[dict[str, Any]]:
        parts = self.split_parts(reply.text if self.buttons else numbered_text(reply.text, reply.choices))
        messages: list[dict[str, Any]] = [{"text": part} for part in parts] or [{"text": ""}]
        if self.buttons and reply.choices:
            messages[-1]["choices"] = [{"title": c.title, "payload": c.payload} for c in reply.choices]
        if reply.image_url:
            messages.append({"text": "", "image_url": reply.image_url})
        if reply.link:
            messages[-1]["link"] = {"title": reply.link[0], "url": reply.link[1]}
        return messages

    def send(self, recipient: str, message: dict[str, Any], *, group: bool = False, messaging_type: str = "RESPONSE") -> SendResult:
        return SendResult(f"{self.name}-{uuid.uuid4().hex[:12]}")
