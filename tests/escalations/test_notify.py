"""What the care team's webhook and Twilio actually receive, checked on the wire."""

from __future__ import annotations

import asyncio
import base64
import json
from urllib.parse import parse_qs

from escalations.notify import SIGNATURE_HEADER, sign, verify
from escalations.worker import deliver_due
from tests.escalations.conftest import (
    CLINIC_NUMBER,
    ON_CALL_NUMBER,
    PATIENT_TEXT,
    SECRET,
    SID,
    TOKEN,
    escalation,
    settings_for,
)


def _deliver_one(recorder, url, make_store, **settings_options):
    settings = settings_for(recorder, url, **settings_options)
    store = make_store(url, targets=settings.targets)
    recorded = store.record(escalation(message_id="m1"))
    delivered = asyncio.run(deliver_due(store, settings))
    return store, recorded.escalation_id, delivered


def test_webhook_body_and_signature(recorder, sqlite_url, make_store):
    store, escalation_id, delivered = _deliver_one(recorder, sqlite_url, make_store, sms=False)
    assert delivered == 1
    [request] = recorder.requests
    assert (request.method, request.path) == ("POST", "/hook")
    assert request.header("Content-Type") == "application/json"
    body = json.loads(request.body)
    [row] = store.recent()
    assert body == {
        "id": escalation_id,
        "time": row.created_at.isoformat().replace("+00:00", "Z"),
        "conversation_id": "conv-1",
        "channel": "rest",
        "level": "emergency",
        "symptom": "saddle_numbness",
        "symptoms": ["saddle_numbness", "leg_weakness"],
        "message": PATIENT_TEXT,
    }
    assert body["time"].endswith("Z")
    # The receiver checks the signature against the raw bytes it got.
    header = request.header(SIGNATURE_HEADER)
    assert header.startswith("sha256=") and verify(request.body, header, SECRET)
    assert header == sign(request.body, SECRET)
    tampered = request.body.replace(b"emergency", b"routine")
    assert tampered != request.body and not verify(tampered, header, SECRET)
    assert not verify(request.body, header, "another secret")
    assert not verify(request.body, None, SECRET)
    assert [n.status for n in row.notifications] == ["delivered"]


def test_sms_goes_to_twilio_without_the_patients_words(recorder, sqlite_url, make_store):
    recorder.set_status(201)  # what Twilio answers on success
    _, escalation_id, delivered = _deliver_one(recorder, sqlite_url, make_store, webhook=False)
    assert delivered == 1
    [request] = recorder.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request.header("Content-Type").startswith("application/x-www-form-urlencoded")
    scheme, _, credentials = request.header("Authorization").partition(" ")
    assert scheme == "Basic" and base64.b64decode(credentials).decode() == f"{SID}:{TOKEN}"
    form = {k: v[0] for k, v in parse_qs(request.body.decode(), strict_parsing=True).items()}
    assert set(form) == {"To", "From", "Body"}
    assert (form["To"], form["From"]) == (ON_CALL_NUMBER, CLINIC_NUMBER)
    text = form["Body"]
    assert "EMERGENCY" in text and "saddle_numbness" in text
    assert f"#{escalation_id}" in text and "conv-1" in text and "escalation list" in text
    assert PATIENT_TEXT not in text and "legs" not in text and "wet" not in text
    assert len(text) <= 320


def test_both_targets_each_get_one_request(recorder, sqlite_url, make_store):
    store, _, delivered = _deliver_one(recorder, sqlite_url, make_store)
    assert delivered == 2
    assert sorted(r.path.split("/")[1] for r in recorder.requests) == ["2010-04-01", "hook"]
    assert asyncio.run(deliver_due(store, settings_for(recorder, sqlite_url))) == 0  # nothing left
    assert len(recorder.requests) == 2
