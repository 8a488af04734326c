"""The member page (who, unit, channels, consent, activity) and what unit-bound staff see: their unit's dashboard,
unanswered questions and members, never another unit's (issue 14, item 7)."""

from __future__ import annotations

import json

from bot.console.dashboard import figures
from tests import dbcheck
from tests.integration.test_participation_import import login

TZ = "Asia/Ho_Chi_Minh"
HOUR = 3600.0


def member(store, clock, platform_id: str, unit: str | None, *, name: str, phone: str | None = None,
           channel: str = "messenger", consent_version: str = "2026-01") -> dict:
    m, _ = store.touch_member(channel, platform_id, at=clock.now() - 2 * HOUR, display_name=name.split()[-1])
    dbcheck.execute(
        store, "UPDATE members SET full_name = ?, unit_code = ?, phone = ?, consent_at = ?, consent_version = ?,"
        " registered_at = ? WHERE id = ?",
        [name, unit, phone, clock.now() - HOUR, consent_version, clock.now() - HOUR, m["id"]],
    )
    return store.get_member(m["id"])


def question(store, clock, m: dict, text: str, decision: str = "fallback") -> int:
    return store.log_question(member_id=m["id"], channel=m["channel"], text=text, at=clock.now() - 30 * 60,
                              decision=decision, entry_id=None, score=0.1, candidates=[])


def broadcast_to(store, clock, m: dict, text: str) -> int:
    broadcast_id = store.create_broadcast({"text": text, "audience": "all", "schedule": "now", "state": "done",
                                           "next_fire_at": None}, at=clock.now() - HOUR)
    run_id = store.add_run(broadcast_id, clock.now() - HOUR, state="done", at=clock.now() - HOUR)
    dbcheck.execute(
        store, "INSERT INTO outbox (channel, recipient, member_id, kind, run_id, part, message, status, created_at,"
        " finished_at) VALUES (?, ?, ?, 'broadcast', ?, 0, ?, 'sent', ?, ?)",
        [m["channel"], m["platform_id"], m["id"], run_id, json.dumps({"text": text}), clock.now() - HOUR, clock.now() - HOUR + 5],
    )
    return broadcast_id


def test_the_member_page_shows_who_they_are_and_what_they_did(app, client, store, clock):
    lan = member(store, clock, "psid-lan", "CT.PHULOI.CH01", name="Nguyễn Thị Lan", phone="0912345678", consent_version="2025-01")
    member(store, clock, "zalo-lan", "CT.PHULOI.CH01", name="Nguyễn Thị Lan", phone="0912345678", channel="zalo")
    question(store, clock, lan, "Đường biên giới Việt – Lào dài bao nhiêu?", decision="answer")
    store.start_attempt(quiz_id="bien-dao-vung-bien", member_id=lan["id"], unit_code="CT.PHULOI.CH01", channel="messenger",
                        seed=1, plan=[["bo-bien", [0, 1, 2, 3]]], at=clock.now() - HOUR)
    today = clock.today(TZ)
    store.add_participation(contest_id="thi-nu-chien-si-cach-mang-2025", member_id=lan["id"], source="chat",
                            at=clock.now() - HOUR, participated_on=today.isoformat(), unit_code="CT.PHULOI.CH01",
                            result="giải khuyến khích tuần 2")
    broadcast_to(store, clock, lan, "Mời chị em tham gia cuộc thi tuần này")
    login(client, store, "reporter")

    listing = client.get("/admin/members").get_data(as_text=True)
    assert f'href="/admin/members/{lan["id"]}"' in listing  # linked from the list

    page = client.get(f"/admin/members/{lan['id']}").get_data(as_text=True)
    for shown in ("Nguyễn Thị Lan", "Lan", "Chi hội", "CT.PHULOI.CH01", "Messenger",
                  "0912345678", "Cùng số điện thoại trên Zalo OA", "bản thông báo 2025-01", "khác bản hiện hành",
                  "Đường biên giới Việt – Lào dài bao nhiêu?", "Đã trả lời", "Đang thi", "0/1",
                  "giải khuyến khích tuần 2", "Tự báo qua trợ lý", today.strftime("%d/%m/%Y"),
                  "Mời chị em tham gia cuộc thi tuần này", "Đã gửi"):
        assert shown in page, shown
    consent = page.split('id="consent"', 1)[1].split("</dd>", 1)[0]
    assert "Đã đồng ý lúc" in consent

    # the participation list and the inbox link to the member page too
    participation = client.get("/admin/participation").get_data(as_text=True)
    assert f'href="/admin/members/{lan["id"]}"' in participation


