"""The review workflow: review dates in `flask content check` and the console, sensitive entries
approved only by an admin (and audited), `flask content export --format xlsx`."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import time

import pytest
from openpyxl import load_workbook

from bot.answers import edit as cs
from bot.answers.export import EXPORT_HEADERS
from bot.core.cells import safe_cell
from bot.web.auth import create_account
from tests.conftest import DATA, platform_config

PASSWORD = "mat-khau-du-dai-2"
TZ = "Asia/Ho_Chi_Minh"

EXTRA = """\
entries:
  - id: hs-nhay-cam
    topic: bien-dao
    question: Quần đảo Hoàng Sa thuộc thành phố nào?
    variants: [hoang sa thuoc dau, Hoàng Sa thuộc thành phố nào, hoàng sa của tp nào]
    keywords: [Hoàng Sa]
    answer: "=HYPERLINK(\\"http://x\\") Quần đảo Hoàng Sa thuộc thành phố Đà Nẵng."
    sources:
      - name: Báo Quân đội nhân dân
        title: Báo Quân đội nhân dân, bài về huyện đảo Hoàng Sa
        date: 2025
        url: https://www.qdnd.vn/hoang-sa
    status: draft
    reviewed: 2026-01-01
    reviewed_by: Ban Tuyên giáo
    review_by: {overdue}
    sensitive: true

  - id: con-han
    topic: bien-dao
    question: Đảo nào còn hạn rà soát?
    variants: [dao con han, đảo còn hạn, đảo nào còn hạn ạ]
    keywords: [còn hạn]
    answer: Câu trả lời.
    sources:
      - name: Báo Quân đội nhân dân
        url: https://www.qdnd.vn/a
    status: approved
    reviewed: 2026-01-01
    review_by: {later}

  - id: nhap-thuong
    topic: bien-dao
    question: Một câu hỏi thường chưa duyệt?
    variants: [cau hoi thuong, câu hỏi thường, hỏi thường thôi]
    keywords: [thường]
    answer: Câu trả lời thường.
    sources:
      - name: Báo Quân đội nhân dân
        url: https://www.qdnd.vn/b
    status: draft
    reviewed: 2026-01-01
