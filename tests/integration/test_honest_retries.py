"""Honest retries (issue 11, C): uncertain timeouts, paused channels on a refused token, stuck rows."""

from __future__ import annotations

import json
import time

import pytest
import requests
from werkzeug import Request, Response

from bot.pipeline.outbox import AUTH_PROBE_SECONDS, deliver_one, drain
from bot.pipeline.workers import Workers
from tests.conftest import platform_config


def _queue(store, clock, recipient="P1", text="xin chào"):
    [outbox_id] = store.enqueue(channel="messenger", recipient=recipient, messages=[{"text": text}], at=clock.now())
    return outbox_id


def _drain(app, store):
    services = app.extensions["bot"]
    return drain(store, services.channels["messenger"], services.config, clock=services.clock)


@pytest.fixture
def slow_app(httpserver, db_path, clock):
    from app import create_app

    return create_app(platform_config(httpserver.url_for("/"), db_path, HTTP_TIMEOUT_SECONDS="0.3"), clock=clock)


def test_a_read_timeout_after_sending_is_uncertain_not_retried(slow_app, store, httpserver, clock):
    def slow(request: Request) -> Response:
        time.sleep(0.8)  # the platform got it but answers after the timeout
        return Response(json.dumps({"recipient_id": "P1", "message_id": "m1"}), content_type="application/json")

    httpserver.expect_request("/me/messages", method="POST").respond_with_handler(slow)
    outbox_id = _queue(store, clock)
    _drain(slow_app, store)
    clock.advance(3600)
    _drain(slow_app, store)
    row = store.get_outbound(outbox_id)
    assert (row["status"], row["reason"]) == ("uncertain", "timeout_after_send")
    time.sleep(1.0)  # let the slow answer finish (the fake platform logs a request once answered)
    assert len([r for r, _ in httpserver.log if r.path == "/me/messages"]) == 1  # never sent twice


def test_a_request_that_never_left_is_retried(app, store, clock, monkeypatch):
    services = app.extensions["bot"]
    channel = services.channels["messenger"]
    post = requests.Session.post
    # nothing listens on port 9: the connection is refused before anything is sent
    monkeypatch.setattr(channel.session, "post", lambda url, **kw: post(channel.session, "http://127.0.0.1:9/", **kw))
    outbox_id = _queue(store, clock)
    drain(store, channel, services.config, clock=clock)
    row = store.get_outbound(outbox_id)  # retried at once (OUTBOX_RETRY_BASE_SECONDS=0) up to the limit
    assert (row["error_code"], row["attempts"], row["reason"]) == ("network", 6, "max_attempts")


