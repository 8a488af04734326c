"""Staff accounts, login attempts and the audit log (storage layer, mixed into Store)."""

from __future__ import annotations

from typing import Any


class StaffStore:
    """Methods of Store for staff accounts and auditing."""

    db: Any
    _rows: Any
    _row: Any
    _value: Any
    _write: Any

    def create_staff(self, username: str, password_hash: str, role: str, unit_code: str | None, *, at: float) -> int:
        cursor = self._write(
            "INSERT INTO staff (username, password_hash, role, unit_code, created_at) VALUES (?, ?, ?, ?, ?)",
            [username, password_hash, role, unit_code, at],
        )
        return int(cursor.lastrowid)

    def get_staff(self, staff_id: int) -> dict[str, Any] | None:
        return self._row("SELECT * FROM staff WHERE id = ?", [staff_id])

    def find_staff(self, username: str) -> dict[str, Any] | None:
        return self._row("SELECT * FROM staff WHERE username = ?", [username])

    def list_staff(self) -> list[dict[str, Any]]:
        return self._rows("SELECT id, username, role, unit_code, active, created_at, last_login_at FROM staff ORDER BY username")

    def update_staff(self, staff_id: int, **fields: Any) -> None:
        sets = ", ".join(f"{name} = :{name}" for name in fields)
        self._write(f"UPDATE staff SET {sets} WHERE id = :id", {**fields, "id": staff_id})

    def record_login_attempt(self, key: str, *, ok: bool, at: float) -> int:
        cursor = self._write("INSERT INTO login_attempts (key, at, ok) VALUES (?, ?, ?)", [key, at, int(ok)])
        self._write("DELETE FROM login_attempts WHERE at < ?", [at - 86400])
        return int(cursor.lastrowid)

    def mark_login_attempt_ok(self, attempt_id: int) -> None:
        self._write("UPDATE login_attempts SET ok = 1 WHERE id = ?", [attempt_id])

    def failed_logins_since(self, key: str, since: float) -> int:
        return int(self._value("SELECT count(*) FROM login_attempts WHERE key = ? AND ok = 0 AND at >= ?", [key, since]))

    def audit(self, *, staff_id: int | None, username: str, action: str, target: str = "", detail: str = "", at: float) -> None:
        self._write(
            "INSERT INTO audit_log (at, staff_id, username, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)",
            [at, staff_id, username, action, target, detail[:2000]],
        )

    def audit_entries(self, limit: int = 200, offset: int = 0) -> list[dict[str, Any]]:
        return self._rows("SELECT * FROM audit_log ORDER BY id DESC LIMIT ? OFFSET ?", [limit, offset])

    # -- console sessions (server side: logout ends them) ---------------------------------------
    def start_staff_session(self, token_hash: str, staff_id: int, *, at: float, keep_seconds: float = 86400 * 30) -> None:
        self._write("DELETE FROM staff_sessions WHERE last_seen_at < ?", [at - keep_seconds])
        self._write(
            "INSERT INTO staff_sessions (token_hash, staff_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)",
            [token_hash, staff_id, at, at],
        )

    def get_staff_session(self, token_hash: str) -> dict[str, Any] | None:
        return self._row("SELECT * FROM staff_sessions WHERE token_hash = ?", [token_hash])

    def touch_staff_session(self, token_hash: str, *, at: float) -> None:
        self._write("UPDATE staff_sessions SET last_seen_at = ? WHERE token_hash = ?", [at, token_hash])

    def end_staff_session(self, token_hash: str) -> None:
        self._write("DELETE FROM staff_sessions WHERE token_hash = ?", [token_hash])
