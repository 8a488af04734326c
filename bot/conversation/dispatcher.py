"""The dispatcher: routes one inbound event to the first handler that takes it.

Handlers are tried in order: commands (DỪNG, MENU...), then an ongoing
conversation (a quiz, a registration), then payloads of tapped choices, then
questions for the answer engine.  Features plug in by adding a handler; the
channels never change.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from bot.core import models
from bot.core.models import Choice, Event, Reply
from bot.core.text import fold_words
from bot.storage.store import Store

logger = logging.getLogger(__name__)


@dataclass
class Context:
    """Everything a handler needs for one event; handlers add replies with ``say``."""

    event: Event
    store: Store
    now: float
    config: dict[str, Any]
    member: dict[str, Any] | None = None
    first_contact: bool = False
    conversation: dict[str, Any] = field(default_factory=dict)
    replies: list[Reply] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)  # e.g. entry_id/score of an answer

    @property
    def text(self) -> str:
        return self.event.text.strip()

    @property
    def folded(self) -> str:
        return fold_words(self.event.text)

    @property
    def payload(self) -> str | None:
        return self.event.payload

    def say(self, reply: Reply | str) -> None:
        self.replies.append(Reply(reply) if isinstance(reply, str) else reply)

    def set_flow(self, flow: str | None, state: dict[str, Any] | None = None, *, expires_at: float | None = None) -> None:
        """Start, update or (flow=None) end the member's ongoing conversation."""
        self.conversation["flow"] = flow
        self.conversation["state"] = state or {}
        self.conversation["expires_at"] = expires_at
        self.conversation["dirty"] = True


class Handler:
    """A step of the dispatcher. ``handle`` returns True when it took the event."""

    name = "handler"

    def handle(self, ctx: Context) -> bool:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass
class MenuItem:
    """An entry of the main menu, registered by a feature."""

    title: str
    payload: str
    description: str
    order: int = 50


@dataclass
class DispatchResult:
    replies: list[Reply]
    meta: dict[str, Any]
    member: dict[str, Any] | None


class Dispatcher:
    """Ordered handlers plus the bookkeeping every event needs."""

    def __init__(self, handlers: list[Handler], *, config: dict[str, Any]):
        self.handlers = handlers
        self.config = config
        self.menu_items: list[MenuItem] = []

    def add_menu_item(self, item: MenuItem) -> None:
        self.menu_items.append(item)
        self.menu_items.sort(key=lambda i: i.order)

    def handle(self, event: Event, store: Store, now: float) -> DispatchResult:
        """Run one event; the caller persists the replies in the same transaction."""
        if event.kind in models.DELIVERY_EVENTS:
            # normally applied at ingest; an older inbox row (or a test) comes here: no member, no reply
            store.apply_delivery_event(
                event,
                at=now,
                skew=float(self.config.get("RECEIPT_CLOCK_SKEW_SECONDS", 2)),
                echo_window=float(self.config.get("ZALO_ECHO_MATCH_SECONDS", 120)),
            )
            return DispatchResult([], {"kind": event.kind}, None)

        if event.is_group:
            store.touch_group(event.channel, event.group_id or "", at=now)
            if not self._addressed(event, store):
                return DispatchResult([], {"ignored": "group_not_addressed"}, None)

        member, created = store.touch_member(
            event.channel,
            event.user_id,
            at=event.timestamp or now,
            inbound=event.kind != models.UNFOLLOW,
            display_name=event.display_name,
        )
        if event.extra.get("standby"):
            # Messenger handover: another app owns the thread; record the member, say and do nothing
            return DispatchResult([], {"ignored": "standby"}, member)
        ctx = Context(
            event=event,
            store=store,
            now=now,
            config=self.config,
            member=member,
            first_contact=created,
            conversation=store.get_conversation(member["id"]),
        )
        conv = ctx.conversation
        if conv.get("flow") and conv.get("expires_at") and conv["expires_at"] < now:
            ctx.meta["expired_flow"] = conv["flow"]
            self._on_expired(ctx)
        self._resolve_choice(ctx)

        for handler in self.handlers:
            if handler.handle(ctx):
                ctx.meta.setdefault("handler", handler.name)
                break

        self._save_conversation(ctx)
        return DispatchResult(ctx.replies, ctx.meta, ctx.member)

    # -- steps -----------------------------------------------------------------
    def _addressed(self, event: Event, store: Store) -> bool:
        """In a group the bot speaks only when spoken to."""
        if event.addressed:
            return True
        reply_to = event.extra.get("reply_to")
        return bool(reply_to) and store.is_own_message(event.channel, str(reply_to))

    def _on_expired(self, ctx: Context) -> None:
        for handler in self.handlers:
            on_expired = getattr(handler, "on_expired", None)
            if on_expired is not None and handler.name == ctx.conversation.get("flow"):
                on_expired(ctx)
        ctx.set_flow(None)

    def _resolve_choice(self, ctx: Context) -> None:
        """'2', 'b' or the exact title of a choice offered last time -> its payload."""
        event = ctx.event
        if event.payload or event.kind != models.TEXT:
            if event.payload and event.payload.startswith("#"):
                event.payload = event.payload[1:]  # Zalo OA button taps come back as "#PAYLOAD"
            return
        choices = ctx.conversation.get("choices") or []
        if not choices:
            return
        folded = ctx.folded
        index = None
        if (ctx.conversation.get("state") or {}).get("free_text"):
            # the flow asked an open question: "b" or "2" is her answer, not a choice's key
            pass
        elif re.fullmatch(r"\d{1,2}", folded):
            index = int(folded) - 1
        elif re.fullmatch(r"[a-d]", folded):
            index = ord(folded) - ord("a")
        if index is not None and 0 <= index < len(choices):
            event.payload = choices[index]["payload"]
            return
        for choice in choices:
            if fold_words(choice["title"]) == folded:
                event.payload = choice["payload"]
                return

    def _save_conversation(self, ctx: Context) -> None:
        conv = ctx.conversation
        last_choices = ctx.replies[-1].choices if ctx.replies else []
        if not ctx.replies and not conv.get("dirty"):
            return
        ctx.store.save_conversation(
            ctx.member["id"],  # type: ignore[index]
            at=ctx.now,
            flow=conv.get("flow"),
            state=conv.get("state") or {},
            choices=[{"title": c.title, "payload": c.payload} for c in last_choices],
            expires_at=conv.get("expires_at"),
        )


def menu_reply(dispatcher_items: list[MenuItem], config: dict[str, Any], *, intro: str | None = None) -> Reply:
    """The main menu: what the bot can do, as text plus choices."""
    lines = [intro or f"Đây là trợ lý hỏi đáp của {config['ORG_NAME']}. Chị có thể:"]
    lines += [f"• {item.description}" for item in dispatcher_items]
    return Reply("\n".join(lines), [Choice(item.title, item.payload) for item in dispatcher_items][:5])
