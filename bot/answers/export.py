"""The bank as a spreadsheet for the union's approval (id, question, answer, sources, review fields)."""

from __future__ import annotations

from typing import Any

from bot.answers import reply as answers
from bot.answers.citation import short_date
from bot.core.cells import safe_cell

EXPORT_HEADERS = (
    ("id", "Mã mục"),
    ("question", "Câu hỏi"),
    ("answer", "Câu trả lời"),
    ("sources", "Nguồn"),
    ("status", "Trạng thái"),
    ("reviewed", "Ngày rà soát"),
    ("reviewed_by", "Người rà soát"),
    ("review_by", "Hạn rà soát lại"),
    ("sensitive", "Nhạy cảm"),
)
def _source_reference(source: Any) -> str:
    """The full reference for reviewers: title (or name), number, date, link."""
    parts = [source.title or source.name]
    if source.title and source.name not in source.title:
        parts.append(f"(tên hiển thị: {source.name})")
    if source.number and source.number.lower() not in " ".join(parts).lower():
        parts.append(f"số {source.number}")
    if source.date:
        parts.append(short_date(source.date))
    text = ", ".join(parts)
    return f"{text} – {source.url}" if source.url else text


def export_rows(entries: list[Any], org: dict[str, Any]) -> list[list[Any]]:
    """One row per entry in EXPORT_HEADERS order; answers with their placeholders filled."""
    rows = []
    for e in entries:
        rows.append([
            e.id,
            e.question,
            answers.fill_placeholders(e.answer, org),
            "\n".join(_source_reference(s) for s in e.sources),
            "Đã duyệt" if e.approved else "Bản nháp",
            e.reviewed,
            e.reviewed_by or "",
            e.review_by or "",
            "có" if e.sensitive else "",
        ])
    return rows


def write_export_xlsx(path: str, entries: list[Any], org: dict[str, Any]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Kho hỏi đáp"
    ws.append([label for _, label in EXPORT_HEADERS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in export_rows(entries, org):
        ws.append([safe_cell(v) for v in row])
    widths = {"A": 28, "B": 45, "C": 90, "D": 70, "E": 12, "F": 13, "G": 24, "H": 14, "I": 10}
    for column, width in widths.items():
        ws.column_dimensions[column].width = width
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        row[5].number_format = row[7].number_format = "DD/MM/YYYY"
    ws.freeze_panes = "B2"
    wb.save(path)
