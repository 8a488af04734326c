"""Relative path settings mean the project folder, never the working folder."""

from __future__ import annotations

import os

from bot.core.paths import PROJECT_ROOT, resolve_path


def test_project_root_is_the_folder_of_app_py():
    assert (PROJECT_ROOT / "app.py").is_file()


def test_relative_paths_resolve_against_the_project_folder_whatever_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_path("instance/bot.db") == str(PROJECT_ROOT / "instance" / "bot.db")
    assert resolve_path("content") == str(PROJECT_ROOT / "content")
    assert resolve_path("./data/../instance/x.db") == str(PROJECT_ROOT / "instance" / "x.db")


def test_absolute_paths_and_memory_are_kept(tmp_path):
    assert resolve_path(str(tmp_path / "b.db")) == str(tmp_path / "b.db")
    assert resolve_path(":memory:") == ":memory:"
    assert resolve_path("x.db", root=tmp_path) == str(tmp_path / "x.db")
    assert resolve_path("~/x.db") == os.path.expanduser("~/x.db")
