"""Wiring: builds the app's services (channels, dispatcher, inbox, send rules) and its web parts."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.answers.bank import ContentBank, resolve_content_dir
from bot.answers.handler import AnswerHandler
from bot.conversation.commands import CommandHandler
from bot.conversation.dispatcher import Dispatcher, MenuItem
from bot.conversation.smalltalk import SmallTalkHandler
from bot.core.clock import Clock
from bot.core.config import database_target
from bot.core.models import TEST_CHANNELS
from bot.handoff.flow import install_handoff
from bot.participation.install import install_participation
from bot.pipeline.inbox import InboxProcessor
from bot.storage.store import Store
from bot.web import context
from bot.web.content_db import DatabaseEntrySource, database_mode, seed_content
from scheduler.policy import make_policy
from scheduler.schedule import in_quiet_hours

logger = logging.getLogger(__name__)


UPLOAD_PATHS = ("/admin/participation/import", "/admin/api/participation/import")
MAX_UPLOAD_BYTES = 6 * 1024 * 1024  # staff CSV imports; the views refuse files over 5 MB with a clear message


def allow_large_uploads() -> None:
    """Webhooks stay capped at 1 MB; staff participation imports may be larger."""
    from flask import request

    if request.path in UPLOAD_PATHS:
        request.max_content_length = MAX_UPLOAD_BYTES


def build_services(config: Any, clock: Clock) -> context.Services:
    """Migrate the database, then build every long-lived part of one app instance."""
    from bot.channels import build_channels
    from bot.channels.local import LocalChannel
    from bot.channels.web import WebChannel

    store = Store.open(database_target(config), migrate=True)  # versioned migrations at start
    try:
        if database_mode(config):  # the bank's entries in the database: the shipped YAML fills it once
            seed_content(store, resolve_content_dir(config["CONTENT_DIR"]), at=clock.now())
    finally:
        store.close()
    services = context.Services(config=config, channels={}, clock=clock)
    if database_mode(config):
        services.content_source = DatabaseEntrySource(services.open_store)
    services.channels = build_channels(config, services.open_store, clock=clock)
    for name in TEST_CHANNELS:
        services.channels[name] = LocalChannel(name, config, buttons=name == "simulator")
    services.channels["web"] = WebChannel(config)  # the website chat (/chat and the embed script)
    services.dispatcher = build_dispatcher(config, services.get_bank)
    services.processor = InboxProcessor(
        services.dispatcher, services.channels, config, clock=clock, prepare=lambda: _load_content(services)
    )
    services.policy = make_policy(config)  # broadcast send rules, checked per recipient at send time
    services.broadcasts_allowed = lambda now: not in_quiet_hours(now, config["QUIET_HOURS"], config["TIMEZONE"])
    for name, channel in services.channels.items():
        if channel.required_settings and not channel.enabled:
            logger.info("channel %s disabled: missing %s", name, ", ".join(channel.missing_settings))
    return services


def _load_content(services: context.Services) -> None:
    """Load (or reload after an edit) the content bank and the catalog: the inbox worker
    calls this before each event's transaction, so a slow load never holds the write lock."""
    from bot.participation.catalog import get_catalog

    services.get_bank()
    get_catalog(services.config)


def build_dispatcher(config: dict[str, Any], get_bank: Callable[[], ContentBank | None]) -> Dispatcher:
    """The dispatcher with the core handlers and menu; features add theirs here."""
    dispatcher = Dispatcher([], config=config)
    dispatcher.handlers.append(CommandHandler(dispatcher))
    # ongoing conversations (quiz, registration...) plug in here, before questions
    install_participation(dispatcher, get_bank)  # submit_info first; privacy, registration, quiz, hái hoa, contest here
    dispatcher.handlers.append(SmallTalkHandler(dispatcher))  # "xin chào", "cảm ơn", "ok", emoji: not questions
    dispatcher.handlers.append(AnswerHandler(get_bank))
    install_handoff(dispatcher)  # GẶP CÁN BỘ after the commands; while open, her text goes to staff (before small talk)
    dispatcher.add_menu_item(
        MenuItem("Hỏi đáp theo chủ đề", "TOPICS", "Hỏi về biên giới, biển, đảo, pháp luật và các chương trình của Hội", 10)
    )
    dispatcher.add_menu_item(MenuItem("Dừng nhận tin", "DUNG", "Gõ DỪNG để ngừng nhận tin nhắn định kỳ (gõ ĐĂNG KÝ NHẬN TIN để nhận lại)", 90))
    return dispatcher
