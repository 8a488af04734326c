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
    #     - {key: '1a2b3c4d', entry: new-entry-id, verdict: better}   # answers it more fully than the label
    #     - {key: '5e6f7a8b', entry: new-entry-id, verdict: equal}    # answers it as fully as the label
    #     - {key: '9c0d1e2f', entry: new-entry-id, verdict: answers}  # a question with no label: it answers it
    .venv/bin/python tools/label_pool.py merge /tmp/label/labeller-1.yaml /tmp/label/labeller-2.yaml

The merge changes a label only where both labellers agree (better and equal together count as
equal), so one labeller's view never moves a label; off-topic questions are not pooled.  The pool
shows no split, no rank, score or decision of the engine.

A whole second labelling (the bank's answers change too, and one labeller's choice is one view):

    .venv/bin/python tools/label_pool.py relabel-pool --out /tmp/relabel --chunks 2   # bank.md, questions-N.md
    # two labellers per chunk, each alone, label every question from bank.md alone (no labels shown):
    #   labels:
    #     - {key: '1a2b3c4d', expect: [entry-id]}      # the entry (or entries, equally full) that answers it
    #     - {key: '5e6f7a8b', expect: null}            # no entry answers it
    .venv/bin/python tools/label_pool.py relabel-merge /tmp/relabel/labeller-*.yaml

``relabel-merge`` writes every labeller's choice to ``tests/eval/blind_labels.yaml`` and sets each
``expect`` to the entries at least two of the three labellers (the first one and the two new ones)
chose; "no entry" counts as a choice too.  Where no choice has two votes the first label stays.
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

from bot.answers.bank import BankSnapshot, ContentBank
from bot.answers.evaluation import (
    EVAL_FILE,
    EVAL_ORG,
    EvalFileError,
    EvalQuestion,
    load_eval_questions,
    read_list,
)
from bot.core.config import load_config
from tools.judge_pool import pool_entry, question_key, read_key

VERDICTS = ("better", "equal", "answers")
_EXPECT = re.compile(r"expect: .*\}\s*$")
_LABELLED = re.compile(r"^labelled_entries:\n(?:  - .*\n)*", re.MULTILINE)
_LATER = re.compile(r", later: \[[^\]]*\]")


def on_topic(path: Path) -> list[EvalQuestion]:
    """The questions that carry a label or are labelled unanswerable: every one but the off-topic ones."""
    return [q for q in load_eval_questions(path, "all") if q.expect is not None or not q.answerable]


def labelled_entries(path: Path) -> list[str]:
    """The entry ids the labels were checked against (``labelled_entries:`` in the question file)."""
    data, _ = read_list(path, "questions", f"Chưa có tệp đánh giá {path}.")
    ids = data.get("labelled_entries")
    if not isinstance(ids, list):
        raise EvalFileError(f"{path}: cần danh sách 'labelled_entries:' (các mục người gán nhãn đã xét)")
    return [str(e) for e in ids]


def unlabelled_entries(path: Path, content: Path | BankSnapshot) -> list[str]:
    """Approved entries of the bank (a content folder or a loaded snapshot) the labels were never checked against."""
    snap = content if isinstance(content, BankSnapshot) else ContentBank.load(content).snapshot()
    seen = set(labelled_entries(path))
    return sorted(e.id for e in snap.approved if e.id not in seen)


def write_pool(path: Path, content: Path, out: Path) -> tuple[int, int]:
    """pool.md under ``out``: the entries never checked, then every on-topic question with its labels."""
    snap = ContentBank.load(content).snapshot()
    org = {**load_config({}), **EVAL_ORG}
    new = unlabelled_entries(path, snap)
    lines = ["# Các mục mới (người gán nhãn chưa từng thấy)\n", *(pool_entry(snap.get(e), org) for e in new)]
    questions = on_topic(path)
    random.Random(13).shuffle(questions)
    lines.append("\n# Các câu hỏi và nhãn hiện tại\n")
    for q in questions:
        label = ", ".join(f"`{e}`" for e in q.acceptable) or "(không mục nào trả lời)"
        lines.append(f"### {question_key(q.q)}\nQUESTION: {q.q}\nLABEL: {label}\n")
    out.mkdir(parents=True, exist_ok=True)
    (out / "pool.md").write_text("\n".join(lines), encoding="utf-8")
    return len(new), len(questions)


