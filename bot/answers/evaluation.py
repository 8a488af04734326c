"""Measuring the answer engine on an evaluation set: accuracy@1, wrong answers, suggestions, off-topic answered.

The default set is tests/eval/blind_questions.yaml, written from the topic list and the fact
sheet without seeing the bank and labelled afterwards; tests/eval/questions.yaml is the older
set written from the bank.  Thresholds are tuned on ``split: dev`` only; ``split: test`` is
the held-out check (tests/unit/test_eval.py).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.answers import reply as answers
from bot.answers.bank import BankSnapshot, ContentBank
from bot.answers.yaml_reader import BankLoader
from bot.core.paths import PROJECT_ROOT

EVAL_FILE = PROJECT_ROOT / "tests" / "eval" / "blind_questions.yaml"
OLD_EVAL_FILE = PROJECT_ROOT / "tests" / "eval" / "questions.yaml"
# A second, independent judgment of the blind set: for each question, the entries of a pool (its labels
# and the engine's top candidates, shuffled, unranked) rated full / partial / no by judges who never saw
# the engine's output (tools/judge_pool.py).  ``--labels judged`` counts an answer right when its entry
# was rated full.
JUDGMENTS_FILE = PROJECT_ROOT / "tests" / "eval" / "judgments.yaml"
# Members' questions written from the fact sheet by writers who saw neither the bank nor the engine, with
# no labeller: every question is on-topic (``judged: true``) and only the judgments say what answers it.
# All dev: a second set to tune on, read with ``--labels judged``.
FACTS_FILE = PROJECT_ROOT / "tests" / "eval" / "fact_sheet_questions.yaml"
FACTS_JUDGMENTS_FILE = PROJECT_ROOT / "tests" / "eval" / "fact_sheet_judgments.yaml"
RATINGS = ("full", "partial", "no")
LABELS = ("expect", "judged")
EVAL_SETS = {"blind": EVAL_FILE, "old": OLD_EVAL_FILE, "facts": FACTS_FILE}
SPLITS = ("dev", "test", "all")
# The organisation an evaluation answers for: no contacts, so every answer reads the same on any deployment.
EVAL_ORG: dict[str, Any] = {"ORG_NAME": "Hội", "ORG_PHONES": [], "ORG_EMAIL": "", "ORG_WEBSITE": ""}


class EvalFileError(Exception):
    """The evaluation file is missing or not in the expected format."""


@dataclass(frozen=True)
class EvalQuestion:
    q: str
    expect: str | None  # the (first) expected entry id, or None for an off-topic question
    split: str
    accept: tuple[str, ...] = ()  # every acceptable entry id (expect first)
    answerable: bool = True  # False: on-topic but no entry answers it; left out of every figure
    judged_only: bool = False  # on-topic with no labels: only judgments say which entries answer it

    @property
    def acceptable(self) -> tuple[str, ...]:
        return self.accept or ((self.expect,) if self.expect else ())


@dataclass
class EvalReport:
    """Results on one split.  accuracy@1 counts the top candidate, whatever the decision."""

    split: str
    answerable: int = 0
    offtopic: int = 0
    top1: int = 0
    top3: int = 0
    answered_right: int = 0
    answered_wrong: int = 0
    answerable_suggested: int = 0
    answerable_fallback: int = 0
    unanswerable: int = 0  # on-topic questions no entry answers: not counted anywhere else
    offtopic_answered: int = 0
    offtopic_suggested: int = 0
    unknown_expected: list[str] = field(default_factory=list)
    labels: str = "expect"  # "judged": right = the judges rated the entry full
    unjudged: int = 0  # judged labels: top candidates no judge has rated (counted as not right)
    confusions: list[dict[str, Any]] = field(default_factory=list)

    @staticmethod
    def _share(n: int, d: int) -> float:
        return n / d if d else 0.0

    @property
    def accuracy_at_1(self) -> float:
        return self._share(self.top1, self.answerable)

    @property
    def accuracy_at_3(self) -> float:
        return self._share(self.top3, self.answerable)

    @property
    def answers_given(self) -> int:
        return self.answered_right + self.answered_wrong

    @property
    def wrong_share(self) -> float:
        """Wrong answers as a share of the answers given to answerable questions."""
        return self._share(self.answered_wrong, self.answers_given)

    @property
    def suggestion_share(self) -> float:
        """Answerable questions that got "Có phải chị muốn hỏi" instead of an answer."""
        return self._share(self.answerable_suggested, self.answerable)

    @property
    def offtopic_answered_share(self) -> float:
        return self._share(self.offtopic_answered, self.offtopic)

    @property
    def offtopic_suggested_share(self) -> float:
        return self._share(self.offtopic_suggested, self.offtopic)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            accuracy_at_1=self.accuracy_at_1,
            accuracy_at_3=self.accuracy_at_3,
            wrong_share=self.wrong_share,
            suggestion_share=self.suggestion_share,
            offtopic_answered_share=self.offtopic_answered_share,
            offtopic_suggested_share=self.offtopic_suggested_share,
        )
        return data


def read_list(path: Path, key: str, missing: str) -> tuple[dict[str, Any], list[Any]]:
    """The YAML mapping in ``path`` and its list under ``key``; EvalFileError when missing or bad."""
    if not path.is_file():
        raise EvalFileError(missing)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=BankLoader)  # noqa: S506 - a safe loader (libyaml)
    except yaml.YAMLError as exc:
        raise EvalFileError(f"{path}: YAML không hợp lệ: {exc}") from None
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise EvalFileError(f"{path}: cần một danh sách '{key}:'")
    return data, items


def load_eval_questions(path: str | os.PathLike[str] = EVAL_FILE, split: str = "all") -> list[EvalQuestion]:
    """The questions of ``split`` ("dev", "test" or "all"); EvalFileError when the file is missing or bad."""
    path = Path(path)
    _, items = read_list(path, "questions", f"Chưa có tệp đánh giá {path} (evaluation set not written yet).")
    questions = []
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict) or not isinstance(item.get("q"), str) or item.get("split") not in ("dev", "test"):
            raise EvalFileError(f"{path}: câu thứ {n} cần q (chữ), expect (id hoặc null) và split (dev|test)")
        expect = item.get("expect")
        accept = tuple(str(e) for e in expect) if isinstance(expect, list) else ((str(expect),) if expect else ())
        questions.append(
            EvalQuestion(
                item["q"],
                accept[0] if accept else None,
                item["split"],
                accept,
                bool(item.get("answerable", True)),
                item.get("judged") is True,
            )
        )
    return [q for q in questions if split == "all" or q.split == split]


def answer_fingerprint(answer: str) -> str:
    """What a judgment of an entry was made against: the sha1 of its answer text, 10 hex digits."""
    return hashlib.sha1(answer.strip().encode("utf-8")).hexdigest()[:10]


def read_ratings(item: dict[Any, Any]) -> dict[str, str]:
    """The ratings of one judgment item: {entry id: "full" | "partial" | "no"}.

    ``item`` holds a list of entry ids under each of ``full``, ``partial`` and ``no`` (any may be
    missing); YAML 1.1 reads a bare ``no:`` key as false, which counts as ``no`` too.  An id listed
    under two ratings keeps the later one.  ValueError when a rating is not a list.
    """
    out: dict[str, str] = {}
    for rating in RATINGS:
        listed = item.get(rating) if rating in item else item.get(False) if rating == "no" else None
        if listed is not None and not isinstance(listed, list):
            raise ValueError(f"'{rating}' cần là một danh sách id")
        out.update({str(entry_id): rating for entry_id in listed or ()})
    return out


def read_judgments(path: str | os.PathLike[str] = JUDGMENTS_FILE) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Every rating in the file, {question text: {entry id: rating}}, and its ``answers:`` fingerprints.

    EvalFileError when the file is missing or bad.  Nothing is dropped: see :func:`current_judgments`.
    """
    path = Path(path)
    data, items = read_list(path, "judgments", f"Chưa có tệp đánh giá độc lập {path} (tools/judge_pool.py).")
    judged: dict[str, dict[str, str]] = {}
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict) or not isinstance(item.get("q"), str):
            raise EvalFileError(f"{path}: mục thứ {n} cần q (chữ) và các danh sách full / partial / no")
        try:
            judged.setdefault(item["q"], {}).update(read_ratings(item))
        except ValueError as exc:
            raise EvalFileError(f"{path}: mục thứ {n}: {exc}") from None
    fingerprints = data.get("answers") or {}
    if not isinstance(fingerprints, dict):
        raise EvalFileError(f"{path}: 'answers:' cần là một bảng id: fingerprint")
    return judged, {str(e): str(fp) for e, fp in fingerprints.items()}


