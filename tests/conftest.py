"""Shared test fixtures: the real Rasa and action servers with a test clinic's details."""

from __future__ import annotations

import itertools
import os
import time
from typing import Iterator

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url

from devtools.postgres import PostgresUnavailable, postgres_server
from devtools.recorder import Recorder
from devtools.servers import MODEL, PROJECT, Servers

__all__ = ["MODEL", "PROJECT", "Servers", "TEST_CLINIC", "WEBHOOK_SECRET", "conversation_id"]

TEST_CLINIC = {
    "CLINIC_NAME": "Test Spine Centre",
    "CLINIC_CARE_TEAM_PHONE": "555-0199",
    "CLINIC_NURSE_LINE_PHONE": "555-0188",
}


_databases = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One real PostgreSQL server for the whole run; missing binaries fail, never skip."""
    try:
        with postgres_server() as url:
            yield url
    except PostgresUnavailable as error:
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def postgres_admin(postgres_url: str) -> Iterator[Engine]:
    engine = create_engine(postgres_url, future=True, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A fresh, empty database on each backend (a new PostgreSQL database per test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'escalations.db'}"
        return
    admin: Engine = request.getfixturevalue("postgres_admin")
    name = f"t_{next(_databases)}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    yield make_url(request.getfixturevalue("postgres_url")).set(database=name).render_as_string(
        hide_password=False
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")


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
