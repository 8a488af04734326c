"""Background workers of one process: the inbox worker, one sender per channel, housekeeping.

Exactly one process of a deployment leads (``python app.py``, or ``flask run-scheduler``
beside several WSGI workers that only ingest): it runs these workers and the scheduler.
Leadership is a session advisory lock on PostgreSQL (a standby takes over as soon as the
leader's connection dies) and a heartbeat lease on SQLite (see bot.storage.coordination).
On PostgreSQL, ``flask run-inbox-worker`` and ``flask run-sender`` add workers beside it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from bot.channels.base import Channel
from bot.core.clock import Clock
from bot.pipeline.inbox import InboxWorker
from bot.pipeline.outbox import ChannelSender
from bot.pipeline.senders import (
    RATE_SETTINGS,
    SENDER_LEASE_TTL,
    NeedsPostgres,
    process_owner,
    shares_rate,
    start_senders,
    stop_senders,
)
from bot.storage.store import Store

logger = logging.getLogger(__name__)

__all__ = ["RATE_SETTINGS", "NeedsPostgres", "Workers", "WorkersBusy", "run_inbox_workers"]


class WorkerServices(Protocol):
    """What the workers need from the app (bot.web.context.Services provides it)."""

    config: Any
    channels: dict[str, Channel]
    clock: Clock
    processor: Any  # bot.pipeline.inbox.InboxProcessor
    policy: Any  # the broadcast send rules (scheduler.policy.make_policy)
    broadcasts_allowed: Callable[[float], bool]
    inbox_wakeup: threading.Event
    outbox_wakeup: dict[str, threading.Event]
    workers: Any

    def open_store(self) -> Store: ...

    def ingest_busy(self) -> bool: ...


LEASE_NAME = "workers"
LEASE_TTL_SECONDS = 30.0  # SQLite: a crashed holder's lease lapses after this long
RETRY_SECONDS = 1.0  # a waiting (standby) process tries to take over this often


def _dead_local_owner(owner: str) -> bool:
    """True when ``owner`` (host:pid:random) was a process of this machine that no longer runs."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


class WorkersBusy(RuntimeError):
    """Another live process runs the workers of this database."""


