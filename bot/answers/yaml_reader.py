"""Reading the content files as YAML with line numbers, leniently, so the checker can report each problem."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import yaml

from bot.answers.model import ContentIssue

_YEAR = re.compile(r"^\d{4}$")


# -- parsing -----------------------------------------------------------------------


# libyaml's parser (PyYAML's wheels include it) reads the bank about five times faster than the pure-Python one; the
# bank is parsed at every start and every reload, and by every `flask content` command.  Whatever reads a bank file
# uses this one parser, so the checker and the editor never disagree on a file (libyaml takes a tab after a value);
# the evaluation sets and their judgments are read with it too.
BankLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LenientLoader(BankLoader):  # type: ignore[misc,valid-type]
    """SafeLoader whose impossible dates (2026-13-45) stay text, so the checker can report them."""


def _lenient_timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


LenientLoader.add_constructor("tag:yaml.org,2002:timestamp", _lenient_timestamp)


def parse_yaml(path: str, issues: list[ContentIssue], text: str | None = None) -> tuple[yaml.Node | None, Any]:
    """(node tree, data) of one YAML file (or of ``text``, reported as ``path``); a syntax error becomes an issue with its line."""
    if text is None:
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            issues.append(ContentIssue(path, 1, None, f"không đọc được tệp: {exc}"))
            return None, None
    loader = LenientLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        if exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
            problem += f" (phần bắt đầu ở dòng {exc.context_mark.line + 1})"  # e.g. an unclosed [
        if "\t" in (text.splitlines()[line - 1 : line] or [""])[0]:  # libyaml's message does not name the tab
            problem += " (dòng này có ký tự tab; YAML cần dấu cách)"
        issues.append(ContentIssue(path, line, None, f"lỗi cú pháp YAML: {problem}"))
        return None, None
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        issues.append(ContentIssue(path, 1, None, f"lỗi YAML: {exc}"))
        return None, None
    finally:
        loader.dispose()
    return node, data


def line_of_node(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def mapping_lines(node: yaml.MappingNode) -> tuple[dict[str, int], list[tuple[str, int]]]:
    """Line of each key's value, and keys that appear twice (YAML would keep the last)."""
    lines: dict[str, int] = {}
    duplicates = []
    for key_node, value_node in node.value:
        key = str(key_node.value)
        if key in lines:
            duplicates.append((key, line_of_node(key_node)))
        lines[key] = line_of_node(value_node)
    return lines, duplicates


def value_node(node: yaml.MappingNode, key: str) -> yaml.Node | None:
    """The value node of ``key`` in a mapping node (the last one, as YAML keeps)."""
    found = None
    for key_node, value_node in node.value:
        if key_node.value == key:
            found = value_node
    return found


def as_date(value: Any) -> dt.date | None:
    """A YAML date or ``YYYY-MM-DD`` text -> date (None if it is not one)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def source_date(value: Any) -> str | None:
    """A source date as "YYYY-MM-DD" or "YYYY"; None when it is not one."""
    if isinstance(value, int) and 1000 <= value <= 9999:
        return str(value)
    if isinstance(value, str) and _YEAR.match(value.strip()):
        return value.strip()
    day = as_date(value)
    return day.isoformat() if day else None


def string_list(value: Any) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        return None
    return [v.strip() for v in value]


def list_problem(name: str, value: Any) -> str:
    """Why ``value`` is not a list of texts, with the usual cause (an unquoted comma or number)."""
    if not isinstance(value, list):
        return f"{name} phải là một danh sách các câu chữ"
    bad = next(v for v in value if not (isinstance(v, str) and v.strip()))
    return (
        f"{name} phải là danh sách các câu chữ; mục {bad!r} không phải chữ"
        " (trong [a, b] dấu phẩy tách các mục: đặt trong ngoặc kép mục như \"1,852 km\")"
    )
