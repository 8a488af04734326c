"""The channel contract and the rendering rules shared by all platforms.

A channel adapter takes raw bytes, headers and an API base URL, so it is tested
without Flask against a local fake platform server.  ``webhooks.py`` does the
Flask plumbing once for every channel.
"""

from __future__ import annotations

import json
import logging
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from bot.core.models import Choice, Event, PayloadError, Reply, SendError, SendResult
from bot.core.text import scrub_surrogates

logger = logging.getLogger(__name__)

TEXT_LIMIT = 2000  # Messenger, Zalo OA and Zalo Bot all cap a text message at 2,000 characters
MAX_JSON_DEPTH = 32  # real payloads nest 6 levels deep; deeper bodies are refused before any recursion


def _no_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name}")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses as inf
        raise ValueError(f"non-finite number {text[:20]}")
    return value


def _clean(value: Any, depth: int = 0) -> Any:
    """Lone surrogates replaced in every string and key; PayloadError past MAX_JSON_DEPTH."""
    if isinstance(value, str):
        return scrub_surrogates(value)
    if depth >= MAX_JSON_DEPTH and isinstance(value, (dict, list)):
        raise PayloadError(f"body nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, dict):
        return {scrub_surrogates(k): _clean(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v, depth + 1) for v in value]
    return value


def load_json(body: bytes | str) -> Any:
    """Strict JSON: no NaN/Infinity (SQLite's json functions fail on them), bounded nesting, no lone surrogates.

    Raises PayloadError for anything else, so a webhook answers 400, never 500.
    """
    try:
        data = json.loads(body, parse_constant=_no_constant, parse_float=_finite_float)
    except RecursionError:
        raise PayloadError("body nested too deeply") from None
    except ValueError as exc:  # also UnicodeDecodeError and over-long integers
        raise PayloadError(f"body is not strict JSON: {str(exc)[:100]}") from None
    return _clean(data)


def inbound_text(value: Any) -> str:
    """A member's text as sent, capped at the platforms' TEXT_LIMIT; PayloadError unless a string (or absent)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PayloadError(f"text is a {type(value).__name__}, not a string")
    return value[:TEXT_LIMIT]


def field_text(value: Any, name: str) -> str:
    """An id, payload or name field: a string or number as text ("" when absent); PayloadError for objects and lists."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise PayloadError(f"{name} is a {type(value).__name__}")
    return str(value)


def epoch_seconds(value: Any, *, millis: bool = True) -> float:
    """A platform timestamp (epoch ms by default) as seconds; 0.0 when missing, malformed or not finite."""
    if isinstance(value, bool):
        return 0.0
    try:
        seconds = float(value) / (1000 if millis else 1)
    except (TypeError, ValueError, OverflowError):
        return 0.0
    return seconds if math.isfinite(seconds) and seconds > 0 else 0.0


def screen_events(events: list[Event], *, now: float) -> list[Event]:
    """Last checks before an event is stored: a sender id is required, and the platform's
    time may not be later than the receive time (a date 10 years ahead would keep a member
    "in window" forever)."""
    kept = []
    for event in events:
        if not isinstance(event.user_id, str) or not event.user_id.strip():
            logger.warning("event without a sender id skipped channel=%s kind=%s", event.channel, event.kind)
            continue
        if not event.timestamp or event.timestamp > now:
            event.timestamp = now
        kept.append(event)
    return kept

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


def request_not_sent(exc: requests.RequestException) -> bool:
    """True when the request certainly never reached the platform."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, (requests.Timeout, requests.exceptions.ChunkedEncodingError)):
        return False  # a read timeout: sent, the answer did not come
    if isinstance(exc, requests.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return isinstance(reason, (NewConnectionError, ConnectTimeoutError))
    return True  # invalid URL, schema...: nothing was sent


class HttpSession(requests.Session):
    """A requests session that reads the environment's proxy and CA-bundle settings once per
    host instead of at every call.

    requests scans the whole environment (``getproxies``, ``no_proxy``) on each request: on a
    send that was a third of the sender's CPU.  The environment of a running app does not
    change, and a session lives with its channel (one app instance)."""

    def __init__(self) -> None:
        super().__init__()
        self._environment: dict[tuple[Any, ...], dict[str, Any]] = {}

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> dict[str, Any]:
        if proxies or not self.trust_env:  # explicit proxies: as requests does it
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, stream, verify, cert)
        settings = self._environment.get(key)
        if settings is None:
            settings = self._environment[key] = super().merge_environment_settings(url, {}, stream, verify, cert)
        return {**settings, "proxies": dict(settings["proxies"])}


class Channel(ABC):
    """One messaging platform: verify and parse inbound requests, render and send replies."""

    name: str = ""
    label: str = ""  # shown to staff
    text_limit = TEXT_LIMIT

    def __init__(self, config: Mapping[str, Any], session: requests.Session | None = None):
        self.config = config
        self.session = session or HttpSession()
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
        """The body as a strict JSON object (see load_json), or PayloadError (the webhook answers 400)."""
        data = load_json(body)
        if not isinstance(data, dict):
            raise PayloadError("body is not a JSON object")
        return data

    # -- outbound --------------------------------------------------------------
    @abstractmethod
    def render(self, reply: Reply, *, group: bool = False) -> list[dict[str, Any]]:
        """Platform message bodies (without the recipient) for ``reply``, split to fit."""

    def tag_message(self, message: dict[str, Any], ref: int) -> dict[str, Any]:
        """``message`` carrying the outbox row id ``ref`` where the platform echoes such a field back
        (Messenger's metadata); unchanged elsewhere."""
        return message

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
        """POST with the channel's timeout.

        A failure before the request left (connection refused, DNS, connect timeout) is
        a retryable SendError; a failure after it was sent (read timeout, connection
        dropped while waiting for the answer) is ``uncertain``: the platform may have
        delivered it, so it is not retried blindly.
        """
        try:
            return self.session.post(url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            if request_not_sent(exc):
                raise SendError("network", type(exc).__name__, retry=True, reason="network") from None
            raise SendError("network", type(exc).__name__, uncertain=True, reason="timeout_after_send") from None

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
