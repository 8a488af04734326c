"""The quiz in chat: listing, answering by tap/letter/number/text, restarts, expiry, closed quizzes, ranks."""

from __future__ import annotations


import pytest

from bot.core.models import Event
from bot.participation import catalog as catalog_module
from bot.participation.quizzes import parse_quizzes
from tests import dbcheck
from tests.participation_support import CLOSED_ON, CLOSES, QUIZZES, Chat, content_app, make_content


@pytest.fixture
def content(tmp_path):
    return make_content(tmp_path / "content")


@pytest.fixture
def app(httpserver, db_path, content, clock):
    return content_app(httpserver, db_path, clock, content)


def start_open_quiz(chat: Chat) -> None:
    chat.send("THI")
    chat.tap(next(c.title for c in chat.last.choices if c.payload == "QUIZ_START:test-open"))


def attempts(store, member_id):
    return dbcheck.rows(store, "SELECT * FROM quiz_attempts WHERE member_id = ? ORDER BY id", [member_id])


@pytest.mark.parametrize("channel,group", [
    ("simulator", None), ("messenger", None), ("zalo", None), ("zalo_bot", None), ("console", None), ("zalo", "G1"),
])
def test_a_whole_quiz_on_each_channel_style(app, store, channel, group):
    chat = Chat(app, store, channel=channel, group=group)
    chat.send("thi")
    assert "Bài thi thử đang mở" in chat.rendered and "Bài thi thử đã đóng" not in chat.rendered
    chat.tap(next(c.title for c in chat.last.choices if c.payload == "QUIZ_START:test-open"))
    shown = chat.rendered
    assert "Câu 1/3: Lãnh hải" in shown
    if channel in ("zalo_bot", "console") or group:
        assert "1. 12 hải lý" in shown and "(Trả lời bằng số" in shown  # numbered text
    else:
        assert "A. 12 hải lý" in shown  # letters in the text, the key on the quick reply / button
        assert chat.last.choices[0].title == "A. 12 hải lý"
    if channel == "zalo" and not group:
        assert len(chat.last.choices) <= 5  # Zalo OA shows at most 5 buttons
    chat.send("a")  # by letter
    assert "✅ Chính xác!" in chat.text and "Nguồn:" in chat.text and "Câu 2/3" in chat.text
    chat.send("1 km")  # by the choice's text (wrong)
    assert "❌ Chưa đúng. Đáp án đúng: 1,852 km." in chat.text
    chat.send("2")  # by number: Khánh Hòa is second
    text = chat.text
    assert "Điểm: 2/3 câu đúng." in text and "Thời gian:" in text
    assert "chưa có xếp hạng" in text  # not registered: no unit rank
    rows = attempts(store, chat.member["id"])
    assert len(rows) == 1 and rows[0]["state"] == "finished" and rows[0]["score"] == 2
    answers = store.answers_of(rows[0]["id"])
    assert [(a["question_id"], a["correct"]) for a in answers] == [("lanh-hai", 1), ("hai-ly", 0), ("truong-sa", 1)]


def test_taps_carry_payloads_and_text_without_diacritics_is_understood(app, store):
    chat = Chat(app, store, channel="messenger")
    start_open_quiz(chat)
    chat.tap("A.")  # quick reply payload
    assert "✅" in chat.text
    chat.send("1,852 KM")
    assert "✅" in chat.text
    chat.send("khanh hoa")  # no diacritics, part of the text
    assert "Điểm: 3/3" in chat.text


@pytest.mark.parametrize("reply", ["e", "5", "không biết", "hải lý"])
def test_invalid_answers_repeat_the_question_and_store_nothing(app, store, reply):
    chat = Chat(app, store)
    start_open_quiz(chat)
    chat.send(reply)
    assert "chưa nhận ra đáp án" in chat.text and "Câu 1/3" in chat.text
    assert chat.result.meta.get("quiz_invalid")
    attempt = attempts(store, chat.member["id"])[0]
    assert attempt["position"] == 0 and store.answers_of(attempt["id"]) == []
    chat.send("a")
    assert "Câu 2/3" in chat.text


