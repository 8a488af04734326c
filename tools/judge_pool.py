"""Pools for a second, independent relevance judgment of the blind evaluation set.

The blind set's ``expect`` labels name the entry (or entries) one labeler chose.  A member is
served just as well by another entry whose answer also answers her question, and a label can be
wrong.  This tool writes, for every question, a pool of entries to judge: the labelled ones and
the top ``--top`` candidates of the current engine (TREC-style pooling), shuffled, with no rank,
score, decision or label shown.  A judge who has never seen the engine's output rates each
(question, entry) pair; the ratings go to ``tests/eval/judgments.yaml`` and ``flask content eval
--labels judged`` counts an answer right when the judge rated its entry ``full``.

    .venv/bin/python tools/judge_pool.py --out /tmp/judge --chunks 4           # every question
    .venv/bin/python tools/judge_pool.py --out /tmp/judge --missing            # only pairs not yet judged
    .venv/bin/python tools/judge_pool.py --out /tmp/facts --missing \
        --questions tests/eval/fact_sheet_questions.yaml --judgments tests/eval/fact_sheet_judgments.yaml

With ``--missing`` only the pairs that have no valid rating are written: new top candidates after the
engine or the bank changed, and every pair of an entry whose answer changed since it was judged
(``answers:`` in the judgments file records what each entry said then).  The writer of this tool never reads the pools of
the test split: they go to the judges only.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.answers import reply
from bot.answers.bank import ContentBank, Entry
from bot.answers.evaluation import (
    EVAL_FILE,
    EVAL_ORG,
    JUDGMENTS_FILE,
    current_judgments,
    load_eval_questions,
    read_judgments,
)
from bot.core.config import load_config


def question_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


def read_key(value: object) -> str:
    """A question key as a judge or labeller wrote it: an unquoted key of digits reads as a number.  A key of
    a leading 0 and digits 0-7 reads as an octal number and cannot be recovered: the prompts ask for quotes."""
    return str(value)


def pool_entry(entry: Entry, org: Mapping[str, Any]) -> str:
    """An entry as a pool shows it: its id, canonical question and the answer a member reads."""
    return f"- entry `{entry.id}`\n  Q: {entry.question}\n  A: {reply.fill_placeholders(entry.answer.strip(), org)}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="folder for the pool files")
    parser.add_argument("--top", type=int, default=5, help="engine candidates pooled per question")
    parser.add_argument("--chunks", type=int, default=1)
    parser.add_argument("--missing", action="store_true", help="only pairs without a rating")
    parser.add_argument("--questions", default=str(EVAL_FILE), help="the evaluation set to pool (default: the blind set)")
    parser.add_argument("--judgments", default=str(JUDGMENTS_FILE), help="its judgments file, for --missing")
    args = parser.parse_args()

    bank = ContentBank.load(ROOT / "content")
    snap = bank.snapshot()
    config = load_config({})
    org = {**config, **EVAL_ORG}
    # with --missing: every pair without a valid rating, including the ones rated against an older answer
    judgments_file = Path(args.judgments)
    earlier, fingerprints = read_judgments(judgments_file) if args.missing and judgments_file.is_file() else ({}, {})
    judged = current_judgments(earlier, fingerprints, snap)
    items = []
    for question in load_eval_questions(args.questions, "all"):
        result = reply.answer(
            question.q,
            snap,
            org=EVAL_ORG,
            answer_threshold=config["ANSWER_THRESHOLD"],
            suggest_threshold=config["SUGGEST_THRESHOLD"],
        )
        pool = {c["entry_id"] for c in result.candidates[: args.top]} | set(question.acceptable)
        pool |= {e for e in earlier.get(question.q, {}) if snap.get(e) is not None}
        pool -= set(judged.get(question.q, {}))
        if not pool:
            continue
        ids = sorted(pool)
        random.Random(question_key(question.q)).shuffle(ids)
        items.append((question.q, ids))
    random.Random(13).shuffle(items)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    size = -(-len(items) // args.chunks) if items else 0
    for n in range(args.chunks):
        chunk = items[n * size : (n + 1) * size]
        lines = []
        for q, ids in chunk:
            lines.append(f"### {question_key(q)}\nQUESTION: {q}\n")
            lines += [pool_entry(snap.get(entry_id), org) for entry_id in ids]
            lines.append("")
        (out / f"pool-{n + 1}.md").write_text("\n".join(lines), encoding="utf-8")
    pairs = sum(len(ids) for _, ids in items)
    print(f"{len(items)} questions, {pairs} pairs, in {args.chunks} file(s) under {out}")


if __name__ == "__main__":
    main()
