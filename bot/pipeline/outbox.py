"""Outbound delivery: one durable outbox, drained per channel at a limited rate.

A message is claimed ('sending') only right before its HTTP call, after the rate
limiter has granted a slot, so the only messages whose fate is unknown after a
crash are those really in flight; at the next start they are marked 'uncertain'
(see Store.recover_in_flight).  Every outcome is stored on the row.
"""

from __future__ import annotations

import json
import logging
import math
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from bot.channels.base import Channel
from bot.core.clock import Clock
from bot.core.models import SendError
from bot.storage.store import Store

logger = logging.getLogger(__name__)

YIELD_SECONDS = 0.01

# A send that reaches its HTTP call later than this after its slot (the thread was held up)
# takes a fresh slot instead, up to LATE_TRIES slots in all: late sends must not bunch with
# the sends of the next slots, which would show the platform a second above the rate.
LATE_SECONDS = 0.01
LATE_TRIES = 3

# After a channel's token was refused, its sends pause; one probe send goes this often
# until the token works again (a refreshed Zalo token clears the alert at once).
AUTH_PROBE_SECONDS = 60.0

# A sender reads its channel's token alert at most this often (every send read it: a
# database round trip per message); an alert its own send raises is seen at once.
ALERT_CHECK_SECONDS = 1.0

# Policy hook for broadcast rows: returns a skip reason, or None to send.
Policy = Callable[[Store, dict[str, Any], float], "str | None"]


class TokenBucket:
    """A thread-safe rate limiter: at most ``rate`` acquisitions per second.

    The bucket holds one token, so sends are spaced evenly and never burst above
    the rate.  ``rate`` 0 switches the limit off.
    """

    # Aim 1% under the configured rate: sends leave a few milliseconds after their slot,
    # and that jitter must never show the platform a second above its limit.
    MARGIN = 0.99

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic):
        self.rate = float(rate) * self.MARGIN
        self.clock = clock
        self._lock = threading.Lock()
        self._next = clock()

    def reserve(self) -> float:
        """Reserve the next slot; returns how long the caller must wait for it."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            now = self.clock()
            slot = max(self._next, now)
            self._next = slot + 1.0 / self.rate
            return slot - now

    def refund(self) -> None:
        """Give back a reserved slot that was not used (nothing was due)."""
        if self.rate <= 0:
            return
        with self._lock:
            self._next = max(self.clock(), self._next - 1.0 / self.rate)


class SharedRate:
    """The rate limit of one channel kept in the database (Store.reserve_send_slot): every
    sender process, on any host, reserves its slots from the same row, so together they never
    exceed the rate.  One round trip per send; slots are spaced evenly like TokenBucket's."""

    def __init__(self, channel: str, rate: float):
        self.channel = channel
        self.interval = 1.0 / (float(rate) * TokenBucket.MARGIN) if rate > 0 else 0.0
        self.tolerance = max(LATE_SECONDS, self.interval / 4) if rate > 0 else math.inf
        self._reserved = threading.local()  # the slot this thread holds, for refund

    def reserve(self, store: Store) -> float:
        if not self.interval:
            return 0.0
        marker, wait = store.reserve_send_slot(self.channel, self.interval)
        self._reserved.marker = marker
        return wait

    def refund(self, store: Store) -> None:
        marker = getattr(self._reserved, "marker", None)
        if marker is not None:
            self._reserved.marker = None
            store.refund_send_slot(self.channel, marker, self.interval)


class LocalRate:
    """TokenBucket behind SharedRate's interface: the fast path when one process sends."""

    def __init__(self, rate: float):
        self.bucket = TokenBucket(rate)
        self.tolerance = max(LATE_SECONDS, 1 / (4 * self.bucket.rate)) if rate > 0 else math.inf

    def reserve(self, store: Store) -> float:
        return self.bucket.reserve()

    def refund(self, store: Store) -> None:
        self.bucket.refund()


def backoff_delay(attempt: int, base: float, retry_after: float | None = None, cap: float = 3600.0) -> float:
    """Exponential backoff with jitter; a platform's Retry-After wins if longer."""
    delay = min(cap, base * (2 ** max(0, attempt - 1)))
    delay *= random.uniform(0.5, 1.5)
    if retry_after:
        delay = max(delay, retry_after)
    return delay


