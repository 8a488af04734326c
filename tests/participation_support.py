"""Helpers for the participation tests: a content folder with test quizzes, and a chat driver.

The test content uses the shipped bank, units and contests (so quiz sources are
real approved entries) plus quizzes whose dates and order the tests control.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import datetime as dt

from bot.core import models
from bot.core.models import Event

ROOT = Path(__file__).resolve().parent.parent

def _pinned_day() -> dt.date:
    from tests.conftest import pinned_instant

    return dt.datetime.fromtimestamp(pinned_instant(), dt.timezone(dt.timedelta(hours=7))).date()


# Quiz windows relative to the tests' pinned day (never calendar dates that will pass):
# the open quizzes run from a year before to a year after it, the closed one ended 30 days before.
TODAY = _pinned_day()
OPENS = (TODAY - dt.timedelta(days=365)).isoformat()
CLOSES = (TODAY + dt.timedelta(days=365)).isoformat()
CLOSED_ON = TODAY - dt.timedelta(days=30)

QUIZZES = {
    "test-open.yaml": """
id: test-open
title: Bài thi thử đang mở
opens: {OPENS}
closes: {CLOSES}
attempts_allowed: 2
shuffle_questions: false
shuffle_choices: false
questions:
  - id: lanh-hai
    text: Lãnh hải Việt Nam rộng bao nhiêu hải lý?
    choices: [12 hải lý, 24 hải lý, 200 hải lý]
    correct: 12 hải lý
    explanation: Lãnh hải rộng 12 hải lý tính từ đường cơ sở.
    source: vung-bien-lanh-hai
  - id: hai-ly
    text: 1 hải lý bằng bao nhiêu ki-lô-mét?
    choices: [1 km, "1,852 km"]
    correct: "1,852 km"
    explanation: 1 hải lý bằng 1,852 km.
    source: vung-bien-hai-ly
  - id: truong-sa
    text: Quần đảo Trường Sa thuộc tỉnh nào?
    choices: [Đà Nẵng, Khánh Hòa, Quảng Ngãi, Phú Yên]
    correct: Khánh Hòa
    explanation: Quần đảo Trường Sa thuộc tỉnh Khánh Hòa.
    source: hs-ts-truong-sa-thuoc-dau
""",
    "test-closed.yaml": """
id: test-closed
title: Bài thi thử đã đóng
opens: {OPENS}
closes: {CLOSED}
questions:
  - id: lanh-hai
    text: Lãnh hải Việt Nam rộng bao nhiêu hải lý?
    choices: [12 hải lý, 24 hải lý]
    correct: 12 hải lý
    explanation: Lãnh hải rộng 12 hải lý.
    source: vung-bien-lanh-hai
""",
    "test-timed.yaml": """
id: test-timed
title: Bài thi thử có giới hạn giờ
opens: {OPENS}
closes: {CLOSES}
time_limit_seconds: 30
shuffle_questions: false
shuffle_choices: false
questions:
  - id: lanh-hai
    text: Lãnh hải Việt Nam rộng bao nhiêu hải lý?
    choices: [12 hải lý, 24 hải lý]
    correct: 12 hải lý
    explanation: Lãnh hải rộng 12 hải lý.
    source: vung-bien-lanh-hai
  - id: hai-ly
    text: 1 hải lý bằng bao nhiêu ki-lô-mét?
    choices: [1 km, "1,852 km"]
    correct: "1,852 km"
    explanation: 1 hải lý bằng 1,852 km.
    source: vung-bien-hai-ly
""",
}
QUIZZES = {
    name: text.replace("{OPENS}", OPENS).replace("{CLOSES}", CLOSES).replace("{CLOSED}", CLOSED_ON.isoformat())
    for name, text in QUIZZES.items()
}


def make_content(folder: Path, quizzes: dict[str, str] | None = None) -> Path:
    """A content folder: the shipped bank, topics, units and contests, plus test quizzes."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("bank", "topics.yaml", "units.yaml", "contests.yaml"):
        (folder / name).symlink_to(ROOT / "content" / name)
    (folder / "quizzes").mkdir()
    for name, text in (QUIZZES if quizzes is None else quizzes).items():
        (folder / "quizzes" / name).write_text(text.lstrip(), encoding="utf-8")
    return folder


class Chat:
    """Drives the dispatcher as one member on one channel, like tests/integration/test_dispatcher.py."""

    def __init__(self, app: Any, store: Any, *, user: str = "U1", channel: str = "simulator", group: str | None = None):
        self.app, self.store, self.user, self.channel, self.group = app, store, user, channel, group
        self.result: Any = None

    def send(self, text: str = "", *, payload: str | None = None, kind: str = models.TEXT, now: float | None = None,
             extra: dict[str, Any] | None = None, sent_at: float | None = None) -> Any:
        """``now``: when the bot processes the event; ``sent_at``: the platform's event time (default ``now``)."""
        services = self.app.extensions["bot"]
        at = sent_at if sent_at is not None else (now if now is not None else services.clock.now())
        event = Event(channel=self.channel, kind=kind, user_id=self.user, event_key=uuid.uuid4().hex, timestamp=at,
                      text=text, payload=payload, group_id=self.group, extra=extra or {})
        with self.store.transaction():
            self.result = services.dispatcher.handle(event, self.store, services.clock.now() if now is None else now)
        return self.result

    def tap(self, title_prefix: str, **kwargs: Any) -> Any:
        """Tap the offered choice whose title starts with ``title_prefix`` (its payload is sent)."""
        choice = self.choice(title_prefix)
        return self.send(choice.title, payload=choice.payload, **kwargs)

    def choice(self, title_prefix: str) -> Any:
        for c in self.last.choices:
            if c.title.startswith(title_prefix):
                return c
        raise AssertionError(f"no choice {title_prefix!r} in {[c.title for c in self.last.choices]}")

    @property
    def last(self) -> Any:
        return self.result.replies[-1]

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.result.replies)

    @property
    def rendered(self) -> str:
        """What the member sees: the replies as the channel renders them (numbered lists included)."""
        channel = self.app.extensions["bot"].channels[self.channel]
        parts = []
        for reply in self.result.replies:
            parts += [m.get("text", "") for m in channel.render(reply, group=self.group is not None)]
        return "\n".join(parts)

    @property
    def member(self) -> dict[str, Any]:
        return self.store.find_member(self.channel, self.user)

    def register(self, name: str = "Nguyễn Thị Lan", unit_query: str = "khom 1 phu loi", phone: str = "0912345678") -> None:
        """Complete a registration (consent, name, unit, phone, save)."""
        self.send("ĐĂNG KÝ")
        self.tap("Đồng ý")
        self.send(name)
        self.send(unit_query)
        self.send("1")
        self.tap("Xác nhận")
        self.send(phone) if phone else self.tap("Bỏ qua")
        self.tap("Lưu thông tin")
        assert self.member["registered_at"], self.text


def content_app(httpserver: Any, db_path: str, clock: Any, content_dir: Path, **extra: Any) -> Any:
    """An app on the fake platform with ``content_dir`` as CONTENT_DIR, on the test's pinned ``clock``
    (never the wall clock: expiry tests build their times from the same clock)."""
    from app import create_app
    from tests.conftest import platform_config

    return create_app(platform_config(httpserver.url_for("/"), db_path, CONTENT_DIR=str(content_dir), **extra), clock=clock)
