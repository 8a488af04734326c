"""Importing contest participation lists (CSV: name, phone, unit, contest, date [, result]).

Every data row ends in exactly one of three lists of the report: added, merged
(a duplicate of an earlier row of the file or of a row already stored) or
rejected, with every reason.  Nothing is dropped silently.  Vietnamese headers
are accepted ("Họ và tên", "Số điện thoại", "Đơn vị", "Cuộc thi", "Ngày").
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import time
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.people import clean_name, normalise_phone
from bot.core.text import fold_words
from bot.participation.catalog import Catalog
from bot.participation.units import suggest_units
from bot.storage.store import Store

MAX_ROWS = 50_000
COLUMNS = {
    "name": ("name", "full name", "ho ten", "ho va ten", "ten", "hoi vien"),
    "phone": ("phone", "so dien thoai", "dien thoai", "sdt", "so dt"),
    "unit": ("unit", "don vi", "chi hoi", "ma don vi", "unit code"),
    "contest": ("contest", "cuoc thi", "ma cuoc thi", "ten cuoc thi"),
    "date": ("date", "ngay", "ngay tham gia", "ngay du thi"),
    "result": ("result", "ket qua", "ghi chu", "note"),
}
REQUIRED = ("name", "unit", "contest", "date")


class ImportFileError(ValueError):
    """The file as a whole cannot be read (encoding, missing columns): nothing was imported."""


CHUNK_ROWS = 200  # rows per write transaction of an import (tens of milliseconds)
# Pause between two write transactions: a writer of another process waiting on the lock
# (a webhook) polls every few tens of milliseconds and must find it free.
CHUNK_PAUSE_SECONDS = 0.05


@dataclass
class ImportReport:
    filename: str
    dry_run: bool
    total: int = 0
    blank_lines: list[int] = field(default_factory=list)
    added: list[dict[str, Any]] = field(default_factory=list)
    merged: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    import_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "filename": self.filename, "dry_run": self.dry_run, "import_id": self.import_id, "total_rows": self.total,
            "added": len(self.added), "merged": len(self.merged), "rejected": len(self.rejected),
            "blank_lines": self.blank_lines, "rejected_rows": self.rejected, "merged_rows": self.merged,
            "warnings": self.warnings,
        }

    def text(self) -> str:
        """The validation report for the terminal."""
        lines = [
            f"{self.filename}: {self.total} dòng dữ liệu — thêm mới {len(self.added)}, gộp trùng {len(self.merged)}, "
            f"bị loại {len(self.rejected)}" + (" (CHẠY THỬ: chưa ghi gì)" if self.dry_run else "")
        ]
        if self.blank_lines:
            lines.append(f"Dòng trống bỏ qua: {', '.join(map(str, self.blank_lines))}")
        for r in self.rejected:
            lines.append(f"  LOẠI dòng {r['line']}: {'; '.join(r['reasons'])}  [{', '.join(str(v) for v in r['row'].values())}]")
        for m in self.merged:
            lines.append(f"  GỘP dòng {m['line']}: {m['reason']}")
        for w in self.warnings:
            lines.append(f"  LƯU Ý dòng {w['line']}: {w['warning']}")
        return "\n".join(lines)


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            "Tệp không phải CSV mã UTF-8. Trong Excel chọn Lưu thành (Save As) → “CSV UTF-8 (Comma delimited)”."
        ) from None


def _header_map(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        folded = fold_words(name)
        for key, names in COLUMNS.items():
            if folded in names and key not in found:
                found[key] = index
    missing = [k for k in REQUIRED if k not in found]
    if missing:
        raise ImportFileError(
            f"Thiếu cột: {', '.join(missing)}. Dòng đầu cần các cột: name (họ tên), phone (số điện thoại), unit (đơn vị: "
            "mã hoặc tên), contest (cuộc thi: mã hoặc tên), date (ngày, dd/mm/yyyy); cột result (kết quả) không bắt buộc."
        )
    return found


def _parse_date(text: str) -> dt.date | None:
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def resolve_unit(catalog: Catalog, text: str) -> tuple[str | None, str | None]:
    """(unit code, None) or (None, why not): a code, an exact name or label, or a single search hit."""
    units = catalog.units
    value = text.strip()
    if not value:
        return None, "thiếu đơn vị"
    if value.upper() in units.units:
        return value.upper(), None
    folded = fold_words(value)
    exact = [u for u in units.units.values()
             if folded in (fold_words(u.name), fold_words(units.label(u.code)), fold_words(units.label(u.code, top=True)))]
    if len(exact) == 1:
        return exact[0].code, None
    if len(exact) > 1:
        return None, f"tên đơn vị “{value}” có ở nhiều nơi, hãy ghi mã: {', '.join(u.code for u in exact[:5])}"
    matches, total = units.search(value, 50)
    own = [u for u in matches if all(w in fold_words(u.name) for w in folded.split())]
    if total == 1 or len(own) == 1:  # "Phú Lợi": the ward, not the chi hội under it
        return (matches[0] if total == 1 else own[0]).code, None
    matches = matches[:5]
    if total > 1:
        return None, f"“{value}” khớp {total} đơn vị, hãy ghi mã hoặc tên đầy đủ: {', '.join(u.code for u in matches)}"
    hints = suggest_units(units, value)
    maybe = "; có phải: " + ", ".join(f"{u.code} ({units.label(u.code)})" for u in hints) + "?" if hints else ""
    return None, f"không có đơn vị “{value}” trong danh mục{maybe}"


def resolve_contest(catalog: Catalog, text: str) -> tuple[str | None, str | None]:
    value = text.strip()
    if not value:
        return None, "thiếu cuộc thi"
    if value in catalog.contests:
        return value, None
    folded = fold_words(value)
    hits = [c.id for c in catalog.contests.values() if fold_words(c.name) == folded or fold_words(c.id) == folded]
    if len(hits) == 1:
        return hits[0], None
    return None, f"không có cuộc thi “{value}” (dùng mã trong content/contests.yaml)"


def import_participation(
    store: Store, catalog: Catalog, data: bytes, *, filename: str, now: float, tz: str, by: str = "",
    dry_run: bool = False, scope: str | None = None,
) -> ImportReport:
    """Validate and import a CSV participation list; ``scope`` limits the units staff may import for."""
    text = decode(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as exc:  # a field over csv.field_size_limit() (131,072 characters), a stray quote...
        if "field larger than field limit" in str(exc):
            limit = f"{csv.field_size_limit():,}".replace(",", ".")
            raise ImportFileError(
                f"Tệp có một ô dài quá {limit} ký tự (thường do thiếu dấu ngoặc kép đóng); kiểm tra lại tệp."
            ) from None
        raise ImportFileError(f"Tệp CSV không đọc được: {exc}.") from None
    if not rows:
        raise ImportFileError("Tệp trống.")
    columns = _header_map(rows[0])
    if len(rows) - 1 > MAX_ROWS:
        raise ImportFileError(f"Tệp có {len(rows) - 1} dòng; mỗi lần nhập tối đa {MAX_ROWS} dòng.")
    report = ImportReport(filename=filename, dry_run=dry_run)
    today = dt.datetime.fromtimestamp(now, ZoneInfo(tz)).date()
    seen: dict[tuple[str, ...], dict[str, Any]] = {}
    # A dry run only reads.  A real import writes in short transactions of CHUNK_ROWS
    # rows: a 50,000-row file never holds the write lock long enough to delay a webhook.
    import_id = None if dry_run else store.log_import(filename=filename, at=now, by=by, total=0, added=0, merged=0, reasons=[])
    lines = list(enumerate(rows[1:], 2))
    for start in range(0, len(lines), CHUNK_ROWS):
        with contextlib.nullcontext() if dry_run else store.transaction():
            for line, raw in lines[start : start + CHUNK_ROWS]:
                if not any(cell.strip() for cell in raw):
                    report.blank_lines.append(line)
                    continue
                report.total += 1
                _import_row(store, catalog, report, seen, line, raw, columns, today=today, now=now, scope=scope,
                            import_id=import_id, dry_run=dry_run)
        if not dry_run and start + CHUNK_ROWS < len(lines):
            time.sleep(CHUNK_PAUSE_SECONDS)
    if import_id is not None:
        reasons = [[r["line"], "; ".join(r["reasons"])] for r in report.rejected]
        store.finish_import(import_id, total=report.total, added=len(report.added), merged=len(report.merged), reasons=reasons)
        report.import_id = import_id
    return report


def _import_row(
    store: Store, catalog: Catalog, report: ImportReport, seen: dict[tuple[str, ...], dict[str, Any]], line: int,
    raw: list[str], columns: dict[str, int], *, today: dt.date, now: float, scope: str | None, import_id: int | None,
    dry_run: bool = False,
) -> None:
    def cell(key: str) -> str:
        index = columns.get(key)
        return " ".join(raw[index].split()) if index is not None and index < len(raw) else ""

    values = {key: cell(key) for key in COLUMNS if key in columns}
    name, phone, unit, contest_id, day, reasons = _validate_row(catalog, values, today=today, scope=scope)
    if reasons:
        report.rejected.append({"line": line, "reasons": reasons, "row": values})
        return
    assert name and unit and contest_id and day
    contest = catalog.contests[contest_id]
    if (contest.starts and day < contest.starts and "starts" not in contest.unverified) or (
        contest.ends and day > contest.ends and "ends" not in contest.unverified
    ):
        report.warnings.append({"line": line, "warning": f"ngày {day.strftime('%d/%m/%Y')} ngoài thời gian của cuộc thi"})
    result = values.get("result", "")
    key = (contest_id, phone) if phone else (contest_id, fold_words(name), unit)
    if key in seen:
        first = seen[key]
        if result and not first["result"]:
            first["result"] = result
            if first.get("id") and not dry_run:
                store.update_participation(first["id"], at=now, result=result)
        report.merged.append({"line": line, "reason": f"trùng với dòng {first['line']} của tệp, đã gộp", "with_line": first["line"]})
        return
    existing = store.find_imported_participation(contest_id, phone=phone, name_unit=None if phone else (name, unit))
    if existing is not None:
        updates: dict[str, Any] = {}
        if result and result != existing["result"]:
            updates["result"] = result
        if not existing["participated_on"]:
            updates["participated_on"] = day.isoformat()
        if updates and not dry_run:
            store.update_participation(existing["id"], at=now, **updates)
        seen[key] = {"line": line, "result": result or existing["result"], "id": existing["id"]}
        source = "do hội viên tự báo qua chatbot" if existing["source"] == "chat" else "đã nhập trước đó"
        report.merged.append({"line": line, "reason": f"trùng với lượt tham gia {source}, đã gộp", "participation_id": existing["id"]})
        return
    member = store.member_by_phone(phone) if phone else None
    participation_id = None if dry_run else store.add_participation(
        contest_id=contest_id, member_id=member["id"] if member else None, source="import", at=now,
        participated_on=day.isoformat(), unit_code=unit, full_name=name, phone=phone, result=result, import_id=import_id,
    )
    seen[key] = {"line": line, "result": result, "id": participation_id}
    report.added.append({"line": line, "participation_id": participation_id, "linked_member": bool(member)})


def _validate_row(
    catalog: Catalog, values: dict[str, str], *, today: dt.date, scope: str | None
) -> tuple[str | None, str | None, str | None, str | None, dt.date | None, list[str]]:
    """(name, phone, unit, contest id, day, reasons the row is refused) of one CSV row."""
    reasons: list[str] = []
    name = clean_name(values["name"])
    if name is None:
        reasons.append(f"họ tên “{values['name']}” không hợp lệ (cần ít nhất hai chữ, chỉ chữ cái)" if values["name"] else "thiếu họ tên")
    phone = None
    if values.get("phone"):
        phone = normalise_phone(values["phone"])
        if phone is None:
            reasons.append(f"số điện thoại “{values['phone']}” không phải số Việt Nam hợp lệ")
    unit, why = resolve_unit(catalog, values["unit"])
    if why:
        reasons.append(why)
    elif scope is not None and not catalog.units.is_within(unit, scope):
        reasons.append(f"đơn vị {unit} ngoài phạm vi tài khoản ({scope})")
    contest_id, why = resolve_contest(catalog, values["contest"])
    if why:
        reasons.append(why)
    day = _parse_date(values["date"]) if values["date"] else None
    if not values["date"]:
        reasons.append("thiếu ngày tham gia")
    elif day is None:
        reasons.append(f"ngày “{values['date']}” không đúng dạng dd/mm/yyyy")
    elif day > today:
        reasons.append(f"ngày {day.strftime('%d/%m/%Y')} ở tương lai")
    return name, phone, unit, contest_id, day, reasons
