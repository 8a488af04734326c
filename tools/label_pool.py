"""Keep the blind set's labels in step with the bank: check every question against the entries the
labeller never saw, and against the answers that changed since.

The blind set's ``expect`` labels name the approved entry (or entries, equally full) that answers
each question, chosen by a labeller who read the bank as it was.  An entry added later was never a
choice, and an answer edited later (a fact added that members ask with another) was read as it
was, so a label can go stale without anyone being wrong.  ``labelled_entries:`` in the question
file maps each entry the labels were checked against to the fingerprint of the answer the labellers
read (:func:`bot.answers.evaluation.answer_fingerprint`; a plain list of ids, the older form, records
no answer); ``tests/unit/test_eval.py`` fails while an approved entry is missing from it or its answer
is not the one checked.  To bring the labels up to date:

    .venv/bin/python tools/label_pool.py pool --out /tmp/label        # those entries and every question
    # two labellers, each alone, read pool.md and bank.md (every approved entry as members read it, so the
    # current labels' texts too), never the engine's output, the code or the other evaluation files, and each
    # writes a file:
    #   labels:
    #     - {key: '1a2b3c4d', entry: new-entry-id, verdict: better}   # answers it more fully than the label
    #     - {key: '5e6f7a8b', entry: new-entry-id, verdict: equal}    # answers it as fully as the label
    #     - {key: '9c0d1e2f', entry: new-entry-id, verdict: answers}  # a question with no label: it answers it
    .venv/bin/python tools/label_pool.py merge /tmp/label/labeller-1.yaml /tmp/label/labeller-2.yaml

With ``--chunks N`` the questions are split over pool-1.md … pool-N.md (each with the entries); two
labellers per chunk, and each of the two arguments of ``merge`` is one labeller's files, one per chunk
in order, joined with commas (``a-1.yaml,a-2.yaml b-1.yaml,b-2.yaml``).  ``pool`` also writes pool.yaml:
the answers it showed and each chunk's questions.  ``merge`` (``--pool``: that folder, by default the
first file's) records exactly those answers as checked, and refuses to run when one of them has changed
since (write the pool again).  It changes a label only where both labellers agree (better and equal
together count as equal), so one labeller's view never moves a label: ``equal`` adds the entry to the
label, ``better`` replaces it.  No verdict says that an entry no longer answers: an edit that takes a fact
out of an answer needs a whole relabelling (below); its pool.yaml records every approved answer as checked.
Off-topic questions are not pooled.  The pool shows no split, no rank, score or decision of the engine.

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
    answer_fingerprint,
    load_eval_questions,
    read_list,
)
from bot.answers.yaml_reader import BankLoader
from bot.core.config import load_config
from tools.judge_pool import pool_entry, question_key, read_key

VERDICTS = ("better", "equal", "answers")
_EXPECT = re.compile(r"expect: .*\}\s*$")
_LABELLED = re.compile(r"^labelled_entries:[ \t]*\n(?:(?:  |- ).*\n)*", re.MULTILINE)
_FINGERPRINT = re.compile(r"^[0-9a-f]{10}$")
MANIFEST = "pool.yaml"  # written by ``pool`` beside the pool files: what ``merge`` records as checked
_LATER = re.compile(r", later: \[[^\]]*\]")


def on_topic(path: Path) -> list[EvalQuestion]:
    """The questions that carry a label or are labelled unanswerable: every one but the off-topic ones."""
    return [q for q in load_eval_questions(path, "all") if q.expect is not None or not q.answerable]


def labelled_entries(path: Path) -> dict[str, str | None]:
    """{entry id: fingerprint of the answer the labels were checked against, or None when not recorded}
    (``labelled_entries:`` in the question file: a mapping, or a list of ids in the older form)."""
    data, _ = read_list(path, "questions", f"Chưa có tệp đánh giá {path}.")
    ids = data.get("labelled_entries")
    if isinstance(ids, list):
        return {str(e): None for e in ids}
    if not isinstance(ids, dict):
        raise EvalFileError(f"{path}: cần bảng 'labelled_entries:' (các mục người gán nhãn đã xét: id: fingerprint)")
    bad = [str(e) for e, fp in ids.items() if not isinstance(e, str) or not isinstance(fp, str) or not _FINGERPRINT.match(fp)]
    if bad:
        raise EvalFileError(f"{path}: labelled_entries: id và fingerprint (10 chữ số hex) phải là chuỗi trong ngoặc: {', '.join(bad[:3])}")
    return dict(ids)


def unlabelled_entries(path: Path, content: Path | BankSnapshot) -> list[str]:
    """Approved entries of the bank (a content folder or a loaded snapshot) the labels were never checked against,
    or whose answer is not the one they were checked against."""
    snap = content if isinstance(content, BankSnapshot) else ContentBank.load(content).snapshot()
    seen = labelled_entries(path)
    return sorted(
        e.id
        for e in snap.approved
        if e.id not in seen or seen[e.id] not in (None, answer_fingerprint(e.answer))
    )


def _org() -> dict[str, Any]:
    """The settings the answers are shown with: the defaults and the evaluation's organisation."""
    return {**load_config({}), **EVAL_ORG}