def _distinct(files: list[Path]) -> None:
    if len({f.resolve() for f in files}) != len(files):
        raise EvalFileError("mỗi tệp của người gán nhãn chỉ được đưa vào một lần")


def read_verdicts(path: Path) -> dict[tuple[str, str], str]:
    """One labeller's file: {(question key, entry id): verdict}; EvalFileError when it is not one."""
    _, items = read_list(path, "labels", f"Không có tệp {path}.")
    verdicts = {}
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict) or item.get("verdict") not in VERDICTS or not item.get("key") or not item.get("entry"):
            raise EvalFileError(f"{path}: mục thứ {n} cần key, entry và verdict ({' | '.join(VERDICTS)})")
        pair = (read_key(item["key"]), str(item["entry"]))
        if pair in verdicts:
            raise EvalFileError(f"{path}: mục thứ {n} lặp lại key {pair[0]} với mục {pair[1]}")
        verdicts[pair] = item["verdict"]
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


def relabel(question: EvalQuestion, verdicts: dict[str, str]) -> list[str] | None:
    """A question's new label given its agreed verdicts on new entries, or None to keep it."""
    if not question.acceptable or not question.answerable:
        found = sorted(e for e, v in verdicts.items() if v in VERDICTS)
        return found or None
    better = sorted(e for e, v in verdicts.items() if v == "better")
    if better:
        return better
    added = [e for e, v in sorted(verdicts.items()) if v == "equal" and e not in question.acceptable]
    return [*question.acceptable, *added] if added else None


def _relabelled(path: Path, labels: dict[str, list[str]]) -> str:
    """The question file with ``expect:`` of each question in ``labels`` (by key) set; [] = no entry answers it.
    EvalFileError, before anything is written, for a question line whose tail is not ``expect: ...}``."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for n, line in enumerate(lines):
        if not line.lstrip().startswith("- {q:"):
            continue
        ids = labels.get(question_key(yaml.safe_load(line.strip()[2:])["q"]))
        if ids is None:
            continue
        if not ids:
            tail = "expect: null, answerable: false}"
        else:
            tail = f"expect: {ids[0]}}}" if len(ids) == 1 else f"expect: [{', '.join(ids)}]}}"
        updated, found = _EXPECT.subn(tail, line.replace(", answerable: false", ""), count=1)
        if not found:
            raise EvalFileError(f"{path}: dòng câu hỏi không kết thúc bằng 'expect: ...}}': {line.strip()[:60]}")
        lines[n] = updated.rstrip("\n") + "\n"
    return "".join(lines)


def merge(path: Path, content: Path, files: list[Path], record: Path | None = None) -> dict[str, int]:
    """Apply the verdicts both labellers agree on to ``path``; every approved entry becomes labelled.
    A changed label is noted as ``later:`` on its question's line in ``record`` (the labellers' choices)."""
    _distinct(files)
    first, second = (read_verdicts(f) for f in files)
    questions = {question_key(q.q): q for q in on_topic(path)}
    snap = ContentBank.load(content).snapshot()
    new = set(unlabelled_entries(path, snap))
    for file, verdicts in zip(files, (first, second)):
        for key, entry in verdicts:
            if key not in questions:
                raise EvalFileError(f"{file}: không có câu hỏi nào mang key {key}")
            if entry not in new:
                raise EvalFileError(f"{file}: '{entry}' không phải mục mới nào của lần gán nhãn này ({', '.join(sorted(new))})")
    both = agreed(first, second)
    by_key: dict[str, dict[str, str]] = {}
    for (key, entry), verdict in both.items():
        by_key.setdefault(key, {})[entry] = verdict
    later = {k: ids for k, q in questions.items() if (ids := relabel(q, by_key.get(k, {}))) is not None}
    text = _relabelled(path, later)
    if later and record is not None:
        if not record.is_file():
            raise EvalFileError(f"Không có tệp {record} (ghi lại lựa chọn của người gán nhãn); nhãn chưa được đổi.")
        _note_later(record, later)
    ids = "".join(f"  - {e.id}\n" for e in sorted(snap.approved, key=lambda e: e.id))
    path.write_text(_LABELLED.sub(lambda _: f"labelled_entries:\n{ids}", text, count=1), encoding="utf-8")
    return {"agreed": len(both), "disagreed": len(first.keys() | second.keys()) - len(both), "changed": len(later)}


def _note_later(record: Path, later: dict[str, list[str]]) -> None:
    """Set ``later: [ids]`` (the label after a later check) on the record's line of each changed question."""
    lines = record.read_text(encoding="utf-8").splitlines(keepends=True)
    for n, line in enumerate(lines):
        match = re.match(r"\s*- \{key: '(\w+)'", line)
        if match and match.group(1) in later:
            ids = ", ".join(later[match.group(1)])
            lines[n] = _LATER.sub("", line).rstrip().rstrip("}") + f", later: [{ids}]}}\n"
    record.write_text("".join(lines), encoding="utf-8")


