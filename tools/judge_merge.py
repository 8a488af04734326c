"""Merge judges' ratings (``judged-*.yaml`` written from tools/judge_pool.py's pools) into tests/eval/judgments.yaml.

    .venv/bin/python tools/judge_merge.py /tmp/judge
    .venv/bin/python tools/judge_merge.py /tmp/judge --judgments /tmp/j.yaml --questions other.yaml   # another file

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
    EvalFileError,
    answer_fingerprint,
    load_eval_questions,
    read_judgments,
    read_list,
    read_ratings,
)
from tools.judge_pool import question_key, read_key


class MergeError(Exception):
    """A judges' file that cannot be merged (an unknown question key, a rating that is not a list)."""


def _flow(ids) -> str:
    return "[" + ", ".join(sorted(ids)) + "]"


def _read_new(folder: Path, by_key: dict[str, str], questions: Path) -> dict[str, dict[str, str]]:
    """{question text: {entry id: rating}} from the judges' ``judged-*.yaml`` files in ``folder``."""
    new: dict[str, dict[str, str]] = {}
    for path in sorted(folder.glob("judged-*.yaml")):
        try:
            _, items = read_list(path, "judgments", f"{path}: not found")
        except EvalFileError as exc:
            raise MergeError(str(exc)) from None
        for n, item in enumerate(items, 1):
            if not isinstance(item, dict) or item.get("key") is None:
                raise MergeError(f"{path}: item {n} needs a key")
            key = read_key(item["key"])
            if key not in by_key:
                raise MergeError(f"{path}: no question of {questions.name} has the key {key}")
            try:
                new.setdefault(by_key[key], {}).update(read_ratings(item))
            except ValueError as exc:
                raise MergeError(f"{path}: item {n} ({key}): {exc}") from None
    return new


def merge(
    folder: str | Path, content: str | Path, judgments: Path = JUDGMENTS_FILE, questions: Path = EVAL_FILE
) -> str:
    """Merge the judges' files in ``folder`` into ``judgments``; a one-line summary.  MergeError when one is bad."""
    order = [q.q for q in load_eval_questions(questions, "all")]
    by_key = {question_key(q): q for q in order}
    header, judged, fingerprints = "", {}, {}
    if judgments.is_file():
        text = judgments.read_text(encoding="utf-8")
        header = text[: text.find("judgments:")] if "judgments:" in text else ""
        try:
            judged, fingerprints = read_judgments(judgments)
        except EvalFileError as exc:
            raise MergeError(str(exc)) from None
    new = _read_new(Path(folder), by_key, questions)

    snap = ContentBank.load(content).snapshot()
    unknown = sorted({e for ratings in new.values() for e in ratings if snap.get(e) is None})
    if unknown:
        raise MergeError(f"rated entries that {content} does not have: {', '.join(unknown)}")
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
    judgments.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f"{sum(map(len, new.values()))} ratings merged; {len(changed)} entries judged against a new answer"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", help="folder with the judges' judged-*.yaml files")
    parser.add_argument("--content", default=str(ROOT / "content"), help="the content the pools were written from")
    parser.add_argument("--judgments", default=str(JUDGMENTS_FILE), help="the judgments file to merge into")
    parser.add_argument("--questions", default=str(EVAL_FILE), help="the evaluation set the pools were written from")
    args = parser.parse_args(argv)
    try:
        print(merge(args.folder, args.content, Path(args.judgments), Path(args.questions)))
    except MergeError as exc:
        raise SystemExit(str(exc)) from None


if __name__ == "__main__":
    main()