def deliver_one(
    store: Store,
    channel: Channel,
    row: dict[str, Any],
    *,
    config: dict[str, Any],
    policy: Policy | None = None,
    clock: Clock,
) -> str:
    """Send one claimed outbox row and record the outcome; returns the new status."""
    try:
        if row["kind"] == "broadcast" and policy is not None:
            reason = policy(store, row, clock.now())
            if reason:
                store.mark_failed(row["id"], at=clock.now(), code="skipped", subcode=None, message="", reason=reason, status="skipped")
                return "skipped"
        if row["message"]:
            message = json.loads(row["message"])
        else:  # a broadcast row: the rendered message is stored once per run and channel
            part = store.run_part(row["run_id"], row["channel"], row["part"])
            if part is None:
                store.mark_failed(row["id"], at=clock.now(), code="missing_part", subcode=None, message="", reason="internal_error")
                return "failed"
            message = json.loads(part["message"])
    except Exception as exc:  # nothing was sent: never leave the row 'sending'
        logger.exception("send preparation failed outbox_id=%s channel=%s", row["id"], row["channel"])
        store.mark_failed(
            row["id"], at=clock.now(), code="exception", subcode=None, message=type(exc).__name__, reason="internal_error"
        )
        return "failed"
    message = channel.tag_message(message, row["id"])  # Messenger: the echo names this row
    try:
        result = channel.send(
            row["recipient"], message, group=bool(row["is_group"]), messaging_type=row["messaging_type"]
        )
    except SendError as err:
        return _record_error(store, row, err, config=config, clock=clock)
    except Exception as exc:  # a bug must not lose the row: fail it with the error
        logger.exception("send crashed outbox_id=%s channel=%s", row["id"], row["channel"])
        store.mark_failed(
            row["id"], at=clock.now(), code="exception", subcode=None, message=type(exc).__name__, reason="internal_error"
        )
        return "failed"
    store.mark_sent(row["id"], platform_message_id=result.message_id, at=clock.now())
    logger.info("sent outbox_id=%s channel=%s kind=%s attempt=%s", row["id"], row["channel"], row["kind"], row["attempts"])
    return "sent"


def _record_error(store: Store, row: dict[str, Any], err: SendError, *, config: dict[str, Any], clock: Clock) -> str:
    now = clock.now()
    if err.uncertain:  # sent, no answer: a retry could reach the member twice
        store.mark_uncertain(row["id"], at=now, code=err.code, message=err.message, reason=err.reason or "timeout_after_send")
        logger.warning(
            "send uncertain outbox_id=%s channel=%s code=%s (%s): not retried, staff decide",
            row["id"], row["channel"], err.code, err.message,
        )
        return "uncertain"
    if err.auth:  # the channel's token, not this message: hold the queue until it works
        store.hold_outbound(row["id"], next_attempt_at=now, code=err.code, subcode=err.subcode, message=err.message)
        store.set_channel_status(row["channel"], "alert", f"token_invalid ({err.code})", at=now)
        logger.error(
            "channel %s: token refused (code=%s); its sends are paused until it works again", row["channel"], err.code
        )
        return "held"
    if err.retry and row["attempts"] < int(config.get("OUTBOX_MAX_ATTEMPTS", 6)):
        delay = backoff_delay(row["attempts"], float(config.get("OUTBOX_RETRY_BASE_SECONDS", 2)), err.retry_after)
        store.mark_retry(
            row["id"], at=now, next_attempt_at=now + delay, code=err.code, subcode=err.subcode, message=err.message
        )
        logger.warning(
            "send retry outbox_id=%s channel=%s code=%s subcode=%s attempt=%s in=%.1fs",
            row["id"], row["channel"], err.code, err.subcode, row["attempts"], delay,
        )
        return "pending"
    reason = "max_attempts" if err.retry else (err.reason or "platform_error")
    store.mark_failed(row["id"], at=now, code=err.code, subcode=err.subcode, message=err.message, reason=reason)
    if err.unreachable and not row["is_group"]:
        # unreachable on this channel, with the platform's reason; a later message from her clears it
        status = "unfollowed" if err.unreachable == "unfollowed" else "blocked"
        store.mark_unreachable(row["channel"], row["recipient"], status, f"{err.code}: {err.message}"[:200])
    logger.warning(
        "send failed outbox_id=%s channel=%s code=%s subcode=%s reason=%s",
        row["id"], row["channel"], err.code, err.subcode, reason,
    )
    return "failed"


