"""Warning signs against the real servers: the instruction first, the care team alerted once,
and the patient's reply independent of the action server and of the care team's webhook."""

from __future__ import annotations

import json
import time
from typing import List

import pytest

from devtools.recorder import Recorder
from escalations import EscalationStore, EscalationView, verify
from tests.conftest import TEST_CLINIC, WEBHOOK_SECRET, Servers, conversation_id

pytestmark = pytest.mark.e2e

CALL_911 = "“Call 911 anytime you think you may need emergency care. For example, call if:"
PASSED_OUT = "• You passed out (lost consciousness).”"
CANNOT_MOVE = "• You are unable to move an arm or a leg at all.”"
CALL_NOW = "“Call your doctor or nurse advice line now or seek immediate medical care if:"
SHOWER = "You may shower if your doctor okays it."
EAT_AFTER = "You can eat your normal diet."
FOLLOW_UP = "Follow-up care is a key part of your treatment and safety."
ALERTED = "care team know (alert number"


def escalations_of(servers: Servers, sender: str) -> List[EscalationView]:
    store = EscalationStore(servers.env["ESCALATION_DB_URL"])
    return [e for e in store.recent(limit=500) if e.conversation_id == sender]


def wait_for_escalations(
    servers: Servers, sender: str, count: int, timeout: float = 10
) -> List[EscalationView]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = escalations_of(servers, sender)
        if len(found) >= count:
            return found
        time.sleep(0.2)
    return escalations_of(servers, sender)


def webhook_calls(care_team: Recorder, sender: str) -> list:
    calls = []
    for request in care_team.by_path("/escalations"):
        body = json.loads(request.body)
        if body["conversation_id"] == sender:
            calls.append((request, body))
    return calls


def test_an_escalation_mid_conversation_comes_first_then_the_conversation_goes_on(
    servers: Servers, care_team: Recorder
) -> None:
    sender = conversation_id("mid")
    assert SHOWER in "\n".join(servers.ask(sender, "can i take a shower tonight"))
    replies = servers.ask(sender, "what time is my follow-up? and my dad fainted in the hall")
    assert CALL_911 in replies[0] and PASSED_OUT in replies[0]
    assert TEST_CLINIC["CLINIC_CARE_TEAM_PHONE"] in replies[1]
    assert any(ALERTED in r for r in replies)
    assert FOLLOW_UP in replies[-1], "the other question is answered after the warning"
    [record] = wait_for_escalations(servers, sender, 1)
    assert (record.level, record.symptom, record.channel) == ("emergency", "passed_out", "rest")
    assert "fainted" in record.message_text
    # the care team's webhook gets a body signed over its raw bytes, and the on-call SMS
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not webhook_calls(care_team, sender):
        time.sleep(0.2)
    [(request, body)] = webhook_calls(care_team, sender)
    assert verify(request.body, request.header("X-Escalation-Signature"), WEBHOOK_SECRET)
    assert body["id"] == record.id and body["level"] == "emergency" and "fainted" in body["message"]
    # the very next question gets the warning again with its answer, and no second alert
    next_turn = "\n".join(servers.ask(sender, "i had it done yesterday, can i eat normally"))
    assert CALL_911 in next_turn and EAT_AFTER in next_turn and ALERTED not in next_turn
    # after that, ordinary questions get ordinary answers
    later = "\n".join(servers.ask(sender, "and can i have a shower tonight"))
    assert SHOWER in later and CALL_911 not in later
    time.sleep(1)
    assert len(escalations_of(servers, sender)) == 1


def test_a_second_warning_sign_escalates_again(servers: Servers) -> None:
    sender = conversation_id("twice")
    servers.ask(sender, "the needle site is leaking yellow pus")
    replies = servers.ask(sender, "now i cant move my left leg at all")
    assert CALL_911 in replies[0] and CANNOT_MOVE in replies[0]
    records = wait_for_escalations(servers, sender, 2)
    assert sorted(r.symptom for r in records) == ["cannot_move_limb", "site_infection"]


@pytest.mark.parametrize(
    "text",
    ["my temperature is normal, is a shower ok?", "who do I call if chills start later?"],
)
def test_negated_and_hypothetical_mentions_do_not_alert_the_care_team(servers: Servers, text: str) -> None:
    sender = conversation_id("calm")
    reply = "\n".join(servers.ask(sender, text))
    assert ALERTED not in reply and "This may be an emergency" not in reply
    assert escalations_of(servers, sender) == []


def test_the_same_message_delivered_twice_is_recorded_once(servers: Servers) -> None:
    sender = conversation_id("dup")
    for _ in range(2):
        replies = servers.ask(sender, "I passed out on the stairs", message_id="client-msg-1")
        assert CALL_911 in replies[0]
    servers.ask(sender, "I passed out on the stairs")  # resent without an id, seconds later
    records = wait_for_escalations(servers, sender, 1)
    time.sleep(1)
    assert len(escalations_of(servers, sender)) == len(records) == 1


