"""Settings: read from the environment (and `.env`), validated, with defaults.

Every setting is listed once in ``SETTINGS``; ``.env.example`` and the README's
settings table document the same names (a test keeps them in step).  A bad value
raises :class:`ConfigError`, which names the setting, and start-up stops.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ConfigError(ValueError):
    """A setting has a value the app cannot use."""

    def __init__(self, name: str, message: str):
        super().__init__(f"Setting {name}: {message}")
        self.name = name


def _str(value: str) -> str:
    return value.strip()


def _int_range(lo: int, hi: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value.strip())
        except ValueError:
            raise ValueError(f"expected a whole number, got {value!r}") from None
        if not lo <= number <= hi:
            raise ValueError(f"expected a number from {lo} to {hi}, got {number}")
        return number

    return parse


def _float_min(lo: float) -> Callable[[str], float]:
    def parse(value: str) -> float:
        try:
            number = float(value.strip())
        except ValueError:
            raise ValueError(f"expected a number, got {value!r}") from None
        if number < lo or number != number:
            raise ValueError(f"expected a number >= {lo}, got {value!r}")
        return number

    return parse


def _bool(value: str) -> bool:
    v = value.strip().lower()
    if v in {"1", "true", "yes", "on"}:
        return True
    if v in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _url(value: str) -> str:
    v = value.strip().rstrip("/")
    if not re.match(r"^https?://[^\s/]+", v):
        raise ValueError(f"expected an http(s) URL, got {value!r}")
    return v


def _optional_url(value: str) -> str:
    return _url(value) if value.strip() else ""


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value.strip()


def _clock(text: str) -> time:
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ValueError(f"expected HH:MM, got {text!r}")
    return time(int(m.group(1)), int(m.group(2)))


def _quiet_hours(value: str) -> tuple[time, time] | None:
    """``"21:30-07:00"`` -> (start, end); ``"off"`` or empty -> None (no quiet hours)."""
    v = value.strip().lower()
    if v in {"", "off", "none", "0"}:
        return None
    parts = v.split("-")
    if len(parts) != 2:
        raise ValueError(f"expected HH:MM-HH:MM or off, got {value!r}")
    start, end = _clock(parts[0]), _clock(parts[1])
    if start == end:
        raise ValueError("start and end are the same; use off to disable quiet hours")
    return start, end


def _choice(*options: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        v = value.strip().lower()
        if v not in options:
            raise ValueError(f"expected one of {', '.join(options)}, got {value!r}")
        return v

    return parse


def _phones(value: str) -> list[str]:
    return [p.strip() for p in value.split(",") if p.strip()]


def _origins(value: str) -> list[str]:
    """``"https://a.vn, https://b.vn/"`` -> ["https://a.vn", "https://b.vn"] (scheme://host[:port], no path)."""
    out = []
    for part in value.split(","):
        origin = part.strip().rstrip("/").lower()
        if not origin:
            continue
        if not re.fullmatch(r"https?://[a-z0-9.-]+(:\d{1,5})?", origin):
            raise ValueError(f"expected origins such as https://example.vn, got {part.strip()!r}")
        out.append(origin)
    return out


def _database_url(value: str) -> str:
    """Empty, or a ``postgresql://`` (``postgres://``) connection URL."""
    url = value.strip()
    if url and not url.startswith(("postgresql://", "postgres://")):
        raise ValueError("expected a postgresql:// URL (or empty for SQLite)")
    return url


def database_target(config: Mapping[str, Any]) -> str:
    """What Store.open takes: the PostgreSQL URL when DATABASE_URL is set, else the SQLite file."""
    return str(config.get("DATABASE_URL") or config["DATABASE_PATH"])


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    parse: Callable[[str], Any]
    doc: str
    secret: bool = False


GRAPH_API_BASE = "https://graph.facebook.com/v25.0"

SETTINGS: tuple[Setting, ...] = (
    # Server
    Setting("HOST", "127.0.0.1", _str, "Address the server listens on."),
    Setting("PORT", "8000", _int_range(1, 65535), "Port the server listens on."),
    Setting("WEB_THREADS", "8", _int_range(1, 256), "Request threads of the WSGI server (waitress)."),
    Setting("DATABASE_PATH", "instance/bot.db", _str, "SQLite database file; its folder is created on first start (0700, the file 0600). Relative to the project folder."),
    Setting("DATABASE_URL", "", _database_url, "PostgreSQL instead of SQLite, e.g. postgresql://bot:password@db.example.vn:5432/bot (several processes or hosts on one database). Empty: the SQLite file DATABASE_PATH. When set, SECRET_KEY is required.", True),
    Setting("SECRET_KEY", "", _str, "Session signing key. Empty: generated once and kept beside the database (instance/secret_key); required when DATABASE_URL is set (every host must sign with the same key).", True),
    Setting("LOG_LEVEL", "INFO", _choice("debug", "info", "warning", "error"), "Log level. Member message text is logged only at DEBUG."),
    Setting("CONTENT_DIR", "content", _str, "Folder of the content bank (YAML files). Relative to the project folder."),
    Setting("PUBLIC_BASE_URL", "", _optional_url, "Public HTTPS address of this server, used to show webhook URLs (optional)."),
    Setting("SIMULATOR_ENABLED", "true", _bool, "Serve the chat simulator at /simulator: open to anyone until a platform channel is configured, then staff only. Its traffic never counts in reports."),
    Setting("TRUST_PROXY_HEADERS", "false", _bool, "Behind an HTTPS reverse proxy: trust X-Forwarded-Proto/For/Host (one proxy)."),
    Setting("LOGIN_MAX_FAILURES", "5", _int_range(0, 1000), "Failed console logins per username and address before a lockout. 0 switches it off."),
    Setting("LOGIN_LOCKOUT_MINUTES", "15", _float_min(0), "Length of the login lockout window."),
    Setting("LOGIN_MAX_FAILURES_PER_ADDRESS", "30", _int_range(0, 1_000_000), "Failed console logins from one address, whatever the usernames, within the lockout window before that address must wait. 0 switches it off."),
    Setting("SESSION_IDLE_MINUTES", "60", _float_min(0), "A console session unused this long ends (log in again). 0 switches it off."),
    Setting("SESSION_MAX_HOURS", "12", _float_min(0), "A console session ends this long after login, however active. 0 switches it off."),
    # Messenger
    Setting("MESSENGER_APP_SECRET", "", _str, "Facebook app secret: verifies X-Hub-Signature-256.", True),
    Setting("MESSENGER_VERIFY_TOKEN", "", _str, "Your own string for the webhook verification handshake.", True),
    Setting("MESSENGER_PAGE_ACCESS_TOKEN", "", _str, "Page access token used to send messages.", True),
    Setting("MESSENGER_API_BASE", GRAPH_API_BASE, _url, "Graph API base URL with a pinned version."),
    # Zalo OA
    Setting("ZALO_APP_ID", "", _str, "Zalo app id (developers.zalo.me)."),
    Setting("ZALO_OA_ID", "", _str, "OA id (optional): in OA groups, a message mentioning @<this id> is addressed to the bot."),
    Setting("ZALO_APP_SECRET", "", _str, "Zalo app secret: sent as secret_key to the OAuth token endpoint.", True),
    Setting("ZALO_OA_SECRET_KEY", "", _str, "OA secret key: part of the X-ZEvent-Signature hash.", True),
    Setting("ZALO_ACCESS_TOKEN", "", _str, "Initial OA access token; used only when the database holds none.", True),
    Setting("ZALO_REFRESH_TOKEN", "", _str, "Initial OA refresh token; used only when the database holds none.", True),
    Setting("ZALO_API_BASE", "https://openapi.zalo.me", _url, "Zalo OA Open API base URL."),
    Setting("ZALO_OAUTH_BASE", "https://oauth.zaloapp.com", _url, "Zalo OAuth v4 base URL."),
    Setting("ZALO_OAUTH_REDIRECT_URI", "", _optional_url, "Callback URL registered in the Zalo app, for re-authorisation."),
    Setting("ZALO_SIGNATURE_KEY", "oa_secret", _choice("oa_secret", "app_secret"), "Which secret the webhook signature uses (uncertain in Zalo's docs; default the OA secret key)."),
    Setting("ZALO_TOKEN_REFRESH_AFTER_HOURS", "16", _float_min(0.1), "Refresh the OA access token once it is this old (it lives 25 h)."),
    # Zalo Bot
    Setting("ZALO_BOT_TOKEN", "", _str, "Zalo Bot token (<bot_id>:<secret>).", True),
    Setting("ZALO_BOT_SECRET_TOKEN", "", _str, "Secret compared with X-Bot-Api-Secret-Token on the bot webhook.", True),
    Setting("ZALO_BOT_API_BASE", "https://bot-api.zaloplatforms.com", _url, "Zalo Bot API base URL."),
    # Delivery
    Setting("MESSENGER_RATE_PER_SECOND", "20", _float_min(0), "Messenger send rate. 0 switches the limit off."),
    Setting("ZALO_RATE_PER_SECOND", "15", _float_min(0), "Zalo OA send rate. 0 switches the limit off."),
    Setting("ZALO_BOT_RATE_PER_SECOND", "5", _float_min(0), "Zalo Bot send rate. 0 switches the limit off."),
    Setting("SENDER_THREADS", "4", _int_range(1, 64), "Concurrent sends per channel."),
    Setting("OUTBOX_MAX_ATTEMPTS", "6", _int_range(1, 50), "Attempts per message before it is marked failed."),
    Setting("OUTBOX_RETRY_BASE_SECONDS", "2", _float_min(0), "First retry delay; doubles each attempt, with jitter."),
    Setting("HTTP_TIMEOUT_SECONDS", "10", _float_min(0.1), "Timeout of each call to a platform."),
    Setting("GROUP_REPLIES_PER_MINUTE", "6", _float_min(0), "Bot replies per group per minute. 0 switches the limit off."),
    # Broadcasts
    Setting("TIMEZONE", "Asia/Ho_Chi_Minh", _timezone, "Local time zone for schedules and quiet hours."),
    Setting("QUIET_HOURS", "21:30-07:00", _quiet_hours, "Broadcasts wait while local time is inside this range. off switches it off."),
    Setting("SCHEDULER_TICK_SECONDS", "10", _float_min(1), "How often the scheduler checks the database for due broadcasts."),
    Setting("MISSED_RUN_GRACE_HOURS", "6", _float_min(0), "A run missed while stopped still runs at start if this recent."),
    Setting("MESSENGER_WINDOW_HOURS", "24", _float_min(0), "Messenger standard messaging window."),
    Setting("ZALO_FREE_WINDOW_HOURS", "48", _float_min(0), "Zalo OA free consultation window."),
    Setting("ZALO_PAID_WINDOW_DAYS", "7", _float_min(0), "Zalo OA billed consultation window limit."),
    Setting("ZALO_ALLOW_PAID_WINDOW", "false", _bool, "Send broadcasts in Zalo's billed 48 h-7 d window."),
    Setting("ZALO_BROADCAST_TYPE", "cs", _choice("cs", "promotion"), "cs (consultation, window rules) or promotion (OA quota)."),
    # Answers
    Setting("ANSWER_THRESHOLD", "0.40", _float_min(0), "Coverage at or above which the bot answers."),
    Setting("SUGGEST_THRESHOLD", "0.25", _float_min(0), "Coverage at or above which the bot offers likely questions."),
    # Organisation (shown to members; nothing is hard-coded)
    Setting("ORG_NAME", "Hội Liên hiệp Phụ nữ", _str, "Name of the organisation that runs the bot."),
    Setting("ORG_PHONES", "", _phones, "Contact phone numbers, comma separated."),
    Setting("ORG_EMAIL", "", _str, "Contact e-mail."),
    Setting("ORG_WEBSITE", "", _optional_url, "Website of the organisation."),
    # Participation: registration, quizzes, contests and unit reports
    Setting("CONSENT_VERSION", "2026-01", _str, "Version of the consent text members accept at registration; change it when the text changes."),
    Setting("DATA_RETENTION_MONTHS", "24", _int_range(0, 600), "Personal data of members silent this long is erased by `flask privacy purge`. 0 switches it off."),
    Setting("QUEUE_RETENTION_DAYS", "400", _int_range(0, 100_000), "Handled inbox events and finished outbox messages older than this are deleted by the nightly purge (reports over older periods lose them). 0 switches it off."),
    Setting("FLOW_EXPIRY_MINUTES", "60", _float_min(0), "An unfinished registration, hái hoa or contest report is dropped after this long. 0 switches it off."),
    Setting("QUIZ_ATTEMPT_EXPIRY_MINUTES", "30", _float_min(0), "A quiz attempt with no answer for this long expires and is not scored. 0 switches it off."),
    Setting("LEADERBOARD_SIZE", "20", _int_range(0, 1_000_000), "Rows of each quiz leaderboard in reports. 0 switches the limit off."),
    Setting("COMMEND_TOP_MEMBERS", "10", _int_range(0, 100_000), "Individual commendation candidates per report. 0 switches the list off."),
    Setting("COMMEND_MIN_SCORE_PERCENT", "80", _int_range(0, 100), "Average best quiz score (percent) an individual candidate needs."),
    Setting("COMMEND_MIN_QUIZZES", "1", _int_range(0, 1000), "Quizzes an individual candidate must finish in the period."),
    Setting("COMMEND_TOP_UNITS", "5", _int_range(0, 100_000), "Collective (unit) commendation candidates per report. 0 switches the list off."),
    Setting("COMMEND_UNIT_MIN_MEMBERS", "5", _int_range(0, 1_000_000), "Registered members a unit needs to be a collective candidate."),
    # Conversations with staff (GẶP CÁN BỘ)
    Setting("OFFICE_HOURS", "Thứ Hai–Thứ Sáu, 7:30–17:00", _str, "When staff usually answer, told to a member who asks for staff (GẶP CÁN BỘ)."),
    Setting("HANDOFF_EXPIRY_DAYS", "7", _float_min(0), "An open conversation with staff with no message for this long is closed and the bot answers again. 0 switches it off."),
    Setting("HANDOFF_NOTIFY_ZALO_BOT_CHAT_ID", "", _str, "Zalo Bot chat id of a staff chat told about new conversations with staff (empty: no message)."),
    Setting("HANDOFF_NOTIFY_DIGEST_MINUTES", "15", _float_min(0), "At most one staff notice per this many minutes; conversations opened meanwhile go in one digest."),
    # Website chat and page/OA posts
    Setting("CHAT_ENABLED", "true", _bool, "Serve the website chat at /chat and its embed script /chat/embed.js."),
    Setting("CHAT_ALLOWED_ORIGINS", "", _origins, "Origins of the union's website that may embed the chat (CORS), comma separated, e.g. https://phunu.example.vn. Empty: only this server's own /chat page."),
    Setting("CHAT_VISITOR_MESSAGES_PER_MINUTE", "10", _float_min(0), "Website chat messages one visitor may send per minute. 0 switches the limit off."),
    Setting("CHAT_ADDRESS_MESSAGES_PER_MINUTE", "30", _float_min(0), "Website chat messages one network address may send per minute (all its visitors). 0 switches the limit off."),
    Setting("FACEBOOK_PAGE_ID", "", _str, "Facebook Page id for page posts (flask post create --to facebook-page); the page token needs pages_manage_posts."),
    Setting("FACEBOOK_SCHEDULE_MIN_MINUTES", "15", _float_min(0), "A page post at least this far ahead is scheduled on Facebook (scheduled_publish_time); nearer ones wait in our scheduler."),
    Setting("ZALO_ARTICLE_COVER_URL", "", _optional_url, "Cover photo of Zalo OA articles posted without --image (Zalo articles need a cover)."),
)



def load_config(environ: Mapping[str, str]) -> dict[str, Any]:
    """Parse every known setting from ``environ``; raise ConfigError naming a bad one."""
    config: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(setting.name)
        if raw is None:
            raw = setting.default
        try:
            config[setting.name] = setting.parse(raw)
        except ValueError as exc:
            raise ConfigError(setting.name, str(exc)) from None
    return config



def secret_names() -> set[str]:
    """Names of settings whose values must never be logged."""
    return {s.name for s in SETTINGS if s.secret}
