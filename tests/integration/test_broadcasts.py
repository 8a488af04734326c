"""Broadcasts: schedules with an injected clock, platform rules, control, reports."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from werkzeug import Request, Response

from bot.pipeline.outbox import drain
from scheduler import broadcasts
from scheduler.broadcasts import BroadcastError
from scheduler.schedule import ScheduleError
from tests import dbcheck

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
HOUR = 3600.0


def local(*args) -> float:
    return datetime(*args, tzinfo=TZ).timestamp()


def day(clock, days: int = 0, hour: int = 0, minute: int = 0, second: int = 0, *, weekday: int | None = None) -> float:
    """Local time on the date the clock was pinned to plus ``days`` (or on the next ``weekday``, 0 = Monday, from there)."""
    base = datetime.fromtimestamp(clock.origin, TZ).date()
    if weekday is not None:
        base += timedelta(days=(weekday - base.weekday()) % 7)
    base += timedelta(days=days)
    return datetime(base.year, base.month, base.day, hour, minute, second, tzinfo=TZ).timestamp()


@pytest.fixture
def fake_platform(httpserver):
    """Accept every send on all three platforms and remember who got what."""
    received: list[tuple[str, str, dict]] = []

    def messenger(request: Request) -> Response:
        body = json.loads(request.data)
        received.append(("messenger", body["recipient"]["id"], body))
        return Response(json.dumps({"recipient_id": body["recipient"]["id"], "message_id": f"m{len(received)}"}), content_type="application/json")

    def zalo(request: Request) -> Response:
        body = json.loads(request.data)
        received.append(("zalo", body["recipient"].get("user_id") or body["recipient"].get("group_id"), body))
        return Response(json.dumps({"data": {"message_id": f"z{len(received)}"}, "error": 0, "message": "Success"}), content_type="application/json")

    def zalo_bot(request: Request) -> Response:
        body = json.loads(request.data)
        received.append(("zalo_bot", str(body["chat_id"]), body))
        return Response(json.dumps({"ok": True, "result": {"message_id": f"b{len(received)}", "date": 1}}), content_type="application/json")

    httpserver.expect_request("/me/messages", method="POST").respond_with_handler(messenger)
    httpserver.expect_request("/v3.0/oa/message/cs", method="POST").respond_with_handler(zalo)
    httpserver.expect_request("/v3.0/oa/message/promotion", method="POST").respond_with_handler(zalo)
    httpserver.expect_request("/v3.0/oa/group/message", method="POST").respond_with_handler(zalo)
    httpserver.expect_request("/bot12345:bot-secret-token/sendMessage", method="POST").respond_with_handler(zalo_bot)
    return received


def member(store, channel, pid, *, last, subscribed=True, status="active", unit=None, tags=None):
    m, _ = store.touch_member(channel, pid, at=last)
    store.set_subscribed(m["id"], subscribed)
    if status != "active":
        store.set_member_status(m["id"], status)
    if unit or tags:
        dbcheck.execute(store, "UPDATE members SET unit_code = ?, tags = ? WHERE id = ?", [unit, json.dumps(tags or []), m["id"]])
    return m["id"]


def deliver(app, store):
    """Drain every channel with the app's send rules (as the sender threads do)."""
    services = app.extensions["bot"]
    for name in ("messenger", "zalo", "zalo_bot"):
        drain(store, services.channels[name], app.config, policy=services.policy, clock=app.extensions["bot"].clock)


def tick(app, store, now):
    """Move the app's clock to ``now`` (and hold it there) and run the scheduler's tick."""
    app.extensions["bot"].clock.freeze(now)
    return broadcasts.tick(store, app.config, app.extensions["bot"].channels, now)


