"""Who has texted STOP: the SMS opt-outs, kept in the clinic's SQL database.

Carriers and Twilio require that a number which texted STOP gets no more messages until it
texts START. The record has to be shared by every Rasa replica and survive a restart, so
it lives in SQL (the escalation database by default), not in memory. Numbers are stored as
SHA-256 digests: the table answers "is this number opted out?" without holding a list of
patients' phone numbers.
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime, timezone

from sqlalchemy import Column, DateTime, MetaData, String, Table, create_engine, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

DEFAULT_DB_URL = "sqlite:///escalations.db"

metadata = MetaData()
opt_outs = Table(
    "sms_opt_outs",
    metadata,
    Column("number_sha256", String(64), primary_key=True),
    Column("opted_out_at", DateTime(timezone=True), nullable=False),
)


def consent_db_url() -> str:
    """SMS_CONSENT_DB_URL, else the escalation store's ESCALATION_DB_URL, else SQLite here."""
    return os.environ.get("SMS_CONSENT_DB_URL") or os.environ.get("ESCALATION_DB_URL") or DEFAULT_DB_URL


def _digest(number: str) -> str:
    return hashlib.sha256(number.strip().encode("utf-8")).hexdigest()


class ConsentStore:
    """Opt-outs by phone number; every call is one short transaction (safe across replicas)."""

    def __init__(self, url: str | None = None) -> None:
        self.engine: Engine = create_engine(url or consent_db_url(), future=True, pool_pre_ping=True)
        metadata.create_all(self.engine, checkfirst=True)

    def is_opted_out(self, number: str) -> bool:
        """True when this number texted STOP and has not texted START since."""
        with self.engine.connect() as conn:
            query = select(opt_outs.c.number_sha256).where(opt_outs.c.number_sha256 == _digest(number))
            return conn.execute(query).first() is not None

    def opt_out(self, number: str) -> None:
        """Records a STOP; a second STOP changes nothing."""
        values = {"number_sha256": _digest(number), "opted_out_at": datetime.now(timezone.utc)}
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            statement = postgresql.insert(opt_outs).values(values).on_conflict_do_nothing()
        elif dialect == "sqlite":
            statement = sqlite.insert(opt_outs).values(values).on_conflict_do_nothing()
        else:  # pragma: no cover - only SQLite and PostgreSQL are deployed
            statement = opt_outs.insert().values(values)
        with self.engine.begin() as conn:
            conn.execute(statement)

    def opt_in(self, number: str) -> None:
        """Records a START: messages may be sent again."""
        with self.engine.begin() as conn:
            conn.execute(delete(opt_outs).where(opt_outs.c.number_sha256 == _digest(number)))

    def dispose(self) -> None:
        """Closes the connection pool."""
        self.engine.dispose()
