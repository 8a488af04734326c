"""The content bank's entries kept in the database (CONTENT_STORE=database; storage layer, mixed into Store).

Each row is one entry: its data as JSON text, the YAML file it belongs to and its place there,
a fingerprint of the data, and who changed it when.  ``content_state`` holds one revision number,
raised by every change: each host compares it (one indexed read) to notice an edit made on
another host.  Writers lock that row, so changes queue in order and a writer that planned its
change on an older revision is told so (and plans again).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

ENTRY_COLUMNS = ("id", "file", "position", "data", "version", "updated_at", "updated_by")


class ContentStore:
    """Methods of Store for the content bank in the database (``content_entries``, ``content_state``)."""

    _rows: Any
    _value: Any
    _write: Any
    _for_update: str
    transaction: Any

    def content_revision(self) -> int:
        """The bank's revision: 0 until it is first filled, then +1 on every change."""
        return int(self._value("SELECT revision FROM content_state WHERE id = 1") or 0)

    def content_entries(self) -> tuple[int, list[dict[str, Any]]]:
        """(revision, every entry row ordered by file and position).  The revision is read first:
        rows newer than it only mean the next revision check loads them again, never that a
        change is missed (and no write lock is taken)."""
        revision = self.content_revision()
        rows = self._rows(f"SELECT {', '.join(ENTRY_COLUMNS)} FROM content_entries ORDER BY file, position, id")
        return revision, rows

    def content_entry_count(self) -> int:
        return int(self._value("SELECT count(*) FROM content_entries"))

    def _locked_revision(self) -> int:
        return int(self._value(f"SELECT revision FROM content_state WHERE id = 1{self._for_update}") or 0)

    def _bump_revision(self, revision: int, at: float, by: str) -> int:
        self._write(
            "UPDATE content_state SET revision = ?, updated_at = ?, updated_by = ? WHERE id = 1", [revision + 1, at, by]
        )
        return revision + 1

    def _insert_entries(self, rows: Sequence[dict[str, Any]]) -> None:
        for row in rows:
            self._write(
                f"INSERT INTO content_entries ({', '.join(ENTRY_COLUMNS)}) VALUES ({', '.join('?' * len(ENTRY_COLUMNS))})",
                [row[c] for c in ENTRY_COLUMNS],
            )

    def content_seed(self, rows: Sequence[dict[str, Any]], *, at: float, by: str) -> bool:
        """Fill the bank once (a fresh deployment): only while it was never filled. True when filled."""
        with self.transaction():
            revision = self._locked_revision()
            if revision != 0 or self.content_entry_count():
                return False
            self._insert_entries(rows)
            self._bump_revision(revision, at, by)
        return True

    def content_put(self, row: dict[str, Any], *, expected_revision: int) -> int | None:
        """Write one entry (new or replaced) if the bank is still at ``expected_revision``;
        the new revision, or None when someone changed the bank meanwhile (nothing written)."""
        with self.transaction():
            revision = self._locked_revision()
            if revision != expected_revision:
                return None
            self._write("DELETE FROM content_entries WHERE id = ?", [row["id"]])
            self._insert_entries([row])
            return self._bump_revision(revision, row["updated_at"], row["updated_by"])

    def content_replace(
        self, rows: Sequence[dict[str, Any]], *, expected_revision: int, at: float, by: str
    ) -> int | None:
        """Replace every entry with ``rows`` (flask content import) if the bank is still at
        ``expected_revision``; the new revision, or None when it changed meanwhile."""
        with self.transaction():
            revision = self._locked_revision()
            if revision != expected_revision:
                return None
            self._write("DELETE FROM content_entries")
            self._insert_entries(rows)
            return self._bump_revision(revision, at, by)
