"""What several processes share (issue 17, item 4): one leader (an advisory lock on PostgreSQL,
the heartbeat lease on SQLite), each channel's send rate across every sender, and the
messages in flight of live senders, which nobody else recovers."""

from __future__ import annotations

import json
import threading
import time

import pytest
from werkzeug import Request, Response

from tests import dbcheck

pytestmark = pytest.mark.engines


def _terminate(db_path: str, application_name: str) -> int:
    """Kill a session from outside, as a dead host or a restarted server would."""
    import psycopg

    with psycopg.connect(db_path, autocommit=True) as conn:
        return len(conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", [application_name]
        ).fetchall())


def test_two_candidates_one_leads_and_the_other_takes_over_when_it_dies(store, db_path, clock):
    first = store.leadership("test-leader", "host-a:1:aa", ttl=30)
    second = store.leadership("test-leader", "host-b:2:bb", ttl=30)
    try:
        assert first.try_acquire(clock.now())
        assert not second.try_acquire(clock.now())  # exactly one leads
        assert first.keep(clock.now())
        assert second.holder()["owner"] == "host-a:1:aa"  # who leads, for the refusal message
        if store.postgres:
            assert _terminate(db_path, "bot-leader host-a:1:aa") == 1  # the leader's connection dies
            started = time.monotonic()
            while not second.try_acquire(clock.now()):  # a standby's retries
                assert time.monotonic() - started < 5, "the standby did not take over within 5 s"
                time.sleep(0.2)
            assert not first.keep(clock.now())  # the old leader notices at its next heartbeat
            assert not first.try_acquire(clock.now())  # and cannot come back while the new one lives
        else:  # SQLite: the dead leader's lease lapses after its TTL
            clock.advance(31)
            assert second.try_acquire(clock.now())
            assert not first.keep(clock.now())
        assert second.holder()["owner"] == "host-b:2:bb"
    finally:
        first.release()
        second.release()


def _fake_platform(httpserver):
    """The Messenger Send API of a fake platform: records when each send arrives, and for whom."""
    received: list[tuple[float, str]] = []
    lock = threading.Lock()

    def handler(request: Request) -> Response:
        recipient = json.loads(request.data)["recipient"]["id"]
        with lock:
            received.append((time.monotonic(), recipient))
            n = len(received)
        return Response(json.dumps({"recipient_id": recipient, "message_id": f"m{n}"}), content_type="application/json")

    httpserver.expect_request("/me/messages", method="POST").respond_with_handler(handler)
    return received


def _max_in_one_second(stamps: list[float], window: float = 1.0) -> int:
    stamps = sorted(stamps)
    return max(sum(1 for t in stamps[i:] if t < start + window) for i, start in enumerate(stamps))


def assert_rate_held(stamps: list[float], rate: float) -> str:
    """The platform never saw more than ``rate`` per second: on average (1 % margin), in any five
    seconds (1 % and one message), in any one second (one message: the few ms between a slot and
    the arrival can bring the next second's first send in)."""
    overall = (len(stamps) - 1) / (max(stamps) - min(stamps))
    one, five = _max_in_one_second(stamps), _max_in_one_second(stamps, 5.0)
    assert overall <= rate * 1.01, overall
    assert five <= 5 * rate * 1.01 + 1, five
    assert one <= rate + 1, one
    return f"overall {overall:.2f}/s, busiest second {one}, busiest five seconds {five}"