def write_relabel_pool(path: Path, content: Path, out: Path, chunks: int) -> tuple[int, int]:
    """bank.md (every approved entry as a member reads it, by topic) and questions-N.md (no labels)."""
    snap = ContentBank.load(content).snapshot()
    org = {**load_config({}), **EVAL_ORG}
    lines = ["# Kho câu trả lời (các mục đã duyệt)\n"]
    groups: dict[str, list[Any]] = {t.title: [e for e in snap.approved if e.topic == t.id] for t in snap.topics}
    known = {t.id for t in snap.topics}
    groups["Khác"] = [e for e in snap.approved if e.topic not in known]  # every approved entry is shown
    for title, entries in ((t, es) for t, es in groups.items() if es):
        lines += [f"## {title}\n", *(pool_entry(entry, org) for entry in entries)]
    out.mkdir(parents=True, exist_ok=True)
    (out / "bank.md").write_text("\n".join(lines), encoding="utf-8")
    questions = on_topic(path)
    random.Random(25).shuffle(questions)
    size = -(-len(questions) // chunks)
    for n in range(chunks):
        part = questions[n * size : (n + 1) * size]
        text = "".join(f"### {question_key(q.q)}\nQUESTION: {q.q}\n\n" for q in part)
        (out / f"questions-{n + 1}.md").write_text(text, encoding="utf-8")
    return len(snap.approved), len(questions)


def read_choices(path: Path, keys: set[str], entries: set[str]) -> dict[str, tuple[str, ...]]:
    """One labeller's file: {question key: the entry ids chosen, () for "no entry"}."""
    _, items = read_list(path, "labels", f"Không có tệp {path}.")
    choices: dict[str, tuple[str, ...]] = {}
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict) or "expect" not in item or item.get("key") is None or read_key(item["key"]) not in keys:
            raise EvalFileError(f"{path}: mục thứ {n} cần key của một câu hỏi và expect (id, danh sách id hoặc null)")
        key, expect = read_key(item["key"]), item["expect"]
        ids = tuple(sorted({str(e) for e in expect})) if isinstance(expect, list) else ((str(expect),) if expect else ())
        unknown = [e for e in ids if e not in entries]
        if unknown:
            raise EvalFileError(f"{path}: mục thứ {n}: kho không có mục đã duyệt {', '.join(unknown)}")
        if key in choices:
            raise EvalFileError(f"{path}: mục thứ {n} lặp lại key {key}")
        choices[key] = ids
    return choices