def test_an_old_tap_does_not_answer_the_current_question(app, store):
    chat = Chat(app, store)
    start_open_quiz(chat)
    first = chat.choice("A.")
    chat.send("a")
    chat.send(first.title, payload=first.payload)  # the same button again
    assert "đã trả lời rồi" in chat.text and "Câu 2/3" in chat.text
    assert len(store.answers_of(attempts(store, chat.member["id"])[0]["id"])) == 1


def test_quiz_survives_a_restart_mid_quiz(httpserver, db_path, content, clock):
    from bot.storage.store import Store

    first = content_app(httpserver, db_path, clock, content)
    store = Store.open(db_path)
    chat = Chat(first, store, channel="zalo_bot")
    start_open_quiz(chat)
    chat.send("1")
    before = chat.rendered
    assert "Câu 2/3" in before
    store.close()
    # the process dies; a new app and a new connection on the same database
    second = content_app(httpserver, db_path, clock, content)
    store = Store.open(db_path)
    chat.app, chat.store = second, store
    chat.send("2")  # the choices offered before the restart still resolve
    assert "✅" in chat.text and "Câu 3/3" in chat.text
    chat.send("khánh hòa")
    assert "Điểm: 3/3" in chat.text
    store.close()


def test_shuffle_is_fixed_per_attempt_and_survives_a_restart(httpserver, db_path, tmp_path, clock):
    from bot.storage.store import Store

    shuffled = QUIZZES["test-open.yaml"].replace("shuffle_questions: false", "shuffle_questions: true").replace(
        "shuffle_choices: false", "shuffle_choices: true")
    content = make_content(tmp_path / "content", {"test-open.yaml": shuffled})
    app = content_app(httpserver, db_path, clock, content)
    store = Store.open(db_path)
    chat = Chat(app, store)
    start_open_quiz(chat)
    attempt = attempts(store, chat.member["id"])[0]
    quiz = parse_quizzes(content)[0]["test-open"]
    assert quiz.plan(attempt["seed"]) == store.get_attempt(attempt["id"])["plan"]  # deterministic from the seed
    shown = [c.payload for c in chat.last.choices]
    again = content_app(httpserver, db_path, clock, content)
    chat.app = again
    chat.send("tiếp tục")  # not an answer: the same question in the same order
    assert [c.payload for c in chat.last.choices] == shown
    store.close()


def test_closed_quiz_says_so(app, store):
    chat = Chat(app, store)
    chat.send("x", payload="QUIZ_START:test-closed")
    assert "đã đóng" in chat.text and f"{CLOSED_ON:%d/%m/%Y}" in chat.text
    assert chat.result.meta["command"] == "quiz_closed"
    assert attempts(store, chat.member["id"]) == []


def test_a_quiz_closing_during_an_attempt_stops_it(app, store, content):
    chat = Chat(app, store)
    start_open_quiz(chat)
    (content / "quizzes" / "test-open.yaml").write_text(
        QUIZZES["test-open.yaml"].lstrip().replace(f"closes: {CLOSES}", f"closes: {CLOSED_ON.isoformat()}"), encoding="utf-8")
    catalog_module._cache.entries.clear()
    chat.send("a")
    assert "đã đóng" in chat.text
    assert attempts(store, chat.member["id"])[0]["state"] == "closed"