def test_send_now_reaches_each_subscriber_once(app, store, fake_platform, clock):
    now = clock.now()
    member(store, "messenger", "P1", last=now - HOUR)
    member(store, "zalo", "Z1", last=now - HOUR)
    member(store, "zalo_bot", "B1", last=now - HOUR)
    bid = broadcasts.create_broadcast(store, app.config, text="Tuần lễ Biển và Hải đảo 1–8/6", now=now, schedule="now")
    tick(app, store, now)
    tick(app, store, now + 1)  # a second tick must not start a second run
    deliver(app, store)
    assert sorted((c, r) for c, r, _ in fake_platform) == [("messenger", "P1"), ("zalo", "Z1"), ("zalo_bot", "B1")]
    messenger_body = next(b for c, _, b in fake_platform if c == "messenger")
    assert messenger_body["messaging_type"] == "UPDATE"
    tick(app, store, now + 2)
    report = broadcasts.report(store, bid)
    assert (report["targeted"], report["sent"], report["pending"], report["state"]) == (3, 3, 0, "done")


def test_once_at_a_local_time(app, store, fake_platform, clock):
    now = day(clock, 1, 7, 0)  # tomorrow 07:00
    member(store, "zalo", "Z1", last=now - HOUR)
    bid = broadcasts.create_broadcast(store, app.config, text="Nhắc lịch", now=now, schedule="once", run_at=day(clock, 1, 8, 0))
    tick(app, store, day(clock, 1, 7, 59))
    deliver(app, store)
    assert fake_platform == []
    tick(app, store, day(clock, 1, 8, 0, 5))
    deliver(app, store)
    assert [r for _, r, _ in fake_platform] == ["Z1"]
    assert [r["state"] for r in store.runs_of(bid)] == ["sending"]


def test_cron_every_monday_at_eight_runs_each_week_once(app, store, fake_platform, clock):
    saturday = day(clock, weekday=5)  # the coming Saturday (today if it is one)

    def sat(days, hour, minute=0, second=0):
        return saturday + days * 86400 + hour * HOUR + minute * 60 + second  # Vietnam has no DST

    start = sat(0, 12)
    member(store, "zalo", "Z1", last=start)
    bid = broadcasts.create_broadcast(store, app.config, text="Thông điệp chủ quyền hằng tuần", now=start, schedule="cron", cron="0 8 * * 1")
    assert store.get_broadcast(bid)["next_fire_at"] == sat(2, 8)  # Monday, not Tuesday
    for days, hour in ((1, 8), (2, 8), (2, 9), (2, 12)):
        store.touch_member("zalo", "Z1", at=sat(days, hour))  # keep the window open
        tick(app, store, sat(days, hour, 0, 1))
        deliver(app, store)
    assert len(fake_platform) == 1
    runs = store.runs_of(bid)
    assert [r["scheduled_for"] for r in runs] == [sat(2, 8)]
    assert store.get_broadcast(bid)["next_fire_at"] == sat(9, 8)


def test_cron_stops_after_the_end_date(app, store, clock):
    start = day(clock, 0, 12)
    bid = broadcasts.create_broadcast(store, app.config, text="x", now=start, schedule="cron", cron="0 8 * * *", until=day(clock, 2, 0, 0))
    tick(app, store, day(clock, 1, 8, 0, 1))
    tick(app, store, day(clock, 2, 8, 0, 1))
    tick(app, store, day(clock, 2, 8, 0, 2))
    assert len(store.runs_of(bid)) == 1
    assert store.get_broadcast(bid)["state"] == "done"


def test_missed_runs_after_downtime_run_once_within_grace_else_are_recorded(app, store, fake_platform, clock):
    start = day(clock, 0, 12)
    member(store, "zalo_bot", "B1", last=start)
    bid = broadcasts.create_broadcast(store, app.config, text="Tin hằng ngày", now=start, schedule="cron", cron="0 8 * * *")
    # the process was down from noon until 10:00 two days later: both 08:00 runs in between were missed
    restart = day(clock, 2, 10, 0)
    tick(app, store, restart)
    tick(app, store, restart + 5)  # and a second tick right after must change nothing
    deliver(app, store)
    runs = {r["scheduled_for"]: r["state"] for r in store.runs_of(bid)}
    assert runs == {day(clock, 1, 8, 0): "missed", day(clock, 2, 8, 0): "sending"}
    assert len(fake_platform) == 1
    # beyond the grace period (6 h) the run is recorded as missed, not sent late
    tick(app, store, day(clock, 3, 15, 0))
    assert {r["scheduled_for"]: r["state"] for r in store.runs_of(bid)}[day(clock, 3, 8, 0)] == "missed"


