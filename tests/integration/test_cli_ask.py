"""`flask ask` and `flask chat`: the bot's replies from the command line."""

from __future__ import annotations

import json

from tests import dbcheck


def test_ask_prints_a_sourced_answer_without_the_greeting(runner, store):
    result = runner.invoke(args=["ask", "truong sa thuoc tinh nao vay ad"])
    assert result.exit_code == 0, result.output
    assert "Khánh Hòa" in result.output and "Nguồn:" in result.output
    assert "Xin chào" not in result.output
    assert dbcheck.value(store, "SELECT count(*) FROM questions") == 0  # nothing is written to the app's database


def test_ask_json_reads_lines_and_prints_one_object_per_line(runner):
    lines = "truong sa thuoc tinh nao vay ad\n\nhôm nay trời có mưa không\n"
    result = runner.invoke(args=["ask", "--json"], input=lines)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["question"] for r in rows] == ["truong sa thuoc tinh nao vay ad", "hôm nay trời có mưa không"]
    answered, off_topic = rows
    assert answered["entry_id"] == "hs-ts-truong-sa-thuoc-dau" and answered["score"] >= 0.4
    assert "Nguồn:" in answered["reply"]
    assert off_topic["entry_id"] is None and off_topic["decision"] == "fallback"
    assert off_topic["reply"]  # the fallback text a member would see


def test_ask_without_text_is_a_usage_error(runner):
    result = runner.invoke(args=["ask"])
    assert result.exit_code != 0 and "flask ask" in result.output


def test_chat_answers_and_ends_on_thoat(runner):
    result = runner.invoke(args=["chat"], input="bờ biển việt nam dài bao nhiêu km\nthoát\n")
    assert result.exit_code == 0, result.output
    assert "DỪNG" in result.output  # the greeting
    assert "3.260" in result.output  # the coastline answer