class Workers:
    """Starts and stops the inbox worker, the channel senders and the housekeeping.

    Only the leader of a deployment runs them: a second ``run-scheduler`` (or ``python
    app.py``) waits for the leadership or refuses, and never marks the first one's live
    sends uncertain.
    """

    def __init__(self, services: WorkerServices):
        self.services = services
        self.inbox: InboxWorker | None = None
        self.senders: dict[str, ChannelSender] = {}
        self.periodic: threading.Thread | None = None
        self.heartbeat: threading.Thread | None = None
        self.stopping = threading.Event()
        self.lost = threading.Event()  # set when another process took the leadership
        self.owner = process_owner()
        self.holds_lease = False
        self.leadership: Any = None

    def acquire_lease(self, wait: float) -> None:
        """Become the leader, waiting up to ``wait`` seconds (``math.inf``: a standby that takes
        over when the leader dies); WorkersBusy if another process keeps it."""
        deadline = time.monotonic() + wait
        told = False
        if self.leadership is None:
            store = self.services.open_store()
            try:
                self.leadership = store.leadership(LEASE_NAME, self.owner, ttl=LEASE_TTL_SECONDS)
            finally:
                store.close()
        while True:
            now = self.services.clock.now()
            if self.leadership.try_acquire(now):
                self.holds_lease = True
                logger.info("leading this deployment (%s, %s)", self.owner, self.leadership.kind)
                return
            last_try = time.monotonic() >= deadline
            if told and not last_try and self.leadership.kind != "lease":
                time.sleep(min(RETRY_SECONDS, max(0.0, deadline - time.monotonic())))  # a standby: just retry
                continue
            holder = self.leadership.holder()
            owner = holder["owner"] if holder else "?"
            if holder and self.leadership.kind == "lease" and _dead_local_owner(owner):
                # killed on this machine: no need to wait for the lapse
                logger.warning("the workers' lease of %s belongs to a process that is gone; taking it over", owner)
                self.leadership.evict(owner)
                continue
            beat = f", nhịp tim cách đây {max(0.0, now - holder['heartbeat_at']):.0f} giây" if holder else ""
            message = (
                f"Một tiến trình khác đang chạy các tác vụ nền ({owner}{beat}). Mỗi cơ sở dữ liệu chỉ một tiến trình chạy "
                "`flask run-scheduler` hoặc `python app.py`. / Another process leads this database "
                f"({owner}); only one process per database may run the workers and the scheduler."
            )
            if last_try:
                self.leadership.release()
                raise WorkersBusy(message)
            if not told:
                logger.warning("%s Waiting up to %.0f s to take over.", message, wait)
                told = True
            time.sleep(min(RETRY_SECONDS, max(0.0, deadline - time.monotonic())))

    def start(self, *, wait: float | None = None) -> None:
        """Start the workers once this process leads (waits up to ``wait`` seconds, by default
        a little longer than a crashed holder's lease lasts)."""
        services = self.services
        self.acquire_lease(LEASE_TTL_SECONDS + 5 if wait is None else wait)
        self.heartbeat = threading.Thread(target=self._heartbeat, name="workers-heartbeat", daemon=True)
        self.heartbeat.start()
        store = services.open_store()
        try:
            now = services.clock.now()
            store.register_sender(self.owner, now=now, ttl=SENDER_LEASE_TTL)
            shared = shares_rate(services.config, store.postgres)
            if store.postgres:  # other hosts may be sending: only the rows of dead senders
                recovered = store.recover_orphaned_sending(now=now, at=now, own=self.owner, unowned=True)
            else:  # safe: no other live process sends (it would hold the lease)
                recovered = store.recover_in_flight(at=now)
        finally:
            store.close()
        if recovered:
            logger.warning("outbox: %d message(s) were in flight at the last stop; marked uncertain", recovered)
        self.senders = start_senders(services, owner=self.owner, shared=shared)
        self.inbox = InboxWorker(services.processor, services.open_store, services.inbox_wakeup, services=services)
        self.inbox.on_queued = self.wake_senders
        self.inbox.start()
        self._listen_for_inbound()
        self.periodic = threading.Thread(target=self._periodic, name="periodic", daemon=True)
        self.periodic.start()
        services.workers = self
        logger.info(
            "workers started: inbox, senders for %s (rates kept %s)",
            ", ".join(self.senders) or "no channel", "in the database" if shared else "in this process",
        )

    def _listen_for_inbound(self) -> None:
        """PostgreSQL: webhooks ingested by other processes (or hosts) wake the inbox worker,
        and replies queued elsewhere wake the senders, at once (LISTEN/NOTIFY), not at a poll."""
        store = self.services.open_store()
        try:
            listeners = [
                store.inbox_listener(lambda _payload: self.services.inbox_wakeup.set(), self.stopping),
                # replies queued by inbox workers of other processes (flask run-inbox-worker)
                store.outbox_listener(lambda channel: self.wake_senders([channel]), self.stopping),
            ]
        finally:
            store.close()
        for listener in listeners:
            if listener is not None:
                threading.Thread(target=listener.run, name=f"listener-{listener.channel}", daemon=True).start()

    def wake_senders(self, channels: Iterable[str] | None = None) -> None:
        """Wake the senders of ``channels`` (all when None): only those that got work."""
        wakeups = self.services.outbox_wakeup
        for name in wakeups if channels is None else channels:
            event = wakeups.get(name)
            if event is not None:
                event.set()

    def _heartbeat(self) -> None:
        while not self.stopping.wait(self.leadership.heartbeat_seconds):
            now = self.services.clock.now()
            try:
                kept = self.leadership.keep(now)
                store = self.services.open_store()
                try:
                    store.register_sender(self.owner, now=now, ttl=SENDER_LEASE_TTL)
                finally:
                    store.close()
            except Exception:  # a busy database: try again at the next beat
                logger.exception("workers' heartbeat failed")
                continue
            if not kept:
                logger.critical("the leadership was lost (%s); stopping this process's workers", self.leadership.kind)
                self.holds_lease = False
                self.lost.set()
                self.stop()
                return

    def _periodic(self) -> None:
        """Housekeeping at start and every minute (see :meth:`housekeeping`)."""
        while True:
            self.housekeeping()
            if self.stopping.wait(60):
                return

    def stale_sending_seconds(self) -> float:
        """Longer than any send can take (a Zalo send may refresh its token and call twice)."""
        return max(300.0, 4 * float(self.services.config.get("HTTP_TIMEOUT_SECONDS", 10)))

    def housekeeping(self) -> None:
        """Refresh the Zalo OA token ahead of expiry; recover messages stuck in 'sending' (longer than
        any send takes, or claimed by a sender process whose registration lapsed)."""
        zalo: Any = self.services.channels.get("zalo")
        tokens = getattr(zalo, "tokens", None)
        if zalo is not None and zalo.enabled and tokens is not None:
            try:
                tokens.ensure_fresh()
            except Exception as exc:  # logged by the token manager; keep the loop alive
                logger.warning("zalo token refresh failed: %s", type(exc).__name__)
        store = self.services.open_store()
        try:
            now = self.services.clock.now()
            stuck = store.recover_stale_sending(claimed_before=now - self.stale_sending_seconds(), at=now)
            if stuck:
                logger.warning("outbox: %d message(s) stuck in 'sending' marked uncertain", stuck)
            orphaned = store.recover_orphaned_sending(now=now, at=now, own=self.owner)  # their sender is gone
            if orphaned:
                logger.warning("outbox: %d message(s) in flight in a sender process that stopped marked uncertain", orphaned)
        except Exception:
            logger.exception("outbox housekeeping failed")
        finally:
            store.close()

    def stop(self, grace: float | None = None) -> None:
        """Stop taking new work; in-flight sends finish within ``grace`` seconds (by default
        the HTTP timeout plus 5 s); then give up the leadership."""
        if grace is None:
            grace = float(self.services.config.get("HTTP_TIMEOUT_SECONDS", 10)) + 5
        deadline = time.monotonic() + grace
        self.stopping.set()
        if self.inbox:
            self.inbox.stop()
        for sender in self.senders.values():
            sender.stopping.set()
            sender.wakeup.set()
        if self.inbox and self.inbox is not threading.current_thread():
            self.inbox.join(max(0.0, deadline - time.monotonic()))
        unfinished = stop_senders(self.senders, deadline)
        if unfinished:
            logger.warning("stopped with sends still in flight after %.0f s: %s", grace, ", ".join(unfinished))
        store = self.services.open_store()
        try:
            if not unfinished:  # else the registration lapses, and their rows become 'uncertain'
                store.unregister_sender(self.owner)
        except Exception:
            logger.exception("could not remove the sender registration")
        finally:
            store.close()
        if self.leadership is not None:
            try:
                self.leadership.release()
            except Exception:  # it lapses (or the lock goes with the connection)
                logger.exception("could not release the leadership")
            self.holds_lease = False
        self.services.workers = None


