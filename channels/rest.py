"""Rasa's REST channel, with a clear 400 for requests it cannot take and a bounded wait.

Stock RestInput answers 200 to a body without a sender (filing the message under a shared
"default" conversation, mixing patients' histories) and 500 to a JSON list or an empty
body. This subclass keeps the same path (/webhooks/rest/webhook) and behaviour for valid
requests, and refuses the rest with a message saying what is wrong.

It also never lets a slow action server hold back what the assistant has already said: a
warning sign's instruction is a static response, produced before any custom action runs.
When the turn is still running after `partial_reply_after_seconds` (default 3), the reply
returns what was said so far and a note; the turn finishes in the background and is kept
in the conversation. An optional `message_id` in the body is passed on, so a message the
client sends twice is recognisable as the same one (the escalation store records it once).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage as BadRequest
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse

from stores.strict import unwrap_fail_safe

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 128
MAX_MESSAGE_CHARS = 20_000
DEFAULT_PARTIAL_REPLY_AFTER = 3.0
UNAVAILABLE = (
    "Sorry, I can't answer right now. Please try again in a minute. If this is an emergency, "
    "call 911; if you feel unwell, call your doctor or nurse advice line now."
)
STILL_WORKING = (
    "Part of my answer is taking longer than usual. If you asked something else too, "
    "please ask it again in a minute."
)


def _body(request: Request) -> Dict[str, Any]:
    body = request.json  # Sanic answers 400 itself when the body is not JSON
    if not isinstance(body, dict):
        raise BadRequest('Send a JSON object: {"sender": "<conversation id>", "message": "<text>"}.')
    return body


def _bounded_text(body: Dict[str, Any], key: str, limit: int, required: bool) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f'"{key}" must be a non-empty string.')
    if len(value) > limit:
        raise BadRequest(f'"{key}" must be at most {limit} characters.')
    return value


class PatientRestInput(RestInput):
    """REST input that validates its input and answers within a bounded time."""

    def __init__(self, partial_reply_after_seconds: float = DEFAULT_PARTIAL_REPLY_AFTER) -> None:
        self.partial_reply_after = float(partial_reply_after_seconds)

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> PatientRestInput:
        """Reads `partial_reply_after_seconds` from credentials.yml, if given."""
        credentials = credentials or {}
        return cls(credentials.get("partial_reply_after_seconds", DEFAULT_PARTIAL_REPLY_AFTER))

    async def _extract_sender(self, req: Request) -> str | None:
        return _bounded_text(_body(req), "sender", MAX_SENDER_CHARS, required=True)

    def _extract_message(self, req: Request) -> str | None:
        message = _body(req).get("message")
        if not isinstance(message, str):
            raise BadRequest('"message" must be a string.')
        if len(message) > MAX_MESSAGE_CHARS:
            raise PayloadTooLarge(f'"message" must be at most {MAX_MESSAGE_CHARS} characters.')
        return message

    async def _reply(
        self, handle: Awaitable[Any], collector: CollectingOutputChannel, sender_id: str
    ) -> HTTPResponse:
        """Waits for the turn, but not past the deadline once something has been said."""
        turn = asyncio.ensure_future(handle)
        done, _ = await asyncio.wait({turn}, timeout=self.partial_reply_after)
        if not done and not collector.messages:
            await asyncio.wait({turn})  # nothing to show yet: wait for the first words
            done = {turn} if turn.done() else set()
        if turn in done:
            if not turn.cancelled() and turn.exception() is not None:
                logger.error("A REST message failed: %s", type(turn.exception()).__name__)
                if not collector.messages:
                    # e.g. the conversation database or the lock store is down: say so, with
                    # the safety line, and let the client send the message again later
                    body = {"error": "unavailable", "text": UNAVAILABLE}
                    return response.json(body, status=503, headers={"Retry-After": "30"})
            return response.json(collector.messages)
        logger.warning("A turn took over %.1f s; sent what it had said so far.", self.partial_reply_after)
        turn.add_done_callback(lambda t: t.cancelled() or t.exception())  # keep errors out of the loop log
        return response.json([*collector.messages, {"recipient_id": sender_id, "text": STILL_WORKING}])

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The stock routes and streaming; the plain reply through `_reply`."""
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.listener("after_server_start")
        async def strict_tracker_store(app: Any, _: Any) -> None:
            # Once per server: a database outage must be an error, not a forgotten
            # conversation (stores/strict.py). The agent is loaded before the server starts.
            unwrap_fail_safe(getattr(app.ctx, "agent", None))

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            sender_id = await self._extract_sender(request)
            text = self._extract_message(request)
            message_id = _bounded_text(_body(request), "message_id", MAX_SENDER_CHARS, required=False)
            input_channel = self._extract_input_channel(request)
            metadata = self.get_metadata(request)
            if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
                stream = self.stream_response(on_new_message, text, sender_id, input_channel, metadata)
                return response.stream(stream, content_type="text/event-stream")
            collector = CollectingOutputChannel()
            message = UserMessage(
                text,
                collector,
                sender_id,
                input_channel=input_channel,
                message_id=message_id,
                metadata=metadata,
            )
            return await self._reply(on_new_message(message), collector, sender_id)

        return webhook
