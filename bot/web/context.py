"""Access to the app's services from request handlers and CLI commands."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import current_app

from bot.core.clock import SYSTEM_CLOCK, Clock
from bot.core.config import database_target
from bot.storage.store import Store

if TYPE_CHECKING:
    from bot.channels.base import Channel


@dataclass
class Services:
    """Long-lived parts of one app instance, shared by requests and workers."""

    config: dict[str, Any]
    channels: dict[str, Channel]
    bank: Any = None  # bot.answers.bank.ContentBank, loaded lazily
    content_source: Any = None  # bot.web.content_db.DatabaseEntrySource when CONTENT_STORE=database
    inbox_wakeup: threading.Event = field(default_factory=threading.Event)
    outbox_wakeup: dict[str, threading.Event] = field(default_factory=dict)
    dispatcher: Any = None  # bot.conversation.dispatcher.Dispatcher
    processor: Any = None  # bot.pipeline.inbox.InboxProcessor
    policy: Any = None  # broadcast rule check for the outbox senders
    broadcasts_allowed: Callable[[float], bool] = lambda now: True  # quiet hours hold broadcasts back
    workers: Any = None  # bot.pipeline.workers.Workers when running in this process
    clock: Clock = SYSTEM_CLOCK  # every time-dependent decision reads now from here
    last_ingest_at: float = 0.0  # monotonic time of the last webhook that brought new events
    _bank_lock: threading.Lock = field(default_factory=threading.Lock)

    def get_bank(self) -> Any:
        """The content bank, loaded on first use and reloaded when its files (or, in database mode, its revision) change."""
        from bot.answers.bank import ContentBank

        with self._bank_lock:
            if self.bank is None:
                self.bank = ContentBank.load(self.config["CONTENT_DIR"], source=self.content_source, timer=self.clock.now)
        self.bank.reload_if_changed()
        return self.bank

    def open_store(self) -> Store:
        """A new connection for a worker thread (close it when done)."""
        return Store.open(database_target(self.config))

    INGEST_BUSY_WINDOW = 0.05

    def ingest_busy(self) -> bool:
        """True while webhooks keep arriving: background work then yields the CPU to them."""
        return bool(self.last_ingest_at) and time.monotonic() - self.last_ingest_at < self.INGEST_BUSY_WINDOW



def get_services() -> Services:
    return current_app.extensions["bot"]


def clock_now() -> float:
    """The app clock's now (seconds since the epoch)."""
    return get_services().clock.now()


_local = threading.local()


def get_store() -> Store:
    """This thread's store for the app's database.

    Web server threads live long, so each keeps one connection instead of opening
    one per request (opening costs more than a typical webhook's work).
    """
    path = database_target(current_app.config)
    cached = getattr(_local, "store", None)
    if cached is not None and cached[0] == path:
        return cached[1]
    if cached is not None:
        _local.store = None
        cached[1].close()
    store = Store.open(path)
    _local.store = (path, store)
    return store


def close_store(exc: BaseException | None = None) -> None:
    """Teardown: roll back anything a failed request left open on this thread's connection."""
    cached = getattr(_local, "store", None)
    if cached is not None:
        cached[1].rollback_open_transaction()


def get_bank() -> Any:
    """The app's content bank (loaded on first use, reloaded when its files change)."""
    return get_services().get_bank()
