"""The organisation's unit tree (content/units.yaml): city or province -> commune -> chi hội.

Codes are dotted paths (``CT``, ``CT.PHULOI``, ``CT.PHULOI.CH01``): a unit's parent
is its code without the last part, and "a unit with its sub-units" is every code
equal to it or starting with it plus a dot (the broadcast audience ``unit:CODE``
and the reports use the same rule).
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from typing import Any

from bot.answers.bank import ContentIssue
from bot.core.text import fold_words
from bot.core.units import unit_within
from bot.participation.catalog_yaml import (
    line_of,
    read_list_file,
    text_value,
    unknown_keys,
)

UNITS_FILE = "units.yaml"
CODE_RE = re.compile(r"^[A-Z0-9_]+(?:\.[A-Z0-9_]+)*$")
KINDS = {
    "city": "Thành phố",
    "province": "Tỉnh",
    "ward": "Phường",
    "commune": "Xã",
    "special_zone": "Đặc khu",
    "branch": "Chi hội",
    "other": "Đơn vị",
}
# the level each kind normally sits at (1 = top); a mismatch is a warning
KIND_LEVEL = {"city": 1, "province": 1, "ward": 2, "commune": 2, "special_zone": 2, "branch": 3}
UNIT_FIELDS = ("code", "name", "kind")


@dataclass(frozen=True)
class Unit:
    """One unit of the organisation."""

    code: str
    name: str
    kind: str

    @property
    def parent_code(self) -> str | None:
        return self.code.rsplit(".", 1)[0] if "." in self.code else None

    @property
    def level(self) -> int:
        return self.code.count(".") + 1


@dataclass
class UnitTree:
    """The units by code, with search and the sub-unit rule."""

    units: dict[str, Unit] = field(default_factory=dict)
    sample: bool = False

    def get(self, code: str | None) -> Unit | None:
        return self.units.get(code or "")

    def children(self, code: str | None) -> list[Unit]:
        """Direct sub-units of ``code`` (None: the top-level units), in file order."""
        return [u for u in self.units.values() if u.parent_code == code]

    def is_within(self, code: str | None, scope: str | None) -> bool:
        """True if ``code`` is ``scope`` or one of its sub-units (scope None: everything)."""
        return unit_within(code, scope)

    def path(self, code: str | None) -> list[Unit]:
        """The unit and its ancestors, top first (unknown codes are skipped)."""
        chain: list[Unit] = []
        current = code
        while current:
            unit = self.units.get(current)
            if unit is not None:
                chain.append(unit)
            current = current.rsplit(".", 1)[0] if "." in current else None
        return list(reversed(chain))

    def label(self, code: str | None, *, top: bool = False) -> str:
        """'Chi hội Khóm 1 – Phường Phú Lợi' (the city is left out unless ``top``)."""
        if not code:
            return "Chưa khai báo"
        chain = self.path(code)
        if not chain:
            return f"{code} (không còn trong danh mục)"
        if not top and len(chain) > 1:
            chain = chain[1:]
        return " – ".join(u.name for u in reversed(chain))

    def search(self, query: str, limit: int = 8) -> tuple[list[Unit], int]:
        """Units whose name (or name with its parents') contains ``query``, diacritics ignored.

        Returns (best matches up to ``limit``, number of matches).  Units whose own
        name matches come first, then deeper units (members belong to a chi hội).
        """
        words = fold_words(query).split()
        if not words:
            return [], 0
        exact = self.units.get(query.strip().upper())
        if exact is not None:
            return [exact], 1
        scored: list[tuple[int, int, str, Unit]] = []
        for unit in self.units.values():
            own = fold_words(unit.name)
            # the top level (the city) is left out: every unit would match "Cần Thơ"
            path = fold_words(" ".join(u.name for u in self.path(unit.code)[1:]) or unit.name)
            if all(w in path for w in words):
                own_hit = all(w in own for w in words)
                scored.append((0 if own_hit else 1, -unit.level, unit.code, unit))
        scored.sort(key=lambda t: t[:3])
        return [t[3] for t in scored[:limit]], len(scored)


class UnknownUnitError(ValueError):
    """A unit code typed by staff that is not in content/units.yaml (the message suggests near misses)."""


def suggest_units(tree: UnitTree, text: str, limit: int = 3) -> list[Unit]:
    """Units staff probably meant by ``text``: a code with a typo, a code part, or a name."""
    key = text.strip().upper()
    compact = re.sub(r"[^A-Z0-9]", "", fold_words(text).upper())
    found: list[str] = []
    # "Phu Loi" / "PHULOI" / "ct phuloi": the code written without its dots, or its last part
    found += [c for c in tree.units if compact and (c.replace(".", "") == compact or c.rsplit(".", 1)[-1] == compact)]
    found += difflib.get_close_matches(key, list(tree.units), n=limit, cutoff=0.75)  # "CT.PHULOl", "CT.PHULOI.CH1"
    words = fold_words(text).split()
    matches, _ = tree.search(text, 20)
    own = sorted((u for u in matches if all(w in fold_words(u.name) for w in words)), key=lambda u: u.level)
    found += [u.code for u in own] + [u.code for u in matches]
    found += difflib.get_close_matches(key, list(tree.units), n=limit, cutoff=0.5)
    seen: list[str] = []
    for code in found:
        if code not in seen:
            seen.append(code)
    return [tree.units[c] for c in seen[:limit]]


def check_unit_code(tree: UnitTree, text: str | None) -> str:
    """The unit code ``text`` names (upper-cased), or :class:`UnknownUnitError` with suggestions.

    Only codes are accepted (a broadcast to a name that matches nothing would reach no one).
    """
    value = (text or "").strip()
    if not value:
        raise UnknownUnitError("Thiếu mã đơn vị.")
    if value.upper() in tree.units:
        return value.upper()
    message = f"Không có đơn vị '{value}'."
    hints = suggest_units(tree, value)
    if hints:
        message += " Có phải: " + ", ".join(f"{u.code} ({tree.label(u.code)})" for u in hints) + "?"
    else:
        message += " Mã đơn vị có trong content/units.yaml, ví dụ " + ", ".join(list(tree.units)[:2]) + "."
    raise UnknownUnitError(message)


def units_path(content_dir: str | os.PathLike[str]) -> str:
    return os.path.join(str(content_dir), UNITS_FILE)


def parse_units(content_dir: str | os.PathLike[str]) -> tuple[UnitTree, list[ContentIssue]]:
    """Read and validate content/units.yaml; invalid units are left out of the tree."""
    path = units_path(content_dir)
    issues: list[ContentIssue] = []
    tree = UnitTree()
    data = read_list_file(
        path, "units", missing="thiếu tệp danh mục đơn vị (units.yaml)",
        shape="tệp cần khóa 'units:' là một danh sách đơn vị", issues=issues,
    )
    if data is None:
        return tree, issues
    tree.sample = bool(data.get("sample"))
    pending: list[tuple[Unit, int]] = []
    for item in data["units"]:
        line = line_of(item)
        if not isinstance(item, dict):
            issues.append(ContentIssue(path, line, None, "mỗi đơn vị là một mục có code, name, kind"))
            continue
        code = text_value(item.get("code"))
        for key in unknown_keys(item, UNIT_FIELDS):
            issues.append(ContentIssue(path, line, code or None, f"khóa không dùng: {key}", "warning"))
        name = text_value(item.get("name"))
        kind = text_value(item.get("kind")) or "other"
        problems = []
        if not CODE_RE.match(code):
            problems.append(f"mã đơn vị '{code}' không hợp lệ (chữ in hoa, số, gạch dưới, nối bằng dấu chấm)")
        if not name:
            problems.append("thiếu tên đơn vị (name)")
        if kind not in KINDS:
            problems.append(f"loại đơn vị '{kind}' không hợp lệ (có: {', '.join(KINDS)})")
        if code in tree.units or any(u.code == code for u, _ in pending):
            problems.append(f"mã đơn vị '{code}' bị trùng")
        for message in problems:
            issues.append(ContentIssue(path, line, code or None, message))
        if not problems:
            pending.append((Unit(code, name, kind), line))
    codes = {u.code for u, _ in pending}
    for unit, line in pending:
        if unit.parent_code and unit.parent_code not in codes:
            issues.append(ContentIssue(path, line, unit.code, f"không có đơn vị cấp trên '{unit.parent_code}'"))
            continue
        expected = KIND_LEVEL.get(unit.kind)
        if expected and expected != unit.level:
            issues.append(ContentIssue(path, line, unit.code, f"loại '{unit.kind}' thường ở cấp {expected}, mã này ở cấp {unit.level}", "warning"))
        tree.units[unit.code] = unit
    # a unit whose parent was rejected is rejected too: drop codes left without a parent
    for code in sorted(tree.units, key=len):
        parent = tree.units[code].parent_code
        if parent and parent not in tree.units:
            del tree.units[code]
    if not tree.units:
        issues.append(ContentIssue(path, 1, None, "danh mục không có đơn vị nào hợp lệ"))
    return tree, issues


def check_units(content_dir: str | os.PathLike[str]) -> list[ContentIssue]:
    """Every problem of content/units.yaml (for `flask content check`)."""
    return parse_units(content_dir)[1]


def unit_as_dict(tree: UnitTree, unit: Unit) -> dict[str, Any]:
    return {
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "kind_label": KINDS.get(unit.kind, ""),
        "parent": unit.parent_code,
        "label": tree.label(unit.code, top=True),
    }
