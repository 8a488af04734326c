"""Inbound pipeline: persist events before acknowledging them, process them after.

The webhook calls :func:`ingest` (one short transaction) and answers 200.  The
inbox worker then runs each pending event through the dispatcher; the replies
are queued in the outbox and the event is marked done in ONE transaction, so an
event is either fully handled or not at all: after a crash it is processed again
and its replies are not duplicated.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from bot.channels.base import Channel
from bot.conversation.dispatcher import Dispatcher
from bot.core.clock import Clock
from bot.core.models import DELIVERY_EVENTS, ECHO, Event
from bot.storage.dialect import is_retryable
from bot.storage.store import Store

logger = logging.getLogger(__name__)


def is_lock_error(exc: BaseException) -> bool:
    """A lock timeout or a serialization failure (SQLite busy; PostgreSQL deadlock,
    serialization failure, lock not available): the transaction rolled back, worth retrying."""
    return is_retryable(exc)


def ingest(store: Store, events: list[Event], *, now: float, config: Mapping[str, Any] | None = None) -> list[int]:
    """Persist parsed events (duplicates ignored); returns the ids of new inbox rows.

    Receipts and echoes take the fast lane: applied here, in the acknowledgement, as a
    few indexed updates of the outbox; they never wait behind conversations in the inbox
    and never create a member.
    """
    pairs = []
    fast = [e for e in events if e.kind in DELIVERY_EVENTS]
    if fast:
        apply_delivery_events(store, fast, now=now, config=config or {})
    for event in events:
        if event.kind in DELIVERY_EVENTS:
            continue
        raw = event.extra.pop("raw", {})
        pairs.append((event, raw))
    return store.add_inbound(pairs, at=now) if pairs else []


def apply_delivery_events(store: Store, events: list[Event], *, now: float, config: Mapping[str, Any]) -> int:
    """Receipts and echoes, in one short transaction; returns the outbox rows changed."""
    skew = float(config.get("RECEIPT_CLOCK_SKEW_SECONDS", 2))
    window = float(config.get("ZALO_ECHO_MATCH_SECONDS", 120))
    changed = 0
    with store.transaction():
        for event in sorted(events, key=lambda e: (e.kind != ECHO, e.timestamp)):  # echoes first: a receipt may follow
            event.extra.pop("raw", None)
            changed += store.apply_delivery_event(event, at=now, skew=skew, echo_window=window)
    return changed


class InboxProcessor:
    """Runs pending inbox events through the dispatcher and queues the replies."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        channels: dict[str, Channel],
        config: dict[str, Any],
        *,
        clock: Clock,
        prepare: Callable[[], None] | None = None,
    ):
        """``prepare``: loads what the handlers read (content bank, catalog) before each
        event's transaction, so a (re)load never runs while the write lock is held."""
        self.prepare = prepare
        self.clock = clock
        self.dispatcher = dispatcher
        self.channels = channels
        self.config = config

    def process_pending(
        self,
        store: Store,
        *,
        now: float | None = None,
        limit: int = 100,
        budget: float | None = None,
        queued: set[str] | None = None,
    ) -> int:
        """Process up to ``limit`` pending events in arrival order; returns how many.

        ``budget``: stop after this many seconds (checked between events).  ``queued``
        collects the channels that got outbox rows, so only their senders are woken.
        """
        done = 0
        last_id = 0
        deadline = time.monotonic() + budget if budget is not None else None
        while done < limit:
            rows = store.pending_inbound(limit=min(50, limit - done), after_id=last_id)
            if not rows:
                break
            for row in rows:
                last_id = row["id"]
                outbox_ids = self.process_row(store, row, now=now if now is not None else self.clock.now())
                if outbox_ids and queued is not None:
                    queued.add(row["channel"])
                done += 1
                if deadline is not None and time.monotonic() >= deadline:
                    return done
        return done

    def process_row(self, store: Store, row: dict[str, Any], *, now: float) -> list[int]:
        """Handle one inbox row; returns the outbox ids it queued."""
        event: Event | None = None
        if self.prepare is not None:
            try:
                self.prepare()
            except Exception:  # the handlers report an unavailable bank themselves
                logger.exception("content could not be loaded before inbox_id=%s", row["id"])
        try:
            event = Event.from_dict(json.loads(row["event"]))
            with store.transaction():
                if not store.claim_inbound(row["id"]):
                    return []  # another worker got it first
                result = self.dispatcher.handle(event, store, now)
                replies = result.replies
                if event.is_group and replies and self._group_limited(store, event, now):
                    result.meta["rate_limited"] = True
                    replies = []
                outbox_ids = self._queue(store, event, replies, result.member, row["id"], now)
                store.finish_inbound(row["id"], at=now)
        except Exception as exc:
            if not is_lock_error(exc):  # one bad event must not stop the others
                return self._fail(store, row, event, exc, now)
            # the database was busy (another process held the write lock past the busy
            # timeout): the transaction rolled back and the event is still pending; it
            # is retried, never marked failed
            logger.warning("event deferred inbox_id=%s channel=%s: database busy, retried later", row["id"], row["channel"])
            store.rollback_open_transaction()
            return []
        logger.info(
            "event inbox_id=%s channel=%s kind=%s member=%s group=%s handler=%s decision=%s entry=%s replies=%d",
            row["id"],
            event.channel,
            event.kind,
            result.member["id"] if result.member else "-",
            event.group_id or "-",
            result.meta.get("handler", "-"),
            result.meta.get("decision", "-"),
            result.meta.get("entry_id", "-"),
            len(outbox_ids),
        )
        logger.debug("event text inbox_id=%s text=%r", row["id"], event.text)
        return outbox_ids

    def _fail(self, store: Store, row: dict[str, Any], event: Event | None, exc: Exception, now: float) -> list[int]:
        logger.exception(
            "event failed inbox_id=%s channel=%s kind=%s", row["id"], row["channel"], event.kind if event else "-"
        )
        store.finish_inbound(row["id"], at=now, error=f"{type(exc).__name__}: {exc}"[:500])
        return []

    def _group_limited(self, store: Store, event: Event, now: float) -> bool:
        per_minute = float(self.config.get("GROUP_REPLIES_PER_MINUTE", 0) or 0)
        if per_minute <= 0:
            return False
        sent = store.count_recent_outbound(event.channel, event.group_id or "", since=now - 60)
        return sent >= per_minute

    def _queue(
        self, store: Store, event: Event, replies: list, member: dict[str, Any] | None, inbox_id: int, now: float
    ) -> list[int]:
        if not replies:
            return []
        channel = self.channels[event.channel]
        group = event.is_group
        messages: list[dict[str, Any]] = []
        for reply in replies:
            messages.extend(channel.render(reply, group=group))
        return store.enqueue(
            channel=event.channel,
            recipient=event.group_id if group else event.user_id,  # type: ignore[arg-type]
            messages=messages,
            at=now,
            is_group=group,
            member_id=member["id"] if member else None,
            inbox_id=inbox_id,
        )


