"""tools/label_pool.py: the blind labels checked against entries added after the labelling."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.answers.evaluation import EvalFileError, load_eval_questions
from tools import label_pool
from tools.judge_pool import question_key

SMALL = Path(__file__).resolve().parents[1] / "data" / "content_small"
Q1, Q2, Q3, OFF = "vn co bn hon dao", "bien gioi viet lao dai bao nhieu", "ai ban hanh luat bien", "mai co mua ko"
SEEN = ["bien-dao-bo-bien", "bien-dao-cac-vung-bien", "bien-dao-lien-he", "bien-gioi-khu-vuc", "bien-gioi-tong-chieu-dai",
        "bien-gioi-viet-trung", "bot-huong-dan-nhap", "phap-luat-luat-bien-2012"]  # fmt: skip
NEW = ["bien-dao-so-dao", "bien-gioi-viet-lao"]  # approved in the small bank, never seen by the labeller


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
        label_pool.merge(questions, SMALL, [a, a], tmp_path / "r.yaml")


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