def test_a_viewer_sees_the_phone_masked_and_an_unknown_member_is_a_vietnamese_404(client, store, clock):
    lan = member(store, clock, "psid-lan", "CT.PHULOI.CH01", name="Nguyễn Thị Lan", phone="0912345678")
    login(client, store, "viewer")
    page = client.get(f"/admin/members/{lan['id']}").get_data(as_text=True)
    assert "0912345678" not in page and "•••••••678" in page
    missing = client.get("/admin/members/999999")
    assert missing.status_code == 404
    assert "Không có hội viên này" in missing.get_data(as_text=True)


def test_unit_bound_staff_cannot_open_another_units_member(client, store, clock):
    own = member(store, clock, "psid-own", "CT.PHULOI.CH02", name="Trần Thị Mai")
    other = member(store, clock, "psid-other", "CT.LAIHOA.CH01", name="Lê Thị Hoa")
    nounit = member(store, clock, "psid-none", None, name="Phạm Thị Cúc")
    login(client, store, "viewer", "CT.PHULOI")
    assert client.get(f"/admin/members/{own['id']}").status_code == 200
    for m in (other, nounit):
        response = client.get(f"/admin/members/{m['id']}")
        assert response.status_code == 404
        body = response.get_data(as_text=True)
        assert "không thuộc đơn vị" in body and m["full_name"] not in body


def test_unit_bound_staff_see_their_units_unanswered_questions_only(client, store, clock):
    own = member(store, clock, "psid-own", "CT.PHULOI.CH01", name="Trần Thị Mai")
    other = member(store, clock, "psid-other", "CT.LAIHOA.CH01", name="Lê Thị Hoa")
    question(store, clock, own, "Hỏi về cột mốc số một ở phường mình")
    other_id = question(store, clock, other, "Hỏi về đảo xa ở xã bên cạnh")
    csrf = login(client, store, "editor", "CT.PHULOI")
    page = client.get("/admin/unanswered").get_data(as_text=True)
    assert "cột mốc số một" in page and "đảo xa ở xã bên cạnh" not in page
    assert "Số liệu của" in page and "CT.PHULOI" in page

    # another unit's question cannot be set aside by naming its id
    client.post("/admin/unanswered/review", data={"ids": str(other_id), "state": "ignored"}, headers=csrf)
    assert dbcheck.value(store, "SELECT review_status FROM questions WHERE id = ?", [other_id]) == "new"


def test_an_organisation_account_sees_every_units_questions(client, store, clock):
    own = member(store, clock, "psid-own", "CT.PHULOI.CH01", name="Trần Thị Mai")
    other = member(store, clock, "psid-other", "CT.LAIHOA.CH01", name="Lê Thị Hoa")
    question(store, clock, own, "Hỏi về cột mốc số một ở phường mình")
    question(store, clock, other, "Hỏi về đảo xa ở xã bên cạnh")
    login(client, store, "editor")
    page = client.get("/admin/unanswered").get_data(as_text=True)
    assert "cột mốc số một" in page and "đảo xa ở xã bên cạnh" in page and "Số liệu của" not in page


def test_unit_bound_staff_see_their_units_dashboard(app, client, store, clock):
    own = member(store, clock, "psid-own", "CT.PHULOI.CH01", name="Trần Thị Mai")
    other = member(store, clock, "psid-other", "CT.LAIHOA.CH01", name="Lê Thị Hoa")
    for m, n in ((own, 1), (other, 3)):
        for i in range(n):
            question(store, clock, m, f"câu hỏi {i}")
        broadcast_to(store, clock, m, "Tin tuần này")
        store.add_participation(contest_id="thi-nu-chien-si-cach-mang-2025", member_id=m["id"], source="chat",
                                at=clock.now() - HOUR, participated_on=clock.today(TZ).isoformat(), unit_code=m["unit_code"])
    now = clock.now()
    whole = figures(store, now, TZ)["periods"]["today"]
    unit = figures(store, now, TZ, "CT.PHULOI")["periods"]["today"]
    assert whole["questions"]["fallback"] == 4 and unit["questions"]["fallback"] == 1
    assert whole["deliveries"]["sent"] == 2 and unit["deliveries"]["sent"] == 1
    assert whole["participation"]["contest"] == 2 and unit["participation"]["contest"] == 1

    login(client, store, "viewer", "CT.PHULOI")
    page = client.get("/admin/dashboard").get_data(as_text=True)
    assert "Số liệu của" in page
    today = page.split('id="h-today"', 1)[1].split("</section>", 1)[0]
    assert '<span class="value">1</span><span class="label">câu hỏi</span>' in today
