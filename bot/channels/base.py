"""The channel contract and the rendering rules shared by all platforms.

A channel adapter takes raw bytes, headers and an API base URL, so it is tested
without Flask against a local fake platform server.  ``webhooks.py`` does the
Flask plumbing once for every channel.
"""

from __future__ import annotations

import json
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

import requests

from bot.core.models import Choice, Event, PayloadError, Reply, SendError, SendResult

logger = logging.getLogger(__name__)

TEXT_LIMIT = 2000  # Messenger, Zalo OA and Zalo Bot all cap a text message at 2,000 characters

_SENTENCE_END = re.compile(r"(?<=[.!?…:;])\s+|\n+")


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` characters, on sentence boundaries.

    A sentence longer than the limit is cut on spaces, and a word longer than the
    limit is cut hard, so no part is ever over the limit and no text is lost.
    """
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    pieces: list[str] = []
    pos = 0
    for m in _SENTENCE_END.finditer(text):
        pieces.append(text[pos : m.end()])
        pos = m.end()
    pieces.append(text[pos:])
    parts: list[str] = []
    current = ""
    for piece in pieces:
        if len(current) + len(piece) <= limit:
            current += piece
            continue
        if current.strip():
            parts.append(current.strip())
        current = ""
        while len(piece) > limit:
            cut = piece.rfind(" ", 0, limit)
            if cut <= 0:
                cut = limit
            parts.append(piece[:cut].strip())
            piece = piece[cut:]
        current = piece
    if current.strip():
        parts.append(current.strip())
    return parts


def numbered_text(text: str, choices: list[Choice]) -> str:
    """Choices as a numbered list, for channels without buttons (Zalo Bot, groups)."""
    if not choices:
        return text
    lines = [f"{i}. {c.title}" for i, c in enumerate(choices, 1)]
    hint = f"(Trả lời bằng số từ 1 đến {len(choices)})" if len(choices) > 1 else "(Trả lời 1)"
    return f"{text}\n\n" + "\n".join(lines) + f"\n{hint}"


def shorten(title: str, limit: int) -> str:
    """Cut a title to ``limit`` characters, marking the cut with an ellipsis."""
    title = title.strip()
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


class Channel(ABC):
    """One messaging platform: verify and parse inbound requests, render and send replies."""

    name: str = ""
    label: str = ""  # shown to staff
    text_limit = TEXT_LIMIT

    def __init__(self, config: Mapping[str, Any], session: requests.Session | None = None):
        self.config = config
        self.session = session or requests.Session()
        self.timeout = float(config.get("HTTP_TIMEOUT_SECONDS", 10))

    # -- configuration -------------------------------------------------------
    @property
    @abstractmethod
    def required_settings(self) -> tuple[str, ...]:
        """Settings that must be non-empty for the channel to be enabled."""

    @property
    def missing_settings(self) -> list[str]:
        return [name for name in self.required_settings if not self.config.get(name)]

    @property
    def enabled(self) -> bool:
        return not self.missing_settings

    # -- inbound ---------------------------------------------------------------
    def handshake(self, args: Mapping[str, str]) -> str | None:
        """Answer a GET verification handshake; None means refuse (403)."""
        return None

    def is_probe(self, body: bytes, headers: Mapping[str, str]) -> bool:
        """True for an unsigned console probe that must get 200 and nothing else."""
        return False

    @abstractmethod
    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Raise SignatureError unless the raw ``body`` is signed by the platform."""

    @abstractmethod
    def parse(self, body: bytes) -> list[Event]:
        """Parse a verified body into events; raise PayloadError if it is unreadable."""

    @staticmethod
    def load_object(body: bytes) -> dict[str, Any]:
        """The body as a JSON object, or PayloadError (the webhook answers 400)."""
        try:
            data = json.loads(body)
        except ValueError:
            raise PayloadError("body is not JSON") from None
        if not isinstance(data, dict):
            raise PayloadError("body is not a JSON object")
        return data

    # -- outbound --------------------------------------------------------------
    @abstractmethod
    def render(self, reply: Reply, *, group: bool = False) -> list[dict[str, Any]]:
        """Platform message bodies (without the recipient) for ``reply``, split to fit."""

    @abstractmethod
    def send(
        self,
        recipient: str,
        message: dict[str, Any],
        *,
        group: bool = False,
        messaging_type: str = "RESPONSE",
    ) -> SendResult:
        """Send one rendered message; return the platform message id or raise SendError."""

    def _post(self, url: str, **kwargs: Any) -> requests.Response:
        """POST with the channel's timeout; network failures become a retryable SendError."""
        try:
            return self.session.post(url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise SendError("network", type(exc).__name__, retry=True, reason="network") from None

    @staticmethod
    def _json(response: requests.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            if response.status_code >= 500 or response.status_code == 429:
                raise SendError(
                    f"http_{response.status_code}",
                    "non-JSON answer",
                    retry=True,
                    reason="platform_error",
                )
            raise SendError(f"http_{response.status_code}", "non-JSON answer", reason="platform_error")
        return data

    def split_parts(self, text: str) -> list[str]:
        return split_text(text, self.text_limit)
