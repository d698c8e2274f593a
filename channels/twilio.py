"""SMS through Twilio: Rasa's Twilio input, signed, non-blocking and shaped for a phone.

Mounted at /webhooks/twilio/webhook, the path Twilio's console is pointed at. Compared with
Rasa's stock `TwilioInput` it:

- refuses (403) any request without a valid `X-Twilio-Signature` (twilio's
  `RequestValidator`), and processes nothing at all until the credentials are configured:
  a forged request must never reach a patient's conversation or alert the care team;
- validates against the public URL Twilio called, which behind a proxy or load balancer is
  not the URL the server sees (`TWILIO_WEBHOOK_URL`, else `X-Forwarded-Proto`/`-Host`);
- sends replies with aiohttp to Twilio's Messages API (the stock channel uses twilio's
  blocking client inside the event loop), one message per reply, plain text, split at
  sentence boundaries into messages of at most 1,600 characters, in order;
- honours STOP / START / HELP, keeping opt-outs in SQL so every replica agrees;
- answers an empty message or a picture without crashing.

Credentials come from the environment only: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN,
TWILIO_NUMBER, and TWILIO_API_BASE_URL (tests point it at a local stand-in).
"""

from __future__ import annotations

import asyncio
import logging
import os
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from channels.rest import UNAVAILABLE
from channels.sms_consent import ConsentStore
from channels.sms_format import split_sms, with_choices

logger = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://api.twilio.com"
SIGNATURE_HEADER = "X-Twilio-Signature"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
DEFAULT_REPLY_WITHIN_SECONDS = 10.0  # Twilio gives up on a webhook after 15 s
SEND_ATTEMPTS = 3

# Twilio's standard keywords (Advanced Opt-Out defaults), matched on the whole message.
OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"})
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})

EMPTY_MESSAGE = "Your message was empty. Please type your question, for example: can I shower tonight?"
PICTURE_ONLY = (
    "I can only read text, not pictures. Please describe in words what you see or feel. "
    "If you are worried about the treatment site, call the care team."
)
PICTURE_IGNORED = "I can't see pictures, so I have answered your words only."


@dataclass(frozen=True)
class TwilioSettings:
    """Twilio's settings from the environment; secrets kept out of repr()."""

    account_sid: str | None = None
    auth_token: str | None = field(default=None, repr=False)
    number: str | None = field(default=None, repr=False)
    api_base_url: str = DEFAULT_API_BASE_URL
    public_webhook_url: str | None = None

    @classmethod
    def from_env(cls) -> TwilioSettings:
        env = os.environ
        return cls(
            account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
            auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
            number=env.get("TWILIO_NUMBER") or None,
            api_base_url=(env.get("TWILIO_API_BASE_URL") or DEFAULT_API_BASE_URL).rstrip("/"),
            public_webhook_url=env.get("TWILIO_WEBHOOK_URL") or None,
        )

    @property
    def configured(self) -> bool:
        """All three are needed: the token to check signatures, the rest to reply."""
        return bool(self.account_sid and self.auth_token and self.number)

    @property
    def messages_url(self) -> str:
        return f"{self.api_base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"


class SmsSender:
    """Posts messages to Twilio's API on the server's own event loop, with a few retries."""

    def __init__(self, settings: TwilioSettings, timeout_seconds: float = 10.0) -> None:
        self.settings = settings
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def send(self, to: str, body: str) -> bool:
        """One SMS; retried on connection errors, 429 and 5xx. Logs carry no number or text."""
        form = {"To": to, "From": self.settings.number or "", "Body": body}
        auth = aiohttp.BasicAuth(self.settings.account_sid or "", self.settings.auth_token or "")
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                async with self._client().post(self.settings.messages_url, data=form, auth=auth) as resp:
                    await resp.read()
                    if 200 <= resp.status < 300:
                        return True
                    retry = resp.status == 429 or resp.status >= 500
                    problem = f"HTTP {resp.status}"
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                retry, problem = True, type(error).__name__
            if not retry or attempt == SEND_ATTEMPTS:
                logger.error("An SMS reply could not be sent (%s, attempt %d).", problem, attempt)
                return False
            await asyncio.sleep(0.5 * 2 ** (attempt - 1))
        return False  # pragma: no cover - the loop always returns


