"""Rasa's socket.io channel for the website widget: validated input, history, alert levels.

The stock SocketIOInput crashes its handler on a message that is not a JSON object or whose
metadata is not JSON, silently ignores a message without a session id, drops the client's
message id, and sends bot messages without the response's metadata. This subclass keeps the
same name ("socketio", so the path stays /socket.io) and events, and:

- answers anything it cannot take with a clear bot message and an `input_error` event (and
  the acknowledgement, when the client asked for one) instead of crashing, and processes a
  valid message even when its metadata or message id is unusable;
- passes the client's `message_id` on to Rasa (the escalation store records a message once
  per id), and does not process again a message whose id is already in the conversation, so
  a message re-sent after a reconnect is answered and escalated once;
- after `session_confirm`, emits `history`: the conversation's last user and bot messages,
  read from the agent's tracker store (shared by every replica, so a reload that lands on
  another server still sees the conversation), each bot message with its alert level;
- sends each bot message with the response's `metadata` (`{"alert": "emergency"}` on a
  warning), so the widget shows an escalation without parsing text.

The acknowledgement of a user message comes when its turn is over, so the widget knows
when to stop showing "typing" and when a queued message has been delivered.
Nothing at INFO level carries message text.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any, Awaitable, Callable, Dict, List

import rasa.core.channels.channel
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from channels.rest import MAX_MESSAGE_CHARS, MAX_SENDER_CHARS

logger = logging.getLogger(__name__)

HISTORY_LIMIT = 100
INPUT_ERROR_EVT = "input_error"
HISTORY_EVT = "history"
USER_ECHO_EVT = "user_echo"

# What the patient is told when a message cannot be taken; keyed by error code.
ERRORS = {
    "not_an_object": "Sorry, I could not read that message. Please type your question again.",
    "message_not_text": "Sorry, I could not read that message. Please type your question as text.",
    "empty_message": "Your message was empty. Please type your question.",
    "message_too_long": (
        f"Your message is too long for me (more than {MAX_MESSAGE_CHARS:,} characters). "
        "Please send a shorter message."
    ),
    "invalid_session": (
        "Sorry, I lost track of this conversation. Please reload the page and ask again."
    ),
    "new_session": "I could not continue the earlier conversation, so this is a new one.",
    "invalid_metadata": "",  # the message was still processed: nothing to tell the patient
    "invalid_message_id": "",
}


class InputError(ValueError):
    """A user message the channel cannot take, with a code the client can act on."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _short_text(value: Any, limit: int = MAX_SENDER_CHARS) -> bool:
    return isinstance(value, str) and 0 < len(value.strip()) and len(value) <= limit


def response_metadata(kwargs: Dict[str, Any]) -> Dict[str, Any]:
    """The `metadata` of the domain response (or custom action message) being sent."""
    metadata = kwargs.get("metadata")
    return dict(metadata) if isinstance(metadata, dict) else {}


def bot_message(text: str, metadata: Dict[str, Any]) -> Dict[str, Any]:
    """One bot message as the widget receives it, live and in the history alike."""
    return {"text": text, "metadata": metadata, "alert": metadata.get("alert")}


