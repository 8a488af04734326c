"""Spreadsheet cells that stay text: every CSV and XLSX the project writes goes through safe_cell."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A cell a spreadsheet will not run as a formula: text starting with = + - @ tab or CR gets a leading '.

    Names, display names and notes come from members and imports (a Zalo display name
    ``=HYPERLINK(...)`` must stay text).  Numbers stay numbers; None becomes "".
    """
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in row]
