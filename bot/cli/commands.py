"""Command-line interface: `flask ask`, `flask chat`, `flask run-scheduler`, `flask run-sender`, `flask outbox ...`.

Feature groups (content, broadcast, messenger, zalo, zalo-bot...) are registered here too.
"""

from __future__ import annotations

import json
import math
import signal
import sys
import threading
import uuid
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from bot.core import models
from bot.storage.store import Store
from bot.web.context import clock_now, get_services, get_store


def _console_turn(store: Store, text: str, user: str, *, payload: str | None = None) -> tuple[list[str], dict[str, Any]]:
    """Run one message through the dispatcher on the console channel; return texts and meta."""
    services = get_services()
    channel = services.channels["console"]
    now = clock_now()
    event = models.Event(
        channel="console", kind=models.TEXT, user_id=user, event_key=uuid.uuid4().hex,
        timestamp=now, text=text, payload=payload,
    )
    with store.transaction():
        result = services.dispatcher.handle(event, store, now)
    texts = []
    for reply in result.replies:
        texts.extend(m["text"] for m in channel.render(reply))
    return texts, result.meta


@click.command("ask")
@with_appcontext
@click.argument("text", required=False)
@click.option("--json", "as_json", is_flag=True, help="Read questions from standard input, one per line; print JSON lines.")
def ask_command(text: str | None, as_json: bool) -> None:
    """Print the bot's reply to TEXT (nothing is written to the database)."""
    store = Store.open(":memory:", migrate=True)
    if not as_json:
        if not text:
            raise click.UsageError("Nhập câu hỏi: flask ask \"câu hỏi\" (hoặc --json để đọc từ stdin).")
        store.touch_member("console", "cli", at=clock_now())
        texts, _ = _console_turn(store, text, "cli")
        click.echo("\n\n".join(texts))
        return
    for i, line in enumerate(sys.stdin):
        question = line.strip()
        if not question:
            continue
        # a fresh member per question, so no conversation state leaks between lines; the
        # member exists already, so the reply is the answer without the first-contact greeting
        store.touch_member("console", f"cli-{i}", at=clock_now())
        texts, meta = _console_turn(store, question, f"cli-{i}")
        click.echo(
            json.dumps(
                {
                    "question": question,
                    "reply": "\n\n".join(texts),
                    "entry_id": meta.get("entry_id") if meta.get("decision") == "answer" else None,
                    "decision": meta.get("decision"),
                    "score": round(float(meta.get("score") or 0.0), 4),
                },
                ensure_ascii=False,
            )
        )


@click.command("chat")
@with_appcontext
def chat_command() -> None:
    """Chat with the bot in the terminal (a throwaway in-memory database)."""
    store = Store.open(":memory:", migrate=True)
    click.echo("Trò chuyện với trợ lý. Gõ câu hỏi; Ctrl-D hoặc 'thoát' để kết thúc.")
    texts, _ = _console_turn(store, "", "console", payload="GET_STARTED")
    click.echo("\n".join(f"🤖 {t}" for t in texts))
    while True:
        try:
            line = input("> ")
        except (EOFError, KeyboardInterrupt):
            click.echo()
            break
        if line.strip().lower() in {"thoát", "thoat", "exit", "quit"}:
            break
        if not line.strip():
            continue
        texts, _ = _console_turn(store, line, "console")
        click.echo("\n".join(f"🤖 {t}" for t in texts))


@click.command("run-scheduler")
@click.option("--wait", "wait", type=float, default=None,
              help="Seconds to wait for the leader to stop before giving up (default: SQLite ~35 s, a lapsed lease;"
                   " PostgreSQL: no limit, a standby that takes over when the leader dies).")
@with_appcontext
def run_scheduler_command(wait: float | None) -> None:
    """Lead: run the background workers and the scheduler in this process (one leader per deployment;
    on PostgreSQL more of these wait as standbys)."""
    from bot.pipeline.workers import Workers, WorkersBusy
    from scheduler.runner import start_scheduler

    services = get_services()
    if wait is None and get_store().postgres:
        wait = math.inf
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    workers = Workers(services)
    if wait == math.inf:
        click.echo("Đang chờ làm tiến trình điều phối (dự phòng); Ctrl-C để dừng.")
    try:
        workers.start(wait=wait)
    except WorkersBusy as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        return
    scheduler = start_scheduler(current_app._get_current_object())  # type: ignore[attr-defined]
    click.echo("Workers and scheduler running; Ctrl-C to stop.")
    try:
        while not stop.wait(1) and not workers.lost.is_set():
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        workers.stop()
    if workers.lost.is_set():  # another process leads now: exit, the service manager restarts us as a standby
        raise click.ClickException("Mất quyền điều phối (kết nối cơ sở dữ liệu bị ngắt); tiến trình dừng để khởi động lại.")


