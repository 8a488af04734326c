"""The staff console's pages through the Flask test client: content editing reaches the files and
the bot, unanswered questions, evaluation, broadcasts, dashboard figures."""

from __future__ import annotations

import re
import shutil
import time

import pytest

from bot.answers import edit as cs
from bot.web.auth import create_account
from tests import dbcheck
from tests.conftest import DATA, platform_config

PASSWORD = "mat-khau-du-dai-2"


@pytest.fixture
def content_dir(tmp_path):
    folder = tmp_path / "content"
    shutil.copytree(DATA / "content_small", folder)
    return folder


@pytest.fixture
def app(httpserver, db_path, content_dir, clock):
    from app import create_app
    from bot.storage.store import Store

    application = create_app(platform_config(httpserver.url_for("/"), db_path, CONTENT_DIR=str(content_dir)), clock=clock)
    store = Store.open(db_path)
    create_account(store, "bientap", PASSWORD, "editor", None, now=time.time())
    create_account(store, "guitin", PASSWORD, "broadcaster", "CT.NK", now=time.time())
    store.close()
    return application


def login(app, username="bientap"):
    client = app.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    assert client.post("/admin/login", data={"username": username, "password": PASSWORD, "csrf_token": token}).status_code == 302
    page = client.get("/admin/dashboard").get_data(as_text=True)  # login starts a new session with a new token
    return client, re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def entry_form(record: cs.EntryRecord, token: str, **changes) -> dict:
    d = record.data
    form = {
        "csrf_token": token, "version": record.version, "topic": d["topic"], "question": d["question"],
        "variants": "\n".join(d["variants"]), "keywords": "\n".join(d["keywords"]), "answer": d["answer"],
        "related": ", ".join(d.get("related") or []), "status": d["status"], "reviewed": str(d["reviewed"]),
    }
    for i, s in enumerate(d.get("sources") or []):
        for k, v in s.items():
            form[f"source-{i}-{k}"] = str(v)
    form.update(changes)
    return form


def test_an_edit_reaches_the_file_the_bot_and_the_audit_log(app, content_dir):
    client, token = login(app)
    record = cs.find_entry(str(content_dir), "bien-gioi-viet-lao")
    assert client.get("/admin/content/bien-gioi-viet-lao").status_code == 200
    answer = "Đường biên giới Việt Nam – Lào dài 2.337,459 km (đã sửa trên trang quản trị)."
    response = client.post("/admin/content/bien-gioi-viet-lao", data=entry_form(record, token, answer=answer))
    assert response.status_code == 302
    assert "đã sửa trên trang quản trị" in (content_dir / "bank" / "bien-gioi.yaml").read_text(encoding="utf-8")
    with app.app_context():
        from bot.web.context import get_services, get_store

        assert get_services().get_bank().get("bien-gioi-viet-lao").answer == answer  # reloaded at once
        entry = get_store().audit_entries()[0]
    assert entry["action"] == "content.edit" and entry["target"] == "bien-gioi-viet-lao" and "answer" in entry["detail"]
    assert "Đã lưu mục" in client.get("/admin/content/bien-gioi-viet-lao").get_data(as_text=True)


def test_a_conflicting_edit_shows_the_current_version_and_keeps_what_was_typed(app, content_dir):
    client, token = login(app)
    record = cs.find_entry(str(content_dir), "bien-gioi-viet-lao")
    cs.save_entry(str(content_dir), dict(record.data, answer="Người khác đã sửa câu này."), original_id=record.id, version=record.version)
    response = client.post("/admin/content/bien-gioi-viet-lao", data=entry_form(record, token, answer="Bản tôi gõ."))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "vừa được người khác sửa" in page and "Người khác đã sửa câu này." in page and "Bản tôi gõ." in page
    assert "Người khác đã sửa câu này." in (content_dir / "bank" / "bien-gioi.yaml").read_text(encoding="utf-8")


