"""Writing report tables as CSV (UTF-8 with BOM, so Excel shows the Vietnamese letters) and Excel (.xlsx).

The Excel workbook has one sheet per section, each laid out like the periodic
report's table: the organisation and the title on top, the unit and the period,
then the table with bold, wrapped headers and a bold total row.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from typing import Any

from bot.core.cells import FORMULA_STARTS, safe_cell, safe_row  # noqa: F401  (re-exported)
from bot.core.formats import csv_value, date_text, iso_time_text
from bot.reports.unit_report import Table


def csv_bytes(headers: list[str], rows: Iterable[list[Any]], total: list[Any] | None = None) -> bytes:
    """One table as CSV bytes (UTF-8 with BOM, comma separated); every cell escaped (safe_cell)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(safe_row(headers))
    writer.writerows(safe_row([csv_value(v) for v in row]) for row in rows)
    if total is not None:
        writer.writerow(safe_row([csv_value(v) for v in total]))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def write_csv_files(tables: list[Table], folder: str, prefix: str = "bao-cao") -> list[str]:
    """One CSV file per table in ``folder``; returns the paths."""
    os.makedirs(folder, exist_ok=True)
    paths = []
    for table in tables:
        path = os.path.join(folder, f"{prefix}_{table.key}.csv")
        with open(path, "wb") as fh:
            fh.write(csv_bytes(table.headers, table.rows, table.total))
        paths.append(path)
    return paths


def xlsx_bytes(tables: list[Table], report: dict[str, Any]) -> bytes:
    """The workbook: one sheet per table, with the report's header block."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    workbook = Workbook()
    workbook.remove(workbook.active)
    unit = report["unit"]["label"]
    period = f"Từ ngày {_vn_date(report['period']['from'])} đến ngày {_vn_date(report['period']['to'])}"
    for table in tables:
        sheet = workbook.create_sheet(table.sheet[:31])
        width = max(len(table.headers), 2)
        preamble = [report["organisation"].upper(), f"BÁO CÁO: {table.title.upper()}", f"Đơn vị: {unit}", period]
        if report.get("sample_units"):
            preamble.append("Lưu ý: danh mục đơn vị đang là bản MẪU.")
        for i, line in enumerate(preamble, 1):
            sheet.cell(row=i, column=1, value=safe_cell(line)).font = Font(bold=i <= 2, size=13 if i == 2 else 11)
            sheet.merge_cells(start_row=i, start_column=1, end_row=i, end_column=width)
            sheet.cell(row=i, column=1).alignment = Alignment(horizontal="center" if i <= 2 else "left")
        top = len(preamble) + 2
        for col, header in enumerate(table.headers, 1):
            cell = sheet.cell(row=top, column=col, value=safe_cell(header))
            cell.font, cell.fill, cell.border = Font(bold=True), head_fill, border
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.row_dimensions[top].height = 45
        row_no = top
        for row_no, row in enumerate(table.rows, top + 1):
            for col, value in enumerate(row, 1):
                sheet.cell(row=row_no, column=col, value=safe_cell(value)).border = border
        if not table.rows:
            row_no = top + 1
            sheet.cell(row=row_no, column=1, value="(không có số liệu trong kỳ)")
        if table.total is not None:
            row_no += 1
            for col, value in enumerate(table.total, 1):
                cell = sheet.cell(row=row_no, column=col, value=safe_cell(value))
                cell.font, cell.border = Font(bold=True), border
        sheet.cell(row=row_no + 2, column=1, value=safe_cell(f"Lập lúc: {iso_time_text(report['generated_at'])}")).font = Font(italic=True, size=9)
        for col, header in enumerate(table.headers, 1):
            longest = max([len(str(header)) // 2 + 2, *(len(str(r[col - 1])) for r in table.rows[:200] if col - 1 < len(r))], default=10)
            sheet.column_dimensions[get_column_letter(col)].width = min(max(longest + 2, 6), 50)
        sheet.freeze_panes = sheet.cell(row=top + 1, column=1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _vn_date(iso: str) -> str:
    return date_text(iso)
