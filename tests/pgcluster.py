"""PostgreSQL for the tests' second engine pass (issue 17).

The storage and pipeline tests (modules marked ``engines``) run on SQLite and on PostgreSQL.
The PostgreSQL cases need one of:

* ``BOT_TEST_DATABASE_URL=postgresql://user@host/db``: an existing server; the user may
  create databases (one per test, copied from a migrated template);
* ``BOT_TEST_POSTGRES=1`` (``=all``: the feature and console tests too): a throwaway cluster started once per session with the server
  binaries of Debian's ``postgresql`` package (``/usr/lib/postgresql/*/bin``): initdb in a
  temporary folder, a unix socket there, no TCP port; stopped and deleted at the end.

Without either they skip, saying so (the README's test command works without PostgreSQL).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

SKIP_REASON = (
    "PostgreSQL pass not requested: set BOT_TEST_POSTGRES=1 (throwaway cluster from Debian's postgresql"
    " package, /usr/lib/postgresql/*/bin) or BOT_TEST_DATABASE_URL=postgresql://… to run it"
)
TEMPLATE = f"bot_test_template_{os.getpid()}"  # one per session: sessions may share a server


def requested() -> bool:
    return bool(os.environ.get("BOT_TEST_DATABASE_URL")) or os.environ.get("BOT_TEST_POSTGRES", "") in ("1", "true", "yes", "all")


def _bin_dir() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def throwaway_cluster() -> Iterator[str]:
    """Start a cluster in a temporary folder; yields the admin URL (unix socket)."""
    bindir = _bin_dir()
    if bindir is None:
        raise RuntimeError("BOT_TEST_POSTGRES=1 but no /usr/lib/postgresql/*/bin/initdb: apt-get install postgresql")
    folder = tempfile.mkdtemp(prefix="bot-pg-")
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the server as nobody
        shutil.chown(folder, "nobody")
        as_user = ["runuser", "-u", "nobody", "--"]
    data = os.path.join(folder, "data")
    subprocess.run(
        [*as_user, f"{bindir}/initdb", "-D", data, "-U", "bot", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"],
        check=True, capture_output=True,
    )
    options = f"-k {folder} -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    subprocess.run(
        [*as_user, f"{bindir}/pg_ctl", "-D", data, "-o", options, "-l", os.path.join(folder, "log"), "-w", "start"],
        check=True, capture_output=True,
    )
    try:
        yield f"postgresql://bot@/postgres?host={folder}"
    finally:
        subprocess.run([*as_user, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True, check=False)
        shutil.rmtree(folder, ignore_errors=True)


class Databases:
    """A migrated template, and one fresh database per test copied from it."""

    def __init__(self, admin_url: str):
        import psycopg

        self.admin_url = admin_url
        self.admin = psycopg.connect(admin_url, autocommit=True)
        self.admin.execute(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
        self.admin.execute(f"CREATE DATABASE {TEMPLATE}")
        from bot.storage.store import Store

        store = Store.open(with_database(admin_url, TEMPLATE), migrate=True)
        store.close()
        self.created: list[str] = []

    def new(self) -> str:
        name = "bot_test_" + uuid.uuid4().hex[:12]
        for attempt in range(50):  # the template must have no other session: retry briefly
            try:
                self.admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
                break
            except Exception:
                if attempt == 49:
                    raise
                time.sleep(0.05)
        self.created.append(name)
        return with_database(self.admin_url, name)

    def drop(self, url: str) -> None:
        name = urlsplit(url).path.lstrip("/")
        self.admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def close(self) -> None:
        self.admin.execute(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
        self.admin.close()
