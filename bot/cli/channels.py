"""Platform set-up commands: `flask messenger ...`, `flask zalo ...`, `flask zalo-bot ...`.

Nothing here prints a token: `token-status` shows only whether tokens exist, their
age, expiry and the alert state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import click
from flask.cli import AppGroup

from bot.channels.zalo_tokens import TokenError
from bot.core.models import SendError
from bot.web.context import get_services

messenger_cli = AppGroup("messenger", help="Facebook Messenger: Page set-up.")
zalo_cli = AppGroup("zalo", help="Zalo OA: authorisation and tokens.")
zalo_bot_cli = AppGroup("zalo-bot", help="Zalo Bot: webhook set-up.")


def _channel(name: str) -> Any:
    channel = get_services().channels.get(name)
    if channel is None:
        raise click.ClickException(f"Không có kênh {name} / channel {name} is not built.")
    if not channel.enabled:
        missing = ", ".join(channel.missing_settings)
        raise click.ClickException(f"Kênh {name} chưa được cấu hình, thiếu / missing: {missing}")
    return channel


def _when(ts: float | None) -> str:
    if not ts:
        return "—"
    zone = ZoneInfo(get_services().config.get("TIMEZONE") or "Asia/Ho_Chi_Minh")
    return datetime.fromtimestamp(ts, zone).strftime("%Y-%m-%d %H:%M:%S %Z")


@messenger_cli.command("setup-profile")
def messenger_setup_profile() -> None:
    """Set the Page's Get Started button, greeting and persistent menu."""
    try:
        _channel("messenger").setup_profile()
    except SendError as exc:
        raise click.ClickException(f"Facebook từ chối / refused: {exc}") from None
    click.echo("Đã cài nút Bắt đầu, lời chào và menu cho Trang.")


@zalo_cli.command("consent-url")
@click.option("--redirect-uri", default=None, help="Callback URL registered in the Zalo app (default ZALO_OAUTH_REDIRECT_URI).")
def zalo_consent_url(redirect_uri: str | None) -> None:
    """Print the link an OA admin opens to (re-)authorise the app."""
    redirect_uri = redirect_uri or get_services().config.get("ZALO_OAUTH_REDIRECT_URI") or ""
    if not redirect_uri:
        raise click.ClickException("Cần --redirect-uri hoặc ZALO_OAUTH_REDIRECT_URI / a redirect URI is needed.")
    url = _channel("zalo").tokens.consent_url(redirect_uri)
    click.echo("Quản trị viên OA mở liên kết này, đồng ý cấp quyền, rồi chạy `flask zalo exchange-code <code>`")
    click.echo("với giá trị code trên địa chỉ được chuyển tới (hiệu lực 10 phút):")
    click.echo(url)


@zalo_cli.command("exchange-code")
@click.argument("code")
def zalo_exchange_code(code: str) -> None:
    """Trade the consent callback's code for a token pair."""
    try:
        _channel("zalo").tokens.exchange_code(code)
    except TokenError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("Đã lưu token mới; kênh Zalo OA hoạt động lại / tokens saved, channel OK.")


@zalo_cli.command("refresh-token")
def zalo_refresh_token() -> None:
    """Refresh the OA access token now."""
    tokens = _channel("zalo").tokens
    try:
        tokens.refresh()
    except TokenError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Đã làm mới token; hết hạn lúc / expires {_when(tokens.status()['expires_at'])}")


@zalo_cli.command("token-status")
def zalo_token_status() -> None:
    """Show token age, expiry and alert state (never the tokens)."""
    status = _channel("zalo").tokens.status()
    yes_no = {True: "có / yes", False: "không / no"}
    click.echo(f"Trạng thái / state: {status['state']}")
    if status["detail"]:
        click.echo(f"Chi tiết / detail: {status['detail']}")
    click.echo(f"Access token: {yes_no[status['has_access_token']]}")
    click.echo(f"Refresh token: {yes_no[status['has_refresh_token']]}")
    age = status["age_seconds"]
    click.echo(f"Làm mới lúc / refreshed: {_when(status['refreshed_at'])}" + (f" ({age / 3600:.1f} h)" if age else ""))
    left = status["expires_in_seconds"]
    click.echo(f"Hết hạn / expires: {_when(status['expires_at'])}" + (f" ({left / 3600:+.1f} h)" if left else ""))


@zalo_bot_cli.command("set-webhook")
@click.argument("url")
def zalo_bot_set_webhook(url: str) -> None:
    """Point the Zalo Bot at URL (e.g. https://example.org/webhooks/zalo-bot)."""
    try:
        _channel("zalo_bot").set_webhook(url)
    except SendError as exc:
        raise click.ClickException(f"Zalo từ chối / refused: {exc}") from None
    click.echo(f"Đã đặt webhook / webhook set: {url}")


@zalo_bot_cli.command("get-me")
def zalo_bot_get_me() -> None:
    """Show the bot's account (checks the token)."""
    try:
        me = _channel("zalo_bot").get_me()
    except SendError as exc:
        raise click.ClickException(f"Zalo từ chối / refused: {exc}") from None
    for key in ("id", "account_name", "display_name", "account_type", "can_join_groups"):
        if key in me:
            click.echo(f"{key}: {me[key]}")
