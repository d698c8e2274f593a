"""Shared test fixtures: the real Rasa and action servers with a test clinic's details."""

from __future__ import annotations

import os
import time
from typing import Iterator

import pytest

from devtools.recorder import Recorder
from devtools.servers import MODEL, PROJECT, Servers

__all__ = ["MODEL", "PROJECT", "Servers", "TEST_CLINIC", "WEBHOOK_SECRET", "conversation_id"]

TEST_CLINIC = {
    "CLINIC_NAME": "Test Spine Centre",
    "CLINIC_CARE_TEAM_PHONE": "555-0199",
    "CLINIC_NURSE_LINE_PHONE": "555-0188",
}


WEBHOOK_SECRET = "e2e-webhook-secret"
ON_CALL = "+15550100999"


@pytest.fixture(scope="session")
def care_team() -> Iterator[Recorder]:
    """A local stand-in for the clinic's escalation webhook and for Twilio's API."""
    with Recorder() as recorder:
        yield recorder


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory, care_team: Recorder) -> Iterator[Servers]:
    """Both servers, started once for the end-to-end tests, with a test clinic's details,
    an escalation database of their own, and the care team's stand-in webhook and SMS."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does it for you)")
    workdir = tmp_path_factory.mktemp("servers")
    escalation_env = {
        "ESCALATION_DB_URL": f"sqlite:///{workdir / 'escalations.db'}",
        "ESCALATION_WEBHOOK_URL": f"{care_team.url}/escalations",
        "ESCALATION_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "ESCALATION_RETRY_BASE_SECONDS": "0.3",
        "ESCALATION_RETRY_MAX_SECONDS": "1",
        "TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000e2e",
        "TWILIO_AUTH_TOKEN": "e2e-token",
        "TWILIO_NUMBER": "+15550100000",
        "ESCALATION_SMS_TO": ON_CALL,
        "TWILIO_API_BASE_URL": care_team.url,
    }
    env = {
        **os.environ, **TEST_CLINIC, **escalation_env,
        "TF_CPP_MIN_LOG_LEVEL": "2", "RASA_TELEMETRY_ENABLED": "false",
    }
    running = Servers(workdir, env)
    try:
        running.start_actions()
        running.start_rasa()
        yield running
    finally:
        running.stop_all()


def conversation_id(name: str, suffix: str | None = None) -> str:
    """A conversation id unique to this test run, so reruns do not share history."""
    return f"{name}-{suffix or os.getpid()}-{time.time_ns()}"
