"""The durable record of escalations and of the notifications owed to the care team.

An escalation is written together with its pending notifications in one transaction, so
a crash can never leave an escalation that nobody will be told about. Delivery then works
from the `notifications` table, which is what lets several action-server replicas, a
restart or the staff CLI pick up where anyone left off. Works on SQLite and PostgreSQL;
the tables are created on first use, so there is no migration step.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterable, List, Sequence, Tuple

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    case,
    create_engine,
    event,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import TypeDecorator

from escalations.settings import SMS, WEBHOOK, Settings, get_settings

logger = logging.getLogger(__name__)

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
TARGETS = (WEBHOOK, SMS)
MAX_ERROR_CHARS = 500
# Arbitrary constant advisory-lock key that serialises table creation between replicas.
_SCHEMA_LOCK_KEY = 0x65736361  # "esca"


def utcnow() -> datetime:
    """Aware UTC now: every time in this package is aware and UTC."""
    return datetime.now(timezone.utc)


def as_utc(value: datetime | float | int) -> datetime:
    """An aware UTC datetime from a datetime (naive means UTC) or a Unix timestamp."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, timezone.utc)
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def normalise_text(text: str) -> str:
    """The message as compared for duplicates: Unicode-normalised, case-folded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def text_sha256(text: str) -> str:
    """Hash of the normalised text, so duplicates are found without comparing message text."""
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()


class UTCDateTime(TypeDecorator):
    """Stores aware UTC datetimes and always returns them aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        # SQLite keeps no offset; storing naive UTC keeps its string comparisons correct.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


metadata = MetaData()

escalations_table = Table(
    "escalations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("message_time", UTCDateTime, nullable=False),
    Column("conversation_id", String, nullable=False),
    Column("channel", String, nullable=False),
    Column("level", String, nullable=False),
    Column("symptom", String, nullable=False),
    Column("symptoms", JSON, nullable=False),
    Column("message_text", Text, nullable=False),
    Column("message_id", String, nullable=True),
    Column("text_sha256", String(64), nullable=False),
    # Which red-flag detector(s) found the sign: rules, learned, context, follow_up, confirmed.
    Column("detectors", JSON, nullable=True),
    # NULL message ids never conflict, so messages without one rely on the text rule.
    UniqueConstraint("conversation_id", "message_id", name="uq_escalations_conversation_message"),
    Index("ix_escalations_conversation_text", "conversation_id", "text_sha256", "message_time"),
    Index("ix_escalations_created_at", "created_at"),
)

notifications_table = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("escalation_id", Integer, ForeignKey("escalations.id", ondelete="CASCADE"), nullable=False),
    Column("target", String(16), nullable=False),
    Column("status", String(16), nullable=False, default=PENDING),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("claimed_until", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("delivered_at", UTCDateTime, nullable=True),
    UniqueConstraint("escalation_id", "target", name="uq_notifications_escalation_target"),
    Index("ix_notifications_due", "status", "next_attempt_at"),
)


@dataclass(frozen=True)
class NewEscalation:
    """What the action knows about a warning sign in one patient message.

    `symptom` is the most severe finding (the detector decides); `symptoms` is all of them.
    `message_time` is when the patient sent the message (aware datetime, naive = UTC, or a
    Unix timestamp such as a Rasa event's); it defaults to now. `message_id` is the
    channel's id for the message, used to recognise a redelivery of the same message.
    """

    conversation_id: str
    level: str
    symptom: str
    message_text: str = field(repr=False)
    symptoms: Sequence[str] = ()
    channel: str = "unknown"
    message_id: str | None = None
    message_time: datetime | float | None = None
    detectors: Sequence[str] = ()

    def __post_init__(self) -> None:
        """Refuses an escalation staff could not act on; normalises the optional fields."""
        for name in ("conversation_id", "level", "symptom"):
            if not str(getattr(self, name) or "").strip():
                raise ValueError(f"NewEscalation.{name} must not be empty")
        symptoms = [str(s) for s in self.symptoms if str(s).strip()]
        if self.symptom not in symptoms:
            symptoms.insert(0, self.symptom)
        object.__setattr__(self, "symptoms", tuple(symptoms))
        object.__setattr__(self, "detectors", tuple(str(d) for d in self.detectors if str(d).strip()))
        object.__setattr__(self, "message_id", (self.message_id or "").strip() or None)
        object.__setattr__(self, "channel", (self.channel or "").strip() or "unknown")
        if self.message_time is not None:
            object.__setattr__(self, "message_time", as_utc(self.message_time))


