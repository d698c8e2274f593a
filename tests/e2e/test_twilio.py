"""The whole assistant over SMS: real Rasa and action servers, Twilio's API played by a
local recorder. A signed message is answered by SMS to the sender, a warning sign by SMS
escalates, and a forged request is refused with nothing processed."""

from __future__ import annotations

import random
import time
import urllib.parse
from typing import Dict, List

import pytest
import requests
from twilio.request_validator import RequestValidator

from devtools.recorder import Recorder
from escalations import EscalationStore
from tests.conftest import ON_CALL, TEST_CLINIC, Servers

pytestmark = pytest.mark.e2e

TOKEN = "e2e-token"  # the servers' TWILIO_AUTH_TOKEN (tests/conftest.py)
CLINIC_NUMBER = "+15550100000"
SHOWER = "You may shower if your doctor okays it."
CALL_911 = "“Call 911 anytime you think you may need emergency care. For example, call if:"


USED_NUMBERS: List[str] = []


def patient_number() -> str:
    number = "+1555" + "".join(random.choices("0123456789", k=7))
    USED_NUMBERS.append(number)
    return number


def webhook_url(servers: Servers) -> str:
    return f"http://127.0.0.1:{servers.rasa_port}/webhooks/twilio/webhook"


def text_in(
    servers: Servers, number: str, body: str, sid: str | None = None, sign: bool = True
) -> requests.Response:
    form = {
        "From": number,
        "To": CLINIC_NUMBER,
        "Body": body,
        "NumMedia": "0",
        "MessageSid": sid or f"SM{time.time_ns()}",
    }
    url = webhook_url(servers)
    headers = {
        "X-Twilio-Signature": RequestValidator(TOKEN if sign else "not-the-token").compute_signature(
            url, form
        )
    }
    return requests.post(url, data=form, headers=headers, timeout=60)


def sms_to(care_team: Recorder, number: str) -> List[Dict[str, str]]:
    forms = [dict(urllib.parse.parse_qsl(r.body.decode())) for r in care_team.by_path("/2010-04-01/")]
    return [f for f in forms if f.get("To") == number]


def wait_for_sms(care_team: Recorder, number: str, count: int, timeout: float = 20) -> List[Dict[str, str]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(sms_to(care_team, number)) < count:
        time.sleep(0.2)
    return sms_to(care_team, number)


def test_a_signed_question_is_answered_by_sms_with_the_quote(servers: Servers, care_team: Recorder) -> None:
    number = patient_number()
    resp = text_in(servers, number, "is a shower ok 2nite")
    assert resp.status_code == 200 and "<Response>" in resp.text
    replies = wait_for_sms(care_team, number, 1)
    bodies = "\n".join(r["Body"] for r in replies)
    assert SHOWER in bodies and "What to Expect at Home" in bodies
    assert all(r["From"] == CLINIC_NUMBER and len(r["Body"]) <= 1600 for r in replies)
    assert "**" not in bodies and "<" not in bodies


def test_a_warning_sign_by_sms_gets_911_first_and_alerts_the_care_team(
    servers: Servers, care_team: Recorder
) -> None:
    number = patient_number()
    assert text_in(servers, number, "my husband just fainted in the kitchen").status_code == 200
    replies = wait_for_sms(care_team, number, 3)
    assert CALL_911 in replies[0]["Body"] and "You passed out" in replies[0]["Body"]
    assert any(TEST_CLINIC["CLINIC_CARE_TEAM_PHONE"] in r["Body"] for r in replies)
    store = EscalationStore(servers.env["ESCALATION_DB_URL"])
    deadline = time.monotonic() + 10
    records = []
    while time.monotonic() < deadline and not records:
        records = [e for e in store.recent(limit=500) if e.conversation_id == number]
        time.sleep(0.2)
    [record] = records
    assert (record.level, record.symptom, record.channel) == ("emergency", "passed_out", "twilio")
    # the on-call SMS names the escalation, not the patient's words or number
    on_call = [r["Body"] for r in sms_to(care_team, ON_CALL)]
    assert any(f"#{record.id}" in body and "fainted" not in body for body in on_call)


def test_a_forged_signature_is_refused_and_nothing_is_processed(
    servers: Servers, care_team: Recorder
) -> None:
    number = patient_number()
    resp = text_in(servers, number, "I passed out", sign=False)
    assert resp.status_code == 403
    unsigned = requests.post(webhook_url(servers), data={"From": number, "Body": "I passed out"}, timeout=30)
    assert unsigned.status_code == 403
    time.sleep(1.0)
    assert sms_to(care_team, number) == []
    store = EscalationStore(servers.env["ESCALATION_DB_URL"])
    assert [e for e in store.recent(limit=500) if e.conversation_id == number] == []


def test_the_same_sms_delivered_twice_is_one_escalation(servers: Servers, care_team: Recorder) -> None:
    number = patient_number()
    for _ in range(2):
        assert (
            text_in(servers, number, "cant move my left leg at all", sid="SMtwice" + number[-7:]).status_code
            == 200
        )
    store = EscalationStore(servers.env["ESCALATION_DB_URL"])
    time.sleep(1.0)
    records = [e for e in store.recent(limit=500) if e.conversation_id == number]
    assert len(records) == 1 and records[0].level == "emergency"


def test_stop_then_start_by_sms(servers: Servers, care_team: Recorder) -> None:
    number = patient_number()
    assert text_in(servers, number, "STOP").status_code == 200
    assert "unsubscribed" in wait_for_sms(care_team, number, 1)[0]["Body"]
    assert text_in(servers, number, "can I drive home after").status_code == 200
    time.sleep(1.0)
    assert len(sms_to(care_team, number)) == 1, "nothing is sent after STOP"
    assert text_in(servers, number, "start").status_code == 200
    assert "subscribed again" in wait_for_sms(care_team, number, 2)[1]["Body"]


def test_the_logs_carry_no_phone_number_or_message(servers: Servers) -> None:
    """Runs last in this module: the numbers and words of the SMS above are not logged."""
    logs = "\n".join(
        (servers.workdir / f"{name}.log").read_text(errors="replace") for name in ("rasa", "actions")
    )
    assert USED_NUMBERS, "the tests above texted from some numbers"
    for text in [*USED_NUMBERS, *(n.lstrip("+") for n in USED_NUMBERS), "fainted in the kitchen", "2nite"]:
        assert text not in logs, f"{text!r} is in a server log"
