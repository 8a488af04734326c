"""Several workers on one database (issue 17): each event handled once, a member's events in
order, each outbox message claimed by one sender only.  Runs on SQLite (one writer at a
time) and on PostgreSQL (row locks, SKIP LOCKED claims, lanes per member)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict

import pytest

from bot.core.models import TEXT, Event
from bot.pipeline.inbox import ingest
from bot.web.context import get_services

pytestmark = pytest.mark.engines

MEMBERS = 12
PER_MEMBER = 6


def _events(round_no: int) -> list[Event]:
    return [
        Event(channel="simulator", kind=TEXT, user_id=f"u{m}", event_key=f"k{m}-{round_no}", text="xin chào")
        for m in range(MEMBERS)
    ]


def _run_threads(count: int, work) -> None:
    errors: list[BaseException] = []

    def guarded(index: int) -> None:
        try:
            work(index)
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors


def test_two_inbox_workers_handle_each_event_once_in_order_per_member(app, store, clock):
    with app.app_context():
        services = get_services()
    for round_no in range(PER_MEMBER):  # a member's events arrive one after another
        ingest(store, _events(round_no), now=clock.now())
    handled: list[tuple[str, str]] = []
    guard = threading.Lock()
    original = services.dispatcher.handle

    def recording_handle(event, st, now):
        result = original(event, st, now)
        with guard:
            handled.append((event.user_id, event.event_key))
        return result

    services.dispatcher.handle = recording_handle  # type: ignore[method-assign]

    def worker(_index: int) -> None:
        own = services.open_store()
        try:
            with app.app_context():
                for _ in range(200):
                    if not services.processor.process_pending(own, now=clock.now(), limit=5):
                        if not own.pending_inbound(limit=1):
                            return
        finally:
            own.close()

    _run_threads(2, worker)
    assert len(handled) == MEMBERS * PER_MEMBER
    assert len(set(handled)) == len(handled), "an event was handled twice"
    per_member: dict[str, list[str]] = defaultdict(list)
    for user, key in handled:
        per_member[user].append(key)
    for m in range(MEMBERS):
        assert per_member[f"u{m}"] == [f"k{m}-{r}" for r in range(PER_MEMBER)]
    assert store.inbox_counts() == {"done": MEMBERS * PER_MEMBER}


def test_two_senders_claim_each_message_once_and_keep_a_recipients_order(app, store, clock):
    with app.app_context():
        services = get_services()
    for m in range(MEMBERS):
        store.enqueue(
            channel="simulator", recipient=f"r{m}", messages=[{"text": f"{m}-{p}"} for p in range(3)], at=clock.now()
        )
    claimed: list[tuple[str, str]] = []
    guard = threading.Lock()

    def sender(_index: int) -> None:
        own = services.open_store()
        try:
            while True:
                row = own.claim_outbound("simulator", now=clock.now())
                if row is None:
                    if not own.outbox_backlog():
                        return
                    continue
                with guard:
                    claimed.append((row["recipient"], row["message"]))
                own.mark_sent(row["id"], platform_message_id=None, at=clock.now())
        finally:
            own.close()

    _run_threads(2, sender)
    assert len(claimed) == MEMBERS * 3
    assert len(set(claimed)) == len(claimed), "a message was claimed twice"
    per_recipient: dict[str, list[str]] = defaultdict(list)
    for recipient, message in claimed:
        per_recipient[recipient].append(message)
    for m in range(MEMBERS):
        assert per_recipient[f"r{m}"] == [f'{{"text": "{m}-{p}"}}' for p in range(3)]


def test_an_event_ingested_elsewhere_wakes_the_inbox_worker_on_postgresql(app, store, clock):
    """PostgreSQL: LISTEN/NOTIFY wakes the worker process at once; SQLite (one host) polls."""
    woken, stop = threading.Event(), threading.Event()
    listener = store.inbox_listener(lambda _payload: woken.set(), stop)
    if not store.postgres:
        assert listener is None
        return
    thread = threading.Thread(target=listener.run, daemon=True)
    thread.start()
    try:
        time.sleep(0.3)  # LISTEN registered
        assert not woken.is_set()
        with app.app_context():
            other = get_services().open_store()  # another connection: another process's ingest
        try:
            ingest(other, _events(0)[:1], now=clock.now())
        finally:
            other.close()
        assert woken.wait(5), "no wake-up after an ingest on another connection"
    finally:
        stop.set()
        thread.join(5)


def test_next_due_at_is_the_earliest_pending_message(app, store, clock):
    now = clock.now()
    assert store.next_due_at("simulator") is None
    store.enqueue(channel="simulator", recipient="b", messages=[{"text": "y"}], at=now - 9, kind="broadcast")
    store.enqueue(channel="simulator", recipient="r", messages=[{"text": "x"}], at=now - 5)
    assert store.next_due_at("simulator") == now - 9
