"""Merge judges' ratings (``judged-*.yaml`` written from tools/judge_pool.py's pools) into tests/eval/judgments.yaml.

    .venv/bin/python tools/judge_merge.py /tmp/judge

A judges' file is ``judgments: [{key: <the pool's ### key>, "full": [ids], "partial": [ids], "no": [ids]}]``.
Every entry rated in it gets the fingerprint of its current answer (the text the judges read in the pool); an
entry whose answer had changed loses its older ratings that the new files do not repeat, since they were made
against another text.  The file's header comments are kept.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.answers.bank import ContentBank
from bot.answers.evaluation import (
    EVAL_FILE,
    JUDGMENTS_FILE,
    RATINGS,
    answer_fingerprint,
    load_eval_questions,
)
from tools.judge_pool import question_key


def _ratings(item: dict) -> dict[str, str]:
    out = {}
    for rating in RATINGS:
        listed = item.get(rating) if rating in item else item.get(False) if rating == "no" else None  # bare `no:`
        out.update({str(e): rating for e in listed or ()})
    return out


def _flow(ids) -> str:
    return "[" + ", ".join(sorted(ids)) + "]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", help="folder with the judges' judged-*.yaml files")
    parser.add_argument("--content", default=str(ROOT / "content"), help="the content the pools were written from")
    args = parser.parse_args()

    order = [q.q for q in load_eval_questions(EVAL_FILE, "all")]
    by_key = {question_key(q): q for q in order}
    text = JUDGMENTS_FILE.read_text(encoding="utf-8") if JUDGMENTS_FILE.is_file() else "judgments: []\n"
    header = text[: text.index("judgments:")]
    data = yaml.safe_load(text) or {}
    fingerprints = dict(data.get("answers") or {})
    judged = {item["q"]: _ratings(item) for item in data.get("judgments") or []}

    new: dict[str, dict[str, str]] = {}
    for path in sorted(Path(args.folder).glob("judged-*.yaml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))["judgments"]:
            key = item["key"] if isinstance(item["key"], str) else str(item["key"]).zfill(8)
            if key not in by_key:
                raise SystemExit(f"{path}: no question of {EVAL_FILE.name} has the key {key}")
            new.setdefault(by_key[key], {}).update(_ratings(item))

    snap = ContentBank.load(args.content).snapshot()
    current = {e: answer_fingerprint(snap.get(e).answer) for ratings in new.values() for e in ratings}
    changed = {e for e, fp in current.items() if fingerprints.get(e) != fp}
    for q, ratings in judged.items():
        for e in [e for e in ratings if e in changed and e not in new.get(q, {})]:
            del ratings[e]
    for q, ratings in new.items():
        judged.setdefault(q, {}).update(ratings)
    fingerprints.update(current)

    lines = [header.rstrip("\n"), "judgments:"] if header.strip() else ["judgments:"]
    for q in order:
        if q not in judged:
            continue
        lines.append("  - q: " + yaml.safe_dump(q, allow_unicode=True, width=10**6).strip().removesuffix("...").strip())
        lines += [f'    "{r}": {_flow(e for e, v in judged[q].items() if v == r)}' for r in RATINGS]
    rated = sorted({e for ratings in judged.values() for e in ratings})
    lines.append("# The answer text each rated entry had when judged (sha1, 10 hex digits): a rating of an entry whose answer")
    lines.append("# has changed since is unjudged until judged again (tools/judge_pool.py --missing).")
    lines.append("answers:")
    lines += [f"  {e}: '{fingerprints[e]}'" for e in rated]
    JUDGMENTS_FILE.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{sum(map(len, new.values()))} ratings merged; {len(changed)} entries judged against a new answer")


if __name__ == "__main__":
    main()