@dataclass(frozen=True)
class RecordResult:
    """The escalation's id, and whether this call created it (False: a duplicate delivery)."""

    escalation_id: int
    created: bool


@dataclass(frozen=True)
class NotificationView:
    """One target's delivery state, as staff see it."""

    id: int
    target: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    delivered_at: datetime | None


@dataclass(frozen=True)
class EscalationView:
    """A recorded escalation with its notifications; message_text is kept out of repr()."""

    id: int
    created_at: datetime
    message_time: datetime
    conversation_id: str
    channel: str
    level: str
    symptom: str
    symptoms: Tuple[str, ...]
    message_text: str = field(repr=False)
    message_id: str | None = None
    notifications: Tuple[NotificationView, ...] = ()
    detectors: Tuple[str, ...] = ()

    def as_dict(self) -> Dict[str, Any]:
        """JSON-ready, for the CLI's --json."""
        return {
            "id": self.id,
            "created_at": iso(self.created_at),
            "message_time": iso(self.message_time),
            "conversation_id": self.conversation_id,
            "channel": self.channel,
            "level": self.level,
            "symptom": self.symptom,
            "symptoms": list(self.symptoms),
            "message_text": self.message_text,
            "message_id": self.message_id,
            "detectors": list(self.detectors),
            "notifications": [
                {
                    "target": n.target,
                    "status": n.status,
                    "attempts": n.attempts,
                    "next_attempt_at": iso(n.next_attempt_at) if n.status == PENDING else None,
                    "last_error": n.last_error,
                    "delivered_at": iso(n.delivered_at) if n.delivered_at else None,
                }
                for n in self.notifications
            ],
        }


@dataclass(frozen=True)
class Due:
    """A notification this process has claimed, with what is needed to send it."""

    notification_id: int
    target: str
    attempts: int
    escalation_id: int
    created_at: datetime
    message_time: datetime
    conversation_id: str
    channel: str
    level: str
    symptom: str
    symptoms: Tuple[str, ...]
    message_text: str = field(repr=False)


def iso(value: datetime) -> str:
    """ISO-8601 in UTC with a Z, the form used in the webhook and the CLI."""
    return as_utc(value).isoformat().replace("+00:00", "Z")


def _symptoms(value: Any) -> Tuple[str, ...]:
    """The stored JSON list as a tuple of strings."""
    if isinstance(value, str):  # a driver that hands JSON back as text
        value = json.loads(value)
    return tuple(str(s) for s in value or ())


