"""Health and settings: channel status, the Zalo OA token and its re-authorisation, webhook URLs."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from flask import current_app, flash, redirect, render_template, request, url_for

from bot.channels.zalo_tokens import PKCE, TokenError
from bot.console.blueprint import bp
from bot.core import formats
from bot.core.config import SETTINGS
from bot.web.auth import audit, requires
from bot.web.context import clock_now, get_services, get_store
from bot.web.health import channel_states

CHANNEL_LABELS = {"messenger": "Facebook Messenger", "zalo": "Zalo OA", "zalo_bot": "Zalo Bot"}
STATE_LABELS = {"ok": "Hoạt động", "alert": "Cần xử lý", "disabled": "Chưa cấu hình"}
SHOWN_SETTINGS = (
    "ORG_NAME", "ORG_PHONES", "ORG_EMAIL", "ORG_WEBSITE", "TIMEZONE", "QUIET_HOURS", "ANSWER_THRESHOLD",
    "SUGGEST_THRESHOLD", "MESSENGER_RATE_PER_SECOND", "ZALO_RATE_PER_SECOND", "ZALO_BOT_RATE_PER_SECOND",
    "ZALO_BROADCAST_TYPE", "ZALO_ALLOW_PAID_WINDOW", "CONTENT_DIR", "PUBLIC_BASE_URL", "CONTEST_OFFER_DAYS_AFTER_END",
)


def public_base() -> str:
    """Where platforms reach this server: PUBLIC_BASE_URL, else the address this page was opened at."""
    return (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")


def webhook_urls() -> list[dict[str, str]]:
    base = public_base()
    config = current_app.config
    return [
        {"channel": "Facebook Messenger", "url": f"{base}/webhooks/messenger",
         "where": "developers.facebook.com → ứng dụng → Messenger → Cài đặt → Webhook (Callback URL); Verify token là giá trị MESSENGER_VERIFY_TOKEN"
                  + (" (đã cài)." if config.get("MESSENGER_VERIFY_TOKEN") else " (chưa cài!).")},
        {"channel": "Zalo OA", "url": f"{base}/webhooks/zalo",
         "where": "developers.zalo.me → ứng dụng → Webhook: dán URL, bấm Kiểm tra, bật các sự kiện tin nhắn; tắt “Lọc cú pháp”."},
        {"channel": "Zalo Bot", "url": f"{base}/webhooks/zalo-bot",
         "where": "Chạy `flask zalo-bot set-webhook " + f"{base}/webhooks/zalo-bot` trên máy chủ (dùng ZALO_BOT_SECRET_TOKEN)."},
    ]


def _zalo_status() -> dict | None:
    channel = get_services().channels.get("zalo")
    if channel is None or not hasattr(channel, "tokens"):
        return None
    status = channel.tokens.status()
    status["enabled"] = channel.enabled
    status["redirect_uri"] = current_app.config.get("ZALO_OAUTH_REDIRECT_URI") or ""
    return status


@bp.get("/system")
@requires("read")
def system(consent_url: str | None = None):
    store = get_store()
    services = get_services()
    states = channel_states(services, store.channel_statuses())
    backlog = store.outbox_backlog()
    inbox = store.inbox_counts()
    settings = []
    for s in SETTINGS:
        if s.secret:
            settings.append({"name": s.name, "value": "đã cài" if current_app.config.get(s.name) else "chưa cài", "doc": s.vi or s.doc, "secret": True})
        elif s.name in SHOWN_SETTINGS:
            value = current_app.config.get(s.name)
            if s.name == "QUIET_HOURS" and not value:
                value = "tắt"
            elif isinstance(value, bool):
                value = "có" if value else "không"
            elif isinstance(value, (int, float)):
                value = formats.number_text(value)
            elif isinstance(value, (list, tuple)):
                value = ", ".join(str(v) for v in value) if s.name != "QUIET_HOURS" else "–".join(t.strftime("%H:%M") for t in value)
            settings.append({"name": s.name, "value": "" if value is None else str(value) or "(trống)", "doc": s.vi or s.doc, "secret": False})
    base = public_base()
    return render_template(
        "admin/system.html", states=states, labels=CHANNEL_LABELS, state_labels=STATE_LABELS, backlog=backlog,
        inbox=inbox, workers=services.workers is not None, zalo=_zalo_status(), webhooks=webhook_urls(),
        base=base, https=base.startswith("https://"), settings=settings, consent_url=consent_url, now=clock_now(),
    )


@bp.post("/system/zalo/consent")
@requires("accounts")
def zalo_consent():
    """Step 1 of re-authorisation: a consent link for the OA admin (PKCE, kept in the database)."""
    status = _zalo_status()
    if status is None or not status["enabled"]:
        flash("Kênh Zalo OA chưa được cấu hình (cần ZALO_APP_ID, ZALO_APP_SECRET, ZALO_OA_SECRET_KEY).", "error")
        return redirect(url_for("console.system"))
    if not status["redirect_uri"]:
        flash("Cần cài ZALO_OAUTH_REDIRECT_URI (địa chỉ callback đã đăng ký trong ứng dụng Zalo) rồi thử lại.", "error")
        return redirect(url_for("console.system"))
    url = get_services().channels["zalo"].tokens.consent_url(status["redirect_uri"])
    audit("zalo.consent_url")
    return system(consent_url=url)


def _code_and_state(text: str) -> tuple[str, str | None]:
    """The code from what staff pasted: the code itself, or the whole callback address."""
    text = text.strip()
    if "code=" in text:
        query = parse_qs(urlparse(text).query or text.split("?", 1)[-1])
        return (query.get("code") or [""])[0], (query.get("state") or [None])[0]
    return text, None


@bp.post("/system/zalo/code")
@requires("accounts")
def zalo_code():
    """Step 2: trade the code from the callback for a new token pair."""
    code, state = _code_and_state(request.form.get("code", ""))
    if not code:
        flash("Dán mã code (hoặc cả địa chỉ trang callback) vào ô trước khi bấm.", "error")
        return redirect(url_for("console.system") + "#zalo")
    pkce = get_store().get_tokens(PKCE)
    if state is not None and (not pkce or pkce["refresh_token"] != state):
        flash("Mã này không thuộc liên kết cấp quyền mới nhất (state không khớp). Tạo liên kết mới và làm lại.", "error")
        return redirect(url_for("console.system") + "#zalo")
    try:
        get_services().channels["zalo"].tokens.exchange_code(code)
    except (TokenError, ValueError) as exc:
        flash(f"Zalo không nhận mã: {exc}", "error")
        audit("zalo.exchange_code", "failed", str(exc)[:200])
        return redirect(url_for("console.system") + "#zalo")
    audit("zalo.exchange_code", "ok")
    flash("Đã cấp quyền lại cho Zalo OA: token mới đã được lưu.", "success")
    return redirect(url_for("console.system") + "#zalo")