class ChannelSender:
    """Drains one channel's outbox with N threads sharing one rate limiter (in this process,
    or in the database for every sender process of the deployment)."""

    def __init__(
        self,
        channel: Channel,
        open_store: Callable[[], Store],
        config: dict[str, Any],
        *,
        rate: float,
        threads: int,
        wakeup: threading.Event,
        policy: Policy | None = None,
        broadcasts_allowed: Callable[[float], bool] | None = None,
        ingest_busy: Callable[[], bool] | None = None,
        clock: Clock,
        shared_rate: bool = False,
        owner: str | None = None,
    ):
        self.clock = clock
        self.channel = channel
        self.open_store = open_store
        self.config = config
        # shared_rate: the limit holds across every sender process (see SharedRate)
        self.limiter: SharedRate | LocalRate = SharedRate(channel.name, rate) if shared_rate else LocalRate(rate)
        self.owner = owner  # this process (host:pid:random), written on the rows it claims
        self.threads_count = threads
        self.wakeup = wakeup
        self.policy = policy
        self.broadcasts_allowed = broadcasts_allowed or (lambda now: True)
        self.ingest_busy = ingest_busy or (lambda: False)
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self._alert: tuple[float | None, float] | None = None  # (the alert's time or None, when read)

    def start(self) -> None:
        for i in range(self.threads_count):
            thread = threading.Thread(target=self._run, name=f"sender-{self.channel.name}-{i}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        self.wakeup.set()
        for thread in self.threads:
            thread.join(timeout)

    def _run(self) -> None:
        store = self.open_store()
        try:
            while not self.stopping.is_set():
                try:
                    if not self.step(store):
                        self._idle(store)
                except Exception:
                    logger.exception("sender loop error channel=%s", self.channel.name)
                    time.sleep(1)
        finally:
            store.close()

    def step(self, store: Store) -> bool:
        """Wait for a rate slot, claim one due message and deliver it. False if none was due."""
        # the token check comes before the slot: between the slot and the send only the claim
        # runs, so sends reach the platform as evenly spaced as their slots
        alert_at = self._auth_alert(store)
        if auth_paused(alert_at, self.clock.now()):
            return False
        row = None
        for _ in range(LATE_TRIES):
            wait = self.limiter.reserve(store)
            slot_at = time.monotonic() + wait
            if wait > 0:
                time.sleep(wait)
            if row is None:
                if self.stopping.is_set():  # shutting down: take no new work
                    return False
                now = self.clock.now()
                row = store.claim_outbound(
                    self.channel.name, now=now, broadcasts=self.broadcasts_allowed(now), owner=self.owner
                )
                if row is None:
                    self.limiter.refund(store)
                    return False
            if time.monotonic() - slot_at <= self.limiter.tolerance:
                break
            # held up past its slot (a busy machine): sent now, it would crowd the next slots'
            # sends into the same second; take a fresh slot, this one stays unused
        status = deliver_one(store, self.channel, row, config=self.config, policy=self.policy, clock=self.clock)
        if status == "held":  # the token was refused: this send raised the alert
            self._alert = None
        if alert_at is not None and status == "sent":
            clear_auth_alert(store, self.channel.name, self.clock.now())
            self._alert = None
        if self.ingest_busy():
            time.sleep(YIELD_SECONDS)  # acknowledgements first during a burst of webhooks
        return True

    def _auth_alert(self, store: Store) -> float | None:
        """The channel's open token alert (see :func:`auth_paused`), read at most every ALERT_CHECK_SECONDS."""
        cached, mono = self._alert, time.monotonic()
        if cached is not None and mono - cached[1] < ALERT_CHECK_SECONDS:
            return cached[0]
        alert_at = store.channel_auth_alert(self.channel.name)
        self._alert = (alert_at, mono)
        return alert_at

    def _idle(self, store: Store) -> None:
        due = store.next_due_at(self.channel.name)
        now = self.clock.now()
        # a message already due that claim_outbound did not hand out is held back (quiet
        # hours, or behind an earlier message to its recipient): wait, do not spin
        timeout = 1.0 if due is None or due <= now else min(1.0, due - now)
        if timeout > 0 and self.wakeup.wait(timeout):
            self.wakeup.clear()


def drain(
    store: Store,
    channel: Channel,
    config: dict[str, Any],
    *,
    policy: Policy | None = None,
    limit: int = 1000,
    clock: Clock,
) -> int:
    """Deliver every due message of ``channel`` now, in this thread (tests, CLI)."""
    count = 0
    while count < limit:
        alert_at = store.channel_auth_alert(channel.name)
        if auth_paused(alert_at, clock.now()):
            break
        row = store.claim_outbound(channel.name, now=clock.now())
        if row is None:
            break
        status = deliver_one(store, channel, row, config=config, policy=policy, clock=clock)
        if alert_at is not None and status == "sent":
            clear_auth_alert(store, channel.name, clock.now())
        count += 1
    return count


def auth_paused(alert_at: float | None, now: float) -> bool:
    """True while a refused token holds the channel's sends (a probe goes every AUTH_PROBE_SECONDS)."""
    return alert_at is not None and now - alert_at < AUTH_PROBE_SECONDS


def clear_auth_alert(store: Store, channel: str, now: float) -> None:
    store.set_channel_status(channel, "ok", "", at=now)
    logger.info("channel %s: the token works again; sends resumed", channel)
