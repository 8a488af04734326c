"""How a post will look in each place, built with the same functions that make the platform calls
(the Page post's text or photo caption, the Zalo article's body), so the preview cannot drift from them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.channels.page_posts import article_body, photo_caption
from bot.posts.publish import TARGET_LABELS, TEXT_LIMIT, article_title, facebook_message


def preview_posts(
    config: Mapping[str, Any], targets: list[str], *, text: str, title: str = "", link: str = "", image: str = ""
) -> list[dict[str, Any]]:
    """One entry per chosen place: {key, label, kind, ...} for the console's preview, with warnings."""
    text, title, link, image = (text or "").strip(), (title or "").strip(), (link or "").strip(), (image or "").strip()
    if not text:
        return []
    out = []
    if "facebook_page" in targets:
        out.append(_facebook(text, title, link, image))
    if "zalo_article" in targets:
        out.append(_zalo(config, text, title, link, image))
    for item in out:
        if len(text) > TEXT_LIMIT:
            item["warnings"].append(f"Nội dung dài {len(text)} ký tự, quá {TEXT_LIMIT} ký tự của một bài đăng.")
    return out


def _facebook(text: str, title: str, link: str, image: str) -> dict[str, Any]:
    message = facebook_message(title or None, text)
    item: dict[str, Any] = {"key": "facebook_page", "label": TARGET_LABELS["facebook_page"], "warnings": []}
    if image:  # a photo post: the image with its caption; no link card
        item.update(kind="Bài đăng ảnh", text=photo_caption(message, link or None), image=image, link="")
    else:
        item.update(kind="Bài đăng", text=message, image="", link=link)
    return item


def _zalo(config: Mapping[str, Any], text: str, title: str, link: str, image: str) -> dict[str, Any]:
    cover = image or str(config.get("ZALO_ARTICLE_COVER_URL") or "")
    full_title = article_title(title or None, text)
    body = article_body(
        title=full_title, text=text, author=str(config.get("ORG_NAME") or ""), cover_url=cover,
        link=link or None, image_url=image or None,
    )
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    warnings = []
    if not cover:
        warnings.append("Chưa có ảnh bìa: Zalo cần ảnh bìa (nhập địa chỉ ảnh hoặc đặt ZALO_ARTICLE_COVER_URL).")
    if len(full_title) > len(body["title"]):
        warnings.append(f"Tiêu đề dài {len(full_title)} ký tự, Zalo chỉ nhận {len(body['title'])}: phần sau bị cắt.")
    return {
        "key": "zalo_article", "label": TARGET_LABELS["zalo_article"], "kind": "Bài viết", "warnings": warnings,
        "title": body["title"], "author": body["author"], "cover": cover, "description": body["description"],
        "paragraphs": paragraphs, "link": link,
    }
