"""Keep the blind set's labels in step with the bank: check every question against the entries the
labeller never saw.

The blind set's ``expect`` labels name the approved entry (or entries, equally full) that answers
each question, chosen by a labeller who read the bank as it was.  An entry added later was never a
choice, so a label can go stale without anyone being wrong.  ``labelled_entries:`` in the question
file lists the entries the labels were checked against; ``tests/unit/test_eval.py`` fails while an
approved entry is missing from it.  To bring the labels up to date:

    .venv/bin/python tools/label_pool.py pool --out /tmp/label        # the new entries and every question
    # two labellers, each alone, read pool.md (and content/bank/*.yaml for the current labels' texts),
    # never the engine's output, the code or the other evaluation files, and each writes a file:
    #   labels:
    #     - {key: 1a2b3c4d, entry: new-entry-id, verdict: better}   # answers it more fully than the label
    #     - {key: 5e6f7a8b, entry: new-entry-id, verdict: equal}    # answers it as fully as the label
    #     - {key: 9c0d1e2f, entry: new-entry-id, verdict: answers}  # a question with no label: it answers it
    .venv/bin/python tools/label_pool.py merge /tmp/label/labeller-1.yaml /tmp/label/labeller-2.yaml

The merge changes a label only where both labellers agree (better and equal together count as
equal), so one labeller's view never moves a label; off-topic questions are not pooled.  The pool
shows no split, no rank, score or decision of the engine.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.answers import reply
from bot.answers.bank import ContentBank
from bot.answers.evaluation import (
    EVAL_FILE,
    EVAL_ORG,
    EvalFileError,
    load_eval_questions,
    read_list,
)
from bot.core.config import load_config
from tools.judge_pool import question_key

VERDICTS = ("better", "equal", "answers")
_EXPECT = re.compile(r"expect: .*\}\s*$")
_LABELLED = re.compile(r"^labelled_entries:\n(?:  - .*\n)*", re.MULTILINE)


def labelled_entries(path: Path) -> list[str]:
    """The entry ids the labels were checked against (``labelled_entries:`` in the question file)."""
    data, _ = read_list(path, "questions", f"Chưa có tệp đánh giá {path}.")
    ids = data.get("labelled_entries")
    if not isinstance(ids, list):
        raise EvalFileError(f"{path}: cần danh sách 'labelled_entries:' (các mục người gán nhãn đã xét)")
    return [str(e) for e in ids]


def unlabelled_entries(path: Path, content: Path) -> list[str]:
    """Approved entries of the bank the labels were never checked against."""
    seen = set(labelled_entries(path))
    return sorted(e.id for e in ContentBank.load(content).snapshot().approved if e.id not in seen)


def write_pool(path: Path, content: Path, out: Path) -> tuple[int, int]:
    """pool.md under ``out``: the entries never checked, then every on-topic question with its labels."""
    snap = ContentBank.load(content).snapshot()
    org = {**load_config({}), **EVAL_ORG}
    new = unlabelled_entries(path, content)
    lines = ["# Các mục mới (người gán nhãn chưa từng thấy)\n"]
    for entry_id in new:
        entry = snap.get(entry_id)
        lines.append(f"- entry `{entry_id}`\n  Q: {entry.question}\n  A: {reply.fill_placeholders(entry.answer.strip(), org)}\n")
    questions = [q for q in load_eval_questions(path, "all") if q.expect is not None or not q.answerable]
    random.Random(13).shuffle(questions)
    lines.append("\n# Các câu hỏi và nhãn hiện tại\n")
    for q in questions:
        label = ", ".join(f"`{e}`" for e in q.acceptable) or "(không mục nào trả lời)"
        lines.append(f"### {question_key(q.q)}\nQUESTION: {q.q}\nLABEL: {label}\n")
    out.mkdir(parents=True, exist_ok=True)
    (out / "pool.md").write_text("\n".join(lines), encoding="utf-8")
    return len(new), len(questions)


def read_verdicts(path: Path) -> dict[tuple[str, str], str]:
    """One labeller's file: {(question key, entry id): verdict}; EvalFileError when it is not one."""
    _, items = read_list(path, "labels", f"Không có tệp {path}.")
    verdicts = {}
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict) or item.get("verdict") not in VERDICTS or not item.get("key") or not item.get("entry"):
            raise EvalFileError(f"{path}: mục thứ {n} cần key, entry và verdict ({' | '.join(VERDICTS)})")
        verdicts[(str(item["key"]), str(item["entry"]))] = item["verdict"]
    return verdicts


