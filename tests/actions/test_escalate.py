"""The escalation action against a real SQLite escalation store."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.clinic import clinic
from actions.escalate import ALERTED, ALREADY_ALERTED, NOT_ALERTED, ActionEscalate
from escalations import get_store, reset_store_cache
from escalations.worker import stop_worker


def user_event(text: str, flags: List[tuple], message_id: str, timestamp: float) -> Dict[str, Any]:
    entities = [{"entity": "red_flag", "value": v, "role": r} for v, r in flags]
    parse = {
        "text": text,
        "intent": {"name": "report_red_flag"},
        "entities": entities,
        "message_id": message_id,
    }
    return {
        "event": "user",
        "text": text,
        "parse_data": parse,
        "message_id": message_id,
        "timestamp": timestamp,
        "input_channel": "rest",
    }


def tracker(events: List[Dict[str, Any]], slots: Dict[str, Any] | None = None) -> Tracker:
    latest = events[-1]["parse_data"]
    return Tracker("patient-1", slots or {}, latest, events, False, None, {}, "action_listen")


def run(events: List[Dict[str, Any]], slots: Dict[str, Any] | None = None) -> List[str]:
    dispatcher = CollectingDispatcher()

    async def go() -> None:
        await ActionEscalate().run(dispatcher, tracker(events, slots), {})
        await stop_worker()

    asyncio.run(go())
    return [m["text"] for m in dispatcher.messages]


@pytest.fixture(autouse=True)
def store(db_url, monkeypatch):
    """Each test on SQLite and on PostgreSQL (tests/conftest.py's db_url)."""
    monkeypatch.setenv("ESCALATION_DB_URL", db_url)
    for name in ("ESCALATION_WEBHOOK_URL", "TWILIO_ACCOUNT_SID", "ESCALATION_SMS_TO"):
        monkeypatch.delenv(name, raising=False)
    reset_store_cache()
    yield
    reset_store_cache()


SLOTS = {"care_team_phone": "555-0100"}


def test_a_report_is_recorded_and_the_patient_told() -> None:
    [reply] = run(
        [
            user_event(
                "I passed out and have a fever",
                [("passed_out", "primary"), ("fever", "other")],
                "m1",
                1_700_000_000.0,
            )
        ],
        SLOTS,
    )
    [record] = get_store().recent()
    assert (record.level, record.symptom, record.symptoms) == (
        "emergency",
        "passed_out",
        ("passed_out", "fever"),
    )
    assert record.message_text == "I passed out and have a fever" and record.channel == "rest"
    assert reply.startswith(ALERTED.format(clinic=clinic().clinic_name, id=record.id))
    assert "A fever." in reply, "the other sign's bullet is quoted too"


def test_the_same_message_twice_is_one_record() -> None:
    event = user_event("I passed out", [("passed_out", "primary")], "m1", 1_700_000_000.0)
    run([event], SLOTS)
    [reply] = run([event], SLOTS)
    [record] = get_store().recent()
    assert reply.startswith(ALREADY_ALERTED.format(clinic=clinic().clinic_name, id=record.id))


def test_an_earlier_report_missed_while_the_server_was_down_is_recorded_too() -> None:
    events = [
        user_event("I fainted", [("passed_out", "primary")], "m1", 1_700_000_000.0),
        user_event("now I have chills", [("chills", "primary")], "m2", 1_700_000_100.0),
    ]
    run(events, SLOTS)
    assert [r.symptom for r in get_store().recent()] == ["chills", "passed_out"]


def test_a_message_without_a_sign_records_nothing() -> None:
    event = user_event("can i drive", [], "m1", 1_700_000_000.0)
    event["parse_data"]["intent"] = {"name": "ask_driving"}
    assert run([event], SLOTS) == []
    assert get_store().recent() == []


def test_yes_to_the_warning_sign_check_is_recorded_as_urgent() -> None:
    unwell = user_event("i feel really wrong", [], "m1", 1_700_000_000.0)
    unwell["parse_data"]["intent"] = {"name": "feeling_unwell"}
    yes = user_event("yes", [], "m2", 1_700_000_030.0)
    yes["parse_data"]["intent"] = {"name": "affirm"}
    [reply] = run([unwell, yes], SLOTS)
    [record] = get_store().recent()
    assert (record.level, record.symptom, record.message_id) == ("urgent", "unnamed_warning_sign", "m2")
    assert "i feel really wrong" in record.message_text
    assert reply.startswith(ALERTED.format(clinic=clinic().clinic_name, id=record.id))


def test_without_a_store_the_patient_is_told_to_call(monkeypatch) -> None:
    monkeypatch.setenv("ESCALATION_DB_URL", "sqlite:////nonexistent-dir/escalations.db")
    reset_store_cache()
    [reply] = run([user_event("I passed out", [("passed_out", "primary")], "m1", 1_700_000_000.0)], SLOTS)
    assert reply.startswith(NOT_ALERTED) and clinic().care_team_phone in reply


def test_numbers_are_given_when_the_static_reply_could_not_show_them() -> None:
    [reply] = run([user_event("I passed out", [("passed_out", "primary")], "m1", 1_700_000_000.0)], {})
    assert clinic().care_team_phone in reply


def test_a_yes_missed_while_the_server_was_down_is_recorded_with_the_next_report() -> None:
    unwell = user_event("i feel really wrong", [], "m1", 1_700_000_000.0)
    unwell["parse_data"]["intent"] = {"name": "feeling_unwell"}
    yes = user_event("yes", [], "m2", 1_700_000_030.0)
    yes["parse_data"]["intent"] = {"name": "affirm"}
    later = user_event("now i have chills", [("chills", "primary")], "m3", 1_700_000_090.0)
    run([unwell, yes, later], SLOTS)
    assert [(r.symptom, r.message_id) for r in get_store().recent()] == [
        ("chills", "m3"),
        ("unnamed_warning_sign", "m2"),
    ]


def test_a_yes_that_answers_nothing_records_nothing() -> None:
    yes = user_event("yes", [], "m1", 1_700_000_000.0)
    yes["parse_data"]["intent"] = {"name": "affirm"}
    assert run([yes], SLOTS) == []
    assert get_store().recent() == []
