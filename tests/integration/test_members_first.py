"""Members first under load (issue 11, A and B): replies before broadcasts, short transactions."""

from __future__ import annotations

from scheduler import broadcasts
from tests.integration.test_broadcasts import HOUR, member, tick


def test_a_reply_queued_behind_a_large_broadcast_is_claimed_next(app, store, clock):
    now = clock.now()
    for i in range(300):
        member(store, "messenger", f"P{i}", last=now - HOUR)
    broadcasts.create_broadcast(store, app.config, text="Tin tuần này", now=now, schedule="now")
    tick(app, store, now)
    assert store._value("SELECT count(*) FROM outbox WHERE kind = 'broadcast' AND status = 'pending'") == 300
    first = store.claim_outbound("messenger", now=now + 1)
    assert first is not None and first["kind"] == "broadcast"  # the broadcast is sending
    [reply_id] = store.enqueue(channel="messenger", recipient="P250", messages=[{"text": "trả lời"}], at=now + 2)
    claimed = store.claim_outbound("messenger", now=now + 2)
    assert claimed is not None and claimed["id"] == reply_id
    # and the broadcast takes the rest of the rate
    after = store.claim_outbound("messenger", now=now + 3)
    assert after is not None and after["kind"] == "broadcast"


def test_the_claim_uses_the_priority_index(app, store):
    plan = " ".join(
        str(r[3])
        for r in store.db.execute(
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
    assert store._value("SELECT count(*) FROM outbox WHERE run_id = ?", [run["id"]]) == 20
    broadcasts.finish_runs(store, now)  # nothing open yet must not end a run that is still expanding
    assert store.get_run(run["id"])["state"] == "sending"
    monkeypatch.setattr(store, "expand_run_chunk", real_chunk)
    broadcasts.start_runs(store, app.config, app.extensions["bot"].channels, now + 1, chunk=10)
    run = store.get_run(run["id"])
    assert run["expanded_at"] is not None and run["targeted"] == 25
    assert store._value("SELECT count(DISTINCT member_id) FROM outbox WHERE run_id = ?", [run["id"]]) == 25
    assert len(transactions) >= 4  # one per chunk, not one for the whole audience
