"""``partnerlink run``: the scheduled daemon (R24).

APScheduler 3 in the configured time zone (never the host's), one job with a fixed id replaced on
every start, coalescing, one instance at a time, a misfire grace of hours, jitter. The schedule
lives in config and the state in our database: at start, a cycle missed while the agent was down
(within the grace) runs once, and so does one when the last complete cycle is older than the
schedule's interval (``[schedule] catch_up``: a new agent does not wait a day); the readiness of
the estate is logged first (``[readiness] at_start``). SIGTERM and SIGINT stop it: the cycle in
flight stops at the next customer boundary (the rest is ``not_attempted``), commits, and the
process exits.
"""

from __future__ import annotations

import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from agent.app import Agent
from agent.cron import cron_fields
from agent.lock import LockHeld
from agent.memory import trim
from agent.metrics import Metrics
from agent.startup import catch_up_reason, log_readiness
from agent.web.page import ReportPage
from agent.web.people import Authority
from agent.web.server import StatusServer, status_server

log = structlog.get_logger("partnerlink.daemon")
JOB_ID = "partnerlink-cycle"


def make_trigger(agent: Agent) -> BaseTrigger:
    schedule = agent.settings.schedule
    tz = ZoneInfo(schedule.timezone)
    jitter = int(schedule.jitter.total_seconds()) or None
    if schedule.interval is not None:
        return IntervalTrigger(
            seconds=int(schedule.interval.total_seconds()), timezone=tz, jitter=jitter
        )
    return WallClockCronTrigger(**cron_fields(schedule.cron), timezone=tz, jitter=jitter)


class WallClockCronTrigger(CronTrigger):  # type: ignore[misc]
    """A cron trigger that never fires twice at one wall-clock time.

    When clocks fall back, APScheduler 3 fires a 02:30 job at 02:30 summer time and again at
    02:30 winter time; a nightly audit must run once (R24). Remove with APScheduler 4.
    """

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        fire: datetime | None = super().get_next_fire_time(previous_fire_time, now)
        if fire is None or previous_fire_time is None:
            return fire
        # Compare instants in UTC: aware datetimes sharing one ZoneInfo compare by wall time.
        before = previous_fire_time.astimezone(UTC)
        wall = previous_fire_time.astimezone(fire.tzinfo).replace(tzinfo=None)
        start = max(now.astimezone(UTC), before + timedelta(seconds=1))
        for _ in range(4):
            if fire is None:
                return None
            if fire.astimezone(UTC) > before and fire.replace(tzinfo=None) != wall:
                return fire
            # APScheduler 3 stalls on the repeated hour when handed the previous fire time;
            # without it, it computes the next fire correctly from a point past that hour.
            fire = super().get_next_fire_time(None, start)
            start = (fire.astimezone(UTC) if fire else start) + timedelta(hours=1)
        return fire


def schedule_interval(agent: Agent, now: datetime) -> timedelta:
    """The time between scheduled cycles: the configured interval, or the longest gap between
    the cron's coming fire times over a week (a weekday schedule's weekend counts), without
    jitter."""
    schedule = agent.settings.schedule
    if schedule.interval is not None:
        return schedule.interval
    trigger = WallClockCronTrigger(
        **cron_fields(schedule.cron), timezone=ZoneInfo(schedule.timezone)
    )
    fires: list[datetime] = []
    fire = trigger.get_next_fire_time(None, now)
    while fire is not None and len(fires) < 64:
        fires.append(fire)
        if fire - fires[0] > _WEEK:
            break
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return max((b - a for a, b in pairwise(fires)), default=_WEEK)


_WEEK = timedelta(days=7)


def previous_fire(trigger: BaseTrigger, now: datetime, horizon: timedelta) -> datetime | None:
    """The last time the schedule fired at or before ``now`` (within ``horizon``)."""
    start = now - horizon
    last: datetime | None = None
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and fire <= now:
        last = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return last


