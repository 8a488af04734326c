"""Looking at (and arranging) the database in tests through a connection of the test's own.

The app reaches the database only through bot.storage.Store's public methods; a test that
must check what was stored, or set up a state no public method creates (an old timestamp,
a unit code), says so here in SQL instead of calling the store's private helpers.
"""

from __future__ import annotations

import sqlite3
from typing import Any

_connections: dict[str, sqlite3.Connection] = {}
_KEEP = 4  # each test has its own database: keep the few newest connections open, close the rest


def connect(store: Any) -> sqlite3.Connection:
    """An autocommit connection to ``store``'s database file (one per file, reused)."""
    path = store.path
    conn = _connections.pop(path, None)
    if conn is None:
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


def dump(store: Any) -> str:
    """The whole database as SQL text (to check that something appears nowhere)."""
    return "\n".join(connect(store).iterdump())