class SmsOutput(OutputChannel):
    """Sends each reply as plain-text SMS to the number that wrote; silent after STOP."""

    @classmethod
    def name(cls) -> str:
        return "twilio"

    def __init__(self, sender: SmsSender, number: str, muted: bool = False) -> None:
        self.sender = sender
        self.number = number
        self.muted = muted
        self.sent: List[str] = []

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        if self.muted:
            logger.info("A reply was not sent: the number has opted out (STOP).")
            return
        for part in split_sms(text):
            if await self.sender.send(self.number, part):
                self.sent.append(part)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        """No buttons on a phone: the choices become words to type."""
        titles = [str(b.get("title", "")) for b in buttons]
        await self.send_text_message(recipient_id, with_choices(text, titles))

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """Nothing in this assistant sends pictures; never send a bare link by SMS."""

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        """As for pictures: SMS replies are text only."""

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        """Custom payloads are for other channels; their text, if any, is still sent."""
        text = json_message.get("text") if isinstance(json_message, dict) else None
        if isinstance(text, str) and text.strip():
            await self.send_text_message(recipient_id, text)


def _keyword(text: str) -> str:
    """The message as a keyword: one word, any case, trailing punctuation ignored."""
    return text.strip().strip(".!").upper()


def _form(request: Request) -> RequestParameters:
    """The form Twilio posted, blank values kept: Twilio signs an empty Body too, and
    Sanic's own `request.form` drops it."""
    if not request.content_type.startswith("application/x-www-form-urlencoded"):
        return RequestParameters()
    text = request.body.decode("utf-8", errors="replace")
    return RequestParameters(urllib.parse.parse_qs(text, keep_blank_values=True))


def _twiml() -> HTTPResponse:
    return response.text(EMPTY_TWIML, content_type="text/xml")


