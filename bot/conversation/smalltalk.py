"""Small talk: greetings, thanks, "ok", emoji, stickers, pictures and other non-text messages.

They are not questions: they get a short friendly reply (with the menu where it helps),
never the "no verified answer" apology, and never reach the unanswered queue.  The
handler sits after the participation flows (a flow that waits for "ok" or "dạ" gets
it first) and before the answer engine.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata

from bot.conversation.dispatcher import Context, Dispatcher, Handler, menu_reply
from bot.core import models
from bot.core.models import Choice, Reply
from bot.core.text import fold_words

MENU_CHOICE = Choice("Menu", "MENU")

GREETING, THANKS, ACK, BYE, EMOJI = "greeting", "thanks", "ack", "bye", "emoji"

# Phrases (folded words) of each kind; a message is small talk when it is made only of
# such phrases and FILLER words.  "chào ad, lãnh hải rộng bao nhiêu" is a question.
PHRASES: dict[str, tuple[str, ...]] = {
    THANKS: (
        "cam on", "cam ong", "camon", "cmon", "cam on nhieu", "thanks", "thank", "thank you", "thankyou", "thanks you",
        "thanks u", "thank u", "tks", "thks", "thx", "ty", "tk", "da ta", "cam ta",
    ),
    GREETING: (
        "xin chao", "chao", "hi", "hello", "helo", "hallo", "alo", "a lo", "hey", "chao buoi sang", "chao buoi chieu",
        "chao buoi toi", "good morning", "xin chao buoi sang",
    ),
    BYE: ("tam biet", "bye", "bai", "bye bye", "bb", "hen gap lai", "chuc ngu ngon", "ngu ngon"),
    ACK: (
        "ok", "oke", "okie", "okey", "okay", "oki", "okela", "okla", "k", "kk", "da", "vang", "uh", "uhm", "um", "u",
        "uk", "uki", "ukm", "ung", "dc", "duoc", "duoc roi", "dc roi", "hieu roi", "da hieu", "biet roi", "da biet",
        "roi", "ro roi", "good", "tot", "tot qua", "hay", "hay qua", "tuyet", "tuyet voi", "great", "nice", "yes",
        "like", "hihi", "haha", "hehe", "hi hi", "ha ha", "he he", "vay a", "the a", "a", "a ha", "oh", "o",
        "vang a", "da vang", "nhe", "nha",
    ),
}
# Words that may surround the phrases: forms of address and particles.
FILLER = frozenset(
    ["ad", "admin", "ban", "bot", "chatbot", "tro", "ly", "chi", "em", "anh", "co", "chu", "bac", "ca", "nha", "moi", "nguoi", "mn", "oi", "a", "nhe", "nhen", "nha", "nhieu", "lam", "rat", "qua", "so", "much", "you", "u", "nhiu", "luon", "ha", "hen", "ne", "nghen", "nghe"]
)
_PHRASES = sorted(
    ((tuple(p.split()), kind) for kind, phrases in PHRASES.items() for p in phrases), key=lambda x: -len(x[0])
)
_PRIORITY = (THANKS, GREETING, BYE, ACK)
_ALNUM = re.compile(r"[^\W_]", re.UNICODE)

MEDIA_NAMES = {
    "image": "hình ảnh", "photo": "hình ảnh", "gif": "ảnh động", "video": "video", "audio": "tin nhắn thoại",
    "voice": "tin nhắn thoại", "file": "tệp", "location": "vị trí", "link": "đường dẫn", "business_card": "danh thiếp",
}


def classify(text: str) -> str | None:
    """The kind of small talk ``text`` is (greeting, thanks, ack, bye, emoji), or None for anything else."""
    stripped = unicodedata.normalize("NFC", text or "").strip()
    if not stripped:
        return None
    if not _ALNUM.search(stripped):
        # only emoji or punctuation ("👍", "❤️", ":)", "..."); a lone "?" asks for help
        return EMOJI if any(ord(c) > 0x2000 for c in stripped) or stripped in (":)", ":D", ":(", "<3", ":))") else None
    words = fold_words(stripped).split()
    kinds: set[str] = set()
    i = 0
    while i < len(words):
        for phrase, kind in _PHRASES:
            if tuple(words[i : i + len(phrase)]) == phrase:
                kinds.add(kind)
                i += len(phrase)
                break
        else:
            if words[i] not in FILLER:
                return None
            i += 1
    for kind in _PRIORITY:
        if kind in kinds:
            return kind
    return None


def media_kind(event: models.Event) -> str:
    """What a non-text message carried: "sticker", "image", "audio"... ("" when the platform does not say)."""
    extra = event.extra or {}
    types = [str(t) for t in extra.get("attachments") or []]  # Messenger
    raw = extra.get("raw") if isinstance(extra.get("raw"), dict) else {}
    message = raw.get("message") if isinstance(raw.get("message"), dict) else {}
    if message.get("sticker_id") or (isinstance(message.get("attachments"), list) and any(
        isinstance(a, dict) and isinstance(a.get("payload"), dict) and a["payload"].get("sticker_id")
        for a in message["attachments"]
    )):
        return "sticker"
    name = str(extra.get("event_name") or "")  # Zalo OA "user_send_sticker", Zalo Bot "message.sticker.received"
    for kind in ("sticker", "image", "gif", "audio", "voice", "video", "file", "location", "link", "business_card"):
        if kind in name or kind in types:
            return kind
    return types[0] if types else ""


def media_reply(event: models.Event) -> Reply:
    """A friendly reply to a sticker, a picture, a voice message..."""
    kind = media_kind(event)
    if kind == "sticker" or kind == "like":
        return Reply("😊 Trợ lý cảm ơn chị! Chị cần hỏi gì về biên giới, biển, đảo cứ gõ câu hỏi nhé.", [MENU_CHOICE])
    if event.extra.get("restricted"):
        return Reply(
            "Trợ lý chưa đọc được tin nhắn này. Chị vui lòng gõ câu hỏi bằng chữ, hoặc chọn Menu để xem các chức năng.",
            [MENU_CHOICE],
        )
    what = MEDIA_NAMES.get(kind, "tin nhắn dạng này")
    return Reply(
        f"Cảm ơn chị đã gửi {what}. Hiện trợ lý chỉ đọc được tin nhắn dạng chữ, chị vui lòng gõ câu hỏi bằng chữ "
        "(có dấu hay không dấu đều được), hoặc chọn Menu để xem các chức năng.",
        [MENU_CHOICE],
    )


def smalltalk_reply(kind: str, menu: Reply) -> Reply:
    """The reply to a greeting, thanks, "ok", goodbye or emoji (``menu``: the main menu reply)."""
    if kind == GREETING:
        return Reply(
            "Chào chị! Trợ lý sẵn sàng giải đáp về biên giới, biển, đảo, pháp luật và các chương trình của Hội. "
            "Chị cứ gõ câu hỏi, ví dụ: “Lãnh hải Việt Nam rộng bao nhiêu hải lý?”, hoặc chọn một chức năng bên dưới.",
            menu.choices,
        )
    if kind == THANKS:
        return Reply("Dạ, không có gì ạ! Chị cần hỏi thêm điều gì cứ nhắn cho trợ lý nhé.", [MENU_CHOICE])
    if kind == BYE:
        return Reply("Chào chị, chúc chị một ngày tốt lành! Khi cần, chị cứ nhắn cho trợ lý nhé.", [MENU_CHOICE])
    if kind == EMOJI:
        return Reply("😊 Chị cần hỏi gì về biên giới, biển, đảo cứ gõ câu hỏi nhé, hoặc chọn Menu.", [MENU_CHOICE])
    return Reply("Dạ. Chị cần hỏi thêm gì cứ gõ câu hỏi, hoặc chọn Menu để xem các chức năng.", [MENU_CHOICE])


class SmallTalkHandler(Handler):
    """Greetings, thanks, "ok", emoji: a short reply, no apology, nothing logged as a question."""

    name = "smalltalk"

    def __init__(self, dispatcher: Dispatcher):
        self.dispatcher = dispatcher

    def handle(self, ctx: Context) -> bool:
        event = ctx.event
        if event.kind != models.TEXT or event.payload:
            return False
        kind = classify(ctx.text)
        if kind is None:
            return False
        ctx.meta.update(smalltalk=kind, decision="smalltalk", entry_id=None, score=0.0)
        menu = self._menu(ctx)
        if ctx.meta.get("welcomed"):
            # the welcome was just said (first contact): one welcome, with the menu, is enough
            ctx.replies[-1] = dataclasses.replace(ctx.replies[-1], choices=menu.choices)
            if kind in (GREETING, ACK, EMOJI):
                return True
        ctx.say(smalltalk_reply(kind, menu))
        return True

    def _menu(self, ctx: Context) -> Reply:
        return menu_reply(self.dispatcher.menu_items, ctx.config)
