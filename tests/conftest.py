"""Shared fixtures: an app on a temporary database, pointed at a local fake platform.

The fake platform is pytest-httpserver: a real HTTP server on 127.0.0.1, so the
real `requests` code runs.  Nothing here reaches the internet.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"

MESSENGER_SECRET = "test-app-secret"
MESSENGER_VERIFY = "verify-me"
ZALO_APP_ID = "2553928453557884079"
ZALO_OA_SECRET = "test-oa-secret-key"
ZALO_APP_SECRET = "test-zalo-app-secret"
ZALO_BOT_TOKEN = "12345:bot-secret-token"
ZALO_BOT_SECRET = "bot-webhook-secret"


def load_payload(name: str) -> bytes:
    """Raw bytes of a recorded platform payload under tests/data/."""
    return (DATA / name).read_bytes()


def sign_messenger(body: bytes, secret: str = MESSENGER_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sign_zalo(body: bytes, app_id: str = ZALO_APP_ID, key: str = ZALO_OA_SECRET) -> str:
    timestamp = str(json.loads(body).get("timestamp", ""))
    mac = hashlib.sha256(app_id.encode() + body + timestamp.encode() + key.encode()).hexdigest()
    return f"mac={mac}"


def database_config(db_path: str) -> dict[str, Any]:
    """``db_path`` as settings: a SQLite file is DATABASE_PATH; a PostgreSQL URL (the ``engines`` pass) is
    DATABASE_URL, with the SECRET_KEY that DATABASE_URL requires."""
    if db_path.startswith("postgresql://"):
        return {"DATABASE_URL": db_path, "SECRET_KEY": "test-secret-key-for-postgresql"}
    return {"DATABASE_PATH": db_path}


def platform_config(base_url: str, db_path: str, **extra: Any) -> dict[str, Any]:
    """Settings for an app whose three platforms are the fake server at ``base_url``, on the database
    ``db_path`` (:func:`database_config`)."""
    base = base_url.rstrip("/")
    config: dict[str, Any] = {
        "TESTING": True,
        **database_config(db_path),
        "CONTENT_DIR": str(ROOT / "content"),
        "MESSENGER_APP_SECRET": MESSENGER_SECRET,
        "MESSENGER_VERIFY_TOKEN": MESSENGER_VERIFY,
        "MESSENGER_PAGE_ACCESS_TOKEN": "page-token",
        "MESSENGER_API_BASE": base,
        "ZALO_APP_ID": ZALO_APP_ID,
        "ZALO_APP_SECRET": ZALO_APP_SECRET,
        "ZALO_OA_SECRET_KEY": ZALO_OA_SECRET,
        "ZALO_ACCESS_TOKEN": "zalo-access-1",
        "ZALO_REFRESH_TOKEN": "zalo-refresh-1",
        "ZALO_API_BASE": base,
        "ZALO_OAUTH_BASE": base,
        "ZALO_BOT_TOKEN": ZALO_BOT_TOKEN,
        "ZALO_BOT_SECRET_TOKEN": ZALO_BOT_SECRET,
        "ZALO_BOT_API_BASE": base,
        "OUTBOX_RETRY_BASE_SECONDS": "0",
        "HTTP_TIMEOUT_SECONDS": "5",
        "QUIET_HOURS": "off",
        "ORG_NAME": "Hội LHPN Thử nghiệm",
        "ORG_PHONES": "0292 000 0000",
    }
    config.update(extra)
    return config


ENGINES = ("sqlite", "postgresql")
# the storage and pipeline tests that run on both engines (besides modules marked ``engines``);
# BOT_TEST_POSTGRES=all adds the feature and console tests (a longer pass, before a release)
ENGINE_MODULES = frozenset(
    [
        "test_dispatcher", "test_outbox_rate", "test_members_first", "test_process_safety", "test_honest_retries",
        "test_broadcasts", "test_quiz", "test_erasure_traces", "test_zalo_tokens", "test_webhook_input",
        "test_reports", "test_participation_import", "test_handoff", "test_delivery_truth", "test_content_database",
    ]
)
ENGINE_MODULES_ALL = ENGINE_MODULES | frozenset(
    [
        "test_registration", "test_participation_pipeline", "test_haihoa_contests", "test_posts",
        "test_contest_self_reports", "test_flow_cancel", "test_smalltalk", "test_web_chat", "test_broadcast_api",
        "test_console", "test_handoff_console", "test_unit_codes", "test_account_scope", "test_console_sessions",
        "test_simulator_traffic", "test_channel_messenger", "test_channel_zalo_oa", "test_channel_zalo_bot",
        "test_member_page_and_scope", "test_composer_posts", "test_post_photos", "test_console_vietnamese",
    ]
)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "engines: storage/pipeline tests that run on SQLite and on PostgreSQL (db_path is parametrized)"
    )


def pytest_generate_tests(metafunc):
    """In modules marked ``engines``, every test using ``db_path`` runs once per engine."""
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    modules = ENGINE_MODULES_ALL if os.environ.get("BOT_TEST_POSTGRES") == "all" else ENGINE_MODULES
    if "db_path" in metafunc.fixturenames and (module in modules or metafunc.definition.get_closest_marker("engines")):
        metafunc.parametrize("db_path", ENGINES, indirect=True)


@pytest.fixture(scope="session")
def postgres_databases():
    """PostgreSQL for the ``engines`` pass (tests/pgcluster.py), or a skip saying how to get it."""
    from tests import pgcluster

    if not pgcluster.requested():
        pytest.skip(pgcluster.SKIP_REASON)
    url = os.environ.get("BOT_TEST_DATABASE_URL")
    cluster = None
    if not url:
        cluster = pgcluster.throwaway_cluster()
        url = next(cluster)
    databases = pgcluster.Databases(url)
    yield databases
    databases.close()
    if cluster is not None:
        cluster.close()


@pytest.fixture
def db_path(request, tmp_path: Path) -> Any:
    """The test's database: a SQLite file, or (``engines`` pass) a fresh PostgreSQL database's URL."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield str(tmp_path / "bot.db")
        return
    databases = request.getfixturevalue("postgres_databases")
    url = databases.new()
    yield url
    from tests import dbcheck

    dbcheck.forget(url)
    databases.drop(url)


