"""Zalo Official Account (OA Open API v3): webhook signature, events, buttons, sends.

Protocol facts and sources: shared/platform-zalo.md §1-§4.

Button taps: a choice is rendered as an ``oa.query.hide`` button whose payload is
``"#" + choice.payload``.  Zalo delivers the tap as an ordinary ``user_send_text``
whose text is that payload, so a text starting with "#" is read as a payload
(``event.payload`` keeps the "#"; the dispatcher strips it).  The webhook's "Lọc cú
pháp" (syntax filter) must be off, or only "#" messages would be delivered.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from typing import Any

import requests

from bot.channels.base import (
    Channel,
    epoch_seconds,
    field_text,
    inbound_text,
    numbered_text,
    shorten,
)
from bot.channels.zalo_tokens import TokenError, ZaloTokenManager
from bot.core.models import (
    DELIVERY,
    ECHO,
    FOLLOW,
    READ,
    SUBMIT_INFO,
    TEXT,
    UNFOLLOW,
    UNSUPPORTED,
    Event,
    PayloadError,
    Reply,
    SendError,
    SendResult,
    SignatureError,
)
from bot.core.text import fold, nfc

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-ZEvent-Signature"
TIMESTAMP_HEADER = "X-ZEvent-Timestamp"
MAX_BUTTONS = 5
BUTTON_TITLE_LIMIT = 35
PAYLOAD_PREFIX = "#"  # marks a button tap coming back as text

CS_PATH = "/v3.0/oa/message/cs"
PROMOTION_PATH = "/v3.0/oa/message/promotion"
GROUP_PATH = "/v3.0/oa/group/message"

USER_MEDIA_EVENTS = {
    "user_send_image",
    "user_send_link",
    "user_send_sticker",
    "user_send_gif",
    "user_send_audio",
    "user_send_video",
    "user_send_file",
    "user_send_location",
    "user_send_business_card",
}
# Echoes of one-to-one messages the OA sent (by us or by staff in the OA chat); the roles are
# swapped: sender = OA, recipient = member.  Group (oa_send_group_*) echoes are not used.
OA_ECHO_EVENTS = {
    "oa_send_text", "oa_send_image", "oa_send_list", "oa_send_gif", "oa_send_file", "oa_send_sticker", "oa_send_template",
}
GROUP_TRIGGERS = ("?", "/hoi")  # compared folded: "/hỏi", "/HỎI", "/hoi"

# Error codes of the OA API (docs/OA/phu-luc/ma-loi).
AUTH_CODES = {-216, -220}  # access token invalid / expired: refresh once and resend
_REASONS = {
    -230: "outside_window",  # no interaction in 7 days
    -232: "outside_window",  # last interaction expired
    -211: "out_of_quota",
    -218: "out_of_quota",  # the recipient's receive quota is full
    -320: "paid_window_unavailable",  # 48 h-7 d sends need a Zalo Cloud Account...
    -321: "paid_window_unavailable",  # ...with money on it
    -244: "user_refused",
    -224: "no_service_package",
}


class ZaloOAChannel(Channel):
    """Zalo OA adapter: one-to-one chats and OA-owned (GMF) groups."""

    name = "zalo"
    label = "Zalo OA"

    def __init__(
        self, config: Mapping[str, Any], session: requests.Session | None = None, *, tokens: ZaloTokenManager
    ):
        super().__init__(config, session)
        self.tokens = tokens

    @property
    def required_settings(self) -> tuple[str, ...]:
        """App id + app secret, and the OA secret key unless the app secret signs the webhook.

        Tokens are not a setting: they may already be in the database (see ``health``).
        """
        names = ("ZALO_APP_ID", "ZALO_APP_SECRET")
        return names if self._uses_app_secret else (*names, "ZALO_OA_SECRET_KEY")

    @property
    def _uses_app_secret(self) -> bool:
        return self.config.get("ZALO_SIGNATURE_KEY") == "app_secret"

    @property
    def api_base(self) -> str:
        return str(self.config.get("ZALO_API_BASE", "")).rstrip("/")

    def health(self) -> dict[str, Any]:
        """Token state for /healthz: "alert" when there are no tokens or the refresh failed."""
        status = self.tokens.status()
        info: dict[str, Any] = {
            "token_expires_in_seconds": status["expires_in_seconds"],
            "token_age_seconds": status["age_seconds"],
        }
        if status["state"] == "alert":
            return {"state": "alert", "detail": status["detail"], **info}
        if not (status["has_access_token"] or status["has_refresh_token"]):
            detail = "Zalo OA: chưa có token, cần cấp quyền / no tokens: authorise the OA (flask zalo consent-url)"
            return {"state": "alert", "detail": detail, **info}
        return {"state": "ok", **info}

    # -- inbound ---------------------------------------------------------------
    def is_probe(self, body: bytes, headers: Mapping[str, str]) -> bool:
        """The console's "Kiểm tra" test: an unsigned POST of ``{}`` that must get 200 (never parsed)."""
        return not headers.get(SIGNATURE_HEADER) and _EMPTY_OBJECT.fullmatch(body) is not None

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        """``X-ZEvent-Signature: mac=<hex sha256(app_id + raw body + timestamp + key)>``.

        A plain SHA-256 of the concatenation, not an HMAC.  The body goes in exactly as
        received (never re-serialised); the timestamp is the body's ``timestamp`` field,
        or the X-ZEvent-Timestamp header.  The body is not parsed before it is verified:
        the candidate timestamps are read from the raw bytes.
        """
        key_name = "ZALO_APP_SECRET" if self._uses_app_secret else "ZALO_OA_SECRET_KEY"
        key = str(self.config.get(key_name) or "")
        app_id = str(self.config.get("ZALO_APP_ID") or "")
        if not key or not app_id:
            raise SignatureError(f"ZALO_APP_ID or {key_name} is not set")
        header = (headers.get(SIGNATURE_HEADER) or "").strip()
        mac = header[4:].strip() if header.lower().startswith("mac=") else ""
        if not mac:
            raise SignatureError(f"missing or malformed {SIGNATURE_HEADER} header")
        candidates = _body_timestamps(body) + [(headers.get(TIMESTAMP_HEADER) or "").strip()]
        given = mac.lower().encode()
        for timestamp in dict.fromkeys(candidates):
            # over the raw bytes: the same as over the UTF-8 text, and a body that is not UTF-8 is
            # still verified (then refused as unreadable, 400) instead of failing here
            expected = hashlib.sha256(app_id.encode() + body + f"{timestamp}{key}".encode()).hexdigest()
            if hmac.compare_digest(given, expected.encode()):
                return
        raise SignatureError(f"{SIGNATURE_HEADER} does not match the body")

    def parse(self, body: bytes) -> list[Event]:
        """One webhook POST carries one event; a malformed one is logged and skipped."""
        data = self.load_object(body)
        try:
            event = self._parse_event(data)
        except (PayloadError, TypeError, ValueError, AttributeError) as exc:
            logger.warning("zalo: malformed event skipped: %s", exc)
            return []
        return [event] if event is not None else []

    def _parse_event(self, data: dict[str, Any]) -> Event | None:
        name = str(data.get("event_name") or "")
        sender = _id(data.get("sender"))
        recipient = _id(data.get("recipient"))
        message = data.get("message") if isinstance(data.get("message"), dict) else {}
        msg_id = field_text(message.get("msg_id"), "msg_id")
        ts = field_text(data.get("timestamp"), "timestamp")

        def event(kind: str, user_id: str, key: str = "", **fields: Any) -> Event:
            # msg_id where there is one; else name + ids + timestamp, the same on a redelivery
            key = key or msg_id or f"{name}:{user_id}:{ts}"
            extra = {"raw": data, "event_name": name, **fields.pop("extra", {})}
            return Event(self.name, kind, user_id, key, timestamp=epoch_seconds(ts), extra=extra, **fields)

        if name == "user_send_text":
            text = inbound_text(message.get("text"))
            payload = text.strip() if text.strip().startswith(PAYLOAD_PREFIX) else None
            return event(TEXT, sender, text=text, payload=payload, extra=_quote(message))
        if name in USER_MEDIA_EVENTS:
            return event(UNSUPPORTED, sender)
        if name in ("follow", "unfollow"):
            follower = _id(data.get("follower")) or sender
            return event(FOLLOW if name == "follow" else UNFOLLOW, follower)
        if name == "user_submit_info":
            info = data.get("info") if isinstance(data.get("info"), dict) else {}
            fields = {"name": field_text(info.get("name"), "name")[:200], "phone": field_text(info.get("phone"), "phone")[:50]}
            return event(SUBMIT_INFO, sender, extra=fields)
        if name == "user_send_group_text":
            text, addressed = self._group_text(inbound_text(message.get("text")))
            return event(TEXT, sender, text=text, group_id=recipient, addressed=addressed, extra=_quote(message))
        if name.startswith("user_send_group_"):
            # images, stickers... in a group: never answered ("I read text only" would be noise)
            return event(UNSUPPORTED, sender, group_id=recipient, addressed=False)
        if name in ("user_seen_message", "user_received_message"):
            # receipts of OA messages: the roles are the OA's (sender = OA, recipient = member)
            msg_ids = message.get("msg_ids")
            if msg_ids is not None and not isinstance(msg_ids, list):
                raise PayloadError(f"msg_ids is a {type(msg_ids).__name__}, not a list")
            mids = [field_text(m, "msg_id") for m in msg_ids or ([msg_id] if msg_id else [])]
            kind = READ if name == "user_seen_message" else DELIVERY
            # the key is the receipt's own: the message's msg_id would collide with its other receipt
            key = f"{name}:{recipient}:{','.join(mids)}:{ts}"
            return event(kind, recipient, key, extra={"mids": mids})
        if name in OA_ECHO_EVENTS:
            # no field we set comes back: matched by msg_id, else recipient + text + time (best effort)
            extra = {"mid": msg_id, "text": inbound_text(message.get("text"))}
            return event(ECHO, recipient, f"echo:{msg_id or name + ':' + recipient + ':' + ts}", extra=extra)
        return None  # group echoes, group lifecycle, unknown events

    def _group_text(self, text: str) -> tuple[str, bool]:
        """(text without the trigger, addressed): "?...", "/hỏi ..." or a mention of the OA."""
        text = nfc(text).strip()
        oa_id = str(self.config.get("ZALO_OA_ID") or "")
        addressed = False
        if oa_id and f"@{oa_id}" in text:
            addressed = True
            text = text.replace(f"[@{oa_id}]", " ").replace(f"@{oa_id}", " ").strip()
        folded = fold(text)
        for trigger in GROUP_TRIGGERS:
            rest = folded[len(trigger) :]
            if folded.startswith(trigger) and (trigger == "?" or not rest or rest[0].isspace()):
                # fold keeps one character per NFC character, so the cut lines up
                return " ".join(text[len(trigger) :].split()), True
        return " ".join(text.split()), addressed

    # -- outbound --------------------------------------------------------------
    def render(self, reply: Reply, *, group: bool = False) -> list[dict[str, Any]]:
        """Messages for ``reply``: [image], text parts; buttons on the last part.

        One-to-one: up to 5 buttons (choices as ``oa.query.hide``, the link as
        ``oa.open.url``); with more, the choices become a numbered list.  Groups take
        no templates: numbered choices, the link and the image URL as text lines.
        """
        text, choices = reply.text, list(reply.choices)
        link_button = reply.link is not None and not group
        if group or len(choices) + link_button > MAX_BUTTONS:
            text, choices = numbered_text(text, choices), []
        if group and reply.link:
            text += f"\n\n{reply.link[0]}: {reply.link[1]}"
        if group and reply.image_url:
            text += f"\n\n{reply.image_url}"
        messages: list[dict[str, Any]] = []
        if reply.image_url and not group:
            element = {"media_type": "image", "url": reply.image_url}
            messages.append(
                {"attachment": {"type": "template", "payload": {"template_type": "media", "elements": [element]}}}
            )
        parts = self.split_parts(text)
        messages.extend({"text": part} for part in parts)
        buttons: list[dict[str, Any]] = [
            {"title": shorten(c.title, BUTTON_TITLE_LIMIT), "type": "oa.query.hide", "payload": PAYLOAD_PREFIX + c.payload}
            for c in choices
        ]
        if link_button and reply.link:
            title, url = reply.link
            buttons.append({"title": shorten(title, BUTTON_TITLE_LIMIT), "type": "oa.open.url", "payload": {"url": url}})
        if buttons:
            if not parts:
                messages.append({"text": "…"})  # buttons need a text to sit under
            messages[-1]["attachment"] = {"type": "template", "payload": {"buttons": buttons}}
        return messages

    def send(
        self,
        recipient: str,
        message: dict[str, Any],
        *,
        group: bool = False,
        messaging_type: str = "RESPONSE",
    ) -> SendResult:
        """Send one message: cs (a reply), promotion (``messaging_type="promotion"``) or to a group.

        An invalid or expired access token (-216/-220) is refreshed once and the send
        retried once with the new token.
        """
        if group:
            path, to = GROUP_PATH, {"group_id": recipient}
        else:
            path = PROMOTION_PATH if messaging_type.lower() == "promotion" else CS_PATH
            to = {"user_id": recipient}
        body = {"recipient": to, "message": message}
        token = self._access_token(None)
        response, data = self._call(path, body, token)
        if _error_code(data) in AUTH_CODES:
            logger.info("zalo access token rejected (%s); refreshing once", data.get("error"))
            response, data = self._call(path, body, self._access_token(token))
            if _error_code(data) in AUTH_CODES:
                raise _send_error(response, data, auth=True, reason="token_invalid")
        if response.ok and _error_code(data) == 0:
            result = data.get("data") if isinstance(data.get("data"), dict) else {}
            return SendResult(str(result["message_id"]) if result.get("message_id") else None)
        raise classify_error(response, data)

    def _access_token(self, stale: str | None) -> str:
        """The current token, or a refreshed one replacing ``stale``; SendError if there is none."""
        try:
            return self.tokens.refresh(stale_token=stale) if stale else self.tokens.access_token()
        except TokenError as exc:
            if exc.retry:
                raise SendError("token", str(exc), retry=True, reason="network") from None
            raise SendError("token", str(exc), auth=True, reason="token_invalid") from None

    def _call(self, path: str, body: dict[str, Any], token: str) -> tuple[requests.Response, dict[str, Any]]:
        response = self._post(self.api_base + path, json=body, headers={"access_token": token})
        return response, self._json(response)


