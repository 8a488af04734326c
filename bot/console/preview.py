"""How a reply will look on Messenger and on Zalo OA: each channel's own ``render()``, with
warnings where a platform limit changes what members see."""

from __future__ import annotations

from typing import Any

from bot.channels.base import TEXT_LIMIT
from bot.channels.messenger import (
    MAX_QUICK_REPLIES,
    QUICK_REPLY_TITLE_LIMIT,
    MessengerChannel,
)
from bot.channels.zalo_oa import BUTTON_TITLE_LIMIT as ZALO_TITLE_LIMIT
from bot.channels.zalo_oa import MAX_BUTTONS as ZALO_MAX_BUTTONS
from bot.core.models import Reply


def _n(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def _channel(services: Any, name: str, config: Any) -> Any:
    channel = services.channels.get(name) if services is not None else None
    if channel is None and name == "messenger":
        channel = MessengerChannel(config)
    return channel


def preview_reply(reply: Reply, services: Any, config: Any) -> dict[str, Any]:
    """{platforms: [{key, label, messages}], warnings: [...]} for the preview template."""
    warnings: list[str] = []
    platforms = []
    titles = {c.payload: c.title for c in reply.choices}
    messenger = _channel(services, "messenger", config)
    if messenger is not None:
        messages = [_messenger_item(m, titles) for m in messenger.render(reply)]
        platforms.append({"key": "messenger", "label": "Messenger", "messages": messages})
        warnings += _messenger_warnings(reply, messages)
    zalo = _channel(services, "zalo", config)
    if zalo is not None:
        messages = [_zalo_item(m, reply, titles) for m in zalo.render(reply)]
        platforms.append({"key": "zalo", "label": "Zalo OA", "messages": messages})
        warnings += _zalo_warnings(reply, messages)
    return {"platforms": platforms, "warnings": warnings}


def _messenger_item(m: dict[str, Any], titles: dict[str, str]) -> dict[str, Any]:
    item: dict[str, Any] = {}
    attachment = m.get("attachment") or {}
    payload = attachment.get("payload") or {}
    if attachment.get("type") == "image":
        item["image"] = payload.get("url")
    elif payload.get("template_type") == "button":
        item["text"] = payload.get("text", "")
        item["buttons"] = [{"title": b.get("title", ""), "full": b.get("title", "")} for b in payload.get("buttons", [])]
    if "text" in m:
        item["text"] = m["text"]
    if item.get("text"):
        item["count"] = len(item["text"])
    if m.get("quick_replies"):
        item["quick_replies"] = [
            {"title": q["title"], "full": titles.get(q["payload"], q["title"]),
             "cut": titles.get(q["payload"], q["title"]) != q["title"]}
            for q in m["quick_replies"]
        ]
    return item


def _messenger_warnings(reply: Reply, messages: list[dict[str, Any]]) -> list[str]:
    warnings = []
    length = len(reply.text)
    if length > TEXT_LIMIT:
        texts = [m for m in messages if m.get("text")]
        warnings.append(
            f"Messenger: nội dung dài {_n(length)} ký tự, quá {_n(TEXT_LIMIT)} ký tự của một tin nhắn,"
            f" nên được chia thành {len(texts)} tin."
        )
    if len(reply.choices) > MAX_QUICK_REPLIES:
        warnings.append(f"Messenger: có {len(reply.choices)} lựa chọn, quá {MAX_QUICK_REPLIES} nút trả lời nhanh, nên thành danh sách đánh số.")
    else:
        for c in reply.choices:
            if len(c.title) > QUICK_REPLY_TITLE_LIMIT:
                warnings.append(
                    f"Messenger: nút “{c.title}” dài {len(c.title)} ký tự, quá {QUICK_REPLY_TITLE_LIMIT} ký tự, sẽ bị cắt."
                )
    return warnings


def _zalo_item(m: dict[str, Any], reply: Reply, titles: dict[str, str]) -> dict[str, Any]:
    item: dict[str, Any] = {}
    payload = (m.get("attachment") or {}).get("payload") or {}
    if payload.get("template_type") == "media":
        item["image"] = (payload.get("elements") or [{}])[0].get("url")
    if "text" in m:
        item["text"] = m["text"]
        item["count"] = len(m["text"])
    buttons = payload.get("buttons")
    if buttons:
        item["buttons"] = []
        for b in buttons:
            if b.get("type") == "oa.query.hide":
                full = titles.get(str(b.get("payload", ""))[1:], b.get("title", ""))
            else:
                full = reply.link[0] if reply.link else b.get("title", "")
            item["buttons"].append({"title": b.get("title", ""), "full": full, "cut": full != b.get("title", "")})
    return item


def _zalo_warnings(reply: Reply, messages: list[dict[str, Any]]) -> list[str]:
    warnings = []
    length = len(reply.text)
    buttons_needed = len(reply.choices) + (1 if reply.link else 0)
    if length > TEXT_LIMIT:
        texts = [m for m in messages if m.get("text")]
        warnings.append(
            f"Zalo: nội dung dài {_n(length)} ký tự, quá {_n(TEXT_LIMIT)} ký tự của một tin nhắn, nên được chia thành {len(texts)} tin."
        )
    if buttons_needed > ZALO_MAX_BUTTONS:
        warnings.append(
            f"Zalo: cần {buttons_needed} nút, quá {ZALO_MAX_BUTTONS} nút của một tin, nên các lựa chọn thành danh sách đánh số."
        )
    for c in reply.choices if buttons_needed <= ZALO_MAX_BUTTONS else []:
        if len(c.title) > ZALO_TITLE_LIMIT:
            warnings.append(f"Zalo: nút “{c.title}” dài quá {ZALO_TITLE_LIMIT} ký tự, sẽ bị cắt.")
    return warnings
