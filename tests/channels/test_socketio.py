"""The socket.io channel (channels/socketio.py) against the real Rasa server, as the website
widget uses it: bad input is answered and the server stays up, each bot message carries
its alert level, a reconnect (to another replica) gets the history from the shared tracker
store, and a message re-sent with the same message_id is answered and escalated once."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any, Dict, Iterator, List, Tuple

import aiohttp
import pytest
import requests
import socketio

from escalations import EscalationStore, EscalationView
from tests.conftest import TEST_CLINIC, Servers, conversation_id

pytestmark = pytest.mark.e2e

# python-engineio 4.15's asyncio client builds aiohttp.ClientWSTimeout (aiohttp >= 3.10);
# Rasa 3.6 pins aiohttp 3.9, whose ws_connect takes the same close timeout as a float.
# Only this test's client needs it: the server side does not use aiohttp.
if not hasattr(aiohttp, "ClientWSTimeout"):
    aiohttp.ClientWSTimeout = lambda ws_close=None, **_: ws_close

BATH = "Do not take a bath for the first 24"
HOME = "Medial Branch Neurotomy: What to Expect at Home"
CALL_911 = "“Call 911 anytime you think you may need emergency care."


class Chat:
    """One browser tab's worth of socket.io client, recording every event it receives."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.client = socketio.AsyncClient(reconnection=False)
        self.events: List[Tuple[str, Any]] = []
        self.session_id: str | None = None
        for name in ("session_confirm", "history", "bot_uttered", "input_error", "user_echo"):
            self.client.on(name, self._recorder(name))

    def _recorder(self, name: str) -> Any:
        async def record(data: Any = None) -> None:
            self.events.append((name, data))

        return record

    def of(self, name: str) -> List[Any]:
        return [data for event, data in self.events if event == name]

    async def wait_for(self, name: str, count: int = 1, timeout: float = 60) -> List[Any]:
        deadline = time.monotonic() + timeout
        while len(self.of(name)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"no {name!r} within {timeout} s; got {self.events!r}")
            await asyncio.sleep(0.05)
        return self.of(name)

    async def connect(self, session_id: Any = None) -> Dict[str, Any]:
        """Connects over the websocket transport only and asks for a session; returns the history."""
        await self.client.connect(self.base_url, transports=["websocket"], socketio_path="/socket.io")
        await self.client.emit("session_request", {"session_id": session_id})
        [self.session_id] = await self.wait_for("session_confirm")
        [history] = await self.wait_for("history")
        return history

    async def say(self, text: Any, message_id: str | None = None, **fields: Any) -> Tuple[Any, List[Dict]]:
        """Sends a user message; returns the acknowledgement (sent when the turn is over)
        and the bot messages of the turn."""
        seen = len(self.of("bot_uttered"))
        data: Any = text
        if not fields.pop("raw", False):
            data = {"message": text, "session_id": self.session_id, **fields}
            if message_id:
                data["message_id"] = message_id
        ack = await self.client.call("user_uttered", data, timeout=90)
        await asyncio.sleep(0.3)  # events emitted just before the ack
        return ack, self.of("bot_uttered")[seen:]

    async def close(self) -> None:
        await self.client.disconnect()


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def base_url(servers: Servers) -> str:
    return f"http://127.0.0.1:{servers.rasa_port}"


@pytest.fixture(scope="module")
def replica(servers: Servers) -> Iterator[str]:
    """A second Rasa server on the same tracker store and action server, like a second
    replica behind a load balancer without sticky sessions."""
    name = "rasa-socketio-replica"
    servers.start_rasa(name)
    try:
        yield f"http://127.0.0.1:{servers.replica_ports[name]}"
    finally:
        servers.stop(name)


def escalations_of(servers: Servers, sender: str) -> List[EscalationView]:
    store = EscalationStore(servers.env["ESCALATION_DB_URL"])
    return [e for e in store.recent(limit=500) if e.conversation_id == sender]


BAD_INPUT = [
    ("plain text, not an object", "not_an_object", True),
    (["a", "list"], "not_an_object", True),
    ({"message": 42}, "message_not_text", False),
    ({"message": None}, "message_not_text", False),
    ({"message": "   \n "}, "empty_message", False),
    ({"message": "x" * 20_001}, "message_too_long", False),
    ({"message": "can I shower?", "session_id": ["not", "a", "string"]}, "invalid_session", True),
    ({"message": "can I shower?", "session_id": "x" * 500}, "invalid_session", True),
    ({"message": "can I shower?", "session_id": ""}, "invalid_session", True),
]


