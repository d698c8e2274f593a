"""Sending one notification to the care team: a signed webhook or an SMS through Twilio.

Each sender makes exactly one attempt and reports the outcome; retrying is the worker's
job. Outcomes carry only an HTTP status or an error class, never the patient's words or
phone numbers, because they are stored in `last_error` and logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass

import aiohttp

from escalations.settings import SMS, WEBHOOK, Settings
from escalations.store import Due, iso

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Escalation-Signature"
ESCALATION_ID_HEADER = "X-Escalation-Id"
SMS_INSTRUCTION = "Check the escalation list now (python -m escalations list)."
MAX_CONVERSATION_CHARS = 64


@dataclass(frozen=True)
class Outcome:
    """The result of one attempt: delivered or not, the HTTP status, and a safe error text."""

    delivered: bool
    status: int | None = None
    error: str | None = None


def webhook_body(item: Due) -> bytes:
    """The webhook's JSON, serialised once: these exact bytes are signed and sent."""
    payload = {
        "id": item.escalation_id,
        "time": iso(item.created_at),
        "conversation_id": item.conversation_id,
        "channel": item.channel,
        "level": item.level,
        "symptom": item.symptom,
        "symptoms": list(item.symptoms),
        "message": item.message_text,
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(body: bytes, secret: str) -> str:
    """The signature header value: `sha256=` and the hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str | None, secret: str) -> bool:
    """For receivers: True only if `header` is the signature of exactly these bytes."""
    if not header or not secret:
        return False
    return hmac.compare_digest(sign(body, secret).encode("ascii"), header.strip().encode("utf-8", "replace"))


def sms_text(item: Due) -> str:
    """A short alert with no patient words: staff read the message in the escalation list."""
    conversation = item.conversation_id
    if len(conversation) > MAX_CONVERSATION_CHARS:
        conversation = conversation[: MAX_CONVERSATION_CHARS - 1] + "…"
    return (
        f"{item.level.upper()}: {item.symptom}. Escalation #{item.escalation_id}, "
        f"conversation {conversation}. {SMS_INSTRUCTION}"
    )


def _http_failure(status: int, detail: str = "") -> Outcome:
    return Outcome(False, status, f"HTTP {status}{detail}")


def _connection_failure(error: BaseException) -> Outcome:
    """The error class, plus aiohttp's text for connection errors (host and cause, no body)."""
    name = "Timeout" if isinstance(error, asyncio.TimeoutError) else type(error).__name__
    text = str(error) if isinstance(error, aiohttp.ClientConnectionError) else ""
    return Outcome(False, None, f"{name}: {text}" if text else name)


async def send_webhook(session: aiohttp.ClientSession, settings: Settings, item: Due) -> Outcome:
    """POSTs the signed escalation to the clinic's webhook; any 2xx counts as delivered."""
    if not settings.webhook_enabled or not settings.webhook_url or not settings.webhook_secret:
        return Outcome(False, None, "webhook is not configured (see the settings errors in the log)")
    body = webhook_body(item)
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(body, settings.webhook_secret),
        ESCALATION_ID_HEADER: str(item.escalation_id),
    }
    try:
        post = session.post(settings.webhook_url, data=body, headers=headers, allow_redirects=False)
        async with post as resp:
            await resp.read()
            if 200 <= resp.status < 300:
                return Outcome(True, resp.status)
            return _http_failure(resp.status)
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        return _connection_failure(error)


async def send_sms(session: aiohttp.ClientSession, settings: Settings, item: Due) -> Outcome:
    """Sends the alert to the on-call number through Twilio's Messages API."""
    if not settings.sms_enabled or not settings.twilio_account_sid or not settings.twilio_auth_token:
        return Outcome(False, None, "SMS is not configured (see the settings errors in the log)")
    form = {"To": settings.sms_to or "", "From": settings.twilio_number or "", "Body": sms_text(item)}
    auth = aiohttp.BasicAuth(settings.twilio_account_sid, settings.twilio_auth_token)
    try:
        post = session.post(settings.twilio_messages_url, data=form, auth=auth, allow_redirects=False)
        async with post as resp:
            raw = await resp.read()
            if 200 <= resp.status < 300:
                return Outcome(True, resp.status)
            return _http_failure(resp.status, _twilio_code(raw))
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        return _connection_failure(error)


def _twilio_code(raw: bytes) -> str:
    """Twilio's numeric error code, if any: its message text may quote phone numbers."""
    try:
        code = json.loads(raw).get("code")
    except (ValueError, AttributeError):
        return ""
    return f" (Twilio error {code})" if isinstance(code, int) else ""


SENDERS = {WEBHOOK: send_webhook, SMS: send_sms}


async def send(session: aiohttp.ClientSession, settings: Settings, item: Due) -> Outcome:
    """One attempt at whichever target this notification is for; never raises for I/O."""
    sender = SENDERS.get(item.target)
    if sender is None:
        return Outcome(False, None, f"unknown target {item.target!r}")
    return await sender(session, settings, item)


def new_session(settings: Settings) -> aiohttp.ClientSession:
    """An HTTP session whose every request is bounded by ESCALATION_HTTP_TIMEOUT_SECONDS."""
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=settings.http_timeout_seconds))
