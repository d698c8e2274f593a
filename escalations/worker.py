"""Background delivery of pending notifications, so the patient's reply never waits for it.

The action records an escalation and calls `notify_soon()`, which only wakes a task on the
running event loop. That task delivers whatever is due, then sleeps until the next retry
is due or it is woken again. Because the work list lives in the database, deliveries
survive restarts (`attach` starts the task when the action server starts) and can also be
run by hand with `python -m escalations deliver`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy.exc import SQLAlchemyError

from escalations import notify
from escalations.notify import Outcome
from escalations.settings import Settings, SettingsError, get_settings
from escalations.store import (
    Due,
    EscalationStore,
    NewEscalation,
    RecordResult,
    as_utc,
    get_store,
    iso,
    utcnow,
)

logger = logging.getLogger(__name__)

POLL_SECONDS = 30.0  # the longest the worker sleeps, even with nothing due
MIN_SLEEP_SECONDS = 0.05
CLAIM_BATCH = 20
JITTER = 0.1  # up to 10 % added to each retry delay, so replicas do not retry in lockstep


def retry_delay(attempt: int, base: float, maximum: float, jitter: float = JITTER) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): exponential, capped."""
    delay = min(base * 2.0 ** min(max(attempt, 1) - 1, 62), maximum)
    return delay * (1.0 + random.uniform(0.0, jitter))


def lease_seconds(settings: Settings) -> float:
    """How long a claim lasts: far longer than one attempt can take, so it never lapses mid-send."""
    return max(60.0, 4 * settings.http_timeout_seconds)


@dataclass
class DeliveryReport:
    """What one delivery pass did (the CLI's exit status depends on it)."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0


async def deliver_due(
    store: EscalationStore, settings: Settings, now: datetime | None = None, only_enabled: bool = False
) -> int:
    """Makes one attempt at every notification due at `now` (default: the current time).

    Returns how many were delivered. Failures are rescheduled with back-off, or marked
    failed (with an ERROR log) once ESCALATION_GIVE_UP_HOURS have passed since the
    escalation. Database errors propagate to the caller. With `only_enabled`, notifications
    for targets these settings cannot send to are left alone for a process that can.
    """
    return (await deliver_due_report(store, settings, now, only_enabled)).delivered


async def deliver_due_report(
    store: EscalationStore, settings: Settings, now: datetime | None = None, only_enabled: bool = False
) -> DeliveryReport:
    """Like deliver_due, but says how many attempts succeeded, will be retried, or gave up."""
    report = DeliveryReport()
    targets = settings.targets if only_enabled else None
    lease = lease_seconds(settings)
    async with notify.new_session(settings) as session:
        while True:
            at = as_utc(now) if now else utcnow()
            batch = await asyncio.to_thread(store.claim_due, at, CLAIM_BATCH, lease, targets)
            if not batch:
                return report
            outcomes = await asyncio.gather(
                *(_attempt(session, settings, item) for item in batch)
            )
            for item, outcome in zip(batch, outcomes, strict=True):
                settled_at = as_utc(now) if now else utcnow()
                result = await _settle(store, settings, item, outcome, settled_at)
                setattr(report, result, getattr(report, result) + 1)


async def _attempt(session: aiohttp.ClientSession, settings: Settings, item: Due) -> Outcome:
    """One send that cannot raise: an unexpected error is a failed attempt, not a lost one."""
    try:
        return await notify.send(session, settings, item)
    except asyncio.CancelledError:
        raise
    except Exception as error:  # reported and retried like any other failure
        logger.warning(
            "Escalation %d: unexpected %s sending to %s",
            item.escalation_id, type(error).__name__, item.target,
        )
        return Outcome(False, None, f"unexpected {type(error).__name__}")


async def _settle(
    store: EscalationStore, settings: Settings, item: Due, outcome: Outcome, now: datetime
) -> str:
    """Stores the attempt's outcome; returns 'delivered', 'retrying' or 'failed'."""
    attempt = item.attempts + 1
    if outcome.delivered:
        await asyncio.to_thread(store.mark_delivered, item.notification_id, now)
        logger.info(
            "Escalation %d: %s delivered (attempt %d, HTTP %s)",
            item.escalation_id, item.target, attempt, outcome.status,
        )
        return "delivered"
    error = outcome.error or "unknown error"
    deadline = item.created_at + timedelta(seconds=settings.give_up_seconds)
    if now >= deadline:
        await asyncio.to_thread(store.mark_failed, item.notification_id, error)
        logger.error(
            "Escalation %d: GAVE UP on the %s notification after %d attempt(s) over %g hours "
            "(last error: %s). The care team was not alerted this way: check `python -m escalations list`.",
            item.escalation_id, item.target, attempt, settings.give_up_hours, error,
        )
        return "failed"
    delay = retry_delay(attempt, settings.retry_base_seconds, settings.retry_max_seconds)
    next_at = min(now + timedelta(seconds=delay), deadline)  # the last try is at the deadline
    await asyncio.to_thread(store.mark_retry, item.notification_id, next_at, error)
    logger.warning(
        "Escalation %d: %s attempt %d failed (%s); next attempt at %s",
        item.escalation_id, item.target, attempt, error, iso(next_at),
    )
    return "retrying"


