"""Registration, a quiz, hái hoa and a contest report end to end on each platform:
signed webhook -> inbox -> dispatcher -> outbox -> the fake platform, as each renders choices."""

from __future__ import annotations

import json

import pytest
from werkzeug import Request, Response

from bot.pipeline.outbox import drain
from tests.conftest import ZALO_BOT_SECRET, sign_messenger, sign_zalo
from tests.participation_support import content_app, make_content


@pytest.fixture
def app(httpserver, db_path, tmp_path, clock):
    return content_app(httpserver, db_path, clock, make_content(tmp_path / "content"))


@pytest.fixture
def platform(httpserver):
    """The three send endpoints; remembers every message body per platform."""
    sent: dict[str, list[dict]] = {"messenger": [], "zalo": [], "zalo_bot": []}

    def handler(name, answer):
        def respond(request: Request) -> Response:
            sent[name].append(json.loads(request.data))
            return Response(json.dumps(answer(len(sent[name]))), content_type="application/json")
        return respond

    httpserver.expect_request("/me/messages", method="POST").respond_with_handler(
        handler("messenger", lambda n: {"recipient_id": "P", "message_id": f"m{n}"}))
    httpserver.expect_request("/v3.0/oa/message/cs", method="POST").respond_with_handler(
        handler("zalo", lambda n: {"data": {"message_id": f"z{n}"}, "error": 0, "message": "Success"}))
    httpserver.expect_request("/bot12345:bot-secret-token/sendMessage", method="POST").respond_with_handler(
        handler("zalo_bot", lambda n: {"ok": True, "result": {"message_id": f"b{n}", "date": 1}}))
    return sent


class Member:
    """One member talking to the app through a platform's webhook."""

    def __init__(self, app, client, store, platform, channel, user):
        self.app, self.client, self.store, self.sent, self.channel, self.user = app, client, store, platform, channel, user
        self.n = 0

    def _post(self, body: dict) -> None:
        raw = json.dumps(body).encode()
        if self.channel == "messenger":
            resp = self.client.post("/webhooks/messenger", data=raw, headers={"X-Hub-Signature-256": sign_messenger(raw)})
        elif self.channel == "zalo":
            resp = self.client.post("/webhooks/zalo", data=raw, headers={"X-ZEvent-Signature": sign_zalo(raw)})
        else:
            resp = self.client.post("/webhooks/zalo-bot", data=raw, headers={"X-Bot-Api-Secret-Token": ZALO_BOT_SECRET})
        assert resp.status_code == 200
        services = self.app.extensions["bot"]
        services.processor.process_pending(self.store)
        drain(self.store, services.channels[self.channel], self.app.config, clock=self.app.extensions["bot"].clock)

    def say(self, text: str, payload: str | None = None) -> list[dict]:
        """Send a text (or a tap) and return the messages the platform received in reply."""
        self.n += 1
        before = len(self.sent[self.channel])
        ts = int(self.app.extensions["bot"].clock.now() * 1000)
        if self.channel == "messenger":
            message = {"mid": f"mid-{self.user}-{self.n}", "text": text}
            if payload:
                message["quick_reply"] = {"payload": payload}
            self._post({"object": "page", "entry": [{"id": "PAGE", "time": ts, "messaging": [
                {"sender": {"id": self.user}, "recipient": {"id": "PAGE"}, "timestamp": ts, "message": message}]}]})
        elif self.channel == "zalo":
            self._post({"app_id": "2553928453557884079", "event_name": "user_send_text", "timestamp": str(ts),
                        "sender": {"id": self.user}, "recipient": {"id": "OA"},
                        "message": {"text": f"#{payload}" if payload else text, "msg_id": f"zm-{self.user}-{self.n}"}})
        else:
            self._post({"ok": True, "result": {"event_name": "message.text.received", "message": {
                "from": {"id": self.user, "display_name": "Chị", "is_bot": False},
                "chat": {"id": self.user, "chat_type": "PRIVATE"}, "text": text, "message_id": f"bm-{self.n}", "date": ts}}})
        return self.sent[self.channel][before:]

    @staticmethod
    def text(messages: list[dict]) -> str:
        return "\n".join(m.get("message", {}).get("text", "") if "message" in m else m.get("text", "") for m in messages)

    @staticmethod
    def options(messages: list[dict]) -> list[tuple[str, str]]:
        """(title, payload) of the tappable choices under the last message."""
        last = messages[-1]
        if "message" in last and "quick_replies" in last["message"]:
            return [(q["title"], q["payload"]) for q in last["message"]["quick_replies"]]
        buttons = last.get("message", {}).get("attachment", {}).get("payload", {}).get("buttons", [])
        return [(b["title"], b["payload"]) for b in buttons if b["type"] == "oa.query.hide"]


