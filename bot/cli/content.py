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
from collections import Counter

import click
from flask import current_app
from flask.cli import AppGroup

from bot.answers.bank import (
    ContentBank,
    parse_content,
    resolve_content_dir,
)
from bot.answers.evaluation import (
    EVAL_SETS,
    FACTS_JUDGMENTS_FILE,
    JUDGMENTS_FILE,
    LABELS,
    SPLITS,
    EvalFileError,
    evaluate,
    format_report,
    load_eval_questions,
    load_judgments,
)
from bot.answers.export import write_export_xlsx
from bot.answers.matcher import group_similar
from bot.answers.stored import bank_texts
from bot.cli.content_db import export_yaml, import_yaml
from bot.web.context import get_bank, get_services

content_group = AppGroup(
    "content",
    help="Kho nội dung hỏi đáp: kiểm tra (check), đánh giá (eval), câu hỏi chưa trả lời (unanswered), nạp lại (reload),"
    " xuất / nhập giữa cơ sở dữ liệu và YAML (export, import).",
)


# -- commands --------------------------------------------------------------------


def _content_dir() -> str:
    return resolve_content_dir(current_app.config["CONTENT_DIR"])


def _today() -> dt.date:
    """Today on the app clock, in the configured time zone (never the wall clock directly)."""
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
    help="blind: câu hỏi viết độc lập với kho (tests/eval/blind_questions.yaml); old: bộ cũ (tests/eval/questions.yaml); "
    "facts: câu hỏi viết từ bảng dữ kiện, chỉ có đánh giá độc lập (tests/eval/fact_sheet_questions.yaml, dùng với --labels judged).",
)
@click.option("--file", "path", type=click.Path(dir_okay=False), default=None, help="Tệp câu hỏi khác (thay cho --set).")
@click.option(
    "--labels", type=click.Choice(LABELS), default="expect", show_default=True,
    help="expect: nhãn của người gán nhãn; judged: đánh giá độc lập theo cặp (tests/eval/judgments.yaml; bộ blind và facts).",
)
@click.option(
    "--judgments", "judgments_path", type=click.Path(dir_okay=False), default=None,
    help="Tệp đánh giá độc lập khác (mặc định tests/eval/judgments.yaml; với --set facts: tests/eval/fact_sheet_judgments.yaml).",
)
def eval_command(split: str, as_json: bool, eval_set: str, path: str | None, labels: str, judgments_path: str | None) -> None:
    """Đánh giá việc tìm câu trả lời: accuracy@1, tỉ lệ trả lời sai, tỉ lệ gợi ý, câu ngoài phạm vi bị trả lời."""
    path_given = path is not None
    path = path or str(EVAL_SETS[eval_set])
    if eval_set == "facts" and labels != "judged" and not path_given:
        raise click.ClickException("Bộ facts không có nhãn của người gán nhãn: chạy với --labels judged.")
    bank = ContentBank.load(_content_dir())
    try:
        questions = load_eval_questions(path, split)
        default_judgments = FACTS_JUDGMENTS_FILE if eval_set == "facts" and not path_given else JUDGMENTS_FILE
        judgments = load_judgments(judgments_path or default_judgments, bank) if labels == "judged" else None
    except EvalFileError as exc:
        raise click.ClickException(str(exc)) from None
    config = current_app.config
    report = evaluate(
        bank,
        questions,
        answer_threshold=config["ANSWER_THRESHOLD"],
        suggest_threshold=config["SUGGEST_THRESHOLD"],
        split=split,
        judgments=judgments,
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


@content_group.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["yaml", "xlsx"]), default=None,
    help="yaml (mặc định khi không có --out): ghi các mục trong cơ sở dữ liệu trở lại các tệp YAML (CONTENT_STORE=database);"
    " xlsx: tệp Excel để gửi duyệt (cần --out).",
)
@click.option("--out", "out", default=None, type=click.Path(dir_okay=False, writable=True), help="Tệp Excel ghi ra, ví dụ kho-hoi-dap.xlsx.")
@click.option("--dir", "content_dir", type=click.Path(file_okay=False), default=None, help="Thư mục nội dung (mặc định: CONTENT_DIR).")
def export_command(fmt: str | None, out: str | None, content_dir: str | None) -> None:
    """Xuất kho hỏi đáp: ra các tệp YAML (từ cơ sở dữ liệu) hoặc ra tệp Excel (--format xlsx --out ...) để gửi duyệt."""
    content_dir = content_dir or _content_dir()
    if (fmt or ("xlsx" if out else "yaml")) == "yaml":
        if out:
            raise click.UsageError("--out chỉ dùng với --format xlsx; dạng yaml ghi vào thư mục --dir.")
        export_yaml(content_dir)
        return
    if not out:
        raise click.UsageError("Xuất Excel cần --out, ví dụ --out kho-hoi-dap.xlsx.")
    source = get_services().content_source  # database mode: the entries the bot serves, not the files
    texts = bank_texts(content_dir, source.entries()[1]) if source is not None else None
    _, entries, issues = parse_content(content_dir, texts=texts)
    errors = [i for i in issues if i.is_error]
    write_export_xlsx(out, entries, dict(current_app.config))
    approved = sum(e.approved for e in entries)
    click.echo(f"Đã ghi {len(entries)} mục ({approved} đã duyệt, {len(entries) - approved} bản nháp) vào {out}.")
    if errors:
        click.echo(f"Lưu ý: {len(errors)} lỗi trong kho; các mục có lỗi không được xuất (chạy flask content check).")


@content_group.command("import")
@click.option("--dir", "content_dir", type=click.Path(file_okay=False), default=None, help="Thư mục nội dung (mặc định: CONTENT_DIR).")
@click.option("--dry-run", is_flag=True, help="Chỉ báo số mục thêm / sửa / xóa, không ghi gì.")
def import_command(content_dir: str | None, dry_run: bool) -> None:
    """Thay các mục trong cơ sở dữ liệu bằng các tệp YAML (CONTENT_STORE=database); kiểm tra trước, có lỗi thì không ghi gì."""
    import_yaml(content_dir or _content_dir(), dry_run=dry_run)