# ---------------------------------------------------------------------- background task


@dataclass
class _Worker:
    """One event loop's delivery task and the event that wakes it."""

    task: asyncio.Task
    wake: asyncio.Event


_workers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Worker] = weakref.WeakKeyDictionary()


def notify_soon(store: EscalationStore | None = None, settings: Settings | None = None) -> None:
    """Wakes this event loop's delivery task, starting it if needed; returns at once.

    Must be called from code running in an event loop (an async action is). `store` and
    `settings` default to the process's own and only matter when the task is started.
    """
    loop = asyncio.get_running_loop()
    worker = _workers.get(loop)
    if worker is None or worker.task.done():
        wake = asyncio.Event()
        task = loop.create_task(_run(wake, store, settings), name="escalations-delivery")
        worker = _workers[loop] = _Worker(task, wake)
    worker.wake.set()


async def stop_worker() -> None:
    """Stops this loop's delivery task (server shutdown); pending work stays in the database."""
    worker = _workers.pop(asyncio.get_running_loop(), None)
    if worker is None or worker.task.done():
        return
    worker.task.cancel()
    try:
        await worker.task
    except asyncio.CancelledError:
        pass


def _describe(error: BaseException) -> str:
    """An error for the log: database errors hide their parameters, so their text is safe."""
    if isinstance(error, SQLAlchemyError | OSError | aiohttp.ClientError | SettingsError):
        return f"{type(error).__name__}: {' '.join(str(error).split())[:300]}"
    return type(error).__name__


async def _run(wake: asyncio.Event, store: EscalationStore | None, settings: Settings | None) -> None:
    """Deliver what is due, sleep until the next due time or a wake-up (at most POLL_SECONDS)."""
    failures = 0
    started = False
    while True:
        wake.clear()
        try:
            settings = settings or get_settings()
            store = store or await asyncio.to_thread(get_store)
            if not started:
                targets = ", ".join(settings.targets) or "none"
                logger.info("Escalation delivery started (targets: %s)", targets)
                started = True
            await deliver_due(store, settings)
            next_due = await asyncio.to_thread(store.next_due_at)
            failures = 0
            sleep = POLL_SECONDS
            if next_due is not None:
                sleep = min(max((next_due - utcnow()).total_seconds(), MIN_SLEEP_SECONDS), POLL_SECONDS)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the worker must outlive a database outage
            failures += 1
            sleep = min(POLL_SECONDS, 2.0**failures)
            logger.error(
                "Escalation delivery pass failed (%s); trying again in %.0f s", _describe(error), sleep
            )
        # Not asyncio.wait_for: on Python 3.10 it can swallow a cancellation that arrives as
        # the wake-up does, and the task would then never stop.
        waiter = asyncio.ensure_future(wake.wait())
        try:
            await asyncio.wait({waiter}, timeout=sleep)
        finally:
            waiter.cancel()


async def escalate(new: NewEscalation, store: EscalationStore | None = None) -> RecordResult:
    """For the action: records the escalation off the event loop and wakes delivery.

    Returns as soon as the record is committed; sending happens in the background.
    Raises if the database cannot be written, so the caller can log it and still reply.
    """
    store = store or await asyncio.to_thread(get_store)
    result = await asyncio.to_thread(store.record, new)
    notify_soon(store)
    return result


def attach(app: Any, store: EscalationStore | None = None, settings: Settings | None = None) -> None:
    """Starts delivery when the Sanic (action) server starts and stops it when it stops.

    Starting at server start delivers notifications left pending by a restart without
    waiting for the next escalation. Safe to call more than once for the same app.
    """
    if getattr(app.ctx, "escalations_attached", False):
        return
    app.ctx.escalations_attached = True

    async def _start(_app: Any, _loop: asyncio.AbstractEventLoop) -> None:
        notify_soon(store, settings)

    async def _stop(_app: Any, _loop: asyncio.AbstractEventLoop) -> None:
        await stop_worker()

    app.register_listener(_start, "after_server_start")
    app.register_listener(_stop, "before_server_stop")


def attach_to_action_server(app_name: str = "rasa_sdk") -> bool:
    """attach() to the running rasa-sdk action server's app, if this process has one.

    rasa-sdk creates its Sanic app before importing the actions package, so calling this
    at import time of an actions module works; elsewhere (unit tests) it returns False.
    """
    try:
        from sanic import Sanic

        app = Sanic.get_app(app_name)
    except Exception:  # no app (or no Sanic) simply means there is nothing to attach to
        return False
    attach(app)
    return True