def agreed(first: dict[tuple[str, str], str], second: dict[tuple[str, str], str]) -> dict[tuple[str, str], str]:
    """What both labellers said; better beside equal is equal (both hold it answers at least as fully)."""
    out = {}
    for pair in first.keys() & second.keys():
        a, b = first[pair], second[pair]
        if a == b:
            out[pair] = a
        elif {a, b} == {"better", "equal"}:
            out[pair] = "equal"
    return out


def _expect_text(ids: list[str]) -> str:
    return f"expect: {ids[0]}}}" if len(ids) == 1 else f"expect: [{', '.join(ids)}]}}"


def relabel(question: dict[str, Any], verdicts: dict[str, str]) -> str | None:
    """The new ``expect: ...}`` tail of a question line given its agreed verdicts, or None to keep it."""
    expect = question.get("expect")
    ids = [str(e) for e in expect] if isinstance(expect, list) else ([str(expect)] if expect else [])
    better = sorted(e for e, v in verdicts.items() if v == "better")
    if not ids or question.get("answerable", True) is False:
        found = sorted(e for e, v in verdicts.items() if v in VERDICTS)
        return _expect_text(found) if found else None
    if better:
        return _expect_text(better)
    added = [e for e, v in sorted(verdicts.items()) if v == "equal" and e not in ids]
    return _expect_text(ids + added) if added else None


def merge(path: Path, content: Path, files: list[Path]) -> dict[str, int]:
    """Apply the verdicts both labellers agree on to ``path``; every approved entry becomes labelled."""
    first, second = (read_verdicts(f) for f in files)
    keys = {question_key(q.q) for q in load_eval_questions(path, "all") if q.expect is not None or not q.answerable}
    new = set(unlabelled_entries(path, content))
    for file, verdicts in zip(files, (first, second)):
        for key, entry in verdicts:
            if key not in keys:
                raise EvalFileError(f"{file}: không có câu hỏi nào mang key {key}")
            if entry not in new:
                raise EvalFileError(f"{file}: '{entry}' không phải mục mới nào của lần gán nhãn này ({', '.join(sorted(new))})")
    both = agreed(first, second)
    by_key: dict[str, dict[str, str]] = {}
    for (key, entry), verdict in both.items():
        by_key.setdefault(key, {})[entry] = verdict
    text = path.read_text(encoding="utf-8")
    lines, changed = text.splitlines(keepends=True), 0
    for n, line in enumerate(lines):
        if not line.lstrip().startswith("- {q:"):
            continue
        question = yaml.safe_load(line.strip()[2:])
        tail = relabel(question, by_key.get(question_key(question["q"]), {}))
        if tail is not None:
            lines[n] = _EXPECT.sub(tail, line.replace(", answerable: false", ""), count=1)
            if not lines[n].endswith("\n"):
                lines[n] += "\n"
            changed += 1
    snap = ContentBank.load(content).snapshot()
    ids = "".join(f"  - {e.id}\n" for e in sorted(snap.approved, key=lambda e: e.id))
    text = _LABELLED.sub(lambda _: f"labelled_entries:\n{ids}", "".join(lines), count=1)
    path.write_text(text, encoding="utf-8")
    return {"agreed": len(both), "disagreed": len(first.keys() | second.keys()) - len(both), "changed": changed}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("pool", "merge"))
    parser.add_argument("files", nargs="*", type=Path, help="merge: the two labellers' files")
    parser.add_argument("--out", type=Path, help="pool: folder for pool.md")
    parser.add_argument("--questions", type=Path, default=EVAL_FILE)
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    args = parser.parse_args(argv)
    try:
        if args.command == "pool":
            if args.out is None:
                parser.error("pool cần --out")
            new, questions = write_pool(args.questions, args.content, args.out)
            print(f"{new} new entries, {questions} questions, in {args.out / 'pool.md'}")
        else:
            if len(args.files) != 2:
                parser.error("merge cần đúng hai tệp của hai người gán nhãn")
            counts = merge(args.questions, args.content, args.files)
            print(f"{counts['agreed']} agreed, {counts['disagreed']} disagreed (left as they were), {counts['changed']} labels changed")
    except EvalFileError as exc:
        sys.exit(str(exc))


if __name__ == "__main__":
    main()
