"""The database file and its folder private to the service user (0600 / 0700)."""

from __future__ import annotations

import contextlib
import os

from bot.core.paths import PROJECT_ROOT

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700


def make_private(path: str) -> None:
    """The database (tokens, members' personal data) and its folder readable by the service user only.

    A folder the app creates is 0700; the project's own ``instance/`` is tightened too
    (never a shared folder such as /tmp). The file is created 0600 before SQLite opens
    it; SQLite gives its -wal and -shm files the database's mode.  A file this user
    owns that is still readable by others (made by an older version) is tightened.
    """
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        os.makedirs(folder, mode=PRIVATE_FOLDER, exist_ok=True)
        os.chmod(folder, PRIVATE_FOLDER)  # makedirs' mode is filtered by the umask
    elif folder == str(PROJECT_ROOT / "instance"):
        tighten(folder, PRIVATE_FOLDER)
    if not os.path.exists(path):
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    for name in (path, path + "-wal", path + "-shm"):
        tighten(name, PRIVATE_FILE)


def tighten(path: str, mode: int) -> None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    if st.st_mode & 0o077 and st.st_uid == os.geteuid():
        with contextlib.suppress(OSError):
            os.chmod(path, mode)
