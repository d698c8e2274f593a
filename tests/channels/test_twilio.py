"""The Twilio channel on a real Sanic server, with a local stand-in for Twilio's API.

The assistant behind it is a handler that records the messages it is given and replies
once, so these tests are about the channel: signatures, proxies, keywords, odd bodies.
The whole assistant over SMS is tested in tests/e2e/test_twilio.py.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from typing import Any, Awaitable, Callable, Dict, Iterator, List

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic
from twilio.request_validator import RequestValidator

from channels.sms_consent import ConsentStore
from channels.twilio import (
    EMPTY_MESSAGE,
    PICTURE_IGNORED,
    PICTURE_ONLY,
    PatientTwilioInput,
    TwilioSettings,
)
from devtools.recorder import Recorder
from devtools.servers import free_port

TOKEN = "unit-test-auth-token"
PATIENT = "+15550123456"
CLINIC_NUMBER = "+15550100000"
PUBLIC_URL = "https://clinic.example.org/webhooks/twilio/webhook"


@pytest.fixture()
def twilio_api() -> Iterator[Recorder]:
    with Recorder(status=201, body=b'{"sid": "SM1"}') as recorder:
        yield recorder


def settings(api: Recorder, **overrides: Any) -> TwilioSettings:
    values: Dict[str, Any] = {
        "account_sid": "AC0000000000000000000000000000unit",
        "auth_token": TOKEN,
        "number": CLINIC_NUMBER,
        "api_base_url": api.url,
    }
    values.update(overrides)
    return TwilioSettings(**values)


class Assistant:
    """Stands in for Rasa's message handler: records each message and answers once."""

    def __init__(self, reply: str = "An answer.") -> None:
        self.messages: List[UserMessage] = []
        self.reply = reply

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        await message.output_channel.send_response(message.sender_id, {"text": self.reply})


def sent_to(api: Recorder, number: str) -> List[Dict[str, str]]:
    forms = [dict(urllib.parse.parse_qsl(r.body.decode())) for r in api.by_path("/2010-04-01/")]
    return [f for f in forms if f.get("To") == number]


def run_channel(
    channel: PatientTwilioInput,
    assistant: Assistant,
    client: Callable[[str], Awaitable[None]],
) -> None:
    """Serves the channel's blueprint on a free port while `client(base_url)` runs."""

    async def main() -> None:
        Sanic.test_mode = True  # Sanic 21.12 rewrites its classes at start-up; test mode keeps the originals
        app = Sanic(f"twilio_test_{free_port()}")
        app.blueprint(channel.blueprint(assistant), url_prefix="/webhooks/twilio")
        port = free_port()
        server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
        await server.startup()
        try:
            await client(f"http://127.0.0.1:{port}")
        finally:
            await channel.sender.close()
            server.close()
            await server.wait_closed()

    asyncio.run(main())


async def post(
    url: str, form: Dict[str, str], signed_for: str | None = None, headers: Dict[str, str] | None = None
) -> aiohttp.ClientResponse:
    headers = dict(headers or {})
    if signed_for is not None:
        headers["X-Twilio-Signature"] = RequestValidator(TOKEN).compute_signature(signed_for, form)
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=form, headers=headers) as resp:
            resp.body_text = await resp.text()  # type: ignore[attr-defined]
            return resp


def message(text: str, **extra: str) -> Dict[str, str]:
    return {"From": PATIENT, "To": CLINIC_NUMBER, "Body": text, "MessageSid": "SMunit1", **extra}


@pytest.fixture()
def consent(tmp_path) -> ConsentStore:
    return ConsentStore(f"sqlite:///{tmp_path / 'consent.db'}")


def test_a_signed_message_reaches_the_assistant_and_the_reply_goes_back_by_sms(twilio_api, consent) -> None:
    channel = PatientTwilioInput(settings(twilio_api), consent=consent)
    assistant = Assistant()

    async def client(base: str) -> None:
        url = f"{base}/webhooks/twilio/webhook"
        resp = await post(url, message("can i shower"), signed_for=url)
        assert resp.status == 200 and "<Response>" in resp.body_text

    run_channel(channel, assistant, client)
    [received] = assistant.messages
    assert (received.text, received.sender_id, received.input_channel) == ("can i shower", PATIENT, "twilio")
    assert received.message_id == "SMunit1"
    [reply] = sent_to(twilio_api, PATIENT)
    assert reply == {"To": PATIENT, "From": CLINIC_NUMBER, "Body": "An answer."}


