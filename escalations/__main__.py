"""Staff command line: see recent escalations, and deliver what is due after an outage.

    python -m escalations list [--limit N] [--json]
    python -m escalations deliver

Exit status: 0 success, 1 the database or a delivery failed, 2 bad usage or settings.
The list shows patients' messages: it is for clinic staff, on the clinic's machines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Mapping, Sequence, TextIO

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from escalations.settings import Settings, SettingsError, load_settings
from escalations.store import EscalationStore, EscalationView, iso
from escalations.worker import deliver_due_report

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    """The CLI's arguments (argparse exits with status 2 on a usage error)."""
    parser = argparse.ArgumentParser(prog="python -m escalations", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="{list,deliver}")
    listing = commands.add_parser("list", help="recent escalations, newest first")
    listing.add_argument("--limit", type=int, default=20, help="how many to show (default 20)")
    listing.add_argument("--json", action="store_true", help="print JSON instead of text")
    commands.add_parser("deliver", help="deliver every notification that is due now")
    return parser


def format_escalation(item: EscalationView) -> str:
    """A few lines per escalation for a terminal."""
    head = (
        f"#{item.id}  {iso(item.created_at)}  {item.level.upper()}  {item.symptom}  "
        f"conversation {item.conversation_id} ({item.channel})"
    )
    lines = [head, f"    message: {json.dumps(item.message_text, ensure_ascii=False)}"]
    if len(item.symptoms) > 1:
        lines.append(f"    symptoms: {', '.join(item.symptoms)}")
    if item.detectors:
        lines.append(f"    found by: {', '.join(item.detectors)}")
    states = []
    for note in item.notifications:
        state = f"{note.target}: {note.status}, {note.attempts} attempt{'s' if note.attempts != 1 else ''}"
        if note.status == "pending":
            state += f", next {iso(note.next_attempt_at)}"
        if note.last_error and note.status != "delivered":
            state += f", last error: {note.last_error}"
        states.append(state)
    lines.append("    " + (" | ".join(states) if states else "no notifications (no target was configured)"))
    return "\n".join(lines)


def _list(store: EscalationStore, limit: int, as_json: bool, out: TextIO) -> int:
    """`list`: what staff need to act on, newest first."""
    items = store.recent(limit)
    if as_json:
        json.dump([item.as_dict() for item in items], out, ensure_ascii=False, indent=2)
        out.write("\n")
    elif not items:
        out.write("No escalations recorded.\n")
    else:
        out.write("\n\n".join(format_escalation(item) for item in items) + "\n")
    return EXIT_OK


def _deliver(store: EscalationStore, settings: Settings, out: TextIO, err: TextIO) -> int:
    """`deliver`: one attempt at everything due; fails (1) if any attempt failed, for cron."""
    if not settings.targets:
        err.write(
            "error: no notification target is configured in this shell; deliver needs the action "
            "server's ESCALATION_WEBHOOK_* / TWILIO_* settings\n"
        )
        return EXIT_USAGE
    # Only the targets configured here: a shell missing one target's settings must not
    # count failed attempts against notifications the action server can deliver.
    report = asyncio.run(deliver_due_report(store, settings, only_enabled=True))
    out.write(f"delivered {report.delivered}\n")
    if report.retrying or report.failed:
        err.write(f"{report.retrying} will be retried, {report.failed} gave up (see the log above)\n")
        return EXIT_FAILED
    return EXIT_OK


def _missing_sqlite_file(url: str) -> str | None:
    """The absolute path of a SQLite database file that does not exist, else None."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database).resolve()
    return None if path.exists() else str(path)


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Runs one command and returns the exit status; `environ` and streams are for tests."""
    out, err = out or sys.stdout, err or sys.stderr
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "list" and args.limit < 1:
        parser.error("--limit must be at least 1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(environ)
    except SettingsError as error:
        err.write(f"error: {error}\n")
        return EXIT_USAGE
    missing = _missing_sqlite_file(settings.db_url)
    if missing:
        # Listing a fresh empty database would wrongly tell staff there are no escalations.
        err.write(
            f"error: no escalation database at {missing}; run from the action server's directory "
            "or set ESCALATION_DB_URL\n"
        )
        return EXIT_FAILED
    store = EscalationStore.from_settings(settings)
    try:
        if args.command == "list":
            return _list(store, args.limit, args.json, out)
        return _deliver(store, settings, out, err)
    except SQLAlchemyError as error:
        err.write(f"error: the escalation database failed: {type(error).__name__}: {error}\n")
        return EXIT_FAILED
    finally:
        store.dispose()


if __name__ == "__main__":
    sys.exit(main())
