"""Where the app keeps its files, whatever the working folder, and who may read them."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys

from app import create_app
from bot.core.config import SETTINGS
from bot.core.paths import PROJECT_ROOT
from bot.storage.store import Store
from tests.conftest import ROOT


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_create_app_resolves_path_settings_against_the_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = create_app({"TESTING": True, "SECRET_KEY": "k" * 32, "DATABASE_PATH": ":memory:", "CONTENT_DIR": "content"})
    assert app.config["CONTENT_DIR"] == str(PROJECT_ROOT / "content")
    assert app.instance_path == str(PROJECT_ROOT / "instance")


def test_flask_from_another_folder_uses_the_project_relative_database(tmp_path):
    """A relative DATABASE_PATH, `flask` run from elsewhere: the file lands inside the project."""
    relative = f"instance/test-{os.getpid()}-{tmp_path.name}/bot.db"
    target = PROJECT_ROOT / relative
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in {s.name for s in SETTINGS}}
    env.update({"DATABASE_PATH": relative, "SECRET_KEY": "k" * 32})
    try:
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", str(ROOT / "app.py"), "outbox", "status"],
            check=False, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert target.exists()
        assert not (elsewhere / "instance").exists()
    finally:
        shutil.rmtree(target.parent, ignore_errors=True)  # the database and whatever sits beside it


def test_database_file_and_a_new_folder_are_private(tmp_path):
    path = tmp_path / "new" / "bot.db"
    old = os.umask(0o022)
    try:
        store = Store.open(str(path), migrate=True)
        store.close()
    finally:
        os.umask(old)
    assert mode(path.parent) == 0o700
    assert mode(path) == 0o600
    for suffix in ("-wal", "-shm"):
        extra = str(path) + suffix
        if os.path.exists(extra):
            assert mode(extra) == 0o600


def test_a_world_readable_database_from_an_older_version_is_tightened(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)
    path = shared / "bot.db"
    Store.open(str(path), migrate=True).close()
    os.chmod(path, 0o644)
    Store.open(str(path)).close()
    assert mode(path) == 0o600
    assert mode(shared) == 0o755  # a folder the app did not create (could be shared) is left alone


def test_session_key_is_kept_beside_the_database(tmp_path):
    db = tmp_path / "data" / "bot.db"
    app = create_app({"TESTING": True, "DATABASE_PATH": str(db)})
    key = db.parent / "secret_key"
    assert key.exists() and mode(key) == 0o600
    assert app.config["SECRET_KEY"] == key.read_text()