def test_messenger_quick_replies(app, client, store, platform):
    m = Member(app, client, store, platform, "messenger", "PSID7")
    out = m.say("THI")
    # within 20 characters, and the words both quizzes start with ("Bài thi thử") left to the text
    assert ("1. Đang mở", "QUIZ_START:test-open") in m.options(out)
    assert "1. Bài thi thử đang mở" in m.text(out)  # the full title is in the text
    out = m.say("1. Bài thi thử đang mở", payload="QUIZ_START:test-open")
    options = m.options(out)
    assert [t for t, _ in options] == ["A. 12 hải lý", "B. 24 hải lý", "C. 200 hải lý", "Dừng thi"]
    assert all(len(t) <= 20 for t, _ in options)  # Messenger's quick-reply limit
    assert all(p["messaging_type"] == "RESPONSE" for p in platform["messenger"])
    out = m.say("A. 12 hải lý", payload=options[0][1])
    assert "✅" in m.text(out) and "Câu 2/3" in m.text(out)
    m.say("b")
    out = m.say("Khánh Hòa")
    assert "Điểm: 3/3" in m.text(out)
    out = m.say("hái hoa")
    assert "Câu hỏi hái hoa" in m.text(out) and any(t == "Xem đáp án" for t, _ in m.options(out))


def test_zalo_oa_buttons(app, client, store, platform):
    m = Member(app, client, store, platform, "zalo", "6142494823")
    out = m.say("đăng ký")
    assert [t for t, _ in m.options(out)] == ["Đồng ý", "Không đồng ý"]
    steps = [("", "REG_AGREE"), ("Phan Thị Ngọc", None), ("ap 2 lai hoa", None)]
    for text, payload in steps:
        out = m.say(text, payload)
    options = m.options(out)
    assert options[0] == ("1. Chi hội Ấp 2 (mẫu) – Xã Lai Hòa", "#REG_UNIT:CT.LAIHOA.CH02")  # button payloads come back with '#'
    m.say("", "REG_UNIT:CT.LAIHOA.CH02")
    m.say("", "REG_UNIT_OK")
    m.say("", "REG_PHONE_SKIP")
    m.say("", "REG_SAVE")
    member = store.find_member("zalo", "6142494823")
    assert member["unit_code"] == "CT.LAIHOA.CH02" and member["full_name"] == "Phan Thị Ngọc"
    out = m.say("", "QUIZ_START:test-open")
    assert len(m.options(out)) <= 5  # Zalo OA: at most 5 buttons
    for payload in [p for _, p in m.options(out)][:1]:
        out = m.say("", payload.lstrip("#"))
    assert "Câu 2/3" in m.text(out)
    out = m.say("tham gia cuộc thi")
    pick = next(p for t, p in m.options(out) if p == "#CONTEST_PICK:to-quoc-ben-bo-song-2022")
    out = m.say("", pick.lstrip("#"))
    buttons = out[-1]["message"]["attachment"]["payload"]["buttons"]
    assert any(b["type"] == "oa.open.url" for b in buttons)  # the contest's link
    m.say("", "CONTEST_YES:to-quoc-ben-bo-song-2022")
    assert store.member_participation(member["id"], "to-quoc-ben-bo-song-2022")["unit_code"] == "CT.LAIHOA.CH02"


def test_zalo_bot_numbered_text(app, client, store, platform):
    m = Member(app, client, store, platform, "zalo_bot", "botuser9")
    out = m.say("thi")
    assert "1. Bài thi thử" in m.text(out)
    index = next(line.split(".")[0] for line in m.text(out).splitlines() if "Bài thi thử đang mở" in line and line[0].isdigit())
    out = m.say(index)
    text = m.text(out)
    assert "Câu 1/3" in text and "1. 12 hải lý" in text and "(Trả lời bằng số từ 1 đến 4)" in text
    out = m.say("1")
    assert "✅" in m.text(out)
    out = m.say("1 km")
    assert "❌" in m.text(out)
    out = m.say("2")
    assert "Điểm: 2/3" in m.text(out)
    out = m.say("dữ liệu của tôi")
    assert "botuser9" in m.text(out) and "Bài thi: 1 lượt" in m.text(out)
