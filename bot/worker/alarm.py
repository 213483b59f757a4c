"""APScheduler as the timers' alarm clock, never their store: the sweeper runs every
tick and exactly at the next due step, and the database holds every deadline. (APScheduler
3 must not share a job store between processes; nothing here is stored in it.)"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.services.timers import TimerSweeper

TICK = timedelta(seconds=1)
SELF_CHECK_EVERY = timedelta(seconds=30)


class TimerAlarm:
    def __init__(self, sweeper: TimerSweeper, now: Callable[[], datetime]):
        self.sweeper = sweeper
        self.now = now
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        sweeper.on_next_due = self.arm

    def arm(self, when: datetime) -> None:
        """Wake exactly at `when` if that comes before the next tick."""
        now = self.now()
        if not self.scheduler.running or when <= now or when - now > TICK:
            return
        self.scheduler.add_job(
            self.sweeper.sweep,
            "date",
            run_date=when,
            id="timers-alarm",
            replace_existing=True,
            misfire_grace_time=60,
        )

    def start(self) -> None:
        """Needs a running event loop."""
        self.scheduler.add_job(
            self.sweeper.sweep,
            "interval",
            seconds=TICK.total_seconds(),
            id="timers",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=60,
        )
        self.scheduler.add_job(
            self.sweeper.self_check,
            "interval",
            seconds=SELF_CHECK_EVERY.total_seconds(),
            id="timers-self-check",
            max_instances=1,
            coalesce=True,
        )
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
