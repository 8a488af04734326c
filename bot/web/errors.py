"""Error pages: styled Vietnamese pages for browsers, JSON for APIs and webhooks.

Every HTTP error of the app (400 expired form, 403, 404, 405, 413, 429, 500...) goes
through here.  A page keeps a specific Vietnamese message given to ``abort`` (for
example the expired-form text of the CSRF check) and falls back to a general one.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

logger = logging.getLogger(__name__)

# status -> (title, general explanation)
MESSAGES: dict[int, tuple[str, str]] = {
    400: ("Yêu cầu không hợp lệ",
          "Biểu mẫu đã hết hạn hoặc thông tin gửi lên không hợp lệ. Vui lòng tải lại trang rồi thử lại."),
    401: ("Cần đăng nhập", "Vui lòng đăng nhập bằng tài khoản cán bộ để tiếp tục."),
    403: ("Không có quyền truy cập",
          "Tài khoản của bạn không có quyền dùng chức năng này. Nếu cần, hãy liên hệ quản trị viên."),
    404: ("Không tìm thấy trang", "Địa chỉ này không có hoặc đã bị xóa. Vui lòng kiểm tra lại đường dẫn."),
    405: ("Thao tác không được hỗ trợ", "Trang này không nhận kiểu yêu cầu vừa gửi. Vui lòng quay lại và thử lại."),
    413: ("Tệp hoặc nội dung quá lớn",
          "Nội dung gửi lên vượt quá giới hạn cho phép. Hãy chia nhỏ tệp hoặc rút gọn nội dung rồi thử lại."),
    429: ("Quá nhiều yêu cầu", "Bạn đã thao tác quá nhanh. Vui lòng chờ một lát rồi thử lại."),
    500: ("Lỗi hệ thống",
          "Đã có lỗi ngoài ý muốn. Lỗi đã được ghi lại để cán bộ kỹ thuật kiểm tra; vui lòng thử lại sau ít phút."),
    503: ("Dịch vụ tạm ngừng", "Hệ thống đang bận hoặc đang bảo trì. Vui lòng thử lại sau ít phút."),
}
JSON_PREFIXES = ("/webhooks/", "/admin/api/", "/simulator/api/", "/chat/api/", "/healthz")


def wants_json() -> bool:
    """APIs, webhooks and clients asking for JSON get JSON; browsers get a page."""
    path = request.path
    return (
        path.startswith(JSON_PREFIXES) or "/api/" in path or request.is_json
        or request.accept_mimetypes.best == "application/json"
    )


def _message(error: HTTPException) -> tuple[str, str]:
    code = error.code or 500
    title, general = MESSAGES.get(code, (f"Lỗi {code}", "Đã có lỗi. Vui lòng quay lại và thử lại."))
    default = type(error).description
    specific = error.description if error.description and error.description != default else ""
    if code >= 500:
        specific = ""  # never show internals
    return title, specific or general


def handle_http_error(error: HTTPException) -> Any:
    if error.code is None or error.code < 400:
        return error  # redirects raised by routing
    title, message = _message(error)
    if wants_json():
        response = jsonify({"error": message, "status": error.code})
    else:
        referrer = request.referrer or ""
        back = referrer if referrer.startswith(request.host_url) and referrer != request.url else ""
        response = render_template("error.html", code=error.code, title=title, message=message, back=back)
    headers = {k: v for k, v in error.get_headers() if k.lower() not in ("content-type", "content-length")}
    return response, error.code, headers


def handle_unexpected(error: Exception) -> Any:
    """An unhandled exception: logged with its traceback, a Vietnamese 500 to the user."""
    original = getattr(error, "original_exception", None) or error
    if not isinstance(original, InternalServerError):
        logger.error("unhandled error on %s %s", request.method, request.path, exc_info=original)
    return handle_http_error(InternalServerError())


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_unexpected)
