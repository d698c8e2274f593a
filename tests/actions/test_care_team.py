"""Asking for a person gives the clinic's numbers from configuration."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.care_team import ActionContactCareTeam
from actions.clinic import clinic
from actions.session import ActionSessionStart
from tests.actions.helpers import run_action, texts, tracker_for


def test_request_for_a_person_lists_the_configured_numbers() -> None:
    dispatcher = CollectingDispatcher()
    run_action(ActionContactCareTeam(), dispatcher, tracker_for("request_human", "nurse"))
    (reply,) = texts(dispatcher)
    details = clinic()
    for value in (details.care_team_phone, details.nurse_line_phone, details.emergency_number):
        assert value in reply


def test_session_start_fills_the_clinic_slots_and_keeps_the_phase() -> None:
    tracker = tracker_for("greet", "hi", slots={"procedure_phase": "after"})
    events = run_action(ActionSessionStart(), CollectingDispatcher(), tracker)
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["care_team_phone"] == clinic().care_team_phone
    assert slots["procedure_phase"] == "after"
    assert events[0]["event"] == "session_started" and events[-1]["name"] == "action_listen"