def test_bad_input_gets_a_clear_answer_and_the_server_stays_up(servers: Servers) -> None:
    async def scenario() -> None:
        chat = Chat(base_url(servers))
        await chat.connect(conversation_id("sio-bad"))
        try:
            for data, code, raw in BAD_INPUT:
                if not raw:
                    data = {**data, "session_id": chat.session_id}
                errors_before = len(chat.of("input_error"))
                ack, replies = await chat.say(data, raw=True)
                assert ack == {"ok": False, "error": code, "message_id": None}, (data, ack)
                assert chat.of("input_error")[errors_before]["error"] == code
                [reply] = replies
                assert reply["metadata"] == {"error": code} and len(reply["text"]) > 20, reply
            # no data at all
            ack = await chat.client.call("user_uttered", timeout=30)
            assert ack["error"] == "not_an_object"
            # the same connection still answers a real question
            ack, replies = await chat.say("can I have a bath after it?")
            assert ack["ok"] is True and any(BATH in r["text"] for r in replies)
        finally:
            await chat.close()

    run(scenario())
    assert requests.get(base_url(servers) + "/", timeout=5).ok


def test_unusable_metadata_or_message_id_is_reported_and_the_message_still_answered(servers: Servers) -> None:
    async def scenario() -> None:
        chat = Chat(base_url(servers))
        await chat.connect(conversation_id("sio-meta"))
        try:
            for metadata in ("{not json", "[1, 2]", ["a"]):
                ack, replies = await chat.say("can I have a bath after it?", metadata=metadata)
                assert ack["ok"] is True
                assert chat.of("input_error")[-1]["error"] == "invalid_metadata"
                assert any(BATH in r["text"] for r in replies), "the valid message is not lost"
            ack, replies = await chat.say("can I have a bath after it?", message_id={"not": "an id"})
            assert ack["ok"] is True and chat.of("input_error")[-1]["error"] == "invalid_message_id"
            assert any(BATH in r["text"] for r in replies)
            ack, replies = await chat.say("can I have a bath?", metadata='{"display_text": "bath?"}')
            assert ack["ok"] is True and any(BATH in r["text"] for r in replies)
        finally:
            await chat.close()

    run(scenario())


def test_a_bad_session_id_on_connect_starts_a_new_conversation_and_says_so(servers: Servers) -> None:
    async def scenario() -> None:
        chat = Chat(base_url(servers))
        try:
            history = await chat.connect(session_id={"not": "a string"})
            assert chat.of("input_error")[0]["error"] == "new_session"
            assert isinstance(chat.session_id, str) and len(chat.session_id) == 32
            assert history == {"session_id": chat.session_id, "messages": []}
        finally:
            await chat.close()

    run(scenario())


def test_bot_messages_carry_the_alert_level_and_quotes_arrive_whole(servers: Servers) -> None:
    async def scenario() -> None:
        chat = Chat(base_url(servers))
        await chat.connect(conversation_id("sio-alert"))
        try:
            _, replies = await chat.say("can I have a bath after it?")
            [answer] = [r for r in replies if BATH in r["text"]]
            assert answer["alert"] is None and f"\n— {HOME}" in answer["text"], "one message, quote and title"
            _, replies = await chat.say("I passed out")
            assert replies[0]["alert"] == "emergency" and replies[0]["metadata"] == {"alert": "emergency"}
            assert CALL_911 in replies[0]["text"]
            assert replies[1]["metadata"] == {"contacts": True}
            assert TEST_CLINIC["CLINIC_CARE_TEAM_PHONE"] in replies[1]["text"]
            _, replies = await chat.say("i have a fever of 102")
            assert replies[0]["alert"] == "urgent"
        finally:
            await chat.close()

    run(scenario())