def write_bank(snap: BankSnapshot, org: dict[str, Any], out: Path) -> None:
    """bank.md under ``out``: every approved entry as a member reads it, by topic."""
    lines = ["# Kho câu trả lời (các mục đã duyệt)\n"]
    groups: dict[str, list[Any]] = {t.title: [e for e in snap.approved if e.topic == t.id] for t in snap.topics}
    known = {t.id for t in snap.topics}
    groups["Khác"] = [e for e in snap.approved if e.topic not in known]  # every approved entry is shown
    for title, entries in ((t, es) for t, es in groups.items() if es):
        lines += [f"## {title}\n", *(pool_entry(entry, org) for entry in entries)]
    out.mkdir(parents=True, exist_ok=True)
    (out / "bank.md").write_text("\n".join(lines), encoding="utf-8")


def write_pool(path: Path, content: Path, out: Path, chunks: int = 1) -> tuple[int, int]:
    """pool.md under ``out`` (pool-1.md … with ``chunks`` > 1): the entries never checked or with a new answer,
    then every on-topic question (its share of them) with its labels; bank.md (:func:`write_bank`); and pool.yaml,
    what ``merge`` records: the answers shown (fingerprints) and the question keys of each chunk."""
    if chunks < 1:
        raise EvalFileError("--chunks cần từ 1 trở lên")
    snap = ContentBank.load(content).snapshot()
    org = _org()
    new = unlabelled_entries(path, snap)
    head = ["# Các mục mới hoặc có câu trả lời mới (người gán nhãn chưa xét)\n", *(pool_entry(snap.get(e), org) for e in new)]
    questions = on_topic(path)
    random.Random(13).shuffle(questions)
    write_bank(snap, org, out)  # what the current labels' entries say
    keys = []
    for n, part in enumerate(_split(questions, chunks)):
        keys.append([question_key(q.q) for q in part])
        lines = [*head, "\n# Các câu hỏi và nhãn hiện tại\n"]
        for q in part:
            label = ", ".join(f"`{e}`" for e in q.acceptable) or "(không mục nào trả lời)"
            lines.append(f"### {question_key(q.q)}\nQUESTION: {q.q}\nLABEL: {label}\n")
        (out / ("pool.md" if chunks == 1 else f"pool-{n + 1}.md")).write_text("\n".join(lines), encoding="utf-8")
    _write_manifest(out, "check", {e: answer_fingerprint(snap.get(e).answer) for e in new}, keys)
    return len(new), len(questions)