@pytest.mark.parametrize(
    "signature", [None, "", "bm90IGEgc2lnbmF0dXJl", "forged"], ids=["missing", "empty", "wrong", "garbage"]
)
def test_an_unsigned_or_forged_request_is_refused_and_nothing_is_processed(
    twilio_api, consent, signature
) -> None:
    channel = PatientTwilioInput(settings(twilio_api), consent=consent)
    assistant = Assistant()

    async def client(base: str) -> None:
        url = f"{base}/webhooks/twilio/webhook"
        headers = {} if signature is None else {"X-Twilio-Signature": signature}
        resp = await post(url, message("I passed out"), headers=headers)
        assert resp.status == 403

    run_channel(channel, assistant, client)
    assert assistant.messages == [] and twilio_api.requests == []


def test_a_signature_for_other_parameters_is_refused(twilio_api, consent) -> None:
    channel = PatientTwilioInput(settings(twilio_api), consent=consent)
    assistant = Assistant()

    async def client(base: str) -> None:
        url = f"{base}/webhooks/twilio/webhook"
        signature = RequestValidator(TOKEN).compute_signature(url, message("hello"))
        resp = await post(url, message("I passed out"), headers={"X-Twilio-Signature": signature})
        assert resp.status == 403

    run_channel(channel, assistant, client)
    assert assistant.messages == []


def test_without_credentials_the_endpoint_processes_nothing(twilio_api, consent) -> None:
    channel = PatientTwilioInput(settings(twilio_api, auth_token=None, account_sid=None), consent=consent)
    assistant = Assistant()

    async def client(base: str) -> None:
        url = f"{base}/webhooks/twilio/webhook"
        resp = await post(url, message("hello"), signed_for=url)
        assert resp.status == 403 and "not configured" in resp.body_text

    run_channel(channel, assistant, client)
    assert assistant.messages == [] and twilio_api.requests == []


def test_behind_a_proxy_the_public_url_is_validated(twilio_api, consent) -> None:
    assistant = Assistant()

    async def forwarded(base: str) -> None:
        url = f"{base}/webhooks/twilio/webhook"
        headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "clinic.example.org"}
        assert (await post(url, message("hi"), signed_for=PUBLIC_URL, headers=headers)).status == 200
        # signed for the public URL but sent without the proxy's headers: not what Twilio called
        assert (await post(url, message("hi"), signed_for=PUBLIC_URL)).status == 403

    run_channel(PatientTwilioInput(settings(twilio_api), consent=consent), assistant, forwarded)
    assert len(assistant.messages) == 1

    async def configured(base: str) -> None:
        url = f"{base}/webhooks/twilio/webhook"
        assert (await post(url, message("hi"), signed_for=PUBLIC_URL)).status == 200
        assert (await post(url, message("hi"), signed_for=url)).status == 403

    channel = PatientTwilioInput(settings(twilio_api, public_webhook_url=PUBLIC_URL), consent=consent)
    run_channel(channel, assistant, configured)
    assert len(assistant.messages) == 2


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"Body": ""}, EMPTY_MESSAGE),
        ({"Body": "   "}, EMPTY_MESSAGE),
        ({"Body": "", "NumMedia": "1", "MediaUrl0": "https://media.example/1.jpg"}, PICTURE_ONLY),
    ],
    ids=["empty", "blank", "picture-only"],
)
def test_an_empty_message_or_a_picture_gets_a_clear_answer(twilio_api, consent, form, expected) -> None:
    channel = PatientTwilioInput(settings(twilio_api), consent=consent)
    assistant = Assistant()

    async def client(base: str) -> None:
        url = f"{base}/webhooks/twilio/webhook"
        assert (await post(url, {"From": PATIENT, **form}, signed_for=url)).status == 200

    run_channel(channel, assistant, client)
    assert assistant.messages == []
    assert [m["Body"] for m in sent_to(twilio_api, PATIENT)] == [expected]