def pinned_instant(tz: str = "Asia/Ho_Chi_Minh", hour: int = 10) -> float:
    """Today at ``hour``:00 local time: a fixed time of day, on whatever date the tests run."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    today = dt.datetime.now(ZoneInfo(tz)).date()
    return dt.datetime(today.year, today.month, today.day, hour, tzinfo=ZoneInfo(tz)).timestamp()


@pytest.fixture
def clock():
    """The app's clock, pinned to today 10:00 local time and running from there.

    Tests build their dates from it (``clock.now() - HOUR``) and move it with
    ``clock.set`` / ``clock.advance``; nothing depends on the calendar date.
    """
    from bot.core.clock import PinnedClock

    return PinnedClock(pinned_instant())


@pytest.fixture
def app(httpserver, db_path, clock):
    """The app with all three channels enabled against the fake platform."""
    from app import create_app

    application = create_app(platform_config(httpserver.url_for("/"), db_path), clock=clock)
    yield application


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def store(app):
    from bot.core.config import database_target
    from bot.storage.store import Store

    s = Store.open(database_target(app.config))
    yield s
    s.close()


@pytest.fixture(scope="session")
def httpserver_listen_address():
    """The fake platform listens on 127.0.0.1 (a random free port)."""
    return ("127.0.0.1", 0)


@pytest.fixture(autouse=True)
def keep_underscore_headers(monkeypatch):
    """Zalo's headers are named ``access_token`` and ``secret_key``.  Werkzeug's server
    (under pytest-httpserver) drops headers with underscores, so without this the fake
    platform could not check them."""
    from werkzeug.serving import WSGIRequestHandler

    original = WSGIRequestHandler.make_environ

    def make_environ(self):
        environ = original(self)
        for key, value in self.headers.items():
            if "_" in key:
                environ["HTTP_" + key.upper().replace("-", "_")] = value
        return environ

    monkeypatch.setattr(WSGIRequestHandler, "make_environ", make_environ)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    """Requests must go straight to 127.0.0.1, never through a proxy from the environment."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    os.environ.setdefault("TZ", "UTC")
