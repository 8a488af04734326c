"""Delivery truth (issue 16): delivery and read receipts, echoes that resolve in-flight sends,
unreachable members; receipts and echoes handled at the webhook, never creating a member.

Payloads are shaped like the platforms' (tests/data and shared/platform-*.md); times are
built from the pinned clock.
"""

from __future__ import annotations

import json
import time

import pytest
from werkzeug import Request, Response

from bot.pipeline.outbox import drain
from bot.web.auth import create_account
from scheduler import broadcasts
from tests import dbcheck
from tests.conftest import load_payload, sign_messenger, sign_zalo
from tests.integration.test_broadcasts import deliver, member, tick

PAGE = "106519712345678"
PSID = "6945123456789012"
ZUSER = "6142494823012345678"  # the member in tests/data/zalo/*.json
OA = "3662729599332560487"
HOUR = 3600


def ms(seconds: float) -> int:
    return int(seconds * 1000)


def messenger_post(client, *items: dict) -> None:
    body = json.dumps({"object": "page", "entry": [{"id": PAGE, "time": ms(time.time()), "messaging": list(items)}]}).encode()
    response = client.post("/webhooks/messenger", data=body, headers={"X-Hub-Signature-256": sign_messenger(body)})
    assert response.status_code == 200


def zalo_post(client, body: bytes) -> None:
    response = client.post("/webhooks/zalo", data=body, headers={"X-ZEvent-Signature": sign_zalo(body)})
    assert response.status_code == 200


def zalo_recorded(name: str, timestamp_ms: int | None = None) -> bytes:
    """A recorded Zalo payload; its (2023) timestamp moved to ``timestamp_ms`` when given."""
    data = json.loads(load_payload(f"zalo/{name}"))
    if timestamp_ms is not None:
        data["timestamp"] = str(timestamp_ms)
    return json.dumps(data, ensure_ascii=False).encode()


def delivery(psid: str, watermark: int, mids: list[str] | None = None) -> dict:
    body = {"watermark": watermark, **({"mids": mids} if mids else {})}
    return {"sender": {"id": psid}, "recipient": {"id": PAGE}, "timestamp": watermark + 40, "delivery": body}


def read(psid: str, watermark: int) -> dict:
    return {"sender": {"id": psid}, "recipient": {"id": PAGE}, "timestamp": watermark + 60, "read": {"watermark": watermark}}


def echo(psid: str, mid: str, text: str, ts: int, metadata: str | None = None) -> dict:
    message = {"mid": mid, "is_echo": True, "app_id": 1517776481860111, "text": text}
    if metadata is not None:
        message["metadata"] = metadata
    return {"sender": {"id": PAGE}, "recipient": {"id": psid}, "timestamp": ts, "message": message}


@pytest.fixture
def platform(httpserver):
    """All three platforms accept every send; Zalo answers with the ids queued in ``zalo_ids``."""
    state: dict = {"bodies": [], "zalo_ids": []}

    def messenger(request: Request) -> Response:
        body = json.loads(request.data)
        state["bodies"].append(("messenger", body))
        return Response(json.dumps({"recipient_id": body["recipient"]["id"], "message_id": f"m_out_{len(state['bodies'])}"}),
                        content_type="application/json")

    def zalo(request: Request) -> Response:
        body = json.loads(request.data)
        state["bodies"].append(("zalo", body))
        mid = state["zalo_ids"].pop(0) if state["zalo_ids"] else f"z_out_{len(state['bodies'])}"
        return Response(json.dumps({"data": {"message_id": mid, "user_id": body["recipient"]["user_id"]}, "error": 0, "message": "Success"}),
                        content_type="application/json")

    def zalo_bot(request: Request) -> Response:
        state["bodies"].append(("zalo_bot", json.loads(request.data)))
        return Response(json.dumps({"ok": True, "result": {"message_id": f"b{len(state['bodies'])}", "date": 1}}), content_type="application/json")

    httpserver.expect_request("/me/messages", method="POST").respond_with_handler(messenger)
    httpserver.expect_request("/v3.0/oa/message/cs", method="POST").respond_with_handler(zalo)
    httpserver.expect_request("/bot12345:bot-secret-token/sendMessage", method="POST").respond_with_handler(zalo_bot)
    return state


