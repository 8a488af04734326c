"""The content bank in the database (CONTENT_STORE=database): several hosts serve one bank.

The shipped YAML fills the table on the first start; the console saves there with the same
optimistic concurrency and checks as in files mode; another app instance on the same database
serves the edit after the check interval; `flask content export` / `import` keep the YAML in
step (a round trip changes no byte) and an import of broken YAML changes nothing.
"""

from __future__ import annotations

import datetime as dt
import filecmp
import re
import shutil
import time
from pathlib import Path

import pytest

from bot.answers.check import CHECK_INTERVAL_SECONDS
from bot.web.auth import create_account
from tests import dbcheck
from tests.conftest import DATA, ROOT, platform_config

PASSWORD = "mat-khau-du-dai-2"
ENTRY = "bien-gioi-viet-lao"


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    shutil.copytree(DATA / "content_small", folder)
    return folder


def make_app(httpserver, db_path, content_dir, clock, **extra):
    from app import create_app

    config = platform_config(httpserver.url_for("/"), db_path, CONTENT_DIR=str(content_dir), CONTENT_STORE="database", **extra)
    return create_app(config, clock=clock)


@pytest.fixture
def app(httpserver, db_path, content_dir, clock):
    from bot.storage.store import Store

    application = make_app(httpserver, db_path, content_dir, clock)
    store = Store.open(db_path)
    create_account(store, "bientap", PASSWORD, "editor", None, now=time.time())
    store.close()
    return application


@pytest.fixture
def db(app, db_path):
    from bot.storage.store import Store

    store = Store.open(db_path)
    yield store
    store.close()


def login(app):
    client = app.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    assert client.post("/admin/login", data={"username": "bientap", "password": PASSWORD, "csrf_token": token}).status_code == 302
    page = client.get("/admin/dashboard").get_data(as_text=True)
    return client, re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def form_of(db, entry_id: str, token: str, **changes: str) -> dict[str, str]:
    """The edit form as the page fills it from the stored entry (with its version), plus ``changes``."""
    from bot.answers.stored import decode_data

    row = dbcheck.row(db, "SELECT data, version FROM content_entries WHERE id = ?", [entry_id])
    d = decode_data(row["data"])
    form = {
        "csrf_token": token, "version": row["version"], "topic": d["topic"], "question": d["question"],
        "variants": "\n".join(d["variants"]), "keywords": "\n".join(d["keywords"]), "answer": d["answer"],
        "related": ", ".join(d.get("related") or []), "status": d["status"], "reviewed": str(d["reviewed"]),
        "reviewed_by": d.get("reviewed_by") or "", "review_by": str(d.get("review_by") or ""),
    }
    for i, source in enumerate(d.get("sources") or []):
        for key, value in source.items():
            form[f"source-{i}-{key}"] = str(value)
    form.update(changes)
    return form


def stored_answer(db, entry_id: str) -> str:
    from bot.answers.stored import decode_data

    return decode_data(dbcheck.value(db, "SELECT data FROM content_entries WHERE id = ?", [entry_id]))["answer"]


def revision(db) -> int:
    return int(dbcheck.value(db, "SELECT revision FROM content_state WHERE id = 1"))


def served(app, entry_id: str) -> str:
    entry = app.extensions["bot"].get_bank().get(entry_id)
    return entry.answer if entry else ""


# -- first start --------------------------------------------------------------------------------


def test_the_first_start_fills_the_table_from_the_yaml_once(app, db, httpserver, db_path, content_dir, clock):
    from bot.answers.edit import read_entries

    ids = [r.id for r in read_entries(str(content_dir))]
    assert sorted(r["id"] for r in dbcheck.rows(db, "SELECT id FROM content_entries")) == sorted(ids)
    assert revision(db) == 1
    files = {r["file"] for r in dbcheck.rows(db, "SELECT file FROM content_entries")}
    assert files == {"bien-dao.yaml", "bien-gioi.yaml", "phap-luat.yaml"}
    assert "2.337,459 km" in served(app, ENTRY)
    # a later start (another host, a redeploy) keeps the database's bank, whatever the files say
    path = content_dir / "bank" / "bien-gioi.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("2.337,459 km", "9.999 km"), encoding="utf-8")
    again = make_app(httpserver, db_path, content_dir, clock)
    assert revision(db) == 1
    assert "2.337,459 km" in served(again, ENTRY)


