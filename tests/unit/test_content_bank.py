"""Loading and checking the content bank; reloading; the `flask content` commands."""

from __future__ import annotations

import logging
import os
import shutil
import threading
from pathlib import Path

import pytest
from flask import Flask

from bot.answers import reply as answers
from bot.answers.bank import MAX_ANSWER_CHARS, ContentBank, check_content, parse_content
from bot.cli.content import content_group
from bot.storage.store import Store
from bot.web.context import Services

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parents[1] / "data"
SMALL = DATA / "content_small"
BAD = DATA / "content_bad"


# -- the shipped content ----------------------------------------------------------


def test_shipped_content_passes_check():
    errors = [str(i) for i in check_content(ROOT / "content") if i.is_error]
    assert errors == []


def test_shipped_content_is_usable():
    topics, entries, _ = parse_content(ROOT / "content")
    approved = [e for e in entries if e.approved]
    assert approved, "no approved entries"
    assert len({e.id for e in entries}) == len(entries)
    assert all(e.topic in topics for e in entries)
    assert all(e.sources and all(s.name for s in e.sources) for e in approved)
    assert all(len(e.answer) <= MAX_ANSWER_CHARS and len(e.variants) >= 3 for e in entries)


# -- mistakes are reported with file, line and entry id ---------------------------


@pytest.fixture(scope="module")
def bad_issues():
    return [i for i in check_content(BAD) if i.is_error]


@pytest.mark.parametrize(
    ("file", "line", "entry_id", "fragment"),
    [
        ("b-duplicate.yaml", 2, "dup-id", "id 'dup-id' bị trùng (đã dùng ở"),
        ("c-missing-source.yaml", 2, "no-source", "cần ít nhất một nguồn"),
        ("d-too-long.yaml", 10, "too-long", "answer dài 1671 ký tự; tối đa 1500"),
        ("e-syntax.yaml", 6, None, "lỗi cú pháp YAML"),
        ("f-unknown-topic.yaml", 3, "unknown-topic", "chủ đề 'bien-trời' không có trong topics.yaml"),
        ("g-unknown-related.yaml", 14, "unknown-related", "không có mục nào có id 'no-such-entry'"),
        ("h-misc.yaml", 2, "Bad_Id", "id chỉ gồm chữ thường"),
        ("h-misc.yaml", 15, "several-mistakes", "cần ít nhất 3 variants, mới có 2"),
        ("h-misc.yaml", 17, "several-mistakes", "chỗ điền '{org_phone}' không hợp lệ"),
        ("h-misc.yaml", 19, "several-mistakes", "nguồn thiếu name"),
        ("h-misc.yaml", 21, "several-mistakes", "status phải là draft hoặc approved"),
        ("h-misc.yaml", 22, "several-mistakes", "reviewed phải là ngày dạng YYYY-MM-DD"),
        ("h-misc.yaml", 23, "several-mistakes", "trường lạ 'note'"),
    ],
)
def test_bad_content_is_reported_where_it_is(bad_issues, file, line, entry_id, fragment):
    matching = [i for i in bad_issues if Path(i.file).name == file and fragment in i.message]
    assert [(i.line, i.entry_id) for i in matching] == [(line, entry_id)], [str(i) for i in bad_issues]


def test_every_bad_file_has_its_error_and_the_good_entries_have_none(bad_issues):
    files = {Path(i.file).name for i in bad_issues}
    assert files == {f.name for f in (BAD / "bank").iterdir()} - {"a-duplicate.yaml"}
    assert not [i for i in bad_issues if i.entry_id in ("good-one", "draft-without-source")]


def test_issue_format():
    issue = next(i for i in check_content(BAD) if i.entry_id == "no-source")
    assert str(issue) == f"{issue.file}:2: [no-source] mục đã duyệt (approved) cần ít nhất một nguồn trong sources"


def test_warnings_are_not_errors():
    issues = check_content(SMALL)
    assert issues and not [i for i in issues if i.is_error]
    assert all(str(i).split("] ", 1)[1].startswith("cảnh báo: ") for i in issues)


