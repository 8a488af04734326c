"""Commands: `flask participation import`, `flask report ...`, `flask quiz ...`, `flask privacy ...`."""

from __future__ import annotations

import json
import os
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from bot.core.formats import date_text, number_text
from bot.participation.catalog import get_catalog
from bot.participation.importer import ImportFileError, import_participation
from bot.reports.export import csv_bytes, write_csv_files, xlsx_bytes
from bot.reports.unit_report import (
    ReportError,
    build_report,
    leaderboard_rows,
    parse_period,
    quiz_result_rows,
    report_tables,
)
from bot.web.context import clock_now, get_store

participation_cli = AppGroup("participation", help="Danh sách tham gia cuộc thi / contest participation.")
report_cli = AppGroup("report", help="Báo cáo theo kỳ và đơn vị / unit reports (CSV, Excel).")
quiz_cli = AppGroup("quiz", help="Bài thi trắc nghiệm / quizzes.")
privacy_cli = AppGroup("privacy", help="Dữ liệu cá nhân / personal data.")

period_options = [
    click.option("--from", "date_from", default=None, help="Ngày đầu kỳ YYYY-MM-DD (mặc định: đầu tháng này)."),
    click.option("--to", "date_to", default=None, help="Ngày cuối kỳ YYYY-MM-DD, tính cả ngày đó (mặc định: hôm nay)."),
    click.option("--unit", "unit", default=None, help="Mã đơn vị, gồm cả đơn vị cấp dưới (mặc định: toàn Hội)."),
]


def with_period(func):
    for option in reversed(period_options):
        func = option(func)
    return func


def _report(date_from: str | None, date_to: str | None, unit: str | None) -> dict:
    config = current_app.config
    now = clock_now()
    try:
        period = parse_period(date_from, date_to, config["TIMEZONE"], now)
        return build_report(get_store(), get_catalog(config), config, period, unit, now=now)
    except ReportError as exc:
        raise click.ClickException(str(exc)) from None


# -- participation ----------------------------------------------------------------------
@participation_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Chỉ kiểm tra, không ghi gì.")
@click.option("--unit", default=None, help="Chỉ nhận các dòng thuộc đơn vị này (và cấp dưới).")
@click.option("--json", "as_json", is_flag=True, help="In báo cáo kiểm tra dạng JSON.")
def participation_import(path: str, dry_run: bool, unit: str | None, as_json: bool) -> None:
    """Nhập danh sách tham gia cuộc thi từ tệp CSV (name, phone, unit, contest, date[, result]).

    Thoát với mã 1 khi có dòng bị loại (các dòng hợp lệ vẫn được nhập, trừ khi --dry-run).
    """
    with open(path, "rb") as fh:
        data = fh.read()
    config = current_app.config
    try:
        report = import_participation(
            get_store(), get_catalog(config), data, filename=os.path.basename(path), now=clock_now(),
            tz=config["TIMEZONE"], by="cli", dry_run=dry_run, scope=unit,
        )
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2) if as_json else report.text())
    if report.rejected:
        sys.exit(1)


# -- reports ----------------------------------------------------------------------------
@report_cli.command("export")
@with_period
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True)
@click.option("--out", "out", default=None, help="Tệp .xlsx, hoặc thư mục cho các tệp CSV (mặc định: bao-cao_<đơn vị>_<kỳ>).")
def report_export(date_from: str | None, date_to: str | None, unit: str | None, fmt: str, out: str | None) -> None:
    """Xuất báo cáo kỳ: Excel (mỗi mục một trang) hoặc CSV (mỗi mục một tệp)."""
    report = _report(date_from, date_to, unit)
    tables = report_tables(report)
    name = f"bao-cao_{unit or 'toan-hoi'}_{report['period']['from']}_{report['period']['to']}"
    if fmt == "xlsx":
        path = out or f"{name}.xlsx"
        with open(path, "wb") as fh:
            fh.write(xlsx_bytes(tables, report))
        click.echo(f"Đã ghi {path} ({len(tables)} trang).")
    else:
        paths = write_csv_files(tables, out or name)
        click.echo("Đã ghi:\n" + "\n".join(paths))


@report_cli.command("summary")
@with_period
@click.option("--json", "as_json", is_flag=True, help="In toàn bộ báo cáo dạng JSON.")
def report_summary(date_from: str | None, date_to: str | None, unit: str | None, as_json: bool) -> None:
    """In bảng tổng hợp theo đơn vị ra màn hình."""
    report = _report(date_from, date_to, unit)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    click.echo(f"{report['unit']['label']} — từ {date_text(report['period']['from'])} đến {date_text(report['period']['to'])}")
    columns = report["summary"]["columns"]
    for row in [*report["summary"]["rows"], {"unit": "TỔNG CỘNG", "values": report["summary"]["total"]}]:
        values = ", ".join(f"{c['title']}: {'' if row['values'][c['key']] is None else row['values'][c['key']]}" for c in columns)
        click.echo(f"- {row['unit']}: {values}")