def test_restart_rebuilds_from_the_database(httpserver, db_path, fake_platform, clock):
    """A broadcast created before a restart fires after it, exactly once."""
    from app import create_app
    from bot.storage.store import Store
    from tests.conftest import platform_config

    config = platform_config(httpserver.url_for("/"), db_path)
    first = create_app(config, clock=clock)
    store = Store.open(db_path)
    now = clock.now()
    member(store, "zalo", "Z1", last=now)
    bid = broadcasts.create_broadcast(store, first.config, text="x", now=now, schedule="once", run_at=now + 60)
    second = create_app(config, clock=clock)  # "restart"
    tick(second, store, now + 61)
    tick(second, store, now + 62)
    deliver(second, store)
    assert [r for _, r, _ in fake_platform] == ["Z1"]
    assert len(store.runs_of(bid)) == 1
    store.close()


def test_platform_rules_skip_with_reasons(app, store, fake_platform, clock):
    now = clock.now()
    member(store, "messenger", "in-window", last=now - 23 * HOUR)
    member(store, "messenger", "out-window", last=now - 25 * HOUR)
    member(store, "zalo", "free", last=now - 47 * HOUR)
    member(store, "zalo", "paid", last=now - 3 * 24 * HOUR)
    member(store, "zalo", "expired", last=now - 8 * 24 * HOUR)
    member(store, "zalo", "stopped", last=now, subscribed=False)
    member(store, "zalo", "blocked", last=now, status="blocked")
    member(store, "zalo", "gone", last=now, status="unfollowed")
    member(store, "zalo_bot", "chat", last=now)
    bid = broadcasts.create_broadcast(store, app.config, text="x", now=now, schedule="now")
    tick(app, store, now)
    deliver(app, store)
    assert sorted(r for _, r, _ in fake_platform) == ["chat", "free", "in-window"]
    tick(app, store, now + 1)
    report = broadcasts.report(store, bid)
    assert report["skipped_by_reason"] == {
        "outside_window": 2,  # Messenger > 24 h, Zalo > 7 days
        "paid_window_disabled": 1,
        "unsubscribed": 1,
        "unreachable": 2,  # blocked, unfollowed
    }
    assert (report["targeted"], report["sent"], report["skipped"]) == (9, 3, 6)


def test_zalo_paid_window_can_be_allowed(app, store, fake_platform, clock):
    app.config["ZALO_ALLOW_PAID_WINDOW"] = True
    now = clock.now()
    member(store, "zalo", "paid", last=now - 3 * 24 * HOUR)
    broadcasts.create_broadcast(store, app.config, text="x", now=now, schedule="now")
    tick(app, store, now)
    deliver(app, store)
    assert [r for _, r, _ in fake_platform] == ["paid"]


def test_zalo_promotion_out_of_quota_is_recorded(app, store, httpserver, clock):
    app.config["ZALO_BROADCAST_TYPE"] = "promotion"
    httpserver.expect_request("/v3.0/oa/message/promotion", method="POST").respond_with_json({"error": -211, "message": "Out of quota"})
    now = clock.now()
    member(store, "zalo", "Z1", last=now - 30 * 24 * HOUR)  # promotion ignores the consultation window
    bid = broadcasts.create_broadcast(store, app.config, text="x", now=now, schedule="now")
    tick(app, store, now)
    deliver(app, store)
    assert broadcasts.report(store, bid)["failed_by_reason"] == {"out_of_quota": 1}


def test_stop_during_a_run_stops_further_messages(app, store, fake_platform, clock):
    now = clock.now()
    ids = [member(store, "zalo", f"Z{i}", last=now) for i in range(4)]
    bid = broadcasts.create_broadcast(store, app.config, text="x", now=now, schedule="now")
    tick(app, store, now)
    channel = app.extensions["bot"].channels["zalo"]
    policy = app.extensions["bot"].policy
    from bot.pipeline.outbox import deliver_one

    row = store.claim_outbound("zalo", now=clock.now())
    deliver_one(store, channel, row, config=app.config, policy=policy, clock=app.extensions["bot"].clock)
    store.set_subscribed(ids[2], False)  # Z2 says DỪNG while the run is sending
    deliver(app, store)
    assert sorted(r for _, r, _ in fake_platform) == ["Z0", "Z1", "Z3"]
    assert broadcasts.report(store, bid)["skipped_by_reason"] == {"unsubscribed": 1}