def _quick_replies(buttons: Any) -> List[Dict[str, str]]:
    return [
        {"content_type": "text", "title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
        for b in buttons or []
        if isinstance(b, dict)
    ]


def history_of(tracker: DialogueStateTracker | None, limit: int = HISTORY_LIMIT) -> List[Dict[str, Any]]:
    """The last `limit` user and bot messages of a conversation, oldest first."""
    if tracker is None:
        return []
    items: List[Dict[str, Any]] = []
    for event in tracker.events:
        if isinstance(event, UserUttered) and event.text:
            meta = event.metadata if isinstance(event.metadata, dict) else {}
            shown = meta.get("display_text")
            items.append({
                "sender": "user",
                "text": shown if isinstance(shown, str) and shown else event.text,
                "message_id": event.message_id,
                "timestamp": event.timestamp,
            })
        elif isinstance(event, BotUttered) and event.text:
            message = bot_message(event.text, response_metadata(event.metadata or {}))
            message.update(sender="bot", timestamp=event.timestamp)
            replies = _quick_replies((event.data or {}).get("buttons"))
            if replies:
                message["quick_replies"] = replies
            items.append(message)
    return items[-limit:]


class PatientSocketIOOutput(SocketIOOutput):
    """Sends each bot message whole (quotes span lines) with the response's metadata."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send_message(recipient_id, bot_message(text.strip(), response_metadata(kwargs)))

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        message = bot_message(text.strip(), response_metadata(kwargs))
        message["quick_replies"] = _quick_replies(buttons)
        await self._send_message(recipient_id, message)


class PatientSocketIOInput(SocketIOInput):
    """socket.io input that validates, remembers message ids and replays the history."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._app: Sanic | None = None

    def get_output_channel(self) -> OutputChannel | None:
        """The output channel for events not started by a message (as the stock one)."""
        if self.sio is None:
            return super().get_output_channel()
        return PatientSocketIOOutput(self.sio, self.bot_message_evt)

    # -- the tracker store ------------------------------------------------------------

    def _tracker_store(self) -> Any:
        agent = getattr(self._app.ctx, "agent", None) if self._app else None
        return getattr(agent, "tracker_store", None)

    async def _history(self, session_id: str) -> Dict[str, Any]:
        """The conversation so far, from the tracker store every replica shares."""
        store = self._tracker_store()
        if store is None:
            return {"session_id": session_id, "messages": [], "error": "history_unavailable"}
        try:
            tracker = await store.retrieve_full_tracker(session_id)
        except Exception as error:  # a database hiccup must not break the connection
            logger.warning("Could not read the history of a conversation: %s", type(error).__name__)
            return {"session_id": session_id, "messages": [], "error": "history_unavailable"}
        return {"session_id": session_id, "messages": history_of(tracker)}

    async def _already_received(self, session_id: str, message_id: str) -> bool:
        """Whether this conversation already holds a message with this id (a re-send)."""
        store = self._tracker_store()
        if store is None:
            return False
        try:
            tracker = await store.retrieve(session_id)
        except Exception as error:
            logger.warning("Could not check for a re-sent message: %s", type(error).__name__)
            return False
        return tracker is not None and any(
            isinstance(e, UserUttered) and e.message_id == message_id for e in tracker.events
        )

    # -- validation ---------------------------------------------------------------------

    def _metadata(self, data: Dict[str, Any]) -> tuple[Dict[str, Any], str | None]:
        """The message's metadata, or an empty one and an error code when unusable."""
        metadata = data.get(self.metadata_key)
        if metadata is None or metadata == "":
            return {}, None
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata)
            except ValueError:
                return {}, "invalid_metadata"
        if not isinstance(metadata, dict):
            return {}, "invalid_metadata"
        return metadata, None

    def _text(self, data: Any) -> str:
        if not isinstance(data, dict):
            raise InputError("not_an_object")
        text = data.get("message")
        if not isinstance(text, str):
            raise InputError("message_not_text")
        if not text.strip():
            raise InputError("empty_message")
        if len(text) > MAX_MESSAGE_CHARS:
            raise InputError("message_too_long")
        return text

    # -- the blueprint ------------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The stock connect/disconnect/session handling, with validation and history."""
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[])  # any origin, as stock
        socketio_webhook = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio

        @socketio_webhook.listener("before_server_start")
        async def remember_app(app: Sanic, _: Any) -> None:
            self._app = app

        @socketio_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        async def emit(event: str, data: Any, room: str, skip_sid: str | None = None) -> None:
            await sio.emit(event, data, room=room, skip_sid=skip_sid, namespace=self.namespace)

        async def reject(sid: str, code: str, message_id: Any = None) -> Dict[str, Any]:
            logger.info("socket.io input refused: %s", code)
            detail = ERRORS[code]
            await emit(INPUT_ERROR_EVT, {"error": code, "detail": detail}, sid)
            if detail:
                await emit(self.bot_message_evt, bot_message(detail, {"error": code}), sid)
            return {"ok": False, "error": code, "message_id": message_id if _short_text(message_id) else None}

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, environ: Dict, auth: Dict | None) -> bool:
            if self._app is None and environ.get("sanic.request") is not None:
                self._app = environ["sanic.request"].app
            if not self.jwt_key:
                return True
            token = auth.get("token") if isinstance(auth, dict) else None
            payload = (
                rasa.core.channels.channel.decode_bearer_token(token, self.jwt_key, self.jwt_algorithm)
                if token
                else None
            )
            return bool(payload)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Any) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            if requested is not None and not _short_text(requested):
                await reject(sid, "new_session")  # and start a fresh conversation below
                requested = None
            session_id = requested or uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            await emit("session_confirm", session_id, sid)
            if self.session_persistence:
                await emit(HISTORY_EVT, await self._history(session_id), sid)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any = None) -> Dict[str, Any]:
            message_id = data.get("message_id") if isinstance(data, dict) else None
            try:
                text = self._text(data)
            except InputError as error:
                return await reject(sid, error.code, message_id)
            if self.session_persistence:
                sender_id = data.get("session_id")
                if not _short_text(sender_id):
                    return await reject(sid, "invalid_session", message_id)
                await sio.enter_room(sid, sender_id, namespace=self.namespace)
            else:
                sender_id = sid
            metadata, metadata_error = self._metadata(data)
            if metadata_error:
                await reject(sid, metadata_error, message_id)
            if message_id is not None and not _short_text(message_id):
                await reject(sid, "invalid_message_id")
                message_id = None
            if message_id and await self._already_received(sender_id, message_id):
                logger.info("socket.io message re-sent; already in the conversation, not processed again")
                return {"ok": True, "message_id": message_id, "duplicate": True}
            if self.session_persistence:  # other tabs of this conversation show the question too
                shown = metadata.get("display_text")
                echo = {"text": shown if isinstance(shown, str) and shown else text, "message_id": message_id}
                await emit(USER_ECHO_EVT, echo, sender_id, skip_sid=sid)
            output_channel = PatientSocketIOOutput(sio, self.bot_message_evt)
            await on_new_message(
                UserMessage(
                    text,
                    output_channel,
                    sender_id,
                    input_channel=self.name(),
                    message_id=message_id or uuid.uuid4().hex,
                    metadata=metadata,
                )
            )
            return {"ok": True, "message_id": message_id}

        return socketio_webhook