# -- the console's editor -------------------------------------------------------------------------


def test_a_console_edit_is_saved_in_the_database_not_the_files(app, db, content_dir):
    before = (content_dir / "bank" / "bien-gioi.yaml").read_bytes()
    client, token = login(app)
    form = form_of(db, ENTRY, token, answer="Đường biên giới Việt Nam – Lào dài 2.337,459 km. Đã sửa trên máy chủ thứ nhất.")
    response = client.post(f"/admin/content/{ENTRY}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert stored_answer(db, ENTRY).endswith("Đã sửa trên máy chủ thứ nhất.")
    assert revision(db) == 2
    assert dbcheck.value(db, "SELECT updated_by FROM content_entries WHERE id = ?", [ENTRY]) == "bientap"
    assert (content_dir / "bank" / "bien-gioi.yaml").read_bytes() == before  # the files are untouched
    assert served(app, ENTRY).endswith("Đã sửa trên máy chủ thứ nhất.")  # this host at once
    audit = dbcheck.rows(db, "SELECT action, target, detail FROM audit_log WHERE action = 'content.edit'")
    assert audit and audit[0]["target"] == ENTRY and "bien-gioi.yaml" in audit[0]["detail"] and "answer" in audit[0]["detail"]
    page = client.get(f"/admin/content/{ENTRY}").get_data(as_text=True)
    assert "Đã sửa trên máy chủ thứ nhất." in page


def test_a_stale_form_gets_the_conflict_message_with_the_current_version(app, db):
    client, token = login(app)
    stale = form_of(db, ENTRY, token)
    first = dict(stale, answer="Bản của người khác, lưu trước.")
    assert client.post(f"/admin/content/{ENTRY}", data=first).status_code == 302
    mine = dict(stale, answer="Bản của tôi, mở trang từ trước.")
    response = client.post(f"/admin/content/{ENTRY}", data=mine)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "vừa được người khác sửa sau khi chị mở trang" in page
    assert "Bản của người khác, lưu trước." in page  # the current version is shown
    assert stored_answer(db, ENTRY) == "Bản của người khác, lưu trước."
    # saving again from the page (now carrying the current version) goes through
    shown = re.search(r'name="version"[^>]*value="([^"]+)"', page).group(1)
    assert shown == dbcheck.value(db, "SELECT version FROM content_entries WHERE id = ?", [ENTRY])
    again = dict(mine, answer="Bản của tôi, sau khi xem bản mới.", version=shown)
    assert client.post(f"/admin/content/{ENTRY}", data=again).status_code == 302
    assert stored_answer(db, ENTRY) == "Bản của tôi, sau khi xem bản mới."


def test_an_entry_with_an_error_is_refused_and_nothing_is_stored(app, db):
    client, token = login(app)
    form = form_of(db, ENTRY, token, answer="Câu trả lời có chỗ điền {sai} không hợp lệ.")
    response = client.post(f"/admin/content/{ENTRY}", data=form)
    assert response.status_code == 400
    assert "chỗ điền &#39;{sai}&#39; không hợp lệ" in response.get_data(as_text=True) or "{sai}" in response.get_data(as_text=True)
    assert revision(db) == 1
    assert "2.337,459 km" in stored_answer(db, ENTRY)


def test_a_new_entry_goes_to_the_database_in_its_topic_file(app, db, content_dir, clock):
    client, token = login(app)
    reviewed = (clock.today("Asia/Ho_Chi_Minh") - dt.timedelta(days=2)).isoformat()
    form = {
        "csrf_token": token, "id": "bien-gioi-moi", "topic": "bien-gioi", "question": "Câu hỏi mới về biên giới?",
        "variants": "cau hoi moi bien gioi\ncâu hỏi mới về biên giới\nhỏi mới biên giới", "keywords": "mới",
        "answer": "Câu trả lời mới.", "status": "draft", "reviewed": reviewed, "file": "",
        "source-0-name": "Báo Quân đội nhân dân", "source-0-url": "https://www.qdnd.vn/moi",
    }
    response = client.post("/admin/content/new", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    row = dbcheck.row(db, "SELECT file, position FROM content_entries WHERE id = 'bien-gioi-moi'")
    assert row == {"file": "bien-gioi.yaml", "position": 4}
    assert "bien-gioi-moi" not in (content_dir / "bank" / "bien-gioi.yaml").read_text(encoding="utf-8")
    listing = client.get("/admin/content?q=cau+hoi+moi").get_data(as_text=True)
    assert "bien-gioi-moi" in listing and "Nội dung lưu trong cơ sở dữ liệu, dùng chung cho mọi máy chủ" in listing


# -- several hosts -------------------------------------------------------------------------------


def test_another_instance_serves_the_edit_after_the_check_interval(httpserver, db_path, content_dir, clock):
    from bot.storage.store import Store

    clock.freeze()
    first = make_app(httpserver, db_path, content_dir, clock)
    second = make_app(httpserver, db_path, content_dir, clock)
    store = Store.open(db_path)
    create_account(store, "bientap", PASSWORD, "editor", None, now=time.time())
    store.close()
    assert "2.337,459 km" in served(second, ENTRY)  # the second host has loaded the bank
    db = Store.open(db_path)
    client, token = login(first)
    form = form_of(db, ENTRY, token, answer="Đường biên giới Việt Nam – Lào: câu trả lời sửa ở máy chủ thứ nhất.")
    assert client.post(f"/admin/content/{ENTRY}", data=form).status_code == 302
    assert "2.337,459 km" in served(second, ENTRY)  # within the interval: not looked yet
    clock.advance(CHECK_INTERVAL_SECONDS + 0.1)
    assert served(second, ENTRY).endswith("sửa ở máy chủ thứ nhất.")
    # and the other way round: the second host's console edit reaches the first
    client2, token2 = login(second)
    form = form_of(db, ENTRY, token2, answer="Câu trả lời sửa ở máy chủ thứ hai.")
    assert client2.post(f"/admin/content/{ENTRY}", data=form).status_code == 302
    clock.advance(CHECK_INTERVAL_SECONDS + 0.1)
    assert served(first, ENTRY) == "Câu trả lời sửa ở máy chủ thứ hai."
    db.close()


# -- export and import ---------------------------------------------------------------------------


@pytest.fixture
def shipped(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the shipped content folder, and a second pristine copy to compare with."""
    work, pristine = tmp_path / "shipped", tmp_path / "pristine"
    shutil.copytree(ROOT / "content", work)
    shutil.copytree(ROOT / "content", pristine)
    return work, pristine


def same_tree(a: Path, b: Path) -> list[str]:
    """Files that differ (or exist on one side only) between two folders."""
    different = []
    files = {p.relative_to(a) for p in a.rglob("*") if p.is_file()} | {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    for path in sorted(files):
        if not ((a / path).is_file() and (b / path).is_file() and filecmp.cmp(a / path, b / path, shallow=False)):
            different.append(str(path))
    return different


def test_export_import_export_of_the_shipped_bank_changes_no_byte(httpserver, db_path, shipped, clock):
    work, pristine = shipped
    app = make_app(httpserver, db_path, work, clock)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["content", "export", "--dir", str(work)])
    assert result.exit_code == 0, result.output
    assert "không tệp nào thay đổi" in result.output
    assert same_tree(work, pristine) == []
    result = runner.invoke(args=["content", "import", "--dir", str(work)])
    assert result.exit_code == 0, result.output
    assert "thêm 0, sửa 0, xóa 0 mục" in result.output and "không có gì để nhập" in result.output
    assert runner.invoke(args=["content", "export", "--dir", str(work)]).exit_code == 0
    assert same_tree(work, pristine) == []


def test_an_edit_exported_rewrites_only_its_lines_and_imports_back_unchanged(app, db, content_dir, tmp_path):
    pristine = tmp_path / "pristine"
    shutil.copytree(content_dir, pristine)
    client, token = login(app)
    form = form_of(db, ENTRY, token, answer="Đường biên giới Việt Nam – Lào dài 2.337,459 km. Câu thêm khi sửa.")
    assert client.post(f"/admin/content/{ENTRY}", data=form).status_code == 302
    runner = app.test_cli_runner()
    result = runner.invoke(args=["content", "export"])
    assert result.exit_code == 0 and "1 tệp thay đổi (bien-gioi.yaml)" in result.output, result.output
    assert same_tree(content_dir, pristine) == ["bank/bien-gioi.yaml"]
    old = (pristine / "bank" / "bien-gioi.yaml").read_text(encoding="utf-8").splitlines()
    new = (content_dir / "bank" / "bien-gioi.yaml").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(old) if line.strip() == f"- id: {ENTRY}")
    end = next(i for i, line in enumerate(old) if line.strip() == "- id: bien-gioi-viet-trung")
    assert new[:start] == old[:start] and new[-(len(old) - end):] == old[end:]  # only this entry's lines changed
    assert "      Câu thêm khi sửa." in new
    result = runner.invoke(args=["content", "import"])
    assert "thêm 0, sửa 0, xóa 0 mục" in result.output, result.output
    assert revision(db) == 2


NEW_ENTRY = """\
# a file added in Git
entries:
  - id: bot-huong-dan-them
    topic: bien-gioi
    question: Một mục thêm bằng tệp YAML?
    variants: [muc them bang yaml, mục thêm bằng tệp, thêm bằng YAML]
    keywords: [thêm]
    answer: Câu trả lời của mục thêm.
    sources:
      - name: Báo Quân đội nhân dân
        url: https://www.qdnd.vn/them
    status: draft
    reviewed: {reviewed}
"""


def test_import_adds_changes_and_removes_and_dry_run_writes_nothing(app, db, content_dir, clock):
    new_entry = NEW_ENTRY.replace("{reviewed}", (clock.today("Asia/Ho_Chi_Minh") - dt.timedelta(days=3)).isoformat())
    path = content_dir / "bank" / "bien-gioi.yaml"
    text = path.read_text(encoding="utf-8").replace("2.337,459 km, là đoạn", "2.337,459 km (đã nhập), là đoạn")
    start = text.index("  - id: bien-gioi-khu-vuc")
    path.write_text(text[:start].rstrip("\n") + "\n", encoding="utf-8")  # the last entry is gone
    (content_dir / "bank" / "them.yaml").write_text(new_entry.replace("bot-huong-dan-them", "bien-gioi-viet-lao"), encoding="utf-8")
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["content", "import", "--dry-run"])  # an id used twice: an error, nothing imported
    assert refused.exit_code == 1 and "bị trùng" in refused.output
    (content_dir / "bank" / "them.yaml").write_text(new_entry, encoding="utf-8")
    dry = runner.invoke(args=["content", "import", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Chạy thử (chưa ghi gì)" in dry.output and "thêm 1, sửa 1, xóa 1 mục" in dry.output
    assert "thêm: bot-huong-dan-them" in dry.output and f"sửa: {ENTRY}" in dry.output and "xóa: bien-gioi-khu-vuc" in dry.output
    assert revision(db) == 1
    done = runner.invoke(args=["content", "import"])
    assert done.exit_code == 0 and "thêm 1, sửa 1, xóa 1 mục" in done.output, done.output
    assert revision(db) == 2
    assert "(đã nhập)" in stored_answer(db, ENTRY)
    assert dbcheck.value(db, "SELECT count(*) FROM content_entries WHERE id = 'bien-gioi-khu-vuc'") == 0
    assert dbcheck.value(db, "SELECT file FROM content_entries WHERE id = 'bot-huong-dan-them'") == "them.yaml"
    assert "(đã nhập)" in served(app, ENTRY)


def test_importing_broken_yaml_changes_nothing(app, db, content_dir):
    before = dbcheck.rows(db, "SELECT id, data, version FROM content_entries ORDER BY id")
    path = content_dir / "bank" / "bien-dao.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("status: approved", "status: approvedd", 1), encoding="utf-8")
    (content_dir / "bank" / "hong.yaml").write_text("entries:\n  - id: [không đóng ngoặc\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["content", "import"])
    assert result.exit_code == 1
    assert "Không nhập: các tệp YAML có 2 lỗi" in result.output and "cơ sở dữ liệu không thay đổi" in result.output
    assert "status phải là draft hoặc approved" in result.output and "hong.yaml" in result.output
    assert dbcheck.rows(db, "SELECT id, data, version FROM content_entries ORDER BY id") == before
    assert revision(db) == 1


def test_in_files_mode_export_and_import_say_they_are_for_database_mode(httpserver, db_path, content_dir, clock):
    from app import create_app

    app = create_app(platform_config(httpserver.url_for("/"), db_path, CONTENT_DIR=str(content_dir)), clock=clock)
    runner = app.test_cli_runner()
    for args in (["content", "export"], ["content", "import"], ["content", "import", "--dry-run"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1, (args, result.output)
        assert "chỉ dùng khi kho nội dung nằm trong cơ sở dữ liệu (CONTENT_STORE=database)" in result.output
    assert same_tree(content_dir, DATA / "content_small") == []
