"""Zalo Bot Platform (Telegram-like Bot API): secret-header webhook, text only.

Protocol facts and sources: shared/platform-zalo.md §5.

The bot token is part of every API URL (``/bot<TOKEN>/sendMessage``), so it must
never reach a log line or an exception message: network errors become a SendError
naming only the exception type (Channel._post), error descriptions are scrubbed,
and urllib3's DEBUG request lines are redacted by a logging filter.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from typing import Any

import requests

from bot.channels.base import (
    Channel,
    epoch_seconds,
    field_text,
    inbound_text,
    numbered_text,
)
from bot.core.models import (
    TEXT,
    UNSUPPORTED,
    Event,
    PayloadError,
    Reply,
    SendError,
    SendResult,
    SignatureError,
)

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Bot-Api-Secret-Token"
REDACTED = "<bot-token>"
UNSUPPORTED_EVENTS = {"message.image.received", "message.sticker.received", "message.voice.received"}


class _RedactTokens(logging.Filter):
    """Replace known bot tokens in log records (urllib3 logs request URLs at DEBUG)."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens: frozenset[str] = frozenset()

    def add(self, token: str) -> None:
        self.tokens = self.tokens | {token}  # swapped whole: safe for threads that are logging

    def filter(self, record: logging.LogRecord) -> bool:
        tokens = self.tokens
        if tokens:
            message = record.getMessage()
            if any(token in message for token in tokens):
                for token in tokens:
                    message = message.replace(token, REDACTED)
                record.msg, record.args = message, ()
        return True


_REDACT = _RedactTokens()
# a logger's filters do not apply to its children: attach to each logger that prints URLs
for _name in ("urllib3.connectionpool", "urllib3.poolmanager", "urllib3.util.retry"):
    logging.getLogger(_name).addFilter(_REDACT)


