"""The channel senders of a process, and extra sender processes (``flask run-sender``).

The leader (``flask run-scheduler``) sends on every channel.  On PostgreSQL more processes,
on any host, may send beside it: each registers as a sender (a lease with heartbeats, so
the others know its messages in flight are live), claims rows with SKIP LOCKED, and
reserves every send's slot in the database (SharedRate), so together they keep each
channel's rate.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterable
from typing import Any

from bot.pipeline.outbox import ChannelSender

logger = logging.getLogger(__name__)

RATE_SETTINGS = {
    "messenger": "MESSENGER_RATE_PER_SECOND",
    "zalo": "ZALO_RATE_PER_SECOND",
    "zalo_bot": "ZALO_BOT_RATE_PER_SECOND",
}
SENDER_LEASE_TTL = 30.0  # a crashed sender's messages in flight become 'uncertain' after this long
SENDER_HEARTBEAT_SECONDS = 10.0


class NeedsPostgres(Exception):
    """Extra workers need PostgreSQL (SQLite has one writer: one process does the work)."""


def process_owner() -> str:
    """This process's name in leases and on claimed rows: host:pid:random."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def shares_rate(config: Any, postgres: bool) -> bool:
    """True when the send rates are kept in the database (SEND_RATE_SHARING)."""
    mode = str(config.get("SEND_RATE_SHARING", "auto"))
    return mode == "database" or (mode == "auto" and postgres)


def start_senders(
    services: Any, *, owner: str, shared: bool, names: Iterable[str] | None = None
) -> dict[str, ChannelSender]:
    """Start a ChannelSender for every enabled channel (only ``names`` when given)."""
    config = services.config
    wanted = set(names) if names is not None else None
    senders: dict[str, ChannelSender] = {}
    for name, channel in services.channels.items():
        if not channel.enabled or (wanted is not None and name not in wanted):
            continue
        sender = ChannelSender(
            channel,
            services.open_store,
            config,
            rate=float(config.get(RATE_SETTINGS.get(name, ""), 0) or 0),
            threads=int(config["SENDER_THREADS"]),
            wakeup=services.outbox_wakeup.setdefault(name, threading.Event()),
            policy=services.policy,
            broadcasts_allowed=services.broadcasts_allowed,
            ingest_busy=services.ingest_busy,
            clock=services.clock,
            shared_rate=shared,
            owner=owner,
        )
        sender.start()
        senders[name] = sender
    return senders


def stop_senders(senders: dict[str, ChannelSender], deadline: float) -> list[str]:
    """Take no new work; wait until ``deadline`` (monotonic) for sends in flight.  Returns the
    threads still sending."""
    for sender in senders.values():
        sender.stopping.set()
        sender.wakeup.set()
    for sender in senders.values():
        for thread in sender.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
    return [t.name for s in senders.values() for t in s.threads if t.is_alive()]


def sendable_channels(services: Any) -> list[str]:
    """The enabled channels (those the leader sends on)."""
    return [name for name, channel in services.channels.items() if channel.enabled]


def check_extra_senders(config: Any, postgres: bool) -> None:
    """NeedsPostgres unless extra sender processes can keep the rates together."""
    if not postgres:
        raise NeedsPostgres(
            "Chỉ chạy được khi dùng PostgreSQL (DATABASE_URL). / Extra senders need PostgreSQL (DATABASE_URL)."
        )
    if not shares_rate(config, postgres):
        raise NeedsPostgres(
            "Cần SEND_RATE_SHARING=database hoặc auto để nhiều tiến trình cùng giữ đúng tốc độ gửi."
            " / Extra senders need SEND_RATE_SHARING=database or auto."
        )


def run_senders(services: Any, stop: threading.Event, *, channels: Iterable[str] | None = None) -> None:
    """Extra channel senders in this process, beside the leader, until ``stop`` is set
    (``flask run-sender``; PostgreSQL with SEND_RATE_SHARING database or auto)."""
    store = services.open_store()
    try:
        listener = store.outbox_listener(lambda channel: _wake(services, channel), stop)
        postgres = store.postgres
    finally:
        store.close()
    check_extra_senders(services.config, postgres and listener is not None)
    owner = process_owner()
    _register(services, owner)
    senders = start_senders(services, owner=owner, shared=True, names=channels)
    threading.Thread(target=listener.run, name="outbox-listener", daemon=True).start()
    logger.info("senders started for %s (%s), rates shared in the database", ", ".join(senders) or "no channel", owner)
    try:
        while not stop.wait(SENDER_HEARTBEAT_SECONDS):
            try:
                _register(services, owner)
            except Exception:  # a busy database: try again at the next beat
                logger.exception("sender heartbeat failed")
    finally:
        grace = float(services.config.get("HTTP_TIMEOUT_SECONDS", 10)) + 5
        unfinished = stop_senders(senders, time.monotonic() + grace)
        if unfinished:
            logger.warning("stopped with sends still in flight: %s", ", ".join(unfinished))
        else:
            _unregister(services, owner)  # else the lease lapses, and their rows become 'uncertain'


def _wake(services: Any, channel: str) -> None:
    event = services.outbox_wakeup.get(channel)
    if event is not None:
        event.set()


def _register(services: Any, owner: str) -> None:
    store = services.open_store()
    try:
        store.register_sender(owner, now=services.clock.now(), ttl=SENDER_LEASE_TTL)
    finally:
        store.close()


def _unregister(services: Any, owner: str) -> None:
    store = services.open_store()
    try:
        store.unregister_sender(owner)
    except Exception:  # it lapses by itself
        logger.exception("could not remove the sender registration")
    finally:
        store.close()
