"""What one quiz answer costs the database (issue 17, item 6): a guard against added round trips.

A quiz burst is CPU-bound and, on PostgreSQL, every statement is a round trip to the
server: the number of statements per answer is the lever (bench/event_cost.py measures
it).  These tests push a member's answer through the real pipeline (signed webhook →
inbox → dispatcher → quiz → outbox → the fake platform) on both engines and fail if a
stage issues more statements than it does today.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from werkzeug import Request, Response

from bot.pipeline.outbox import drain
from tests import dbcheck
from tests.conftest import sign_messenger
from tests.participation_support import content_app, make_content

pytestmark = pytest.mark.engines

# Statements per stage of one quiz answer, on either engine (before issue 17 item 6: SQLite 3/17/10,
# PostgreSQL 5/19/10).  ingest: one INSERT; process: the pending list twice (the second finds
# nothing), BEGIN, claim, member, conversation, attempt, answer (2), conversation, outbox row,
# done, COMMIT; send: the auth-alert check and the claim per message, mark_sent, then the
# check and the empty claim that end the drain.
MAX_STATEMENTS = {"ingest": 1, "process": 13, "send": 5}


@pytest.fixture
def app(httpserver, db_path, tmp_path, clock):
    return content_app(httpserver, db_path, clock, make_content(tmp_path / "content"))


@pytest.fixture
def platform(httpserver):
    sent: list[dict] = []

    def respond(request: Request) -> Response:
        sent.append(json.loads(request.data))
        return Response(json.dumps({"recipient_id": "P", "message_id": f"m{len(sent)}"}), content_type="application/json")

    httpserver.expect_request("/me/messages", method="POST").respond_with_handler(respond)
    return sent


class Counted:
    """Counts every statement any Store of the test's engine runs, per stage."""

    def __init__(self, monkeypatch, store):
        self.counts: Counter = Counter()
        self.stage = "other"
        cls = type(store.db)
        original = cls.execute

        def execute(db, sql, params=()):
            self.counts[self.stage] += 1
            return original(db, sql, params)

        monkeypatch.setattr(cls, "execute", execute)


def webhook(client, psid: str, mid: str, text: str, payload: str | None = None) -> None:
    message: dict = {"mid": mid, "text": text}
    if payload:
        message["quick_reply"] = {"payload": payload}
    body = json.dumps({"object": "page", "entry": [{"id": "PAGE", "time": 1, "messaging": [
        {"sender": {"id": psid}, "recipient": {"id": "PAGE"}, "timestamp": 1, "message": message}]}]}).encode()
    resp = client.post("/webhooks/messenger", data=body, headers={"X-Hub-Signature-256": sign_messenger(body)})
    assert resp.status_code == 200


def answer(app, client, store, counted: Counted, mid: str, text: str) -> Counter:
    services = app.extensions["bot"]
    counted.counts.clear()
    counted.stage = "ingest"
    webhook(client, "PSID-Q", mid, text)
    counted.stage = "process"
    assert services.processor.process_pending(store) == 1
    counted.stage = "send"
    drain(store, services.channels["messenger"], app.config, clock=services.clock)
    counted.stage = "other"
    return Counter(counted.counts)


def test_a_quiz_answer_takes_few_statements_and_still_reaches_the_member(app, client, store, platform, monkeypatch):
    services = app.extensions["bot"]
    webhook(client, "PSID-Q", "m-start", "Bài thi thử đang mở", payload="QUIZ_START:test-open")
    services.processor.process_pending(store)
    drain(store, services.channels["messenger"], app.config, clock=services.clock)
    assert "Câu 1/3" in platform[-1]["message"]["text"]
    before = len(platform)
    counted = Counted(monkeypatch, store)

    first = answer(app, client, store, counted, "m-a1", "a")
    assert "✅ Chính xác!" in platform[-1]["message"]["text"] and "Câu 2/3" in platform[-1]["message"]["text"]
    second = answer(app, client, store, counted, "m-a2", "a")  # a wrong answer: "1,852 km" is second
    assert "❌ Chưa đúng." in platform[-1]["message"]["text"] and "Câu 3/3" in platform[-1]["message"]["text"]
    for counts in (first, second):
        assert {stage: counts[stage] for stage in MAX_STATEMENTS} == {
            stage: min(counts[stage], limit) for stage, limit in MAX_STATEMENTS.items()
        }, f"more statements per quiz answer than {MAX_STATEMENTS}: {dict(counts)}"

    # each answer stored once, the attempt moved on, every event done
    member = store.find_member("messenger", "PSID-Q")
    rows = dbcheck.rows(store, "SELECT a.question_id, a.correct FROM quiz_answers a JOIN quiz_attempts t"
                        " ON t.id = a.attempt_id WHERE t.member_id = ? ORDER BY a.id", [member["id"]])
    assert [(r["question_id"], r["correct"]) for r in rows] == [("lanh-hai", 1), ("hai-ly", 0)]
    assert store.inbox_counts() == {"done": 3}
    assert len(platform) == before + 2  # one message per answer


def test_a_repeated_delivery_of_an_answer_changes_nothing(app, client, store, platform, monkeypatch):
    services = app.extensions["bot"]
    webhook(client, "PSID-Q", "m-start", "Bài thi thử đang mở", payload="QUIZ_START:test-open")
    services.processor.process_pending(store)
    drain(store, services.channels["messenger"], app.config, clock=services.clock)
    counted = Counted(monkeypatch, store)
    answer(app, client, store, counted, "m-a1", "a")
    sent = len(platform)
    webhook(client, "PSID-Q", "m-a1", "a")  # the platform delivers the same message again
    assert services.processor.process_pending(store) == 0
    drain(store, services.channels["messenger"], app.config, clock=services.clock)
    assert len(platform) == sent
    assert dbcheck.value(store, "SELECT count(*) FROM quiz_answers") == 1
