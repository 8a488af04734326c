"""Publications of the union itself: a post on the Facebook Page and a Zalo OA article.

These are not messages: no recipient, no 24 h window.  Each client takes a base
URL and a requests session (tests point them at the fake platform) and raises
:class:`PostError` with a Vietnamese explanation for staff and whether trying
again later can help.

- Facebook Page: ``POST /{page-id}/feed`` with ``message``, optional ``link``;
  ``published=false`` + ``scheduled_publish_time`` schedules it on Facebook's side.
  The answer is ``{"id": "<page-id>_<post-id>"}``.  Needs ``pages_manage_posts``.
  With an image: a photo post, ``POST /{page-id}/photos`` with ``url`` (Facebook
  fetches the image) and ``caption`` (the text, the link on its last line: a photo
  post has no link card); the answer is ``{"id": "<photo-id>", "post_id":
  "<page-id>_<post-id>"}``.  The caption's field name and whether photos are
  scheduled on Facebook's side are settings (not confirmed in our notes).
- Zalo OA article: ``POST /v2.0/article/create`` (answer: ``data.token``), then
  ``POST /v2.0/article/verify`` with that token (answer: ``data.id``).  HTTP 200
  can carry an error: ``error != 0``.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import requests

# Graph error codes (developers.facebook.com/docs/graph-api/guides/error-handling)
GRAPH_TOKEN_CODES = {190, 102}
GRAPH_PERMISSION_CODES = {3, 10, 200, 299}
GRAPH_THROTTLE_CODES = {4, 17, 32, 341, 613}
GRAPH_TRANSIENT_CODES = {1, 2}
GRAPH_IMAGE_CODES = {324}  # "Missing or invalid image file": Facebook could not use the image at the URL
# Zalo OA error codes (developers.zalo.me, phụ lục mã lỗi)
ZALO_TOKEN_CODES = {-216, -220}
ZALO_RETRY_CODES = {-32, -1}  # rate limit; unknown/internal error


class PostError(Exception):
    """A publication that failed; ``message`` is Vietnamese, shown to staff as is."""

    def __init__(self, code: str, message: str, *, retry: bool = False, auth: bool = False):
        super().__init__(f"{code}: {message}")
        self.code = str(code)
        self.message = message
        self.retry = retry
        self.auth = auth


def _network_error(platform: str, exc: requests.RequestException) -> PostError:
    return PostError("network", f"Không kết nối được với {platform} ({type(exc).__name__}); sẽ thử lại.", retry=True)


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class FacebookPageClient:
    """Posts on the union's Facebook Page through the Graph API."""

    def __init__(
        self, base_url: str, session: requests.Session, *, page_id: str, token: str, timeout: float = 10,
        caption_field: str = "caption",
    ):
        self.base_url = base_url.rstrip("/")
        self.session = session
        self.page_id = page_id
        self.token = token
        self.timeout = timeout
        self.caption_field = caption_field

    def publish(
        self, message: str, *, link: str | None = None, image: str | None = None, scheduled_at: float | None = None
    ) -> str:
        """Publish now, or schedule on Facebook at ``scheduled_at`` (Unix time); return the post id.
        With ``image`` it is a photo post (/photos), else a feed post (/feed)."""
        if image:
            body: dict[str, Any] = {"url": image, self.caption_field: photo_caption(message, link), "access_token": self.token}
            path = "photos"
        else:
            body = {"message": message, "access_token": self.token}
            if link:
                body["link"] = link
            path = "feed"
        if scheduled_at is not None:
            body["published"] = "false"
            body["scheduled_publish_time"] = str(int(scheduled_at))
        try:
            response = self.session.post(f"{self.base_url}/{self.page_id}/{path}", data=body, timeout=self.timeout)
        except requests.RequestException as exc:
            raise _network_error("Facebook", exc) from None
        data = _json(response)
        post_id = data.get("post_id") or data.get("id")  # a photo answers its photo id and the post's id
        if response.ok and post_id:
            return str(post_id)
        raise graph_error(response.status_code, data)


def photo_caption(message: str, link: str | None) -> str:
    """A photo post's caption: the message, the link on its own last line (a photo post has no link card)."""
    return f"{message}\n\n{link}" if link else message


def graph_error(status: int, data: dict[str, Any]) -> PostError:
    """A Graph error answer as a PostError that says what to do, in Vietnamese."""
    error = data.get("error") if isinstance(data.get("error"), dict) else {}
    try:
        code = int(error.get("code"))
    except (TypeError, ValueError):
        code = None
    detail = str(error.get("message") or f"HTTP {status}")[:200]
    label = f"mã {code}" if code is not None else f"HTTP {status}"
    if code in GRAPH_TOKEN_CODES:
        return PostError(
            str(code),
            f"Mã truy cập Trang Facebook đã hết hạn hoặc không còn hiệu lực ({label}). Hãy tạo mã mới"
            " (MESSENGER_PAGE_ACCESS_TOKEN) rồi đăng lại.",
            auth=True,
        )
    if code in GRAPH_PERMISSION_CODES or "pages_manage_posts" in detail:
        return PostError(
            str(code),
            f"Ứng dụng chưa có quyền đăng bài lên Trang ({label}): cần quyền pages_manage_posts và vai trò"
            " được tạo nội dung trên Trang. Cấp quyền xong hãy đăng lại.",
            auth=True,
        )
    if code in GRAPH_IMAGE_CODES:
        return PostError(
            str(code),
            f"Facebook không dùng được ảnh ở địa chỉ đã cho ({label}): ảnh phải công khai, tải được qua https"
            " và là tệp JPG, PNG, GIF hoặc BMP. Sửa địa chỉ ảnh rồi đăng lại.",
        )
    if code in GRAPH_THROTTLE_CODES:
        return PostError(str(code), f"Facebook đang giới hạn số lần gọi ({label}); sẽ thử lại sau.", retry=True)
    if code in GRAPH_TRANSIENT_CODES or status >= 500 or status == 429 or error.get("is_transient"):
        return PostError(str(code or status), f"Facebook tạm thời gặp lỗi ({label}); sẽ thử lại sau.", retry=True)
    if code == 100:
        return PostError(str(code), f"Facebook từ chối nội dung hoặc thời điểm hẹn ({label}): {detail}")
    return PostError(str(code or status), f"Facebook báo lỗi ({label}): {detail}")