def current_judgments(
    judged: dict[str, dict[str, str]], fingerprints: dict[str, str], bank: ContentBank | BankSnapshot
) -> dict[str, dict[str, str]]:
    """``judged`` without the ratings of entries whose answer in ``bank`` is not the fingerprinted one.

    Without fingerprints (an older file) every rating is kept.
    """
    if not fingerprints:
        return judged
    current = {e.id: answer_fingerprint(e.answer) for e in bank.snapshot().entries}
    return {
        q: {e: rating for e, rating in ratings.items() if fingerprints.get(e) == current.get(e)}
        for q, ratings in judged.items()
    }


def load_judgments(
    path: str | os.PathLike[str] = JUDGMENTS_FILE, bank: ContentBank | BankSnapshot | None = None
) -> dict[str, dict[str, str]]:
    """{question text: {entry id: "full" | "partial" | "no"}}; EvalFileError when the file is missing or bad.

    The file's ``answers:`` map records each judged entry's :func:`answer_fingerprint`.  With ``bank``,
    a rating of an entry whose answer has changed since (or was never recorded) is dropped: that pair
    is unjudged until it is judged again (tools/judge_pool.py --missing).
    """
    judged, fingerprints = read_judgments(path)
    return judged if bank is None else current_judgments(judged, fingerprints, bank)


