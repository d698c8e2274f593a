"""Delivery in the background: retries with back-off, outages, giving up, and privacy of logs."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import timedelta

import pytest
from sanic import Sanic
from sanic.response import text

from devtools.servers import free_port
from escalations.store import DELIVERED, FAILED, PENDING, EscalationStore
from escalations.worker import (
    attach,
    attach_to_action_server,
    deliver_due,
    escalate,
    notify_soon,
    retry_delay,
    stop_worker,
)
from tests.escalations.conftest import CLINIC_NUMBER, ON_CALL_NUMBER, PATIENT_TEXT, escalation, settings_for

PRIVATE = (PATIENT_TEXT, "legs", ON_CALL_NUMBER, CLINIC_NUMBER)


def _states(store: EscalationStore) -> dict:
    [row] = store.recent()
    return {n.target: n for n in row.notifications}


async def _until(check, timeout: float = 10.0) -> None:
    """Polls `check` (run in a thread: it reads the database) until it is true."""
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(check):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def _all_delivered(store: EscalationStore) -> bool:
    return all(n.status == DELIVERED for row in store.recent() for n in row.notifications)


def _workers() -> list:
    return [t for t in asyncio.all_tasks() if t.get_name() == "escalations-delivery"]


def test_retry_delay_doubles_up_to_the_maximum():
    assert [round(retry_delay(n, 2, 600, jitter=0), 3) for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert retry_delay(20, 2, 600, jitter=0) == 600
    assert retry_delay(10_000, 2, 600, jitter=0) == 600
    assert all(2 <= retry_delay(1, 2, 600) <= 2.2 for _ in range(100))


def test_server_errors_are_retried_with_back_off_until_delivered(recorder, db_url, make_store):
    recorder.respond_with(500, 503)  # then the default 200
    settings = settings_for(recorder, db_url, sms=False)  # retry base 0.2 s
    store = make_store(db_url, targets=settings.targets)

    async def scenario():
        store.record(escalation())
        notify_soon(store, settings)
        await _until(lambda: _all_delivered(store))
        await stop_worker()

    asyncio.run(scenario())
    first, second, third = recorder.requests
    assert second.received_at - first.received_at >= 0.2  # base * 2**0
    assert third.received_at - second.received_at >= 0.4  # base * 2**1
    assert first.body == second.body == third.body
    webhook = _states(store)["webhook"]
    assert (webhook.status, webhook.attempts, webhook.last_error) == (DELIVERED, 3, "HTTP 503")


def test_receiver_down_then_back(recorder, db_url, make_store):
    settings = settings_for(recorder, db_url)
    store = make_store(db_url, targets=settings.targets)
    store.record(escalation())
    recorder.stop()
    assert asyncio.run(deliver_due(store, settings)) == 0
    for note in _states(store).values():
        assert (note.status, note.attempts) == (PENDING, 1)
        assert "ClientConnectorError" in note.last_error and str(recorder.port) in note.last_error
    recorder.start()  # same port
    assert asyncio.run(deliver_due(store, settings)) == 0  # not due again yet
    later = max(n.next_attempt_at for n in _states(store).values())
    assert asyncio.run(deliver_due(store, settings, now=later)) == 2
    assert {(n.status, n.attempts) for n in _states(store).values()} == {(DELIVERED, 2)}
    assert len(recorder.requests) == 2


def test_gives_up_after_the_deadline_with_an_error_log(recorder, sqlite_url, make_store, caplog):
    recorder.set_status(500)
    settings = settings_for(recorder, sqlite_url, sms=False)
    store = make_store(sqlite_url, targets=settings.targets)
    escalation_id = store.record(escalation()).escalation_id
    created = store.recent()[0].created_at
    with caplog.at_level(logging.DEBUG, logger="escalations"):
        # Failing just before the deadline: the last attempt is at the deadline, not later.
        deadline = created + timedelta(hours=24)
        asyncio.run(deliver_due(store, settings, now=deadline - timedelta(seconds=0.1)))  # retry base 0.2 s
        webhook = _states(store)["webhook"]
        assert webhook.status == PENDING
        assert webhook.next_attempt_at == deadline
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        asyncio.run(deliver_due(store, settings, now=deadline))
    webhook = _states(store)["webhook"]
    assert (webhook.status, webhook.attempts, webhook.last_error) == (FAILED, 2, "HTTP 500")
    [error] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert f"Escalation {escalation_id}" in error.getMessage() and "webhook" in error.getMessage()
    assert asyncio.run(deliver_due(store, settings, now=created + timedelta(days=3))) == 0
    assert len(recorder.requests) == 2


def test_a_target_switched_off_later_keeps_its_notification_pending(recorder, sqlite_url, make_store):
    settings = settings_for(recorder, sqlite_url)
    store = make_store(sqlite_url, targets=settings.targets)
    store.record(escalation())
    without_sms = settings_for(recorder, sqlite_url, sms=False)
    assert asyncio.run(deliver_due(store, without_sms)) == 1
    sms = _states(store)["sms"]
    assert (sms.status, sms.attempts) == (PENDING, 1) and "not configured" in sms.last_error


def test_no_message_text_or_phone_numbers_in_logs_at_info(recorder, sqlite_url, make_store, caplog):
    # Twilio's error bodies quote phone numbers; they must not reach the log or last_error.
    twilio_error = {"code": 21211, "message": f"The 'To' number {ON_CALL_NUMBER} is not valid"}
    recorder.response_body = json.dumps(twilio_error).encode()
    recorder.respond_with(500, 400)
    settings = settings_for(recorder, sqlite_url)
    store = make_store(sqlite_url, targets=settings.targets)
    with caplog.at_level(logging.DEBUG):
        settings_for(recorder, sqlite_url, ESCALATION_WEBHOOK_SECRET="")  # a settings error
        store.record(escalation(message_id="m1"))
        store.record(escalation(message_id="m1"))  # a duplicate
        created = store.recent()[0].created_at
        asyncio.run(deliver_due(store, settings))
        asyncio.run(deliver_due(store, settings, now=created + timedelta(seconds=5)))
        recorder.set_status(500)
        store.record(escalation("conv-2"))
        asyncio.run(deliver_due(store, settings, now=created + timedelta(days=2)))  # gives up
    levels = {r.levelname for r in caplog.records if r.name.startswith("escalations")}
    assert {"INFO", "WARNING", "ERROR"} <= levels
    for record in caplog.records:
        if record.levelno >= logging.INFO:
            for private in PRIVATE:
                assert private not in record.getMessage(), record.getMessage()
    last_errors = [n.last_error or "" for row in store.recent() for n in row.notifications]
    assert any("Twilio error 21211" in e for e in last_errors)
    assert not any(p in e for e in last_errors for p in PRIVATE)


def test_escalate_returns_at_once_and_delivers_in_the_background(recorder, sqlite_url, make_store):
    recorder.delay_seconds = 1.0  # a slow receiver must not slow the patient's reply
    settings = settings_for(recorder, sqlite_url, sms=False)
    store = make_store(sqlite_url, targets=settings.targets)

    async def scenario():
        notify_soon(store, settings)  # the worker exists (as after attach) and is idle
        await asyncio.sleep(0.2)
        started = time.monotonic()
        result = await escalate(escalation(), store)
        notify_soon()
        elapsed = time.monotonic() - started
        workers = len(_workers())
        await _until(lambda: _all_delivered(store))
        await stop_worker()
        return result, elapsed, workers

    result, elapsed, workers = asyncio.run(scenario())
    assert result.created and elapsed < 0.5 and workers == 1
    assert len(recorder.requests) == 1


def test_notify_soon_needs_a_running_loop():
    with pytest.raises(RuntimeError):
        notify_soon()


def test_attach_delivers_what_was_pending_when_the_server_starts(recorder, sqlite_url, make_store):
    settings = settings_for(recorder, sqlite_url)
    store = make_store(sqlite_url, targets=settings.targets)
    store.record(escalation())  # left pending by the previous run of the action server
    app = Sanic("escalations_test_attach")
    app.add_route(lambda request: text("ok"), "/health")
    attach(app, store, settings)
    attach(app, store, settings)  # a second call changes nothing

    async def serve():
        server = await app.create_server(host="127.0.0.1", port=free_port(), return_asyncio_server=True)
        await server.startup()
        await server.after_start()
        try:
            await _until(lambda: _all_delivered(store))
            assert len(_workers()) == 1
        finally:
            await server.before_stop()
            server.close()
            await server.wait_closed()
            await server.after_stop()
        return _workers()

    assert asyncio.run(serve()) == []
    assert len(recorder.requests) == 2


def test_attach_to_action_server_finds_the_app_by_name():
    assert attach_to_action_server("no_such_app") is False
    app = Sanic("escalations_test_action_server")
    assert attach_to_action_server("escalations_test_action_server") is True
    assert app.ctx.escalations_attached


def test_the_worker_stops_even_when_woken_as_it_is_cancelled(sqlite_url):
    """A wake-up and a stop in the same loop tick (an escalation as the server shuts down)."""
    settings = settings_for(None, sqlite_url, webhook=False, sms=False)
    store = EscalationStore(sqlite_url)

    async def go():
        for _ in range(20):
            notify_soon(store, settings)
            await asyncio.sleep(0.01)  # the worker is now waiting to be woken
            notify_soon(store, settings)
            await asyncio.wait_for(stop_worker(), timeout=5)

    asyncio.run(go())
