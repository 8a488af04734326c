"""GET /healthz: the status for anyone; for a logged-in staff member also each channel (token ages),
the outbox backlog and the inbox (not for the public: they tell an outsider too much)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, g, jsonify

from bot.storage.store import StoreError
from bot.web.context import get_services, get_store

logger = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


def channel_states(services: Any, statuses: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """disabled | ok | alert for every platform channel, with the reason."""
    result = {}
    for name, channel in services.channels.items():
        if not channel.required_settings:
            continue  # local channels (simulator, console)
        if not channel.enabled:
            result[name] = {"state": "disabled", "missing": channel.missing_settings}
            continue
        status = statuses.get(name)
        health = getattr(channel, "health", None)
        extra = health() if callable(health) else {}
        if status and status["state"] == "alert":
            result[name] = {"state": "alert", "detail": status["detail"], **extra}
        else:
            result[name] = {"state": extra.pop("state", "ok"), **extra}
    return result


@bp.get("/favicon.ico")
def favicon():
    """No icon: answer 204 so browsers stop asking (and logs stay clean)."""
    return "", 204


@bp.get("/healthz")
def healthz():
    services = get_services()
    try:
        store = get_store()
        store.ping()
        statuses = store.channel_statuses()
        backlog = store.outbox_backlog()
        inbox = store.inbox_counts()
    except (StoreError, Exception) as exc:  # any database failure: unusable
        logger.error("healthz: database unusable: %s", exc)
        database = {"state": "error", "detail": str(exc)} if g.get("staff") else {"state": "error"}
        return jsonify({"status": "error", "database": database}), 503
    if g.get("staff") is None:
        return jsonify({"status": "ok", "database": {"state": "ok"}})
    body = {
        "status": "ok",
        "database": {"state": "ok"},
        "channels": channel_states(services, statuses),
        "outbox": {"backlog": backlog, "total_backlog": sum(backlog.values())},
        "inbox": {"pending": inbox.get("pending", 0), "failed": inbox.get("failed", 0)},
        "workers": services.workers is not None,
    }
    return jsonify(body)
