"""Shared for the scale-out tests: real PostgreSQL and Redis, and two Rasa replicas on them."""

from __future__ import annotations

import os
from typing import Iterator

import pytest

from devtools.postgres import PostgresServer, PostgresUnavailable
from devtools.redis_server import RedisServer, RedisUnavailable
from tests.conftest import MODEL, TEST_CLINIC, Servers


@pytest.fixture(scope="package")
def postgres() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer("rasa").start()
    except PostgresUnavailable as error:
        pytest.fail(str(error))
    server.create_database()
    server.create_database("escalations")
    yield server
    server.remove()


@pytest.fixture(scope="package")
def redis_server() -> Iterator[RedisServer]:
    try:
        server = RedisServer().start()
    except RedisUnavailable as error:
        pytest.fail(str(error))
    yield server
    server.remove()


@pytest.fixture(scope="package")
def cluster(tmp_path_factory, postgres: PostgresServer, redis_server: RedisServer) -> Iterator[Servers]:
    """Replicas "a" and "b" and one action server, all on the shared stores."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train`")
    env = {
        **os.environ,
        **TEST_CLINIC,
        "TRACKER_STORE_URL": postgres.url,
        "REDIS_URL": redis_server.url,
        "ESCALATION_DB_URL": postgres.url.rsplit("/", 1)[0] + "/escalations",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "RASA_TELEMETRY_ENABLED": "false",
    }
    for variable in ("ESCALATION_WEBHOOK_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_NUMBER"):
        env.pop(variable, None)
    servers = Servers(tmp_path_factory.mktemp("cluster"), env)
    try:
        servers.start_actions()
        servers.start_rasa("a")
        servers.start_rasa("b")
        yield servers
    finally:
        servers.stop_all()


