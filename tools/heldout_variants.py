"""Held-out phrasings of the bank: how well the bank answers a phrasing it has never seen.

The approved entries' variants are split into K folds; for each fold the index is built
without that fold's variants and each of them is asked, through the same decision as a
member's question (``bot.answers.reply.answer`` with the shipped thresholds).  Printed:
accuracy@1, answered right / wrong / suggested / not answered, and the entry pairs confused
most often.  It uses only the bank, never the evaluation sets, so content writers may run
it as often as they like.

    .venv/bin/python tools/heldout_variants.py                 # 5 folds, the shipped content/
    .venv/bin/python tools/heldout_variants.py --folds 5 --file content/bank/bien-dao.yaml --show 20

``--file`` reports only the variants of one bank file (the index is still the whole bank).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.answers import reply
from bot.answers.bank import build_snapshot
from bot.answers.evaluation import EVAL_ORG
from bot.answers.matcher import Matcher
from bot.core.config import load_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--content", default=str(ROOT / "content"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--file", help="only the variants of this bank file")
    parser.add_argument("--show", type=int, default=15, help="list this many misses")
    args = parser.parse_args()
    defaults = load_config({})
    snap = build_snapshot(args.content)
    approved = [e for e in snap.entries if e.approved]
    only = str(Path(args.file).resolve()) if args.file else None
    asked = [(e.id, i, v) for e in approved for i, v in enumerate(e.variants)]
    tally: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    misses: list[tuple[str, str, str, str]] = []
    for fold in range(args.folds):
        held = {(eid, i) for n, (eid, i, _) in enumerate(asked) if n % args.folds == fold}
        kept = [
            dataclasses.replace(e, variants=tuple(v for i, v in enumerate(e.variants) if (e.id, i) not in held))
            for e in snap.entries
        ]
        fold_snap = dataclasses.replace(snap, entries=kept, matcher=Matcher(e for e in kept if e.approved))
        for n, (eid, i, text) in enumerate(asked):
            if n % args.folds != fold:
                continue
            if only and str(Path(snap.entry(eid).file).resolve()) != only:
                continue
            got = reply.answer(
                text,
                fold_snap,
                org=EVAL_ORG,
                answer_threshold=defaults["ANSWER_THRESHOLD"],
                suggest_threshold=defaults["SUGGEST_THRESHOLD"],
            )
            top = got.candidates[0]["entry_id"] if got.candidates else None
            tally["asked"] += 1
            tally["top1"] += top == eid
            kind = got.decision
            if kind == "answer":
                kind = "right" if top == eid else "wrong"
            tally[kind] += 1
            if top != eid or got.decision != "answer":
                misses.append((got.decision, eid, top or "-", text))
                if top and top != eid:
                    pairs[(eid, top)] += 1
    n = tally["asked"] or 1
    print(f"held-out variants: {tally['asked']} in {args.folds} folds")
    print(f"accuracy@1 {tally['top1'] / n:.3f}; answered right {tally['right']}, wrong {tally['wrong']}, "
          f"suggested {tally['suggest']}, not answered {tally['fallback']}")
    print("most confused (asked entry -> top entry):")
    for (a, b), count in pairs.most_common(10):
        print(f"  {count}  {a} -> {b}")
    for decision, eid, top, text in misses[: args.show]:
        print(f"  [{decision}] {eid} -> {top}: {text}")


if __name__ == "__main__":
    main()