@report_cli.command("leaderboard")
@click.argument("quiz_id")
@with_period
@click.option("--limit", default=None, type=int, help="Số dòng (mặc định: LEADERBOARD_SIZE; 0 = tất cả).")
@click.option("--format", "fmt", type=click.Choice(["text", "csv"]), default="text", show_default=True)
def report_leaderboard(quiz_id: str, date_from: str | None, date_to: str | None, unit: str | None, limit: int | None, fmt: str) -> None:
    """Bảng xếp hạng một bài thi (điểm cao trước, cùng điểm thì thời gian ngắn trước)."""
    config = current_app.config
    catalog = get_catalog(config)
    period = parse_period(date_from, date_to, config["TIMEZONE"], clock_now()) if (date_from or date_to) else None
    rows = leaderboard_rows(get_store(), catalog.units, quiz_id, period=period, scope=unit,
                            limit=int(config["LEADERBOARD_SIZE"]) if limit is None else limit)
    headers = ["Hạng", "Họ và tên", "Đơn vị", "Kênh", "Số câu đúng", "Số câu", "Thời gian (giây)"]
    table = [[r["rank"], r["name"], r["unit"], r["channel"], r["score"], r["total"], r["duration"]] for r in rows]
    if fmt == "csv":
        sys.stdout.buffer.write(csv_bytes(headers, table))
        return
    for r in table:
        click.echo(f"{r[0]:>3}. {r[1]} — {r[2]} — {r[4]}/{r[5]} — {number_text(r[6])} giây")


@report_cli.command("commendations")
@with_period
def report_commendations(date_from: str | None, date_to: str | None, unit: str | None) -> None:
    """Đề xuất khen thưởng cá nhân và tập thể (tiêu chí trong cấu hình COMMEND_*)."""
    commend = _report(date_from, date_to, unit)["commendations"]
    click.echo(json.dumps(commend, ensure_ascii=False, indent=2))


# -- quizzes ----------------------------------------------------------------------------
@quiz_cli.command("list")
def quiz_list() -> None:
    """Các bài thi và trạng thái (đang mở, sắp mở, đã đóng)."""
    config = current_app.config
    now = clock_now()
    for quiz in get_catalog(config).quizzes.values():
        click.echo(f"{quiz.id}: {quiz.title} — {len(quiz.questions)} câu — {quiz.status(now, config['TIMEZONE'])} "
                   f"({quiz.opens:%d/%m/%Y %H:%M} – {quiz.closes:%d/%m/%Y %H:%M})")


@quiz_cli.command("results")
@click.argument("quiz_id")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--unit", default=None, help="Chỉ đơn vị này (và cấp dưới).")
@click.option("--out", default=None, help="Ghi ra tệp thay vì màn hình.")
def quiz_results(quiz_id: str, fmt: str, unit: str | None, out: str | None) -> None:
    """Mọi lượt thi của một bài: kênh, mã người dùng, đơn vị, điểm, thời gian."""
    catalog = get_catalog(current_app.config)
    headers, rows = quiz_result_rows(get_store(), catalog.units, quiz_id, unit, tz=current_app.config["TIMEZONE"])
    if fmt == "csv":
        data = csv_bytes(headers, rows)
    else:
        data = json.dumps([dict(zip(headers, r)) for r in rows], ensure_ascii=False, indent=2).encode()
    if out:
        with open(out, "wb") as fh:
            fh.write(data)
        click.echo(f"Đã ghi {len(rows)} lượt thi vào {out}.")
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


# -- personal data ----------------------------------------------------------------------
@privacy_cli.command("purge")
def privacy_purge() -> None:
    """Xóa dữ liệu cá nhân của hội viên không nhắn tin quá DATA_RETENTION_MONTHS tháng."""
    from bot.participation.privacy import purge_silent_members

    store = get_store()
    with store.transaction():
        erased = purge_silent_members(store, current_app.config, clock_now())
    click.echo(f"Đã xóa dữ liệu cá nhân của {erased} hội viên.")


@privacy_cli.command("erase")
@click.option("--channel", required=True)
@click.option("--platform-id", required=True, help="Mã người dùng trên kênh (xem trong DỮ LIỆU CỦA TÔI).")
@click.confirmation_option(prompt="Xóa dữ liệu cá nhân của hội viên này? Không hoàn tác được.")
def privacy_erase(channel: str, platform_id: str) -> None:
    """Xóa dữ liệu cá nhân của một hội viên theo yêu cầu gửi tới cán bộ."""
    store = get_store()
    member = store.find_member(channel, platform_id)
    if member is None:
        raise click.ClickException("Không có hội viên này.")
    store.erase_member(member["id"], at=clock_now())
    click.echo("Đã xóa dữ liệu cá nhân.")


COMMANDS = (participation_cli, report_cli, quiz_cli, privacy_cli)