def send(app, store, channel: str, recipient: str, texts: list[str], member_id: int | None = None) -> list[int]:
    ids = store.enqueue(channel=channel, recipient=recipient, messages=[{"text": t} for t in texts],
                        at=app.extensions["bot"].clock.now(), member_id=member_id)
    services = app.extensions["bot"]
    drain(store, services.channels[channel], services.config, clock=services.clock)
    return ids


def in_flight_then_crash(app, store, channel: str, recipient: str, text: str) -> int:
    """A send claimed, on its way, when the process died: 'uncertain' at the next start."""
    clock = app.extensions["bot"].clock
    [outbox_id] = store.enqueue(channel=channel, recipient=recipient, messages=[{"text": text}], at=clock.now())
    assert store.claim_outbound(channel, now=clock.now())["id"] == outbox_id
    store.recover_in_flight(at=clock.now())
    assert store.get_outbound(outbox_id)["status"] == "uncertain"
    return outbox_id


def counts(store) -> tuple[int, int]:
    return dbcheck.value(store, "SELECT count(*) FROM members"), dbcheck.value(store, "SELECT count(*) FROM inbox")


def test_messenger_watermarks_mark_what_was_sent_before_them_and_read_implies_delivered(app, client, store, platform, clock):
    m, _ = store.touch_member("messenger", PSID, at=clock.now())
    first = send(app, store, "messenger", PSID, ["Phần một", "Phần hai"], m["id"])
    assert [b["message"]["metadata"] for _, b in platform["bodies"]] == [f"outbox:{i}" for i in first]
    watermark = ms(clock.now()) + 500
    clock.advance(30)
    [later] = send(app, store, "messenger", PSID, ["Tin sau"], m["id"])
    before = counts(store)

    messenger_post(client, delivery(PSID, watermark))  # no mids: everything before the watermark
    rows = {i: store.get_outbound(i) for i in [*first, later]}
    assert all(rows[i]["delivered_at"] for i in first) and not rows[later]["delivered_at"]
    assert not any(r["read_at"] for r in rows.values())

    messenger_post(client, read(PSID, ms(clock.now()) + 500))  # read everything: delivered too
    rows = {i: store.get_outbound(i) for i in [*first, later]}
    assert all(r["read_at"] and r["delivered_at"] for r in rows.values())
    assert counts(store) == before  # applied at the webhook: no inbox row, no member


def test_messenger_delivery_mids_mark_those_messages(app, client, store, platform, clock):
    [a, b] = send(app, store, "messenger", PSID, ["một", "hai"])
    mid_b = store.get_outbound(b)["platform_message_id"]
    messenger_post(client, delivery(PSID, ms(clock.now()) - 3_600_000, mids=[mid_b]))  # an old watermark, the mid counts
    assert store.get_outbound(b)["delivered_at"] and not store.get_outbound(a)["delivered_at"]


def test_receipts_and_echoes_of_strangers_create_no_member_and_queue_nothing(app, client, store, platform, clock):
    now = ms(clock.now())
    messenger_post(client, delivery("STRANGER", now, mids=["m_x"]), read("STRANGER", now),
                   echo("STRANGER", "m_staff", "Chào chị", now))  # typed by staff in the Page inbox
    zalo_post(client, zalo_recorded("user_received_message.json"))
    zalo_post(client, zalo_recorded("user_seen_message.json"))
    zalo_post(client, zalo_recorded("oa_send_text.json"))
    assert counts(store) == (0, 0)


def test_zalo_receipts_by_message_id(app, client, store, platform, clock):
    platform["zalo_ids"] += ["63ecf43f0df7dba892e6", "74fd054010e8ecb9a3f7"]  # the ids in the recorded receipts
    first, second = send(app, store, "zalo", ZUSER, ["Tin một", "Tin hai"])
    zalo_post(client, zalo_recorded("user_received_message.json"))  # msg_ids: the first
    assert store.get_outbound(first)["delivered_at"] and not store.get_outbound(second)["delivered_at"]
    assert not store.get_outbound(first)["read_at"]
    zalo_post(client, zalo_recorded("user_seen_message.json"))  # msg_ids: both
    for outbox_id in (first, second):
        row = store.get_outbound(outbox_id)
        assert row["read_at"] and row["delivered_at"]


