"""The held-out checks: the test split of the blind set (tests/eval/blind_questions.yaml, written from
the fact sheet without seeing the bank) and of the older set (tests/eval/questions.yaml, written from
the bank), answered from the shipped bank with the shipped thresholds.

Everything is tuned on split=dev only (`flask content eval --split dev`); these tests report how it
does on questions never used for tuning.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answers.bank import ContentBank
from bot.answers.evaluation import (
    EVAL_FILE,
    FACTS_FILE,
    FACTS_JUDGMENTS_FILE,
    JUDGMENTS_FILE,
    OLD_EVAL_FILE,
    evaluate,
    format_report,
    load_eval_questions,
    load_judgments,
    read_list,
)
from bot.core.config import load_config
from tools.judge_pool import question_key
from tools.label_pool import majority, on_topic, unlabelled_entries

ROOT = Path(__file__).resolve().parents[2]
LABELS_FILE = ROOT / "tests" / "eval" / "blind_labels.yaml"

# Targets of issue 13 on the blind test split.
TARGET_ACCURACY = 0.92
TARGET_WRONG = 0.02  # wrong answers / answers given
TARGET_SUGGESTIONS = 0.08  # "Có phải chị muốn hỏi" / answerable questions
TARGET_OFFTOPIC = 0.03  # off-topic questions answered
# Every run of the blind test split (aggregates only; no test question read or tuned on):
# stop 19: 0.922, 6/132 wrong (4.5%), 15/154 suggestions (9.7%), 0/24 off-topic answered.
# Stop 20, decision and matching signals tuned on the dev split: 0.922, 7/137, 12/154, 1/24; then 0.916, 6/134,
# 15/154, 1/24; then 0.916, 6/133, 16/154, 1/24; the final code (stricter answers below the threshold, the
# count rule) twice: 0.916, 6/133 (4.5%), 16/154 (10.4%), 1/24.
# Stop 21, about 1,000 member phrasings written from the entries alone (by writers who never saw an evaluation
# set) and three rules chosen on the dev split (a word the bank has nowhere needs a strong fit; an entry naming
# only another thing of the kind asked about drops; dates written out read as dates), one run:
# 0.935, 7/142 wrong (4.9%), 8/154 suggestions (5.2%), 0/24 off-topic answered.  Dev split: 0.940, 6/145 (4.1%),
# 6/151 (4.0%), 0/23.  The floors below sit just under the last measured figures.
# Stop 22, two answers completed on the dev split (the new Cần Thơ's date; Chỉ thị 01 is the Prime Minister's, the
# guidance the Ministry's), one run: 0.935, 7/142 (4.9%), 8/154 (5.2%), 0/24, unchanged.  With the independent
# judgments (tests/eval/judgments.yaml, --labels judged), the same run: 0.973, 3/136 (2.2%), 8/147 (5.4%), 0/24,
# 9 questions with no entry rated full left out; dev 0.979, 1/135 (0.7%), 6/141 (4.3%), 0/23.
# Stop 23, three matching signals chosen on held-out bank phrasings and the dev split (the side of the 2025 reform a
# question names; the emergency numbers as a contrast kind; a general entry before one naming a single country or
# archipelago when the question names none), "HS"/"TS" in capitals, a content audit of every variant against its
# answer, one run: 0.942, 7/142 (4.9%), 9/154 (5.8%), 0/24; judged 0.973, 3/136 (2.2%), 8/147 (5.4%), 0/24.  Dev:
# 0.954, 5/146 (3.4%), 5/151 (3.3%), 0/23; judged 0.979, 1/136 (0.7%), 5/141 (3.5%), 0/23.  Two sovereignty
# answers reworded to the official formula (OW1, OW6) and re-judged afterwards: the same figures.
# Then 65 variants so that members reach facts the answers state (a second content audit, and "Đà Nẵng trực thuộc
# Trung ương năm nào", asked in both dev sets), one run: 0.929, 9/144 (6.2%), 7/154 (4.5%), 0/24; judged 0.973,
# 4/138 (2.9%), 6/147 (4.1%), 0/24: one more wrong answer by the judges, two more by the labels, two fewer
# suggestions.  Kept, because the dev evidence went the other way: blind dev 5 -> 4 wrong (judged 1 -> 0), the
# fact-sheet set 5 -> 3, and a fresh fact-sheet round written and judged after that test run (round 4, 210
# questions) 5 -> 3 wrong with 16 -> 14 suggestions; reverting on the test figure would be tuning on test.  The
# floors below follow this run.
# Stop 24, two matching signals tried and rejected on the dev sets (an entry about the Hội loses rank when the
# question never names it; a question naming both archipelagos prefers an entry naming both), and the content gap
# worked from the fact-sheet dev set (five new entries, facts added to answers, "no official figure" sentences where
# a member asks a withheld figure), one run: 0.916, 12/145 (8.3%), 6/154 (3.9%), 0/24; judged 0.973, 4/138 (2.9%),
# 6/147 (4.1%), 0/24.  By the judges nothing moved.  By the labels three more answers are wrong, and all three come
# from entries created this stop, which the labeller could not have chosen: the judges rate each of them full (6 of
# the 12 label-wrong answers are rated full; aggregates only were read).  Kept: the fact-sheet set gained 55 right
# answers (wrong 1.7% before and after), and reverting on the test figure would be tuning on test.  Accuracy@1 by
# the labels is now under the target, so that target is a strict xfail beside the wrong-answer one, and the
# accuracy target is asserted with the judges' labels.  The floors follow this run.
# Stop 25, the labels brought up to date before any run: the five new entries checked against every question by two
# labellers (three test labels changed, both agreeing), then a whole second labelling by two more labellers per
# question, expect = what two of the three chose (22 labels changed: 10 dev, 12 test; dev went from 4/145 to 5/147
# wrong); one content sentence made precise (bot-quyen-du-lieu).  One run: 0.941, 8/144 (5.6%), 6/153 (3.9%), 0/24;
# judged 0.973, 4/139 (2.9%), 6/148 (4.1%), 0/24 (of the 8 label-wrong answers the judges rate 3 full, 3 partial,
# 2 no; aggregates only were read).  Accuracy@1 by the labels meets the target again; the wrong-answer target does
# not, by either count.
# Stop 26, three fresh fact-sheet rounds (6-8, written and judged blind, now in the fact-sheet set): a message asking
# two things is answered for its first ask when that ask's entry ranks close (bot/answers/asks.py, built on round 6
# and the older dev sets, tuned on round 7, checked on round 8: 4 wrong before and after there); two variants and
# one answer sentence made precise.  One run: 0.941, 8/144 (5.6%), 6/153 (3.9%), 0/24; judged 0.973, 4/139 (2.9%),
# 6/148 (4.1%), 0/24: unchanged, because no test question's top entry or decision changed (compared, as a count
# only, with the stop-25 engine).  The old set: unchanged too.  Run a second time after a review's mends to the rule
# (question words matched with their marks, the first ask's entry must fit its ask) and one answer reworded and
# re-judged: the same figures, and still no test decision changed.
# Stop 27, two fresh fact-sheet rounds (9-10); the first-ask rule widened on round 9 and checked on round 10 (3 -> 2
# wrong there); two content edits from questions every round asks.  One run: 0.941, 8/144 (5.6%), 6/153 (3.9%), 0/24;
# judged 0.973, 4/139 (2.9%), 6/148 (4.1%), 0/24; the old set 0.975, 2/157, 4/163, 3/39: unchanged, and again no test
# question's top entry or decision changed (a count only, against the stop-26 engine).  Run a second time after a
# review's mends ("phải chăng", "phải hem" and a closing "phải" ask again; the Cù Lao Dung sentence reworded without a
# count and re-judged): the same figures, and still no test decision changed.  A last mend ("không" asks only at a
# part's end) changed no test decision either (a count only, against the stop-26 engine).
# Stop 28, a fresh round of the blind set's own kind (round 2: 298 messages, dev only, labelled by three labellers and
# judged), scored before any change: wrong 11/192 (5.7%), suggestions 36/242 (14.9%) by the labels, the same share of
# wrong answers as the test split.  Three rules chosen on half of it (by key) and checked on the other half (a later ask
# of one content word makes two asks; a near-tie with one runner-up, 0.95 of the top rank, is a suggestion; a few words
# the bank has nowhere, a quarter of the content words at most, no longer veto a lead), "mấy"/"máy" and clause ends in
# what a count question counts, four variants.  One run: 0.941, 7/145 (4.8%), 5/153 (3.3%), 0/24; judged 0.973,
# 4/140 (2.9%), 5/148 (3.4%), 0/24; the old set 0.975, 2/156, 5/163, 3/39.  Run a second time after rounds 3 and 4,
# the review's mends (an entry that says a figure is not known may answer a count question it fits closely;
# CLEAR_MIN_PRECISION 0.4) and two variants from round 4: 0.948, 6/145 (4.1%), 5/153 (3.3%), 0/24; judged 0.973,
# 4/140 (2.9%), 5/148 (3.4%), 0/24; the old set unchanged.
# Stop 29, content only (three answers say what members ask with them: since when the yellow card, the Cambodian
# border's length beside its demarcation, that no official rank of the coastline is known; variants for the kinds of
# question that several dev rounds ask and the bank missed), chosen on the dev rounds and checked on three fresh
# rounds (6-8, below). One run: 0.948, 6/144 (4.2%), 6/153 (3.9%), 0/24; judged 0.973, 4/139 (2.9%), 6/148 (4.1%),
# 0/24; the old set 0.982, 1/156, 5/163, 3/39. Against the stop-28 engine (a count only), one test question's decision
# changed (an answer became a suggestion) and no top entry; in the old set two top entries changed. Run a second time
# after the variants that stood closest to dev questions' wording were rewritten in other words or dropped (the
# README's rule: no variant is written from an evaluation question; no test figure was read in between): the blind
# test split the same; the old set 0.975, 2/156, 5/163, 3/39 (one of the two top entries changed back).
# Stop 30, content only: 33 answers say the fact members ask with theirs (Trường Sa's province in Hoàng Sa's answer,
# the coast guard's day in its law's, the 10-year figures of Lai Hòa and Vĩnh Tân in the 10-year review's ...), chosen
# on the dev rounds' wrong answers, reviewed against the fact sheet and re-judged; the labels then checked against
# every answer edited since they were made (tools/label_pool.py pool/merge, two labellers who must agree, three
# checks): 545 labels changed, 30 of them in this split (entries added; 7 replaced by one answering more fully; 7
# unanswerable questions given an entry).  Four runs (aggregates only): after the first 20 answers, 6/144 wrong by
# the labels, judged 2/139 (1.4%); after their label check, 5/144 (3.5%); after the other 13 answers and a review's
# corrections, each with its label check, 0.961, 4/144 (2.8%), 6/153 (3.9%), 0/24; judged 0.980, 3/140 (2.1%),
# 6/149 (4.0%), 0/24.  The old set 0.975, 2/156, 5/163, 3/39 each time.  Both are one answer above the target.
# Stop 31 (eight answers edited, round 12 added, 155 labels checked), read once after the last decision: the same,
# 0.961, 4/144, 6/153, 0/24; judged 0.980, 3/140, 6/149, 0/24.  The old set 0.975, 3/157, 4/163, 3/39: one of its
# suggestions became a wrong answer (not looked into: a test question).
# Stop 32 (three lexicon readings, one answer edited, round 13 added, 12 labels checked), read once after the last
# decision: the same again, 0.961, 4/144, 6/153, 0/24; judged 0.980, 3/140, 6/149, 0/24; the old set 0.975, 3/157,
# 4/163, 3/39.
# Stop 33 ("mấy" read as "those", "these", "which" or "máy"; a related runner-up offered beside the answer instead of
# a suggestion; one answer edited, 25 labels checked), read three times, each after the decisions before it (the last
# after review mends that changed no dev decision): the same each time, 0.961, 4/144, 6/153, 0/24; judged 0.980,
# 3/140, 6/149, 0/24; the old set 0.975, 3/157, 4/163, 3/39.
# Stop 35: the test split enlarged.  Round 1's held-out half alone gives about 140 answers, so one answer moves the
# wrong share by 0.7 points and a 2% target allows two.  At the start of the stop, before any labelling, judging or
# scoring, two fresh rounds (20 and 21: 575 messages by eight new persona writers, written before any change of the
# stop) were designated test, beside round 1's half; labelled by three labellers each and every top-5 pair judged
# before any figure was computed; nothing tuned on them.  Read once after the last decision (aggregates only), by the
# labels and judged: the enlarged split 0.933, 18/547 wrong (3.3%), 50/626 suggestions (8.0%, 0.0799), 1/120
# off-topic (0.8%); judged 0.960, 13/533 (2.4%), 46/607 (7.6%), 1/120.  Round 1's half the same as stops 30-34
# (0.961, 4/144, 6/153, 0/24; judged 0.980, 3/140, 6/149); rounds 20-21 alone 0.924, 14/403 (3.5%), 44/473 (9.3%),
# 1/96; judged 0.954, 10/393 (2.5%), 40/458 (8.7%).  Stop 34's engine and bank on the same split, a count only: the
# same wrong answers, three more suggestions (53/626, 8.5%; judged 49/607, 8.1%): the one-ask rule's three answers.
# The wrong-answer target is not met by either count; the others are.  Read a second time after a review's mend to
# the erase answer (it names how long backups keep the data; re-judged and its labels checked): the same figures.
# Stop 36 (a near-tie settled by the first of two asks, asks.first_ask_entry; a fair lead from the suggest threshold;
# number plates a subject the bank never covers, scams excepted; four answers say a fact members ask with theirs, each
# fact-checked, re-judged and label-checked: 208 labels gained an edited entry, 12 replacing one, 29 of them in this
# split), read once after the last decision, aggregates only: the enlarged split 0.936, 18/559 wrong (3.2%), 38/626
# suggestions (6.1%), 1/120 off-topic; judged 0.962, 13/545 (2.4%), 34/607 (5.6%), 1/120.  Round 1's half 0.961,
# 4/145, 5/153, 0/24; judged 0.980, 3/141, 5/149; rounds 20-21 0.928, 14/414 (3.4%), 33/473 (7.0%), 1/96; judged
# 0.956, 10/404 (2.5%), 29/458 (6.3%).  Twelve more answers and twelve fewer suggestions than at stop 35, with as many
# wrong answers by either count.  The old set 0.975, 3/158, 3/163, 3/39.  The wrong-answer target is still not met by
# either count; the others are.
MEASURED_JUDGED_ACCURACY = 0.96
MEASURED_JUDGED_WRONG = 0.025
MEASURED_ACCURACY = 0.93
MEASURED_WRONG = 0.035
MEASURED_SUGGESTIONS = 0.065
MEASURED_OFFTOPIC = 0.01
# The fact-sheet set (624 questions in three rounds, judged only), stop 23: 0.968, wrong 6/449 (1.3%), suggestions
# 39/497 (7.8%).  Round 3 was used only to reject a rule (a message asking two things is about the first: 3 -> 0
# wrong on round 2, which it was built from, 2 -> 3 on round 3); round 4 only to keep the 65 variants above.
# Stop 24: round 5 (201 new questions, 825 in all) rejected two matching signals; after the content gap work:
# 0.967 (647 right of 726 with a full answer), wrong 11/658 (1.7%), suggestions 53/726 (7.3%).
# Stop 26, rounds 2-5: 0.972, wrong 7/658 (1.1%), suggestions 53/726 (7.3%).  Rounds 6-8 (527 new questions, more of
# them long, rambling or asking two things): wrong 9/368 (2.4%; round 6 1/122, round 7 4/130, round 8 4/116),
# suggestions 63/452 (13.9%).  With the stop-25 engine, judged from the pools of the day, round 6 had 5/128 wrong,
# round 7 7/135 and round 8 4/116.  The first-ask rule (bot/answers/asks.py) differs from stop 23's rejected "about
# the first" rule: it acts only on a message the engine already answers, when the top entry is the last ask's own
# and the first ask's entry fits and leads that ask; on round 8, its only untuned check, it was neutral all the same.
# (Stop 27 dropped "the top entry is the last ask's own"; see below.)
# Stop 27, two fresh rounds (9 and 10, 355 new questions).  Round 9, written and judged before any change of this
# stop, with the stop-26 engine: wrong 6/123 (4.9%), suggestions 11/151.  The first-ask rule widened on round 9 (the top
# entry need not be the last ask's; "phải" asks only as "có phải") and checked on round 10, written and judged
# afterwards: 3 -> 2 wrong there (124 right instead of 123), suggestions 25/162 both.  Then two content edits from
# every round's recurring questions (Cù Lao Dung is, with Trần Đề and Vĩnh Châu, a coastal area of the former
# province; registering for a self-managed security team), re-judged: rounds 2-5, 5/658 wrong (0.8%), 53/726
# suggestions (7.3%); rounds 6-8, 7/369 (1.9%), 62/452 (13.7%); rounds 9-10, 4/244 (1.6%; round 9 3/122, round 10
# 1/122), 36/308 (11.7%).
# Stop 29, after the content edits (the changed answers re-judged): rounds 2-5 4/660 wrong (0.6%), 51/726 suggestions
# (7.0%); rounds 6-8 3/367 (0.8%), 65/452 (14.4%); rounds 9-10 2/252 (0.8%), 29/308 (9.4%).
# Stop 30, after the answers that say what members ask with them (re-judged): rounds 2-5 4/659 (0.6%), 55/729 (7.5%);
# rounds 6-8 1/371 (0.3%), 66/458 (14.4%); rounds 9-10 2/252 (0.8%), 30/309 (9.7%).
# Stop 31, eight answers edited and re-judged: rounds 2-5 4/667 (0.6%), 55/733 (7.5%); rounds 6-8 1/373 (0.3%),
# 67/461 (14.5%); rounds 9-10 3/256 (1.2%), 31/315 (9.8%).
FACTS_FLOORS = {(2, 3, 4, 5): (0.02, 0.08), (6, 7, 8): (0.03, 0.15), (9, 10): (0.025, 0.13)}  # rounds: (wrong, suggestions)


@pytest.fixture(scope="module")
def bank() -> ContentBank:
    return ContentBank.load(ROOT / "content")


@pytest.fixture(scope="module")
def report(bank):
    """``report(path, split, judgments file=None, rounds=None)``: the report with the shipped thresholds, computed
    once per module (several tests read the same one); ``rounds`` keeps the fact-sheet rounds named."""
    defaults, reports, judged, round_of = load_config({}), {}, {}, {}

    def get(path, split, judgments=None, rounds=None):
        if (path, split, judgments, rounds) not in reports:
            questions = load_eval_questions(path, split)
            if rounds is not None:
                if path not in round_of:
                    round_of[path] = {q["q"]: q.get("round", 1) for q in read_list(Path(path), "questions", str(path))[1]}
                questions = [q for q in questions if round_of[path][q.q] in rounds]
            if judgments is not None and judgments not in judged:
                judged[judgments] = load_judgments(judgments, bank)
            reports[(path, split, judgments, rounds)] = evaluate(
                bank,
                questions,
                answer_threshold=defaults["ANSWER_THRESHOLD"],
                suggest_threshold=defaults["SUGGEST_THRESHOLD"],
                split=split,
                judgments=judged.get(judgments),
            )
        return reports[(path, split, judgments, rounds)]

    return get


@pytest.mark.parametrize("path", [EVAL_FILE, OLD_EVAL_FILE], ids=["blind", "old"])
def test_every_expected_entry_exists_and_is_approved(bank, path):
    missing = sorted({e for q in load_eval_questions(path, "all") for e in q.acceptable if bank.get(e) is None})
    assert missing == []


def test_blind_labels_were_checked_against_every_approved_entry():
    """An entry added after the labelling was never a choice for the labeller, and an answer edited since was read as
    it was, so its answers count as wrong by the labels even where they are right: check the labels against it first
    (tools/label_pool.py, two labellers)."""
    assert unlabelled_entries(EVAL_FILE, ROOT / "content") == []


def test_blind_labels_are_what_two_of_the_three_labellers_chose():
    """expect is the majority of the recorded choices (tests/eval/blind_labels.yaml: the first labelling and two
    later labellers, tools/label_pool.py relabel-merge); where no choice has two votes, the first label stays."""
    _, items = read_list(LABELS_FILE, "labels", "no record of the labellers' choices")
    by_key = {question_key(q.q): q for q in load_eval_questions(EVAL_FILE, "all")}
    assert len(items) == len(on_topic(EVAL_FILE))
    for item in items:
        question, first = by_key[item["key"]], tuple(sorted(item["first"]))
        decided = majority([first, *(tuple(sorted(ids)) for ids in item["new"])])
        if "later" in item:  # changed since by a check of new entries (tools/label_pool.py merge)
            decided = tuple(sorted(item["later"]))
        now = tuple(sorted(question.acceptable)) if question.answerable else ()
        assert now == (first if decided is None else decided), question.q


def test_blind_set_is_split_and_labelled():
    questions = load_eval_questions(EVAL_FILE, "all")
    assert len(questions) >= 300
    assert {q.split for q in questions} == {"dev", "test"}
    assert any(len(q.acceptable) > 1 for q in questions)  # lists of acceptable ids
    assert any(not q.answerable for q in questions)  # on-topic, no entry: left out of the figures


def test_blind_test_split_meets_the_targets(report):
    result = report(EVAL_FILE, "test")
    summary = format_report(result)
    assert result.answerable > 0 and result.offtopic > 0
    assert result.suggestion_share <= TARGET_SUGGESTIONS, summary
    assert result.offtopic_answered_share <= TARGET_OFFTOPIC, summary
    assert result.accuracy_at_1 >= TARGET_ACCURACY, summary
    judged = report(EVAL_FILE, "test", JUDGMENTS_FILE)
    assert judged.accuracy_at_1 >= TARGET_ACCURACY, format_report(judged)


@pytest.mark.xfail(
    reason="issue 13: wrong answers are 3.2% of the answers given (18/559) on the blind test split (round 1's held-out "
    "half and rounds 20-21), over the 2% target; 2.4% (13/545) with the independent judgments",
    strict=True,  # when both figures reach the target this fails, and the mark must go
)
def test_blind_test_split_wrong_answers_meet_the_target(report):
    result = report(EVAL_FILE, "test")
    assert result.wrong_share <= TARGET_WRONG, format_report(result)
    judged = report(EVAL_FILE, "test", JUDGMENTS_FILE)
    assert judged.wrong_share <= TARGET_WRONG, format_report(judged)


def test_blind_test_split_does_not_regress(report):
    result = report(EVAL_FILE, "test")
    summary = format_report(result)
    assert result.accuracy_at_1 >= MEASURED_ACCURACY, summary
    assert result.wrong_share <= MEASURED_WRONG, summary
    assert result.suggestion_share <= MEASURED_SUGGESTIONS, summary
    assert result.offtopic_answered_share <= MEASURED_OFFTOPIC, summary


@pytest.mark.parametrize("split", ["dev", "test"])
def test_every_answer_the_engine_gives_has_a_current_judgment(report, split):
    """An entry whose answer changed since it was judged, or a new top candidate, needs judging again
    (tools/judge_pool.py --missing); until then the judged figures count it as not right.  The fact-sheet set is
    checked in test_fact_sheet_questions_do_not_regress, round group by round group."""
    result = report(EVAL_FILE, split, JUDGMENTS_FILE)
    assert result.unjudged == 0, format_report(result)


def test_the_fact_sheet_floors_cover_every_round():
    _, written = read_list(FACTS_FILE, "questions", str(FACTS_FILE))
    assert {q["round"] for q in written} == set().union(*FACTS_FLOORS)  # a new round needs its floor


@pytest.mark.parametrize("rounds", list(FACTS_FLOORS), ids=[f"rounds-{r[0]}-{r[-1]}" for r in FACTS_FLOORS])
def test_fact_sheet_questions_do_not_regress(report, rounds):
    """The second dev set (members' questions written from the fact sheet, judged blind): tuned on, so a floor
    under the measured figures, not a held-out claim.  Each group of writing rounds has its own floor, and every
    answer the engine gives in it has a current judgment."""
    result = report(FACTS_FILE, "dev", FACTS_JUDGMENTS_FILE, rounds)
    summary = format_report(result)
    wrong, suggestions = FACTS_FLOORS[rounds]
    assert result.unjudged == 0, summary
    assert result.answerable >= 300 and result.offtopic == 0
    assert result.wrong_share <= wrong, summary
    assert result.suggestion_share <= suggestions, summary


# Rounds 2-5 of the blind set (dev), stop 28.  Round 2 was scored before any change (wrong 11/192, 5.7%; suggestions
# 36/242, 14.9%) and the rules were chosen on half of it.  Round 3, written, labelled and judged after those rules were
# built and scored before any further change (the clean check): the stop-27 engine 8/193 wrong (4.1%), 39/247
# suggestions (15.8%), judged 3/173 (1.7%), 37/223; a57c5f1 4/199 (2.0%), 34/247 (13.8%), judged 1/180 (0.6%), 31/223.
# CLEAR_MIN_PRECISION, chosen on round 2, was checked there: 3 more right answers, no wrong one.  Round 4, scored after
# the review's mends and before any change made on it (the second clean check): the stop-27 engine 9/198 (4.5%),
# 32/243 (13.2%), judged 6/175 (3.4%), 28/213; 8b38b85 8/202 (4.0%), 29/243 (11.9%), judged 6/178 (3.4%), 26/213.
# The two rounds together: 17/391 wrong (4.3%) with the stop-27 engine, 12/401 (3.0%) with this stop's; judged 9/348
# (2.6%) and 7/358 (2.0%).  Now, with two variants from round 4's recurring questions: round 2 5/202 (2.5%), 28/242,
# judged 3/182, 27/220; round 3 3/204 (1.5%), 30/247, judged 1/185, 28/224; round 4 6/203 (3.0%), 28/243, judged
# 5/178 (2.8%), 26/214.  Round 5, written, labelled and judged at 2e30ae1 and scored once (the third clean check):
# the stop-27 engine 3/198 (1.5%), 28/238 (11.8%), judged 4/182 (2.2%), 25/215; 2e30ae1 2/205 (1.0%), 21/238 (8.8%),
# judged 3/188 (1.6%), 19/215 (8.8%).  The three clean rounds, each against the engine of its day: 20/589 wrong (3.4%)
# with the stop-27 engine, 14/606 (2.3%) with this stop's; judged 13/530 (2.5%) and 10/546 (1.8%).
# Off-topic answered 0/47, 0/46, 0/45, 0/42.  Tuned on now, so floors, not held-out claims.
# Stop 29, three fresh rounds written to a new brief (one persona per writer; some asked for long messages and two
# questions in one), each scored before any change made on it.  Round 6, with the stop-28 engine: 18/200 wrong (9.0%),
# 31/239 suggestions (13.0%); with this stop's first content edits, the same.  Round 7, the clean check of the changes
# chosen on round 6: the stop-28 engine 20/185 (10.8%), 29/226 (12.8%); the engine of the day 21/187 (11.2%), 27/226.
# Round 8, the clean check of everything this stop: the stop-28 engine 17/204 (8.3%), 24/236 (10.2%); the engine of
# the day 17/204 (8.3%), 25/236 (10.6%); judged 13/195 (6.7%), 24/226 (the stop-28 engine's 19/195 counts 8 of its answers
# no judge has rated).  Neutral on fresh messages, then, by the labels: most wrong answers in these rounds answer one
# ask of a message that asks two things, where the labellers chose the entry answering both or the main one.  With the
# final engine (variants too close to dev wording rewritten): round 2 4/202, 29/242, judged 3/182; round 3 3/205,
# 29/247, judged 1/186; round 4 6/207, 25/243, judged 3/182; round 5 3/206, 20/238, judged 3/189; round 6 14/199,
# 32/239, judged 7/194; round 7 16/183, 31/226, judged 15/173, 28/213; round 8 17/205, 24/236, judged 13/196, 23/226.
# Off-topic answered 0/51, 0/50, 0/51.  Round 9, written and labelled after everything above and scored with the
# final engine: 22/205 wrong (10.7%), 28/239 suggestions (11.7%), judged 20/196 (10.2%), 26/227; the stop-28 engine
# 25/208 (12.0%), 24/239 by the labels; off-topic 0/50.  804 more phrasings written from the bank alone (four
# writers, four per entry, aimed at siblings) were tried before round 9 and dropped: on the dev rounds they gave more
# answers and more wrong ones (65 -> 78 by the labels, 9 -> 13 on the fact-sheet set), with no threshold that undid it.
# Stop 30.  Round 10 (four new writers and personas, three labellers), labelled against stop 29's bank and scored
# after this stop's first 20 answer edits, chosen on rounds 6-9: judged 10/186 wrong (5.4%) with stop 29's answers
# (judged for the occasion), 6/186 (3.2%) with the edited ones; by its labels 22/193 and 23/193, the labels then
# naming the entries as they read before the edits.  The 13 edits after were chosen on rounds 1-10 (round 10 too).
# Round 11, written, labelled and judged after the 33 edits and before the review's corrections (the clean check):
# judged 10/177 (5.6%) with stop 29's answers, 8/176 (4.5%) with this stop's; by the labels 11/183 and 11/182,
# suggestions 37/234 and 38/234; the same after the corrections.  The label check of edited answers (above,
# MEASURED_*) moved rounds 1-10: by the labels rounds 6-10 went from 14, 17, 17, 22, 23 wrong to 2, 3, 4, 3, 3.
# Not used: answering each ask of a two-ask message with its own entry (at most 22 of 87 dev wrong answers right by
# the labels even with every message given a second answer, and about 1 in 5 second answers beside the point), a
# linear reranker over the engine's own signals trained on the other rounds (96 -> 114 wrong, leave one round out),
# and preferring a candidate whose answer covers every ask (43 -> 43..49 wrong on the dev rounds).
# Floors after stop 30: three judged floors rose to the new figures, rounds 2, 3 and 5 (stop 29 3/182, 1/186, 3/189
# wrong; now 4/184, 3/188, 4/191): pairs judged again after their answers changed, e.g. the island-count answer now
# rated partial for a question asking whether it is "hơn" or "gần" 3.000.  The others held or were lowered.
# Stop 31, content only: eight answers say a fact asked with theirs in several dev rounds (Sóc Trăng's merger names
# Nghị quyết 202/2025/QH15 and its date; the island-district answer how many communes, wards and special zones there
# are; "Triệu phần quà" the union's "Mẹ đỡ đầu" of the same year ...), reviewed, re-judged and label-checked (155
# labels changed).  Round 12 (four new writers, three labellers), written before the edits were chosen and labelled
# and judged after them, is their clean check: the engine's decisions on it are the same with and without the edits
# (7/183 wrong by its labels, 31/230 suggestions); with the edited answers judged 2/181 (1.1%), 30/227; after the
# label check 5/183 (2.7%).  Round 11 went from 11/182 to 6/180 by the labels and 8/176 to 6/175 judged, its
# suggestions from 38 to 40 of 234 (two answers became suggestions: an edited answer ranks a little lower against a
# sibling).
# Stop 32.  Round 13 (four new writers and personas, three labellers), written, labelled and judged before any change
# of this stop, is the clean check: stop 31's engine and this stop's decide every round-13 question alike, 10/190
# wrong by its labels (5.3%), 28/229 suggestions, judged 1/184 (0.5%), 27/222; off-topic 0/48.  The three lexicon
# entries (an unmarked "bien gioi" / "bien phong" read as "biên giới" / "biên phòng", "EEZ", a marked "Hội mình")
# were chosen on rounds 1-12: labels 37 -> 34 wrong, judged 30 -> 26, the fact-sheet set unchanged (8); suggestions up
# by one each in rounds 8 and 12 (a wrong answer and a fallback became suggestions), and one round-1 dev question
# answered where it was suggested (judged partial).  The ratification answer now says when UNCLOS was signed (asked
# beside it in rounds 11 and 13); after its label check (12 labels) round 13 reads 8/190 by its labels.  Round 14
# (four more writers and personas, three labellers), written, labelled and judged after all of it, scored once with
# this stop's final engine and bank (the second clean check): 7/183 wrong by its labels (3.8%), 32/238 suggestions
# (13.4%), judged 4/182 (2.2%), 31/236; off-topic 0/48.  Rounds 13 and 14 together, judged: 5/366 (1.4%).
# Stop 33.  "mấy" read as "those" or "these" ("mấy ông trong xóm", "mấy bữa nay"), as "which" ("năm mấy"), or as
# "máy" (bot/answers/signals.py), chosen on rounds 1-14 and the fact-sheet rounds: by the labels 46 -> 44 wrong with 17
# more answers and 17 fewer suggestions, judged 30 -> 30 with 16 more answers, the fact-sheet set 8 -> 9 with 7 more.
# Round 15 (four new writers and personas, three labellers), written while the rule was being chosen and labelled and
# judged before it was scored, then scored once with the final engine (the clean check): 9/191 wrong by its labels
# (4.7%), 29/237 suggestions (12.2%), judged 6/185 (3.2%), 29/230; stop 32's engine 9/188, 33/237, judged 6/182,
# 33/230.  Off-topic 0/48 both.  Then a close runner-up that the top entry or it lists as related is offered beside the
# answer instead of making a suggestion, chosen on rounds 1-15 (labels 21 more answers, one more wrong; judged 21 more,
# none wrong; the fact-sheet set 8 more, none wrong), and the union's Sóc Trăng answer says where the province went
# (Nghị quyết 202/2025/QH15), after a review; 25 labels gained it, and its re-judged pairs count two more wrong
# (rounds 10 and 15: they also ask about the membership card).  Round 16 (four more writers and personas, three
# labellers), written after the first rule and labelled and judged before either was scored, scored once with the
# final engine and bank (the clean check): 7/177 wrong by its labels (4.0%), 33/228 suggestions (14.5%), judged 5/173
# (2.9%), 33/223; stop 32's engine and bank 5/169, 40/228, judged 6/166, 39/223 (one answer unjudged).  One off-topic
# message answered with both engines.  Round 15 now: 9/196 wrong by its labels, 24/237 suggestions, judged 7/190,
# 24/230 (6/185 when first scored, 6/190 with the runner-up rule, 7/190 after the edited answer was re-judged).
# Stop 34.  Five answers say a fact members ask with theirs in several dev rounds (the exclusive economic zone's answer
# the territorial sea's 12 hải lý, the coastal provinces after 2025 the unchanged 3.260 km of coast, Nghị quyết 202 the
# new city's 103 communes and wards, Hoàng Sa's size that it is Đà Nẵng's special zone) or lead with what is asked (the
# land-border provinces after 2025: no official total yet), each fact-checked, re-judged and label-checked (151 label
# changes on 142 questions; 4 of them test-split questions, each gaining an edited entry).  Round 17 (four new writers
# and personas, three labellers), written before any of it and judged before it was scored, is the clean check of the
# first three edits: 10/184 wrong by its labels (5.4%), 28/229 suggestions (12.2%), judged 4/181 (2.2%), 28/225; stop
# 33's bank decides every question alike.  It answered a lottery message with the old province's entry; the rule for
# subjects the bank never covers (lexicon.UNRELATED_SUBJECTS) and four chat abbreviations ("tui", "nc", "phòg", "dùm")
# were then chosen on rounds 1-17.  Round 18 (four more), written, labelled and judged before they and the land-border
# answer were scored, is their clean check: 3/188 wrong (1.6%), 28/227 suggestions (12.3%), judged 4/183 (2.2%), 25/218;
# stop 33's engine and bank 3/187, 27/227, judged 5/180 (two answers unjudged), 24/215.  Round 19 (four more), written
# before the Hoàng Sa edit and labelled and judged after it, scored once with the final engine and bank: 2/198 wrong
# (1.0%), 24/235 suggestions (10.2%), judged 2/195 (1.0%), 23/229; stop 33's engine and bank 2/195, 26/235, judged 6/188
# (four answers unjudged).  Rounds 17-19 as first read: judged 10/559 wrong (1.8%) and 76/672 suggestions (11.3%); by
# the labels 15/570 (2.6%) and 80/691 (11.6%).  Rounds 1-16 and the fact-sheet set against stop 33: labels 61 -> 57
# wrong (9 more answers), judged 43 -> 36 (9 more), the fact-sheet set 9 -> 7.  Round 14's suggestion floors rose by
# 0.01: three of its no-answer replies became suggestions ("tui" read as "tôi").  Now, by the labels and judged: round
# 15 7/196, 24/237, 5/190, 24/230; round 16 4/181, 29/228, 3/177, 29/223; round 17 12/188 (11/185 with its first
# decisions and today's labels; the abbreviations, chosen on it too, add three answers, one wrong by its labels and
# rated full by the judges), 27/230, 4/185, 27/226; round 18 3/188, 28/227, 3/183 (the Hoàng Sa edit, chosen on rounds
# 16 and 18), 25/218; round 19 as first read.  Stop 35 (a message's one ask searched alone, asks.sole_ask_fits; the
# pre-2025 coastal answer says what is known after 2025; deletion said to be immediate), against stop 34's engine and
# bank on today's labels and judgments: rounds 2-19 by the labels 70/3529 -> 70/3548 wrong, 492 -> 473 suggestions of
# 4,248, off-topic answered 3 -> 4; judged 47/3390 -> 42/3410, 465 -> 447 of about 4,068; the fact-sheet set 14/1314
# -> 7/1323, 134 -> 130 of about 1,510; round 1's dev half judged 3/135 -> 1/135 (by the labels 3/144 both).
# Stop 36.  Rounds 22-23 (eight new writers and personas, three labellers each, all dev), scored first with stop 35's
# engine and bank: by the labels 13/383 wrong (3.4%) and 64/471 suggestions (13.6%).  Chosen on them and rounds 1-19: a
# near-tie settled by the first of two asks (asks.first_ask_entry), a fair lead from the suggest threshold, plates
# as a subject the bank never covers (scams excepted), four answers that say a fact members ask with theirs.  Rounds
# 24-25 (eight more), written, labelled and judged before they were scored, are the clean check: stop 35's engine on
# today's bank 10/380 wrong, 47/458 suggestions, judged 5/371, 46/446; now 12/386 (3.1%), 41/458 (9.0%), judged 5/377
# (1.3%), 40/446.  Against stop 35's engine on today's bank and labels: rounds 2-19 by the labels 66/3546 -> 70/3601
# wrong, 475 -> 420 suggestions of 4,248, off-topic answered 4 -> 3; judged 37/3411 -> 39/3464, 450 -> 397 of 4,072;
# rounds 22-23 12/384 -> 13/396, 63 -> 51 of 471, judged 4/373 -> 4/385, 59 -> 47; the fact-sheet set 8/1325 -> 9/1340,
# 130 -> 115 of 1,517; round 1's dev half 3/144 -> 3/146, 9 -> 7 suggestions (judged 1/135 -> 1/137).
BLIND_ROUND_FLOORS = {  # (round, labels): (wrong, suggestions)
    (2, "labels"): (0.03, 0.13),
    (2, "judged"): (0.025, 0.14),
    (3, "labels"): (0.025, 0.14),
    (3, "judged"): (0.02, 0.14),
    (4, "labels"): (0.035, 0.13),
    (4, "judged"): (0.035, 0.13),
    (5, "labels"): (0.02, 0.10),
    (5, "judged"): (0.03, 0.10),
    (6, "labels"): (0.02, 0.15),
    (6, "judged"): (0.015, 0.145),
    (7, "labels"): (0.02, 0.14),
    (7, "judged"): (0.025, 0.14),
    (8, "labels"): (0.03, 0.12),
    (8, "judged"): (0.02, 0.115),
    (9, "labels"): (0.03, 0.12),
    (9, "judged"): (0.02, 0.12),
    (10, "labels"): (0.02, 0.165),
    (10, "judged"): (0.015, 0.16),
    (11, "labels"): (0.035, 0.175),
    (11, "judged"): (0.035, 0.17),
    (12, "labels"): (0.03, 0.14),
    (12, "judged"): (0.015, 0.14),
    (13, "labels"): (0.045, 0.13),
    (13, "judged"): (0.01, 0.13),
    (14, "labels"): (0.04, 0.15),
    (14, "judged"): (0.025, 0.145),
    (15, "labels"): (0.04, 0.105),
    (15, "judged"): (0.03, 0.11),
    (16, "labels"): (0.03, 0.13),
    (16, "judged"): (0.02, 0.135),
    (17, "labels"): (0.065, 0.12),
    (17, "judged"): (0.025, 0.12),
    (18, "labels"): (0.02, 0.125),
    (18, "judged"): (0.02, 0.115),
    (19, "labels"): (0.015, 0.105),
    (19, "judged"): (0.015, 0.105),
    (22, "labels"): (0.025, 0.125),
    (22, "judged"): (0.01, 0.125),
    (23, "labels"): (0.045, 0.095),
    (23, "judged"): (0.02, 0.085),
    (24, "labels"): (0.045, 0.06),
    (24, "judged"): (0.025, 0.055),
    (25, "labels"): (0.025, 0.125),
    (25, "judged"): (0.01, 0.125),
}
# Off-topic messages answered, where a fresh round found one (0 elsewhere): round 16's "đăng ký tạm trú trên VNeID"
# gets the sea-border area's temporary-residence entry, with stop 32's engine too; round 18's "luong co so nam 2026 la
# bao nhieu" (the base salary) the Border Guard's anniversary count ("năm 2026 … bao nhiêu năm"), with stop 33's too,
# until stop 37 (the base salary is a subject the bank never covers);
# round 19's "Mai Cù Lao Dung có mưa không ad, em tính phơi lúa" the Cù Lao Dung entry since stop 35 (the message's
# one ask, searched alone, asks.sole_ask_fits, is what stop 34's engine already answered typed alone), and round 24's
# "mai cu lao dung co mua ko ad, c tinh phoi lua" too, until stop 37: the weather is now a subject the bank never
# covers (lexicon.WEATHER).  Round 19's "xe máy biển số 83 của Sóc Trăng cũ có phải đổi biển số" got the union's
# Sóc Trăng entry until stop 36: number plates are a subject the bank never covers too.
BLIND_ROUND_OFFTOPIC_ANSWERED = {16: 1}


@pytest.mark.parametrize(("round_", "labels"), list(BLIND_ROUND_FLOORS), ids=[f"round-{r}-{k}" for r, k in BLIND_ROUND_FLOORS])
def test_later_blind_rounds_do_not_regress(report, round_, labels):
    result = report(EVAL_FILE, "dev", JUDGMENTS_FILE if labels == "judged" else None, (round_,))
    summary = format_report(result)
    wrong, suggestions = BLIND_ROUND_FLOORS[(round_, labels)]
    assert result.answerable >= 200 and result.offtopic >= 40 and result.unjudged == 0, summary
    assert result.offtopic_answered <= BLIND_ROUND_OFFTOPIC_ANSWERED.get(round_, 0), summary
    assert result.wrong_share <= wrong, summary
    assert result.suggestion_share <= suggestions, summary


def test_blind_test_split_with_judged_labels_does_not_regress(report):
    result = report(EVAL_FILE, "test", JUDGMENTS_FILE)
    summary = format_report(result)
    assert result.answerable > 0 and result.offtopic > 0
    assert result.accuracy_at_1 >= MEASURED_JUDGED_ACCURACY, summary
    assert result.wrong_share <= MEASURED_JUDGED_WRONG, summary
    assert result.suggestion_share <= MEASURED_SUGGESTIONS, summary
    assert result.offtopic_answered_share <= MEASURED_OFFTOPIC, summary


def test_old_set_held_out_questions(report):
    result = report(OLD_EVAL_FILE, "test")
    summary = format_report(result)
    assert result.answerable > 0 and result.offtopic > 0
    assert result.accuracy_at_1 >= 0.92, summary


@pytest.mark.xfail(
    reason="issue 13 regression: the old set's off-topic questions answered rose from 0/39 to 3/39 (7.7%) with the "
    "function-word weighting; the dev case ('mai can tho co mua ko', 'mai' = tomorrow matching 'mai mối') is fixed "
    "(old dev 0/27); the test split answered 2/39 (5.1%) at stop 20 and 3/39 (7.7%) with the stop-21 phrasings; "
    "left for review, not tuned on test",
    strict=True,  # when the figures reach the target this fails, and the mark must go
)
def test_old_set_off_topic_questions_are_not_answered(report):
    result = report(OLD_EVAL_FILE, "test")
    assert result.offtopic_answered_share <= 0.05, format_report(result)