def test_pause_resume_cancel(app, store, fake_platform, clock):
    now = clock.now()
    for i in range(5):
        member(store, "zalo", f"Z{i}", last=now)
    bid = broadcasts.create_broadcast(store, app.config, text="x", now=now, schedule="now")
    tick(app, store, now)
    broadcasts.pause(store, bid, now)
    deliver(app, store)
    assert fake_platform == []
    assert broadcasts.report(store, bid)["pending"] == 5
    with pytest.raises(BroadcastError):
        broadcasts.pause(store, bid, now)
    broadcasts.resume(store, bid, now)
    row = store.claim_outbound("zalo", now=clock.now())
    from bot.pipeline.outbox import deliver_one

    deliver_one(store, app.extensions["bot"].channels["zalo"], row, config=app.config, policy=app.extensions["bot"].policy, clock=app.extensions["bot"].clock)
    broadcasts.cancel(store, bid, now)
    deliver(app, store)
    report = broadcasts.report(store, bid)
    assert (report["sent"], report["cancelled"], report["state"]) == (1, 4, "cancelled")
    assert len(fake_platform) == 1


def test_a_paused_broadcast_does_not_hold_up_replies(app, store, fake_platform, clock):
    now = clock.now()
    member(store, "zalo", "Z1", last=now)
    bid = broadcasts.create_broadcast(store, app.config, text="x", now=now, schedule="now")
    tick(app, store, now)
    broadcasts.pause(store, bid, now)
    store.enqueue(channel="zalo", recipient="Z1", messages=[{"text": "trả lời"}], at=now)
    deliver(app, store)
    assert [b["message"]["text"] for _, _, b in fake_platform] == ["trả lời"]


def test_quiet_hours_make_a_run_wait_for_their_end(app, store, fake_platform, clock):
    from datetime import time as clock_time

    app.config["QUIET_HOURS"] = (clock_time(21, 30), clock_time(7, 0))
    evening = day(clock, 0, 22, 0)
    member(store, "zalo", "Z1", last=evening)
    bid = broadcasts.create_broadcast(store, app.config, text="x", now=evening, schedule="now")
    tick(app, store, evening)
    tick(app, store, day(clock, 1, 6, 59))
    deliver(app, store)
    assert fake_platform == [] and [r["state"] for r in store.runs_of(bid)] == ["pending"]
    tick(app, store, day(clock, 1, 7, 0, 1))
    deliver(app, store)
    assert [r for _, r, _ in fake_platform] == ["Z1"]


def test_senders_hold_broadcast_messages_but_not_replies_in_quiet_hours(app, store, clock):
    now = clock.now()
    member(store, "zalo", "Z1", last=now)
    member(store, "zalo", "Z2", last=now)
    broadcasts.create_broadcast(store, app.config, text="x", now=now, schedule="now")
    tick(app, store, now)  # started before quiet hours; rows still pending when they begin
    reply_id = store.enqueue(channel="zalo", recipient="Z9", messages=[{"text": "trả lời"}], at=now)[0]
    row = store.claim_outbound("zalo", now=now, broadcasts=False)
    assert row["id"] == reply_id
    assert store.claim_outbound("zalo", now=now, broadcasts=False) is None
    assert store.claim_outbound("zalo", now=now, broadcasts=True)["kind"] == "broadcast"