def majority(votes: list[tuple[str, ...]]) -> tuple[str, ...] | None:
    """The entries at least two labellers chose, () when two chose "no entry", None when no choice has two."""
    counted: dict[str, int] = {}
    for ids in votes:
        for e in set(ids) or {""}:  # one vote per labeller and entry
            counted[e] = counted.get(e, 0) + 1
    chosen = tuple(sorted(e for e, n in counted.items() if n >= 2 and e))
    if chosen:
        return chosen
    return () if counted.get("", 0) >= 2 else None


def relabel_merge(path: Path, content: Path, files: list[Path], record: Path) -> dict[str, int]:
    """Majority labels from the first labelling and the new labellers' files (two per question)."""
    _distinct(files)
    firsts = {question_key(q.q): q.acceptable if q.answerable else () for q in on_topic(path)}
    entries = {e.id for e in ContentBank.load(content).snapshot().approved}
    new: dict[str, list[tuple[str, ...]]] = {}
    for file in files:
        for key, ids in read_choices(file, set(firsts), entries).items():
            new.setdefault(key, []).append(ids)
    short = [k for k in firsts if len(new.get(k, [])) != 2]
    if short:
        raise EvalFileError(f"mỗi câu hỏi cần đúng hai người gán nhãn mới; {len(short)} câu không đủ, ví dụ {short[0]}")
    decided = {key: majority([first, *new[key]]) for key, first in firsts.items()}
    labels = {k: list(ids) for k, ids in decided.items() if ids is not None and set(ids) != set(firsts[k])}
    path.write_text(_relabelled(path, labels), encoding="utf-8")
    record.write_text(
        "# Every labeller's choice for each on-topic question of the blind set (tools/label_pool.py relabel-merge):\n"
        "# first = the first labelling (with the later checks of new entries); then the two new labellers.\n"
        "# expect in blind_questions.yaml = the entries at least two chose; [] = no entry answers it.\n"
        "# later = the label since changed by a check of entries added to the bank (tools/label_pool.py merge).\n"
        "labels:\n"
        + "".join(
            f"  - {{key: '{k}', first: [{', '.join(firsts[k])}], new: [[{', '.join(new[k][0])}], [{', '.join(new[k][1])}]]}}\n"
            for k in sorted(firsts)
        ),
        encoding="utf-8",
    )
    kept = sum(ids is None for ids in decided.values())
    return {"questions": len(firsts), "changed": len(labels), "kept without a majority": kept}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("pool", "merge", "relabel-pool", "relabel-merge"))
    parser.add_argument("files", nargs="*", type=Path, help="merge: the two labellers' files")
    parser.add_argument("--out", type=Path, help="pool: folder for pool.md")
    parser.add_argument("--questions", type=Path, default=EVAL_FILE)
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    parser.add_argument("--chunks", type=int, default=2, help="relabel-pool: question files")
    parser.add_argument("--record", type=Path, default=ROOT / "tests" / "eval" / "blind_labels.yaml")
    args = parser.parse_args(argv)
    try:
        if args.command == "pool":
            if args.out is None:
                parser.error("pool cần --out")
            new, questions = write_pool(args.questions, args.content, args.out)
            print(f"{new} new entries, {questions} questions, in {args.out / 'pool.md'}")
        elif args.command == "relabel-pool":
            if args.out is None:
                parser.error("relabel-pool cần --out")
            entries, questions = write_relabel_pool(args.questions, args.content, args.out, args.chunks)
            print(f"{entries} entries in bank.md, {questions} questions in {args.chunks} file(s) under {args.out}")
        elif args.command == "relabel-merge":
            counts = relabel_merge(args.questions, args.content, args.files, args.record)
            print(", ".join(f"{v} {k}" for k, v in counts.items()))
        else:
            if len(args.files) != 2:
                parser.error("merge cần đúng hai tệp của hai người gán nhãn")
            counts = merge(args.questions, args.content, args.files, args.record)
            print(f"{counts['agreed']} agreed, {counts['disagreed']} disagreed (left as they were), {counts['changed']} labels changed")
    except EvalFileError as exc:
        sys.exit(str(exc))


if __name__ == "__main__":
    main()
