"""The website chat: a public page /chat, an embeddable script and their JSON API.

``POST /chat/api/send`` ``{"text": …}`` (or ``{"payload": …}`` for a tapped choice)
returns the replies produced for that message; ``GET /chat/api/messages?after=N``
returns later ones.  Messages go through the same inbox, dispatcher and outbox as
the platforms, on the channel "web" (a real channel, counted in reports).

A visitor is an anonymous random id, signed with the app's key.  The /chat page
keeps it in a cookie; the script embedded on the union's website (another origin,
where third-party cookies are often blocked) keeps the same signed token in its
own storage and sends it in the ``X-Chat-Visitor`` header.  Nothing else about the
visitor is stored: the rate limits keep the visitor id and a keyed hash of the address
for one minute, in the database (so they hold across processes).  Personal
data is stored only if the visitor registers (the same consent flow as elsewhere).

Cross-origin requests are answered only for the origins in CHAT_ALLOWED_ORIGINS.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    render_template,
    request,
    send_from_directory,
)
from itsdangerous import BadSignature, URLSafeSerializer

from bot.core import models
from bot.pipeline.inbox import ingest
from bot.pipeline.outbox import drain
from bot.web.context import get_services, get_store

bp = Blueprint("chat", __name__, url_prefix="/chat")

CHANNEL = "web"
TEXT_CAP = 2000
WAIT_SECONDS = 5.0
COOKIE = "chat_visitor"
HEADER = "X-Chat-Visitor"
COOKIE_MAX_AGE = 180 * 24 * 3600
PAYLOAD_RE = re.compile(r"^[A-Za-z0-9_:.\-]{1,200}$")
VISITOR_RE = re.compile(r"^w[0-9a-f]{24}$")

MESSAGES = {
    "disabled": "Khung trò chuyện đang tạm đóng.",
    "origin": "Trang web này không được phép dùng khung trò chuyện.",
    "empty": "Tin nhắn trống.",
    "too_long": f"Tin nhắn dài quá {TEXT_CAP:,} ký tự, vui lòng rút gọn.".replace(",", "."),
    "bad_payload": "Lựa chọn không hợp lệ.",
    "bad_after": "Tham số after không hợp lệ.",
    "visitor_limit": "Bạn gửi tin nhanh quá. Vui lòng chờ khoảng {seconds} giây rồi gửi tiếp.",
    "address_limit": "Có quá nhiều tin nhắn từ mạng của bạn. Vui lòng chờ khoảng {seconds} giây rồi gửi tiếp.",
}

# The chat page and the API: scripts, styles and requests from this server only; framing only by the union's site.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
)


RATE_WINDOW = 60.0  # seconds: the limits are messages per minute


def _rate_wait(store: Any, key: str, rate: float, now: float) -> float:
    """Count one message for ``key`` in the shared store (every process sees it); 0 if allowed,
    else the seconds to wait.  A rate of 0 or less turns the limit off."""
    if rate <= 0:
        return 0.0
    return store.rate_hit(key, limit=max(1, int(rate)), window=RATE_WINDOW, now=now)


def _address_key() -> str:
    """The client address as a keyed hash: the database never holds the address itself."""
    secret = str(current_app.config.get("SECRET_KEY") or "").encode()
    digest = hmac.new(secret, _client_address().encode(), hashlib.sha256).hexdigest()[:32]
    return "chat-address:" + digest


def _error(key: str, status: int, **fields: Any) -> Response:
    response = jsonify({"error": MESSAGES[key].format(**fields)})
    response.status_code = status
    return response


# -- origins and headers --------------------------------------------------------
def _own_origin() -> str:
    return request.host_url.rstrip("/").lower()


def _origin_allowed(origin: str) -> bool:
    origin = origin.rstrip("/").lower()
    return origin == _own_origin() or origin in current_app.config.get("CHAT_ALLOWED_ORIGINS", [])


@bp.before_request
def _guard() -> Response | None:
    if not current_app.config.get("CHAT_ENABLED", True):
        return _error("disabled", 404)
    origin = request.headers.get("Origin")
    if request.method == "OPTIONS":
        return Response(status=204 if origin and _origin_allowed(origin) else 403)
    if origin and request.path.startswith("/chat/api/") and not _origin_allowed(origin):
        return _error("origin", 403)
    return None


@bp.after_request
def _headers(response: Response) -> Response:
    origin = request.headers.get("Origin")
    if origin and request.path.startswith("/chat/api/") and _origin_allowed(origin):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = f"Content-Type, {HEADER}"
        response.headers["Access-Control-Max-Age"] = "600"
    response.headers.add("Vary", "Origin")
    ancestors = " ".join(["'self'", *current_app.config.get("CHAT_ALLOWED_ORIGINS", [])])
    response.headers.setdefault("Content-Security-Policy", CSP.format(ancestors=ancestors))
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if request.path.startswith("/chat/api/"):
        response.headers["Cache-Control"] = "no-store"
    return response


# -- the visitor ------------------------------------------------------------------
def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="chat-visitor")


def _visitor() -> str | None:
    """The visitor id from the header (embed) or the cookie (/chat page), if its signature holds."""
    for token in (request.headers.get(HEADER), request.cookies.get(COOKIE)):
        if not token:
            continue
        try:
            value = _serializer().loads(token)
        except BadSignature:
            continue
        if isinstance(value, str) and VISITOR_RE.match(value):
            return value
    return None


def _remember(response: Response, visitor: str) -> None:
    token = _serializer().dumps(visitor)
    response.set_cookie(
        COOKIE, token, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax", secure=request.is_secure, path="/chat"
    )


def _client_address() -> str:
    return request.remote_addr or "unknown"  # ProxyFix sets it from X-Forwarded-For when TRUST_PROXY_HEADERS


def _messages(store: Any, visitor: str, after: int) -> list[dict[str, Any]]:
    return [{"id": row["id"], **json.loads(row["message"])} for row in store.outbound_after(CHANNEL, visitor, after)]


# -- pages ------------------------------------------------------------------------
@bp.get("")
def page() -> str:
    return render_template("chat.html", org_name=current_app.config.get("ORG_NAME", ""))


@bp.get("/embed.js")
def embed_script() -> Response:
    """The script the union's website includes with one <script> tag."""
    response = send_from_directory(current_app.static_folder, "chat-embed.js", max_age=3600)
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


