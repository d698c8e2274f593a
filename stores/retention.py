"""Delete conversations older than N days from the tracker store: the retention setting.

A conversation is deleted whole when its newest event is older than the cut-off, so a
conversation still going on is never cut in half. Run it by hand or from cron / a
Kubernetes CronJob:

    python -m stores.retention --days 90            # RETENTION_DAYS is the default
    python -m stores.retention --days 90 --dry-run  # only count

The database is TRACKER_STORE_URL (as for the Rasa servers), else the local trackers.db.
Nothing about the conversations is printed but counts.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from typing import Sequence

from sqlalchemy import create_engine, func, inspect, select
from sqlalchemy import delete as sql_delete
from sqlalchemy.engine import Engine
from sqlalchemy.sql import column, table

from stores.tracker_store import DEFAULT_SQLITE_FILE, URL_VARIABLE

logger = logging.getLogger(__name__)

DAYS_VARIABLE = "RETENTION_DAYS"
events = table("events", column("id"), column("sender_id"), column("timestamp"))


def tracker_db_url() -> str:
    return os.environ.get(URL_VARIABLE, "").strip() or f"sqlite:///{DEFAULT_SQLITE_FILE}"


def expired_conversations(engine: Engine, days: float, now: float | None = None) -> list[str]:
    """Conversations whose newest event is older than `days` days."""
    cutoff = (now if now is not None else time.time()) - days * 86400
    newest = func.max(events.c.timestamp)
    query = select(events.c.sender_id).group_by(events.c.sender_id).having(newest < cutoff)
    with engine.connect() as conn:
        return [row[0] for row in conn.execute(query)]


def delete_expired(engine: Engine, days: float, now: float | None = None, dry_run: bool = False) -> int:
    """Deletes the expired conversations in one transaction; returns how many."""
    if days <= 0:
        raise ValueError("the retention must be a positive number of days")
    if not inspect(engine).has_table("events"):
        return 0
    expired = expired_conversations(engine, days, now)
    if dry_run or not expired:
        return len(expired)
    with engine.begin() as conn:
        for start in range(0, len(expired), 500):
            batch = expired[start : start + 500]
            conn.execute(sql_delete(events).where(events.c.sender_id.in_(batch)))
    return len(expired)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stores.retention", description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", default=os.environ.get(DAYS_VARIABLE) or None,
                        help=f"keep conversations active within this many days (default ${DAYS_VARIABLE})")
    parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    args = parser.parse_args(argv)
    if args.days is None:
        parser.error(f"give --days or set {DAYS_VARIABLE}")
    try:
        days = float(args.days)  # ValueError for text, reported like a bad option
        engine = create_engine(tracker_db_url(), future=True)
        count = delete_expired(engine, days, dry_run=args.dry_run)
    except ValueError as error:
        parser.error(str(error))
    verb = "would delete" if args.dry_run else "deleted"
    print(f"{verb} {count} conversation(s) with no activity in the last {days:g} days")
    return 0


if __name__ == "__main__":
    sys.exit(main())
