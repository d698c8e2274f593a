"""attach_to_action_server() against the real rasa-sdk action server process."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from devtools.servers import PROJECT, free_port, wait_until_up
from escalations.store import DELIVERED
from tests.escalations.conftest import escalation, settings_env, settings_for

ACTIONS = '''"""Stand-in for the lead's actions package: it only attaches escalation delivery."""
from escalations import attach_to_action_server

assert attach_to_action_server(), "the rasa-sdk app should exist when actions are imported"
'''


def test_action_server_delivers_what_was_pending_at_start(recorder, sqlite_url, make_store, tmp_path):
    settings = settings_for(recorder, sqlite_url)
    store = make_store(sqlite_url, targets=settings.targets)
    store.record(escalation())  # recorded before a restart, never delivered
    package = tmp_path / "pending_actions"
    package.mkdir()
    (package / "__init__.py").write_text(ACTIONS)
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(PROJECT)]),
        "SANIC_HOST": "127.0.0.1",
        **settings_env(settings, sqlite_url),
    }
    log = tmp_path / "actions.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "rasa_sdk", "--actions", "pending_actions", "--port", str(port)],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health", process, log, timeout=60)
        recorder.wait_for(2, timeout=20)
        # the receiver has both; the worker marks them delivered once it has the answers
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            [row] = store.recent()
            if {n.status for n in row.notifications} == {DELIVERED}:
                break
            time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert {n.status for n in row.notifications} == {DELIVERED}, log.read_text()[-3000:]
