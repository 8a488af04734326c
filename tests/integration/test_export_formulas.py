"""No live formulas in any export (issue 11, D17): a member's name or display name such as
``=HYPERLINK("http://evil","x")`` stays text in every CSV and XLSX the project writes."""

from __future__ import annotations

import csv
import io

import openpyxl

from bot.reports.export import csv_bytes, safe_cell
from tests import dbcheck
from tests.integration.test_participation_import import login
from tests.integration.test_reports import app, population  # noqa: F401  (fixtures)

EVIL = {
    "A1": '=HYPERLINK("http://evil","x")',
    "A2": "+cmd|' /C calc'!A0",
    "A3": "-2+3",
    "B1": "@SUM(1+1)",
}
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def poison(store, population) -> None:  # noqa: F811
    for user, name in EVIL.items():
        dbcheck.execute(store, "UPDATE members SET full_name = NULL, display_name = ? WHERE id = ?", [name, population[user].member["id"]])
    dbcheck.execute(store, "UPDATE members SET full_name = ? WHERE id = ?", ["\tTab Name", population["A3"].member["id"]])


def assert_csv_safe(text: str) -> None:
    for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))):
        for cell in row:
            assert not cell.startswith(DANGEROUS), row


def assert_xlsx_safe(data: bytes) -> int:
    book = openpyxl.load_workbook(io.BytesIO(data))
    seen = 0
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(DANGEROUS), (sheet.title, cell.value)
                    seen += "HYPERLINK" in cell.value
    return seen


def test_safe_cell_escapes_formula_starts_and_keeps_numbers():
    assert [safe_cell(v) for v in ("=1+1", "+84", "-x", "@a", "\tx", "\rx", "ok", "", None, -5, 2.5)] == [
        "'=1+1", "'+84", "'-x", "'@a", "'\tx", "'\rx", "ok", "", "", -5, 2.5]
    assert csv_bytes(["=h"], [["=a", 1]], ["@t"]).decode("utf-8-sig").splitlines() == ["'=h", "'=a,1", "'@t"]


def test_reports_in_xlsx_and_csv_hold_no_formulas(app, client, store, runner, population, tmp_path):  # noqa: F811
    poison(store, population)
    login(client, store, "admin")
    xlsx = client.get("/admin/api/reports/export?format=xlsx")
    assert xlsx.status_code == 200
    assert assert_xlsx_safe(xlsx.data) >= 1  # the leaderboard names are there, as text
    for section in ("xep-hang", "xep-hang-don-vi", "de-xuat-ca-nhan", "tong-hop"):
        assert_csv_safe(client.get(f"/admin/api/reports/export?format=csv&section={section}").data.decode("utf-8-sig"))
    assert_csv_safe(client.get("/admin/api/quizzes/test-open/results?format=csv").data.decode("utf-8-sig"))
    out = tmp_path / "r.xlsx"
    assert runner.invoke(args=["report", "export", "--format", "xlsx", "--out", str(out)]).exit_code == 0
    assert_xlsx_safe(out.read_bytes())
    assert runner.invoke(args=["report", "export", "--format", "csv", "--out", str(tmp_path / "csv")]).exit_code == 0
    for path in (tmp_path / "csv").iterdir():
        assert_csv_safe(path.read_text(encoding="utf-8-sig"))
    for args in (["quiz", "results", "test-open"], ["report", "leaderboard", "test-open"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0
        assert_csv_safe(result.output)


def test_members_export_holds_no_formulas(app, client, store, population):  # noqa: F811
    poison(store, population)
    dbcheck.execute(store, "UPDATE members SET platform_id = '=1+1' WHERE id = ?", [population["A2"].member["id"]])
    login(client, store, "admin")
    data = client.get("/admin/members/export.csv").data.decode("utf-8-sig")
    assert "HYPERLINK" in data
    assert_csv_safe(data)