def run_inbox_workers(services: WorkerServices, stop: threading.Event, *, threads: int = 1) -> None:
    """Inbound workers in this process, beside the process holding the workers' lease
    (``flask run-inbox-worker``, PostgreSQL only), until ``stop`` is set.

    Safe to run on several hosts at once: an event is claimed with SKIP LOCKED inside its
    processing transaction, a member's next event waits until the earlier one is done (a
    lane per member), and a killed worker's transaction rolls back, leaving its event
    pending for the others.  Replies are queued in the outbox, whose NOTIFY wakes the
    senders of the leader and of any `flask run-sender`."""
    store = services.open_store()
    try:
        listener = store.inbox_listener(lambda _payload: services.inbox_wakeup.set(), stop)
    finally:
        store.close()
    if listener is None:
        raise NeedsPostgres(
            "Chỉ chạy được khi dùng PostgreSQL (DATABASE_URL). / Extra inbox workers need PostgreSQL (DATABASE_URL)."
        )
    threading.Thread(target=listener.run, name="inbox-listener", daemon=True).start()
    workers = [InboxWorker(services.processor, services.open_store, services.inbox_wakeup) for _ in range(threads)]
    for worker in workers:
        worker.start()
    logger.info("inbox workers started: %d thread(s), lanes per member", threads)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        for worker in workers:
            worker.stop()
        for worker in workers:
            worker.join(10)
