"""Reading the participation content files (units, quizzes, contests) with line numbers.

Problems are reported as :class:`bot.answers.bank.ContentIssue`, the same type
`flask content check` prints for the answer bank.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from typing import Any

import yaml

from bot.answers.bank import ContentIssue
from bot.answers.yaml_reader import as_date

LINE = "__line__"
_URL = re.compile(r"^https?://[^\s/]+\S*$")


class _LineLoader(yaml.SafeLoader):
    """A safe loader that records the line of every mapping under ``__line__``."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        mapping[LINE] = node.start_mark.line + 1
        return mapping


def read_yaml(path: str, issues: list[ContentIssue]) -> Any:
    """The data of one YAML file (mappings carry ``__line__``); problems become issues."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        issues.append(ContentIssue(path, 1, None, "không có tệp"))
        return None
    except (OSError, UnicodeDecodeError) as exc:
        issues.append(ContentIssue(path, 1, None, f"không đọc được tệp: {exc}"))
        return None
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        issues.append(ContentIssue(path, mark.line + 1 if mark else 1, None, f"lỗi cú pháp YAML: {problem}"))
    except yaml.YAMLError as exc:
        issues.append(ContentIssue(path, 1, None, f"lỗi YAML: {exc}"))
    return None


def read_list_file(path: str, key: str, *, missing: str, shape: str, issues: list[ContentIssue]) -> Any:
    """The YAML mapping of an optional file whose ``key`` must be a list, or None.

    A missing file is a warning (``missing`` names it); a file without a list under
    ``key`` is an error (``shape`` says what was expected).
    """
    if not os.path.exists(path):
        issues.append(ContentIssue(path, 1, None, missing, "warning"))
        return None
    data = read_yaml(path, issues)
    if data is None:
        return None
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        issues.append(ContentIssue(path, 1, None, shape))
        return None
    return data


def line_of(item: Any, default: int = 1) -> int:
    return int(item.get(LINE, default)) if isinstance(item, dict) else default


def unknown_keys(item: dict[str, Any], allowed: tuple[str, ...]) -> list[str]:
    return [str(k) for k in item if k != LINE and k not in allowed]


def text_value(value: Any) -> str:
    """A scalar as stripped text ('' for None); numbers are accepted as text."""
    if value is None:
        return ""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return " ".join(str(value).split())
    return ""


def is_url(value: str) -> bool:
    return bool(_URL.match(value))


def parse_local_datetime(value: Any, *, end_of_day: bool = False) -> dt.datetime | None:
    """``2026-11-01``, ``2026-11-01 07:30`` or a YAML date/datetime -> naive local datetime.

    A bare date means the start of that day, or its last second with ``end_of_day``.
    Returns None for a value that is not a date.
    """
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        day = dt.datetime(value.year, value.month, value.day)
        return day.replace(hour=23, minute=59, second=59) if end_of_day else day
    if not isinstance(value, str):
        return None
    text = value.strip()
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"):
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        day = dt.datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        return None
    return day.replace(hour=23, minute=59, second=59) if end_of_day else day


parse_date = as_date  # one date reader for every content file