class Daemon:
    def __init__(self, agent: Agent, *, metrics: Metrics | None = None) -> None:
        self.agent = agent
        self.metrics = metrics or Metrics(agent.store)
        agent.metrics = self.metrics  # the live connectors count their requests here
        self.stopping = threading.Event()
        self.scheduler = BackgroundScheduler(timezone=ZoneInfo(agent.settings.schedule.timezone))
        self.server: StatusServer | None = None
        self.page = ReportPage()
        self.cycles_run = 0
        self.started = threading.Event()
        """Set once what the daemon does at start (readiness, a catch-up cycle) is done."""

    # ------------------------------------------------------------------------ the job

    def cycle(self) -> None:
        if self.stopping.is_set():
            return
        started = self.agent.clock()
        try:
            with self.agent.runner.hold():
                synced, audited = self.agent.cycle(trigger="schedule", stop=self.stopping)
        except LockHeld as held:
            self.agent.store.record_skipped(self.agent.clock(), f"skipped: {held}")
            log.info("cycle_skipped", reason=str(held))
            self.metrics.cycles.labels("skipped").inc()
            return
        except Exception as exc:
            log.error("cycle_failed", error_type=type(exc).__name__)
            self.metrics.cycles.labels("failed").inc()
            return
        finally:
            trim()  # the daemon idles until the next cycle: give the sync's heap back
        seconds = (self.agent.clock() - started).total_seconds()
        self.metrics.cycle_seconds.observe(seconds)
        self.metrics.cycles.labels(synced.status.value).inc()
        self.metrics.last_cycle.set(self.agent.clock().timestamp())
        for result in synced.failed:
            self.metrics.source_reads.labels(result.source, "failed").inc()
        ok = synced.scopes - len(synced.failed) - synced.not_attempted - synced.carried
        self.metrics.source_reads.labels("all", "complete").inc(max(ok, 0))
        self.metrics.source_reads.labels("all", "carried").inc(synced.carried)
        self.cycles_run += 1
        log.info(
            "cycle_done",
            run_id=synced.run_id,
            status=synced.status.value,
            seconds=round(seconds, 1),
            **(audited.summary() if audited else {}),
        )
        if self.server is not None:
            self.render_page()

    # ------------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        http = self.agent.settings.http
        if http.enabled:  # first: a busy port stops the start before anything else runs
            settings = self.agent.settings
            authority = Authority(
                settings.cloud.endpoints().authority_host,
                settings.partner.tenant_id,
                settings.cloud.ca_bundle,
            )
            self.server = status_server(
                self.agent.store,
                self.metrics,
                http,
                page=self.page,
                clock=self.agent.clock,
                authority=authority,
            )
            self.server.start()
        schedule = self.agent.settings.schedule
        trigger = make_trigger(self.agent)
        self.scheduler.add_listener(
            self._on_event, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR
        )
        self.scheduler.add_job(
            self.cycle,
            trigger=trigger,
            id=JOB_ID,
            name="sync and audit",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(schedule.misfire_grace.total_seconds()),
        )
        if self.agent.settings.alerts.sinks:
            # Retries of alerts that failed transiently go out between the nightly cycles.
            self.scheduler.add_job(
                self._deliver,
                "interval",
                minutes=5,
                id=f"{JOB_ID}-alerts",
                replace_existing=True,
                coalesce=True,
                max_instances=1,
            )
        self.scheduler.start()
        if self.server is not None and self.agent.store.last_finished_run() is not None:
            # The report of the cycle before this start, rendered once, off the request path.
            self.scheduler.add_job(self.render_page, id=f"{JOB_ID}-report", max_instances=1)
        self._catch_up(trigger)
        job = self.scheduler.get_job(JOB_ID)
        log.info(
            "daemon_started",
            next_run=str(job.next_run_time) if job else None,
            timezone=schedule.timezone,
        )

    def render_page(self) -> None:
        """Render the report once and publish it: requests to ``/`` serve these bytes."""
        try:
            self.page.publish(self.report_page(), self.agent.clock())
        except Exception as exc:  # the last page stays; the next cycle tries again
            log.error("report_render_failed", error_type=type(exc).__name__)

    def report_page(self) -> str:
        """The HTML report of the store as it stands (seconds of CPU on a large estate)."""
        from agent import report

        return report.to_html(self.agent.report_data(self.agent.clock(), every_line=False))

    def _deliver(self) -> None:
        if self.stopping.is_set():
            return
        try:
            self.agent.deliver_alerts()
        except Exception as exc:  # delivery problems are retried at the next tick
            log.error("alert_delivery_failed", error_type=type(exc).__name__)

    def _catch_up(self, trigger: BaseTrigger) -> None:
        """Once at start, off the request path: the readiness check (``[readiness] at_start``),
        then one cycle at once when one is due: a fire time missed while the agent was down
        (within the grace), or (``[schedule] catch_up``) no complete cycle as recent as the
        schedule's interval."""
        reason = self._due(trigger)
        if reason is None and not self.agent.settings.readiness.at_start:
            self.started.set()
            return
        self.scheduler.add_job(
            self._start_job,
            args=(reason,),
            id=f"{JOB_ID}-catch-up",
            replace_existing=True,
            max_instances=1,
            coalesce=True,
        )

    def _due(self, trigger: BaseTrigger) -> str | None:
        """Why a cycle should run now rather than at the next fire time; ``None``: it need not."""
        now = self.agent.clock()
        schedule = self.agent.settings.schedule
        fired = previous_fire(trigger, now, schedule.misfire_grace)
        last = self.agent.store.last_started_run()
        if fired is not None and (last is None or last.started_at < fired):
            return f"the cycle of {fired.isoformat()} was missed"
        if not schedule.catch_up:
            return None
        complete = self.agent.store.last_finished_run()
        return catch_up_reason(
            complete.started_at if complete else None, now, schedule_interval(self.agent, now)
        )

    def _catch_up_handed_over(self, timeout: float = 5.0) -> None:
        """Wait (milliseconds, at most ``timeout``) until the scheduler has handed the one-off
        start job to its executor and dropped it: APScheduler drops such a job right after
        handing it over, and a shutdown in between makes its loop fail to find it (an error
        in its thread)."""
        deadline = time.monotonic() + timeout
        while (
            self.scheduler.running
            and self.scheduler.get_job(f"{JOB_ID}-catch-up") is not None
            and time.monotonic() < deadline
        ):
            time.sleep(0.01)

    def _start_job(self, reason: str | None) -> None:
        try:
            if self.agent.settings.readiness.at_start and not self.stopping.is_set():
                log_readiness(self.agent)
            if reason is not None and not self.stopping.is_set():
                log.info("cycle_catch_up", reason=reason)
                self.cycle()
        finally:
            self.started.set()

    def _on_event(self, event: Any) -> None:
        if event.code == EVENT_JOB_MAX_INSTANCES:
            log.warning("cycle_skipped", reason="the previous cycle is still running")
        elif event.code == EVENT_JOB_MISSED:
            log.warning("cycle_missed", scheduled=str(event.scheduled_run_time))

    def stop(self) -> None:
        """Stop taking new cycles; let the one in flight reach a clean boundary."""
        self.stopping.set()
        self._catch_up_handed_over()
        self.scheduler.shutdown(wait=True)
        if self.server is not None:
            self.server.stop()
        log.info("daemon_stopped")

    def run_forever(self, install_signals: bool = True) -> None:
        done = threading.Event()

        def _signal(signum: int, _frame: FrameType | None) -> None:
            log.info("signal_received", signal=signal.Signals(signum).name)
            done.set()

        if install_signals:
            signal.signal(signal.SIGTERM, _signal)
            signal.signal(signal.SIGINT, _signal)
        self.start()
        try:
            while not done.wait(1.0):
                pass
        finally:
            self.stop()
