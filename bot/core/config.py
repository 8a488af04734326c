"""Settings: read from the environment (and `.env`), validated, with defaults.

Every setting is listed once in ``SETTINGS``; ``.env.example`` and the README's
settings table document the same names (a test keeps them in step).  A bad value
raises :class:`ConfigError`, which names the setting, and start-up stops.
"""

from __future__ import annotations

import math
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
        if number < lo or math.isnan(number):
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
    vi: str = ""  # the description staff read in the console (system page), in Vietnamese


GRAPH_API_BASE = "https://graph.facebook.com/v25.0"

SETTINGS: tuple[Setting, ...] = (
    # Server
    Setting("HOST", "127.0.0.1", _str, "Address the server listens on.",
            vi="Địa chỉ máy chủ lắng nghe."),
    Setting("PORT", "8000", _int_range(1, 65535), "Port the server listens on.",
            vi="Cổng máy chủ lắng nghe."),
    Setting("WEB_THREADS", "8", _int_range(1, 256), "Request threads of the WSGI server (waitress).",
            vi="Số luồng xử lý yêu cầu của máy chủ web (waitress)."),
    Setting("DATABASE_PATH", "instance/bot.db", _str, "SQLite database file; its folder is created on first start (0700, the file 0600). Relative to the project folder.",
            vi="Tệp cơ sở dữ liệu SQLite; thư mục được tạo khi chạy lần đầu (chỉ tài khoản dịch vụ đọc được). Đường dẫn tương đối tính từ thư mục dự án."),
    Setting("DATABASE_URL", "", _database_url, "PostgreSQL instead of SQLite, e.g. postgresql://bot:password@db.example.vn:5432/bot (several processes or hosts on one database). Empty: the SQLite file DATABASE_PATH. When set, SECRET_KEY is required.", True,
            vi="Dùng PostgreSQL thay cho SQLite (nhiều tiến trình hoặc nhiều máy dùng chung một cơ sở dữ liệu). Để trống: dùng tệp SQLite DATABASE_PATH. Khi đặt giá trị này thì bắt buộc có SECRET_KEY."),
    Setting("SECRET_KEY", "", _str, "Session signing key. Empty: generated once and kept beside the database (instance/secret_key); required when DATABASE_URL is set (every host must sign with the same key).", True,
            vi="Khóa ký phiên đăng nhập. Để trống: tự tạo một lần và lưu cạnh cơ sở dữ liệu; bắt buộc khi dùng DATABASE_URL (mọi máy phải ký cùng một khóa)."),
    Setting("LOG_LEVEL", "INFO", _choice("debug", "info", "warning", "error"), "Log level. Member message text is logged only at DEBUG.",
            vi="Mức ghi nhật ký. Nội dung tin nhắn của hội viên chỉ được ghi ở mức DEBUG."),
    Setting("CONTENT_DIR", "content", _str, "Folder of the content bank (YAML files). Relative to the project folder.",
            vi="Thư mục kho nội dung (các tệp YAML). Đường dẫn tương đối tính từ thư mục dự án."),
    Setting("CONTENT_STORE", "files", _choice("files", "database"), "Where the content bank's entries live: files (the YAML under CONTENT_DIR/bank, edited in place by the console) or database (a table every host reads; console edits are seen by all hosts within seconds; the YAML is imported once on the first start, then `flask content export` / `import` keep it in Git). Set database when several hosts share DATABASE_URL.",
            vi="Nơi lưu các mục hỏi đáp: files (các tệp YAML trong CONTENT_DIR/bank, trang quản trị sửa thẳng vào tệp) hoặc database (một bảng trong cơ sở dữ liệu mà mọi máy cùng đọc; mục sửa trên trang quản trị có hiệu lực trên mọi máy sau vài giây; lần chạy đầu nạp YAML vào một lần, sau đó dùng `flask content export` / `import` để giữ YAML trong Git). Chọn database khi nhiều máy dùng chung DATABASE_URL."),
    Setting("PUBLIC_BASE_URL", "", _optional_url, "Public HTTPS address of this server, used to show webhook URLs (optional).",
            vi="Địa chỉ HTTPS công khai của máy chủ, dùng để hiện địa chỉ webhook (không bắt buộc)."),
    Setting("SIMULATOR_ENABLED", "true", _bool, "Serve the chat simulator at /simulator: open to anyone until a platform channel is configured, then staff only. Its traffic never counts in reports.",
            vi="Bật trang mô phỏng trò chuyện /simulator: ai cũng mở được cho đến khi cài một kênh nền tảng, sau đó chỉ cán bộ đã đăng nhập. Lượt dùng thử không bao giờ tính vào báo cáo."),
    Setting("TRUST_PROXY_HEADERS", "false", _bool, "Behind an HTTPS reverse proxy: trust X-Forwarded-Proto/For/Host (one proxy).",
            vi="Chạy sau máy chủ HTTPS trung gian (reverse proxy): tin các tiêu đề X-Forwarded-Proto/For/Host (một lớp proxy)."),
    Setting("LOGIN_MAX_FAILURES", "5", _int_range(0, 1000), "Failed console logins per username and address before a lockout. 0 switches it off.",
            vi="Số lần đăng nhập sai cho mỗi tên tài khoản và địa chỉ trước khi tạm khóa. 0 là tắt."),
    Setting("LOGIN_LOCKOUT_MINUTES", "15", _float_min(0), "Length of the login lockout window.",
            vi="Thời gian tạm khóa đăng nhập (phút)."),
    Setting("LOGIN_MAX_FAILURES_PER_ADDRESS", "30", _int_range(0, 1_000_000), "Failed console logins from one address, whatever the usernames, within the lockout window before that address must wait. 0 switches it off.",
            vi="Số lần đăng nhập sai từ một địa chỉ mạng (bất kể tên tài khoản) trong thời gian khóa trước khi địa chỉ đó phải chờ. 0 là tắt."),
    Setting("SESSION_IDLE_MINUTES", "60", _float_min(0), "A console session unused this long ends (log in again). 0 switches it off.",
            vi="Phiên làm việc không dùng trong chừng này phút thì kết thúc (đăng nhập lại). 0 là tắt."),
    Setting("SESSION_MAX_HOURS", "12", _float_min(0), "A console session ends this long after login, however active. 0 switches it off.",
            vi="Phiên làm việc kết thúc sau chừng này giờ kể từ khi đăng nhập, dù vẫn đang dùng. 0 là tắt."),
    # Messenger
    Setting("MESSENGER_APP_SECRET", "", _str, "Facebook app secret: verifies X-Hub-Signature-256.", True,
            vi="Khóa bí mật ứng dụng Facebook: dùng để kiểm tra chữ ký X-Hub-Signature-256."),
    Setting("MESSENGER_VERIFY_TOKEN", "", _str, "Your own string for the webhook verification handshake.", True,
            vi="Chuỗi tự đặt để Facebook xác minh webhook."),
    Setting("MESSENGER_PAGE_ACCESS_TOKEN", "", _str, "Page access token used to send messages.", True,
            vi="Mã truy cập Trang (page access token) dùng để gửi tin."),
    Setting("MESSENGER_API_BASE", GRAPH_API_BASE, _url, "Graph API base URL with a pinned version.",
            vi="Địa chỉ Graph API kèm phiên bản cố định."),
    # Zalo OA
    Setting("ZALO_APP_ID", "", _str, "Zalo app id (developers.zalo.me).",
            vi="Mã ứng dụng Zalo (developers.zalo.me)."),
    Setting("ZALO_OA_ID", "", _str, "OA id (optional): in OA groups, a message mentioning @<this id> is addressed to the bot.",
            vi="Mã OA (không bắt buộc): trong nhóm OA, tin nhắn có @mã này là gửi cho trợ lý."),
    Setting("ZALO_APP_SECRET", "", _str, "Zalo app secret: sent as secret_key to the OAuth token endpoint.", True,
            vi="Khóa bí mật ứng dụng Zalo: gửi kèm khi xin token OAuth."),
    Setting("ZALO_OA_SECRET_KEY", "", _str, "OA secret key: part of the X-ZEvent-Signature hash.", True,
            vi="Khóa bí mật OA: dùng để tính chữ ký X-ZEvent-Signature."),
    Setting("ZALO_ACCESS_TOKEN", "", _str, "Initial OA access token; used only when the database holds none.", True,
            vi="Access token OA ban đầu; chỉ dùng khi cơ sở dữ liệu chưa có token."),
    Setting("ZALO_REFRESH_TOKEN", "", _str, "Initial OA refresh token; used only when the database holds none.", True,
            vi="Refresh token OA ban đầu; chỉ dùng khi cơ sở dữ liệu chưa có token."),
    Setting("ZALO_API_BASE", "https://openapi.zalo.me", _url, "Zalo OA Open API base URL.",
            vi="Địa chỉ Zalo OA Open API."),
    Setting("ZALO_OAUTH_BASE", "https://oauth.zaloapp.com", _url, "Zalo OAuth v4 base URL.",
            vi="Địa chỉ Zalo OAuth v4."),
    Setting("ZALO_OAUTH_REDIRECT_URI", "", _optional_url, "Callback URL registered in the Zalo app, for re-authorisation.",
            vi="Địa chỉ callback đã đăng ký trong ứng dụng Zalo, dùng khi cấp quyền lại."),
    Setting("ZALO_SIGNATURE_KEY", "oa_secret", _choice("oa_secret", "app_secret"), "Which secret the webhook signature uses (uncertain in Zalo's docs; default the OA secret key).",
            vi="Khóa dùng cho chữ ký webhook (tài liệu Zalo chưa rõ; mặc định là khóa bí mật OA)."),
    Setting("ZALO_TOKEN_REFRESH_AFTER_HOURS", "16", _float_min(0.1), "Refresh the OA access token once it is this old (it lives 25 h).",
            vi="Làm mới access token OA khi token đã cũ chừng này giờ (token sống 25 giờ)."),
    # Zalo Bot
    Setting("ZALO_BOT_TOKEN", "", _str, "Zalo Bot token (<bot_id>:<secret>).", True,
            vi="Mã token của Zalo Bot (dạng <bot_id>:<secret>)."),
    Setting("ZALO_BOT_SECRET_TOKEN", "", _str, "Secret compared with X-Bot-Api-Secret-Token on the bot webhook.", True,
            vi="Chuỗi bí mật so với tiêu đề X-Bot-Api-Secret-Token của webhook Zalo Bot."),
    Setting("ZALO_BOT_API_BASE", "https://bot-api.zaloplatforms.com", _url, "Zalo Bot API base URL.",
            vi="Địa chỉ Zalo Bot API."),
    # Delivery
    Setting("MESSENGER_RATE_PER_SECOND", "20", _float_min(0), "Messenger send rate. 0 switches the limit off.",
            vi="Số tin gửi mỗi giây qua Messenger. 0 là không giới hạn."),
    Setting("ZALO_RATE_PER_SECOND", "15", _float_min(0), "Zalo OA send rate. 0 switches the limit off.",
            vi="Số tin gửi mỗi giây qua Zalo OA. 0 là không giới hạn."),
    Setting("ZALO_BOT_RATE_PER_SECOND", "5", _float_min(0), "Zalo Bot send rate. 0 switches the limit off.",
            vi="Số tin gửi mỗi giây qua Zalo Bot. 0 là không giới hạn."),
    Setting("SENDER_THREADS", "4", _int_range(1, 64), "Concurrent sends per channel.",
            vi="Số luồng gửi đồng thời cho mỗi kênh."),
    Setting("SEND_RATE_SHARING", "auto", _choice("auto", "database", "process"), "Where each channel's send rate is kept: database (slots reserved in the database, so several sender processes on several hosts together keep the rate; one round trip per send), process (in memory: exact only while a single process sends), auto (database on PostgreSQL, process on SQLite). `flask run-sender` needs database.",
            vi="Nơi giữ giới hạn tốc độ gửi của mỗi kênh: database (chỗ gửi đặt trong cơ sở dữ liệu, nhiều tiến trình gửi trên nhiều máy cùng giữ đúng tốc độ), process (trong bộ nhớ: chỉ đúng khi một tiến trình gửi), auto (PostgreSQL: database; SQLite: process). Lệnh `flask run-sender` cần database."),
    Setting("OUTBOX_MAX_ATTEMPTS", "6", _int_range(1, 50), "Attempts per message before it is marked failed.",
            vi="Số lần thử gửi một tin trước khi đánh dấu lỗi."),
    Setting("OUTBOX_RETRY_BASE_SECONDS", "2", _float_min(0), "First retry delay; doubles each attempt, with jitter.",
            vi="Thời gian chờ trước lần thử lại đầu tiên (giây); mỗi lần sau gấp đôi."),
    Setting("HTTP_TIMEOUT_SECONDS", "10", _float_min(0.1), "Timeout of each call to a platform.",
            vi="Thời gian chờ tối đa cho mỗi lần gọi nền tảng (giây)."),
    Setting("UNCERTAIN_HOLD_MINUTES", "10", _float_min(0), "A send whose outcome is unknown (in flight at a crash, or no answer) waits this long for the platform's echo, which marks it sent and is never resent; after that it stays uncertain for staff (`flask outbox requeue-uncertain --all` leaves younger ones).",
            vi="Tin chưa rõ đã gửi hay chưa (đang gửi khi máy dừng, hoặc nền tảng không trả lời) chờ chừng này phút để nền tảng báo lại (echo); sau đó cán bộ quyết định."),
    Setting("ZALO_ECHO_MATCH_SECONDS", "120", _float_min(0), "Zalo OA echoes (oa_send_*) carry no id we set: an unknown send is matched by member, same text and send time within this many seconds of the echo (best effort).",
            vi="Tin Zalo OA báo lại (echo) không mang mã của hệ thống: được ghép với tin cùng người nhận, cùng nội dung, gửi trong chừng này giây (ước lượng tốt nhất)."),
    Setting("RECEIPT_CLOCK_SKEW_SECONDS", "2", _float_min(0), "Messenger delivery/read watermarks: a message counts as delivered/read if it left at most this many seconds after the watermark (clock difference with Meta).",
            vi="Báo nhận/đã xem của Messenger: tin rời hệ thống muộn hơn mốc của Meta tối đa chừng này giây vẫn được tính (chênh lệch đồng hồ)."),
    Setting("GROUP_REPLIES_PER_MINUTE", "6", _float_min(0), "Bot replies per group per minute. 0 switches the limit off.",
            vi="Số câu trả lời tối đa của trợ lý trong mỗi nhóm mỗi phút. 0 là không giới hạn."),
    # Broadcasts
    Setting("TIMEZONE", "Asia/Ho_Chi_Minh", _timezone, "Local time zone for schedules and quiet hours.",
            vi="Múi giờ địa phương cho lịch gửi tin và giờ yên lặng."),
    Setting("QUIET_HOURS", "21:30-07:00", _quiet_hours, "Broadcasts wait while local time is inside this range. off switches it off.",
            vi="Tin gửi hàng loạt chờ khi giờ địa phương nằm trong khoảng này. off là tắt."),
    Setting("SCHEDULER_TICK_SECONDS", "10", _float_min(1), "How often the scheduler checks the database for due broadcasts.",
            vi="Bộ lập lịch kiểm tra tin đến hạn gửi sau mỗi chừng này giây."),
    Setting("MISSED_RUN_GRACE_HOURS", "6", _float_min(0), "A run missed while stopped still runs at start if this recent.",
            vi="Lượt gửi bị lỡ khi máy chủ tắt vẫn được gửi lúc khởi động nếu lỡ chưa quá chừng này giờ."),
    Setting("MESSENGER_WINDOW_HOURS", "24", _float_min(0), "Messenger standard messaging window.",
            vi="Khung nhắn tin tiêu chuẩn của Messenger (giờ)."),
    Setting("ZALO_FREE_WINDOW_HOURS", "48", _float_min(0), "Zalo OA free consultation window.",
            vi="Khung tư vấn miễn phí của Zalo OA (giờ)."),
    Setting("ZALO_PAID_WINDOW_DAYS", "7", _float_min(0), "Zalo OA billed consultation window limit.",
            vi="Giới hạn khung tư vấn tính phí của Zalo OA (ngày)."),
    Setting("ZALO_ALLOW_PAID_WINDOW", "false", _bool, "Send broadcasts in Zalo's billed 48 h-7 d window.",
            vi="Cho phép gửi tin hàng loạt trong khung tính phí của Zalo (từ 48 giờ đến 7 ngày)."),
    Setting("ZALO_BROADCAST_TYPE", "cs", _choice("cs", "promotion"), "cs (consultation, window rules) or promotion (OA quota).",
            vi="Loại tin Zalo: cs (tư vấn, theo khung thời gian) hoặc promotion (theo hạn mức của OA)."),
    # Answers
    Setting("ANSWER_THRESHOLD", "0.40", _float_min(0), "Coverage at or above which the bot answers.",
            vi="Độ khớp từ mức này trở lên thì trợ lý trả lời."),
    Setting("SUGGEST_THRESHOLD", "0.25", _float_min(0), "Coverage at or above which the bot offers likely questions.",
            vi="Độ khớp từ mức này trở lên thì trợ lý gợi ý các câu hỏi gần đúng."),
    # Organisation (shown to members; nothing is hard-coded)
    Setting("ORG_NAME", "Hội Liên hiệp Phụ nữ", _str, "Name of the organisation that runs the bot.",
            vi="Tên tổ chức vận hành trợ lý."),
    Setting("ORG_PHONES", "", _phones, "Contact phone numbers, comma separated.",
            vi="Số điện thoại liên hệ, cách nhau bằng dấu phẩy."),
    Setting("ORG_EMAIL", "", _str, "Contact e-mail.",
            vi="Thư điện tử liên hệ."),
    Setting("ORG_WEBSITE", "", _optional_url, "Website of the organisation.",
            vi="Trang web của tổ chức."),
    # Participation: registration, quizzes, contests and unit reports
    Setting("CONSENT_VERSION", "2026-01", _str, "Version of the consent text members accept at registration; change it when the text changes.",
            vi="Phiên bản thông báo đồng ý xử lý dữ liệu hội viên chấp nhận khi đăng ký; đổi khi nội dung thông báo thay đổi."),
    Setting("DATA_RETENTION_MONTHS", "24", _int_range(0, 600), "Personal data of members silent this long is erased by `flask privacy purge`. 0 switches it off.",
            vi="Dữ liệu cá nhân của hội viên không nhắn tin trong chừng này tháng sẽ bị xóa bởi lệnh flask privacy purge. 0 là tắt."),
    Setting("BACKUP_KEEP", "14", _int_range(1, 3650), "Nightly database copies deploy/backup.sh keeps (chatbot-backup.timer makes one a night, so about this many days). Members asking to erase their data are told that backups keep it this long.",
            vi="Số bản sao lưu cơ sở dữ liệu hằng đêm deploy/backup.sh giữ lại (mỗi đêm một bản, nên khoảng chừng ấy ngày). Hội viên yêu cầu xóa dữ liệu được báo bản sao lưu còn giữ dữ liệu trong chừng ấy ngày."),
    Setting("QUEUE_RETENTION_DAYS", "400", _int_range(0, 100_000), "Handled inbox events and finished outbox messages older than this are deleted by the nightly purge (reports over older periods lose them). 0 switches it off.",
            vi="Tin đến đã xử lý và tin đi đã xong cũ hơn chừng này ngày bị xóa trong lượt dọn dẹp hằng đêm. 0 là tắt."),
    Setting("FLOW_EXPIRY_MINUTES", "60", _float_min(0), "An unfinished registration, hái hoa or contest report is dropped after this long. 0 switches it off.",
            vi="Đăng ký, hái hoa hoặc báo cáo cuộc thi bỏ dở quá chừng này phút thì hủy. 0 là tắt."),
    Setting("QUIZ_ATTEMPT_EXPIRY_MINUTES", "30", _float_min(0), "A quiz attempt with no answer for this long expires and is not scored. 0 switches it off.",
            vi="Lượt thi trắc nghiệm không trả lời trong chừng này phút thì hết hạn, không tính điểm. 0 là tắt."),
    Setting("LEADERBOARD_SIZE", "20", _int_range(0, 1_000_000), "Rows of each quiz leaderboard in reports. 0 switches the limit off.",
            vi="Số dòng của mỗi bảng xếp hạng trong báo cáo. 0 là không giới hạn."),
    Setting("COMMEND_TOP_MEMBERS", "10", _int_range(0, 100_000), "Individual commendation candidates per report. 0 switches the list off.",
            vi="Số cá nhân được đề xuất khen trong mỗi báo cáo. 0 là không lập danh sách."),
    Setting("COMMEND_MIN_SCORE_PERCENT", "80", _int_range(0, 100), "Average best quiz score (percent) an individual candidate needs.",
            vi="Điểm tốt nhất trung bình (%) cá nhân cần đạt để được đề xuất khen."),
    Setting("COMMEND_MIN_QUIZZES", "1", _int_range(0, 1000), "Quizzes an individual candidate must finish in the period.",
            vi="Số bài thi cá nhân cần hoàn thành trong kỳ để được đề xuất khen."),
    Setting("COMMEND_TOP_UNITS", "5", _int_range(0, 100_000), "Collective (unit) commendation candidates per report. 0 switches the list off.",
            vi="Số tập thể (đơn vị) được đề xuất khen trong mỗi báo cáo. 0 là không lập danh sách."),
    Setting("COMMEND_UNIT_MIN_MEMBERS", "5", _int_range(0, 1_000_000), "Registered members a unit needs to be a collective candidate.",
            vi="Số hội viên đăng ký tối thiểu để một đơn vị được xét khen tập thể."),
    Setting("CONTEST_OFFER_DAYS_AFTER_END", "30", _int_range(0, 100_000), "A contest whose end date is this many days past is no longer offered to members for self-reports; contests without an end date stay offered. 0 switches the cut-off off.",
            vi="Cuộc thi đã kết thúc quá chừng này ngày thì không còn hiện cho hội viên tự báo cáo; cuộc thi chưa rõ ngày kết thúc vẫn hiện. 0 là tắt (luôn hiện)."),
    # Conversations with staff (GẶP CÁN BỘ)
    Setting("OFFICE_HOURS", "Thứ Hai–Thứ Sáu, 7:30–17:00", _str, "When staff usually answer, told to a member who asks for staff (GẶP CÁN BỘ).",
            vi="Giờ cán bộ thường trả lời, báo cho hội viên khi hội viên nhắn GẶP CÁN BỘ."),
    Setting("HANDOFF_EXPIRY_DAYS", "7", _float_min(0), "An open conversation with staff with no message for this long is closed and the bot answers again. 0 switches it off.",
            vi="Cuộc trò chuyện với cán bộ không có tin nhắn trong chừng này ngày thì đóng, trợ lý trả lời lại. 0 là tắt."),
    Setting("HANDOFF_NOTIFY_ZALO_BOT_CHAT_ID", "", _str, "Zalo Bot chat id of a staff chat told about new conversations with staff (empty: no message).",
            vi="Mã cuộc trò chuyện Zalo Bot của nhóm cán bộ nhận thông báo khi có hội viên cần gặp cán bộ (để trống: không báo)."),
    Setting("HANDOFF_NOTIFY_DIGEST_MINUTES", "15", _float_min(0), "At most one staff notice per this many minutes; conversations opened meanwhile go in one digest.",
            vi="Tối đa một thông báo cho cán bộ trong chừng này phút; các cuộc mở trong lúc đó được gộp một tin."),
    # Website chat and page/OA posts
    Setting("CHAT_ENABLED", "true", _bool, "Serve the website chat at /chat and its embed script /chat/embed.js.",
            vi="Bật khung trò chuyện trên trang web tại /chat và tệp nhúng /chat/embed.js."),
    Setting("CHAT_ALLOWED_ORIGINS", "", _origins, "Origins of the union's website that may embed the chat (CORS), comma separated, e.g. https://phunu.example.vn. Empty: only this server's own /chat page.",
            vi="Các trang web của Hội được nhúng khung trò chuyện (CORS), cách nhau bằng dấu phẩy. Để trống: chỉ trang /chat của máy chủ này."),
    Setting("CHAT_VISITOR_MESSAGES_PER_MINUTE", "10", _float_min(0), "Website chat messages one visitor may send per minute. 0 switches the limit off.",
            vi="Số tin một người xem trang web được gửi mỗi phút. 0 là không giới hạn."),
    Setting("CHAT_ADDRESS_MESSAGES_PER_MINUTE", "30", _float_min(0), "Website chat messages one network address may send per minute (all its visitors). 0 switches the limit off.",
            vi="Số tin một địa chỉ mạng được gửi mỗi phút (mọi người xem từ địa chỉ đó). 0 là không giới hạn."),
    Setting("FACEBOOK_PAGE_ID", "", _str, "Facebook Page id for page posts (flask post create --to facebook-page); the page token needs pages_manage_posts.",
            vi="Mã Trang Facebook để đăng bài; token Trang cần quyền pages_manage_posts."),
    Setting("FACEBOOK_SCHEDULE_MIN_MINUTES", "15", _float_min(0), "A page post at least this far ahead is scheduled on Facebook (scheduled_publish_time); nearer ones wait in our scheduler.",
            vi="Bài đăng Trang hẹn trước ít nhất chừng này phút thì hẹn giờ trên Facebook; bài gần hơn chờ trong bộ lập lịch của trợ lý."),
    Setting("FACEBOOK_PHOTO_SCHEDULE_ON_FACEBOOK", "true", _bool, "Page posts with an image (POST /{page-id}/photos) are scheduled on Facebook too (published=false, scheduled_publish_time); false: they wait in our scheduler. Unconfirmed for photos: switch off if Facebook refuses.",
            vi="Bài đăng Trang có ảnh cũng được hẹn giờ trên Facebook; tắt thì bài chờ trong bộ lập lịch của trợ lý. Chưa được xác nhận cho bài ảnh: tắt nếu Facebook từ chối."),
    Setting("FACEBOOK_PHOTO_CAPTION_FIELD", "caption", _choice("caption", "message"), "Field carrying a photo post's text on POST /{page-id}/photos: caption (documented) or message.",
            vi="Trường chứa nội dung của bài đăng ảnh trên Trang: caption (theo tài liệu) hoặc message."),
    Setting("ZALO_ARTICLE_COVER_URL", "", _optional_url, "Cover photo of Zalo OA articles posted without --image (Zalo articles need a cover).",
            vi="Ảnh bìa mặc định của bài viết Zalo OA khi không chọn ảnh (bài viết Zalo cần ảnh bìa)."),
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