class InboxWorker(threading.Thread):
    """Background thread: waits for new events (or polls) and processes them."""

    # While webhooks keep arriving, work in slices of BUDGET_SECONDS and pause
    # YIELD_SECONDS after each, so the acknowledgements (which the platforms time) get
    # the CPU between slices; the events are safe in the inbox.  (One event per pause
    # capped the worker near 80 events/s, below a busy evening's arrival rate.)
    BUDGET_SECONDS = 0.05
    YIELD_SECONDS = 0.005
    BATCH = 100

    def __init__(self, processor: InboxProcessor, open_store: Any, wakeup: threading.Event, *, poll: float = 0.5, services: Any = None):
        super().__init__(name="inbox-worker", daemon=True)
        self.processor = processor
        self.open_store = open_store
        self.wakeup = wakeup
        self.poll = poll
        self.services = services
        self.stopping = threading.Event()
        self.on_queued: Any = None  # callback(channels) to wake the senders of those channels

    def _ingest_busy(self) -> bool:
        return self.services is not None and self.services.ingest_busy()

    def run(self) -> None:
        store = self.open_store()
        try:
            while not self.stopping.is_set():
                self.wakeup.wait(self.poll)
                self.wakeup.clear()
                try:
                    while True:
                        queued: set[str] = set()
                        done = self.processor.process_pending(
                            store, limit=self.BATCH, budget=self.BUDGET_SECONDS, queued=queued
                        )
                        if queued and self.on_queued:
                            self.on_queued(queued)
                        if not done or self.stopping.is_set():
                            break
                        if self._ingest_busy():
                            time.sleep(self.YIELD_SECONDS)
                except Exception:
                    logger.exception("inbox worker loop error")
                    time.sleep(1)
        finally:
            store.close()

    def stop(self) -> None:
        self.stopping.set()
        self.wakeup.set()