def test_form_errors_sit_next_to_their_field_and_keep_the_input(app, content_dir):
    client, token = login(app)
    response = client.post("/admin/content/new", data={
        "csrf_token": token, "id": "Mã Sai", "topic": "bien-gioi", "question": "Câu hỏi giữ nguyên?", "variants": "một\nhai",
        "keywords": "a", "answer": "", "status": "draft", "source-0-name": "Nguồn giữ nguyên", "source-0-date": "hôm qua",
    })
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="answer-error1"' in page and 'id="sources-error1"' in page
    assert 'value="Câu hỏi giữ nguyên?"' in page and 'value="Nguồn giữ nguyên"' in page
    response = client.post("/admin/content/new", data={
        "csrf_token": token, "id": "Mã Sai", "topic": "bien-gioi", "question": "Câu hỏi giữ nguyên?", "variants": "một\nhai",
        "keywords": "a", "answer": "Có trả lời.", "status": "draft",
    })
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="id-error1"' in page and 'aria-invalid="true"' in page


def test_an_unanswered_group_becomes_an_entry_or_is_ignored(app, content_dir, clock):
    from bot.storage.store import Store

    store = Store.open(app.config.get("DATABASE_URL") or app.config["DATABASE_PATH"])
    now = clock.now()
    ids = [store.log_question(member_id=None, channel="zalo", text=t, at=now, decision="fallback", entry_id=None, score=0.0, candidates=[])
           for t in ("hội phí bao nhiêu tiền", "hoi phi bao nhieu tien", "giá vàng hôm nay", "gia vang hom nay")]
    store.close()
    client, token = login(app)
    page = client.get("/admin/unanswered").get_data(as_text=True)
    assert "2 nhóm" in page and "hội phí bao nhiêu tiền" in page
    form_page = client.get(f"/admin/content/new?questions={ids[0]},{ids[1]}").get_data(as_text=True)
    assert 'value="hội phí bao nhiêu tiền"' in form_page and "hoi phi bao nhieu tien</textarea>" in form_page
    response = client.post("/admin/content/new", data={
        "csrf_token": token, "id": "hoi-phi", "topic": "su-dung-bot", "question": "Hội phí bao nhiêu tiền một năm?",
        "variants": "hội phí bao nhiêu tiền\nhoi phi bao nhieu tien\nđóng hội phí bao nhiêu", "keywords": "hội phí",
        "answer": "Mức hội phí do chi hội quyết định; chị hỏi cán bộ chi hội nơi mình sinh hoạt.", "status": "draft",
        "question_ids": f"{ids[0]},{ids[1]}", "reviewed": clock.today("Asia/Ho_Chi_Minh").isoformat(),
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    client.post("/admin/unanswered/review", data={"csrf_token": token, "ids": f"{ids[2]},{ids[3]}", "state": "ignored"})
    assert "Không có câu hỏi nào ở đây" in client.get("/admin/unanswered").get_data(as_text=True)
    assert "giá vàng hôm nay" in client.get("/admin/unanswered?status=ignored").get_data(as_text=True)
    assert "hội phí bao nhiêu tiền" in client.get("/admin/unanswered?status=done").get_data(as_text=True)


def test_the_evaluation_runs_and_shows_its_figures(app):
    client, token = login(app)
    page = client.post("/admin/unanswered/eval", data={"csrf_token": token, "split": "dev"}).get_data(as_text=True)
    assert "accuracy@1" in page and "câu có đáp án" in page


def test_a_broadcast_form_keeps_its_input_and_respects_the_unit(app):
    client, token = login(app, "guitin")
    form = {"csrf_token": token, "text": "", "audience_kind": "unit", "audience_value": "CT.NK.01", "schedule": "now"}
    response = client.post("/admin/broadcasts/new", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="text-error1"' in page and 'value="CT.NK.01"' in page
    response = client.post("/admin/broadcasts/new", data={**form, "text": "Tin thử", "audience_kind": "all"})
    assert response.status_code == 400 and "chỉ gửi được cho đơn vị CT.NK" in response.get_data(as_text=True)
    api = client.post("/admin/api/broadcasts", json={"text": "Tin thử", "audience": "all"}, headers={"X-CSRF-Token": token})
    assert api.status_code == 403 and api.json["field"] == "audience"  # the JSON API holds the same line
    response = client.post("/admin/broadcasts/new", data={**form, "text": "Tin thử", "schedule": "cron", "preset": "weekly", "time": "25:00"})
    assert response.status_code == 400 and 'id="time-error1"' in response.get_data(as_text=True)
    response = client.post("/admin/broadcasts/new", data={**form, "text": "Tin thử", "schedule": "cron", "preset": "weekly",
                                                          "time": "08:30", "weekday": "1"})
    assert response.status_code == 302
    detail = client.get(response.location).get_data(as_text=True)
    assert "Thứ Hai hằng tuần, 08:30" in detail and "30 8 * * 1" not in detail and "Đơn vị CT.NK.01" in detail
    assert "Đã lên lịch tin nhắn: Thứ Hai hằng tuần, 08:30." in detail  # the confirmation says when, in words
    bid = int(response.location.rsplit("/", 1)[1])
    assert client.post(f"/admin/broadcasts/{bid}/pause", data={"csrf_token": token}).status_code == 302
    assert "Tạm dừng" in client.get(f"/admin/broadcasts/{bid}").get_data(as_text=True)
    client.post(f"/admin/broadcasts/{bid}/cancel", data={"csrf_token": token})
    assert "Đã hủy" in client.get(f"/admin/broadcasts/{bid}").get_data(as_text=True)


def test_dashboard_figures_count_today_and_the_week(app, clock):
    from bot.console.dashboard import figures
    from bot.core.models import Event
    from bot.storage.store import Store

    store = Store.open(app.config.get("DATABASE_URL") or app.config["DATABASE_PATH"])
    now = clock.now()
    store.add_inbound([
        (Event("zalo", "text", "Z1", "k1", now, text="a"), {}), (Event("zalo", "text", "Z1", "k2", now, text="b"), {}),
        (Event("messenger", "text", "P1", "k3", now, text="c"), {}), (Event("simulator", "text", "S1", "k4", now, text="d"), {}),
    ], at=now)
    for decision in ("answer", "answer", "fallback"):
        store.log_question(member_id=None, channel="zalo", text="x", at=now, decision=decision, entry_id=None, score=0, candidates=[])
    data = figures(store, now, app.config["TIMEZONE"])
    store.close()
    today = data["periods"]["today"]
    assert today["conversations"] == {"messages": 3, "people": 2}  # the simulator is left out
    assert today["questions"] == {"answer": 2, "suggest": 0, "fallback": 1}
    assert data["daily"]["conversations"][-1]["people"] == 2 and len(data["labels"]) == 7


def test_send_now_asks_for_confirmation_with_the_recipient_count_and_shows_the_run_at_once(app):
    from bot.storage.store import Store

    store = Store.open(app.config.get("DATABASE_URL") or app.config["DATABASE_PATH"])
    now = app.extensions["bot"].clock.now()
    for i in range(3):
        store.touch_member("zalo", f"Z{i}", at=now)
    admin = Store.open(app.config.get("DATABASE_URL") or app.config["DATABASE_PATH"])
    create_account(admin, "guitin2", PASSWORD, "broadcaster", None, now=time.time())
    client, token = login(app, "guitin2")
    form = {"csrf_token": token, "text": "Tin thử", "audience_kind": "channel", "audience_value": "zalo", "schedule": "now"}
    first = client.post("/admin/broadcasts/new", data=form)
    page = first.get_data(as_text=True)
    assert first.status_code == 200 and 'id="confirm-send"' in page
    assert "Gửi ngay cho 3 người nhận?" in page and "Zalo OA: 3 người nhận" in page
    assert store.list_broadcasts() == []  # nothing stored before the confirmation
    empty = client.post("/admin/broadcasts/new", data={**form, "text": ""})
    assert empty.status_code == 400 and 'id="text-error1"' in empty.get_data(as_text=True)  # errors come first
    sent = client.post("/admin/broadcasts/new", data={**form, "confirm": "1"})
    assert sent.status_code == 302
    [broadcast] = store.list_broadcasts()
    assert broadcast["state"] == "sending"  # the run exists at once, no "scheduled" badge meanwhile
    assert dbcheck.rows(store, "SELECT count(*) AS n FROM broadcast_runs WHERE broadcast_id = ?", [broadcast["id"]])[0]["n"] == 1
    store.close()
    admin.close()