def test_an_abandoned_attempt_expires_and_is_not_scored(app, store, clock):
    chat = Chat(app, store, channel="zalo")
    start_open_quiz(chat)
    chat.send("a")
    later = clock.now() + float(app.config["QUIZ_ATTEMPT_EXPIRY_MINUTES"]) * 60 + 5
    chat.send("b", now=later)  # the stored choices still resolve "b", but the attempt is over
    assert "hết hạn" in chat.text and chat.text.count("hết hạn") == 1
    row = attempts(store, chat.member["id"])[0]
    assert row["state"] == "expired" and row["duration"] is None
    assert store.leaderboard("test-open") == []
    chat.send("thi", now=later + 1)
    chat.send("x", payload="QUIZ_START:test-open", now=later + 2)
    assert "Câu 1/3" in chat.text  # a fresh attempt
    assert [a["state"] for a in attempts(store, chat.member["id"])] == ["expired", "active"]


def test_a_paused_attempt_resumes_at_the_same_question(app, store):
    chat = Chat(app, store)
    start_open_quiz(chat)
    chat.send("a")
    chat.tap("Dừng thi")
    assert "tạm dừng" in chat.text
    chat.send("bờ biển dài bao nhiêu")  # questions go to the answer engine again
    assert chat.result.meta["handler"] == "answers"
    chat.send("thi")
    assert "đang làm dở câu 2" in chat.text
    chat.tap(next(c.title for c in chat.last.choices if c.payload == "QUIZ_START:test-open"))
    assert "Câu 2/3" in chat.text


def test_attempts_allowed_is_enforced(app, store):
    chat = Chat(app, store)
    for _ in range(2):
        chat.send("x", payload="QUIZ_START:test-open")
        for answer in ("a", "b", "b"):
            chat.send(answer)
    chat.send("x", payload="QUIZ_START:test-open")
    assert "đã thi đủ 2 lượt" in chat.text


def test_time_limit_per_question(app, store, clock):
    chat = Chat(app, store)
    now = clock.now()
    chat.send("x", payload="QUIZ_START:test-timed", now=now)
    assert "30 giây" in chat.text
    chat.send("a", now=now + 60)  # right choice, too late
    assert "Hết thời gian" in chat.text
    chat.send("b", now=now + 65)
    assert "Điểm: 1/2" in chat.text


def test_rank_in_the_members_unit(app, store, clock):
    # members of a platform: testers in the simulator never count in anyone's rank
    fast = Chat(app, store, user="FAST", channel="zalo_bot")
    slow = Chat(app, store, user="SLOW", channel="zalo_bot")
    other = Chat(app, store, user="OTHER", channel="zalo_bot")
    fast.register(name="Lê Thị Nhanh", phone="0912000001")
    slow.register(name="Lê Thị Chậm", phone="0912000002")
    other.register(name="Lê Thị Khác", unit_query="ap 1 lai hoa", phone="0912000003")
    t = clock.now()
    for chat, gap in ((fast, 1), (slow, 20), (other, 1)):
        chat.send("x", payload="QUIZ_START:test-open", now=t)
        for i, answer in enumerate(("a", "b", "b"), 1):
            chat.send(answer, now=t + gap * i)
    assert "Xếp hạng trong Chi hội Khóm 1 (mẫu) – Phường Phú Lợi: 1/1" in fast.text
    assert "Xếp hạng trong Chi hội Khóm 1 (mẫu) – Phường Phú Lợi: 2/2" in slow.text  # same score, slower
    assert "Xếp hạng trong Chi hội Ấp 1 (mẫu) – Xã Lai Hòa: 1/1" in other.text
    board = store.leaderboard("test-open")
    assert [r["full_name"] for r in board] == ["Lê Thị Nhanh", "Lê Thị Khác", "Lê Thị Chậm"]


def test_commands_of_other_features_work_during_a_quiz(app, store):
    chat = Chat(app, store)
    start_open_quiz(chat)
    chat.send("hái hoa")
    assert chat.result.meta["handler"] == "haihoa"
    chat.send("thi")
    assert chat.result.meta["handler"] == "quiz" and "đang làm dở câu 1" in chat.text