def test_messenger_echo_confirms_an_uncertain_send_which_is_never_resent(app, client, store, runner, platform, clock):
    outbox_id = in_flight_then_crash(app, store, "messenger", PSID, "Câu 3/10")
    messenger_post(client, echo(PSID, "m_echoed_1", "Câu 3/10", ms(clock.now()), metadata=f"outbox:{outbox_id}"))
    row = store.get_outbound(outbox_id)
    assert (row["status"], row["platform_message_id"], row["reason"]) == ("sent", "m_echoed_1", "confirmed_by_echo")
    # staff requeue every uncertain send later: this one is not among them, and nothing goes out
    clock.advance(app.config["UNCERTAIN_HOLD_MINUTES"] * 60 + 1)
    assert runner.invoke(args=["outbox", "requeue-uncertain", "--all", "--yes"]).output.startswith("Đã xếp lại 0 tin")
    send(app, store, "messenger", PSID, [])
    assert platform["bodies"] == []
    # the echo again (a redelivery) changes nothing; a read receipt now counts it
    messenger_post(client, echo(PSID, "m_echoed_1", "Câu 3/10", ms(clock.now()), metadata=f"outbox:{outbox_id}"))
    messenger_post(client, read(PSID, ms(clock.now())))
    assert store.get_outbound(outbox_id)["read_at"]


def test_messenger_echo_of_another_members_row_or_without_our_metadata_changes_nothing(app, client, store, platform, clock):
    outbox_id = in_flight_then_crash(app, store, "messenger", PSID, "Câu 3/10")
    now = ms(clock.now())
    messenger_post(client, echo("SOMEONE_ELSE", "m_1", "Câu 3/10", now, metadata=f"outbox:{outbox_id}"),
                   echo(PSID, "m_2", "Câu 3/10", now, metadata="quiz=contest2026"), echo(PSID, "m_3", "Câu 3/10", now))
    assert store.get_outbound(outbox_id)["status"] == "uncertain"


def test_zalo_echo_matches_member_text_and_time_best_effort(app, client, store, platform, clock):
    text = "Quần đảo Trường Sa thuộc tỉnh Khánh Hòa."  # the text of the recorded oa_send_text echo
    outbox_id = in_flight_then_crash(app, store, "zalo", ZUSER, text)
    other = in_flight_then_crash(app, store, "zalo", ZUSER, "Một tin khác")
    window = app.config["ZALO_ECHO_MATCH_SECONDS"]
    zalo_post(client, zalo_recorded("oa_send_text.json", ms(clock.now() - 3 * window)))  # too far from the send
    assert store.get_outbound(outbox_id)["status"] == "uncertain"
    zalo_post(client, zalo_recorded("oa_send_text.json", ms(clock.now() + 1)))
    row = store.get_outbound(outbox_id)
    assert (row["status"], row["platform_message_id"]) == ("sent", "63ecf43f0df7dba892e6")
    assert store.get_outbound(other)["status"] == "uncertain"  # different text: staff decide, as before


def test_zalo_echo_of_a_broadcast_send_left_uncertain(app, client, store, platform, clock):
    now = clock.now()
    member(store, "zalo", ZUSER, last=now - HOUR)
    text = "Quần đảo Trường Sa thuộc tỉnh Khánh Hòa."
    bid = broadcasts.create_broadcast(store, app.config, text=text, now=now, schedule="now")
    tick(app, store, now)
    row = store.claim_outbound("zalo", now=now)  # in flight when the process died
    store.recover_in_flight(at=now)
    zalo_post(client, zalo_recorded("oa_send_text.json", ms(now + 2)))
    assert store.get_outbound(row["id"])["status"] == "sent"
    report = broadcasts.report(store, bid)
    assert (report["sent"], report["uncertain"]) == (1, 0)


def _graph_551(request: Request) -> Response:
    error = {"message": "(#551) This person isn't available right now.", "type": "OAuthException", "code": 551,
             "error_subcode": 1545041, "fbtrace_id": "AbC123"}
    return Response(json.dumps({"error": error}), status=400, content_type="application/json")


