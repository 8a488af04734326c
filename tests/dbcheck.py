"""Looking at (and arranging) the database in tests through a connection of the test's own.

The app reaches the database only through bot.storage.Store's public methods; a test that
must check what was stored, or set up a state no public method creates (an old timestamp,
a unit code), says so here in SQL instead of calling the store's private helpers.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from bot.storage.dialect import PgDatabase, is_postgres

_connections: dict[str, Any] = {}
_KEEP = 4  # each test has its own database: keep the few newest connections open, close the rest


def connect(store: Any) -> Any:
    """An autocommit connection to ``store``'s database (one per file or URL, reused).

    On PostgreSQL it is the storage layer's own wrapper, so the tests' SQL is written
    once, in SQLite's spelling, and translated the same way as the app's."""
    path = store.path
    conn = _connections.pop(path, None)
    if conn is None and is_postgres(path):
        conn = PgDatabase(path)
    elif conn is None:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    _connections[path] = conn  # newest last
    while len(_connections) > _KEEP:
        _connections.pop(next(iter(_connections))).close()
    return conn


def execute(store: Any, sql: str, params: Any = ()) -> sqlite3.Cursor:
    return connect(store).execute(sql, params)


def rows(store: Any, sql: str, params: Any = ()) -> list[dict[str, Any]]:
    cursor = execute(store, sql, params)
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, r)) for r in cursor.fetchall()]


def row(store: Any, sql: str, params: Any = ()) -> dict[str, Any] | None:
    found = rows(store, sql, params)
    return found[0] if found else None


def value(store: Any, sql: str, params: Any = ()) -> Any:
    found = execute(store, sql, params).fetchone()
    return found[0] if found is not None else None


def forget(path: str) -> None:
    """Close the connection to a database about to be dropped."""
    conn = _connections.pop(path, None)
    if conn is not None:
        conn.close()


def dump(store: Any) -> str:
    """The whole database as text (to check that something appears nowhere)."""
    conn = connect(store)
    if not isinstance(conn, PgDatabase):
        return "\n".join(conn.iterdump())
    tables = [r[0] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name"
    ).fetchall()]
    lines = []
    for table in tables:
        lines += [f"{table}: {row!r}" for row in conn.execute(f"SELECT * FROM {table}").fetchall()]
    return "\n".join(lines)