def test_with_the_action_server_stopped_the_911_text_still_arrives(servers: Servers) -> None:
    sender = conversation_id("down")
    servers.stop("actions")
    try:
        replies = servers.ask(sender, "I passed out")
        assert CALL_911 in replies[0] and PASSED_OUT in replies[0]
        # a brand-new conversation still shows the clinic's own numbers, from the NLU
        # pipeline rather than a custom action
        assert TEST_CLINIC["CLINIC_CARE_TEAM_PHONE"] in replies[1]
        assert TEST_CLINIC["CLINIC_NURSE_LINE_PHONE"] in replies[1]
    finally:
        servers.start_actions()
    # the missed alert is recorded with the next escalation of the conversation
    servers.ask(sender, "and now my legs are numb")
    records = wait_for_escalations(servers, sender, 2)
    assert sorted(r.symptom for r in records) == ["nerve_symptoms", "passed_out"]


def test_with_the_action_server_hanging_the_911_text_arrives_at_once(servers: Servers) -> None:
    sender = conversation_id("hang")
    servers.pause("actions")
    try:
        started = time.monotonic()
        replies = servers.ask(sender, "my wife just blacked out", timeout=30)
        elapsed = time.monotonic() - started
    finally:
        servers.resume("actions")
    assert CALL_911 in replies[0] and PASSED_OUT in replies[0]
    assert elapsed < 10, f"the warning took {elapsed:.1f} s"


def test_with_the_webhook_down_the_escalation_is_stored_and_delivered_later(
    servers: Servers, care_team: Recorder
) -> None:
    sender = conversation_id("hook-down")
    care_team.stop()
    try:
        replies = servers.ask(sender, "i have a fever of 102")
        assert CALL_NOW in replies[0]
        assert any(ALERTED in r for r in replies), "the patient is told the alert is on its way"
        [record] = wait_for_escalations(servers, sender, 1)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            pending = escalations_of(servers, sender)[0].notifications
            if all(n.attempts >= 1 for n in pending):
                break
            time.sleep(0.2)
        assert {n.status for n in pending} == {"pending"}
        assert all(n.attempts >= 1 and n.last_error for n in pending)
    finally:
        care_team.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not webhook_calls(care_team, sender):
        time.sleep(0.3)
    assert [body["id"] for _, body in webhook_calls(care_team, sender)] == [record.id]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        statuses = {n.target: n.status for n in escalations_of(servers, sender)[0].notifications}
        if set(statuses.values()) == {"delivered"}:
            break
        time.sleep(0.3)
    assert statuses == {"webhook": "delivered", "sms": "delivered"}


CHECK_QUESTION = "Is any of this happening now"
CONFIRMED = "“Call 911 anytime you think you may need emergency care.”"


def test_feeling_unwell_is_asked_about_and_a_yes_alerts_the_care_team(servers: Servers) -> None:
    sender = conversation_id("unwell-yes")
    replies = servers.ask(sender, "i feel really rough, something is not right")
    assert CALL_911 in replies[0] and CHECK_QUESTION in replies[-1]
    assert escalations_of(servers, sender) == [], "asking is not alerting"
    replies = servers.ask(sender, "yes")
    assert CONFIRMED in replies[0] and any(ALERTED in r for r in replies)
    [record] = wait_for_escalations(servers, sender, 1)
    assert (record.level, record.symptom) == ("urgent", "unnamed_warning_sign")
    assert "something is not right" in record.message_text


def test_a_no_to_the_check_goes_back_to_questions(servers: Servers) -> None:
    sender = conversation_id("unwell-no")
    servers.ask(sender, "my dad seems really unwell tonight")
    replies = servers.ask(sender, "no, none of those")
    assert "If any of these starts, call straight away" in "\n".join(replies)
    assert SHOWER in "\n".join(servers.ask(sender, "can he have a shower"))
    assert escalations_of(servers, sender) == []


def test_a_warning_sign_inside_the_check_comes_first_and_ends_the_check(servers: Servers) -> None:
    sender = conversation_id("unwell-flag")
    servers.ask(sender, "i feel awful")
    replies = servers.ask(sender, "my husband just passed out")
    assert CALL_911 in replies[0] and PASSED_OUT in replies[0]
    [record] = wait_for_escalations(servers, sender, 1)
    assert record.symptom == "passed_out"
    # the check is over: a later "no" is an ordinary answer, not the check's
    assert CHECK_QUESTION not in "\n".join(servers.ask(sender, "no"))


def test_the_check_works_with_the_action_server_stopped(servers: Servers) -> None:
    sender = conversation_id("unwell-down")
    servers.stop("actions")
    try:
        assert CHECK_QUESTION in servers.ask(sender, "something is wrong with me")[-1]
        confirmed = servers.ask(sender, "yes")
        assert CONFIRMED in confirmed[0]
        assert TEST_CLINIC["CLINIC_CARE_TEAM_PHONE"] in confirmed[1], "the numbers, set with the check"
    finally:
        servers.start_actions()


def test_the_servers_logs_carry_no_message_text(servers: Servers) -> None:
    """Runs last in this module: nothing the patients above wrote is in the INFO logs."""
    logs = "\n".join(
        (servers.workdir / f"{name}.log").read_text(errors="replace") for name in ("rasa", "actions")
    )
    for text in (
        "fainted in the hall",
        "leaking yellow pus",
        "passed out on the stairs",
        "fever of 102",
        "something is not right",
        "blacked out",
        "+15550100999",
    ):
        assert text not in logs, f"{text!r} is in a server log"