def test_audiences_by_channel_unit_tag_and_group(app, store, fake_platform, clock):
    now = clock.now()
    member(store, "zalo", "Z-unit", last=now, unit="CT.PHULOI")
    member(store, "zalo", "Z-sub", last=now, unit="CT.PHULOI.CH01")
    member(store, "zalo", "Z-other", last=now, unit="CT.LAIHOA.CH01", tags=["ngư dân"])
    member(store, "messenger", "P1", last=now)
    store.touch_group("zalo", "G1", at=now)
    cases = {"unit:CT.PHULOI": {"Z-unit", "Z-sub"}, "tag:ngư dân": {"Z-other"}, "channel:messenger": {"P1"}, "group:G1": {"G1"}}
    for audience, expected in cases.items():
        fake_platform.clear()
        broadcasts.create_broadcast(store, app.config, text="x", now=now, schedule="now", audience=audience)
        tick(app, store, now)
        deliver(app, store)
        assert {r for _, r, _ in fake_platform} == expected, audience
    with pytest.raises(BroadcastError):
        broadcasts.create_broadcast(store, app.config, text="x", now=now, schedule="now", audience="group:unknown")
    with pytest.raises(BroadcastError):
        broadcasts.create_broadcast(store, app.config, text="x", now=now, schedule="now", audience="street:1")
    # a unit that is not in content/units.yaml would reach no one: refused, with the near misses
    with pytest.raises(BroadcastError, match=r"Không có đơn vị 'Phu Loi'\. Có phải: CT\.PHULOI \(Phường Phú Lợi\)"):
        broadcasts.create_broadcast(store, app.config, text="x", now=now, schedule="now", audience="unit:Phu Loi")
    bid = broadcasts.create_broadcast(store, app.config, text="x", now=now, schedule="now", audience="unit:ct.phuloi")
    assert store.get_broadcast(bid)["audience"] == "unit:CT.PHULOI"  # stored as the catalog writes it


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"text": ""}, "trống"),
        ({"text": "x" * 2001}, "2001"),
        ({"text": "x", "schedule": "once", "run_at": 0}, "đã qua"),
        ({"text": "x", "schedule": "cron", "cron": "99 99 * * *"}, "cron"),
        ({"text": "x", "image_url": "ftp://a"}, "https"),
    ],
)
def test_bad_broadcasts_get_clear_errors(app, store, kwargs, message, clock):
    args = {"schedule": "now", **kwargs}
    with pytest.raises(BroadcastError) as info:
        broadcasts.create_broadcast(store, app.config, now=clock.now(), **args)
    assert message in str(info.value)
    assert store.list_broadcasts() == []


def test_cli_create_list_report_and_dry_run(app, runner, store, fake_platform, clock):
    now = clock.now()
    member(store, "messenger", "P1", last=now)
    member(store, "messenger", "P2", last=now - 48 * HOUR)
    out = runner.invoke(args=["broadcast", "create", "--text", "Chào", "--now", "--audience", "channel:messenger", "--dry-run"])
    assert out.exit_code == 0, out.output
    dry = json.loads(out.output)
    assert dry["by_channel"]["messenger"] == {"targeted": 2, "would_send": 1, "would_skip": {"outside_window": 1}}
    assert store.list_broadcasts() == []  # a dry run creates nothing
    out = runner.invoke(args=["broadcast", "create", "--text", "Chào", "--cron", "every Monday 08:00"])
    assert out.exit_code == 0, out.output
    bid = int(out.output.strip())
    listed = json.loads(runner.invoke(args=["broadcast", "list", "--json"]).output)
    assert listed[0]["id"] == bid and listed[0]["next_run"].endswith("08:00")
    assert runner.invoke(args=["broadcast", "pause", str(bid)]).exit_code == 0
    assert runner.invoke(args=["broadcast", "pause", str(bid)]).exit_code == 1
    report = json.loads(runner.invoke(args=["broadcast", "report", str(bid), "--json"]).output)
    assert set(report) >= {"targeted", "sent", "failed", "skipped", "pending", "failed_by_reason", "skipped_by_reason"}
    bad = runner.invoke(args=["broadcast", "create", "--text", "x", "--at", "hôm nay"])
    assert bad.exit_code != 0 and "ISO 8601" in bad.output and "ngày mai 08:00" in bad.output


