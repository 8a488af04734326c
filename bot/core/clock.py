"""The one source of "now" for every time-dependent decision.

Production uses :class:`Clock` (the wall clock).  Tests pin time with
:class:`PinnedClock` and build their data relative to it, so no test depends on
the date it runs on.  Durations that only measure elapsed time (timeouts, rate
limiting) use ``time.monotonic`` directly: they are not decisions about dates.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from zoneinfo import ZoneInfo


class Clock:
    """Wall-clock time in seconds since the epoch."""

    def now(self) -> float:
        return time.time()

    def local(self, tz: str) -> dt.datetime:
        """Now as an aware datetime in ``tz``."""
        return dt.datetime.fromtimestamp(self.now(), ZoneInfo(tz))

    def today(self, tz: str) -> dt.date:
        return self.local(tz).date()


SYSTEM_CLOCK = Clock()


class PinnedClock(Clock):
    """A clock that starts at a chosen instant.

    By default it then runs at real speed (threads that wait for a retry still see
    time pass); :meth:`freeze` stops it, :meth:`set` and :meth:`advance` move it.
    """

    def __init__(self, at: float, *, frozen: bool = False):
        self._lock = threading.Lock()
        self.origin = float(at)  # where it was pinned: tests build their dates from this
        self._at = float(at)
        self._since = time.monotonic()
        self._frozen = frozen

    def now(self) -> float:
        with self._lock:
            if self._frozen:
                return self._at
            return self._at + (time.monotonic() - self._since)

    def set(self, at: float) -> None:
        with self._lock:
            self._at = float(at)
            self._since = time.monotonic()

    def advance(self, seconds: float) -> float:
        self.set(self.now() + seconds)
        return self.now()

    def freeze(self, at: float | None = None) -> None:
        value = self.now() if at is None else float(at)
        with self._lock:
            self._frozen = True
            self._at = value