class ZaloBotChannel(Channel):
    """Zalo Bot adapter: private chats, and groups where the bot is mentioned or replied to."""

    name = "zalo_bot"
    label = "Zalo Bot"
    required_settings = ("ZALO_BOT_TOKEN", "ZALO_BOT_SECRET_TOKEN")

    def __init__(self, config: Mapping[str, Any], session: requests.Session | None = None):
        super().__init__(config, session)
        self.bot_name = ""  # learnt from get_me(); used to strip "@<bot name>" in groups
        if self._token:
            _REDACT.add(self._token)

    @property
    def _token(self) -> str:
        return str(self.config.get("ZALO_BOT_TOKEN") or "")

    # -- inbound ---------------------------------------------------------------
    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        """``X-Bot-Api-Secret-Token`` must equal ZALO_BOT_SECRET_TOKEN (there is no body signature)."""
        secret = str(self.config.get("ZALO_BOT_SECRET_TOKEN") or "")
        if not secret:
            raise SignatureError("ZALO_BOT_SECRET_TOKEN is not set")
        given = headers.get(SECRET_HEADER) or ""
        if not hmac.compare_digest(given.encode(), secret.encode()):
            raise SignatureError(f"{SECRET_HEADER} does not match")

    def parse(self, body: bytes) -> list[Event]:
        """Accept the documented ``{"ok": true, "result": {...}}`` and the flat form seen in practice.

        A malformed event (wrong types) is logged and skipped.
        """
        data = self.load_object(body)
        if isinstance(data.get("result"), dict):
            data = data["result"]
        try:
            return self._parse_event(data)
        except (PayloadError, TypeError, ValueError, AttributeError) as exc:
            logger.warning("zalo_bot: malformed event skipped: %s", exc)
            return []

    def _parse_event(self, data: dict[str, Any]) -> list[Event]:
        name = str(data.get("event_name") or "")
        message = data.get("message")
        if not isinstance(message, dict):
            return []
        if name == "message.text.received":
            kind, extra = TEXT, {}
        elif name in UNSUPPORTED_EVENTS:
            kind, extra = UNSUPPORTED, {}
        elif name == "message.unsupported.received":
            # Zalo withholds the content of some members (children, people with disabilities...)
            kind, extra = UNSUPPORTED, {"restricted": True}
        else:
            return []
        chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
        sender = message.get("from") if isinstance(message.get("from"), dict) else {}
        chat_id = field_text(chat.get("id"), "chat id")
        in_group = field_text(chat.get("chat_type"), "chat_type").upper() == "GROUP"
        text = inbound_text(message.get("text"))
        if in_group:
            text = self._strip_mention(text)
        date = message.get("date")
        key = field_text(message.get("message_id"), "message_id") or f"{name}:{chat_id}:{field_text(date, 'date')}"
        return [
            Event(
                channel=self.name,
                kind=kind,
                user_id=field_text(sender.get("id"), "sender id") or chat_id,
                event_key=key,
                timestamp=epoch_seconds(date),
                text=text,
                group_id=chat_id if in_group else None,
                addressed=True,  # in groups the bot only receives mentions of it and replies to it
                display_name=field_text(sender.get("display_name"), "display_name")[:200],
                extra={"raw": data, "event_name": name, "chat_id": chat_id, **extra},
            )
        ]

    def _strip_mention(self, text: str) -> str:
        """Drop a leading "@<bot name>" (or, with the name unknown, the first "@word")."""
        stripped = text.lstrip()
        if not stripped.startswith("@"):
            return text.strip()
        rest = stripped[1:]
        if self.bot_name and rest.lower().startswith(self.bot_name.lower()):
            return rest[len(self.bot_name) :].strip()
        _, _, after = rest.partition(" ")
        return after.strip()

    # -- outbound --------------------------------------------------------------
    def render(self, reply: Reply, *, group: bool = False) -> list[dict[str, Any]]:
        """Text only: choices as a numbered list, the link and the image as URL lines."""
        text = numbered_text(reply.text, reply.choices)
        if reply.link:
            text += f"\n\n{reply.link[0]}: {reply.link[1]}"
        if reply.image_url:
            text += f"\n\n{reply.image_url}"
        return [{"text": part} for part in self.split_parts(text)]

    def send(
        self,
        recipient: str,
        message: dict[str, Any],
        *,
        group: bool = False,
        messaging_type: str = "RESPONSE",
    ) -> SendResult:
        """sendMessage to a chat id (a member's, or a group's)."""
        result = self._api("sendMessage", {"chat_id": recipient, "text": message.get("text", "")})
        return SendResult(str(result["message_id"]) if result.get("message_id") else None)

    def set_webhook(self, url: str) -> dict[str, Any]:
        """Point the bot at our webhook, with the secret Zalo will send back in the header."""
        return self._api("setWebhook", {"url": url, "secret_token": self.config.get("ZALO_BOT_SECRET_TOKEN", "")})

    def get_me(self) -> dict[str, Any]:
        """The bot's own account (id, account_name...); remembers its name for mentions."""
        me = self._api("getMe", {})
        self.bot_name = str(me.get("display_name") or me.get("account_name") or self.bot_name)
        return me

    def _api(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        base = str(self.config.get("ZALO_BOT_API_BASE", "")).rstrip("/")
        response = self._post(f"{base}/bot{self._token}/{method}", json=body)
        data = self._json(response)
        if response.ok and data.get("ok") is True:
            result = data.get("result")
            return result if isinstance(result, dict) else {}
        raise classify_error(response, data, self._token)


def classify_error(response: requests.Response, data: dict[str, Any], token: str = "") -> SendError:
    """``{"ok": false, "error_code": 429, "description": "..."}`` -> SendError."""
    try:
        code = int(data.get("error_code") or response.status_code)
    except (TypeError, ValueError):
        code = response.status_code
    message = str(data.get("description") or f"HTTP {response.status_code}")[:300]
    if token:
        message = message.replace(token, REDACTED)
    if code == 429:
        return SendError(str(code), message, retry=True, reason="rate_limited")
    if code >= 500:
        return SendError(str(code), message, retry=True, reason="platform_error")
    if code == 401:
        return SendError(str(code), message, auth=True, reason="token_invalid")
    if code == 403:
        return SendError(str(code), message, unreachable="blocked", reason="blocked")
    return SendError(str(code), message, reason="platform_error")
