"""Several Rasa replicas sharing a real PostgreSQL tracker store and a real Redis lock store.

Two Rasa servers on different ports and one action server, configured only through the
environment that endpoints.yml reads (TRACKER_STORE_URL, REDIS_URL, ESCALATION_DB_URL),
as in docker-compose.yml. `make test-scale` runs this module alone.
"""

from __future__ import annotations

import json
import threading
import time
from typing import List

import pytest
import requests
from sqlalchemy import create_engine, text

from devtools.postgres import PostgresServer
from devtools.redis_server import RedisServer
from escalations import EscalationStore
from tests.conftest import Servers, conversation_id

pytestmark = pytest.mark.scale

CALL_911 = "“Call 911 anytime you think you may need emergency care. For example, call if:"
EAT_AFTER = "You can eat your normal diet."
BEFORE_LABEL = "Before your procedure:"
DRIVE_AFTER = "After your procedure:\n“Have an adult friend or relative drive you.”"


def ask(cluster: Servers, replica: str, sender: str, message: str) -> str:
    return "\n".join(cluster.ask(sender, message, replica=replica))


def escalations_of(cluster: Servers, sender: str) -> List[str]:
    store = EscalationStore(cluster.env["ESCALATION_DB_URL"])
    return [e.level for e in store.recent(limit=1000) if e.conversation_id == sender]


def ensure_running(cluster: Servers) -> None:
    for name in ("actions", "a", "b"):
        if name not in cluster.processes:
            cluster.start_actions() if name == "actions" else cluster.start_rasa(name)


def test_a_conversation_alternating_between_replicas_keeps_its_state(cluster: Servers) -> None:
    sender = conversation_id("alternate")
    # before the phase is known, timing answers give both, labelled
    assert BEFORE_LABEL in ask(cluster, "a", sender, "what am i allowed to eat")
    ask(cluster, "b", sender, "i had the procedure done yesterday afternoon")
    answer = ask(cluster, "a", sender, "ok so food wise what can i have")
    assert EAT_AFTER in answer and BEFORE_LABEL not in answer, "replica a knows what b was told"
    assert CALL_911 in ask(cluster, "b", sender, "my wife fainted a minute ago")
    assert CALL_911 in ask(cluster, "a", sender, "now she passed out again")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(escalations_of(cluster, sender)) < 2:
        time.sleep(0.2)
    assert escalations_of(cluster, sender) == ["emergency", "emergency"]
    answer = ask(cluster, "b", sender, "is driving ok")
    assert DRIVE_AFTER in answer and BEFORE_LABEL not in answer


def test_stopping_a_replica_mid_conversation_loses_nothing(cluster: Servers) -> None:
    sender = conversation_id("failover")
    ask(cluster, "a", sender, "i got home from the ablation an hour ago")
    cluster.stop("a")
    try:
        answer = ask(cluster, "b", sender, "what can i eat now")
        assert EAT_AFTER in answer and BEFORE_LABEL not in answer
    finally:
        ensure_running(cluster)


def test_restarting_everything_keeps_every_conversation_and_escalation(cluster: Servers) -> None:
    sender = conversation_id("restart")
    ask(cluster, "a", sender, "had my nerve ablation this morning")
    assert CALL_911 in ask(cluster, "b", sender, "i cant move my right leg at all")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not escalations_of(cluster, sender):
        time.sleep(0.2)
    cluster.stop_all()
    ensure_running(cluster)
    answer = ask(cluster, "b", sender, "what can i eat")
    assert EAT_AFTER in answer and BEFORE_LABEL not in answer
    assert escalations_of(cluster, sender) == ["emergency"]


def _post(cluster: Servers, replica: str, sender: str, message: str) -> requests.Response:
    body = {"sender": sender, "message": message}
    return requests.post(cluster.rest_url_of(replica), json=body, timeout=60)


def _until_ok(cluster: Servers, replica: str, sender: str, message: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        response = _post(cluster, replica, sender, message)
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        time.sleep(1)


@pytest.mark.parametrize("service", ["redis", "postgres"])
def test_a_store_going_away_gives_a_clear_error_and_recovers(
    cluster: Servers, postgres: PostgresServer, redis_server: RedisServer, service: str
) -> None:
    sender = conversation_id(f"outage-{service}")
    ask(cluster, "a", sender, "i had the procedure yesterday")
    server = redis_server if service == "redis" else postgres
    server.stop()
    try:
        refused = _post(cluster, "b", sender, "what can i eat")
        assert refused.status_code == 503, refused.text
        body = refused.json()
        assert body["error"] == "unavailable" and "911" in body["text"]
    finally:
        server.start()
    recovered = _until_ok(cluster, "b", sender, "what can i eat")
    assert recovered.status_code == 200
    answer = "\n".join(m.get("text", "") for m in recovered.json())
    assert EAT_AFTER in answer and BEFORE_LABEL not in answer, "the conversation's state survived intact"
    # and the other replica agrees, turn for turn
    assert "You may shower if your doctor okays it." in ask(cluster, "a", sender, "shower ok?")


def test_concurrent_messages_to_one_conversation_are_processed_in_order(
    cluster: Servers, postgres: PostgresServer
) -> None:
    sender = conversation_id("concurrent")
    messages = [
        "can i shower tonight",
        "what is a facet joint",
        "how long does the relief last",
        "is it normal to be sore",
        "when can i go back to work",
        "do i need someone to drive me",
    ]
    results: dict = {}

    def send(i: int, message: str) -> None:
        results[i] = _post(cluster, "ab"[i % 2], sender, message).status_code

    threads = []
    for i, message in enumerate(messages):
        thread = threading.Thread(target=send, args=(i, message))
        thread.start()
        threads.append(thread)
        time.sleep(0.3)  # arrival order is the order to keep
    for thread in threads:
        thread.join(timeout=120)
    assert [results[i] for i in range(len(messages))] == [200] * len(messages)
    engine = create_engine(postgres.url, future=True)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT type_name, action_name, data FROM events WHERE sender_id = :s ORDER BY id"),
            {"s": sender},
        ).all()
    engine.dispose()
    turns: List[List[str]] = []
    for type_name, action_name, _data in rows:
        if type_name == "user":
            turns.append(["user"])
        elif turns:
            turns[-1].append(action_name if type_name == "action" else type_name)
    user_texts = [json.loads(data).get("text") for type_name, _, data in rows if type_name == "user"]
    assert user_texts == messages, "processed in arrival order"
    for turn in turns:
        assert turn.count("user") == 1 and turn[-1] == "action_listen", f"interleaved turn: {turn}"