def test_a_picture_with_words_is_answered_then_the_picture_is_explained(twilio_api, consent) -> None:
    channel = PatientTwilioInput(settings(twilio_api), consent=consent)
    assistant = Assistant("The answer comes first.")

    async def client(base: str) -> None:
        url = f"{base}/webhooks/twilio/webhook"
        form = message("is this redness normal?", NumMedia="1", MediaUrl0="https://media.example/1.jpg")
        assert (await post(url, form, signed_for=url)).status == 200

    run_channel(channel, assistant, client)
    assert [m["Body"] for m in sent_to(twilio_api, PATIENT)] == ["The answer comes first.", PICTURE_IGNORED]


def test_a_body_without_a_sender_is_a_clear_400(twilio_api, consent) -> None:
    channel = PatientTwilioInput(settings(twilio_api), consent=consent)
    assistant = Assistant()

    async def client(base: str) -> None:
        url = f"{base}/webhooks/twilio/webhook"
        assert (await post(url, {}, signed_for=url)).status == 400

    run_channel(channel, assistant, client)
    assert assistant.messages == []


def test_stop_silences_replies_until_start_and_help_answers_with_the_clinic(twilio_api, consent) -> None:
    channel = PatientTwilioInput(settings(twilio_api), consent=consent)
    assistant = Assistant()

    async def client(base: str) -> None:
        url = f"{base}/webhooks/twilio/webhook"
        for text in ["Stop", "when can I drive?", "YES", "help", "what about a bath"]:
            assert (await post(url, message(text), signed_for=url)).status == 200

    run_channel(channel, assistant, client)
    bodies = [m["Body"] for m in sent_to(twilio_api, PATIENT)]
    assert "unsubscribed" in bodies[0] and "START" in bodies[0] and "911" in bodies[0]
    # the question after STOP is still processed (a warning sign would still alert the
    # care team) but nothing is sent back
    assert [m.text for m in assistant.messages] == ["when can I drive?", "what about a bath"]
    assert "subscribed again" in bodies[1]
    assert "STOP" in bodies[2] and "911" in bodies[2] and "care team" in bodies[2]
    assert bodies[3:] == ["An answer."] and len(bodies) == 4


def test_yes_from_a_subscribed_number_is_an_answer_not_a_keyword(twilio_api, consent) -> None:
    channel = PatientTwilioInput(settings(twilio_api), consent=consent)
    assistant = Assistant()

    async def client(base: str) -> None:
        url = f"{base}/webhooks/twilio/webhook"
        assert (await post(url, message("yes"), signed_for=url)).status == 200

    run_channel(channel, assistant, client)
    assert [m.text for m in assistant.messages] == ["yes"]


def test_a_failing_twilio_api_is_retried_then_given_up_without_crashing(twilio_api, consent) -> None:
    twilio_api.respond_with(503, 500)  # two failures, then the default 201
    channel = PatientTwilioInput(settings(twilio_api), consent=consent)
    assistant = Assistant()

    async def client(base: str) -> None:
        url = f"{base}/webhooks/twilio/webhook"
        assert (await post(url, message("hello"), signed_for=url)).status == 200

    run_channel(channel, assistant, client)
    assert len(sent_to(twilio_api, PATIENT)) == 3, "two failed attempts and one that got through"


def test_replies_do_not_wait_for_a_slow_twilio_api(twilio_api, consent) -> None:
    """The reply is sent on the event loop, so a second request is served meanwhile."""
    twilio_api.delay_seconds = 1.0
    channel = PatientTwilioInput(settings(twilio_api), consent=consent)
    assistant = Assistant()
    served: List[float] = []

    async def client(base: str) -> None:
        url = f"{base}/webhooks/twilio/webhook"
        loop = asyncio.get_running_loop()
        start = loop.time()
        slow = asyncio.ensure_future(post(url, message("first"), signed_for=url))
        await asyncio.sleep(0.2)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/webhooks/twilio/") as resp:
                assert resp.status == 200
                served.append(loop.time() - start)
        await slow

    run_channel(channel, assistant, client)
    assert served[0] < 0.9, "the health check waited for the SMS reply to be sent"