class PatientTwilioInput(InputChannel):
    """The Twilio SMS webhook: signed requests only, replies through the Messages API."""

    @classmethod
    def name(cls) -> str:
        return "twilio"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> PatientTwilioInput:
        """Secrets from the environment only; credentials.yml may set the reply wait."""
        credentials = credentials or {}
        wait = float(credentials.get("reply_within_seconds", DEFAULT_REPLY_WITHIN_SECONDS))
        return cls(TwilioSettings.from_env(), reply_within_seconds=wait)

    def __init__(
        self,
        settings: TwilioSettings,
        reply_within_seconds: float = DEFAULT_REPLY_WITHIN_SECONDS,
        consent: ConsentStore | None = None,
    ) -> None:
        self.settings = settings
        self.reply_within = reply_within_seconds
        self.sender = SmsSender(settings)
        self._consent = consent
        if not settings.configured:
            logger.warning(
                "Twilio is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_NUMBER): "
                "/webhooks/twilio/webhook refuses every request."
            )

    @property
    def consent(self) -> ConsentStore:
        if self._consent is None:
            self._consent = ConsentStore()
        return self._consent

    # -- signature --------------------------------------------------------------------

    def _candidate_urls(self, request: Request) -> List[str]:
        """The URL Twilio signed: the configured public URL, else what the proxy says, else
        what this server sees."""
        if self.settings.public_webhook_url:
            return [self.settings.public_webhook_url]
        path = request.path + (f"?{request.query_string}" if request.query_string else "")
        urls = []
        proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip()
        host = request.headers.get("x-forwarded-host", "").split(",")[0].strip()
        host = host or request.headers.get("host", "")
        if proto and host:
            urls.append(f"{proto}://{host}{path}")
        urls.append(request.url)
        return urls

    def is_signed(self, request: Request) -> bool:
        """True only for a request whose X-Twilio-Signature matches its URL and form."""
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature or not self.settings.auth_token:
            return False
        validator = RequestValidator(self.settings.auth_token)
        form = _form(request)
        return any(validator.validate(url, form, signature) for url in self._candidate_urls(request))

    # -- keywords ---------------------------------------------------------------------

    async def _handle_keyword(self, number: str, keyword: str) -> bool:
        """STOP, START and HELP, answered here and never passed to the assistant. A YES or
        START from a number that has not opted out is an ordinary answer ("yes" to "is any
        of this happening now?") and goes to the assistant."""
        clinic = _clinic_line()
        if keyword in OPT_OUT_KEYWORDS:
            await asyncio.to_thread(self.consent.opt_out, number)
            logger.info("An SMS number opted out (STOP).")
            await self.sender.send(
                number,
                "You have been unsubscribed and will get no more messages from this number. "
                f"Reply START to resubscribe. In an emergency call 911. {clinic}",
            )
            return True
        if keyword in OPT_IN_KEYWORDS and await asyncio.to_thread(self.consent.is_opted_out, number):
            await asyncio.to_thread(self.consent.opt_in, number)
            logger.info("An SMS number opted back in (START).")
            await self.sender.send(number, "You are subscribed again. Ask me about your procedure.")
            return True
        if keyword in HELP_KEYWORDS:
            await self.sender.send(
                number,
                "This is the clinic's assistant for questions about a medial branch neurotomy. "
                f"In an emergency call 911. {clinic} Reply STOP to unsubscribe. Msg&data rates may apply.",
            )
            return True
        return False

    # -- the webhook ------------------------------------------------------------------

    async def _process(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        form = _form(request)
        number = (form.get("From") or "").strip()
        if not number:
            return response.text("The request has no From number.", status=400)
        text = (form.get("Body") or "").strip()
        try:
            pictures = int(form.get("NumMedia") or 0)
        except ValueError:
            pictures = 0
        if await self._handle_keyword(number, _keyword(text)):
            return _twiml()
        muted = await asyncio.to_thread(self.consent.is_opted_out, number)
        output = SmsOutput(self.sender, number, muted=muted)
        if not text:
            await output.send_text_message(number, PICTURE_ONLY if pictures else EMPTY_MESSAGE)
            return _twiml()
        message = UserMessage(
            text, output, number, input_channel=self.name(), message_id=form.get("MessageSid") or None
        )
        turn = asyncio.ensure_future(self._turn(on_new_message, message, output, pictures))
        # Twilio gives up after 15 s; the replies go out through the API whenever they are
        # ready, so a slow turn just finishes in the background.
        await asyncio.wait({turn}, timeout=self.reply_within)
        return _twiml()

    async def _turn(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        message: UserMessage,
        output: SmsOutput,
        pictures: int,
    ) -> None:
        try:
            await on_new_message(message)
        except Exception as error:  # noqa: BLE001 - reported, and the server stays up
            logger.error("An SMS message failed: %s", type(error).__name__)
            if not output.sent:  # e.g. the conversation database is down: say so, safely
                await output.send_text_message(message.sender_id, UNAVAILABLE)
            return
        if pictures:  # after the answer, so a warning sign's instruction still comes first
            await output.send_text_message(message.sender_id, PICTURE_IGNORED)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("patient_twilio_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "configured": self.settings.configured})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.settings.configured:
                return response.text("SMS is not configured on this server.", status=403)
            if not self.is_signed(request):
                logger.warning("Refused a Twilio webhook request without a valid signature.")
                return response.text("Invalid or missing X-Twilio-Signature.", status=403)
            return await self._process(request, on_new_message)

        @webhook.listener("after_server_stop")
        async def close(*_: Any) -> None:
            await self.sender.close()

        return webhook

    def get_output_channel(self) -> OutputChannel | None:
        """No output without a number to write to (Rasa's external events)."""
        return None


def _clinic_line() -> str:
    """The clinic's name and numbers, from the one configuration place."""
    from actions.clinic import clinic as cached_clinic  # loaded once per process

    try:
        clinic = cached_clinic()
    except (OSError, ValueError):  # a broken clinic.yml must not break STOP or HELP
        return ""
    return (
        f"{clinic.clinic_name}: care team {clinic.care_team_phone}, "
        f"nurse advice line {clinic.nurse_line_phone}."
    )
