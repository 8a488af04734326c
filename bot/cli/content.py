"""`flask content ...`: check the bank, evaluate the matcher, review unanswered questions, reload.

The evaluation set is tests/eval/blind_questions.yaml (``--set blind``, the default: questions
written from the fact sheet without seeing the bank, labelled afterwards); the older set written
from the bank itself is tests/eval/questions.yaml (``--set old``)::

    questions:
      - {q: "bien gioi viet lao dai bao nhieu", expect: bien-gioi-viet-lao, split: dev}
      - {q: "lãnh hải là gì", expect: [vung-bien-lanh-hai, vung-bien-cac-vung], split: dev}  # any of these is right
      - {q: "giá vàng hôm nay", expect: null, split: test}     # off-topic: no entry should answer
      - {q: "phú quốc có mấy đặc khu", expect: null, answerable: false, split: dev}  # on-topic, no entry: left out

Thresholds are tuned on ``split: dev`` only; ``split: test`` is the held-out check
(tests/unit/test_eval.py).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import click
import yaml
from flask import current_app
from flask.cli import AppGroup

from bot.answers import reply as answers
from bot.answers.bank import (
    BankSnapshot,
    ContentBank,
    parse_content,
    resolve_content_dir,
)
from bot.answers.matcher import group_similar
from bot.core.paths import PROJECT_ROOT
from bot.web.context import get_bank

EVAL_FILE = PROJECT_ROOT / "tests" / "eval" / "blind_questions.yaml"
OLD_EVAL_FILE = PROJECT_ROOT / "tests" / "eval" / "questions.yaml"
EVAL_SETS = {"blind": EVAL_FILE, "old": OLD_EVAL_FILE}
SPLITS = ("dev", "test", "all")

content_group = AppGroup(
    "content",
    help="Kho nội dung hỏi đáp: kiểm tra (check), đánh giá (eval), câu hỏi chưa trả lời (unanswered), nạp lại (reload).",
)


# -- evaluation ------------------------------------------------------------------


class EvalFileError(Exception):
    """The evaluation file is missing or not in the expected format."""


@dataclass(frozen=True)
class EvalQuestion:
    q: str
    expect: str | None  # the (first) expected entry id, or None for an off-topic question
    split: str
    accept: tuple[str, ...] = ()  # every acceptable entry id (expect first)
    answerable: bool = True  # False: on-topic but no entry answers it; left out of every figure

    @property
    def acceptable(self) -> tuple[str, ...]:
        return self.accept or ((self.expect,) if self.expect else ())


@dataclass
class EvalReport:
    """Results on one split.  accuracy@1 counts the top candidate, whatever the decision."""

    split: str
    answerable: int = 0
    offtopic: int = 0
    top1: int = 0
    top3: int = 0
    answered_right: int = 0
    answered_wrong: int = 0
    answerable_suggested: int = 0
    answerable_fallback: int = 0
    unanswerable: int = 0  # on-topic questions no entry answers: not counted anywhere else
    offtopic_answered: int = 0
    offtopic_suggested: int = 0
    unknown_expected: list[str] = field(default_factory=list)
    confusions: list[dict[str, Any]] = field(default_factory=list)

    @staticmethod
    def _share(n: int, d: int) -> float:
        return n / d if d else 0.0

    @property
    def accuracy_at_1(self) -> float:
        return self._share(self.top1, self.answerable)

    @property
    def accuracy_at_3(self) -> float:
        return self._share(self.top3, self.answerable)

    @property
    def answers_given(self) -> int:
        return self.answered_right + self.answered_wrong

    @property
    def wrong_share(self) -> float:
        """Wrong answers as a share of the answers given to answerable questions."""
        return self._share(self.answered_wrong, self.answers_given)

    @property
    def suggestion_share(self) -> float:
        """Answerable questions that got "Có phải chị muốn hỏi" instead of an answer."""
        return self._share(self.answerable_suggested, self.answerable)

    @property
    def offtopic_answered_share(self) -> float:
        return self._share(self.offtopic_answered, self.offtopic)

    @property
    def offtopic_suggested_share(self) -> float:
        return self._share(self.offtopic_suggested, self.offtopic)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            accuracy_at_1=self.accuracy_at_1,
            accuracy_at_3=self.accuracy_at_3,
            wrong_share=self.wrong_share,
            suggestion_share=self.suggestion_share,
            offtopic_answered_share=self.offtopic_answered_share,
            offtopic_suggested_share=self.offtopic_suggested_share,
        )
        return data


def load_eval_questions(path: str | os.PathLike[str] = EVAL_FILE, split: str = "all") -> list[EvalQuestion]:
    """The questions of ``split`` ("dev", "test" or "all"); EvalFileError when the file is missing or bad."""
    path = Path(path)
    if not path.is_file():
        raise EvalFileError(f"Chưa có tệp đánh giá {path} (evaluation set not written yet).")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise EvalFileError(f"{path}: YAML không hợp lệ: {exc}") from None
    items = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise EvalFileError(f"{path}: cần một danh sách 'questions:'")
    questions = []
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict) or not isinstance(item.get("q"), str) or item.get("split") not in ("dev", "test"):
            raise EvalFileError(f"{path}: câu thứ {n} cần q (chữ), expect (id hoặc null) và split (dev|test)")
        expect = item.get("expect")
        accept = tuple(str(e) for e in expect) if isinstance(expect, list) else ((str(expect),) if expect else ())
        questions.append(
            EvalQuestion(
                item["q"], accept[0] if accept else None, item["split"], accept, bool(item.get("answerable", True))
            )
        )
    return [q for q in questions if split == "all" or q.split == split]


def evaluate(
    bank: ContentBank | BankSnapshot,
    questions: list[EvalQuestion],
    *,
    answer_threshold: float,
    suggest_threshold: float,
    split: str = "all",
    org: dict[str, Any] | None = None,
) -> EvalReport:
    """Run every question through :func:`bot.answers.reply.answer` and count the outcomes."""
    snap = bank.snapshot()
    org = org or {"ORG_NAME": "Hội", "ORG_PHONES": [], "ORG_EMAIL": "", "ORG_WEBSITE": ""}
    report = EvalReport(split)
    for question in questions:
        result = answers.answer(
            question.q, snap, org=org, answer_threshold=answer_threshold, suggest_threshold=suggest_threshold
        )
        ranked = [c["entry_id"] for c in result.candidates]
        got = ranked[0] if ranked else None
        if not question.answerable:
            report.unanswerable += 1
            continue
        if question.expect is None:
            report.offtopic += 1
            report.offtopic_answered += result.decision == answers.ANSWER
            report.offtopic_suggested += result.decision == answers.SUGGEST
            if result.decision == answers.ANSWER:
                report.confusions.append(_confusion(question, got, result))
            continue
        report.answerable += 1
        accept = question.acceptable
        report.unknown_expected.extend(e for e in accept if snap.get(e) is None)
        right = got in accept
        report.top1 += right
        report.top3 += any(e in accept for e in ranked[:3])
        if result.decision == answers.ANSWER:
            report.answered_right += right
            report.answered_wrong += not right
        elif result.decision == answers.SUGGEST:
            report.answerable_suggested += 1
        else:
            report.answerable_fallback += 1
        if not right:
            report.confusions.append(_confusion(question, got, result))
    return report


def _confusion(question: EvalQuestion, got: str | None, result: answers.Answer) -> dict[str, Any]:
    return {
        "question": question.q,
        "expected": "|".join(question.acceptable) or None,
        "got": got,
        "score": round(result.score, 3),
        "decision": result.decision,
    }


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def format_report(report: EvalReport) -> str:
    """A short human-readable summary of an evaluation."""
    lines = [
        f"Tập {report.split}: {report.answerable} câu có đáp án, {report.offtopic} câu ngoài phạm vi",
        f"  accuracy@1 (câu có đáp án): {_pct(report.accuracy_at_1)}   accuracy@3: {_pct(report.accuracy_at_3)}",
        (
            f"  câu có đáp án: trả lời đúng {report.answered_right}, trả lời sai {report.answered_wrong},"
            f" gợi ý {report.answerable_suggested}, không trả lời {report.answerable_fallback}"
        ),
        (
            f"  trả lời sai / số câu đã trả lời: {_pct(report.wrong_share)} ({report.answered_wrong}/{report.answers_given})"
            f"   gợi ý “Có phải chị muốn hỏi” / câu có đáp án: {_pct(report.suggestion_share)}"
            f" ({report.answerable_suggested}/{report.answerable})"
        ),
        (
            f"  câu ngoài phạm vi bị trả lời: {_pct(report.offtopic_answered_share)}"
            f" ({report.offtopic_answered}/{report.offtopic}); được gợi ý: {_pct(report.offtopic_suggested_share)}"
        ),
    ]
    if report.unanswerable:
        lines.append(f"  ({report.unanswerable} câu trong phạm vi nhưng kho chưa có mục trả lời: không tính)")
    if report.unknown_expected:
        lines.append(f"  id mong đợi không có trong kho (hoặc chưa duyệt): {', '.join(sorted(set(report.unknown_expected)))}")
    if report.confusions:
        lines.append("  Nhầm lẫn (câu hỏi | mong đợi | nhận được | điểm | quyết định):")
        for c in report.confusions:
            lines.append(f"    {c['question']} | {c['expected'] or '(ngoài phạm vi)'} | {c['got']} | {c['score']:.3f} | {c['decision']}")
    return "\n".join(lines)


# -- commands --------------------------------------------------------------------


def _content_dir() -> str:
    return resolve_content_dir(current_app.config["CONTENT_DIR"])


def _today() -> dt.date:
    """Today on the app clock, in the configured time zone (never the wall clock directly)."""
    from bot.web.context import get_services

    return get_services().clock.today(current_app.config.get("TIMEZONE") or "Asia/Ho_Chi_Minh")


@content_group.command("check")
@click.option("--dir", "content_dir", type=click.Path(file_okay=False), default=None, help="Thư mục nội dung (mặc định: CONTENT_DIR).")
def check_command(content_dir: str | None) -> None:
    """Kiểm tra kho nội dung; thoát với mã 1 nếu có lỗi."""
    from bot.participation.catalog import (
        check_participation_content,  # imported here: catalog imports the bank
    )

    content_dir = content_dir or _content_dir()
    topics, entries, issues = parse_content(content_dir, today=_today())  # today: review_by dates due
    issues = [*issues, *check_participation_content(content_dir)]  # units, quizzes, contests
    for issue in issues:
        click.echo(str(issue))
    errors = sum(i.is_error for i in issues)
    approved = sum(e.approved for e in entries)
    files = len({e.file for e in entries})
    click.echo(
        f"{content_dir}: {len(entries)} mục hợp lệ ({approved} đã duyệt) trong {files} tệp, {len(topics)} chủ đề; "
        f"{errors} lỗi, {len(issues) - errors} cảnh báo."
    )
    if errors:
        raise SystemExit(1)


@content_group.command("eval")
@click.option("--split", type=click.Choice(SPLITS), default="dev", show_default=True, help="Chỉnh ngưỡng chỉ trên dev.")
@click.option("--json", "as_json", is_flag=True, help="In kết quả dạng JSON.")
@click.option(
    "--set", "eval_set", type=click.Choice(sorted(EVAL_SETS)), default="blind", show_default=True,
    help="blind: câu hỏi viết độc lập với kho (tests/eval/blind_questions.yaml); old: bộ cũ (tests/eval/questions.yaml).",
)
@click.option("--file", "path", type=click.Path(dir_okay=False), default=None, help="Tệp câu hỏi khác (thay cho --set).")
def eval_command(split: str, as_json: bool, eval_set: str, path: str | None) -> None:
    """Đánh giá việc tìm câu trả lời: accuracy@1, tỉ lệ trả lời sai, tỉ lệ gợi ý, câu ngoài phạm vi bị trả lời."""
    path = path or str(EVAL_SETS[eval_set])
    try:
        questions = load_eval_questions(path, split)
    except EvalFileError as exc:
        raise click.ClickException(str(exc)) from None
    config = current_app.config
    report = evaluate(
        ContentBank.load(_content_dir()),
        questions,
        answer_threshold=config["ANSWER_THRESHOLD"],
        suggest_threshold=config["SUGGEST_THRESHOLD"],
        split=split,
    )
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(format_report(report))
        click.echo(f"(ANSWER_THRESHOLD={config['ANSWER_THRESHOLD']}, SUGGEST_THRESHOLD={config['SUGGEST_THRESHOLD']})")


@content_group.command("unanswered")
@click.option("--limit", default=500, show_default=True, help="Số câu hỏi gần nhất được xét.")
@click.option("--threshold", default=0.4, show_default=True, help="Độ giống nhau tối thiểu để gộp nhóm (Jaccard).")
def unanswered_command(limit: int, threshold: float) -> None:
    """Câu hỏi bot chưa trả lời, gộp theo nhóm giống nhau, kèm mục gần nhất trong kho."""
    from bot.web.context import get_store

    rows = get_store().unanswered_questions(limit=limit)
    if not rows:
        click.echo("Không có câu hỏi nào chưa được trả lời.")
        return
    snap = get_bank().snapshot()
    groups = group_similar([r["text"] for r in rows], threshold=threshold)
    click.echo(f"{len(rows)} câu hỏi chưa trả lời, {len(groups)} nhóm:")
    for group in groups:
        members = [rows[i] for i in group]
        decisions = Counter(r["decision"] for r in members)
        examples = list(dict.fromkeys(" ".join(r["text"].split()) for r in members))
        click.echo(
            f"\n[{len(members)}] {examples[0]}"
            f"  (gợi ý: {decisions.get('suggest', 0)}, không trả lời: {decisions.get('fallback', 0)})"
        )
        for text in examples[1:4]:
            click.echo(f"     cũng hỏi: {text}")
        best = snap.matcher.search(examples[0], 3)
        if best:
            click.echo("     mục gần nhất: " + ", ".join(f"{c.entry_id} ({c.score:.2f})" for c in best))


@content_group.command("reload")
def reload_command() -> None:
    """Nạp lại kho nội dung của cấu hình đang chạy và báo số mục / lỗi."""
    from bot.web.context import get_services

    services = get_services()
    if services.bank is None:
        bank = get_bank()
        snapshot, swapped = bank.snapshot(), True
    else:
        result = services.bank.reload()
        snapshot, swapped = result.snapshot, result.swapped
    for issue in snapshot.errors:
        click.echo(str(issue))
    if snapshot.errors and not swapped:
        click.echo(f"Kho mới có {len(snapshot.errors)} lỗi: vẫn dùng bản đã nạp trước. Sửa lỗi rồi chạy lại.")
        raise SystemExit(1)
    click.echo(
        f"Đã nạp {len(snapshot.entries)} mục ({len(snapshot.approved)} đã duyệt) từ {snapshot.content_dir}"
        + (f"; {len(snapshot.errors)} lỗi, các mục lỗi bị bỏ qua." if snapshot.errors else ".")
    )
    if snapshot.errors:
        raise SystemExit(1)


# -- export for approval -----------------------------------------------------------

EXPORT_HEADERS = (
    ("id", "Mã mục"),
    ("question", "Câu hỏi"),
    ("answer", "Câu trả lời"),
    ("sources", "Nguồn"),
    ("status", "Trạng thái"),
    ("reviewed", "Ngày rà soát"),
    ("reviewed_by", "Người rà soát"),
    ("review_by", "Hạn rà soát lại"),
    ("sensitive", "Nhạy cảm"),
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A cell a spreadsheet will not run as a formula: text starting with = + - @ tab or CR
    gets a leading apostrophe (numbers, dates and booleans are left as they are)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _source_reference(source: Any) -> str:
    """The full reference for reviewers: title (or name), number, date, link."""
    parts = [source.title or source.name]
    if source.title and source.name not in source.title:
        parts.append(f"(tên hiển thị: {source.name})")
    if source.number and source.number.lower() not in " ".join(parts).lower():
        parts.append(f"số {source.number}")
    if source.date:
        parts.append(answers.short_date(source.date))
    text = ", ".join(parts)
    return f"{text} – {source.url}" if source.url else text


def export_rows(entries: list[Any], org: dict[str, Any]) -> list[list[Any]]:
    """One row per entry in EXPORT_HEADERS order; answers with their placeholders filled."""
    rows = []
    for e in entries:
        rows.append([
            e.id,
            e.question,
            answers.fill_placeholders(e.answer, org),
            "\n".join(_source_reference(s) for s in e.sources),
            "Đã duyệt" if e.approved else "Bản nháp",
            e.reviewed,
            e.reviewed_by or "",
            e.review_by or "",
            "có" if e.sensitive else "",
        ])
    return rows


def write_export_xlsx(path: str, entries: list[Any], org: dict[str, Any]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Kho hỏi đáp"
    ws.append([label for _, label in EXPORT_HEADERS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in export_rows(entries, org):
        ws.append([safe_cell(v) for v in row])
    widths = {"A": 28, "B": 45, "C": 90, "D": 70, "E": 12, "F": 13, "G": 24, "H": 14, "I": 10}
    for column, width in widths.items():
        ws.column_dimensions[column].width = width
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        row[5].number_format = row[7].number_format = "DD/MM/YYYY"
    ws.freeze_panes = "B2"
    wb.save(path)


@content_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["xlsx"]), default="xlsx", show_default=True, help="Định dạng tệp.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True), help="Tệp ghi ra, ví dụ kho-hoi-dap.xlsx.")
@click.option("--dir", "content_dir", type=click.Path(file_okay=False), default=None, help="Thư mục nội dung (mặc định: CONTENT_DIR).")
def export_command(fmt: str, out: str, content_dir: str | None) -> None:
    """Xuất kho hỏi đáp (mã, câu hỏi, câu trả lời, nguồn, trạng thái, rà soát, nhạy cảm) ra tệp Excel để gửi duyệt."""
    content_dir = content_dir or _content_dir()
    _, entries, issues = parse_content(content_dir)
    errors = [i for i in issues if i.is_error]
    write_export_xlsx(out, entries, dict(current_app.config))
    approved = sum(e.approved for e in entries)
    click.echo(f"Đã ghi {len(entries)} mục ({approved} đã duyệt, {len(entries) - approved} bản nháp) vào {out}.")
    if errors:
        click.echo(f"Lưu ý: {len(errors)} lỗi trong kho; các mục có lỗi không được xuất (chạy flask content check).")
