"""The held-out check: split=test of tests/eval/questions.yaml, answered from the shipped bank.

Thresholds are tuned on split=dev only (`flask content eval --split dev`); this
test reports how they do on questions never used for tuning.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answers.bank import ContentBank
from bot.cli.content import EVAL_FILE, evaluate, format_report, load_eval_questions
from bot.core.config import load_config

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not EVAL_FILE.is_file(), reason=f"the evaluation set {EVAL_FILE.relative_to(ROOT)} has not been written yet"
)


@pytest.fixture(scope="module")
def bank() -> ContentBank:
    return ContentBank.load(ROOT / "content")


def test_every_expected_entry_exists_and_is_approved(bank):
    missing = sorted({q.expect for q in load_eval_questions(EVAL_FILE, "all") if q.expect and bank.get(q.expect) is None})
    assert missing == []


def test_held_out_questions_meet_the_targets(bank):
    defaults = load_config({})  # the shipped thresholds
    questions = load_eval_questions(EVAL_FILE, "test")
    report = evaluate(
        bank,
        questions,
        answer_threshold=defaults["ANSWER_THRESHOLD"],
        suggest_threshold=defaults["SUGGEST_THRESHOLD"],
        split="test",
    )
    assert report.answerable > 0 and report.offtopic > 0
    summary = format_report(report)
    assert report.accuracy_at_1 >= 0.92, summary
    assert report.offtopic_answered_share <= 0.05, summary
