"""The deploy kit in deploy/: unit files, proxy configs, environment file and backup script.

The external checkers (systemd-analyze, nginx, caddy) run when installed and the test
skips otherwise; the files are rewritten to this checkout's paths first.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from dotenv import dotenv_values

from bot.core.config import SETTINGS, load_config
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"
UNITS = ("chatbot-web.service", "chatbot-scheduler.service", "chatbot-backup.service", "chatbot-backup.timer")


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False, **kw)


def test_units_run_as_a_dedicated_user_restart_on_failure_and_keep_files_private():
    for name in ("chatbot-web.service", "chatbot-scheduler.service"):
        text = (DEPLOY / name).read_text()
        assert "User=chatbot" in text and "Restart=on-failure" in text and "UMask=0077" in text
        assert "EnvironmentFile=/opt/chatbot/.env" in text
        assert "ReadWritePaths=/opt/chatbot/instance /opt/chatbot/content" in text
        assert "WantedBy=multi-user.target" in text
    assert "app.py --web-only" in (DEPLOY / "chatbot-web.service").read_text()
    assert "run-scheduler" in (DEPLOY / "chatbot-scheduler.service").read_text()
    assert "Persistent=true" in (DEPLOY / "chatbot-backup.timer").read_text()


def test_systemd_analyze_verify_accepts_the_units(tmp_path):
    tool = shutil.which("systemd-analyze")
    if not tool:
        pytest.skip("systemd-analyze is not installed")
    env_file = tmp_path / "chatbot.env"
    env_file.write_text("HOST=127.0.0.1\n")
    for name in UNITS:  # this checkout's paths, so the executables exist
        text = (DEPLOY / name).read_text()
        text = text.replace("/opt/chatbot/.env", str(env_file)).replace("/opt/chatbot/.venv/bin/", sys.prefix + "/bin/")
        text = text.replace("/opt/chatbot", str(ROOT))
        (tmp_path / name).write_text(text)
    result = _run([tool, "verify", *(str(tmp_path / n) for n in UNITS)])
    if "System has not been booted with systemd" in result.stderr:
        pytest.skip("systemd-analyze needs systemd here")
    # verify reports bad lines ("Failed to parse ...", "is not executable") and still exits 0
    problems = [line for line in (result.stdout + result.stderr).splitlines() if str(tmp_path) in line or "chatbot" in line]
    assert result.returncode == 0 and not problems, result.stdout + result.stderr


def test_systemd_analyze_verify_would_catch_a_mistake(tmp_path):
    tool = shutil.which("systemd-analyze")
    if not tool:
        pytest.skip("systemd-analyze is not installed")
    unit = tmp_path / "broken.service"
    unit.write_text("[Service]\nExecStart=/bin/true\nRestart=bogus\n")
    result = _run([tool, "verify", str(unit)])
    assert str(unit) in result.stdout + result.stderr or result.returncode != 0


def test_nginx_accepts_the_site(tmp_path):
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    openssl = shutil.which("openssl")
    if not nginx or not openssl:
        pytest.skip("nginx or openssl is not installed")
    cert, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    made = _run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=bot.example.vn",
                 "-keyout", str(key), "-out", str(cert)])
    assert made.returncode == 0, made.stderr
    site = (DEPLOY / "nginx-chatbot.conf").read_text()
    site = site.replace("/etc/letsencrypt/live/bot.example.vn/fullchain.pem", str(cert))
    site = site.replace("/etc/letsencrypt/live/bot.example.vn/privkey.pem", str(key))
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "logs").mkdir()
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/logs/error.log;\nevents {{}}\n"
        f"http {{\n access_log off;\n client_body_temp_path {tmp_path};\n include {tmp_path}/site.conf;\n}}\n"
    )
    result = _run([nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")])
    assert result.returncode == 0, result.stderr
    assert "X-Forwarded-Proto" in site and "X-Forwarded-For" in site


def test_caddy_accepts_the_caddyfile(tmp_path):
    caddy = shutil.which("caddy")
    if not caddy:
        pytest.skip("caddy is not installed")
    text = (DEPLOY / "Caddyfile").read_text().replace("/var/log/caddy/", f"{tmp_path}/")
    (tmp_path / "Caddyfile").write_text(text)
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    result = _run([caddy, "validate", "--config", str(tmp_path / "Caddyfile"), "--adapter", "caddyfile"], env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_environment_file_example_is_valid_settings():
    values = {k: v for k, v in dotenv_values(DEPLOY / "chatbot.env.example").items() if v is not None}
    known = {s.name for s in SETTINGS}
    assert set(values) <= known, set(values) - known
    config = load_config(values)
    assert config["TRUST_PROXY_HEADERS"] is True and config["HOST"] == "127.0.0.1"


def test_backup_script_makes_a_backup_and_keeps_the_newest(tmp_path):
    db = tmp_path / "data" / "bot.db"
    out = tmp_path / "backups"
    env = {k: v for k, v in os.environ.items() if k not in {s.name for s in SETTINGS}}
    env.update({"DATABASE_PATH": str(db), "SECRET_KEY": "k" * 32, "BACKUP_DIR": str(out), "BACKUP_KEEP": "2",
                "FLASK": str(Path(sys.executable).parent / "flask")})  # the flask of the environment running the tests
    out.mkdir()
    for old in ("bot-20000101-000000.db", "bot-20000102-000000.db", "content-20000101-000000.tar.gz"):
        (out / old).write_text("old")
    result = _run(["sh", str(DEPLOY / "backup.sh")], env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    dbs = sorted(p.name for p in out.glob("bot-*.db"))
    assert len(dbs) == 2 and dbs[0] == "bot-20000102-000000.db"  # the oldest went
    assert len(list(out.glob("content-*.tar.gz"))) == 2
    newest = out / dbs[-1]
    assert sqlite3.connect(newest).execute("SELECT COUNT(*) FROM members").fetchone() == (0,)


def test_web_only_serves_on_host_and_port_without_workers(tmp_path):
    """chatbot-web.service runs `python app.py --web-only`: waitress on HOST:PORT, no workers or scheduler."""
    import signal
    import socket
    import time

    import requests

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in {s.name for s in SETTINGS}}
    env.update({"HOST": "127.0.0.1", "PORT": str(port), "DATABASE_PATH": str(tmp_path / "bot.db"), "SECRET_KEY": "k" * 32})
    bad = _run([sys.executable, str(ROOT / "app.py"), "--bogus"], env=env)
    assert bad.returncode == 2 and "--web-only" in bad.stderr
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--web-only"], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, health = time.time() + 30, None
        while time.time() < deadline and health is None:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            except requests.ConnectionError:
                time.sleep(0.2)
        assert health is not None and health.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    assert proc.returncode == 0  # SIGTERM (systemctl stop) ends it cleanly
