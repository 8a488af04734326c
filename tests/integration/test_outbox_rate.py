"""The outbox's rate limiter: never above the configured rate, close to it under load."""

from __future__ import annotations

import json
import threading
import time

from werkzeug import Request, Response

from bot.pipeline.outbox import ChannelSender, TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_spaces_slots_evenly_and_never_bursts():
    clock = FakeClock()
    bucket = TokenBucket(10, clock=clock)
    waits = [bucket.reserve() for _ in range(5)]  # five callers at the same instant
    spacing = 1 / (10 * TokenBucket.MARGIN)
    assert waits[0] == 0
    assert all(abs((b - a) - spacing) < 1e-9 for a, b in zip(waits, waits[1:]))
    clock.now += 60  # idle for a minute: no burst of saved-up slots afterwards
    assert bucket.reserve() == 0
    assert abs(bucket.reserve() - spacing) < 1e-9


def test_rate_zero_switches_the_limit_off():
    bucket = TokenBucket(0)
    assert all(bucket.reserve() == 0 for _ in range(1000))


def test_senders_hold_the_configured_rate(app, store, httpserver):
    """Four sender threads, 20 messages/s configured: the platform never sees more."""
    stamps: list[float] = []
    lock = threading.Lock()

    def handler(request: Request) -> Response:
        with lock:
            stamps.append(time.monotonic())
        body = json.loads(request.data)
        return Response(json.dumps({"recipient_id": body["recipient"]["id"], "message_id": f"m{len(stamps)}"}), content_type="application/json")

    httpserver.expect_request("/me/messages", method="POST").respond_with_handler(handler)
    for i in range(30):
        store.enqueue(channel="messenger", recipient=f"R{i}", messages=[{"text": "x"}], at=app.extensions["bot"].clock.now())
    services = app.extensions["bot"]
    sender = ChannelSender(
        services.channels["messenger"], services.open_store, app.config, rate=20, threads=4, wakeup=threading.Event(),
        clock=services.clock,
    )
    sender.start()
    try:
        deadline = time.monotonic() + 10
        while len(stamps) < 30 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        sender.stop()
    assert len(stamps) == 30
    elapsed = stamps[-1] - stamps[0]
    assert elapsed >= 29 / 20 * 0.97  # not faster than 20/s
    assert elapsed <= 29 / 20 * 1.5  # and not much slower
    for i, start in enumerate(stamps):  # no one-second window holds more than 20 (+1 for a few ms of network jitter)
        assert sum(1 for t in stamps[i:] if t < start + 1.0) <= 21


def test_idle_senders_do_not_spin_on_due_messages_they_may_not_send(app, store, monkeypatch):
    """A due message held back (a broadcast in quiet hours, or a part waiting behind the
    recipient's message in flight) must not make the sender threads loop without pause."""
    from bot.storage.store import Store

    now = app.extensions["bot"].clock.now()
    store.enqueue(channel="messenger", recipient="B", messages=[{"text": "tin"}], at=now, kind="broadcast", messaging_type="UPDATE")
    store.enqueue(channel="messenger", recipient="R", messages=[{"text": "1"}, {"text": "2"}], at=now)
    assert store.claim_outbound("messenger", now=now, broadcasts=False)["recipient"] == "R"  # part 1 in flight
    calls = {"n": 0}
    original = Store.claim_outbound

    def counting(self, *args, **kwargs):
        calls["n"] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Store, "claim_outbound", counting)
    services = app.extensions["bot"]
    sender = ChannelSender(
        services.channels["messenger"], services.open_store, app.config, rate=20, threads=2,
        wakeup=threading.Event(), broadcasts_allowed=lambda now: False, clock=services.clock,
    )
    sender.start()
    try:
        time.sleep(0.5)
    finally:
        sender.stop()
    assert calls["n"] <= 6, f"{calls['n']} claims in 0.5 s: the idle senders spin"
