"""Replies stay phone-sized: tools/reply_sizes.py measured over the shipped bank."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from bot.core.config import load_config

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("reply_sizes", ROOT / "tools" / "reply_sizes.py")
reply_sizes = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("reply_sizes", reply_sizes)  # dataclasses look their module up there
_spec.loader.exec_module(reply_sizes)


def test_shipped_replies_meet_the_size_targets():
    report = reply_sizes.measure(ROOT / "content", load_config({}))
    assert len(report.measures) >= 180
    assert report.median <= reply_sizes.MEDIAN_TARGET == 650
    assert report.maximum <= reply_sizes.MAX_TARGET == 1100, [(m.entry_id, m.chars) for m in report.over]
    assert report.p90 <= report.maximum


def test_rendered_chars_counts_texts_buttons_and_quick_replies():
    messages = [
        {"text": "abc"},
        {"attachment": {"type": "template", "payload": {"text": "de", "buttons": [{"title": "Xem"}]}},
         "quick_replies": [{"title": "Menu"}, {"title": "Khác"}]},
    ]
    assert reply_sizes.rendered_chars(messages) == 3 + 2 + 3 + 4 + 4


def test_the_script_prints_the_figures(capsys):
    assert reply_sizes.main(["--content", str(ROOT / "content")]) == 0
    out = capsys.readouterr().out
    assert "trung vị:" in out and "p90:" in out and "dài nhất:" in out and "trên 1100 ký tự: 0" in out
