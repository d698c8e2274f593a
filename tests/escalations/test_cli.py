"""The staff command line: `list` newest first, `deliver` delivers, sensible exit codes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

from devtools.servers import PROJECT
from escalations.__main__ import main
from tests.escalations.conftest import PATIENT_TEXT, escalation, settings_env, settings_for

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)


def _run(argv, env):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, env, out, err)
    return code, out.getvalue(), err.getvalue()


def _fill(make_store, url, targets=("webhook",), start=T0):
    store = make_store(url, targets=targets)
    ids = [
        store.record(escalation(f"conv-{i}", text=f"{PATIENT_TEXT} ({i})"), now=start + timedelta(minutes=i))
        .escalation_id
        for i in range(3)
    ]
    return store, ids


def test_list_shows_newest_first_with_notification_states(db_url, make_store):
    _, ids = _fill(make_store, db_url)
    code, out, _ = _run(["list"], {"ESCALATION_DB_URL": db_url})
    assert code == 0
    positions = [out.index(f"#{i} ") for i in ids]
    assert positions == sorted(positions, reverse=True)  # newest first
    assert "2025-03-01T09:02:00Z  EMERGENCY  saddle_numbness  conversation conv-2 (rest)" in out
    assert json.dumps(f"{PATIENT_TEXT} (2)") in out
    assert "webhook: pending, 0 attempts" in out

    code, out, _ = _run(["list", "--json", "--limit", "2"], {"ESCALATION_DB_URL": db_url})
    assert code == 0
    listed = json.loads(out)
    assert [item["id"] for item in listed] == ids[:-3:-1]
    assert listed[0]["message_text"] == f"{PATIENT_TEXT} (2)"
    assert listed[0]["notifications"][0] | {"next_attempt_at": None} == {
        "target": "webhook", "status": "pending", "attempts": 0, "next_attempt_at": None,
        "last_error": None, "delivered_at": None,
    }


def test_deliver_delivers_what_is_due_and_reports_failures(recorder, sqlite_url, make_store):
    settings = settings_for(recorder, sqlite_url)
    start = datetime.now(timezone.utc) - timedelta(minutes=5)
    store, _ = _fill(make_store, sqlite_url, targets=settings.targets, start=start)
    env = settings_env(settings, sqlite_url)
    recorder.respond_with(500)
    code, out, err = _run(["deliver"], env)
    assert (code, out) == (1, "delivered 5\n") and "1 will be retried" in err
    assert len(recorder.requests) == 6
    code, out, _ = _run(["deliver"], env)
    assert (code, out) == (0, "delivered 0\n")  # the failed one is not due for 2 s
    statuses = sorted(n.status for row in store.recent() for n in row.notifications)
    assert statuses == ["delivered"] * 5 + ["pending"]


def test_deliver_leaves_targets_it_cannot_send_to_alone(recorder, sqlite_url, make_store):
    settings = settings_for(recorder, sqlite_url)
    start = datetime.now(timezone.utc) - timedelta(minutes=5)
    store, _ = _fill(make_store, sqlite_url, targets=settings.targets, start=start)
    code, _, err = _run(["deliver"], {"ESCALATION_DB_URL": sqlite_url})
    assert code == 2 and "no notification target" in err
    only_webhook = {
        "ESCALATION_DB_URL": sqlite_url,
        "ESCALATION_WEBHOOK_URL": settings.webhook_url,
        "ESCALATION_WEBHOOK_SECRET": settings.webhook_secret,
    }
    assert _run(["deliver"], only_webhook)[:2] == (0, "delivered 3\n")
    states = {(n.target, n.status, n.attempts) for row in store.recent() for n in row.notifications}
    assert states == {("webhook", "delivered", 1), ("sms", "pending", 0)}


def test_usage_and_database_errors_exit_with_two_and_one(tmp_path):
    code, _, err = _run(["list"], {"ESCALATION_DB_URL": f"sqlite:///{tmp_path / 'nowhere.db'}"})
    assert code == 1 and "no escalation database" in err and not (tmp_path / "nowhere.db").exists()
    code, _, err = _run(["list"], {"ESCALATION_DEDUP_SECONDS": "soon"})
    assert code == 2 and "ESCALATION_DEDUP_SECONDS" in err
    code, _, err = _run(["list"], {"ESCALATION_DB_URL": "postgresql+psycopg2://nobody@127.0.0.1:1/none"})
    assert code == 1 and "database failed" in err


def test_the_module_runs_as_a_command(sqlite_url, make_store):
    _, ids = _fill(make_store, sqlite_url)
    env = {**os.environ, "ESCALATION_DB_URL": sqlite_url}
    run = subprocess.run(
        [sys.executable, "-m", "escalations", "list", "--json"], cwd=PROJECT, env=env,
        capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert [item["id"] for item in json.loads(run.stdout)] == ids[::-1]
    bad = subprocess.run(
        [sys.executable, "-m", "escalations", "list", "--limit", "0"], cwd=PROJECT, env=env,
        capture_output=True, text=True, timeout=60,
    )
    assert bad.returncode == 2 and "--limit" in bad.stderr
