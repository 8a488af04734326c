"""Rate limits kept in the database (storage layer, mixed into Store).

Every process of a deployment (the web server's workers, the worker process) sees
the same counts, so a limit holds however many processes answer.  Rows live only for
the window: each hit deletes the expired ones.
"""

from __future__ import annotations

from typing import Any


class RateStore:
    """Methods of Store for sliding-window rate limits (``rate_hits``)."""

    _value: Any
    _write: Any
    transaction: Any

    def rate_hit(self, key: str, *, limit: int, window: float, now: float) -> float:
        """Count one event for ``key`` if fewer than ``limit`` happened in the last ``window``
        seconds; return 0 when counted, else the seconds until the oldest one leaves the window."""
        with self.transaction():
            self._write("DELETE FROM rate_hits WHERE at <= ?", [now - window])
            count, oldest = self._row_pair(key, now - window)
            if count >= limit:
                return max(0.001, oldest + window - now)
            self._write("INSERT INTO rate_hits (key, at) VALUES (?, ?)", [key, now])
        return 0.0

    def _row_pair(self, key: str, since: float) -> tuple[int, float]:
        count = int(self._value("SELECT count(*) FROM rate_hits WHERE key = ? AND at > ?", [key, since]))
        oldest = self._value("SELECT min(at) FROM rate_hits WHERE key = ? AND at > ?", [key, since])
        return count, float(oldest or since)
