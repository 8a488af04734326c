"""tools/label_pool.py: the blind labels checked against entries added, or answers edited, after the labelling."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.answers.bank import ContentBank
from bot.answers.evaluation import (
    EvalFileError,
    answer_fingerprint,
    load_eval_questions,
)
from tools import label_pool
from tools.judge_pool import question_key

SMALL = Path(__file__).resolve().parents[1] / "data" / "content_small"
Q1, Q2, Q3, OFF = "vn co bn hon dao", "bien gioi viet lao dai bao nhieu", "ai ban hanh luat bien", "mai co mua ko"
SEEN = ["bien-dao-bo-bien", "bien-dao-cac-vung-bien", "bien-dao-lien-he", "bien-gioi-khu-vuc", "bien-gioi-tong-chieu-dai",
        "bien-gioi-viet-trung", "bot-huong-dan-nhap", "phap-luat-luat-bien-2012"]  # fmt: skip
NEW = ["bien-dao-so-dao", "bien-gioi-viet-lao"]  # approved in the small bank, never seen by the labeller
APPROVED = {*SEEN, *NEW} - {"bot-huong-dan-nhap"}  # a draft: a merge keeps only approved entries' answers


@pytest.fixture
def questions(tmp_path):
    path = tmp_path / "questions.yaml"
    path.write_text(
        "# a test copy\nquestions:\n"
        f'  - {{q: "{Q1}", about: "B", split: dev, expect: bien-dao-bo-bien}}\n'
        f'  - {{q: "{Q2}", about: "A", split: test, expect: [bien-gioi-tong-chieu-dai, bien-gioi-khu-vuc]}}\n'
        f'  - {{q: "{Q3}", about: "D", split: test, expect: null, answerable: false}}\n'
        f'  - {{q: "{OFF}", about: "offtopic", split: dev, expect: null}}\n'
        "labelled_entries:\n" + "".join(f"  - {e}\n" for e in SEEN),
        encoding="utf-8",
    )
    label_pool.write_pool(path, SMALL, tmp_path)  # pool.md and pool.yaml beside the labellers' files
    return path


def _verdicts(path: Path, lines: list[tuple[str, str, str]]) -> Path:
    path.write_text("labels:\n" + "".join(f"  - {{key: '{question_key(q)}', entry: {e}, verdict: {v}}}\n" for q, e, v in lines) if lines else "labels: []\n", encoding="utf-8")
    return path


def test_the_entries_the_labeller_never_saw_are_pooled_with_every_on_topic_question(questions, tmp_path):
    assert label_pool.unlabelled_entries(questions, SMALL) == NEW
    assert label_pool.write_pool(questions, SMALL, tmp_path / "pool") == (2, 3)
    pool = (tmp_path / "pool" / "pool.md").read_text(encoding="utf-8")
    assert "entry `bien-dao-so-dao`" in pool and "entry `bien-gioi-viet-lao`" in pool
    assert Q1 in pool and Q3 in pool and OFF not in pool  # off-topic stays off-topic
    assert "split" not in pool and "dev" not in pool  # the labeller never learns which split a question is in
    bank = (tmp_path / "pool" / "bank.md").read_text(encoding="utf-8")  # what the current labels' entries say
    assert "entry `bien-dao-bo-bien`" in bank and "entry `bien-gioi-khu-vuc`" in bank
    assert "entry `bot-huong-dan-nhap`" not in bank and "Bản nháp" not in bank  # a draft: members never read it


def test_merge_changes_a_label_only_where_both_labellers_agree(questions, tmp_path):
    first = _verdicts(tmp_path / "a.yaml", [(Q1, "bien-dao-so-dao", "better"), (Q2, "bien-gioi-viet-lao", "better"),
                                            (Q3, "bien-dao-so-dao", "answers")])  # fmt: skip
    second = _verdicts(tmp_path / "b.yaml", [(Q1, "bien-dao-so-dao", "better"), (Q2, "bien-gioi-viet-lao", "equal")])
    record = tmp_path / "record.yaml"
    record.write_text(f"labels:\n  - {{key: '{question_key(Q1)}', first: [bien-dao-bo-bien], new: [[], []]}}\n", encoding="utf-8")
    label_pool.main(["merge", str(first), str(second), "--questions", str(questions), "--content", str(SMALL), "--record", str(record)])
    labels = {q.q: (q.acceptable, q.answerable) for q in load_eval_questions(questions)}
    assert labels[Q1] == (("bien-dao-so-dao",), True)  # both: better -> replaces the label
    assert labels[Q2] == (("bien-gioi-tong-chieu-dai", "bien-gioi-khu-vuc", "bien-gioi-viet-lao"), True)  # better + equal
    assert labels[Q3] == ((), False)  # one labeller alone moves nothing
    assert labels[OFF] == ((), True)
    assert label_pool.unlabelled_entries(questions, SMALL) == []  # every approved entry has now been checked
    assert questions.read_text(encoding="utf-8").startswith("# a test copy\n")
    # the record of the labellers' choices keeps what changed the label since
    assert record.read_text(encoding="utf-8") == (
        f"labels:\n  - {{key: '{question_key(Q1)}', first: [bien-dao-bo-bien], new: [[], []], later: [bien-dao-so-dao]}}\n"
    )


def test_merge_makes_an_unanswerable_question_answerable_when_both_agree(questions, tmp_path):
    lines = [(Q3, "bien-dao-so-dao", "answers")]
    a, b = _verdicts(tmp_path / "a.yaml", lines), _verdicts(tmp_path / "b.yaml", lines)
    record = tmp_path / "r.yaml"
    with pytest.raises(SystemExit, match="Không có tệp .*r.yaml"):  # a changed label is always recorded
        label_pool.main(["merge", str(a), str(b), "--questions", str(questions), "--content", str(SMALL), "--record", str(record)])
    record.write_text("labels: []\n", encoding="utf-8")
    label_pool.main(["merge", str(a), str(b), "--questions", str(questions), "--content", str(SMALL), "--record", str(record)])
    (q3,) = [q for q in load_eval_questions(questions) if q.q == Q3]
    assert q3.acceptable == ("bien-dao-so-dao",) and q3.answerable


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("labels:\n  - {key: 'deadbeef', entry: bien-dao-so-dao, verdict: equal}\n", "không có câu hỏi nào mang key deadbeef"),
        (f"labels:\n  - {{key: '{question_key(Q1)}', entry: bien-dao-bo-bien, verdict: equal}}\n", "không phải mục mới"),
        (f"labels:\n  - {{key: '{question_key(Q1)}', entry: bien-dao-so-dao, verdict: maybe}}\n", "mục thứ 1 cần key, entry và verdict"),
        ("labels: [\n", "YAML không hợp lệ"),
        ("- {key: x}\n", "cần một danh sách 'labels:'"),
    ],
)
def test_merge_refuses_a_bad_labeller_file_and_leaves_the_questions_alone(questions, tmp_path, text, message):
    before = questions.read_bytes()
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    good = _verdicts(tmp_path / "good.yaml", [])
    with pytest.raises(SystemExit, match=message):
        label_pool.main(["merge", str(good), str(bad), "--questions", str(questions), "--content", str(SMALL), "--record", str(tmp_path / "r.yaml")])
    assert questions.read_bytes() == before


def test_labelled_entries_must_be_listed(tmp_path):
    path = tmp_path / "q.yaml"
    path.write_text(f'questions:\n  - {{q: "{Q1}", split: dev, expect: bien-dao-bo-bien}}\n', encoding="utf-8")
    with pytest.raises(EvalFileError, match="labelled_entries"):
        label_pool.unlabelled_entries(path, SMALL)


def test_majority_takes_what_two_of_three_labellers_chose():
    assert label_pool.majority([("a",), ("a", "b"), ("c",)]) == ("a",)
    assert label_pool.majority([("a", "b"), ("a", "b"), ()]) == ("a", "b")
    assert label_pool.majority([("a",), (), ()]) == ()  # two say no entry answers it
    assert label_pool.majority([("a",), ("b",), ()]) is None  # no choice has two votes: the first label stays
    assert label_pool.majority([("b",), ("a", "a"), ("c",)]) is None  # one labeller naming an entry twice is one vote


def _choices(path: Path, lines: dict[str, str]) -> Path:
    path.write_text("labels:\n" + "".join(f"  - {{key: '{question_key(q)}', expect: {e}}}\n" for q, e in lines.items()), encoding="utf-8")
    return path


def test_relabel_pool_shows_the_bank_and_the_questions_without_labels(questions, tmp_path):
    assert label_pool.write_relabel_pool(questions, SMALL, tmp_path / "r", 2) == (9, 3)
    bank = (tmp_path / "r" / "bank.md").read_text(encoding="utf-8")
    asked = "".join((tmp_path / "r" / f"questions-{n}.md").read_text(encoding="utf-8") for n in (1, 2))
    assert "entry `bien-dao-so-dao`" in bank
    assert Q1 in asked and Q3 in asked and OFF not in asked
    assert "bien-dao-bo-bien" not in asked and "expect" not in asked  # no label shown


def test_relabel_merge_sets_the_majority_and_records_every_choice(questions, tmp_path):
    a = _choices(tmp_path / "a.yaml", {Q1: "[bien-dao-so-dao]", Q2: "[bien-gioi-viet-lao]", Q3: "null"})
    b = _choices(tmp_path / "b.yaml", {Q1: "[bien-dao-so-dao]", Q2: "[bien-gioi-khu-vuc]", Q3: "[bien-dao-so-dao]"})
    record = tmp_path / "labels.yaml"
    counts = label_pool.relabel_merge(questions, SMALL, [a, b], record)
    assert counts == {"questions": 3, "changed": 2, "kept without a majority": 0}  # Q3 stays as it was
    labels = {q.q: (q.acceptable, q.answerable) for q in load_eval_questions(questions)}
    assert labels[Q1] == (("bien-dao-so-dao",), True)  # both new labellers against the first
    assert labels[Q2] == (("bien-gioi-khu-vuc",), True)  # the first label's second id and one new labeller
    assert labels[Q3] == ((), False)  # the first labelling and one new labeller: no entry answers it
    assert labels[OFF] == ((), True)  # off-topic is not relabelled
    assert f"key: '{question_key(Q2)}', first: [bien-gioi-tong-chieu-dai, bien-gioi-khu-vuc]" in record.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ({Q1: "[bien-dao-so-dao]", Q2: "null"}, "cần đúng hai người gán nhãn mới; 1 câu không đủ"),
        ({Q1: "[khong-co]", Q2: "null", Q3: "null"}, "kho không có mục đã duyệt khong-co"),
    ],
)
def test_relabel_merge_refuses_a_short_or_bad_file_and_leaves_the_questions_alone(questions, tmp_path, lines, message):
    before = questions.read_bytes()
    a = _choices(tmp_path / "a.yaml", lines)
    b = _choices(tmp_path / "b.yaml", {Q1: "null", Q2: "null", Q3: "null"})
    with pytest.raises(SystemExit, match=message):
        label_pool.main(["relabel-merge", str(a), str(b), "--questions", str(questions), "--content", str(SMALL), "--record", str(tmp_path / "r.yaml")])
    assert questions.read_bytes() == before


def test_relabel_merge_refuses_one_labellers_file_given_twice(questions, tmp_path):
    a = _choices(tmp_path / "a.yaml", {Q1: "null", Q2: "null", Q3: "null"})
    with pytest.raises(EvalFileError, match="chỉ được đưa vào một lần"):
        label_pool.relabel_merge(questions, SMALL, [a, a], tmp_path / "r.yaml")


def test_merge_refuses_one_labellers_file_given_twice(questions, tmp_path):
    a = _verdicts(tmp_path / "a.yaml", [(Q1, "bien-dao-so-dao", "better")])
    with pytest.raises(EvalFileError, match="chỉ được đưa vào một lần"):
        label_pool.merge(questions, SMALL, [[a], [a]], tmp_path, tmp_path / "r.yaml")
    with pytest.raises(EvalFileError, match="chỉ được đưa vào một lần"):  # nor as a chunk of the other labeller
        label_pool.merge(questions, SMALL, [[a], [_verdicts(tmp_path / "b.yaml", []), a]], tmp_path, tmp_path / "r.yaml")


@pytest.mark.parametrize("reader", ["verdicts", "choices"])
def test_a_key_given_twice_in_one_file_is_refused(tmp_path, reader):
    path = tmp_path / "a.yaml"
    key = question_key(Q1)
    if reader == "verdicts":
        _verdicts(path, [(Q1, "bien-dao-so-dao", "equal"), (Q1, "bien-dao-so-dao", "better")])
        with pytest.raises(EvalFileError, match=f"lặp lại key {key}"):
            label_pool.read_verdicts(path)
    else:
        _choices(path, {Q1: "null"})
        path.write_text(path.read_text(encoding="utf-8") + f"  - {{key: '{key}', expect: [bien-dao-so-dao]}}\n", encoding="utf-8")
        with pytest.raises(EvalFileError, match=f"lặp lại key {key}"):
            label_pool.read_choices(path, {key}, {"bien-dao-so-dao"})


def test_a_question_line_without_an_expect_tail_is_refused_not_made_off_topic(questions, tmp_path):
    text = questions.read_text(encoding="utf-8").replace("expect: null, answerable: false}", "expect: null, answerable: false}  # note")
    questions.write_text(text, encoding="utf-8")
    before = questions.read_bytes()
    a = _choices(tmp_path / "a.yaml", {Q1: "null", Q2: "null", Q3: "[bien-dao-so-dao]"})
    b = _choices(tmp_path / "b.yaml", {Q1: "null", Q2: "null", Q3: "[bien-dao-so-dao]"})
    with pytest.raises(EvalFileError, match="không kết thúc bằng 'expect: ...}'"):
        label_pool.relabel_merge(questions, SMALL, [a, b], tmp_path / "r.yaml")
    assert questions.read_bytes() == before


def test_an_unquoted_key_of_digits_reads_back_as_the_key():
    from tools.judge_pool import read_key

    assert read_key(yaml.safe_load("key: 19707814")["key"]) == "19707814"  # YAML reads it as a number
    assert read_key(yaml.safe_load("key: 00123489")["key"]) == "00123489"  # not octal: YAML keeps it a string
    assert read_key(yaml.safe_load("key: 00123456")["key"]) != "00123456"  # octal: only quoting keeps it (the prompts say so)
    assert read_key("0a1b2c3d") == "0a1b2c3d"


def _fingerprinted(questions: Path, content: Path, changed: str | None = None) -> None:
    """labelled_entries as a map of every approved entry to its answer's fingerprint; ``changed`` gets another one
    (its answer was edited after the labels were checked against it)."""
    snap = ContentBank.load(content).snapshot()
    text = questions.read_text(encoding="utf-8")
    head = text[: text.index("labelled_entries:")]
    rows = "".join(f"  '{e.id}': '{'0000000000' if e.id == changed else answer_fingerprint(e.answer)}'\n" for e in snap.approved)
    questions.write_text(head + "labelled_entries:\n" + rows, encoding="utf-8")


def _bank_copy(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    shutil.copytree(SMALL, content)
    return content


def _edit_answer(content: Path, entry_id: str, extra: str) -> None:
    """Append ``extra`` to the answer of ``entry_id`` in a copy of the small bank."""
    for path in (content / "bank").glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for entry in data["entries"]:
            if entry["id"] == entry_id:
                entry["answer"] = entry["answer"].rstrip() + " " + extra
                path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
                return
    raise AssertionError(entry_id)


def test_an_entry_whose_answer_changed_since_the_check_is_checked_again(questions, tmp_path):
    _fingerprinted(questions, SMALL, changed="bien-gioi-viet-trung")
    assert label_pool.unlabelled_entries(questions, SMALL) == ["bien-gioi-viet-trung"]
    assert label_pool.write_pool(questions, SMALL, tmp_path / "pool") == (1, 3)
    pool = (tmp_path / "pool" / "pool.md").read_text(encoding="utf-8")
    assert "entry `bien-gioi-viet-trung`" in pool and "entry `bien-dao-so-dao`" not in pool
    # both labellers hold that the edited answer now answers Q2 as fully as its label
    lines = [(Q2, "bien-gioi-viet-trung", "equal")]
    a, b = _verdicts(tmp_path / "a.yaml", lines), _verdicts(tmp_path / "b.yaml", lines)
    record = tmp_path / "r.yaml"
    record.write_text("labels: []\n", encoding="utf-8")
    label_pool.merge(questions, SMALL, [[a], [b]], tmp_path / "pool", record)
    (q2,) = [q for q in load_eval_questions(questions) if q.q == Q2]
    assert q2.acceptable == ("bien-gioi-tong-chieu-dai", "bien-gioi-khu-vuc", "bien-gioi-viet-trung")
    # the merge records the answers now checked: nothing is left to check until an answer changes again
    assert label_pool.unlabelled_entries(questions, SMALL) == []
    checked = label_pool.labelled_entries(questions)
    viet_trung = ContentBank.load(SMALL).snapshot().get("bien-gioi-viet-trung")
    assert checked["bien-gioi-viet-trung"] == answer_fingerprint(viet_trung.answer)


def test_an_answer_edited_after_the_pool_was_written_is_not_recorded_as_checked(questions, tmp_path):
    content = _bank_copy(tmp_path)
    _fingerprinted(questions, content, changed="bien-gioi-viet-trung")
    label_pool.write_pool(questions, content, tmp_path / "pool")
    _edit_answer(content, "bien-gioi-viet-trung", "Một câu thêm sau khi pool được viết.")
    before = questions.read_bytes()
    a, b = _verdicts(tmp_path / "a.yaml", []), _verdicts(tmp_path / "b.yaml", [])
    with pytest.raises(EvalFileError, match="bien-gioi-viet-trung đã đổi"):
        label_pool.merge(questions, content, [[a], [b]], tmp_path / "pool", tmp_path / "r.yaml")
    assert questions.read_bytes() == before
    # an entry edited after the pool, that the pool never showed, stays to check after a merge
    _fingerprinted(questions, content, changed="bien-gioi-viet-trung")
    label_pool.write_pool(questions, content, tmp_path / "pool")
    _edit_answer(content, "bien-dao-lien-he", "Thêm một câu nữa.")
    label_pool.merge(questions, content, [[a], [b]], tmp_path / "pool", tmp_path / "r.yaml")
    assert label_pool.unlabelled_entries(questions, content) == ["bien-dao-lien-he"]


def test_a_list_of_ids_records_no_answer_so_only_new_entries_are_checked(questions):
    assert label_pool.labelled_entries(questions)["bien-gioi-viet-trung"] is None
    assert label_pool.unlabelled_entries(questions, SMALL) == NEW


def _chunk_of(pool: Path, question: str) -> int:
    chunks = yaml.safe_load((pool / "pool.yaml").read_text(encoding="utf-8"))["chunks"]
    return next(n for n, keys in enumerate(chunks) if question_key(question) in keys)


def test_a_chunked_pool_is_merged_from_each_labellers_files(questions, tmp_path):
    pool = tmp_path / "pool"
    assert label_pool.write_pool(questions, SMALL, pool, chunks=2) == (2, 3)
    chunks = [(pool / f"pool-{n}.md").read_text(encoding="utf-8") for n in (1, 2)]
    assert all("entry `bien-dao-so-dao`" in c for c in chunks)  # every chunk shows the entries to check
    assert sorted(c.count("### ") for c in chunks) == [1, 2] and all(q in "".join(chunks) for q in (Q1, Q2, Q3))
    files = {}
    for who in "ab":
        verdicts = [[], []]
        verdicts[_chunk_of(pool, Q1)].append((Q1, "bien-dao-so-dao", "better"))
        verdicts[_chunk_of(pool, Q3)].append((Q3, "bien-dao-so-dao", "answers"))
        files[who] = ",".join(str(_verdicts(tmp_path / f"{who}{n}.yaml", v)) for n, v in enumerate(verdicts, 1))
    record = tmp_path / "r.yaml"
    record.write_text("labels: []\n", encoding="utf-8")
    label_pool.main(["merge", files["a"], files["b"], "--pool", str(pool), "--questions", str(questions),
                     "--content", str(SMALL), "--record", str(record)])  # fmt: skip
    labels = {q.q: q.acceptable for q in load_eval_questions(questions)}
    assert labels[Q1] == ("bien-dao-so-dao",) and labels[Q3] == ("bien-dao-so-dao",)
    # the list of ids became a map of quoted fingerprints: every approved entry, the new ones as the pool showed them
    checked = label_pool.labelled_entries(questions)
    assert set(checked) == APPROVED and all(len(fp) == 10 for fp in checked.values())
    assert "  'bien-dao-so-dao': '" in questions.read_text(encoding="utf-8")


def test_a_labeller_must_give_one_file_per_chunk_with_only_that_chunks_questions(questions, tmp_path):
    pool = tmp_path / "pool"
    label_pool.write_pool(questions, SMALL, pool, chunks=2)
    empty = [_verdicts(tmp_path / f"e{n}.yaml", []) for n in (1, 2)]
    skipped = _verdicts(tmp_path / "a1.yaml", [])
    with pytest.raises(EvalFileError, match="cần đúng 2 tệp"):  # one labeller skipped a chunk
        label_pool.merge(questions, SMALL, [[skipped], empty], pool, tmp_path / "r.yaml")
    wrong = [[], []]
    wrong[1 - _chunk_of(pool, Q1)].append((Q1, "bien-dao-so-dao", "better"))  # Q1 in the other chunk's file
    a = [_verdicts(tmp_path / f"w{n}.yaml", v) for n, v in enumerate(wrong, 1)]
    bad = a[1 - _chunk_of(pool, Q1)]
    with pytest.raises(EvalFileError, match=f"{bad.name}: không có câu hỏi nào mang key {question_key(Q1)} trong phần"):
        label_pool.merge(questions, SMALL, [a, empty], pool, tmp_path / "r.yaml")
    with pytest.raises(EvalFileError, match="cần đúng hai người gán nhãn"):
        label_pool.merge(questions, SMALL, [empty], pool, tmp_path / "r.yaml")
    with pytest.raises(SystemExit, match="không có tệp nào"):
        label_pool.main(["merge", ",", str(empty[0]), "--pool", str(pool), "--questions", str(questions)])


@pytest.mark.parametrize("chunks", ["0", "-1", "x"])
def test_chunks_must_be_a_positive_number(questions, tmp_path, chunks, capsys):
    with pytest.raises(SystemExit):
        label_pool.main(["pool", "--out", str(tmp_path / "p"), "--chunks", chunks, "--questions", str(questions)])
    assert not (tmp_path / "p").exists()


def test_relabel_pool_writes_two_question_files_by_default(questions, tmp_path):
    label_pool.main(["relabel-pool", "--out", str(tmp_path / "r"), "--questions", str(questions), "--content", str(SMALL)])
    assert sorted(f.name for f in (tmp_path / "r").iterdir()) == ["bank.md", "pool.yaml", "questions-1.md", "questions-2.md"]


def test_a_whole_relabelling_records_every_answer_it_showed(questions, tmp_path):
    content = _bank_copy(tmp_path)
    _fingerprinted(questions, content, changed="bien-gioi-viet-trung")
    out = tmp_path / "r"
    label_pool.write_relabel_pool(questions, content, out, 1)
    a = _choices(out / "a.yaml", {Q1: "[bien-dao-so-dao]", Q2: "[bien-gioi-viet-lao]", Q3: "null"})
    b = _choices(out / "b.yaml", {Q1: "[bien-dao-so-dao]", Q2: "[bien-gioi-viet-lao]", Q3: "null"})
    _edit_answer(content, "bien-dao-so-dao", "Thêm một câu.")  # after the pool: refused, nothing written
    before = questions.read_bytes()
    with pytest.raises(SystemExit, match="bien-dao-so-dao đã đổi"):
        label_pool.main(["relabel-merge", str(a), str(b), "--questions", str(questions), "--content", str(content),
                         "--record", str(tmp_path / "labels.yaml")])  # fmt: skip
    assert questions.read_bytes() == before
    label_pool.write_relabel_pool(questions, content, out, 1)
    label_pool.main(["relabel-merge", str(a), str(b), "--questions", str(questions), "--content", str(content),
                     "--record", str(tmp_path / "labels.yaml")])  # fmt: skip
    assert label_pool.unlabelled_entries(questions, content) == []  # the edited answer was shown to every labeller
    assert {q.q: q.acceptable for q in load_eval_questions(questions)}[Q2] == ("bien-gioi-viet-lao",)


def test_a_relabelling_without_its_pool_file_leaves_the_checked_answers_alone(questions, tmp_path):
    _fingerprinted(questions, SMALL, changed="bien-gioi-viet-trung")
    a = _choices(tmp_path / "a.yaml", {Q1: "null", Q2: "null", Q3: "null"})  # tmp_path holds the check pool's pool.yaml
    b = _choices(tmp_path / "b.yaml", {Q1: "null", Q2: "null", Q3: "null"})
    label_pool.main(["relabel-merge", str(a), str(b), "--questions", str(questions), "--content", str(SMALL),
                     "--record", str(tmp_path / "labels.yaml")])  # fmt: skip
    assert label_pool.unlabelled_entries(questions, SMALL) == ["bien-gioi-viet-trung"]
    with pytest.raises(EvalFileError, match="không phải tệp do 'relabel-pool' viết"):
        label_pool.relabel_merge(questions, SMALL, [a, b], tmp_path / "labels.yaml", tmp_path)


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("labelled_entries:\n  'bien-dao-bo-bien':\n", "fingerprint"),  # an entry with no answer recorded
        ("labelled_entries:\n  bien-dao-bo-bien: 0123456701\n", "fingerprint"),  # unquoted: YAML reads a number
        ("labelled_entries:\n  no: '0123456701'\n", "fingerprint"),  # unquoted id: YAML reads a boolean
    ],
)
def test_a_labelled_entries_map_needs_quoted_ids_and_fingerprints(tmp_path, block, message):
    path = tmp_path / "q.yaml"
    path.write_text(f'questions:\n  - {{q: "{Q1}", split: dev, expect: bien-dao-bo-bien}}\n{block}', encoding="utf-8")
    with pytest.raises(EvalFileError, match=message):
        label_pool.labelled_entries(path)


@pytest.mark.parametrize(
    "tail",
    [
        "labelled_entries:\n" + "".join(f"  - {e}\n" for e in SEEN).rstrip("\n"),  # no newline at the end
        "labelled_entries:\n" + "".join(f"- {e}\n" for e in SEEN),  # a list at column 0
    ],
)
def test_the_labelled_entries_block_is_rewritten_whole(questions, tmp_path, tail):
    text = questions.read_text(encoding="utf-8")
    questions.write_text(text[: text.index("labelled_entries:")] + tail, encoding="utf-8")
    a, b = _verdicts(tmp_path / "a.yaml", []), _verdicts(tmp_path / "b.yaml", [])
    label_pool.merge(questions, SMALL, [[a], [b]], tmp_path, tmp_path / "r.yaml")
    assert set(label_pool.labelled_entries(questions)) == APPROVED
    assert len(load_eval_questions(questions)) == 4


def test_a_flow_style_labelled_entries_is_refused_and_nothing_is_written(questions, tmp_path):
    text = questions.read_text(encoding="utf-8")
    questions.write_text(text[: text.index("labelled_entries:")] + f"labelled_entries: [{', '.join(SEEN)}]\n", encoding="utf-8")
    before = questions.read_bytes()
    a, b = _verdicts(tmp_path / "a.yaml", [(Q1, "bien-dao-so-dao", "better")]), _verdicts(tmp_path / "b.yaml", [(Q1, "bien-dao-so-dao", "better")])
    record = tmp_path / "r.yaml"
    record.write_text("labels: []\n", encoding="utf-8")
    with pytest.raises(EvalFileError, match="đúng một khối"):
        label_pool.merge(questions, SMALL, [[a], [b]], tmp_path, record)
    assert questions.read_bytes() == before and record.read_text(encoding="utf-8") == "labels: []\n"