def test_relative_times_count_from_the_app_clock(clock):
    from scheduler.schedule import parse_local_datetime, parse_until

    tz = "Asia/Ho_Chi_Minh"
    assert parse_local_datetime("ngày mai 08:00", tz, now=clock.now()) == day(clock, 1, 8, 0)
    assert parse_local_datetime("ngay mai 8h", tz, now=clock.now()) == day(clock, 1, 8, 0)
    assert parse_local_datetime("Hôm nay 20:30", tz, now=clock.now()) == day(clock, 0, 20, 30)
    assert parse_local_datetime("ngày kia 07:05", tz, now=clock.now()) == day(clock, 2, 7, 5)
    assert parse_until("+8 tuần", tz, now=clock.now()) == day(clock, 57) - 1  # that whole day included
    assert parse_until("30 ngày", tz, now=clock.now()) == day(clock, 31) - 1
    with pytest.raises(ScheduleError):
        parse_local_datetime("ngày mai 25:00", tz, now=clock.now())


def test_the_readme_broadcast_commands_work_as_written(runner, store, clock):
    """Every `flask --app app broadcast create` line of the README runs, on whatever day it is read."""
    import re
    import shlex
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    lines = re.findall(r"^flask --app app (broadcast create .*?)(?:\s+#.*)?$", readme, re.M)
    assert len(lines) >= 3
    for line in lines:
        result = runner.invoke(args=shlex.split(line))
        assert result.exit_code == 0, (line, result.output)


def test_an_end_date_includes_that_day_but_not_the_next_midnight(app, store, clock):
    from scheduler.schedule import next_cron_fire, parse_until

    tz = "Asia/Ho_Chi_Minh"
    last = datetime.fromtimestamp(day(clock, 27), TZ).date()
    until = parse_until(last.isoformat(), tz)
    assert next_cron_fire("0 0 * * *", tz, day(clock, 26, 12, 0), end=until) == day(clock, 27, 0, 0)
    assert next_cron_fire("59 23 * * *", tz, day(clock, 27, 12, 0), end=until) == day(clock, 27, 23, 59)
    # midnight after the end date belongs to the next day: no more runs
    assert next_cron_fire("0 0 * * *", tz, day(clock, 27, 12, 0), end=until) is None
    with pytest.raises(BroadcastError):
        broadcasts.create_broadcast(store, app.config, text="x", now=day(clock, 27, 12, 0), schedule="cron", cron="0 0 * * *", until=until)


def test_a_message_retried_after_cancel_is_not_sent(app, store, httpserver, clock):
    """A send in flight when staff cancel fails temporarily: its retry must not go out after the cancel."""
    now = clock.now()
    member(store, "zalo", "Z1", last=now)
    bid = broadcasts.create_broadcast(store, app.config, text="x", now=now, schedule="now")
    tick(app, store, now)
    row = store.claim_outbound("zalo", now=now)  # in flight
    broadcasts.cancel(store, bid, now)
    # the platform answered with a temporary error: the outbox puts the row back as pending
    store.mark_retry(row["id"], at=now, next_attempt_at=now, code="500", subcode=None, message="temporary")
    sent: list[dict] = []

    def zalo(request: Request) -> Response:
        sent.append(json.loads(request.data))
        return Response(json.dumps({"data": {"message_id": "z1"}, "error": 0, "message": "Success"}), content_type="application/json")

    httpserver.expect_request("/v3.0/oa/message/cs", method="POST").respond_with_handler(zalo)
    deliver(app, store)
    assert sent == []
    assert broadcasts.report(store, bid)["sent"] == 0


