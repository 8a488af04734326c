"""Small helpers shared by the participation flows (registration, quiz, hái hoa, contests).

Choices render differently per channel: quick replies (Messenger, simulator),
buttons (Zalo OA, at most 5) or numbered text (Zalo Bot, groups, the console).
:func:`options_reply` writes the options into the text with letters or numbers
when the channel shows buttons (whose titles are cut at 20 characters), and
leaves the numbering to the channel when it shows text only.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from bot.conversation.dispatcher import Context
from bot.core import models
from bot.core.models import Choice, Reply
from bot.core.text import fold_words

MENU_CHOICE = Choice("Menu", "MENU")
LETTERS = "ABCD"

# Button capacity per channel (local channels: the simulator shows buttons, the console does not).
BUTTON_CAPACITY = {"messenger": 13, "zalo": 5, "simulator": 13, "web": 13}

# Commands of the participation features (folded): a flow waiting for free text
# lets these through, so "THI" typed during a registration starts the quiz.
COMMANDS: dict[str, str] = {}


def register_commands(owner: str, *phrases: str) -> frozenset[str]:
    """Record the command phrases of a handler; returns them (folded)."""
    folded = frozenset(fold_words(p) for p in phrases)
    for phrase in folded:
        COMMANDS[phrase] = owner
    return folded


def is_other_command(ctx: Context, owner: str) -> bool:
    """True when the text is a command of another participation handler (a tap's payload wins
    over its title: the commands are checked on typed text only)."""
    other = COMMANDS.get(ctx.folded)
    return other is not None and other != owner


def takes_free_text(ctx: Context, flow: str) -> bool:
    """True when the event is typed text for ``flow``: the member is in it, the text is not
    a tap (a payload of another feature goes to its handler) and not another feature's command."""
    return (
        ctx.conversation.get("flow") == flow
        and ctx.event.kind == models.TEXT
        and not ctx.event.payload
        and not is_other_command(ctx, flow)
    )


def button_capacity(ctx: Context) -> int:
    """How many tappable choices the member's channel shows (0: numbered text only)."""
    if ctx.event.is_group:
        return 0
    return BUTTON_CAPACITY.get(ctx.event.channel, 0)


def options_reply(
    ctx: Context,
    text: str,
    options: list[tuple[str, str]],
    *,
    extras: list[Choice] | None = None,
    letters: bool = False,
) -> Reply:
    """A reply offering ``options`` ((label, payload) pairs) plus ``extras`` (e.g. Menu).

    With buttons: the labels are listed in the text as "A. …" (or "1. …") and the
    buttons carry the same key, so a long label is never lost to a cut title.
    Without: the channel numbers every choice itself.
    """
    extras = extras or []
    choices = [Choice(label, payload) for label, payload in options] + extras
    if button_capacity(ctx) < len(choices):
        return Reply(text, choices)
    keys = LETTERS if letters and len(options) <= len(LETTERS) else [str(i) for i in range(1, len(options) + 1)]
    lines = [f"{key}. {label}" for key, (label, _) in zip(keys, options)]
    limit = TITLE_LIMITS.get(ctx.event.channel, TITLE_LIMIT)
    titles = button_titles(list(keys[: len(options)]), [label for label, _ in options], limit)
    buttons = [Choice(title, payload) for title, (_, payload) in zip(titles, options)]
    return Reply(text + "\n" + "\n".join(lines), buttons + extras)


TITLE_LIMIT = 20  # Messenger cuts quick-reply titles at 20 characters
TITLE_LIMITS = {"zalo": 35}  # Zalo OA button titles hold 35


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if " " in head[3:]:
        head = head[: head.rfind(" ")]
    return head.rstrip(" ,;:–-") + "…"


def button_titles(keys: list[str], labels: list[str], limit: int = TITLE_LIMIT) -> list[str]:
    """ "1. <label>" titles that fit ``limit`` and still tell the options apart: words every
    label starts with ("Cuộc thi tìm hiểu …") are left out of the buttons (the text lists them whole)."""
    folded = [[fold_words(w) for w in label.split()] for label in labels]
    rests = []
    for i, label in enumerate(labels):
        words = label.split()
        if len(f"{keys[i]}. {label}") <= limit:
            rests.append(label)
            continue
        shared = 0  # the longest word prefix this label shares with another one
        for j, other in enumerate(folded):
            if j != i:
                n = 0
                while n < min(len(other), len(folded[i])) and other[n] == folded[i][n]:
                    n += 1
                shared = max(shared, n)
        shared = min(shared, len(words) - 1)
        rest = " ".join(words[shared:])
        rests.append(rest[:1].upper() + rest[1:])
    return [_cut(f"{key}. {rest}", limit) for key, rest in zip(keys, rests)]


def pick_index(text: str, labels: list[str]) -> int | None:
    """The option a member typed: a letter, a number, or (part of) its text, diacritics ignored."""
    folded = fold_words(text)
    if not folded:
        return None
    m = re.fullmatch(r"(?:dap an|chon|cau|phuong an|y)?\s*([a-d]|\d{1,2})", folded)
    if m:
        key = m.group(1)
        index = ord(key) - ord("a") if key.isalpha() else int(key) - 1
        if 0 <= index < len(labels):
            return index
        if not key.isdigit():
            return None
        # "25" for a choice that reads "25": not a position, maybe the choice's text (below)
    options = [fold_words(label) for label in labels]
    if folded in options:
        return options.index(folded)
    # "b khoang 3 260 km": a key followed by the option's text
    m = re.fullmatch(r"([a-d]|\d)\s+(.+)", folded)
    if m and m.group(2) in options:
        return options.index(m.group(2))
    if len(folded) >= 3:
        hits = [i for i, o in enumerate(options) if folded in o]
        if len(hits) == 1:
            return hits[0]
        hits = [i for i, o in enumerate(options) if len(o) >= 3 and o in folded]
        if len(hits) == 1:
            return hits[0]
    return None


def expiry(ctx: Context, setting: str) -> float | None:
    """``now`` plus the minutes in ``setting``; None when the setting is 0 (switched off)."""
    minutes = float(ctx.config.get(setting) or 0)
    return ctx.now + minutes * 60 if minutes > 0 else None


def format_duration(seconds: float | None) -> str:
    """'3 phút 12 giây'."""
    total = int(round(seconds or 0))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(f"{hours} giờ")
    if minutes:
        parts.append(f"{minutes} phút")
    if secs or not parts:
        parts.append(f"{secs} giây")
    return " ".join(parts)


def format_time(ts: float | None, tz: str, *, with_time: bool = True) -> str:
    """'28/11/2026 18:17' in local time ('' for None)."""
    if not ts:
        return ""
    local = dt.datetime.fromtimestamp(ts, ZoneInfo(tz))
    return local.strftime("%d/%m/%Y %H:%M" if with_time else "%d/%m/%Y")


def local_date(ts: float, tz: str) -> str:
    """'YYYY-MM-DD' of ``ts`` in local time."""
    return dt.datetime.fromtimestamp(ts, ZoneInfo(tz)).date().isoformat()


def in_group_notice(ctx: Context, what: str) -> bool:
    """Personal data is never asked for or shown in a group: say so and return True."""
    if not ctx.event.is_group:
        return False
    ctx.say(f"Để bảo vệ thông tin cá nhân, chị vui lòng nhắn riêng cho trợ lý để {what}.")
    return True
