"""`flask db backup|restore|upgrade`: a backup taken while writers run is restored and the app starts on it."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading

import pytest

from app import create_app
from bot.storage.backup import (
    BackupError,
    backup_database,
    check_backup,
    restore_database,
)
from bot.storage.store import Store
from tests.conftest import platform_config


def test_backup_while_writing_then_restore_and_start_the_app_on_it(app, runner, store, clock, tmp_path):
    for i in range(50):
        store.touch_member("messenger", f"P{i}", at=clock.now())
    stop = threading.Event()

    def writer() -> None:  # the running server keeps writing during the backup
        own = Store.open(app.config.get("DATABASE_URL") or app.config["DATABASE_PATH"])
        i = 0
        while not stop.is_set():
            own.touch_member("zalo", f"Z{i}", at=clock.now())
            i += 1
        own.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        out = tmp_path / "backups" / "bot-1.db"
        result = runner.invoke(args=["db", "backup", "--out", str(out)])
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    assert "Đã sao lưu" in result.output
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert not os.path.exists(str(out) + "-wal")  # one self-contained file
    info = check_backup(str(out))
    assert info["members"] >= 50

    # restore into a fresh server's database and start the app on it
    restored = tmp_path / "restored" / "bot.db"
    new_app = create_app(platform_config("http://127.0.0.1:9", str(restored)), clock=clock)
    restore = new_app.test_cli_runner().invoke(args=["db", "restore", str(out), "--yes"])
    assert restore.exit_code == 0, restore.output
    assert "Đã phục hồi" in restore.output and "Bản cũ được giữ" in restore.output
    assert [p for p in os.listdir(restored.parent) if ".before-restore-" in p]
    started = create_app(platform_config("http://127.0.0.1:9", str(restored)), clock=clock)
    health = started.test_client().get("/healthz")
    assert health.status_code == 200 and health.get_json()["database"]["state"] == "ok"
    check = Store.open(str(restored))
    try:
        assert check.find_member("messenger", "P49") is not None
        assert check.db["members"].count == info["members"]
    finally:
        check.close()


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path, runner, app):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    result = runner.invoke(args=["db", "restore", str(junk), "--yes"])
    assert result.exit_code != 0 and "Không phục hồi được" in result.output
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(BackupError, match="thiếu bảng"):
        restore_database(str(other), app.config["DATABASE_PATH"])


def test_restore_asks_before_replacing(tmp_path, runner, app, store):
    out = tmp_path / "b.db"
    backup_database(app.config["DATABASE_PATH"], str(out))
    result = runner.invoke(args=["db", "restore", str(out)], input="n\n")
    assert result.exit_code != 0 and "dừng dịch vụ" in result.output


def test_db_upgrade_applies_pending_migrations_once(tmp_path, runner, app):
    app.config["DATABASE_PATH"] = str(tmp_path / "old" / "bot.db")  # a database no migration has touched
    Store.open(app.config.get("DATABASE_URL") or app.config["DATABASE_PATH"]).close()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0 and "Đã áp dụng" in result.output, result.output
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0 and "mới nhất" in result.output
