"""Background workers of one process: the inbox worker and one sender per channel.

Exactly one process of a deployment runs them (``python app.py``, or
``flask run-scheduler`` beside several WSGI workers that only ingest).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from bot.channels.base import Channel
from bot.core.clock import Clock
from bot.pipeline.inbox import InboxWorker
from bot.pipeline.outbox import ChannelSender
from bot.storage.store import Store

logger = logging.getLogger(__name__)

RATE_SETTINGS = {
    "messenger": "MESSENGER_RATE_PER_SECOND",
    "zalo": "ZALO_RATE_PER_SECOND",
    "zalo_bot": "ZALO_BOT_RATE_PER_SECOND",
}


class WorkerServices(Protocol):
    """What the workers need from the app (bot.web.context.Services provides it)."""

    config: Any
    channels: dict[str, Channel]
    clock: Clock
    processor: Any  # bot.pipeline.inbox.InboxProcessor
    policy: Any  # the broadcast send rules (scheduler.broadcasts.make_policy)
    broadcasts_allowed: Callable[[float], bool]
    inbox_wakeup: threading.Event
    outbox_wakeup: dict[str, threading.Event]
    workers: Any

    def open_store(self) -> Store: ...

    def ingest_busy(self) -> bool: ...


class Workers:
    """Starts and stops the inbox worker and the channel senders."""

    def __init__(self, services: WorkerServices):
        self.services = services
        self.inbox: InboxWorker | None = None
        self.senders: dict[str, ChannelSender] = {}
        self.periodic: threading.Thread | None = None
        self.stopping = threading.Event()

    def start(self) -> None:
        services = self.services
        config = services.config
        store = services.open_store()
        try:
            recovered = store.recover_in_flight(at=services.clock.now())
        finally:
            store.close()
        if recovered:
            logger.warning("outbox: %d message(s) were in flight at the last stop; marked uncertain", recovered)
        for name, channel in services.channels.items():
            if not channel.enabled:
                continue
            wakeup = services.outbox_wakeup.setdefault(name, threading.Event())
            sender = ChannelSender(
                channel,
                services.open_store,
                config,
                rate=float(config.get(RATE_SETTINGS.get(name, ""), 0) or 0),
                threads=int(config["SENDER_THREADS"]),
                wakeup=wakeup,
                policy=services.policy,
                broadcasts_allowed=services.broadcasts_allowed,
                ingest_busy=services.ingest_busy,
                clock=services.clock,
            )
            sender.start()
            self.senders[name] = sender
        self.inbox = InboxWorker(services.processor, services.open_store, services.inbox_wakeup, services=services)
        self.inbox.on_queued = self.wake_senders
        self.inbox.start()
        self.periodic = threading.Thread(target=self._periodic, name="periodic", daemon=True)
        self.periodic.start()
        services.workers = self
        logger.info("workers started: inbox, senders for %s", ", ".join(self.senders) or "no channel")

    def wake_senders(self, channels: Iterable[str] | None = None) -> None:
        """Wake the senders of ``channels`` (all when None): only those that got work."""
        wakeups = self.services.outbox_wakeup
        for name in wakeups if channels is None else channels:
            event = wakeups.get(name)
            if event is not None:
                event.set()

    def _periodic(self) -> None:
        """Housekeeping every minute (see :meth:`housekeeping`)."""
        while not self.stopping.wait(60):
            self.housekeeping()

    def stale_sending_seconds(self) -> float:
        """Longer than any send can take (a Zalo send may refresh its token and call twice)."""
        return max(300.0, 4 * float(self.services.config.get("HTTP_TIMEOUT_SECONDS", 10)))

    def housekeeping(self) -> None:
        """Refresh the Zalo OA token ahead of expiry; recover messages stuck in 'sending'."""
        zalo: Any = self.services.channels.get("zalo")
        tokens = getattr(zalo, "tokens", None)
        if zalo is not None and zalo.enabled and tokens is not None:
            try:
                tokens.ensure_fresh()
            except Exception as exc:  # logged by the token manager; keep the loop alive
                logger.warning("zalo token refresh failed: %s", type(exc).__name__)
        store = self.services.open_store()
        try:
            now = self.services.clock.now()
            stuck = store.recover_stale_sending(claimed_before=now - self.stale_sending_seconds(), at=now)
            if stuck:
                logger.warning("outbox: %d message(s) stuck in 'sending' marked uncertain", stuck)
        except Exception:
            logger.exception("outbox housekeeping failed")
        finally:
            store.close()

    def stop(self) -> None:
        self.stopping.set()
        if self.inbox:
            self.inbox.stop()
            self.inbox.join(5)
        for sender in self.senders.values():
            sender.stop()
        self.services.workers = None
