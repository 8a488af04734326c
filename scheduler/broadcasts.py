"""Broadcasts: planning, runs, the platforms' send rules, control and reports.

Every function takes ``now`` (epoch seconds) so tests drive the clock.  The
database is the source of truth: a broadcast's ``next_fire_at`` is the next fire
time not yet handled, and a run is unique per (broadcast, fire time), so a fire
time is handled at most once whatever the scheduler does.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from bot.channels.base import TEXT_LIMIT
from bot.core.models import RECEIPT_CHANNELS, Reply
from bot.participation.catalog import check_unit
from bot.participation.units import UnknownUnitError
from bot.storage.broadcasts import BROADCAST_CHANNELS, AudienceError, audience_filter
from bot.storage.store import Store
from scheduler.policy import REASONS, skip_reason  # noqa: F401  (REASONS: re-exported for the console and CLI)
from scheduler.schedule import ScheduleError, in_quiet_hours, next_cron_fire

logger = logging.getLogger(__name__)

ACTIVE_RUN_STATES = ("pending", "sending", "paused")

class BroadcastError(ValueError):
    """A broadcast request staff must fix (message in Vietnamese)."""


# -- planning ----------------------------------------------------------------------
def validate_audience(store: Store, audience: str, config: dict[str, Any] | None = None) -> str:
    """The audience as stored; with ``config``, a unit code must be in content/units.yaml."""
    audience = (audience or "all").strip()
    kind, _, value = audience.partition(":")
    if kind == "unit" and value and config is not None and config.get("CONTENT_DIR"):
        try:
            audience = f"unit:{check_unit(config, value)}"  # "unit:Phu Loi" would reach no one
        except UnknownUnitError as exc:
            raise BroadcastError(str(exc)) from None
    if kind == "group":
        if not value:
            raise BroadcastError("Cần mã nhóm: group:MÃ_NHÓM")
        if store.find_group(value) is None:
            raise BroadcastError(f"Không tìm thấy nhóm {value}: bot chỉ biết các nhóm đã từng nhắn tin với bot.")
        return audience
    try:
        audience_filter(audience)
    except AudienceError as exc:
        raise BroadcastError(f"Đối tượng nhận không hợp lệ: {exc}") from None
    return audience


def create_broadcast(
    store: Store,
    config: dict[str, Any],
    *,
    text: str,
    now: float,
    schedule: str,
    run_at: float | None = None,
    cron: str | None = None,
    until: float | None = None,
    audience: str = "all",
    image_url: str | None = None,
    link: tuple[str, str] | None = None,
    created_by: str = "",
    draft: bool = False,
) -> int:
    """Validate and store a broadcast; returns its id."""
    text = (text or "").strip()
    if not text:
        raise BroadcastError("Nội dung tin nhắn đang trống.")
    if len(text) > TEXT_LIMIT:
        raise BroadcastError(f"Nội dung dài {len(text)} ký tự, tối đa {TEXT_LIMIT}.")
    for url in [image_url, link[1] if link else None]:
        if url and not url.startswith(("https://", "http://")):
            raise BroadcastError(f"Đường dẫn phải bắt đầu bằng https://: {url}")
    audience = validate_audience(store, audience, config)
    if schedule == "now":
        first = now
    elif schedule == "once":
        if run_at is None:
            raise BroadcastError("Cần thời điểm gửi.")
        if run_at < now - 60:
            raise BroadcastError("Thời điểm gửi đã qua.")
        first = run_at
    elif schedule == "cron":
        if not cron:
            raise BroadcastError("Cần lịch lặp lại (cron).")
        try:
            first = next_cron_fire(cron, config["TIMEZONE"], now, end=until)
        except ScheduleError as exc:
            raise BroadcastError(str(exc)) from None
        if first is None:
            raise BroadcastError("Lịch lặp lại không còn lần gửi nào trước ngày kết thúc.")
    else:
        raise BroadcastError(f"Kiểu lịch không hợp lệ: {schedule}")
    if until is not None and schedule != "cron" and first > until:
        raise BroadcastError("Ngày kết thúc sớm hơn thời điểm gửi.")
    return store.create_broadcast(
        {
            "text": text, "image_url": image_url, "link_title": link[0] if link else None,
            "link_url": link[1] if link else None, "audience": audience, "schedule": schedule,
            "run_at": run_at, "cron": cron, "until": until, "created_by": created_by,
            "state": "draft" if draft else "scheduled", "next_fire_at": None if draft else first,
        },
        at=now,
    )


def _next_fire(broadcast: dict[str, Any], after: float, config: dict[str, Any]) -> float | None:
    if broadcast["schedule"] != "cron":
        return None
    return next_cron_fire(broadcast["cron"], config["TIMEZONE"], after, end=broadcast["until"])


# -- the scheduler's work ---------------------------------------------------------------
def tick(store: Store, config: dict[str, Any], channels: dict[str, Any], now: float) -> dict[str, int]:
    """Everything due at ``now``: new runs, runs to start, runs that finished."""
    created = plan_due_runs(store, config, now)
    started = start_runs(store, config, channels, now)
    finished = finish_runs(store, now)
    return {"created": created, "started": started, "finished": finished}


def plan_due_runs(store: Store, config: dict[str, Any], now: float) -> int:
    """Create a run for each fire time that has come; old missed fire times are recorded.

    After downtime only the latest missed fire time runs, and only if it is within
    MISSED_RUN_GRACE_HOURS; the others are recorded as missed.  Never twice: runs
    are unique per fire time and ``next_fire_at`` advances in the same transaction.
    """
    grace = float(config["MISSED_RUN_GRACE_HOURS"]) * 3600
    created = 0
    for broadcast in store.due_broadcasts(now):
        with store.transaction():
            current = store.get_broadcast(broadcast["id"])
            if current is None or current["state"] not in ("scheduled", "sending") or current["next_fire_at"] is None:
                continue
            fires = []
            fire: float | None = current["next_fire_at"]
            while fire is not None and fire <= now:
                fires.append(fire)
                fire = _next_fire(current, fire, config)
            if not fires:
                continue
            for missed in fires[:-1]:
                store.add_run(current["id"], missed, state="missed", at=now, note="không gửi vào giờ này (máy chủ dừng hoặc tin đang tạm dừng)")
            latest = fires[-1]
            if now - latest <= grace:
                if store.add_run(current["id"], latest, state="pending", at=now):
                    created += 1
            else:
                store.add_run(current["id"], latest, state="missed", at=now, note="quá thời gian cho phép gửi bù")
                logger.warning("broadcast %s: run of %s missed (beyond grace)", current["id"], latest)
            store.update_broadcast(
                current["id"], at=now, next_fire_at=fire, state="sending" if current["state"] == "scheduled" else current["state"]
            )
    return created


def render_parts(channels: dict[str, Any], broadcast: dict[str, Any], config: dict[str, Any]) -> list[tuple[str, int, dict[str, Any], str]]:
    """The broadcast rendered once per channel: (channel, part, message, messaging_type)."""
    link = (broadcast["link_title"] or "Xem thêm", broadcast["link_url"]) if broadcast["link_url"] else None
    reply = Reply(broadcast["text"], image_url=broadcast["image_url"], link=link)
    messaging_types = {"messenger": "UPDATE", "zalo": config.get("ZALO_BROADCAST_TYPE", "cs"), "zalo_bot": "RESPONSE"}
    parts = []
    kind, _, value = broadcast["audience"].partition(":")
    for name in BROADCAST_CHANNELS:
        channel = channels.get(name)
        if channel is None or not channel.enabled:
            continue
        group = kind == "group"
        for i, message in enumerate(channel.render(reply, group=group)):
            parts.append((name, i, message, "RESPONSE" if group else messaging_types[name]))
    return parts


def _late_beyond_grace(run: dict[str, Any], config: dict[str, Any], now: float) -> bool:
    """True when a pending run starts more than MISSED_RUN_GRACE_HOURS after it could first
    have started: its fire time, or the end of the quiet hours it fell into."""
    grace = float(config["MISSED_RUN_GRACE_HOURS"]) * 3600
    due = float(run["scheduled_for"])
    if now - due <= grace:
        return False
    limit = due + 86400
    while due < min(now, limit) and in_quiet_hours(due, config.get("QUIET_HOURS"), config["TIMEZONE"]):
        due += 60  # quiet hours hold a run back: that wait does not count
    return now - due > grace


EXPAND_CHUNK = 2000  # members per expansion transaction (a few milliseconds of write lock)


def start_runs(store: Store, config: dict[str, Any], channels: dict[str, Any], now: float, *, chunk: int = EXPAND_CHUNK) -> int:
    """Start pending runs and expand them into the outbox, outside quiet hours.

    The expansion goes in chunks of ``chunk`` members, each its own short
    transaction, with a cursor kept on the run: webhooks are never held up behind a
    whole audience, the first messages leave while the rest is expanded, and a run
    interrupted half-way (a crash) is resumed from its cursor at the next tick.
    """
    if in_quiet_hours(now, config.get("QUIET_HOURS"), config["TIMEZONE"]):
        return 0  # runs wait for the end of quiet hours
    started = 0
    for listed in store.runs_to_expand():
        with store.transaction():
            run = store.get_run(listed["id"], lock=True)
            if run is None or run["state"] == "cancelled":
                continue
            broadcast = store.get_broadcast(run["broadcast_id"])
            assert broadcast is not None
            if run["state"] == "pending" and _late_beyond_grace(run, config, now):
                # planned, then the process stopped (or the run waited) longer than the grace
                store.set_run_state(run["id"], "missed", at=now, note="quá thời gian cho phép gửi bù")
                logger.warning("broadcast %s run %s missed: started beyond the grace period", broadcast["id"], run["id"])
                continue
            if run["state"] == "pending":
                store.save_run_parts(run["id"], render_parts(channels, broadcast, config))
                store.set_run_state(run["id"], "sending", at=now, started_at=now)
                started += 1
            elif run["started_at"] is None or run["expanded_at"] is not None:
                continue
        cursor = run["expand_cursor"]
        while True:
            with store.transaction():
                current = store.get_run(run["id"], lock=True)
                if current is None or current["state"] == "cancelled":
                    break
                status = "paused" if current["state"] == "paused" else "pending"
                _, cursor, more = store.expand_run_chunk(
                    run["id"], broadcast["audience"], after=cursor, limit=chunk, at=now, status=status
                )
                if more:
                    store.set_run_state(run["id"], current["state"], at=now, expand_cursor=cursor)
                    continue
                targeted = sum(c["n"] for c in store.run_counts([run["id"]]))
                store.set_run_state(
                    run["id"], current["state"], at=now, expand_cursor=cursor, expanded_at=now, targeted=targeted
                )
                logger.info("broadcast %s run %s expanded: %d recipients", broadcast["id"], run["id"], targeted)
                break
    return started


def finish_runs(store: Store, now: float) -> int:
    """Runs with nothing left to send are done; a broadcast with no more fires is done."""
    finished = 0
    for run in store.runs_in_state("sending"):
        with store.transaction():
            current = store.get_run(run["id"], lock=True)  # staff may have paused or cancelled it since the listing
            if (
                current is not None
                and current["state"] == "sending"
                and current["expanded_at"] is not None  # not while still being expanded
                and store.run_open_rows(run["id"]) == 0
            ):
                store.set_run_state(run["id"], "done", at=now, finished_at=now)
                finished += 1
    for broadcast in store.list_broadcasts():
        if broadcast["state"] != "sending":
            continue
        with store.transaction():
            current = store.get_broadcast(broadcast["id"], lock=True)  # re-read: a pause since the listing must hold
            if current is None or current["state"] != "sending":
                continue
            active = [r for r in store.runs_of(current["id"]) if r["state"] in ACTIVE_RUN_STATES]
            if not active:
                store.update_broadcast(current["id"], at=now, state="done" if current["next_fire_at"] is None else "scheduled")
    return finished


# -- control -----------------------------------------------------------------------
def _active_runs(store: Store, broadcast_id: int) -> list[dict[str, Any]]:
    return [r for r in store.runs_of(broadcast_id) if r["state"] in ACTIVE_RUN_STATES]


def _get(store: Store, broadcast_id: int, *, lock: bool = False) -> dict[str, Any]:
    broadcast = store.get_broadcast(broadcast_id, lock=lock)
    if broadcast is None:
        raise BroadcastError(f"Không có tin nhắn định kỳ số {broadcast_id}.")
    return broadcast


def pause(store: Store, broadcast_id: int, now: float) -> dict[str, Any]:
    with store.transaction():
        broadcast = _get(store, broadcast_id, lock=True)  # PostgreSQL: one control at a time per broadcast
        if broadcast["state"] in ("done", "cancelled"):
            raise BroadcastError("Tin này đã kết thúc, không tạm dừng được.")
        if broadcast["state"] == "paused":
            raise BroadcastError("Tin này đang tạm dừng.")
        for run in _active_runs(store, broadcast_id):
            store.set_run_rows(run["id"], ("pending",), "paused", at=now)
            store.set_run_state(run["id"], "paused", at=now)
        store.update_broadcast(broadcast_id, at=now, state="paused")
    return _get(store, broadcast_id)


def resume(store: Store, broadcast_id: int, now: float) -> dict[str, Any]:
    with store.transaction():
        broadcast = _get(store, broadcast_id, lock=True)  # PostgreSQL: one control at a time per broadcast
        if broadcast["state"] != "paused":
            raise BroadcastError("Tin này không ở trạng thái tạm dừng.")
        runs = _active_runs(store, broadcast_id)
        for run in runs:
            store.set_run_rows(run["id"], ("paused",), "pending", at=now)
            store.set_run_state(run["id"], "sending" if run["started_at"] else "pending", at=now)
        store.update_broadcast(broadcast_id, at=now, state="sending" if runs else "scheduled")
    return _get(store, broadcast_id)


def cancel(store: Store, broadcast_id: int, now: float) -> dict[str, Any]:
    with store.transaction():
        broadcast = _get(store, broadcast_id, lock=True)  # PostgreSQL: one control at a time per broadcast
        if broadcast["state"] in ("done", "cancelled"):
            raise BroadcastError("Tin này đã kết thúc.")
        for run in _active_runs(store, broadcast_id):
            store.set_run_rows(run["id"], ("pending", "paused"), "cancelled", at=now)
            store.set_run_state(run["id"], "cancelled", at=now, finished_at=now)
        store.update_broadcast(broadcast_id, at=now, state="cancelled", next_fire_at=None)
    return _get(store, broadcast_id)


# -- reports -----------------------------------------------------------------------
def report(store: Store, broadcast_id: int, *, run_id: int | None = None) -> dict[str, Any]:
    """Counts targeted, sent, failed (by reason), skipped (by reason), pending, uncertain, and
    delivered / read where the platform reports them (None for a channel that cannot: Zalo Bot)."""
    broadcast = _get(store, broadcast_id)
    runs = store.runs_of(broadcast_id)
    if run_id is not None:
        runs = [r for r in runs if r["id"] == run_id]
    totals: dict[str, Any] = {"targeted": 0, "sent": 0, "failed": 0, "skipped": 0, "pending": 0, "uncertain": 0, "cancelled": 0}
    failed_by: dict[str, int] = defaultdict(int)
    skipped_by: dict[str, int] = defaultdict(int)
    by_channel: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for row in store.run_counts([r["id"] for r in runs]):
        n, status = row["n"], row["status"]
        totals["targeted"] += n
        key = "pending" if status in ("pending", "sending", "paused") else status
        totals[key] = totals.get(key, 0) + n
        counts = by_channel[row["channel"]]
        counts[key] += n
        counts["delivered"] += row["delivered"] or 0
        counts["read"] += row["read"] or 0
        if status == "failed":
            failed_by[row["reason"] or "platform_error"] += n
        elif status == "skipped":
            skipped_by[row["reason"]] += n
    receipts = {name: name in RECEIPT_CHANNELS for name in by_channel}
    for name, counts in by_channel.items():
        if not receipts[name]:
            counts["delivered"] = counts["read"] = None  # "không hỗ trợ", never 0
    supported = [c for name, c in by_channel.items() if receipts[name]]
    return {
        "broadcast_id": broadcast_id,
        "state": broadcast["state"],
        **totals,
        "delivered": sum(c["delivered"] for c in supported) if supported else None,
        "read": sum(c["read"] for c in supported) if supported else None,
        "receipts": receipts,
        "failed_by_reason": dict(failed_by),
        "skipped_by_reason": dict(skipped_by),
        "by_channel": {k: dict(v) for k, v in by_channel.items()},
        "runs": [
            {"id": r["id"], "scheduled_for": r["scheduled_for"], "state": r["state"], "targeted": r["targeted"], "note": r["note"]}
            for r in runs
        ],
        "reason_labels": {k: REASONS.get(k, k) for k in {*failed_by, *skipped_by}},
    }


def dry_run(store: Store, config: dict[str, Any], audience: str, now: float) -> dict[str, Any]:
    """How many members the audience reaches per channel, and how many the rules would skip now."""
    audience = validate_audience(store, audience, config)
    if audience.startswith("group:"):
        group = store.find_group(audience.split(":", 1)[1])
        return {"audience": audience, "total": 1, "by_channel": {group["channel"]: {"targeted": 1, "would_send": 1, "would_skip": {}}}}
    by_channel: dict[str, dict[str, Any]] = {}
    for member in store.audience_members(audience):
        entry = by_channel.setdefault(member["channel"], {"targeted": 0, "would_send": 0, "would_skip": defaultdict(int)})
        entry["targeted"] += 1
        reason = skip_reason(member, member["channel"], config, now)
        if reason:
            entry["would_skip"][reason] += 1
        else:
            entry["would_send"] += 1
    for entry in by_channel.values():
        entry["would_skip"] = dict(entry["would_skip"])
    return {"audience": audience, "total": sum(e["targeted"] for e in by_channel.values()), "by_channel": by_channel}
