"""`flask content export` (YAML) and `flask content import`: the bank in the database and the YAML in Git.

With CONTENT_STORE=database the console saves entries in the database.  ``export`` writes them
back into content/bank/*.yaml (an unchanged entry keeps its lines and comments byte for byte),
so the edits can be reviewed and committed; ``import`` replaces the database's entries with the
YAML after checking it (nothing changes when it has errors).  In files mode the YAML already is
the bank: both commands say so and stop.
"""

from __future__ import annotations

import os

import click

from bot.answers.bank import check_content
from bot.answers.stored_sync import (
    ImportPlan,
    export_texts,
    folder_entries,
    plan_import,
)
from bot.answers.yaml_writer import locked, write_atomic
from bot.web.content_db import DatabaseEntrySource
from bot.web.context import clock_now, get_services, get_store

IMPORTED_BY = "flask content import"
LISTED = 20  # ids shown per kind of change


def _database_source(content_dir: str) -> DatabaseEntrySource:
    source = get_services().content_source
    if source is None:
        click.echo(
            "Lệnh này chỉ dùng khi kho nội dung nằm trong cơ sở dữ liệu (CONTENT_STORE=database). Hiện kho là các tệp"
            f" YAML trong {content_dir}: trang quản trị sửa thẳng vào tệp, chỉ cần đưa tệp vào Git.",
            err=True,
        )
        raise SystemExit(1)
    return source


def export_yaml(content_dir: str) -> None:
    """Write the database's entries into ``content_dir``/bank/*.yaml."""
    source = _database_source(content_dir)
    _, entries = source.entries()
    with locked(os.path.abspath(content_dir)):
        changes = export_texts(content_dir, entries)
        for path, text in changes.items():
            write_atomic(path, text)
    files = len({e.file for e in entries})
    where = os.path.join(content_dir, "bank")
    if changes:
        names = ", ".join(os.path.basename(p) for p in changes)
        click.echo(f"Đã xuất {len(entries)} mục ({files} tệp) ra {where}: {len(changes)} tệp thay đổi ({names}).")
    else:
        click.echo(f"Đã xuất {len(entries)} mục ({files} tệp) ra {where}: các tệp đã khớp với cơ sở dữ liệu, không tệp nào thay đổi.")


def import_yaml(content_dir: str, *, dry_run: bool) -> None:
    """Replace the database's entries with the YAML of ``content_dir`` (checked first)."""
    source = _database_source(content_dir)
    errors = [i for i in check_content(content_dir) if i.is_error]
    if errors:
        for issue in errors:
            click.echo(str(issue), err=True)
        click.echo(
            f"Không nhập: các tệp YAML có {len(errors)} lỗi (liệt kê ở trên). Sửa lỗi rồi chạy lại;"
            " cơ sở dữ liệu không thay đổi.",
            err=True,
        )
        raise SystemExit(1)
    incoming = folder_entries(content_dir)
    for _ in range(5):
        revision, current = source.entries()
        plan = plan_import(current, incoming, at=clock_now(), by=IMPORTED_BY)
        _report(plan, len(incoming), dry_run=dry_run)
        if dry_run or not plan.anything:
            return
        rows = [e.row() for e in plan.entries]
        if get_store().content_replace(rows, expected_revision=revision, at=clock_now(), by=IMPORTED_BY) is not None:
            bank = get_services().bank
            if bank is not None:
                bank.reload()
            click.echo("Đã nhập. Mọi máy chủ dùng kho mới trong vài giây.")
            return
        click.echo("Kho vừa được sửa trên trang quản trị trong lúc nhập; so sánh lại.")
    click.echo("Không nhập được: kho đang được sửa liên tục. Chạy lại sau ít phút.", err=True)
    raise SystemExit(1)


def _report(plan: ImportPlan, total: int, *, dry_run: bool) -> None:
    prefix = "Chạy thử (chưa ghi gì): " if dry_run else ""
    click.echo(
        f"{prefix}{total} mục trong YAML; thêm {len(plan.added)}, sửa {len(plan.changed)}, xóa {len(plan.removed)} mục"
        + (f", {plan.moved} mục đổi chỗ trong tệp" if plan.moved else "") + "."
    )
    for label, ids in (("thêm", plan.added), ("sửa", plan.changed), ("xóa", plan.removed)):
        if ids:
            more = f" và {len(ids) - LISTED} mục khác" if len(ids) > LISTED else ""
            click.echo(f"  {label}: {', '.join(ids[:LISTED])}{more}")
    if not plan.anything:
        click.echo("Cơ sở dữ liệu đã khớp với các tệp YAML: không có gì để nhập.")
