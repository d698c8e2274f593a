"""Build rasa-sdk trackers and run actions the way the action server does."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher


def tracker_for(
    intent: str,
    text: str,
    slots: Dict[str, Any] | None = None,
    entities: List[Dict[str, Any]] | None = None,
) -> Tracker:
    """A tracker whose latest message has this intent, text and entities."""
    latest = {"intent": {"name": intent, "confidence": 0.9}, "entities": entities or [], "text": text}
    return Tracker("test-conversation", slots or {}, latest, [], False, None, {}, "action_listen")


def run_action(action: Action, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[Dict[str, Any]]:
    return asyncio.run(action.run(dispatcher, tracker, {}))


def texts(dispatcher: CollectingDispatcher) -> List[str]:
    return [m["text"] for m in dispatcher.messages]
