"""Shared test fixtures: the real Rasa and action servers with a test clinic's details."""

from __future__ import annotations

import os
import time
from typing import Iterator

import pytest

from devtools.servers import MODEL, PROJECT, Servers

__all__ = ["MODEL", "PROJECT", "Servers", "TEST_CLINIC", "conversation_id"]

TEST_CLINIC = {
    "CLINIC_NAME": "Test Spine Centre",
    "CLINIC_CARE_TEAM_PHONE": "555-0199",
    "CLINIC_NURSE_LINE_PHONE": "555-0188",
}


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """Both servers, started once for the end-to-end tests, with a test clinic's details."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does it for you)")
    env = {**os.environ, **TEST_CLINIC, "TF_CPP_MIN_LOG_LEVEL": "2", "RASA_TELEMETRY_ENABLED": "false"}
    running = Servers(tmp_path_factory.mktemp("servers"), env)
    try:
        running.start_actions()
        running.start_rasa()
        yield running
    finally:
        running.stop_all()


def conversation_id(name: str, suffix: str | None = None) -> str:
    """A conversation id unique to this test run, so reruns do not share history."""
    return f"{name}-{suffix or os.getpid()}-{time.time_ns()}"
