"""`flask db backup|restore|upgrade`: the database's backups and schema."""

from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import AppGroup

from bot.core.config import database_target
from bot.storage.backup import BackupError, backup_database, restore_database
from bot.storage.store import Store
from bot.web.context import get_services

db_cli = AppGroup("db", help="Sao lưu, phục hồi và nâng cấp cơ sở dữ liệu / database backup, restore, upgrade.")


def _database() -> str:
    if current_app.config.get("DATABASE_URL"):
        raise click.ClickException(
            "DATABASE_URL trỏ tới PostgreSQL: hãy sao lưu và phục hồi bằng pg_dump / pg_restore."
        )
    path = current_app.config["DATABASE_PATH"]
    if path == ":memory:":
        raise click.ClickException("DATABASE_PATH là :memory:, không có gì để sao lưu.")
    return path


@db_cli.command("backup")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Tệp sao lưu (ghi đè nếu đã có).")
def db_backup(out: str) -> None:
    """Copy the database into OUT (consistent while the server runs; the file is 0600)."""
    try:
        info = backup_database(_database(), out)
    except BackupError as exc:
        raise click.ClickException(f"Không sao lưu được: {exc}") from None
    click.echo(f"Đã sao lưu vào {os.path.abspath(out)}: {info['bytes']:,} byte, {info['members']:,} thành viên.".replace(",", "."))


@db_cli.command("restore")
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Không hỏi lại.")
def db_restore(backup_file: str, yes: bool) -> None:
    """Replace the database with BACKUP_FILE. Stop both services first.

    The current database is kept beside it as bot.db.before-restore-<time>.
    """
    path = _database()
    if not yes:
        click.confirm(
            f"Thay cơ sở dữ liệu {path} bằng {backup_file}? Hãy dừng dịch vụ (systemctl stop) trước.", abort=True
        )
    keep = f"{path}.before-restore-{get_services().clock.local(current_app.config['TIMEZONE']).strftime('%Y%m%d-%H%M%S')}" if os.path.exists(path) else None
    try:
        info = restore_database(backup_file, path, keep_as=keep)
    except BackupError as exc:
        raise click.ClickException(f"Không phục hồi được: {exc}") from None
    store = Store.open(path, migrate=True)  # an older backup is brought up to this version's schema
    store.close()
    if keep:
        click.echo(f"Bản cũ được giữ ở {keep}.")
    click.echo(f"Đã phục hồi {path} từ {backup_file}: {info['members']:,} thành viên.".replace(",", "."))


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply pending schema migrations (they also run at every start)."""
    target = database_target(current_app.config)
    if target == ":memory:":
        _database()  # the same refusal as backup
    store = Store.open(target)
    try:
        applied = store.migrate()
    finally:
        store.close()
    click.echo(f"Đã áp dụng {applied} bước nâng cấp." if applied else "Cơ sở dữ liệu đã ở phiên bản mới nhất.")