def test_a_pause_while_the_scheduler_finishes_runs_is_kept_and_the_broadcast_still_ends(app, store, fake_platform, monkeypatch, clock, httpserver):
    """The scheduler lists runs and broadcasts, then updates them; staff may pause in between
    (another thread or process). The pause must hold, and after resume the broadcast reaches done."""
    now = clock.now()
    member(store, "zalo", "Z1", last=now)
    once = broadcasts.create_broadcast(store, app.config, text="x", now=now, schedule="now")
    tick(app, store, now)
    deliver(app, store)  # every message sent; the run is still 'sending' until the next tick
    stale = {state: store.runs_in_state(state) for state in ("sending", "pending")}
    broadcasts.pause(store, once, now + 1)  # staff pause right after the scheduler listed the runs
    with monkeypatch.context() as m:
        m.setattr(store, "runs_in_state", lambda *states: stale[states[0]])
        broadcasts.finish_runs(store, now + 2)
    assert store.get_broadcast(once)["state"] == "paused"
    broadcasts.resume(store, once, now + 3)
    tick(app, store, now + 4)
    assert store.get_broadcast(once)["state"] == "done"
    assert [r["state"] for r in store.runs_of(once)] == ["done"]

    # a repeating broadcast whose run just finished: a pause made while finish_runs runs is not undone
    start = day(clock, 0, 12, 0, weekday=5)  # the coming Saturday
    weekly = broadcasts.create_broadcast(store, app.config, text="y", now=start, schedule="cron", cron="0 8 * * 1")
    monday = day(clock, 2, 8, 0, 1, weekday=5)
    store.touch_member("zalo", "Z1", at=monday)
    # two days on, the Zalo OA access token is refreshed (a refused token would hold the queue)
    httpserver.expect_request("/v4/oa/access_token", method="POST").respond_with_json(
        {"access_token": "zalo-access-2", "refresh_token": "zalo-refresh-2", "expires_in": "90000"}
    )
    tick(app, store, monday)
    deliver(app, store)
    with monkeypatch.context() as m:  # finish_runs has marked the run done and is about to list the broadcasts
        m.setattr(store, "list_broadcasts", lambda: [])
        broadcasts.finish_runs(store, monday + 1)
    listed = store.list_broadcasts()
    assert [r["state"] for r in store.runs_of(weekly)] == ["done"] and store.get_broadcast(weekly)["state"] == "sending"
    broadcasts.pause(store, weekly, monday + 1)
    with monkeypatch.context() as m:
        m.setattr(store, "list_broadcasts", lambda: listed)
        broadcasts.finish_runs(store, monday + 2)
    assert store.get_broadcast(weekly)["state"] == "paused"


@pytest.mark.parametrize("action,state", [(broadcasts.pause, "paused"), (broadcasts.cancel, "cancelled")])
def test_a_send_in_flight_at_pause_or_cancel_that_must_be_retried_keeps_that_state(app, store, httpserver, action, state, clock):
    """A temporary error on a message that was in flight when staff paused or cancelled."""
    from bot.pipeline.outbox import deliver_one

    httpserver.expect_request("/v3.0/oa/message/cs", method="POST").respond_with_json({"error": -32, "message": "Rate limit"})
    now = clock.now()
    member(store, "zalo", "Z1", last=now)
    bid = broadcasts.create_broadcast(store, app.config, text="x", now=now, schedule="now")
    tick(app, store, now)
    row = store.claim_outbound("zalo", now=clock.now())  # in flight...
    action(store, bid, now)  # ...when staff act
    deliver_one(store, app.extensions["bot"].channels["zalo"], row, config=app.config, clock=app.extensions["bot"].clock)
    assert store.get_outbound(row["id"])["status"] == state
    assert store.claim_outbound("zalo", now=clock.now() + 3600) is None  # not sent while paused / ever


def test_cron_day_of_month_or_weekday_fires_on_either_as_crontab_does():
    from scheduler.schedule import next_cron_fire

    tz = "Asia/Ho_Chi_Minh"
    # A pure function of the instant it is given (no clock): a fixed calendar example.
    # "08:00 on the 1st of the month, and every Monday": from Saturday 28/11/2026
    first = next_cron_fire("0 8 1 * 1", tz, local(2026, 11, 28, 12, 0))
    assert first == local(2026, 11, 30, 8, 0)  # Monday 30/11 (not a 1st)
    second = next_cron_fire("0 8 1 * 1", tz, first)
    assert second == local(2026, 12, 1, 8, 0)  # Tuesday 1/12 (not a Monday)
    assert next_cron_fire("0 8 1 * *", tz, local(2026, 11, 28, 12, 0)) == local(2026, 12, 1, 8, 0)
