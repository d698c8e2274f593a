"""Asking for a person gives the clinic's numbers from configuration."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.care_team import ActionContactCareTeam
from actions.clinic import clinic
from tests.actions.helpers import run_action, texts, tracker_for


def test_request_for_a_person_lists_the_configured_numbers() -> None:
    dispatcher = CollectingDispatcher()
    run_action(ActionContactCareTeam(), dispatcher, tracker_for("request_human", "nurse"))
    (reply,) = texts(dispatcher)
    details = clinic()
    for value in (details.care_team_phone, details.nurse_line_phone, details.emergency_number):
        assert value in reply


def test_custom_actions_fill_the_clinic_slots_for_the_static_responses() -> None:
    tracker = tracker_for("request_human", "nurse")
    events = run_action(ActionContactCareTeam(), CollectingDispatcher(), tracker)
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots == clinic().as_slots()


def test_clinic_slots_already_set_are_not_set_again() -> None:
    tracker = tracker_for("request_human", "nurse", slots=clinic().as_slots())
    events = run_action(ActionContactCareTeam(), CollectingDispatcher(), tracker)
    assert [e for e in events if e["event"] == "slot"] == []