class ZaloArticleClient:
    """Articles of the Zalo OA (Open API v2.0)."""

    def __init__(
        self,
        base_url: str,
        session: requests.Session,
        *,
        access_token: Callable[[str | None], str],
        timeout: float = 10,
    ):
        """``access_token(None)`` gives the current token; ``access_token(stale)`` a refreshed one."""
        self.base_url = base_url.rstrip("/")
        self.session = session
        self.access_token = access_token
        self.timeout = timeout

    def create(self, article: dict[str, Any]) -> str:
        """Submit an article; return the token that ``verify`` turns into its id."""
        data = self._call("/v2.0/article/create", article)
        token = (data.get("data") or {}).get("token") if isinstance(data.get("data"), dict) else None
        if not token:
            raise PostError("no_token", "Zalo không trả về mã xử lý bài viết; sẽ thử lại.", retry=True)
        return str(token)

    def verify(self, token: str) -> str | None:
        """The article id once Zalo has created it; None while it is still being processed."""
        data = self._call("/v2.0/article/verify", {"token": token})
        inner = data.get("data") if isinstance(data.get("data"), dict) else {}
        article_id = inner.get("id") or inner.get("article_id")
        return str(article_id) if article_id else None

    def _call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        token = self.access_token(None)
        status, data = self._post(path, body, token)
        if _zalo_code(data) in ZALO_TOKEN_CODES:  # expired or invalid: refresh once and try again
            status, data = self._post(path, body, self.access_token(token))
        code = _zalo_code(data)
        if status < 400 and code == 0:
            return data
        raise zalo_error(status, data)

    def _post(self, path: str, body: dict[str, Any], token: str) -> tuple[int, dict[str, Any]]:
        try:
            response = self.session.post(self.base_url + path, json=body, headers={"access_token": token}, timeout=self.timeout)
        except requests.RequestException as exc:
            raise _network_error("Zalo", exc) from None
        return response.status_code, _json(response)


def _zalo_code(data: dict[str, Any]) -> int | None:
    try:
        return int(data.get("error"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def zalo_error(status: int, data: dict[str, Any]) -> PostError:
    """A Zalo error answer as a PostError that says what to do, in Vietnamese."""
    code = _zalo_code(data)
    detail = str(data.get("message") or f"HTTP {status}")[:200]
    label = f"mã {code}" if code is not None else f"HTTP {status}"
    if code in ZALO_TOKEN_CODES:
        return PostError(
            str(code),
            f"Mã truy cập Zalo OA đã hết hạn hoặc không hợp lệ ({label}) và làm mới không được."
            " Hãy cấp quyền lại cho OA (flask zalo consent-url) rồi đăng lại.",
            auth=True,
        )
    if code in ZALO_RETRY_CODES or status >= 500 or status == 429:
        return PostError(str(code or status), f"Zalo tạm thời gặp lỗi hoặc giới hạn số lần gọi ({label}); sẽ thử lại sau.", retry=True)
    if code == -201:
        return PostError(str(code), f"Zalo từ chối dữ liệu bài viết ({label}): {detail}. Kiểm tra tiêu đề, ảnh bìa và nội dung.")
    if code in {-224, -209}:
        return PostError(str(code), f"OA chưa được phép đăng bài viết qua API ({label}): {detail}.")
    return PostError(str(code if code is not None else status), f"Zalo báo lỗi ({label}): {detail}")


def article_body(*, title: str, text: str, author: str, cover_url: str, link: str | None = None, image_url: str | None = None) -> dict[str, Any]:
    """The /v2.0/article/create body: paragraphs of escaped text, the image, the link."""
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    content = "".join("<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)
    if link:
        safe = html.escape(link, quote=True)
        content += f'<p><a href="{safe}">{safe}</a></p>'
    body: list[dict[str, Any]] = [{"type": "text", "content": content}]
    if image_url and image_url != cover_url:
        body.append({"type": "image", "url": image_url, "caption": ""})
    description = " ".join(text.split())
    return {
        "type": "normal",
        "title": title[:150],
        "author": author[:50],
        "cover": {"cover_type": "photo", "photo_url": cover_url, "status": "show"},
        "description": description[:300],
        "body": body,
        "status": "show",
        "comment": "show",
    }