"""


@pytest.fixture
def content_dir(tmp_path, clock):
    folder = tmp_path / "content"
    shutil.copytree(DATA / "content_small", folder)
    today = clock.today(TZ)
    (folder / "bank" / "z-review.yaml").write_text(
        EXTRA.format(overdue=today - dt.timedelta(days=3), later=today + dt.timedelta(days=30)), encoding="utf-8"
    )
    return folder


@pytest.fixture
def app(httpserver, db_path, content_dir, clock):
    from app import create_app
    from bot.storage.store import Store

    application = create_app(platform_config(httpserver.url_for("/"), db_path, CONTENT_DIR=str(content_dir)), clock=clock)
    store = Store.open(db_path)
    create_account(store, "bientap", PASSWORD, "editor", None, now=time.time())
    create_account(store, "quantri", PASSWORD, "admin", None, now=time.time())
    store.close()
    return application


def login(app, username):
    client = app.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    assert client.post("/admin/login", data={"username": username, "password": PASSWORD, "csrf_token": token}).status_code == 302
    page = client.get("/admin/dashboard").get_data(as_text=True)
    return client, re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def entry_form(record: cs.EntryRecord, token: str, **changes) -> dict:
    d = record.data
    form = {
        "csrf_token": token, "version": record.version, "topic": d["topic"], "question": d["question"],
        "variants": "\n".join(d["variants"]), "keywords": "\n".join(d["keywords"]), "answer": d["answer"],
        "related": ", ".join(d.get("related") or []), "status": d["status"], "reviewed": str(d["reviewed"]),
        "reviewed_by": d.get("reviewed_by") or "", "review_by": str(d.get("review_by") or ""),
    }
    if d.get("sensitive"):
        form["sensitive"] = "1"
    for i, s in enumerate(d.get("sources") or []):
        for k, v in s.items():
            form[f"source-{i}-{k}"] = str(v)
    form.update(changes)
    return form


def _audit(app):
    with app.app_context():
        from bot.web.context import get_store

        return get_store().audit_entries()


# -- review dates ------------------------------------------------------------------------------


def test_check_warns_on_passed_review_dates_by_the_app_clock(app, content_dir, clock):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["content", "check", "--dir", str(content_dir)])
    lines = [line for line in result.output.splitlines() if "hạn rà soát" in line]
    assert len(lines) == 1 and "[hs-nhay-cam] cảnh báo:" in lines[0], result.output
    clock.set(clock.now() + 31 * 86400)  # a month on, the other entry is due too
    result = runner.invoke(args=["content", "check", "--dir", str(content_dir)])
    assert sum("hạn rà soát" in line for line in result.output.splitlines()) == 2
    assert result.exit_code == 0, result.output  # a warning, not an error


def test_the_console_lists_entries_due_for_review(app):
    client, _ = login(app, "bientap")
    page = client.get("/admin/content").get_data(as_text=True)
    assert "1 mục đến hạn rà soát lại" in page
    due_card = page.split("mục đến hạn rà soát lại")[1].split("</details>")[0]
    assert "hs-nhay-cam" in due_card and "con-han" not in due_card and "quá 3 ngày" in due_card
    filtered = client.get("/admin/content?due=1").get_data(as_text=True)
    assert "1 mục." in filtered.replace("\n", " ") or ">1 mục" in filtered


# -- sensitive entries -------------------------------------------------------------------------


def test_an_editor_cannot_approve_a_sensitive_entry(app, content_dir):
    client, token = login(app, "bientap")
    record = cs.find_entry(str(content_dir), "hs-nhay-cam")
    response = client.post("/admin/content/hs-nhay-cam/approve", data={"csrf_token": token, "version": record.version})
    assert response.status_code == 302
    page = client.get("/admin/content/hs-nhay-cam").get_data(as_text=True)
    assert "chỉ quản trị viên được duyệt" in page
    assert cs.find_entry(str(content_dir), "hs-nhay-cam").data["status"] == "draft"
    # nor by saving it as approved, nor by unticking the mark first
    form = entry_form(record, token, status="approved")
    form.pop("sensitive")
    response = client.post("/admin/content/hs-nhay-cam", data=form)
    assert response.status_code == 400 and "chỉ quản trị viên được duyệt" in response.get_data(as_text=True)
    assert cs.find_entry(str(content_dir), "hs-nhay-cam").data["status"] == "draft"
    # saving as a draft keeps the mark even when unticked
    response = client.post("/admin/content/hs-nhay-cam", data={**form, "status": "draft", "answer": "Quần đảo Hoàng Sa thuộc thành phố Đà Nẵng."})
    assert response.status_code == 302
    saved = cs.find_entry(str(content_dir), "hs-nhay-cam").data
    assert saved["sensitive"] is True and saved["reviewed_by"] == "Ban Tuyên giáo"
    assert saved["sources"][0]["title"] == "Báo Quân đội nhân dân, bài về huyện đảo Hoàng Sa"  # kept
    assert not [a for a in _audit(app) if a["action"] == "content.approve"]


def test_an_admin_approves_a_sensitive_entry_and_the_audit_log_says_so(app, content_dir):
    client, token = login(app, "quantri")
    record = cs.find_entry(str(content_dir), "hs-nhay-cam")
    response = client.post("/admin/content/hs-nhay-cam/approve", data={"csrf_token": token, "version": record.version})
    assert response.status_code == 302
    assert cs.find_entry(str(content_dir), "hs-nhay-cam").data["status"] == "approved"
    entry = _audit(app)[0]
    assert entry["action"] == "content.approve" and entry["target"] == "hs-nhay-cam" and "nhạy cảm" in entry["detail"]
    assert entry["username"] == "quantri"


def test_an_editor_still_approves_ordinary_entries(app, content_dir):
    client, token = login(app, "bientap")
    draft = cs.find_entry(str(content_dir), "nhap-thuong")
    response = client.post(f"/admin/content/{draft.id}/approve", data={"csrf_token": token, "version": draft.version})
    assert response.status_code == 302
    assert cs.find_entry(str(content_dir), draft.id).data["status"] == "approved"


# -- export ------------------------------------------------------------------------------------


def test_export_writes_the_bank_to_xlsx_with_formulas_escaped(app, content_dir, tmp_path):
    out = tmp_path / "kho.xlsx"
    result = app.test_cli_runner().invoke(args=["content", "export", "--format", "xlsx", "--out", str(out), "--dir", str(content_dir)])
    assert result.exit_code == 0, result.output
    assert "Đã ghi" in result.output
    sheet = load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [label for _, label in EXPORT_HEADERS]
    assert [key for key, _ in EXPORT_HEADERS] == [
        "id", "question", "answer", "sources", "status", "reviewed", "reviewed_by", "review_by", "sensitive",
    ]
    by_id = {r[0]: r for r in rows[1:]}
    row = by_id["hs-nhay-cam"]
    assert row[2].startswith("'=HYPERLINK")  # never run as a formula
    assert "bài về huyện đảo Hoàng Sa" in row[3] and "https://www.qdnd.vn/hoang-sa" in row[3]
    assert row[4] == "Bản nháp" and row[6] == "Ban Tuyên giáo" and row[8] == "có"
    assert isinstance(row[5], dt.datetime) and row[5].date() == dt.date(2026, 1, 1)
    assert by_id["con-han"][4] == "Đã duyệt"
    assert len(by_id) == len(cs.read_entries(str(content_dir)))


@pytest.mark.parametrize(
    ("value", "expected"),
    [("=1+1", "'=1+1"), ("+84", "'+84"), ("-x", "'-x"), ("@a", "'@a"), ("\tx", "'\tx"), ("\rx", "'\rx"),
     ("an toàn", "an toàn"), (5, 5), ("", "")],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected
