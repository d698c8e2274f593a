"""Rasa's REST channel, with a clear 400 for requests it cannot take.

Stock RestInput answers 200 to a body without a sender (filing the message under a shared
"default" conversation, mixing patients' histories) and 500 to a JSON list or an empty
body. This subclass keeps the same path (/webhooks/rest/webhook) and behaviour for valid
requests, and refuses the rest with a message saying what is wrong.
"""

from __future__ import annotations

from typing import Any, Dict

from rasa.core.channels.rest import RestInput
from sanic.exceptions import InvalidUsage as BadRequest
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request

MAX_SENDER_CHARS = 128
MAX_MESSAGE_CHARS = 20_000


def _body(request: Request) -> Dict[str, Any]:
    body = request.json  # Sanic answers 400 itself when the body is not JSON
    if not isinstance(body, dict):
        raise BadRequest('Send a JSON object: {"sender": "<conversation id>", "message": "<text>"}.')
    return body


class PatientRestInput(RestInput):
    """REST input that validates `sender` and `message` before Rasa sees them."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    async def _extract_sender(self, req: Request) -> str | None:
        sender = _body(req).get("sender")
        if not isinstance(sender, str) or not sender.strip():
            raise BadRequest('"sender" must be a non-empty string naming the conversation.')
        if len(sender) > MAX_SENDER_CHARS:
            raise BadRequest(f'"sender" must be at most {MAX_SENDER_CHARS} characters.')
        return sender

    def _extract_message(self, req: Request) -> str | None:
        message = _body(req).get("message")
        if not isinstance(message, str):
            raise BadRequest('"message" must be a string.')
        if len(message) > MAX_MESSAGE_CHARS:
            raise PayloadTooLarge(f'"message" must be at most {MAX_MESSAGE_CHARS} characters.')
        return message