def classify_error(response: requests.Response, data: dict[str, Any]) -> SendError:
    """Turn a Zalo ``{"error": <negative code>, "message": ...}`` answer into a SendError."""
    code = _error_code(data)
    if code == -32 or response.status_code >= 500 or response.status_code == 429:
        return _send_error(response, data, retry=True, reason="rate_limited" if code == -32 else "platform_error")
    if code in AUTH_CODES:
        return _send_error(response, data, auth=True, reason="token_invalid")
    if code == -213:
        return _send_error(response, data, unreachable="unfollowed", reason="unfollowed")
    if code == -227:
        return _send_error(response, data, unreachable="blocked", reason="blocked")
    return _send_error(response, data, reason=_REASONS.get(code or 0, "platform_error"))


def _send_error(response: requests.Response, data: dict[str, Any], **kwargs: Any) -> SendError:
    code = _error_code(data)
    message = str(data.get("message") or f"HTTP {response.status_code}")[:300]
    return SendError(str(code) if code is not None else f"http_{response.status_code}", message, **kwargs)


def _error_code(data: dict[str, Any]) -> int | None:
    try:
        return int(data.get("error"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


_EMPTY_OBJECT = re.compile(rb"\s*\{\s*\}\s*")
# "timestamp": "1699003881354" or "timestamp": 1699003881354, read from the raw bytes (no parsing)
_TIMESTAMP_FIELD = re.compile(rb'"timestamp"\s*:\s*(?:"([^"\\]{0,64})"|(-?\d{1,64}))')


def _body_timestamps(body: bytes) -> list[str]:
    """The ``timestamp`` values written in the body (Zalo sends a string of ms), as written, at most four."""
    found = []
    for match in _TIMESTAMP_FIELD.finditer(body):
        found.append((match.group(1) if match.group(1) is not None else match.group(2)).decode("utf-8", "replace"))
        if len(found) == 4:
            break
    return found


def _id(obj: Any) -> str:
    return field_text(obj.get("id"), "id") if isinstance(obj, dict) else ""


def _quote(message: dict[str, Any]) -> dict[str, Any]:
    """The quoted message id, so the dispatcher can tell a reply to the bot."""
    quoted = message.get("quote_msg_id")
    return {"reply_to": str(quoted)} if quoted else {}