def _graph_190():
    return {"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190, "fbtrace_id": "x"}}


def test_a_refused_token_pauses_the_channel_instead_of_failing_the_queue(app, store, httpserver, clock):
    state = {"token_ok": False}

    def handler(request: Request) -> Response:
        if not state["token_ok"]:
            return Response(json.dumps(_graph_190()), status=400, content_type="application/json")
        body = json.loads(request.data)
        return Response(json.dumps({"recipient_id": body["recipient"]["id"], "message_id": "m"}), content_type="application/json")

    httpserver.expect_request("/me/messages", method="POST").respond_with_handler(handler)
    ids = [_queue(store, clock, recipient=f"P{i}") for i in range(5)]
    _drain(app, store)
    assert len(httpserver.log) == 1  # one refusal, then the channel waits
    rows = [store.get_outbound(i) for i in ids]
    assert [r["status"] for r in rows] == ["pending"] * 5
    assert rows[0]["attempts"] == 0  # the token's fault, not the message's
    assert store.channel_statuses()["messenger"]["state"] == "alert"
    clock.advance(10)
    _drain(app, store)
    assert len(httpserver.log) == 1  # still paused
    state["token_ok"] = True  # staff fixed the token
    clock.advance(AUTH_PROBE_SECONDS)
    _drain(app, store)
    assert [store.get_outbound(i)["status"] for i in ids] == ["sent"] * 5
    assert store.channel_statuses()["messenger"]["state"] == "ok"


def test_an_error_before_the_send_never_leaves_the_row_sending(app, store, clock):
    services = app.extensions["bot"]
    outbox_id = _queue(store, clock)
    row = store.claim_outbound("messenger", now=clock.now())
    row["message"] = "{not json"
    deliver_one(store, services.channels["messenger"], row, config=services.config, clock=clock)
    assert store.get_outbound(outbox_id)["status"] == "failed"


def test_rows_stuck_in_sending_in_a_live_process_are_recovered(app, store, httpserver, clock):
    httpserver.expect_request("/me/messages", method="POST").respond_with_json({"recipient_id": "P1", "message_id": "m"})
    services = app.extensions["bot"]
    stuck = _queue(store, clock, text="một")
    later = _queue(store, clock, text="hai")
    assert store.claim_outbound("messenger", now=clock.now())["id"] == stuck  # then lost by a bug
    assert store.claim_outbound("messenger", now=clock.now()) is None  # it holds up the member's next message
    workers = Workers(services)
    workers.housekeeping()
    assert store.get_outbound(stuck)["status"] == "sending"  # a send may still be in flight
    clock.advance(workers.stale_sending_seconds() + 1)
    workers.housekeeping()
    assert (store.get_outbound(stuck)["status"], store.get_outbound(stuck)["reason"]) == ("uncertain", "stuck_sending")
    _drain(app, store)
    assert store.get_outbound(later)["status"] == "sent"


def test_a_lock_timeout_leaves_the_event_pending_and_it_is_processed_later(app, store, monkeypatch):
    import sqlite3

    from bot.pipeline.inbox import ingest
    from tests.integration.test_members_first import _text_events

    services = app.extensions["bot"]
    ingest(store, _text_events("messenger", 1), now=services.clock.now())
    real = services.dispatcher.handle

    def locked(*args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(services.dispatcher, "handle", locked)
    services.processor.process_pending(store)
    assert store.inbox_counts() == {"pending": 1}  # not 'failed'
    monkeypatch.setattr(services.dispatcher, "handle", real)
    services.processor.process_pending(store)
    assert store.inbox_counts() == {"done": 1}


def test_flask_inbox_requeue_processes_failed_events_again(app, store, runner, monkeypatch):
    from bot.pipeline.inbox import ingest
    from tests.integration.test_members_first import _text_events

    services = app.extensions["bot"]
    ingest(store, _text_events("messenger", 2), now=services.clock.now())
    real = services.dispatcher.handle
    monkeypatch.setattr(services.dispatcher, "handle", lambda *a, **k: 1 / 0)
    services.processor.process_pending(store)
    assert store.inbox_counts() == {"failed": 2}
    monkeypatch.setattr(services.dispatcher, "handle", real)
    result = runner.invoke(args=["inbox", "requeue"])
    assert result.exit_code == 0 and "2 sự kiện" in result.output
    services.processor.process_pending(store)
    assert store.inbox_counts() == {"done": 2}


def test_requeue_uncertain_needs_ids_or_all_and_resets_attempts(app, store, runner, clock):
    outbox_id = _queue(store, clock)
    store.claim_outbound("messenger", now=clock.now())
    store.recover_in_flight(at=clock.now())
    result = runner.invoke(args=["outbox", "requeue-uncertain"])
    assert result.exit_code != 0 and "--all" in result.output
    assert store.get_outbound(outbox_id)["status"] == "uncertain"
    # for UNCERTAIN_HOLD_MINUTES the platform's echo may still confirm it: --all leaves it
    result = runner.invoke(args=["outbox", "requeue-uncertain", "--all", "--yes"])
    assert result.exit_code == 0 and "chờ nền tảng xác nhận" in result.output, result.output
    assert store.get_outbound(outbox_id)["status"] == "uncertain"
    clock.advance(app.config["UNCERTAIN_HOLD_MINUTES"] * 60 + 1)
    result = runner.invoke(args=["outbox", "requeue-uncertain", "--all", "--yes"])
    assert result.exit_code == 0, result.output
    row = store.get_outbound(outbox_id)
    assert (row["status"], row["attempts"]) == ("pending", 0)
