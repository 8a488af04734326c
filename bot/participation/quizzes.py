"""Quizzes defined in content/quizzes/*.yaml: loading and validation.

A quiz has an id, a title, open and close times (local time), questions with 2–4
choices, the correct choice, a short explanation and its source (an approved
entry of the content bank, whose sources are cited), an optional time limit per
question, the number of attempts allowed and shuffling.  See content/quizzes/README.md.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from bot.answers.bank import ContentIssue, parse_content
from bot.participation.catalog_yaml import (
    line_of,
    parse_local_datetime,
    read_yaml,
    text_value,
    unknown_keys,
)

QUIZ_DIR = "quizzes"
QUIZ_FIELDS = (
    "id", "title", "description", "opens", "closes", "time_limit_seconds", "attempts_allowed",
    "shuffle_questions", "shuffle_choices", "questions",
)
QUESTION_FIELDS = ("id", "text", "choices", "correct", "explanation", "source", "time_limit_seconds")
MAX_QUESTION_CHARS = 300
MAX_CHOICE_CHARS = 120
MAX_EXPLANATION_CHARS = 600
MAX_TITLE_CHARS = 80


@dataclass(frozen=True)
class Question:
    """One multiple-choice question; ``correct`` is an index into ``choices``."""

    id: str
    text: str
    choices: tuple[str, ...]
    correct: int
    explanation: str
    source: str  # id of an approved content bank entry
    time_limit: int = 0  # seconds; 0 = no limit


@dataclass(frozen=True)
class Quiz:
    """A quiz and its schedule; times are naive local datetimes (setting TIMEZONE)."""

    id: str
    title: str
    description: str
    opens: dt.datetime
    closes: dt.datetime
    questions: tuple[Question, ...]
    attempts_allowed: int = 0  # 0 = unlimited
    shuffle_questions: bool = True
    shuffle_choices: bool = True
    file: str = ""

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def window(self, tz: str) -> tuple[float, float]:
        zone = ZoneInfo(tz)
        return self.opens.replace(tzinfo=zone).timestamp(), self.closes.replace(tzinfo=zone).timestamp()

    def status(self, now: float, tz: str) -> str:
        """'upcoming', 'open' or 'closed' at ``now``."""
        opens, closes = self.window(tz)
        if now < opens:
            return "upcoming"
        return "open" if now <= closes else "closed"

    def plan(self, seed: int) -> list[list[Any]]:
        """The order questions and choices are shown in, fixed by ``seed`` (stored per attempt)."""
        rng = random.Random(seed)
        questions = list(self.questions)
        if self.shuffle_questions:
            rng.shuffle(questions)
        plan = []
        for q in questions:
            order = list(range(len(q.choices)))
            if self.shuffle_choices:
                rng.shuffle(order)
            plan.append([q.id, order])
        return plan


def _bool(value: Any, default: bool) -> bool | None:
    if value is None:
        return default
    return value if isinstance(value, bool) else None


def _int(value: Any, default: int) -> int | None:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


class _QuizChecker:
    """Validates one quiz mapping; collects issues; builds the Quiz when it is valid."""

    def __init__(self, path: str, data: dict[str, Any], bank_ids: dict[str, bool] | None):
        self.path = path
        self.data = data
        self.bank_ids = bank_ids
        self.issues: list[ContentIssue] = []
        self.quiz_id = text_value(data.get("id"))

    def error(self, message: str, line: int | None = None, severity: str = "error") -> None:
        self.issues.append(ContentIssue(self.path, line or line_of(self.data), self.quiz_id or None, message, severity))

    def check(self) -> Quiz | None:
        data = self.data
        for key in unknown_keys(data, QUIZ_FIELDS):
            self.error(f"khóa không dùng: {key}", severity="warning")
        if not self.quiz_id or not self.quiz_id.replace("-", "").isalnum() or self.quiz_id != self.quiz_id.lower():
            self.error(f"id '{self.quiz_id}' không hợp lệ (chữ thường không dấu, số, gạch nối)")
        title = text_value(data.get("title"))
        if not title or len(title) > MAX_TITLE_CHARS:
            self.error(f"cần tiêu đề (title) dài 1–{MAX_TITLE_CHARS} ký tự")
        opens = parse_local_datetime(data.get("opens"))
        closes = parse_local_datetime(data.get("closes"), end_of_day=True)
        if opens is None:
            self.error("thiếu hoặc sai thời điểm mở (opens: YYYY-MM-DD hoặc YYYY-MM-DD HH:MM)")
        if closes is None:
            self.error("thiếu hoặc sai thời điểm đóng (closes: YYYY-MM-DD hoặc YYYY-MM-DD HH:MM)")
        if opens and closes and closes <= opens:
            self.error("thời điểm đóng phải sau thời điểm mở")
        limit = _int(data.get("time_limit_seconds"), 0)
        attempts = _int(data.get("attempts_allowed"), 0)
        shuffle_q = _bool(data.get("shuffle_questions"), True)
        shuffle_c = _bool(data.get("shuffle_choices"), True)
        if limit is None:
            self.error("time_limit_seconds là số giây (0 = không giới hạn)")
        if attempts is None:
            self.error("attempts_allowed là số lượt được thi (0 = không giới hạn)")
        if shuffle_q is None or shuffle_c is None:
            self.error("shuffle_questions, shuffle_choices là true hoặc false")
        questions = self._questions(limit or 0)
        if any(i.is_error for i in self.issues):
            return None
        assert opens and closes and limit is not None and attempts is not None
        return Quiz(
            id=self.quiz_id, title=title, description=text_value(data.get("description")), opens=opens, closes=closes,
            questions=tuple(questions), attempts_allowed=attempts, shuffle_questions=bool(shuffle_q),
            shuffle_choices=bool(shuffle_c), file=self.path,
        )

    def _questions(self, default_limit: int) -> list[Question]:
        items = self.data.get("questions")
        if not isinstance(items, list) or not items:
            self.error("cần danh sách câu hỏi (questions)")
            return []
        seen: set[str] = set()
        out = []
        for item in items:
            line = line_of(item, line_of(self.data))
            if not isinstance(item, dict):
                self.error("mỗi câu hỏi là một mục có id, text, choices, correct, explanation, source", line)
                continue
            question = self._question(item, line, default_limit, seen)
            if question is not None:
                out.append(question)
        return out

    def _question(self, item: dict[str, Any], line: int, default_limit: int, seen: set[str]) -> Question | None:
        before = len([i for i in self.issues if i.is_error])
        qid = text_value(item.get("id"))
        where = f"câu {qid or '?'}: "
        for key in unknown_keys(item, QUESTION_FIELDS):
            self.error(f"{where}khóa không dùng: {key}", line, "warning")
        if not qid:
            self.error(f"{where}thiếu id", line)
        elif qid in seen:
            self.error(f"{where}id bị trùng trong bài thi", line)
        seen.add(qid)
        text = text_value(item.get("text"))
        if not text or len(text) > MAX_QUESTION_CHARS:
            self.error(f"{where}nội dung câu hỏi (text) dài 1–{MAX_QUESTION_CHARS} ký tự", line)
        raw_choices = item.get("choices")
        choices = [text_value(c) for c in raw_choices] if isinstance(raw_choices, list) else []
        if not 2 <= len(choices) <= 4:
            self.error(f"{where}cần 2–4 lựa chọn (choices)", line)
        if any(not c or len(c) > MAX_CHOICE_CHARS for c in choices):
            self.error(f"{where}mỗi lựa chọn dài 1–{MAX_CHOICE_CHARS} ký tự", line)
        if len({c.casefold() for c in choices}) != len(choices):
            self.error(f"{where}có hai lựa chọn giống nhau", line)
        correct_text = text_value(item.get("correct"))
        correct = next((i for i, c in enumerate(choices) if c == correct_text), -1)
        if correct < 0:
            self.error(f"{where}đáp án đúng (correct) phải chép đúng một trong các lựa chọn", line)
        explanation = text_value(item.get("explanation"))
        if not explanation or len(explanation) > MAX_EXPLANATION_CHARS:
            self.error(f"{where}cần giải thích (explanation) dài 1–{MAX_EXPLANATION_CHARS} ký tự", line)
        source = text_value(item.get("source"))
        if not source:
            self.error(f"{where}cần nguồn (source: id một mục đã duyệt của kho nội dung)", line)
        elif self.bank_ids is not None and source not in self.bank_ids:
            self.error(f"{where}nguồn '{source}' không có trong kho nội dung", line)
        elif self.bank_ids is not None and not self.bank_ids[source]:
            self.error(f"{where}nguồn '{source}' chưa được duyệt (status: draft)", line)
        limit = _int(item.get("time_limit_seconds"), default_limit)
        if limit is None:
            self.error(f"{where}time_limit_seconds là số giây", line)
        if len([i for i in self.issues if i.is_error]) > before:
            return None
        return Question(qid, text, tuple(choices), correct, explanation, source, int(limit or 0))


def quiz_files(content_dir: str | os.PathLike[str]) -> list[str]:
    folder = os.path.join(str(content_dir), QUIZ_DIR)
    if not os.path.isdir(folder):
        return []
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith((".yaml", ".yml")))


def parse_quizzes(
    content_dir: str | os.PathLike[str], bank_ids: dict[str, bool] | None = None
) -> tuple[dict[str, Quiz], list[ContentIssue]]:
    """Every valid quiz by id, and every problem.  ``bank_ids`` maps entry id -> approved
    (None: read the bank from ``content_dir`` to check the sources)."""
    if bank_ids is None:
        _, entries, _ = parse_content(content_dir)
        bank_ids = {e.id: e.approved for e in entries}
    quizzes: dict[str, Quiz] = {}
    issues: list[ContentIssue] = []
    for path in quiz_files(content_dir):
        data = read_yaml(path, issues)
        if data is None:
            continue
        items = data.get("quizzes") if isinstance(data, dict) and "quizzes" in data else [data]
        if not isinstance(items, list):
            issues.append(ContentIssue(path, 1, None, "tệp là một bài thi, hoặc khóa 'quizzes:' là danh sách bài thi"))
            continue
        for item in items:
            if not isinstance(item, dict):
                issues.append(ContentIssue(path, line_of(item), None, "bài thi phải là một mục (mapping)"))
                continue
            checker = _QuizChecker(path, item, bank_ids)
            quiz = checker.check()
            issues.extend(checker.issues)
            if quiz is None:
                continue
            if quiz.id in quizzes:
                issues.append(ContentIssue(path, line_of(item), quiz.id, f"id bài thi bị trùng với {quizzes[quiz.id].file}"))
                continue
            quizzes[quiz.id] = quiz
    return quizzes, issues


def check_quizzes(content_dir: str | os.PathLike[str]) -> list[ContentIssue]:
    """Every problem of content/quizzes/*.yaml (for `flask content check`)."""
    return parse_quizzes(content_dir)[1]
