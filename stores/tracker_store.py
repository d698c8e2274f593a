"""The SQL tracker store, pointed at TRACKER_STORE_URL when set, else a local SQLite file."""

from __future__ import annotations

import logging
import os
from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.domain import Domain
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

logger = logging.getLogger(__name__)

URL_VARIABLE = "TRACKER_STORE_URL"
DEFAULT_SQLITE_FILE = "trackers.db"


class EnvSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQLTrackerStore; the database comes from the environment, not the file.

    `TRACKER_STORE_URL` is an SQLAlchemy URL such as
    `postgresql://rasa:secret@postgres:5432/rasa` (one database shared by every Rasa
    replica). Without it, conversations go to the SQLite file named by `db` in
    endpoints.yml, as before.
    """

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        event_broker: EventBroker | None = None,
        db: str = DEFAULT_SQLITE_FILE,
        **kwargs: Any,
    ) -> None:
        url = os.environ.get(URL_VARIABLE, "").strip()
        kwargs.pop("dialect", None)  # the dialect follows the URL, or is SQLite
        if url:
            parsed = make_url(url)  # fails loudly on a malformed URL, never falls back
            logger.info("Tracker store: %s database %s", parsed.get_backend_name(), parsed.database)
            super().__init__(
                domain=domain, dialect=parsed.drivername, host=url, event_broker=event_broker, **kwargs
            )
            self._ping_before_use(url)
        else:
            logger.info("Tracker store: SQLite file %s", db)
            super().__init__(domain=domain, dialect="sqlite", db=db, event_broker=event_broker, **kwargs)

    def _ping_before_use(self, url: str) -> None:
        """After the database restarts, pooled connections are dead; Rasa's engine would fail
        one request per dead connection before recovering. A pre-ping on checkout makes the
        first request after an outage work."""
        old = self.engine
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sessionmaker(bind=self.engine)
        old.dispose()
