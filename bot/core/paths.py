"""Where the project lives, and how relative path settings are read.

A relative ``DATABASE_PATH`` or ``CONTENT_DIR`` always means a path inside the
project folder (the folder of ``app.py``), never the working folder: a cron job or
``flask users list`` run from another folder must reach the same database.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # the folder of app.py

PATH_SETTINGS = ("DATABASE_PATH", "CONTENT_DIR")


def resolve_path(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> str:
    """``path`` made absolute against the project folder (``:memory:`` and absolute paths unchanged)."""
    text = os.fspath(path)
    if text == ":memory:" or os.path.isabs(text):
        return text
    text = os.path.expanduser(text)
    if os.path.isabs(text):
        return text
    return os.path.normpath(os.path.join(os.fspath(root or PROJECT_ROOT), text))