@click.command("run-inbox-worker")
@click.option("--threads", type=click.IntRange(1, 64), default=1, help="Worker threads in this process.")
@with_appcontext
def run_inbox_worker_command(threads: int) -> None:
    """PostgreSQL: extra inbound workers beside `run-scheduler` (any number of processes or hosts)."""
    from bot.pipeline.workers import NeedsPostgres, run_inbox_workers

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo("Inbox workers running; Ctrl-C to stop.")
    try:
        run_inbox_workers(get_services(), stop, threads=threads)
    except NeedsPostgres as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        stop.set()


@click.command("run-sender")
@click.option("--channel", "channels", multiple=True, help="Only this channel (several times allowed; default: every enabled channel).")
@with_appcontext
def run_sender_command(channels: tuple[str, ...]) -> None:
    """PostgreSQL: extra channel senders beside `run-scheduler` (any number of processes or hosts);
    each channel's rate holds for all of them together."""
    from bot.pipeline.senders import (
        NeedsPostgres,
        check_extra_senders,
        run_senders,
        sendable_channels,
    )

    services = get_services()
    try:
        check_extra_senders(services.config, get_store().postgres)
    except NeedsPostgres as exc:
        raise click.ClickException(str(exc)) from None
    known = sendable_channels(services)
    unknown = [c for c in channels if c not in known]
    if unknown:
        raise click.UsageError(f"Kênh không gửi được: {', '.join(unknown)} (các kênh đang bật: {', '.join(known) or 'không có'}).")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo(f"Đang gửi tin cho {', '.join(channels or known) or 'không kênh nào'}; Ctrl-C để dừng.")
    try:
        run_senders(services, stop, channels=channels or None)
    except NeedsPostgres as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        stop.set()


outbox_cli = AppGroup("outbox", help="Inspect the outbox and decide about uncertain sends.")


@outbox_cli.command("status")
def outbox_status() -> None:
    """Messages per state, and the backlog per channel."""
    store = get_store()
    click.echo(json.dumps({"states": store.outbox_counts(), "backlog": store.outbox_backlog()}, ensure_ascii=False))


@outbox_cli.command("requeue-uncertain")
@click.option("--id", "ids", multiple=True, type=int, help="Only these outbox ids.")
@click.option("--all", "all_", is_flag=True, help="Every uncertain message.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def outbox_requeue(ids: tuple[int, ...], all_: bool, yes: bool) -> None:
    """Send again messages whose fate is unknown (in flight at a crash, or a timeout): may duplicate."""
    if not ids and not all_:
        raise click.UsageError("Chọn tin cần gửi lại: --id <số> (nhiều lần được) hoặc --all cho mọi tin chưa rõ.")
    if not yes:
        click.confirm("Các tin này có thể đã đến người nhận. Gửi lại?", abort=True)
    now = clock_now()
    hold = float(get_services().config.get("UNCERTAIN_HOLD_MINUTES", 10)) * 60
    # --all leaves the sends still waiting for the platform's echo (it would mark them sent)
    count = get_store().requeue_uncertain(list(ids) if ids else None, at=now, finished_before=None if ids else now - hold)
    click.echo(f"Đã xếp lại {count} tin để gửi.")
    if not ids:
        waiting = get_store().count_uncertain(finished_since=now - hold)
        if waiting:
            click.echo(f"{waiting} tin mới ở trạng thái chưa rõ đang chờ nền tảng xác nhận (tối đa {hold / 60:g} phút); chưa xếp lại.")


inbox_cli = AppGroup("inbox", help="Inspect the inbox and process failed events again.")


@inbox_cli.command("status")
def inbox_status() -> None:
    """Inbound events per state."""
    click.echo(json.dumps({"states": get_store().inbox_counts()}, ensure_ascii=False))


@inbox_cli.command("requeue")
@click.option("--id", "ids", multiple=True, type=int, help="Only these inbox ids (default: every failed event).")
def inbox_requeue(ids: tuple[int, ...]) -> None:
    """Process failed inbound events again (after the cause was fixed)."""
    count = get_store().requeue_failed_inbound(list(ids) if ids else None)
    services = get_services()
    services.inbox_wakeup.set()
    click.echo(f"Đã xếp lại {count} sự kiện để xử lý.")


def register_commands(app: Flask) -> None:
    """Add every command group to ``app.cli``."""
    from bot.cli.broadcasts import broadcast_cli
    from bot.cli.channels import messenger_cli, zalo_bot_cli, zalo_cli
    from bot.cli.content import content_group
    from bot.cli.db import db_cli
    from bot.cli.handoff import handoff_cli

    for command in (ask_command, chat_command, run_scheduler_command, run_inbox_worker_command, run_sender_command, outbox_cli, inbox_cli, content_group, messenger_cli, zalo_cli, zalo_bot_cli, broadcast_cli, db_cli, handoff_cli):
        app.cli.add_command(command)
    from bot.cli.posts import post_cli

    app.cli.add_command(post_cli)  # page posts and Zalo OA articles
    from bot.cli.participation import (
        COMMANDS as participation_commands,  # participation, report, quiz, privacy
    )

    for command in participation_commands:
        app.cli.add_command(command)