def test_unreachable_member_is_skipped_until_she_writes_again(app, client, store, httpserver, clock):
    httpserver.expect_oneshot_request("/me/messages", method="POST").respond_with_handler(_graph_551)
    now = clock.now()
    member_id = member(store, "messenger", PSID, last=now - HOUR)
    send(app, store, "messenger", PSID, ["Chào chị"], member_id)
    m = store.get_member(member_id)
    assert m["status"] == "blocked" and "551" in m["status_reason"]
    create_account(store, "quantri", "mat-khau-du-dai-2", "admin", None, now=time.time())
    from tests.integration.test_console import login

    page = login(app, "quantri")[0].get("/admin/members").get_data(as_text=True)
    assert "This person isn" in page and "Không liên lạc được" in page  # the reason, for staff
    bid = broadcasts.create_broadcast(store, app.config, text="Tin tuần này", now=now, schedule="now")
    tick(app, store, now)
    deliver(app, store)
    assert broadcasts.report(store, bid)["skipped_by_reason"] == {"unreachable": 1}
    # she writes again: reachable, and the next broadcast goes to her
    httpserver.expect_request("/me/messages", method="POST").respond_with_json({"recipient_id": PSID, "message_id": "m_ok"})
    messenger_post(client, {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": ms(clock.now()),
                            "message": {"mid": "m_back", "text": "Chào Hội"}})
    app.extensions["bot"].processor.process_pending(store)
    m = store.get_member(member_id)
    assert (m["status"], m["status_reason"]) == ("active", None)
    bid2 = broadcasts.create_broadcast(store, app.config, text="Tin tuần sau", now=clock.now(), schedule="now")
    tick(app, store, clock.now())
    deliver(app, store)
    assert broadcasts.report(store, bid2)["sent"] == 1


def test_zalo_not_following_marks_the_member_unreachable(app, store, httpserver, clock):
    httpserver.expect_request("/v3.0/oa/message/cs", method="POST").respond_with_json({"error": -213, "message": "User has not followed OA"})
    member_id = member(store, "zalo", ZUSER, last=clock.now() - HOUR)
    send(app, store, "zalo", ZUSER, ["Chào chị"], member_id)
    m = store.get_member(member_id)
    assert m["status"] == "unfollowed" and m["status_reason"].startswith("-213")


def test_broadcast_report_counts_delivered_read_and_says_zalo_bot_cannot(app, client, store, runner, platform, clock):
    now = clock.now()
    for channel, pid in (("messenger", PSID), ("messenger", "P2"), ("zalo", ZUSER), ("zalo_bot", "B1")):
        member(store, channel, pid, last=now - HOUR)
    platform["zalo_ids"].append("63ecf43f0df7dba892e6")
    bid = broadcasts.create_broadcast(store, app.config, text="Tuần lễ Biển và Hải đảo", now=now, schedule="now")
    tick(app, store, now)
    deliver(app, store)
    messenger_post(client, read(PSID, ms(clock.now()) + 500), delivery("P2", ms(clock.now()) + 500))
    zalo_post(client, zalo_recorded("user_received_message.json"))

    result = runner.invoke(args=["broadcast", "report", str(bid), "--json"])
    data = json.loads(result.output)
    assert {k: data[k] for k in ("targeted", "sent", "delivered", "read", "uncertain", "failed", "pending")} == {
        "targeted": 4, "sent": 4, "delivered": 3, "read": 1, "uncertain": 0, "failed": 0, "pending": 0}
    assert data["by_channel"]["messenger"]["delivered"] == 2 and data["by_channel"]["zalo"]["read"] == 0
    assert data["by_channel"]["zalo_bot"]["delivered"] is None and data["receipts"]["zalo_bot"] is False
    text = runner.invoke(args=["broadcast", "report", str(bid)]).output
    assert "Đã nhận" in text and "không hỗ trợ báo nhận" in text

    create_account(store, "quantri", "mat-khau-du-dai-2", "admin", None, now=time.time())
    from tests.integration.test_console import login

    console, _ = login(app, "quantri")
    page = console.get(f"/admin/broadcasts/{bid}").get_data(as_text=True)
    assert '<svg class="chart"' in page and "Đã xem" in page
    zalo_bot_row = page.split('data-channel="zalo_bot"')[1].split("</tr>")[0]
    assert zalo_bot_row.count("không hỗ trợ") == 2
    assert "<script" not in page.split('class="delivery-chart"')[1].split("</figure>")[0]  # CSP: an inline SVG, no script


@pytest.mark.parametrize("metadata", ["outbox:" + "9" * 40, "outbox:-1", "outbox:", "outbox:1.5", "outbox:١٢"])
def test_an_echo_with_a_strange_reference_is_ignored_and_answered_200(app, client, store, platform, clock, metadata):
    outbox_id = in_flight_then_crash(app, store, "messenger", PSID, "Câu 3/10")
    messenger_post(client, echo(PSID, "m_x", "Câu 3/10", ms(clock.now()), metadata=metadata))
    assert store.get_outbound(outbox_id)["status"] == "uncertain"