def _split(questions: list[EvalQuestion], chunks: int) -> list[list[EvalQuestion]]:
    """``questions`` in ``chunks`` consecutive parts of (nearly) equal size."""
    size = max(1, -(-len(questions) // chunks))
    return [questions[n * size : (n + 1) * size] for n in range(chunks)]


def _write_manifest(out: Path, kind: str, entries: dict[str, str], chunks: list[list[str]]) -> None:
    manifest = {"kind": kind, "entries": entries, "chunks": chunks}
    (out / MANIFEST).write_text(
        f"# tools/label_pool.py {'pool' if kind == 'check' else 'relabel-pool'}: the answers shown and each chunk's "
        "questions (the merge reads it)\n" + yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )


def read_manifest(folder: Path, kind: str = "check") -> tuple[dict[str, str], list[set[str]]]:
    """The answers a pool showed ({entry id: fingerprint}) and its chunks' question keys (``kind``: "check" for
    ``pool``, "relabel" for ``relabel-pool``); EvalFileError when missing or of the other kind."""
    path = folder / MANIFEST
    command = "pool" if kind == "check" else "relabel-pool"
    if not path.is_file():
        raise EvalFileError(f"Không có {path}: chạy '{command}' trước, rồi gộp với --pool là thư mục đó.")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if (
        not isinstance(data, dict)
        or data.get("kind") != kind
        or not isinstance(data.get("entries"), dict)
        or not isinstance(data.get("chunks"), list)
    ):
        raise EvalFileError(f"{path}: không phải tệp do '{command}' viết")
    return {str(e): str(fp) for e, fp in data["entries"].items()}, [set(map(str, keys)) for keys in data["chunks"]]


def _unchanged(shown: dict[str, str], snap: BankSnapshot) -> None:
    """EvalFileError when an answer a pool showed has changed (or its entry is gone) since the pool was written."""
    moved = sorted(e for e, fp in shown.items() if snap.get(e) is None or answer_fingerprint(snap.get(e).answer) != fp)
    if moved:
        raise EvalFileError(f"câu trả lời của {', '.join(moved)} đã đổi (hoặc mục đã bỏ) sau khi viết pool: viết lại pool")


def _checked(path: Path, snap: BankSnapshot, shown: dict[str, str]) -> dict[str, str]:
    """``labelled_entries:`` after a merge: what it held (an older list of ids takes the answers as they are now,
    entries no longer approved left out), with the answers the pool showed."""
    checked = {e: fp or answer_fingerprint(snap.get(e).answer) for e, fp in labelled_entries(path).items() if snap.get(e)}
    checked.update(shown)
    return checked


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


def labeller_files(argument: Path) -> list[Path]:
    """One labeller's files: a path, or several joined with commas (one per chunk of a chunked pool, in order)."""
    files = [Path(part) for part in str(argument).split(",") if part]
    if not files:
        raise EvalFileError(f"'{argument}': không có tệp nào của người gán nhãn")
    return files


def read_labeller(files: list[Path], chunks: list[set[str]]) -> dict[tuple[str, str], tuple[str, Path]]:
    """{(question key, entry id): (verdict, the file it came from)} of one labeller, one file per chunk of the pool
    (``chunks``: each chunk's question keys, in order); a key outside its file's chunk is refused."""
    if len(files) != len(chunks):
        raise EvalFileError(f"mỗi người gán nhãn cần đúng {len(chunks)} tệp, theo thứ tự các phần của pool; có {len(files)}")
    verdicts: dict[tuple[str, str], tuple[str, Path]] = {}
    for file, keys in zip(files, chunks):
        for pair, verdict in read_verdicts(file).items():
            if pair[0] not in keys:
                raise EvalFileError(f"{file}: không có câu hỏi nào mang key {pair[0]} trong phần pool của tệp này")
            verdicts[pair] = (verdict, file)
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


def merge(
    path: Path, content: Path, labellers: list[list[Path]], pool: Path, record: Path | None = None
) -> dict[str, int]:
    """Apply the verdicts both labellers (each one file per chunk of ``pool``) agree on to ``path``, and record
    the answers the pool showed as checked (``labelled_entries:``).  Refused, with nothing written, when an answer
    shown has changed since the pool was written.  A changed label is noted as ``later:`` on its question's line in
    ``record`` (the labellers' choices)."""
    if len(labellers) != 2:
        raise EvalFileError(f"cần đúng hai người gán nhãn; có {len(labellers)}")
    _distinct([f for files in labellers for f in files])
    shown, chunks = read_manifest(pool)
    first, second = (read_labeller(files, chunks) for files in labellers)
    questions = {question_key(q.q): q for q in on_topic(path)}
    snap = ContentBank.load(content).snapshot()
    _unchanged(shown, snap)
    for (key, entry), (_, file) in (*first.items(), *second.items()):
        if key not in questions:
            raise EvalFileError(f"{file}: không có câu hỏi nào mang key {key}")
        if entry not in shown:
            raise EvalFileError(f"{file}: '{entry}' không phải mục mới hoặc có câu trả lời mới của pool này ({', '.join(sorted(shown))})")
    both = agreed({p: v for p, (v, _) in first.items()}, {p: v for p, (v, _) in second.items()})
    by_key: dict[str, dict[str, str]] = {}
    for (key, entry), verdict in both.items():
        by_key.setdefault(key, {})[entry] = verdict
    later = {k: ids for k, q in questions.items() if (ids := relabel(q, by_key.get(k, {}))) is not None}
    text = _with_labelled(path, _relabelled(path, later), _checked(path, snap, shown))
    if later and record is not None:
        if not record.is_file():
            raise EvalFileError(f"Không có tệp {record} (ghi lại lựa chọn của người gán nhãn); nhãn chưa được đổi.")
        _note_later(record, later)
    path.write_text(text, encoding="utf-8")
    return {"agreed": len(both), "disagreed": len(first.keys() | second.keys()) - len(both), "changed": len(later)}


def _with_labelled(path: Path, text: str, checked: dict[str, str]) -> str:
    """``text`` (the question file) with its ``labelled_entries:`` block replaced by ``checked``, ids and
    fingerprints quoted; EvalFileError unless there is exactly one block and the result reads back as meant."""
    block = "labelled_entries:\n" + "".join(f"  '{e}': '{fp}'\n" for e, fp in sorted(checked.items()))
    updated, found = _LABELLED.subn(lambda _: block, text if text.endswith("\n") else text + "\n")
    if found != 1:
        raise EvalFileError(f"{path}: cần đúng một khối 'labelled_entries:' dạng khối (mỗi mục một dòng); nhãn chưa được đổi")
    data = yaml.load(updated, Loader=BankLoader)
    if data.get("labelled_entries") != checked or len(data.get("questions") or []) != len(read_list(path, "questions", "")[1]):
        raise EvalFileError(f"{path}: viết lại khối 'labelled_entries:' không như mong đợi; nhãn chưa được đổi")
    return updated


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
    """bank.md (:func:`write_bank`) and questions-N.md (no labels)."""
    snap = ContentBank.load(content).snapshot()
    write_bank(snap, _org(), out)
    questions = on_topic(path)
    random.Random(25).shuffle(questions)
    keys = []
    for n, part in enumerate(_split(questions, chunks)):
        keys.append([question_key(q.q) for q in part])
        text = "".join(f"### {question_key(q.q)}\nQUESTION: {q.q}\n\n" for q in part)
        (out / f"questions-{n + 1}.md").write_text(text, encoding="utf-8")
    _write_manifest(out, "relabel", {e.id: answer_fingerprint(e.answer) for e in snap.approved}, keys)
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


def relabel_merge(path: Path, content: Path, files: list[Path], record: Path, pool: Path | None = None) -> dict[str, int]:
    """Majority labels from the first labelling and the new labellers' files (two per question).  With ``pool``
    (the folder ``relabel-pool`` wrote) the answers it showed, every approved one, are recorded as checked in
    ``labelled_entries:``; refused when one has changed since.  Without, ``labelled_entries:`` is left as it is."""
    _distinct(files)
    firsts = {question_key(q.q): q.acceptable if q.answerable else () for q in on_topic(path)}
    snap = ContentBank.load(content).snapshot()
    shown = read_manifest(pool, "relabel")[0] if pool is not None else None
    if shown is not None:
        _unchanged(shown, snap)
    entries = {e.id for e in snap.approved}
    new: dict[str, list[tuple[str, ...]]] = {}
    for file in files:
        for key, ids in read_choices(file, set(firsts), entries).items():
            new.setdefault(key, []).append(ids)
    short = [k for k in firsts if len(new.get(k, [])) != 2]
    if short:
        raise EvalFileError(f"mỗi câu hỏi cần đúng hai người gán nhãn mới; {len(short)} câu không đủ, ví dụ {short[0]}")
    decided = {key: majority([first, *new[key]]) for key, first in firsts.items()}
    labels = {k: list(ids) for k, ids in decided.items() if ids is not None and set(ids) != set(firsts[k])}
    text = _relabelled(path, labels)
    if shown is not None:
        text = _with_labelled(path, text, _checked(path, snap, shown))
    path.write_text(text, encoding="utf-8")
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


def _is_manifest(folder: Path, kind: str) -> bool:
    try:
        read_manifest(folder, kind)
    except EvalFileError:
        return False
    return True


def _positive(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError("cần một số từ 1 trở lên")
    return n


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("pool", "merge", "relabel-pool", "relabel-merge"))
    parser.add_argument(
        "files", nargs="*", type=Path, help="merge: the two labellers' files (each a file, or one per chunk joined with commas)"
    )
    parser.add_argument("--out", type=Path, help="pool, relabel-pool: folder for the pool files")
    parser.add_argument(
        "--pool", type=Path, help="merge, relabel-merge: the folder the pool command wrote (default: the first file's folder)"
    )
    parser.add_argument("--questions", type=Path, default=EVAL_FILE)
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    parser.add_argument("--chunks", type=_positive, default=None, help="pool: question files (default 1); relabel-pool: 2")
    parser.add_argument("--record", type=Path, default=ROOT / "tests" / "eval" / "blind_labels.yaml")
    args = parser.parse_args(argv)
    try:
        if args.command == "pool":
            if args.out is None:
                parser.error("pool cần --out")
            chunks = args.chunks or 1
            new, questions = write_pool(args.questions, args.content, args.out, chunks)
            print(f"{new} new or changed entries, {questions} questions, in {chunks} file(s) under {args.out}")
        elif args.command == "relabel-pool":
            if args.out is None:
                parser.error("relabel-pool cần --out")
            chunks = args.chunks or 2
            entries, questions = write_relabel_pool(args.questions, args.content, args.out, chunks)
            print(f"{entries} entries in bank.md, {questions} questions in {chunks} file(s) under {args.out}")
        elif args.command == "relabel-merge":
            pool = args.pool
            if pool is None and args.files and _is_manifest(args.files[0].parent, "relabel"):
                pool = args.files[0].parent  # else an older relabelling: labelled_entries is left as it is
            counts = relabel_merge(args.questions, args.content, args.files, args.record, pool)
            print(", ".join(f"{v} {k}" for k, v in counts.items()))
        else:
            if len(args.files) != 2:
                parser.error("merge cần đúng hai tệp (hoặc hai nhóm tệp nối bằng dấu phẩy) của hai người gán nhãn")
            labellers = [labeller_files(f) for f in args.files]
            pool = args.pool or labellers[0][0].parent
            counts = merge(args.questions, args.content, labellers, pool, args.record)
            print(f"{counts['agreed']} agreed, {counts['disagreed']} disagreed (left as they were), {counts['changed']} labels changed")
    except EvalFileError as exc:
        sys.exit(str(exc))


if __name__ == "__main__":
    main()
