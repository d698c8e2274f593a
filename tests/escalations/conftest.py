"""Fixtures for the escalation tests: real SQLite files, a real PostgreSQL server, and a
local HTTP recorder standing in for the clinic's webhook and Twilio."""

from __future__ import annotations

from typing import Callable, Dict, Iterator, List

import pytest

from devtools.recorder import Recorder
from escalations.settings import Settings, load_settings
from escalations.store import EscalationStore, NewEscalation

SECRET = "test-webhook-secret"
SID = "AC00000000000000000000000000000001"
TOKEN = "test-auth-token"
CLINIC_NUMBER = "+15550100000"
ON_CALL_NUMBER = "+15550199999"
PATIENT_TEXT = "I suddenly can't feel my legs and I wet myself"


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'escalations.db'}"


@pytest.fixture
def make_store() -> Iterator[Callable[..., EscalationStore]]:
    """Builds stores and disposes of their connections after the test."""
    made: List[EscalationStore] = []

    def make(url: str, **options) -> EscalationStore:
        store = EscalationStore(url, **options)
        made.append(store)
        return store

    yield make
    for store in made:
        store.dispose()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    with Recorder() as running:
        yield running


def settings_for(recorder: Recorder | None, db_url: str, *, webhook: bool = True, sms: bool = True,
                 **extra: str) -> Settings:
    """Settings as the environment would give them, aimed at the recorder, with fast retries."""
    env: Dict[str, str] = {
        "ESCALATION_DB_URL": db_url,
        "ESCALATION_RETRY_BASE_SECONDS": "0.2",
        "ESCALATION_RETRY_MAX_SECONDS": "1",
        "ESCALATION_HTTP_TIMEOUT_SECONDS": "2",
    }
    if recorder is not None and webhook:
        env |= {"ESCALATION_WEBHOOK_URL": recorder.url + "/hook", "ESCALATION_WEBHOOK_SECRET": SECRET}
    if recorder is not None and sms:
        env |= {
            "TWILIO_ACCOUNT_SID": SID,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_NUMBER": CLINIC_NUMBER,
            "ESCALATION_SMS_TO": ON_CALL_NUMBER,
            "TWILIO_API_BASE_URL": recorder.url,
        }
    env |= extra
    return load_settings(env)


def settings_env(settings: Settings, db_url: str) -> Dict[str, str]:
    """The environment that gives a separate process (CLI, action server) these settings."""
    return {
        "ESCALATION_DB_URL": db_url,
        "ESCALATION_WEBHOOK_URL": settings.webhook_url or "",
        "ESCALATION_WEBHOOK_SECRET": settings.webhook_secret or "",
        "TWILIO_ACCOUNT_SID": settings.twilio_account_sid or "",
        "TWILIO_AUTH_TOKEN": settings.twilio_auth_token or "",
        "TWILIO_NUMBER": settings.twilio_number or "",
        "ESCALATION_SMS_TO": settings.sms_to or "",
        "TWILIO_API_BASE_URL": settings.twilio_api_base_url,
    }


def escalation(conversation_id: str = "conv-1", text: str = PATIENT_TEXT, **fields) -> NewEscalation:
    """A red-flag escalation as the action would build it."""
    values = {
        "level": "emergency",
        "symptom": "saddle_numbness",
        "symptoms": ["saddle_numbness", "leg_weakness"],
        "channel": "rest",
    }
    values |= fields
    return NewEscalation(conversation_id=conversation_id, message_text=text, **values)
