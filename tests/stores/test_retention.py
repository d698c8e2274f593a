"""Retention on the real tracker-store schema (Rasa's SQLTrackerStore), SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine

from stores.retention import delete_expired
from tests.conftest import PROJECT

DAY = 86400.0


def turn(days_ago: float, now: float) -> list:
    start = now - days_ago * DAY - 60
    return [
        ActionExecuted("action_listen", timestamp=start),
        UserUttered("can i shower", {"name": "ask_bathing"}, timestamp=start + 1),
        ActionExecuted("action_listen", timestamp=start + 60),
    ]


def save_conversation(store: SQLTrackerStore, sender: str, *days_ago: float, now: float) -> None:
    """One conversation with a turn on each of these days (days before `now`)."""
    events = [event for days in sorted(days_ago, reverse=True) for event in turn(days, now)]
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))


def store_for(url: str) -> SQLTrackerStore:
    return SQLTrackerStore(domain=Domain.empty(), host=url)


def senders(store: SQLTrackerStore) -> set:
    return set(asyncio.run(store.keys()))


def test_only_conversations_idle_longer_than_the_retention_are_deleted(db_url: str) -> None:
    store, now = store_for(db_url), time.time()
    save_conversation(store, "old", 100, now=now)
    save_conversation(store, "recent", 3, now=now)
    save_conversation(store, "ongoing", 200, 1, now=now)  # an old start, but still active: kept whole
    engine = create_engine(db_url, future=True)
    assert delete_expired(engine, 30, now=now, dry_run=True) == 1
    assert senders(store) == {"old", "recent", "ongoing"}, "a dry run deletes nothing"
    assert delete_expired(engine, 30, now=now) == 1
    assert senders(store) == {"recent", "ongoing"}
    tracker = asyncio.run(store.retrieve_full_tracker("ongoing"))
    assert len([e for e in tracker.events if isinstance(e, UserUttered)]) == 2, "kept whole"
    assert delete_expired(engine, 30, now=now) == 0
    engine.dispose()


def test_a_retention_of_zero_days_is_refused(tmp_path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 't.db'}", future=True)
    with pytest.raises(ValueError):
        delete_expired(engine, 0)


def test_the_command_reads_the_environment_and_reports_counts(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'trackers.db'}"
    store, now = store_for(url), time.time()
    save_conversation(store, "old", 400, now=now)
    save_conversation(store, "new", 0, now=now)
    env = {**os.environ, "TRACKER_STORE_URL": url, "RETENTION_DAYS": "365"}
    command = [sys.executable, "-m", "stores.retention"]
    done = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "deleted 1 conversation(s)" in done.stdout and "old" not in done.stdout
    assert senders(store) == {"new"}
    missing = subprocess.run(
        [sys.executable, "-m", "stores.retention"], cwd=PROJECT, env={**env, "RETENTION_DAYS": ""},
        capture_output=True, text=True, timeout=120,
    )
    assert missing.returncode == 2 and "RETENTION_DAYS" in missing.stderr
