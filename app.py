"""Application factory and the all-in-one server.

``python app.py`` serves the app with waitress (a production WSGI server) and runs
the background workers and the scheduler in the same process.  For several WSGI
workers, serve ``app:create_app()`` with any WSGI server and run the workers and
the scheduler once, in their own process, with ``flask run-scheduler``.
"""

from __future__ import annotations

import logging
import logging.config
import os
import secrets
import signal
import sys
from collections import ChainMap
from collections.abc import Mapping
from typing import Any

from flask import Flask

from bot.core.clock import SYSTEM_CLOCK, Clock
from bot.core.config import ConfigError, load_config, secret_names
from bot.core.paths import PATH_SETTINGS, PROJECT_ROOT, resolve_path

logger = logging.getLogger("app")

MAX_BODY_BYTES = 1024 * 1024  # webhook bodies over 1 MB get 413


class SecretFilter(logging.Filter):
    """Last line of defence: mask any configured secret that reaches a log line."""

    def __init__(self, secrets_: list[str]):
        super().__init__()
        self.secrets = [s for s in secrets_ if len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call: let the handler report it as usual
            return True
        masked = self._mask(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._mask(record.exc_text)  # tracebacks can quote URLs with tokens
        return True

    def _mask(self, text: str) -> str:
        for value in self.secrets:
            text = text.replace(value, "***")
        return text


def configure_logging(config: Mapping[str, Any]) -> None:
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "filters": {"secrets": {"()": SecretFilter, "secrets_": [str(config.get(n) or "") for n in secret_names()]}},
            "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
            "handlers": {
                "stderr": {"class": "logging.StreamHandler", "formatter": "line", "filters": ["secrets"]}
            },
            "root": {"level": str(config.get("LOG_LEVEL", "info")).upper(), "handlers": ["stderr"]},
            "loggers": {"waitress": {"level": "WARNING"}, "apscheduler": {"level": "WARNING"}},
        }
    )


def _secret_key(instance_path: str) -> str:
    """The session key: generated once and kept in the instance folder."""
    path = os.path.join(instance_path, "secret_key")
    try:
        with open(path, encoding="ascii") as fh:
            key = fh.read().strip()
        if key:
            return key
    except FileNotFoundError:
        pass
    os.makedirs(instance_path, mode=0o700, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key)
    return key


def _private_folder(app: Flask) -> str:
    """The folder of the database (``instance/`` by default): the session key is kept there too."""
    path = app.config["DATABASE_PATH"]
    return app.instance_path if path == ":memory:" else os.path.dirname(path)


def register_web(app: Flask) -> None:
    """Request hooks, blueprints and CLI commands."""
    from bot import console
    from bot.cli.commands import register_commands
    from bot.web import (
        auth,
        broadcasts_api,
        chat,
        context,
        health,
        participation_api,
        simulator,
        webhooks,
        wiring,
    )

    from bot.web import errors

    errors.init_app(app)  # Vietnamese error pages (JSON for APIs and webhooks)
    app.teardown_appcontext(context.close_store)
    app.before_request(wiring.allow_large_uploads)  # before the CSRF check, which reads the form
    auth.init_app(app)
    app.register_blueprint(broadcasts_api.bp)
    app.register_blueprint(participation_api.bp)  # reports, quizzes, units, contests, participation import
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(simulator.bp)
    app.register_blueprint(chat.bp)  # the website chat: /chat, /chat/embed.js, /chat/api/*
    app.register_blueprint(console.bp)  # the staff console
    register_commands(app)


def create_app(test_config: Mapping[str, Any] | None = None, *, clock: Clock | None = None) -> Flask:
    """Build the app. Settings come from the environment (and .env), then ``test_config``.

    ``clock`` is where every time-dependent decision reads now (tests pin it).
    """
    if test_config is None:
        from dotenv import load_dotenv

        load_dotenv()
    overrides = dict(test_config or {})
    string_overrides = {k: v for k, v in overrides.items() if isinstance(v, str)}
    config = load_config(ChainMap(string_overrides, os.environ))
    config.update({k: v for k, v in overrides.items() if not isinstance(v, str)})
    if not overrides.get("TESTING"):
        configure_logging(config)

    app = Flask(__name__, instance_path=str(PROJECT_ROOT / "instance"), static_folder="bot/web/static", template_folder="bot/web/templates")
    app.config.update(config)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    for name in PATH_SETTINGS:  # relative paths mean the project folder, never the working folder
        app.config[name] = resolve_path(app.config[name])
    if app.config.get("DATABASE_URL") and not config["SECRET_KEY"]:
        # several hosts share one PostgreSQL: a key generated on one disk would not sign for the others
        raise ConfigError("SECRET_KEY", "required when DATABASE_URL is set (the same key on every host)")
    app.config["SECRET_KEY"] = config["SECRET_KEY"] or _secret_key(_private_folder(app))

    from bot.web import wiring

    services = wiring.build_services(app.config, clock or SYSTEM_CLOCK)
    app.extensions["bot"] = services

    if app.config["TRUST_PROXY_HEADERS"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    register_web(app)
    return app


def main(argv: list[str] | None = None) -> int:
    """Serve with waitress on HOST:PORT and run the workers and scheduler in this process.

    ``--web-only``: serve only (webhooks are stored and acknowledged); one
    ``flask run-scheduler`` process beside it answers, sends and schedules.
    """
    args = sys.argv[1:] if argv is None else argv
    unknown = [a for a in args if a != "--web-only"]
    if unknown:
        print(f"usage: python app.py [--web-only]  (unknown: {' '.join(unknown)})", file=sys.stderr)
        return 2
    web_only = "--web-only" in args
    try:
        app = create_app()
    except ConfigError as exc:
        print(f"Không khởi động được / cannot start: {exc}", file=sys.stderr)
        return 2
    from waitress import serve

    from bot.pipeline.workers import Workers, WorkersBusy
    from scheduler.runner import start_scheduler

    services = app.extensions["bot"]
    workers = scheduler = None
    if not web_only:
        workers = Workers(services)
        try:
            workers.start()
        except WorkersBusy as exc:
            print(f"Không khởi động được / cannot start: {exc}", file=sys.stderr)
            return 2
        scheduler = start_scheduler(app)
    # systemctl stop sends SIGTERM: leave serve() so the finally below stops the workers
    # gracefully (no new work; in-flight sends finish within the grace period)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    host, port = app.config["HOST"], app.config["PORT"]
    logger.info(
        "serving on http://%s:%s (simulator at /simulator, health at /healthz)%s",
        host, port, "; web only: run `flask run-scheduler` beside it" if web_only else "",
    )
    try:
        serve(app, host=host, port=port, threads=app.config["WEB_THREADS"], ident="bot")
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        if workers is not None:
            workers.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
