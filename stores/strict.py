"""Refuse to answer without the conversation, rather than answer a forgotten one.

Rasa wraps every tracker store in `FailSafeTrackerStore`: when the database is down it
logs an error, treats the conversation as new and keeps the turn only in memory. For this
assistant that is a corrupted conversation (a patient who said "I had it yesterday" gets
the before-and-after answer, and the turn never reaches the database the other replicas
read). Unwrapped, the database error reaches the channel, which answers with a clear
"try again" that still carries the emergency line (channels/rest.py), and the stored
conversation stays exactly as it was.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.tracker_store import FailSafeTrackerStore

logger = logging.getLogger(__name__)


def unwrap_fail_safe(agent: Any) -> bool:
    """Points the agent and its processor at the real tracker store; True if it changed."""
    store = getattr(agent, "tracker_store", None)
    if not isinstance(store, FailSafeTrackerStore):
        return False
    inner = store._tracker_store  # noqa: SLF001 - Rasa offers no public way to opt out
    agent.tracker_store = inner
    if getattr(agent, "processor", None) is not None:
        agent.processor.tracker_store = inner
    logger.info("Tracker store errors now reach the channels (no silent in-memory fallback).")
    return True
