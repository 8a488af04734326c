"""Webhook endpoints: verify, persist, acknowledge. Processing happens in the inbox worker."""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Response, abort, request

from bot.channels.base import screen_events
from bot.core.models import PayloadError, SignatureError
from bot.pipeline.inbox import ingest
from bot.web.context import clock_now, get_services, get_store

logger = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

# URL segment -> channel name
ROUTES = {"messenger": "messenger", "zalo": "zalo", "zalo-bot": "zalo_bot"}


def _channel(segment: str):
    name = ROUTES.get(segment)
    if name is None:
        abort(404)
    channel = get_services().channels.get(name)
    if channel is None or not channel.enabled:
        logger.warning("webhook for disabled channel=%s", name)
        abort(404, f"Kênh {name} chưa được cấu hình.")
    return channel


@bp.get("/messenger")
def messenger_handshake() -> Response:
    """Messenger's verification: echo hub.challenge as plain text, or 403."""
    channel = _channel("messenger")
    challenge = channel.handshake(request.args)
    if challenge is None:
        logger.warning("messenger handshake refused")
        abort(403)
    return Response(challenge, mimetype="text/plain")


@bp.post("/<segment>")
def receive(segment: str) -> Response:
    channel = _channel(segment)
    body = request.get_data(cache=False)  # raw bytes: signatures cover them exactly; >1 MB -> 413
    headers = request.headers
    if channel.is_probe(body, headers):
        logger.info("webhook probe channel=%s", channel.name)
        return Response("OK", mimetype="text/plain")
    try:
        channel.verify(body, headers)
    except SignatureError:
        logger.warning("webhook signature rejected channel=%s", channel.name)
        abort(403)
    now = clock_now()
    try:
        events = screen_events(channel.parse(body), now=now)
    except PayloadError as exc:
        logger.warning("webhook payload rejected channel=%s: %s", channel.name, exc)
        abort(400, "Nội dung yêu cầu không đọc được.")
    except Exception:  # a signed body the adapter did not expect: 400 and a traceback, never 500 (no retry loop)
        logger.exception("webhook payload failed to parse channel=%s", channel.name)
        abort(400, "Nội dung yêu cầu không đọc được.")
    if events:
        new_ids = ingest(get_store(), events, now=now, config=get_services().config)
        if new_ids:
            services = get_services()
            services.last_ingest_at = time.monotonic()
            services.inbox_wakeup.set()
        logger.info("webhook channel=%s events=%d new=%d", channel.name, len(events), len(new_ids))
    return Response("EVENT_RECEIVED", mimetype="text/plain")
