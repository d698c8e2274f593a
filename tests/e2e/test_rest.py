"""The real servers answer over REST: quotes, timing, several questions, bad input, restarts."""

from __future__ import annotations

import json

import pytest

from tests.conftest import TEST_CLINIC, Servers, conversation_id

pytestmark = pytest.mark.e2e

SHOWER = "You may shower if your doctor okays it."
HOME_TITLE = "— Medial Branch Neurotomy: What to Expect at Home"
EAT_BEFORE = "Follow any directions you are given for not eating or drinking before treatment."
EAT_AFTER = "You can eat your normal diet."
WORK = "go back to work"


def joined(replies: list[str]) -> str:
    return "\n".join(replies)


def test_a_lay_question_with_typos_gets_the_handout_quote_and_title(servers: Servers) -> None:
    reply = joined(servers.ask(conversation_id("shower"), "is a shower ok 2nite"))
    assert f"“{SHOWER}" in reply and HOME_TITLE in reply


def test_timing_question_gives_both_answers_until_the_patient_says_which(servers: Servers) -> None:
    sender = conversation_id("timing")
    first = servers.ask(sender, "am i allowed to eat anything")
    assert len(first) == 1 and EAT_BEFORE in first[0] and EAT_AFTER in first[0]
    ack = joined(servers.ask(sender, "i had the procedure done this morning"))
    assert EAT_AFTER in ack and EAT_BEFORE not in ack
    later = joined(servers.ask(sender, "what about food"))
    assert EAT_AFTER in later and EAT_BEFORE not in later


def test_a_message_with_two_questions_gets_both_answers(servers: Servers) -> None:
    message = "can i shower tonight and when can i go back to work?"
    reply = joined(servers.ask(conversation_id("two"), message))
    assert SHOWER in reply and WORK in reply


def test_out_of_scope_is_refused_honestly_with_the_configured_number(servers: Servers) -> None:
    reply = joined(servers.ask(conversation_id("cost"), "how much will my insurance pay for this"))
    assert "can't answer" in reply
    assert TEST_CLINIC["CLINIC_CARE_TEAM_PHONE"] in reply
    assert SHOWER not in reply and EAT_AFTER not in reply


def test_greeting_names_the_configured_clinic_once_an_action_has_run(servers: Servers) -> None:
    sender = conversation_id("hi")
    first = joined(servers.ask(sender, "hello"))
    assert "Hello!" in first and "None" not in first and "{" not in first
    servers.ask(sender, "can i take a shower")
    assert TEST_CLINIC["CLINIC_NAME"] in joined(servers.ask(sender, "hi again"))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "x" * 10_000,
        "🙂🙏😬",
        "¿Puedo ducharme esta noche?",
        "<script>alert('x')</script>",
        "a\u0000b",
    ],
)
def test_odd_messages_get_a_clear_reply_and_the_server_keeps_serving(servers: Servers, text: str) -> None:
    sender = conversation_id("odd")
    response = servers.post_raw(json.dumps({"sender": sender, "message": text}).encode())
    assert response.status_code == 200 or 400 <= response.status_code < 500
    if response.status_code == 200 and text.strip():
        replies = [m.get("text", "") for m in response.json()]
        assert replies and all(replies), f"no reply to {text[:40]!r}"
        assert "<script>" not in joined(replies)
    assert SHOWER in joined(servers.ask(sender, "can I take a shower"))


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"sender": "x"}',
        b'{"message": "hi"}',
        b"",
        b'{"sender": "x", "message": "hi", "message_id": 7}',
        b'{"sender": "x", "message": "hi", "message_id": ""}',
    ],
)
def test_malformed_requests_get_a_4xx_and_the_server_keeps_serving(servers: Servers, body: bytes) -> None:
    response = servers.post_raw(body)
    assert 400 <= response.status_code < 500, response.status_code
    assert SHOWER in joined(servers.ask(conversation_id("after-bad"), "can I take a shower"))


def test_a_conversation_survives_a_restart_of_both_servers(servers: Servers) -> None:
    sender = conversation_id("restart")
    servers.ask(sender, "i already had my ablation yesterday")
    servers.stop_all()
    servers.start_actions()
    servers.start_rasa()
    reply = joined(servers.ask(sender, "can i eat normally"))
    assert EAT_AFTER in reply and EAT_BEFORE not in reply