# -- API --------------------------------------------------------------------------
@bp.post("/api/send")
def send() -> Response:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        data = {}
    text = data.get("text") if isinstance(data.get("text"), str) else ""
    payload = data.get("payload") if isinstance(data.get("payload"), str) else None
    if len(text) > TEXT_CAP:
        return _error("too_long", 413)
    if payload is not None and not PAYLOAD_RE.match(payload):
        return _error("bad_payload", 400)
    if not text.strip() and not payload:
        return _error("empty", 400)

    services = get_services()
    config = services.config
    now = services.clock.now()
    visitor = _visitor() or "w" + secrets.token_hex(12)
    store = get_store()
    wait = _rate_wait(store, "chat-visitor:" + visitor, float(config["CHAT_VISITOR_MESSAGES_PER_MINUTE"]), now)
    key = "visitor_limit"
    if not wait:
        wait = _rate_wait(store, _address_key(), float(config["CHAT_ADDRESS_MESSAGES_PER_MINUTE"]), now)
        key = "address_limit"
    if wait:
        response = _error(key, 429, seconds=int(wait + 0.999))
        response.headers["Retry-After"] = str(int(wait + 0.999))
        return response

    after = store.last_outbound_id()
    kind = models.POSTBACK if payload == "GET_STARTED" else models.TEXT
    event = models.Event(
        channel=CHANNEL, kind=kind, user_id=visitor, event_key=uuid.uuid4().hex, timestamp=now,
        text=text.strip() if text.strip() else "", payload=payload,
    )
    ingest(store, [event], now=now)
    if services.workers is None:  # no background workers in this process: answer here
        services.processor.process_pending(store)
        drain(store, services.channels[CHANNEL], config, clock=services.clock)
    else:
        services.inbox_wakeup.set()
        wake = services.outbox_wakeup.get(CHANNEL)
        if wake is not None:
            wake.set()
    deadline = time.monotonic() + WAIT_SECONDS
    messages = _messages(store, visitor, after)
    while not messages and time.monotonic() < deadline:
        time.sleep(0.05)
        messages = _messages(store, visitor, after)
    response = jsonify({"messages": messages, "visitor": _serializer().dumps(visitor)})
    _remember(response, visitor)
    return response


@bp.get("/api/messages")
def messages() -> Response:
    after = request.args.get("after", "0")
    if not after.isdigit():
        return _error("bad_after", 400)
    visitor = _visitor()
    if visitor is None:
        return jsonify({"messages": []})
    return jsonify({"messages": _messages(get_store(), visitor, int(after))})