def test_shipped_quizzes_are_valid_and_cite_approved_bank_entries():
    from bot.answers.bank import parse_content
    from bot.participation.quizzes import check_quizzes
    from tests.participation_support import ROOT

    assert [str(i) for i in check_quizzes(ROOT / "content") if i.is_error] == []
    quizzes, _ = parse_quizzes(ROOT / "content")
    entries = {e.id: e for e in parse_content(ROOT / "content")[1]}
    assert len(quizzes) >= 2
    for quiz in quizzes.values():
        assert 8 <= len(quiz.questions) <= 12
        for q in quiz.questions:
            assert entries[q.source].approved and entries[q.source].sources
    # the shipped files hold one quiz to take and one closed sample: when the latest one opens
    # (the content's own dates, not the calendar), the other has closed
    opened = max(q.window("Asia/Ho_Chi_Minh")[0] for q in quizzes.values()) + 1
    statuses = {q.status(opened, "Asia/Ho_Chi_Minh") for q in quizzes.values()}
    assert {"open", "closed"} <= statuses


def test_a_tap_is_read_by_its_payload_not_its_title(app, store):
    chat = Chat(app, store)
    chat.send("Thi", payload="QUIZ_START:test-open")  # the title is a command word; the payload wins
    assert "Câu 1/3" in chat.text
    chat.send("hái hoa", payload="CONTEST_LIST")
    assert chat.result.meta["handler"] == "contest"


def test_a_question_removed_during_an_attempt_counts_as_unanswered(app, store, content):
    chat = Chat(app, store)
    start_open_quiz(chat)
    without = QUIZZES["test-open.yaml"].lstrip()
    cut = without.index("  - id: hai-ly")
    end = without.index("  - id: truong-sa")
    (content / "quizzes" / "test-open.yaml").write_text(without[:cut] + without[end:], encoding="utf-8")
    catalog_module._cache.entries.clear()
    chat.send("a")  # question 2 is gone: straight to question 3
    assert "Câu 3/3" in chat.text
    chat.send("b")
    assert "Điểm: 2/3" in chat.text


def test_typing_the_text_of_a_numeric_choice_picks_it():
    # "25" is the text of a choice (the shipped quiz asks how many border provinces: 15, 25 or 28),
    # not the 25th choice; "2" is still the second choice
    from bot.conversation.flow import pick_index

    assert pick_index("25", ["15", "25", "28"]) == 1
    assert pick_index("28", ["28", "15", "25"]) == 0
    assert pick_index("2", ["15", "25", "28"]) == 1
    assert pick_index("b", ["15", "25", "28"]) == 1
    assert pick_index("30", ["15", "25", "28"]) is None


def _question_sent(store, attempt, sent_at):
    """The replies carrying the attempt's current question left the outbox at ``sent_at``."""
    with store.transaction():
        [inbox_id] = store.add_inbound(
            [(Event(channel=attempt["channel"], kind="text", user_id="U1", event_key=attempt["asked_event_key"]), {})],
            at=sent_at - 100,
        )
        [outbox_id] = store.enqueue(channel=attempt["channel"], recipient="U1", messages=[{"text": "Câu 1"}],
                                    at=sent_at - 100, inbox_id=inbox_id)
        store.mark_sent(outbox_id, platform_message_id="m1", at=sent_at)


def test_answer_time_counts_from_the_questions_send_time_to_the_platforms_event_time(app, store, clock):
    chat = Chat(app, store)
    now = clock.now()
    chat.send("x", payload="QUIZ_START:test-timed", now=now)
    [attempt] = attempts(store, chat.member["id"])
    assert attempt["asked_event_key"]
    _question_sent(store, attempt, now + 50)  # the question waited 50 s in the outbox
    # answered 10 s after it arrived; the bot processed the answer 20 s later still
    chat.send("a", now=now + 80, sent_at=now + 60)
    assert "Hết thời gian" not in chat.text and "✅" in chat.text
    [answer] = store.answers_of(attempt["id"])
    assert answer["elapsed"] == pytest.approx(10.0)