def test_a_bank_with_errors_still_serves_its_valid_entries():
    bank = ContentBank.load(BAD)
    assert bank.errors
    assert {e.id for e in bank.approved} == {"good-one", "dup-id", "unknown-related"}
    assert bank.entry("draft-without-source") is not None and bank.get("draft-without-source") is None
    assert bank.get("unknown-related").related == ("good-one",)  # the broken link is dropped
    assert bank.get("dup-id").file.endswith("a-duplicate.yaml")  # the first one wins
    assert bank.matcher.search("cau hoi mau good-one", 1)[0].entry_id == "good-one"


def test_numbers_in_keywords_are_text(content):
    path = content / "bank" / "bien-dao.yaml"
    _edit(path, "keywords: [bờ biển, Móng Cái, Hà Tiên]", "keywords: [bờ biển, 2018, 3,260 km]")
    _, entries, issues = parse_content(content)
    entry = next(e for e in entries if e.id == "bien-dao-bo-bien")
    assert entry.keywords == ("bờ biển", "2018", "3", "260 km")
    warning = next(i for i in issues if i.entry_id == "bien-dao-bo-bien")
    assert not warning.is_error and "bị dấu phẩy tách đôi" in warning.message


# -- reloading ------------------------------------------------------------------


@pytest.fixture
def content(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(SMALL, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # a clearly newer mtime


def test_reload_picks_up_an_edit(content):
    bank = ContentBank.load(content, check_interval=0)
    assert bank.reload_if_changed() is False  # nothing changed
    _edit(content / "bank" / "bien-dao.yaml", "Bờ biển Việt Nam dài khoảng 3.260 km", "Bờ biển Việt Nam dài khoảng 3.260 km (đã sửa)")
    assert bank.reload_if_changed() is True
    assert "(đã sửa)" in bank.get("bien-dao-bo-bien").answer


def test_reload_notices_a_new_file(content):
    bank = ContentBank.load(content, check_interval=0)
    extra = (content / "bank" / "bien-gioi.yaml").read_text(encoding="utf-8").replace("id: bien-gioi-", "id: moi-")
    extra = extra.replace("related: [bien-gioi-viet-lao, bien-gioi-viet-trung]", "related: [moi-viet-lao]")
    extra = extra.replace("related: [bien-gioi-tong-chieu-dai]", "related: [moi-tong-chieu-dai]")
    (content / "bank" / "moi.yaml").write_text(extra, encoding="utf-8")
    assert bank.reload_if_changed() is True
    assert bank.get("moi-viet-lao") is not None


def test_a_broken_edit_keeps_the_old_bank(content, caplog):
    bank = ContentBank.load(content, check_interval=0)
    before = bank.snapshot()
    _edit(content / "bank" / "bien-dao.yaml", "status: approved", "status: publish")
    with caplog.at_level(logging.ERROR, logger="bot.answers.bank"):
        assert bank.reload_if_changed() is False
    assert bank.snapshot() is before
    assert "still serving" in caplog.text or "vẫn" in caplog.text
    assert "status phải là draft hoặc approved" in caplog.text
    caplog.clear()
    assert bank.reload_if_changed() is False  # the same broken files are not rebuilt again
    assert caplog.text == ""


def test_checks_are_rate_limited(content):
    bank = ContentBank.load(content, check_interval=3600)
    _edit(content / "bank" / "bien-dao.yaml", "3.260 km", "3.261 km")
    assert bank.reload_if_changed() is False  # too soon to look
    assert bank.reload_if_changed(force_check=True) is True


def test_answers_stay_consistent_while_reloading(content):
    bank = ContentBank.load(content, check_interval=0)
    errors: list[BaseException] = []
    stop = threading.Event()

    def member() -> None:
        while not stop.is_set():
            try:
                result = answers.answer("bo bien dai bao nhieu", bank, org={}, answer_threshold=0.4, suggest_threshold=0.25)
                assert result.entry_id == "bien-dao-bo-bien"
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return

    threads = [threading.Thread(target=member) for _ in range(3)]
    for t in threads:
        t.start()
    for n in range(5):
        _edit(content / "bank" / "bien-dao.yaml", f"{3260 + n} km" if n else "3.260 km", f"{3261 + n} km")
        assert bank.reload_if_changed() is True
    stop.set()
    for t in threads:
        t.join()
    assert errors == []


# -- flask content ... -----------------------------------------------------------


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = Flask(__name__)
    db = str(tmp_path / "bot.db")
    app.config.update(
        CONTENT_DIR=str(SMALL), ANSWER_THRESHOLD=0.4, SUGGEST_THRESHOLD=0.25, DATABASE_PATH=db,
        ORG_NAME="Hội", ORG_PHONES=[], ORG_EMAIL="", ORG_WEBSITE="",
    )
    app.extensions["bot"] = Services(config=app.config, channels={})
    app.cli.add_command(content_group)
    Store.open(db, migrate=True).close()
    return app


def test_check_command_fails_on_errors(app):
    result = app.test_cli_runner().invoke(args=["content", "check", "--dir", str(BAD)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(line.endswith("c-missing-source.yaml:2: [no-source] mục đã duyệt (approved) cần ít nhất một nguồn trong sources") for line in lines)
    assert "13 lỗi" in lines[-1]


def test_check_command_passes_on_good_content(app):
    result = app.test_cli_runner().invoke(args=["content", "check"])
    assert result.exit_code == 0, result.output
    assert "0 lỗi" in result.output.splitlines()[-1]


def test_eval_command_without_the_file(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["content", "eval", "--file", str(tmp_path / "none.yaml")])
    assert result.exit_code == 1
    assert "Chưa có tệp đánh giá" in result.output


def test_eval_command(app, tmp_path):
    questions = tmp_path / "questions.yaml"
    questions.write_text(
        "questions:\n"
        "  - {q: 'bo bien dai bao nhieu', expect: bien-dao-bo-bien, split: dev}\n"
        "  - {q: 'vn co bn hon dao', expect: bien-dao-so-dao, split: dev}\n"
        "  - {q: 'luat bien thong qua khi nao', expect: bien-dao-so-dao, split: dev}\n"
        "  - {q: 'giá vàng hôm nay', expect: null, split: dev}\n"
        "  - {q: 'bien gioi viet lao', expect: bien-gioi-viet-lao, split: test}\n",
        encoding="utf-8",
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["content", "eval", "--file", str(questions), "--split", "dev"])
    assert result.exit_code == 0, result.output
    assert "3 câu có đáp án, 1 câu ngoài phạm vi" in result.output
    assert "accuracy@1 (câu có đáp án): 66.7%" in result.output
    assert "luat bien thong qua khi nao | bien-dao-so-dao | phap-luat-luat-bien-2012" in result.output
    data = __import__("json").loads(runner.invoke(args=["content", "eval", "--file", str(questions), "--json", "--split", "all"]).output)
    assert data["answerable"] == 4 and data["offtopic_answered"] == 0


def test_eval_with_judged_labels_counts_what_the_judges_rated_full(app, tmp_path):
    questions = tmp_path / "questions.yaml"
    questions.write_text(
        "questions:\n"
        "  - {q: 'vn co bn hon dao', expect: bien-dao-so-dao, split: dev}\n"
        "  - {q: 'bien gioi viet lao dai bao nhieu', expect: bien-dao-so-dao, split: dev}\n"  # a wrong label
        "  - {q: 'bo bien dai bao nhieu', expect: bien-dao-bo-bien, split: dev}\n"
        "  - {q: 'luat bien thong qua khi nao', expect: bien-dao-so-dao, split: dev}\n",
        encoding="utf-8",
    )
    judgments = tmp_path / "judgments.yaml"
    judgments.write_text(
        "judgments:\n"
        "  - {q: 'vn co bn hon dao', full: [bien-dao-so-dao], partial: [], 'no': [bien-gioi-viet-lao]}\n"
        "  - q: 'bien gioi viet lao dai bao nhieu'\n"
        "    full: [bien-gioi-viet-lao]\n"
        "    no: [bien-dao-so-dao]\n"  # a bare `no:` (YAML reads it as false) still counts
        "  - {q: 'bo bien dai bao nhieu', full: [bien-dao-so-dao]}\n"  # the engine's entry is not rated
        "  - {q: 'luat bien thong qua khi nao', partial: [bien-dao-so-dao]}\n",  # no entry answers it fully
        encoding="utf-8",
    )
    runner = app.test_cli_runner()
    args = ["content", "eval", "--file", str(questions), "--split", "dev", "--json"]
    expect = __import__("json").loads(runner.invoke(args=args).output)
    assert expect["answerable"] == 4 and expect["top1"] == 2  # the mislabelled question is not right
    result = runner.invoke(args=[*args, "--labels", "judged", "--judgments", str(judgments)])
    judged = __import__("json").loads(result.output)
    assert judged["answerable"] == 3 and judged["unanswerable"] == 1, result.output  # nothing rated full: left out
    assert judged["top1"] == 2, result.output
    assert judged["unjudged"] == 1  # nobody rated an entry for the coast question: not right, and said so
    confusions = {c["question"]: c["expected"] for c in judged["confusions"]}
    assert confusions == {"bo bien dai bao nhieu": "bien-dao-so-dao"}  # what the judges rated full, not the label
    text = runner.invoke(args=args[:-1] + ["--labels", "judged", "--judgments", str(judgments)]).output
    assert "(nhãn: đánh giá độc lập)" in text and "1 câu có mục đứng đầu chưa được đánh giá" in text
    assert "(câu hỏi | mục được chấm trả lời đủ | nhận được" in text, text
    assert "bo bien dai bao nhieu | bien-dao-so-dao | bien-dao-bo-bien |" in text, text


def test_a_question_with_no_labeller_counts_only_by_its_judgments(app, tmp_path):
    # the fact-sheet set: on-topic questions no labeller saw (judged: true), never counted as off-topic
    questions = tmp_path / "questions.yaml"
    questions.write_text(
        "questions:\n"
        "  - {q: 'vn co bn hon dao', split: dev, judged: true}\n"
        "  - {q: 'bien gioi viet lao dai bao nhieu', split: dev, judged: true}\n",
        encoding="utf-8",
    )
    judgments = tmp_path / "judgments.yaml"
    judgments.write_text(
        "judgments:\n"
        "  - {q: 'vn co bn hon dao', full: [bien-dao-so-dao]}\n"
        "  - {q: 'bien gioi viet lao dai bao nhieu', full: [bien-gioi-viet-lao], partial: [bien-dao-so-dao]}\n",
        encoding="utf-8",
    )
    runner = app.test_cli_runner()
    args = ["content", "eval", "--file", str(questions), "--split", "dev", "--json"]
    unlabelled = __import__("json").loads(runner.invoke(args=args).output)
    assert unlabelled["answerable"] == 0 and unlabelled["offtopic"] == 0 and unlabelled["unanswerable"] == 2
    judged = __import__("json").loads(runner.invoke(args=[*args, "--labels", "judged", "--judgments", str(judgments)]).output)
    assert judged["answerable"] == 2 and judged["offtopic"] == 0 and judged["top1"] == 2
    refused = runner.invoke(args=["content", "eval", "--set", "facts"])
    assert refused.exit_code == 1 and "--labels judged" in refused.output


def test_eval_refuses_a_bad_judgments_file(app, tmp_path):
    questions = tmp_path / "questions.yaml"
    questions.write_text("questions:\n  - {q: 'vn co bn hon dao', expect: bien-dao-so-dao, split: dev}\n", encoding="utf-8")
    judgments = tmp_path / "judgments.yaml"
    judgments.write_text("judgments:\n  - {q: 'vn co bn hon dao', full: bien-dao-so-dao}\n", encoding="utf-8")
    args = ["content", "eval", "--file", str(questions), "--labels", "judged", "--judgments", str(judgments)]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 1
    assert "'full' cần là một danh sách id" in result.output


def test_unanswered_command_groups_questions(app):
    with app.app_context():
        store = Store.open(app.config["DATABASE_PATH"])
        for i, text in enumerate(["gia vang hom nay", "giá vàng hôm nay bao nhiêu", "bờ biển có đẹp không"]):
            store.log_question(member_id=None, channel="zalo", text=text, at=1000.0 + i, decision="fallback",
                               entry_id=None, score=0.1, candidates=[])
        store.close()
    result = app.test_cli_runner().invoke(args=["content", "unanswered"])
    assert result.exit_code == 0, result.output
    assert "3 câu hỏi chưa trả lời, 2 nhóm:" in result.output
    assert "[2] " in result.output and "cũng hỏi:" in result.output


def test_reload_command(app):
    result = app.test_cli_runner().invoke(args=["content", "reload"])
    assert result.exit_code == 0, result.output
    assert "Đã nạp 10 mục (9 đã duyệt)" in result.output


def test_reload_command_keeps_the_served_bank_when_the_new_one_has_errors(app, content):
    app.config["CONTENT_DIR"] = str(content)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["content", "reload"]).exit_code == 0
    _edit(content / "bank" / "bien-dao.yaml", "status: approved", "status: publish")
    result = runner.invoke(args=["content", "reload"])
    assert result.exit_code == 1
    assert "status phải là draft hoặc approved" in result.output
    assert "vẫn dùng bản đã nạp trước" in result.output
    assert app.extensions["bot"].bank.get("bien-dao-bo-bien") is not None


def test_a_failing_rebuild_keeps_serving(content, monkeypatch, caplog):
    bank = ContentBank.load(content, check_interval=0)
    before = bank.snapshot()
    _edit(content / "bank" / "bien-dao.yaml", "3.260 km", "3.261 km")

    def boom(content_dir, source=None):
        raise OSError("disk went away")

    monkeypatch.setattr("bot.answers.bank.build_snapshot", boom)
    with caplog.at_level(logging.ERROR, logger="bot.answers.bank"):
        assert bank.reload_if_changed() is False
    assert bank.snapshot() is before
    assert "disk went away" in caplog.text


def test_flask_content_check_also_checks_units_quizzes_and_contests(runner, tmp_path):
    """CI runs `flask content check`: a broken unit tree must fail it, with the file named."""
    import shutil

    from tests.conftest import ROOT

    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    units = content / "units.yaml"
    units.write_text(units.read_text(encoding="utf-8") + "\n  - code: CT.KHONGCO.CH09\n    name: Chi hội mồ côi\n    kind: branch\n", encoding="utf-8")
    result = runner.invoke(args=["content", "check", "--dir", str(content)])
    assert result.exit_code == 1
    assert "units.yaml" in result.output and "CT.KHONGCO.CH09" in result.output
    shutil.copy(ROOT / "content" / "units.yaml", units)
    assert runner.invoke(args=["content", "check", "--dir", str(content)]).exit_code == 0


def test_a_judgment_made_against_an_older_answer_is_not_counted(tmp_path):
    from bot.answers.evaluation import answer_fingerprint, load_judgments

    bank = ContentBank.load(ROOT / "content")
    kept, edited = bank.get("bien-dao-so-dao"), bank.get("bien-gioi-viet-lao")
    judgments = tmp_path / "judgments.yaml"
    judgments.write_text(
        "judgments:\n"
        "  - {q: 'vn co bn hon dao', 'full': [bien-dao-so-dao], 'no': [bien-gioi-viet-lao]}\n"
        "answers:\n"
        f"  bien-dao-so-dao: '{answer_fingerprint(kept.answer)}'\n"
        f"  bien-gioi-viet-lao: '{answer_fingerprint(edited.answer + ' (an older text)')}'\n",
        encoding="utf-8",
    )
    assert load_judgments(judgments, bank) == {"vn co bn hon dao": {"bien-dao-so-dao": "full"}}
    assert load_judgments(judgments)["vn co bn hon dao"] == {"bien-dao-so-dao": "full", "bien-gioi-viet-lao": "no"}


def test_a_tab_indenting_a_line_is_named_in_the_syntax_error():
    from bot.answers.yaml_reader import parse_yaml

    issues = []
    assert parse_yaml("bank/x.yaml", issues, "entries:\n\t- id: a\n") == (None, None)
    assert [(i.line, "lỗi cú pháp YAML" in i.message, "tab" in i.message) for i in issues] == [(2, True, True)]
