"""Vietnamese error pages for browsers; JSON for the console API and webhooks."""

from __future__ import annotations

import io

import pytest
from flask import abort

from tests.integration.test_participation_import import login

HTML = {"Accept": "text/html,application/xhtml+xml"}


def page(response) -> str:
    assert response.mimetype == "text/html", response.mimetype
    return response.get_data(as_text=True)


def test_404_is_a_styled_vietnamese_page(client):
    response = client.get("/admin/khong-co-trang-nay", headers=HTML)
    assert response.status_code == 404
    body = page(response)
    assert "Không tìm thấy trang" in body and "Mã lỗi 404" in body and 'lang="vi"' in body and "admin.css" in body
    assert "Not Found" not in body


def test_expired_form_is_a_400_page_saying_so(client):
    response = client.post("/admin/login", data={"username": "a", "password": "b"}, headers=HTML)  # no CSRF token
    assert response.status_code == 400
    body = page(response)
    assert "Yêu cầu không hợp lệ" in body and "Phiên làm việc đã hết hạn" in body and "Bad Request" not in body


def test_403_page_for_a_role_without_the_permission(client, store):
    login(client, store, "viewer")
    response = client.get("/admin/accounts", headers=HTML)
    assert response.status_code == 403
    body = page(response)
    assert "Không có quyền truy cập" in body and "Về trang quản trị" in body and "Forbidden" not in body


def test_413_page_for_a_body_over_the_limit(client):
    response = client.post("/admin/login", data=io.BytesIO(b"x" * (2 * 1024 * 1024)), headers={**HTML, "Content-Type": "application/octet-stream"})
    assert response.status_code == 413
    assert "Tệp hoặc nội dung quá lớn" in page(response)


def test_429_and_500_pages(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: an error becomes a 500 page

    @app.get("/admin/_test/slow-down")
    def slow_down():
        abort(429)

    @app.get("/admin/_test/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = client.get("/admin/_test/slow-down", headers=HTML)
    assert response.status_code == 429 and "Quá nhiều yêu cầu" in page(response)
    response = client.get("/admin/_test/boom", headers=HTML)
    assert response.status_code == 500
    body = page(response)
    assert "Lỗi hệ thống" in body and "secret internals" not in body and "Internal Server Error" not in body


@pytest.mark.parametrize("path,method", [("/admin/api/khong-co", "get"), ("/webhooks/khong-co", "post")])
def test_apis_and_webhooks_get_json(client, path, method):
    response = getattr(client, method)(path, headers=HTML)
    assert response.status_code == 404 and response.is_json
    assert response.get_json()["error"] == "Địa chỉ này không có hoặc đã bị xóa. Vui lòng kiểm tra lại đường dẫn."


def test_webhook_over_one_megabyte_is_a_json_413(client):
    response = client.post("/webhooks/messenger", data=b"x" * (1024 * 1024 + 10), headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.is_json and "vượt quá giới hạn" in response.get_json()["error"]


def test_a_redirect_is_not_an_error(client):
    assert client.get("/admin").status_code in (301, 308)