def _two_senders_send(app, store, httpserver, *, shared: bool, rate: float, count: int) -> list[tuple[float, str]]:
    """Two senders, as two processes would be (each thread with its own connection), drain ``count`` messages."""
    from bot.pipeline.outbox import ChannelSender

    received = _fake_platform(httpserver)
    services = app.extensions["bot"]
    for i in range(count):
        store.enqueue(channel="messenger", recipient=f"R{i}", messages=[{"text": "x"}], at=services.clock.now())
    senders = [
        ChannelSender(
            services.channels["messenger"], services.open_store, app.config, rate=rate, threads=4,
            wakeup=threading.Event(), clock=services.clock, shared_rate=shared, owner=f"host-{n}:1:x",
        )
        for n in range(2)
    ]
    for sender in senders:
        sender.start()
    try:
        deadline = time.monotonic() + count / rate * 2 + 10
        while len(received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        for sender in senders:
            sender.stop()
    return received


def test_two_senders_sharing_the_rate_never_exceed_it_together(app, store, httpserver):
    rate, count = 20.0, 140  # seven seconds at the full rate
    received = _two_senders_send(app, store, httpserver, shared=True, rate=rate, count=count)
    recipients = [r for _, r in received]
    assert sorted(recipients) == sorted(f"R{i}" for i in range(count))  # every message once, none twice
    stamps = [t for t, _ in received]
    print(f"shared rate {rate}/s, two senders: {assert_rate_held(stamps, rate)}")
    assert (len(stamps) - 1) / (max(stamps) - min(stamps)) >= rate * 0.85  # the two senders use the whole rate
    statuses = dbcheck.rows(store, "SELECT status, count(*) AS n FROM outbox GROUP BY status")
    assert statuses == [{"status": "sent", "n": count}]


def test_two_senders_with_rates_of_their_own_would_exceed_it(app, store, httpserver):
    """The control: the measure above sees the overrun when each process keeps its own bucket."""
    rate, count = 20.0, 80
    received = _two_senders_send(app, store, httpserver, shared=False, rate=rate, count=count)
    assert len(received) == count
    assert _max_in_one_second([t for t, _ in received]) > rate * 1.5


def test_slots_are_spaced_across_connections_and_a_refund_never_moves_a_later_slot(store, db_path):
    from bot.storage.store import Store

    other = Store(db_path)  # another process's connection
    try:
        interval = 0.5
        a_marker, a_wait = store.reserve_send_slot("messenger", interval)
        b_marker, b_wait = other.reserve_send_slot("messenger", interval)
        assert a_wait < 0.05 and abs(b_wait - interval) < 0.05  # the second waits one interval
        assert abs((b_marker - a_marker) - interval) < 1e-6
        assert not store.refund_send_slot("messenger", a_marker, interval)  # a later slot exists: kept
        assert other.refund_send_slot("messenger", b_marker, interval)  # the last one comes back
        _, again = store.reserve_send_slot("messenger", interval)
        assert abs(again - b_wait) < 0.05  # the refunded slot is handed out again, not an earlier one
        _, zalo = other.reserve_send_slot("zalo", interval)
        assert zalo < 0.05  # each channel has its own slots
    finally:
        other.close()


def test_messages_in_flight_in_a_live_sender_are_never_recovered_by_another(app, store, clock):
    """On PostgreSQL a second sender process may run on another host: its sends in flight stay
    'sending'; those of a sender whose registration lapsed become 'uncertain'."""
    from bot.pipeline.senders import SENDER_LEASE_TTL
    from bot.pipeline.workers import Workers

    now = clock.now()
    store.register_sender("other-host:7:live", now=now, ttl=SENDER_LEASE_TTL)
    store.register_sender("gone-host:8:dead", now=now - SENDER_LEASE_TTL - 5, ttl=SENDER_LEASE_TTL)
    ids = {}
    for owner in ("other-host:7:live", "gone-host:8:dead"):
        dbcheck.execute(
            store,
            "INSERT INTO outbox (channel, recipient, message, status, created_at, claimed_at, claimed_by)"
            " VALUES ('simulator', ?, '{\"text\": \"x\"}', 'sending', ?, ?, ?)",
            [owner, now, now, owner],
        )
        ids[owner] = dbcheck.value(store, "SELECT max(id) FROM outbox")
    workers = Workers(app.extensions["bot"])
    workers.start(wait=0)  # the leader starts (and runs its housekeeping at once)
    try:
        workers.housekeeping()
        live = store.get_outbound(ids["other-host:7:live"])
        dead = store.get_outbound(ids["gone-host:8:dead"])
    finally:
        workers.stop(grace=1)
    if store.postgres:
        assert live["status"] == "sending"  # another host's send in flight: left alone
    else:  # SQLite: nobody but the leader sends, so at its start everything in flight was orphaned
        assert live["status"] == "uncertain"
    assert dead["status"] == "uncertain" and dead["reason"] == "in_flight_at_crash"


def test_extra_senders_refuse_where_they_could_not_keep_the_rate(runner, store):
    from bot.pipeline.senders import NeedsPostgres, check_extra_senders

    if not store.postgres:
        result = runner.invoke(args=["run-sender"])
        assert result.exit_code != 0 and "PostgreSQL" in result.output  # SQLite: one process sends
    with pytest.raises(NeedsPostgres, match="SEND_RATE_SHARING"):
        check_extra_senders({"SEND_RATE_SHARING": "process"}, True)  # each process would keep its own rate
    check_extra_senders({"SEND_RATE_SHARING": "auto"}, True)
