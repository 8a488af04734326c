"""`flask handoff list|reply|close|notify|report`: conversations members opened with GẶP CÁN BỘ."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup

from bot.handoff import notify, service
from bot.handoff.report import handoff_figures
from bot.web.context import clock_now, get_services, get_store

handoff_cli = AppGroup("handoff", help="Conversations with staff (GẶP CÁN BỘ): list, reply, close.")


def _local(ts: float | None) -> str:
    if not ts:
        return "—"
    return dt.datetime.fromtimestamp(float(ts), ZoneInfo(current_app.config["TIMEZONE"])).strftime("%d/%m/%Y %H:%M")


@handoff_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--all", "show_all", is_flag=True, help="Closed conversations too.")
@click.option("--unit", default=None, help="Only this unit and its sub-units.")
def list_command(as_json: bool, show_all: bool, unit: str | None) -> None:
    """Open conversations, those waiting longest first."""
    rows = get_store().list_handoffs(state=None if show_all else "open", scope_unit=unit)
    if as_json:
        for row in rows:
            click.echo(json.dumps(service.summary(row), ensure_ascii=False))
        return
    if not rows:
        click.echo("Không có cuộc trò chuyện nào đang mở.")
        return
    for row in rows:
        s = service.summary(row)
        waiting = f"chờ từ {_local(s['waiting_since'])}" if s["waiting_since"] else "đã trả lời"
        last = " ".join(s["last_message"].split())[:60]
        click.echo(
            f"#{s['id']} [{s['channel']}] {s['member']} – {s['unit'] or 'cấp Hội'} – mở {_local(s['opened_at'])}"
            f" – {waiting}: {last}"
        )


@handoff_cli.command("reply")
@click.argument("handoff_id", type=int)
@click.option("--text", required=True, help="The reply, written by a person.")
@click.option("--confirm-paid", is_flag=True, help="Zalo OA 48 h–7 d: agree that this reply is billed.")
def reply_command(handoff_id: int, text: str, confirm_paid: bool) -> None:
    """Send a staff reply through the outbox (within the platform's window)."""
    services = get_services()
    try:
        result = service.reply(
            get_store(), services.channels, services.config, handoff_id, text,
            now=clock_now(), staff_name="cli", confirm_paid=confirm_paid,
        )
    except service.HandoffError as err:
        raise click.ClickException(str(err)) from err
    service.deliver_now(get_store(), services, get_store().get_handoff(handoff_id)["channel"])
    click.echo(f"Đã xếp tin trả lời vào hàng gửi (outbox {', '.join(map(str, result['outbox_ids']))}). {result['window'].reason}")


@handoff_cli.command("close")
@click.argument("handoff_id", type=int)
@click.option("--quiet", is_flag=True, help="Do not tell the member.")
def close_command(handoff_id: int, quiet: bool) -> None:
    """End the conversation: the bot answers the member again."""
    services = get_services()
    try:
        closed = service.close(
            get_store(), handoff_id, now=clock_now(), by="cli", tell_member=not quiet,
            channels=services.channels, config=services.config,
        )
    except service.HandoffError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"Đã đóng cuộc trò chuyện #{handoff_id}." if closed else f"Cuộc trò chuyện #{handoff_id} đã đóng từ trước.")


@handoff_cli.command("notify")
def notify_command() -> None:
    """Send the staff digest now if one is due (the scheduler does this on its tick)."""
    outbox_id = notify.queue_notice(get_store(), get_services().config, clock_now())
    click.echo(f"Đã xếp thông báo (outbox {outbox_id})." if outbox_id else "Không có thông báo nào cần gửi.")


@handoff_cli.command("report")
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 3660), help="Conversations opened in the last N days.")
@click.option("--json", "as_json", is_flag=True, help="The figures as one JSON object.")
def report_command(days: int, as_json: bool) -> None:
    """Opened and closed per unit, median time to the first staff reply, share answered within office hours."""
    config = get_services().config
    now = clock_now()
    figures = handoff_figures(
        get_store().handoff_rows_between(now - days * 86400, now + 1),
        office_hours=config["OFFICE_HOURS"], timezone=config["TIMEZONE"],
    )
    if as_json:
        click.echo(json.dumps({"days": days, **figures}, ensure_ascii=False))
        return

    def line(label: str, f: dict) -> str:
        median = "—" if f["median_first_reply_minutes"] is None else f"{f['median_first_reply_minutes']:g} phút".replace(".", ",")
        share = "—" if f["answered_in_office_hours_share"] is None else f"{100 * f['answered_in_office_hours_share']:.0f}%"
        return (f"{label}: mở {f['opened']}, đã đóng {f['closed']}, được trả lời {f['replied']}, "
                f"trung vị thời gian chờ trả lời đầu tiên {median}, trả lời trong giờ làm việc {share}")

    click.echo(f"Cuộc trò chuyện với cán bộ trong {days} ngày qua")
    click.echo(line("Toàn Hội", figures["total"]))
    for unit in figures["units"]:
        click.echo(line(unit["unit"] or "Cấp Hội (chưa đăng ký)", unit))
    if not figures["office_hours_read"]:
        click.echo(f"Không đọc được giờ làm việc OFFICE_HOURS={config['OFFICE_HOURS']!r}: bỏ qua tỷ lệ trả lời trong giờ.")
