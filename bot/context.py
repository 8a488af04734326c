"""Access to the app's services from request handlers and CLI commands."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import current_app, g

from bot.storage import Store

if TYPE_CHECKING:
    from bot.channels.base import Channel


@dataclass
class Services:
    """Long-lived parts of one app instance, shared by requests and workers."""

    config: dict[str, Any]
    channels: dict[str, Channel]
    bank: Any = None  # bot.content_bank.ContentBank, loaded lazily
    inbox_wakeup: threading.Event = field(default_factory=threading.Event)
    outbox_wakeup: dict[str, threading.Event] = field(default_factory=dict)
    dispatcher: Any = None  # bot.dispatcher.Dispatcher
    processor: Any = None  # bot.inbox.InboxProcessor
    policy: Any = None  # broadcast rule check for the outbox senders
    workers: Any = None  # bot.workers.Workers when running in this process
    _bank_lock: threading.Lock = field(default_factory=threading.Lock)

    def get_bank(self) -> Any:
        """The content bank, loaded on first use and reloaded when its files change."""
        from bot.content_bank import ContentBank

        with self._bank_lock:
            if self.bank is None:
                self.bank = ContentBank.load(self.config["CONTENT_DIR"])
        self.bank.reload_if_changed()
        return self.bank

    def open_store(self) -> Store:
        """A new connection for a worker thread (close it when done)."""
        return Store.open(self.config["DATABASE_PATH"])

    def wake_outbox(self, channel: str) -> None:
        event = self.outbox_wakeup.get(channel)
        if event is not None:
            event.set()


def get_services() -> Services:
    return current_app.extensions["bot"]


def get_store() -> Store:
    """The request's (or CLI command's) store, closed at teardown."""
    if "store" not in g:
        g.store = Store.open(current_app.config["DATABASE_PATH"])
    return g.store


def close_store(exc: BaseException | None = None) -> None:
    store = g.pop("store", None)
    if store is not None:
        store.close()
