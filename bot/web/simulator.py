"""GET /simulator: chat as a member in the browser, through the real pipeline.

Messages go through the same inbox, dispatcher and outbox as the platforms, on
the local channel "simulator", whose members, questions and quiz attempts are marked by
that channel and never counted in reports, leaderboards, commendations, the dashboard
or the unanswered queue.  When no background workers run in this process
(``flask run``), the request processes the event itself.
"""

from __future__ import annotations

import json
import re
import time
import uuid

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from bot.channels.base import load_json
from bot.core import models
from bot.core.models import PayloadError
from bot.pipeline.inbox import ingest
from bot.pipeline.outbox import drain
from bot.web.context import clock_now, get_services, get_store

bp = Blueprint("simulator", __name__)


def platforms_configured(services) -> bool:
    """True once any platform channel has one of its settings: the bot is no longer a fresh install."""
    return any(
        len(channel.missing_settings) < len(channel.required_settings)
        for channel in services.channels.values()
        if channel.required_settings
    )


@bp.before_request
def _enabled():
    """Open to anyone on a first start (no platform settings); a staff login once a platform is set up."""
    if not current_app.config.get("SIMULATOR_ENABLED", True):
        abort(404)
    if g.get("staff") is None and platforms_configured(get_services()):
        if request.path.startswith("/simulator/api/"):
            return jsonify({"error": "Cần đăng nhập tài khoản cán bộ để dùng trang mô phỏng."}), 401
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return None

USER_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
WAIT_SECONDS = 5.0


@bp.get("/simulator")
def page():
    return render_template("simulator.html")


def _body() -> dict:
    """The JSON object sent (strict: bounded nesting, no NaN, lone surrogates replaced); {} for a form; else 400."""
    if not request.is_json:
        return {}
    try:
        data = load_json(request.get_data(cache=True))
    except PayloadError:
        abort(400, "Nội dung yêu cầu không đọc được.")
    if not isinstance(data, dict):
        abort(400, "Nội dung yêu cầu phải là một đối tượng JSON.")
    return data


def _user() -> str:
    user = request.values.get("user") or _body().get("user") or ""
    user = user.strip() if isinstance(user, str) else ""
    if not USER_RE.match(user):
        abort(400, "Mã người dùng không hợp lệ.")
    return user


def _messages(store, user: str, after: int) -> list[dict]:
    out = []
    for row in store.outbound_after("simulator", user, after):
        message = json.loads(row["message"])
        out.append({"id": row["id"], "reply_to": row["reply_to"], **message})
    return out


@bp.post("/simulator/api/send")
def send():
    data = _body()
    user = _user()
    text = str(data.get("text") or "")[:2000]
    payload = data.get("payload") or None
    if payload is not None and not isinstance(payload, str):
        abort(400, "Nội dung yêu cầu không đọc được.")
    if not text.strip() and not payload:
        abort(400, "Tin nhắn trống.")
    services = get_services()
    store = get_store()
    after = store.last_outbound_id()
    now = clock_now()
    kind = models.POSTBACK if payload == "GET_STARTED" else models.TEXT
    event = models.Event(
        channel="simulator", kind=kind, user_id=user, event_key=uuid.uuid4().hex, timestamp=now,
        text=text, payload=str(payload) if payload else None,
    )
    ingest(store, [event], now=now)
    if services.workers is None:
        services.processor.process_pending(store)
        drain(store, services.channels["simulator"], services.config, clock=services.clock)
    else:
        services.inbox_wakeup.set()
    deadline = time.monotonic() + WAIT_SECONDS
    messages = _messages(store, user, after)
    while not messages and time.monotonic() < deadline:
        time.sleep(0.05)
        messages = _messages(store, user, after)
    # ``key``: the page opens this message's replies at their first one, whichever response brings them
    return jsonify({"key": event.event_key, "messages": messages})


@bp.get("/simulator/api/messages")
def messages():
    user = _user()
    after = request.args.get("after", "0")
    if not after.isdigit():
        abort(400, "Tham số after không hợp lệ.")
    return jsonify({"messages": _messages(get_store(), user, int(after))})
