"""Facebook Messenger: webhook handshake, signature, events, Send API and Messenger Profile.

Protocol facts and sources: shared/platform-messenger.md (Part A).
"""

from __future__ import annotations

import hashlib
import hmac
import json
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
    shorten,
)
from bot.core.models import (
    DELIVERY,
    ECHO,
    ECHO_REF_PREFIX,
    POSTBACK,
    READ,
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

SIGNATURE_HEADER = "X-Hub-Signature-256"
GET_STARTED = "GET_STARTED"
MAX_QUICK_REPLIES = 13
QUICK_REPLY_TITLE_LIMIT = 20
BUTTON_TEXT_LIMIT = 640  # button template text
BUTTON_TITLE_LIMIT = 20
GREETING_LIMIT = 160
MENU_TITLE_LIMIT = 30
# Persistent menu: (title, postback payload).  The payloads are the bot's commands.
PERSISTENT_MENU = (
    ("Hỏi đáp", "MENU_FAQ"),
    ("Thi trắc nghiệm", "QUIZ_LIST"),
    ("Hái hoa dân chủ", "HAIHOA"),
    ("Dừng nhận tin", "DUNG"),
)

# Graph API error codes (messenger-platform/send-api-reference/errors).
_RETRY_CODES = {2, 4, 32, 613, 1200}  # temporary failure / rate limits: back off and retry
_OUTSIDE_WINDOW = {2018278, 2534022}  # code 10: outside the 24 h window
_THREAD_OWNED = 2018300  # code 10: another app controls the thread (handover)
_NO_USER_SUBCODE = 2018001  # code 100: "No matching user found"


class MessengerChannel(Channel):
    """Messenger Platform adapter for one Facebook Page."""

    name = "messenger"
    label = "Facebook Messenger"
    required_settings = ("MESSENGER_APP_SECRET", "MESSENGER_VERIFY_TOKEN", "MESSENGER_PAGE_ACCESS_TOKEN")

    @property
    def api_base(self) -> str:
        return str(self.config.get("MESSENGER_API_BASE", "")).rstrip("/")

    # -- inbound ---------------------------------------------------------------
    def handshake(self, args: Mapping[str, str]) -> str | None:
        """GET ?hub.mode=subscribe&hub.verify_token=..&hub.challenge=..: echo the challenge."""
        expected = str(self.config.get("MESSENGER_VERIFY_TOKEN") or "")
        token = args.get("hub.verify_token") or ""
        challenge = args.get("hub.challenge")
        if not expected or args.get("hub.mode") != "subscribe" or challenge is None:
            return None
        if not hmac.compare_digest(token.encode(), expected.encode()):
            return None
        return challenge

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Check ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>``.

        The HMAC is computed over the raw bytes as received: Meta escapes non-ASCII
        characters (``\\u1ea1``), so re-serialised JSON would never match.
        """
        secret = str(self.config.get("MESSENGER_APP_SECRET") or "")
        if not secret:
            raise SignatureError("MESSENGER_APP_SECRET is not set")
        algorithm, _, signature = (headers.get(SIGNATURE_HEADER) or "").strip().partition("=")
        if algorithm.lower() != "sha256" or not signature:
            raise SignatureError(f"missing or malformed {SIGNATURE_HEADER} header")
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature.strip().lower().encode(), expected.encode()):
            raise SignatureError(f"{SIGNATURE_HEADER} does not match the body")

    def parse(self, body: bytes) -> list[Event]:
        """Every ``entry[].messaging[]`` and ``entry[].standby[]`` item that we act on.

        A malformed item (wrong types: ``sender: "abc"``, ``attachments: 3``...) is logged and
        skipped; the rest of the batch is still processed, so one bad item never makes
        Facebook retry the whole batch forever.
        """
        data = self.load_object(body)
        if data.get("object") != "page":
            raise PayloadError("not a Page webhook (object != 'page')")
        events: list[Event] = []
        for entry in _list(data.get("entry"), "entry"):
            if not isinstance(entry, dict):
                logger.warning("messenger: entry item is a %s, skipped", type(entry).__name__)
                continue
            for key in ("messaging", "standby"):
                for item in _list(entry.get(key), key):
                    try:
                        if not isinstance(item, dict):
                            raise PayloadError(f"{key} item is a {type(item).__name__}")
                        event = self._parse_item(item)
                    except (PayloadError, TypeError, ValueError, AttributeError) as exc:
                        logger.warning("messenger: malformed %s item skipped: %s", key, exc)
                        continue
                    if event is None:
                        continue
                    event.extra["page_id"] = str(entry.get("id", ""))
                    if key == "standby":
                        # another app owns the thread (handover): record, do not answer
                        event.extra["standby"] = True
                    events.append(event)
        return events

    def _parse_item(self, item: dict[str, Any]) -> Event | None:
        sender = item.get("sender")
        if not isinstance(sender, dict):
            raise PayloadError(f"sender is a {type(sender).__name__}, not an object")
        # chat-plugin visitors arrive as user_ref, not id
        user_id = field_text(sender.get("id") or sender.get("user_ref"), "sender id")

        def event(kind: str, key: str, **fields: Any) -> Event:
            return Event(
                channel=self.name,
                kind=kind,
                user_id=user_id,
                event_key=key,
                timestamp=epoch_seconds(item.get("timestamp")),
                extra={"raw": item, **fields.pop("extra", {})},
                **fields,
            )

        message = item.get("message")
        if isinstance(message, dict):
            if message.get("is_echo"):
                return _echo(item, message)
            mid = field_text(message.get("mid"), "mid") or _item_hash(item)
            text = inbound_text(message.get("text"))
            quick_reply = message.get("quick_reply")
            if isinstance(quick_reply, dict):
                # text is the tapped title; the payload is what we put on the button
                payload = field_text(quick_reply.get("payload"), "payload") or None
                return event(TEXT, mid, text=text, payload=payload)
            if text:
                return event(TEXT, mid, text=text)
            attachments = _list(message.get("attachments"), "attachments", strict=True)
            types = [str(a.get("type")) for a in attachments if isinstance(a, dict)]
            return event(UNSUPPORTED, mid, extra={"attachments": types})
        postback = item.get("postback")
        if isinstance(postback, dict):
            extra = {"referral": postback["referral"]} if postback.get("referral") else {}
            key = field_text(postback.get("mid"), "mid") or "postback:" + _item_hash(item)
            payload = field_text(postback.get("payload"), "payload") or None
            return event(POSTBACK, key, text=inbound_text(postback.get("title")), payload=payload, extra=extra)
        delivery = item.get("delivery")
        if isinstance(delivery, dict):
            # mids may be absent: the watermark (ms) says "everything before this"
            mids = [field_text(m, "mid") for m in _list(delivery.get("mids"), "mids", strict=True)]
            extra = {"mids": mids, "watermark": delivery.get("watermark")}
            return event(DELIVERY, "delivery:" + _item_hash(item), extra=extra)
        read = item.get("read")
        if isinstance(read, dict):
            return event(READ, "read:" + _item_hash(item), extra={"watermark": read.get("watermark")})
        return None  # optins, reactions, handover notices...: not used

    # -- outbound --------------------------------------------------------------
    def tag_message(self, message: dict[str, Any], ref: int) -> dict[str, Any]:
        """The outbox row id in ``message.metadata``: the echo of the send carries it back, so a
        send whose answer was lost (timeout, crash) is recognised as sent and never repeated."""
        return {**message, "metadata": f"{ECHO_REF_PREFIX}{ref}"}

    def render(self, reply: Reply, *, group: bool = False) -> list[dict[str, Any]]:
        """Messages for ``reply``: [image], text parts, the link as a button template.

        Quick replies go on the last message (Messenger shows them only under the
        newest one).  More than 13 choices do not fit: they become a numbered list.
        """
        choices = reply.choices
        text = reply.text
        if len(choices) > MAX_QUICK_REPLIES:
            text, choices = numbered_text(text, choices), []
        messages: list[dict[str, Any]] = []
        if reply.image_url:
            messages.append(
                {"attachment": {"type": "image", "payload": {"url": reply.image_url, "is_reusable": True}}}
            )
        parts = self.split_parts(text)
        if reply.link:
            title, url = reply.link
            # the button template carries the last part when it fits in its 640 characters
            fits = bool(parts) and len(parts[-1]) <= BUTTON_TEXT_LIMIT
            button_text = parts.pop() if fits else shorten(title, BUTTON_TEXT_LIMIT)
            messages.extend({"text": part} for part in parts)
            button = {"type": "web_url", "title": shorten(title, BUTTON_TITLE_LIMIT), "url": url}
            messages.append(
                {
                    "attachment": {
                        "type": "template",
                        "payload": {"template_type": "button", "text": button_text, "buttons": [button]},
                    }
                }
            )
        else:
            messages.extend({"text": part} for part in parts)
        if choices:
            if not messages:
                messages.append({"text": "…"})  # quick replies need a message to sit under
            messages[-1]["quick_replies"] = [
                {"content_type": "text", "title": shorten(c.title, QUICK_REPLY_TITLE_LIMIT), "payload": c.payload}
                for c in choices
            ]
        return messages

    def send(
        self,
        recipient: str,
        message: dict[str, Any],
        *,
        group: bool = False,
        messaging_type: str = "RESPONSE",
    ) -> SendResult:
        """POST /me/messages; ``messaging_type`` RESPONSE (a reply), UPDATE (proactive) or
        ``MESSAGE_TAG:<TAG>`` (e.g. a staff reply after 24 h: MESSAGE_TAG with tag HUMAN_AGENT)."""
        body: dict[str, Any] = {"recipient": {"id": recipient}, "messaging_type": messaging_type, "message": message}
        if messaging_type.startswith("MESSAGE_TAG:"):
            body["messaging_type"], body["tag"] = "MESSAGE_TAG", messaging_type.split(":", 1)[1]
        data = self._call("/me/messages", body)
        return SendResult(str(data["message_id"]) if data.get("message_id") else None)

    def setup_profile(self) -> dict[str, Any]:
        """Set the Get Started button, the greeting and the persistent menu of the Page."""
        org = str(self.config.get("ORG_NAME") or "").strip()
        # {{user_first_name}} is filled in by Messenger
        greeting = (
            f"Chào {{{{user_first_name}}}}! {org} giải đáp về chủ quyền biên giới, biển đảo"
            " và mời chị em tham gia thi trắc nghiệm."
        )
        body = {
            "get_started": {"payload": GET_STARTED},
            "greeting": [{"locale": "default", "text": shorten(greeting, GREETING_LIMIT)}],
            "persistent_menu": [
                {
                    "locale": "default",
                    "composer_input_disabled": False,
                    "call_to_actions": [
                        {"type": "postback", "title": shorten(title, MENU_TITLE_LIMIT), "payload": payload}
                        for title, payload in PERSISTENT_MENU
                    ],
                }
            ],
        }
        return self._call("/me/messenger_profile", body)

    def _call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST to the Graph API with the Page token; raise a classified SendError on failure."""
        token = str(self.config.get("MESSENGER_PAGE_ACCESS_TOKEN") or "")
        response = self._post(self.api_base + path, params={"access_token": token}, json=body)
        try:
            data = self._json(response)
        except SendError as exc:
            exc.retry_after = _retry_after(response)
            raise
        error = data.get("error")
        if response.ok and not error:
            return data
        raise classify_error(response, error if isinstance(error, dict) else {})


def _echo(item: dict[str, Any], message: dict[str, Any]) -> Event | None:
    """``message.is_echo``: a message the Page sent (by us, or typed by staff in the Page
    inbox); the roles are swapped, so the member is the recipient."""
    recipient = item.get("recipient")
    if not isinstance(recipient, dict):
        raise PayloadError(f"recipient is a {type(recipient).__name__}, not an object")
    mid = field_text(message.get("mid"), "mid")
    metadata = field_text(message.get("metadata"), "metadata")
    if not mid and not metadata:
        return None
    return Event(
        channel="messenger",
        kind=ECHO,
        user_id=field_text(recipient.get("id") or recipient.get("user_ref"), "recipient id"),
        event_key="echo:" + (mid or _item_hash(item)),
        timestamp=epoch_seconds(item.get("timestamp")),
        extra={"raw": item, "mid": mid, "metadata": metadata[:100], "text": inbound_text(message.get("text"))},
    )


def classify_error(response: requests.Response, error: dict[str, Any]) -> SendError:
    """Turn a Graph API error envelope into a SendError the outbox can act on."""
    code = _int(error.get("code"))
    subcode = _int(error.get("error_subcode"))
    args: dict[str, Any] = {
        "code": str(code) if code is not None else f"http_{response.status_code}",
        "message": str(error.get("message") or f"HTTP {response.status_code}")[:300],
        "subcode": str(subcode) if subcode is not None else None,
    }
    if code == 10 and subcode in _OUTSIDE_WINDOW:
        return SendError(**args, reason="outside_window")
    if code == 10 and subcode == _THREAD_OWNED:
        return SendError(**args, reason="thread_owned_by_other_app")
    if code == 551:
        return SendError(**args, unreachable="blocked", reason="blocked")
    # 100 is also the generic "Invalid parameter": only its "No matching user" subcode means the PSID is dead
    if code == 33 or (code == 100 and subcode == _NO_USER_SUBCODE):
        return SendError(**args, unreachable="no_user", reason="invalid_user")
    if code == 190:
        return SendError(**args, auth=True, reason="token_invalid")
    if code in _RETRY_CODES or response.status_code >= 500 or response.status_code == 429:
        reason = "rate_limited" if code in {4, 32, 613} or response.status_code == 429 else "platform_error"
        return SendError(**args, retry=True, retry_after=_retry_after(response), reason=reason)
    return SendError(**args, reason="platform_error")


def _retry_after(response: requests.Response) -> float | None:
    """Seconds from a Retry-After header (the delta form; an HTTP date is ignored)."""
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _list(value: Any, name: str, *, strict: bool = False) -> list[Any]:
    """A JSON array field; absent is empty.  Another type: empty (logged), or PayloadError when ``strict``."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if strict:
        raise PayloadError(f"{name} is a {type(value).__name__}, not a list")
    logger.warning("messenger: %s is a %s, not a list: ignored", name, type(value).__name__)
    return []


def _item_hash(item: dict[str, Any]) -> str:
    """A stable key for items without a mid: a redelivery carries the same item."""
    canonical = json.dumps(item, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]
