"""`flask broadcast ...`: plan, watch, pause, resume, cancel and report broadcasts."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup

from bot.core.formats import schedule_in_words, time_text
from bot.web.context import clock_now, get_store
from scheduler import broadcasts
from scheduler.schedule import (
    ScheduleError,
    normalise_cron,
    parse_local_datetime,
    parse_until,
)

broadcast_cli = AppGroup("broadcast", help="Tin nhắn gửi hàng loạt theo lịch / scheduled broadcasts.")


def _fail(message: str) -> None:
    raise click.ClickException(message)


@broadcast_cli.command("create")
@click.option("--text", required=True, help="Nội dung (tối đa 2.000 ký tự).")
@click.option("--now", "send_now", is_flag=True, help="Gửi ngay.")
@click.option("--at", "at", help='Gửi một lần lúc: "ngày mai 08:00", "hôm nay 20:30" hoặc ISO 8601 (giờ địa phương nếu không ghi múi giờ).')
@click.option("--cron", help='Lặp lại: cron 5 trường ("0 8 * * 1") hoặc mẫu ("every Monday 08:00").')
@click.option("--audience", default="all", show_default=True, help="all | channel:NAME | unit:CODE | tag:NAME | contest:ID | group:ID")
@click.option("--image", "image_url", help="Đường dẫn ảnh (https://...).")
@click.option("--link", nargs=2, metavar="TITLE URL", help="Một nút liên kết.")
@click.option("--until", help='Ngày kết thúc, tính hết ngày đó: "+4 tuần", "+30 ngày" (từ hôm nay) hoặc YYYY-MM-DD.')
@click.option("--dry-run", is_flag=True, help="Chỉ đếm người nhận theo kênh và số sẽ bị bỏ qua; không tạo gì.")
def create(text, send_now, at, cron, audience, image_url, link, until, dry_run):
    """Create a broadcast and print its id."""
    config = current_app.config
    store = get_store()
    now = clock_now()
    if sum(bool(x) for x in (send_now, at, cron)) != 1:
        _fail("Chọn đúng một trong --now, --at, --cron.")
    try:
        if dry_run:
            click.echo(json.dumps(broadcasts.dry_run(store, config, audience, now), ensure_ascii=False, indent=2))
            return
        until_ts = parse_until(until, config["TIMEZONE"], now=now) if until else None
        if send_now:
            broadcast_id = broadcasts.create_broadcast(store, config, text=text, now=now, schedule="now", audience=audience, image_url=image_url, link=tuple(link) if link else None, until=until_ts, created_by="cli")
        elif at:
            broadcast_id = broadcasts.create_broadcast(store, config, text=text, now=now, schedule="once", run_at=parse_local_datetime(at, config["TIMEZONE"], now=now), audience=audience, image_url=image_url, link=tuple(link) if link else None, until=until_ts, created_by="cli")
        else:
            broadcast_id = broadcasts.create_broadcast(store, config, text=text, now=now, schedule="cron", cron=normalise_cron(cron), audience=audience, image_url=image_url, link=tuple(link) if link else None, until=until_ts, created_by="cli")
    except (broadcasts.BroadcastError, ScheduleError) as exc:
        _fail(str(exc))
    click.echo(broadcast_id)


def _summary(store, b, tz: str) -> dict:
    return {
        "id": b["id"],
        "state": b["state"],
        "schedule": b["schedule"],
        "cron": b["cron"],
        "schedule_text": schedule_in_words(b["cron"]) if b["cron"] else None,
        "audience": b["audience"],
        "next_run": time_text(b["next_fire_at"], tz) if b["next_fire_at"] else None,
        "next_run_at": b["next_fire_at"],
        "text": b["text"],
    }


@broadcast_cli.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_command(as_json):
    """Broadcasts with their state and next run time."""
    store = get_store()
    tz = current_app.config["TIMEZONE"]
    rows = [_summary(store, b, tz) for b in store.list_broadcasts()]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        click.echo("Chưa có tin nhắn nào.")
    for r in rows:
        text = r["text"] if len(r["text"]) <= 50 else r["text"][:49] + "…"
        click.echo(f"#{r['id']:<4} {r['state']:<10} lần tới: {r['next_run'] or '—':<16} {r['audience']:<18} {text}")
        if r["schedule_text"]:
            click.echo(f"      lặp lại: {r['schedule_text']}")


def _control(action, broadcast_id: int) -> None:
    try:
        result = action(get_store(), broadcast_id, clock_now())
    except broadcasts.BroadcastError as exc:
        _fail(str(exc))
    click.echo(f"#{broadcast_id}: {result['state']}")


@broadcast_cli.command("pause")
@click.argument("broadcast_id", type=int)
def pause_command(broadcast_id):
    """Pause a broadcast (its current run and future runs)."""
    _control(broadcasts.pause, broadcast_id)


@broadcast_cli.command("resume")
@click.argument("broadcast_id", type=int)
def resume_command(broadcast_id):
    """Resume a paused broadcast."""
    _control(broadcasts.resume, broadcast_id)


@broadcast_cli.command("cancel")
@click.argument("broadcast_id", type=int)
def cancel_command(broadcast_id):
    """Cancel a broadcast: nothing more is sent."""
    _control(broadcasts.cancel, broadcast_id)


@broadcast_cli.command("report")
@click.argument("broadcast_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def report_command(broadcast_id, as_json):
    """Targeted, sent, failed, skipped and pending, with the reasons."""
    try:
        data = broadcasts.report(get_store(), broadcast_id)
    except broadcasts.BroadcastError as exc:
        _fail(str(exc))
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    click.echo(f"Tin #{broadcast_id} ({data['state']})")
    for key, label in (("targeted", "Đối tượng"), ("sent", "Đã gửi"), ("delivered", "Đã nhận"), ("read", "Đã xem"),
                       ("failed", "Lỗi"), ("skipped", "Bỏ qua"), ("pending", "Chờ gửi"), ("uncertain", "Không chắc chắn")):
        click.echo(f"  {label:<16} {'không hỗ trợ' if data[key] is None else data[key]}")
    unsupported = [name for name, ok in data["receipts"].items() if not ok]
    if unsupported and data["delivered"] is not None:
        click.echo(f"  (Đã nhận/Đã xem không tính {', '.join(unsupported)}: kênh không hỗ trợ báo nhận)")
    for title, reasons in (("Lỗi theo lý do", data["failed_by_reason"]), ("Bỏ qua theo lý do", data["skipped_by_reason"])):
        if reasons:
            click.echo(f"  {title}:")
            for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
                click.echo(f"    {broadcasts.REASONS.get(reason, reason)}: {n}")