def evaluate(
    bank: ContentBank | BankSnapshot,
    questions: list[EvalQuestion],
    *,
    answer_threshold: float,
    suggest_threshold: float,
    split: str = "all",
    org: dict[str, Any] | None = None,
    judgments: dict[str, dict[str, str]] | None = None,
) -> EvalReport:
    """Run every question through :func:`bot.answers.reply.answer` and count the outcomes.

    With ``judgments`` (:func:`load_judgments`) a question's acceptable entries are the ones the
    judges rated full, not its ``expect`` labels; a question with no entry rated full is on-topic but
    unanswerable (left out of every figure, as ``answerable: false`` is); which questions are off-topic
    still comes from the labels.
    """
    snap = bank.snapshot()
    org = org or EVAL_ORG
    report = EvalReport(split, labels="judged" if judgments is not None else "expect")
    for question in questions:
        result = answers.answer(question.q, snap, org=org, answer_threshold=answer_threshold, suggest_threshold=suggest_threshold)
        ranked = [c["entry_id"] for c in result.candidates]
        got = ranked[0] if ranked else None
        if not question.answerable or (question.judged_only and judgments is None):  # judged_only: no labels
            report.unanswerable += 1
            continue
        if question.expect is None and not question.judged_only:
            report.offtopic += 1
            report.offtopic_answered += result.decision == answers.ANSWER
            report.offtopic_suggested += result.decision == answers.SUGGEST
            if result.decision == answers.ANSWER:
                report.confusions.append(_confusion(question, (), got, result))
            continue
        accept = question.acceptable
        report.unknown_expected.extend(e for e in accept if snap.get(e) is None)
        if judgments is not None:
            ratings = judgments.get(question.q, {})
            accept = tuple(e for e, rating in ratings.items() if rating == "full")
            if not accept:  # no entry answers it in the judges' eyes: on-topic, unanswerable, as with the labels
                report.unanswerable += 1
                continue
            report.unjudged += got is not None and got not in ratings
        report.answerable += 1
        right = got in accept
        report.top1 += right
        report.top3 += any(e in accept for e in ranked[:3])
        if result.decision == answers.ANSWER:
            report.answered_right += right
            report.answered_wrong += not right
        elif result.decision == answers.SUGGEST:
            report.answerable_suggested += 1
        else:
            report.answerable_fallback += 1
        if not right:  # judged labels: what the judges rated full, not the labeller's ids
            report.confusions.append(_confusion(question, accept, got, result))
    return report


def _confusion(
    question: EvalQuestion, accept: tuple[str, ...], got: str | None, result: answers.Answer
) -> dict[str, Any]:
    return {
        "question": question.q,
        "expected": "|".join(accept) or None,
        "got": got,
        "score": round(result.score, 3),
        "decision": result.decision,
    }


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def format_report(report: EvalReport) -> str:
    """A short human-readable summary of an evaluation."""
    labels = " (nhãn: đánh giá độc lập)" if report.labels == "judged" else ""
    lines = [
        f"Tập {report.split}{labels}: {report.answerable} câu có đáp án, {report.offtopic} câu ngoài phạm vi",
        f"  accuracy@1 (câu có đáp án): {_pct(report.accuracy_at_1)}   accuracy@3: {_pct(report.accuracy_at_3)}",
        (
            f"  câu có đáp án: trả lời đúng {report.answered_right}, trả lời sai {report.answered_wrong},"
            f" gợi ý {report.answerable_suggested}, không trả lời {report.answerable_fallback}"
        ),
        (
            f"  trả lời sai / số câu đã trả lời: {_pct(report.wrong_share)} ({report.answered_wrong}/{report.answers_given})"
            f"   gợi ý “Có phải chị muốn hỏi” / câu có đáp án: {_pct(report.suggestion_share)}"
            f" ({report.answerable_suggested}/{report.answerable})"
        ),
        (
            f"  câu ngoài phạm vi bị trả lời: {_pct(report.offtopic_answered_share)}"
            f" ({report.offtopic_answered}/{report.offtopic}); được gợi ý: {_pct(report.offtopic_suggested_share)}"
        ),
    ]
    if report.unanswerable:
        lines.append(f"  ({report.unanswerable} câu trong phạm vi nhưng kho chưa có mục trả lời: không tính)")
    if report.unjudged:
        lines.append(f"  {report.unjudged} câu có mục đứng đầu chưa được đánh giá (tính là sai; chạy tools/judge_pool.py --missing)")
    if report.unknown_expected:
        lines.append(f"  id mong đợi không có trong kho (hoặc chưa duyệt): {', '.join(sorted(set(report.unknown_expected)))}")
    if report.confusions:
        expected = "mục được chấm trả lời đủ" if report.labels == "judged" else "mong đợi"
        lines.append(f"  Nhầm lẫn (câu hỏi | {expected} | nhận được | điểm | quyết định):")
        for c in report.confusions:
            lines.append(f"    {c['question']} | {c['expected'] or '(ngoài phạm vi)'} | {c['got']} | {c['score']:.3f} | {c['decision']}")
    return "\n".join(lines)
