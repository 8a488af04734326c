"""Backups of the SQLite database with SQLite's online backup API.

A backup taken while the server runs is consistent (SQLite copies a snapshot and
restarts the copy if a writer changed a page meanwhile); the copy is one
self-contained file (rollback journal, not WAL), private to the service user
(0600), checked with ``PRAGMA integrity_check`` and moved into place atomically.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3

from bot.storage.files import PRIVATE_FILE
from bot.storage.store import connect

REQUIRED_TABLES = ("members", "inbox", "outbox")


class BackupError(Exception):
    """A backup cannot be made, or a file is not a usable backup."""


def _pages(src: sqlite3.Connection, dest: sqlite3.Connection) -> None:
    src.backup(dest, pages=1024, sleep=0.005)  # in steps: writers are not blocked for the whole copy


def backup_database(db_path: str, out_path: str) -> dict[str, int]:
    """Copy the live database at ``db_path`` into ``out_path``; return its size and table count."""
    if not os.path.exists(db_path):
        raise BackupError(f"không có cơ sở dữ liệu {db_path}")
    out_path = os.path.abspath(out_path)
    folder = os.path.dirname(out_path)
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(out_path)}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        os.remove(tmp)
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    src = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    dest = sqlite3.connect(tmp, isolation_level=None)
    try:
        _pages(src, dest)
        dest.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
        info = check_backup_connection(dest)
    except (sqlite3.Error, BackupError):
        dest.close()
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
    finally:
        src.close()
    dest.close()
    os.replace(tmp, out_path)
    info["bytes"] = os.path.getsize(out_path)
    return info


def check_backup_connection(conn: sqlite3.Connection) -> dict[str, int]:
    result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        raise BackupError(f"tệp hỏng (integrity_check: {result})")
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        raise BackupError(f"không phải bản sao lưu của trợ lý (thiếu bảng {', '.join(missing)})")
    members = conn.execute("SELECT COUNT(*) FROM members").fetchone()[0]
    return {"tables": len(tables), "members": int(members)}


def check_backup(path: str) -> dict[str, int]:
    """Open ``path`` read-only and make sure it is a sound backup of this app's database."""
    if not os.path.isfile(path):
        raise BackupError(f"không có tệp {path}")
    try:
        conn = sqlite3.connect(f"file:{os.path.abspath(path)}?mode=ro", uri=True)
        try:
            return check_backup_connection(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"không phải tệp SQLite ({exc})") from None


def restore_database(backup_path: str, db_path: str, *, keep_as: str | None = None) -> dict[str, int]:
    """Replace the database at ``db_path`` with ``backup_path`` (run with the services stopped).

    The current database is first saved as ``keep_as`` (when it exists and a name is given).
    The copy goes through the backup API into the database file itself, so its -wal and
    -shm files stay consistent.  Migrations run at the next start (an older backup is upgraded).
    """
    info = check_backup(backup_path)
    if keep_as and os.path.exists(db_path):
        backup_database(db_path, keep_as)
    src = sqlite3.connect(f"file:{os.path.abspath(backup_path)}?mode=ro", uri=True)
    dest = connect(db_path)  # creates the file 0600 in a private folder if needed
    try:
        src.backup(dest.conn)
        dest.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        src.close()
        dest.conn.close()
    return info
