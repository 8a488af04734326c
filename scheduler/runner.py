"""Build and start the APScheduler 3.x scheduler from the database.

The database is the source of truth.  At start, and every SCHEDULER_TICK_SECONDS,
the jobs are rebuilt from it: one date job per scheduled broadcast at its next
fire time (so it fires on time), plus the tick job, which also picks up
broadcasts created by other processes (the CLI, the console).  Whatever fires,
``broadcasts.tick`` decides from the database, so a fire time runs at most once.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler

from scheduler import broadcasts

logger = logging.getLogger(__name__)

TICK_JOB = "broadcast-tick"


class BroadcastScheduler:
    """The scheduler's jobs for one app."""

    def __init__(self, services: Any):
        self.services = services
        self.config = services.config
        self.scheduler = BackgroundScheduler(timezone=ZoneInfo(self.config["TIMEZONE"]))
        self._lock = threading.Lock()  # one tick at a time in this process

    def start(self) -> None:
        self.scheduler.start()
        self.run_tick()  # catch up at start: missed runs within the grace period run now
        self.scheduler.add_job(
            self.run_tick, "interval", seconds=float(self.config["SCHEDULER_TICK_SECONDS"]),
            id=TICK_JOB, replace_existing=True, coalesce=True, max_instances=1,
        )
        from bot.participation.privacy import schedule_purge

        schedule_purge(self.scheduler, self.services)  # nightly: DATA_RETENTION_MONTHS, erased members' replies
        from bot.handoff.notify import schedule_notices

        schedule_notices(self.scheduler, self.services)  # staff digest of new GẶP CÁN BỘ conversations
        from bot.posts.publish import schedule_posts

        schedule_posts(self.scheduler, self.services)  # page posts and Zalo OA articles due or waiting for verify
        logger.info("scheduler started (tick every %ss)", self.config["SCHEDULER_TICK_SECONDS"])

    def shutdown(self, wait: bool = False) -> None:
        self.scheduler.shutdown(wait=wait)

    def run_tick(self) -> None:
        with self._lock:
            store = self.services.open_store()
            try:
                result = broadcasts.tick(store, self.config, self.services.channels, self.services.clock.now())
                if result["started"]:
                    wake = getattr(self.services.workers, "wake_senders", None)
                    if wake:
                        wake()
                self.sync_jobs(store)
            except Exception:
                logger.exception("scheduler tick failed")
            finally:
                store.close()

    def sync_jobs(self, store: Any) -> None:
        """One date job per scheduled broadcast, at its next fire time."""
        wanted = {}
        for broadcast in store.scheduled_broadcasts():
            wanted[f"broadcast:{broadcast['id']}"] = broadcast["next_fire_at"]
        for job in self.scheduler.get_jobs():
            if job.id.startswith("broadcast:") and job.id not in wanted:
                job.remove()
        tz = ZoneInfo(self.config["TIMEZONE"])
        for job_id, fire_at in wanted.items():
            if fire_at <= self.services.clock.now():
                continue  # due now: the running tick handles it
            job = self.scheduler.get_job(job_id)
            run_date = datetime.fromtimestamp(fire_at, tz)
            if job is not None and job.next_run_time == run_date:
                continue
            self.scheduler.add_job(
                self.run_tick, "date", run_date=run_date, id=job_id, replace_existing=True,
                misfire_grace_time=None, coalesce=True,
            )


def start_scheduler(app: Any) -> BroadcastScheduler:
    """Start the scheduler for ``app`` (call in exactly one process)."""
    services = app.extensions["bot"]
    scheduler = BroadcastScheduler(services)
    scheduler.start()
    return scheduler
