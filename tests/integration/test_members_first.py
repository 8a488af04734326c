"""Members first under load (issue 11, A and B): replies before broadcasts, short transactions."""

from __future__ import annotations

import pytest

from scheduler import broadcasts
from tests import dbcheck
from tests.integration.test_broadcasts import HOUR, member, tick


def test_a_reply_queued_behind_a_large_broadcast_is_claimed_next(app, store, clock):
    now = clock.now()
    for i in range(300):
        member(store, "messenger", f"P{i}", last=now - HOUR)
    broadcasts.create_broadcast(store, app.config, text="Tin tuần này", now=now, schedule="now")
    tick(app, store, now)
    assert dbcheck.value(store, "SELECT count(*) FROM outbox WHERE kind = 'broadcast' AND status = 'pending'") == 300
    first = store.claim_outbound("messenger", now=now + 1)
    assert first is not None and first["kind"] == "broadcast"  # the broadcast is sending
    [reply_id] = store.enqueue(channel="messenger", recipient="P250", messages=[{"text": "trả lời"}], at=now + 2)
    claimed = store.claim_outbound("messenger", now=now + 2)
    assert claimed is not None and claimed["id"] == reply_id
    # and the broadcast takes the rest of the rate
    after = store.claim_outbound("messenger", now=now + 3)
    assert after is not None and after["kind"] == "broadcast"


def test_the_claim_uses_the_priority_index(app, store):
    if store.postgres:
        pytest.skip("SQLite's query plan; PostgreSQL's planner picks by table statistics (an empty table: a scan)")
    plan = " ".join(
        str(r[3])
        for r in dbcheck.execute(store, 
            "EXPLAIN QUERY PLAN SELECT o.* FROM outbox o WHERE o.channel = 'messenger' AND o.status = 'pending'"
            " AND o.next_attempt_at <= 1 ORDER BY o.priority, o.next_attempt_at, o.id LIMIT 1"
        ).fetchall()
    )
    assert "outbox_claim" in plan and "TEMP B-TREE" not in plan


def test_broadcast_expansion_goes_in_short_chunks_and_resumes_from_its_cursor(app, store, clock, monkeypatch):
    now = clock.now()
    ids = [member(store, "messenger", f"P{i}", last=now - HOUR) for i in range(25)]
    bid = broadcasts.create_broadcast(store, app.config, text="Tin tuần này", now=now, schedule="now")
    app.extensions["bot"].clock.freeze(now)
    broadcasts.plan_due_runs(store, app.config, now)
    transactions = []
    real = store.transaction

    def counting():
        transactions.append(1)
        return real()

    monkeypatch.setattr(store, "transaction", counting)
    calls = {"n": 0}
    real_chunk = store.expand_run_chunk

    def crash_after_two(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("crash")
        return real_chunk(*args, **kwargs)

    monkeypatch.setattr(store, "expand_run_chunk", crash_after_two)
    try:
        broadcasts.start_runs(store, app.config, app.extensions["bot"].channels, now, chunk=10)
    except RuntimeError:
        pass
    [run] = store.runs_of(bid)
    assert run["state"] == "sending" and run["expand_cursor"] == ids[19] and run["expanded_at"] is None
    assert dbcheck.value(store, "SELECT count(*) FROM outbox WHERE run_id = ?", [run["id"]]) == 20
    broadcasts.finish_runs(store, now)  # nothing open yet must not end a run that is still expanding
    assert store.get_run(run["id"])["state"] == "sending"
    monkeypatch.setattr(store, "expand_run_chunk", real_chunk)
    broadcasts.start_runs(store, app.config, app.extensions["bot"].channels, now + 1, chunk=10)
    run = store.get_run(run["id"])
    assert run["expanded_at"] is not None and run["targeted"] == 25
    assert dbcheck.value(store, "SELECT count(DISTINCT member_id) FROM outbox WHERE run_id = ?", [run["id"]]) == 25
    assert len(transactions) >= 4  # one per chunk, not one for the whole audience


def _text_events(channel: str, n: int) -> list:
    from bot.core.models import Event

    return [
        Event(channel=channel, kind="text", user_id=f"U{i}", event_key=f"{channel}-{i}", timestamp=1.0, text="menu")
        for i in range(n)
    ]


def test_the_inbox_worker_yields_per_time_slice_not_per_event_and_wakes_only_that_channels_sender(app, store, monkeypatch):
    import threading

    from bot.pipeline import inbox as inbox_module
    from bot.pipeline.inbox import InboxWorker, ingest

    services = app.extensions["bot"]
    monkeypatch.setattr(type(services), "ingest_busy", lambda self: True)  # webhooks keep arriving
    sleeps = []
    real_sleep = inbox_module.time.sleep
    monkeypatch.setattr(inbox_module.time, "sleep", lambda s: (sleeps.append(s), real_sleep(s)))
    ingest(store, _text_events("messenger", 200), now=services.clock.now())
    woken: list[set] = []
    worker = InboxWorker(services.processor, services.open_store, threading.Event(), poll=0.01, services=services)
    worker.on_queued = lambda channels: woken.append(set(channels))
    worker.start()
    try:
        for _ in range(600):
            if store.inbox_counts().get("pending", 0) == 0 and not store.inbox_counts().get("processing"):
                break
            real_sleep(0.05)
    finally:
        worker.stop()
        worker.join(5)
    assert store.inbox_counts() == {"done": 200}
    assert len(sleeps) < 100  # not one pause per event (200)
    assert woken and all(channels == {"messenger"} for channels in woken)


def test_wake_senders_wakes_only_the_named_channels(app):
    import threading

    from bot.pipeline.workers import Workers

    services = app.extensions["bot"]
    events = {name: threading.Event() for name in ("messenger", "zalo", "zalo_bot")}
    services.outbox_wakeup.update(events)
    Workers(services).wake_senders({"zalo"})
    assert [name for name, e in events.items() if e.is_set()] == ["zalo"]


def test_the_content_bank_is_never_loaded_inside_the_inbox_write_transaction(app, store, monkeypatch):
    from bot.answers.bank import ContentBank
    from bot.pipeline.inbox import ingest

    services = app.extensions["bot"]
    services.bank = None  # not loaded yet (or being reloaded after an edit)
    inside: list[bool] = []
    real = ContentBank.load

    def load(cls, *args, **kwargs):
        inside.append(store.in_transaction)
        return real(*args, **kwargs)

    monkeypatch.setattr(ContentBank, "load", classmethod(load))
    events = _text_events("messenger", 1)
    events[0].text = "biên giới đất liền dài bao nhiêu km"
    ingest(store, events, now=services.clock.now())
    services.processor.process_pending(store)
    assert inside == [False]
    assert store.inbox_counts() == {"done": 1}


def test_the_missed_run_grace_is_checked_when_a_run_starts(app, store, clock):
    now = clock.now()
    member(store, "messenger", "P1", last=now)
    bid = broadcasts.create_broadcast(store, app.config, text="Tin cũ", now=now, schedule="now")
    app.extensions["bot"].clock.freeze(now)
    broadcasts.plan_due_runs(store, app.config, now)  # planned, then the process stopped
    later = now + (float(app.config["MISSED_RUN_GRACE_HOURS"]) + 1) * HOUR
    broadcasts.start_runs(store, app.config, app.extensions["bot"].channels, later)
    [run] = store.runs_of(bid)
    assert run["state"] == "missed"
    assert dbcheck.value(store, "SELECT count(*) FROM outbox WHERE run_id = ?", [run["id"]]) == 0