def _advisory_key(text: str) -> int:
    """A signed 64-bit key for pg_advisory_xact_lock derived from `text`."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big", signed=True)


def _make_engine(url: str) -> Engine:
    """A 2.0-style engine; SQLite gets real transactions that take the write lock up front."""
    # hide_parameters: database errors must never carry the patient's message into logs.
    options: Dict[str, Any] = {"future": True, "hide_parameters": True, "pool_pre_ping": True}
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, **options)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **options)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions start (pysqlite would start
        # them only at the first write, making check-then-insert racy between processes).
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _clip(error: str) -> str:
    """One line, bounded: `last_error` is for a person scanning the list."""
    error = " ".join(str(error).split())
    return error if len(error) <= MAX_ERROR_CHARS else error[: MAX_ERROR_CHARS - 1] + "…"


class EscalationStore:
    """Escalations and their notifications in one SQL database (SQLite or PostgreSQL).

    Every method is blocking; async code calls them through asyncio.to_thread.
    """

    def __init__(self, url: str, *, dedup_seconds: float = 120.0, targets: Iterable[str] = ()) -> None:
        self.url = url
        self.dedup_window = timedelta(seconds=dedup_seconds)
        self.targets = tuple(dict.fromkeys(targets))
        unknown = [t for t in self.targets if t not in TARGETS]
        if unknown:
            raise ValueError(f"unknown notification targets {unknown}; expected some of {TARGETS}")
        self.engine = _make_engine(url)
        self._is_postgres = self.engine.dialect.name == "postgresql"
        self._ready = False
        self._ready_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> EscalationStore:
        """The store for these settings: their database, window and enabled targets."""
        return cls(settings.db_url, dedup_seconds=settings.dedup_seconds, targets=settings.targets)

    def dispose(self) -> None:
        """Closes pooled connections (tests, and the CLI before exiting)."""
        self.engine.dispose()

    # ------------------------------------------------------------------ schema

    def _ensure_tables(self) -> None:
        """Creates the tables the first time this process touches the database."""
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            with self.engine.begin() as conn:
                if self._is_postgres:
                    # Two replicas starting together must not both try to CREATE TABLE.
                    conn.execute(select(func.pg_advisory_xact_lock(_SCHEMA_LOCK_KEY)))
                metadata.create_all(conn)
                self._add_missing_columns(conn)
            self._ready = True

    @staticmethod
    def _add_missing_columns(conn: Any) -> None:
        """Brings a database made by an earlier version up to date (new nullable columns)."""
        from sqlalchemy import inspect

        present = {c["name"] for c in inspect(conn).get_columns("escalations")}
        if "detectors" not in present:
            kind = "JSON" if conn.dialect.name == "postgresql" else "TEXT"
            conn.exec_driver_sql(f"ALTER TABLE escalations ADD COLUMN detectors {kind}")

    # ------------------------------------------------------------------ recording

    def record(self, new: NewEscalation, now: datetime | None = None) -> RecordResult:
        """Records the escalation and one pending notification per target, exactly once.

        A duplicate (same conversation and message id, or the same normalised text in the
        same conversation within the dedup window) returns the existing id, created=False.
        """
        self._ensure_tables()
        now = as_utc(now) if now else utcnow()
        message_time = new.message_time or now
        digest = text_sha256(new.message_text)
        try:
            with self.engine.begin() as conn:
                if self._is_postgres:
                    # Serialises records per conversation so the text rule is race-safe too.
                    lock_key = _advisory_key("escalation:" + new.conversation_id)
                    conn.execute(select(func.pg_advisory_xact_lock(lock_key)))
                existing = self._find_duplicate(conn, new, digest, message_time)
                if existing is not None:
                    logger.info("Escalation %d already recorded; ignoring a repeat of the message", existing)
                    return RecordResult(existing, False)
                result = conn.execute(
                    insert(escalations_table).values(
                        created_at=now,
                        message_time=message_time,
                        conversation_id=new.conversation_id,
                        channel=new.channel,
                        level=new.level,
                        symptom=new.symptom,
                        symptoms=list(new.symptoms),
                        message_text=new.message_text,
                        message_id=new.message_id,
                        text_sha256=digest,
                        detectors=list(new.detectors),
                    )
                )
                escalation_id = int(result.inserted_primary_key[0])
                for target in self.targets:
                    conn.execute(
                        insert(notifications_table).values(
                            escalation_id=escalation_id,
                            target=target,
                            status=PENDING,
                            attempts=0,
                            next_attempt_at=now,
                        )
                    )
        except IntegrityError:
            # Another writer recorded the same (conversation, message id) first.
            existing = self._find_by_message_id(new) if new.message_id else None
            if existing is None:
                raise
            logger.info("Escalation %d already recorded by a concurrent writer", existing)
            return RecordResult(existing, False)
        logger.info(
            "Escalation %d recorded: level=%s symptom=%s notify=%s",
            escalation_id, new.level, new.symptom, ",".join(self.targets) or "nobody",
        )
        if not self.targets:
            logger.warning("Escalation %d has no notification target configured; only the list shows it",
                           escalation_id)
        return RecordResult(escalation_id, True)

    def _find_duplicate(
        self, conn: Connection, new: NewEscalation, digest: str, message_time: datetime
    ) -> int | None:
        """The id of an earlier record of the same message, or None."""
        t = escalations_table.c
        same_text = and_(
            t.text_sha256 == digest,
            t.message_time >= message_time - self.dedup_window,
            t.message_time <= message_time + self.dedup_window,
        )
        rule = or_(t.message_id == new.message_id, same_text) if new.message_id else same_text
        return conn.execute(
            select(t.id).where(t.conversation_id == new.conversation_id, rule).order_by(t.id).limit(1)
        ).scalar_one_or_none()

    def _find_by_message_id(self, new: NewEscalation) -> int | None:
        """The record that won a race on (conversation_id, message_id), in a new transaction."""
        t = escalations_table.c
        with self.engine.connect() as conn:
            return conn.execute(
                select(t.id).where(t.conversation_id == new.conversation_id, t.message_id == new.message_id)
            ).scalar_one_or_none()

    # ------------------------------------------------------------------ reading

    def recent(self, limit: int = 20, conversation_id: str | None = None) -> List[EscalationView]:
        """The latest escalations, newest first, each with its notifications' state; only one
        conversation's when `conversation_id` is given."""
        self._ensure_tables()
        t, n = escalations_table.c, notifications_table.c
        query = select(escalations_table)
        if conversation_id is not None:
            query = query.where(t.conversation_id == conversation_id)
        with self.engine.connect() as conn:
            rows = conn.execute(
                query.order_by(t.created_at.desc(), t.id.desc()).limit(max(0, limit))
            ).mappings().all()
            ids = [row["id"] for row in rows]
            by_escalation: Dict[int, List[NotificationView]] = {i: [] for i in ids}
            if ids:
                for note in conn.execute(
                    select(notifications_table).where(n.escalation_id.in_(ids)).order_by(n.id)
                ).mappings():
                    by_escalation[note["escalation_id"]].append(
                        NotificationView(
                            id=note["id"],
                            target=note["target"],
                            status=note["status"],
                            attempts=note["attempts"],
                            next_attempt_at=note["next_attempt_at"],
                            last_error=note["last_error"],
                            delivered_at=note["delivered_at"],
                        )
                    )
        return [
            EscalationView(
                id=row["id"],
                created_at=row["created_at"],
                message_time=row["message_time"],
                conversation_id=row["conversation_id"],
                channel=row["channel"],
                level=row["level"],
                symptom=row["symptom"],
                symptoms=_symptoms(row["symptoms"]),
                message_text=row["message_text"],
                message_id=row["message_id"],
                notifications=tuple(by_escalation[row["id"]]),
                detectors=_symptoms(row["detectors"]) if row["detectors"] else (),
            )
            for row in rows
        ]

    def next_due_at(self) -> datetime | None:
        """When the earliest pending notification can next be claimed (None: nothing pending)."""
        self._ensure_tables()
        n = notifications_table.c
        claimable_at = case((n.claimed_until > n.next_attempt_at, n.claimed_until), else_=n.next_attempt_at)
        with self.engine.connect() as conn:
            value = conn.execute(
                select(func.min(claimable_at)).where(n.status == PENDING)
            ).scalar_one_or_none()
        if value is None:
            return None
        # func.min() loses the column type, so SQLite hands back its stored text.
        return as_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)

    # ------------------------------------------------------------------ delivery

    def claim_due(
        self,
        now: datetime | None = None,
        limit: int = 20,
        lease_seconds: float = 60.0,
        targets: Sequence[str] | None = None,
    ) -> List[Due]:
        """Claims up to `limit` due notifications (optionally only for `targets`) for `lease_seconds`.

        Each row is claimed by a conditional UPDATE whose row count says whether this
        caller won it, so concurrent claimers (other replicas, the CLI) never get the same
        row. A claim left by a crashed process expires with its lease.
        """
        self._ensure_tables()
        now = as_utc(now) if now else utcnow()
        n, t = notifications_table.c, escalations_table.c
        claimable = and_(
            n.status == PENDING,
            n.next_attempt_at <= now,
            or_(n.claimed_until.is_(None), n.claimed_until < now),
        )
        if targets is not None:
            claimable = and_(claimable, n.target.in_(list(targets)))
        with self.engine.begin() as conn:
            candidates = conn.execute(
                select(n.id).where(claimable).order_by(n.next_attempt_at, n.id).limit(max(0, limit))
            ).scalars().all()
            claimed = []
            # Updating in id order keeps concurrent PostgreSQL claimers from deadlocking.
            for notification_id in sorted(candidates):
                result = conn.execute(
                    update(notifications_table)
                    .where(n.id == notification_id, claimable)
                    .values(claimed_until=now + timedelta(seconds=lease_seconds))
                )
                if result.rowcount == 1:
                    claimed.append(notification_id)
            if not claimed:
                return []
            rows = conn.execute(
                select(
                    n.id.label("notification_id"), n.target, n.attempts, t.id.label("escalation_id"),
                    t.created_at, t.message_time, t.conversation_id, t.channel, t.level, t.symptom,
                    t.symptoms, t.message_text,
                )
                .join_from(notifications_table, escalations_table, n.escalation_id == t.id)
                .where(n.id.in_(claimed))
                .order_by(n.next_attempt_at, n.id)
            ).mappings().all()
        return [Due(**{**row, "symptoms": _symptoms(row["symptoms"])}) for row in rows]

    def _finish(self, notification_id: int, values: Dict[str, Any]) -> bool:
        """Ends an attempt: counts it and releases the claim; only while still pending."""
        n = notifications_table.c
        with self.engine.begin() as conn:
            result = conn.execute(
                update(notifications_table)
                .where(n.id == notification_id, n.status == PENDING)
                .values(attempts=n.attempts + 1, claimed_until=None, **values)
            )
        return result.rowcount == 1

    def mark_delivered(self, notification_id: int, now: datetime | None = None) -> bool:
        """Records a successful attempt; False if the row was no longer pending."""
        delivered_at = as_utc(now) if now else utcnow()
        return self._finish(notification_id, {"status": DELIVERED, "delivered_at": delivered_at})

    def mark_retry(self, notification_id: int, next_attempt_at: datetime, error: str) -> bool:
        """Records a failed attempt and when to try again. `error` must not contain message text."""
        return self._finish(notification_id, {"next_attempt_at": next_attempt_at, "last_error": _clip(error)})

    def mark_failed(self, notification_id: int, error: str) -> bool:
        """Records the last failed attempt and stops retrying this notification."""
        return self._finish(notification_id, {"status": FAILED, "last_error": _clip(error)})


_stores: Dict[int, EscalationStore] = {}
_stores_lock = threading.Lock()


def get_store() -> EscalationStore:
    """This process's store, built once from the environment's settings.

    Keyed by process id, so a forked worker never shares its parent's connections.
    """
    pid = os.getpid()
    with _stores_lock:
        store = _stores.get(pid)
        if store is None:
            store = _stores[pid] = EscalationStore.from_settings(get_settings())
        return store


def reset_store_cache() -> None:
    """Forgets this process's settings and store (for tests that change the environment)."""
    with _stores_lock:
        for store in _stores.values():
            store.dispose()
        _stores.clear()
    get_settings.cache_clear()