def test_a_reconnect_to_another_replica_gets_the_history_from_the_tracker_store(
    servers: Servers, replica: str
) -> None:
    session = conversation_id("sio-history")

    async def scenario() -> None:
        first = Chat(base_url(servers))
        assert (await first.connect(session))["messages"] == []
        await first.say("can I have a bath after it?", message_id="hist-1")
        await first.say("I passed out", message_id="hist-2")
        await first.say("yes", metadata={"display_text": "Yes, I did"})
        await first.close()

        second = Chat(replica)  # the page reloaded and reached the other server
        try:
            history = await second.connect(session)
            assert second.session_id == session
            messages = history["messages"]
            users = [(m["text"], m["message_id"]) for m in messages if m["sender"] == "user"]
            assert users[:2] == [("can I have a bath after it?", "hist-1"), ("I passed out", "hist-2")]
            assert users[2][0] == "Yes, I did", "a button's title is shown, not its payload"
            bots = [m for m in messages if m["sender"] == "bot"]
            assert any(BATH in m["text"] and m["alert"] is None for m in bots)
            [warning] = [m for m in bots if m["alert"]]
            assert warning["alert"] == "emergency" and CALL_911 in warning["text"]
            assert any(m["metadata"].get("contacts") for m in bots)
            assert [m["sender"] for m in messages][:2] == ["user", "bot"], "oldest first"
            # and the conversation goes on there, in the same tracker
            ack, replies = await second.say("can I shower tonight?")
            assert ack["ok"] and replies
        finally:
            await second.close()

    run(scenario())


def test_a_message_resent_with_its_id_is_answered_and_escalated_once(servers: Servers) -> None:
    session = conversation_id("sio-dedup")
    message_id = uuid.uuid4().hex

    async def scenario() -> None:
        chat = Chat(base_url(servers))
        await chat.connect(session)
        ack, replies = await chat.say("I passed out on the stairs", message_id=message_id)
        assert ack == {"ok": True, "message_id": message_id} and replies[0]["alert"] == "emergency"
        await chat.close()
        # the widget did not get the acknowledgement (say the connection dropped) and re-sends
        again = Chat(base_url(servers))
        try:
            await again.connect(session)
            ack, replies = await again.say("I passed out on the stairs", message_id=message_id)
            assert ack == {"ok": True, "message_id": message_id, "duplicate": True}
            assert replies == [], "already answered: the history has the answer"
        finally:
            await again.close()

    run(scenario())
    records = escalations_of(servers, session)
    assert len(records) == 1
    assert (records[0].channel, records[0].message_id) == ("socketio", message_id)


def test_a_resend_racing_the_first_delivery_is_still_recorded_once(servers: Servers) -> None:
    """Both copies arrive before either is saved: the escalation store's dedup by message_id."""
    session = conversation_id("sio-race")
    message_id = uuid.uuid4().hex

    async def scenario() -> None:
        tabs = [Chat(base_url(servers)), Chat(base_url(servers))]
        for tab in tabs:
            await tab.connect(session)
        try:
            acks = await asyncio.gather(
                *(tab.say("my leg is numb and i passed out", message_id=message_id) for tab in tabs)
            )
            assert all(ack["ok"] for ack, _ in acks)
        finally:
            for tab in tabs:
                await tab.close()

    run(scenario())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not escalations_of(servers, session):
        time.sleep(0.2)
    time.sleep(1)
    records = escalations_of(servers, session)
    assert len(records) == 1 and records[0].message_id == message_id


def test_the_logs_carry_no_message_text(servers: Servers) -> None:
    async def scenario() -> None:
        chat = Chat(base_url(servers))
        await chat.connect(conversation_id("sio-logs"))
        try:
            await chat.say("my private words about a purple giraffe")
            await chat.say({"message": "purple giraffe " * 2000, "session_id": chat.session_id}, raw=True)
        finally:
            await chat.close()

    run(scenario())
    logs = "\n".join(p.read_text(errors="replace") for p in servers.workdir.glob("rasa*.log"))
    assert "purple giraffe" not in logs


def test_the_history_is_the_last_hundred_messages_with_alert_levels() -> None:
    """history_of on a tracker built in memory: no server needed."""
    from rasa.shared.core.events import BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from channels.socketio import history_of

    events = []
    for i in range(60):
        events.append(UserUttered(f"question {i}", message_id=f"m{i}"))
        response = {"alert": "urgent"} if i == 59 else {}
        events.append(BotUttered(f"answer {i}", metadata={"metadata": response}))
    events.append(UserUttered("/affirm", metadata={"display_text": "Yes"}))
    history = history_of(DialogueStateTracker.from_events("h", events))
    assert len(history) == 100
    assert (history[0]["sender"], history[0]["text"]) == ("bot", "answer 10"), "121 messages: 21 go"
    assert history[1] == {**history[1], "sender": "user", "text": "question 11", "message_id": "m11"}
    assert history[-2]["alert"] == "urgent" and history[-4]["alert"] is None
    assert history[-1]["text"] == "Yes"
