"""The store against real SQLite files and a real PostgreSQL server."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from escalations.store import (
    DELIVERED,
    FAILED,
    PENDING,
    EscalationStore,
    RecordResult,
    notifications_table,
    text_sha256,
)
from tests.escalations.conftest import PATIENT_TEXT, escalation

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)
BOTH = ("webhook", "sms")


def test_one_record_per_escalation_with_its_notifications(db_url, make_store):
    store = make_store(db_url, targets=BOTH)
    result = store.record(escalation(message_id="m1", message_time=T0))
    assert result.created
    [row] = store.recent()
    assert row.id == result.escalation_id
    assert (row.conversation_id, row.channel, row.level, row.symptom) == ("conv-1", "rest", "emergency",
                                                                          "saddle_numbness")
    assert row.symptoms == ("saddle_numbness", "leg_weakness")
    assert row.message_text == PATIENT_TEXT
    assert row.message_time == T0 and row.created_at.tzinfo is not None
    assert sorted((n.target, n.status, n.attempts) for n in row.notifications) == [
        ("sms", PENDING, 0), ("webhook", PENDING, 0)
    ]


def test_same_message_id_twice_is_recorded_once(db_url, make_store):
    store = make_store(db_url, targets=BOTH)
    first = store.record(escalation(message_id="m1", message_time=T0))
    # Redelivered an hour later with different wording: the message id alone decides.
    later = T0 + timedelta(hours=1)
    again = store.record(escalation(message_id="m1", text="something else", message_time=later))
    assert again.escalation_id == first.escalation_id and not again.created
    [row] = store.recent()
    assert len(row.notifications) == 2


def test_same_text_within_the_window_is_recorded_once(db_url, make_store):
    store = make_store(db_url, targets=BOTH, dedup_seconds=120)
    first = store.record(escalation(text="I can't feel my legs", message_time=T0))
    soon = T0 + timedelta(seconds=90)
    again = store.record(escalation(text="  i CAN'T feel\nmy   legs ", message_id="m2", message_time=soon))
    assert again == RecordResult(first.escalation_id, False)
    assert len(store.recent()) == 1


def test_same_text_after_the_window_is_recorded_twice(db_url, make_store):
    store = make_store(db_url, targets=BOTH, dedup_seconds=120)
    first = store.record(escalation(message_time=T0))
    later = store.record(escalation(message_time=T0 + timedelta(seconds=121)))
    assert later.created and later.escalation_id != first.escalation_id
    assert len(store.recent()) == 2


def test_different_conversations_are_recorded_separately(db_url, make_store):
    store = make_store(db_url, targets=BOTH)
    a = store.record(escalation("conv-a", message_id="m1", message_time=T0))
    b = store.record(escalation("conv-b", message_id="m1", message_time=T0))
    assert a.created and b.created and a.escalation_id != b.escalation_id


@pytest.mark.parametrize("targets", [(), ("webhook",), ("sms",), BOTH])
def test_notifications_only_for_enabled_targets(db_url, make_store, targets):
    store = make_store(db_url, targets=targets)
    store.record(escalation(message_time=T0))
    [row] = store.recent()
    assert sorted(n.target for n in row.notifications) == sorted(targets)


def test_recent_is_newest_first_and_limited(db_url, make_store):
    store = make_store(db_url, targets=("webhook",))
    ids = [
        store.record(escalation(f"conv-{i}", message_time=T0), now=T0 + timedelta(minutes=i)).escalation_id
        for i in range(5)
    ]
    assert [row.id for row in store.recent()] == ids[::-1]
    assert [row.id for row in store.recent(limit=2)] == ids[:-3:-1]
    # one conversation's records only, however many others there are
    assert [row.id for row in store.recent(conversation_id="conv-3")] == [ids[3]]
    assert store.recent(conversation_id="nobody") == []


def test_message_text_is_hashed_normalised():
    assert text_sha256("Can't  FEEL\tmy legs") == text_sha256("can't feel my legs")
    assert text_sha256("can't feel my legs") != text_sha256("can feel my legs")


def test_concurrent_deliveries_of_one_message_record_it_once(db_url, make_store):
    # Several replicas (each its own engine and pool) get the same message at once.
    stores = [make_store(db_url, targets=BOTH) for _ in range(4)]
    stores[0].recent()  # create the tables first: this test is about the rows
    barrier = threading.Barrier(len(stores))

    def deliver(store: EscalationStore):
        barrier.wait()
        return store.record(escalation(message_id="m-race", message_time=T0))

    with ThreadPoolExecutor(len(stores)) as pool:
        results = list(pool.map(deliver, stores))
    assert sum(r.created for r in results) == 1
    assert len({r.escalation_id for r in results}) == 1
    [row] = stores[0].recent()
    assert len(row.notifications) == 2


class _LateCheckStore(EscalationStore):
    """A replica whose duplicate check ran just before another replica committed."""

    def _find_duplicate(self, conn, new, digest, message_time):
        return None


def test_message_id_conflict_from_a_racing_writer_returns_the_existing_record(db_url, make_store):
    first = make_store(db_url, targets=BOTH).record(escalation(message_id="m1", message_time=T0))
    late = _LateCheckStore(db_url, targets=BOTH)
    try:
        again = late.record(escalation(message_id="m1", message_time=T0))
    finally:
        late.dispose()
    assert again.escalation_id == first.escalation_id and not again.created
    [row] = make_store(db_url).recent()
    assert len(row.notifications) == 2  # the losing transaction added none


def _due_ids(claims):
    return {c.notification_id for c in claims}


def test_claim_due_hands_each_row_to_one_claimer(db_url, make_store):
    store = make_store(db_url, targets=BOTH)
    for i in range(15):
        store.record(escalation(f"conv-{i}", message_time=T0), now=T0)
    claimers = [make_store(db_url) for _ in range(4)]
    barrier = threading.Barrier(len(claimers))
    now = T0 + timedelta(seconds=1)

    def claim(claimer: EscalationStore):
        barrier.wait()
        got = []
        while batch := claimer.claim_due(now, limit=3, lease_seconds=60):
            got.extend(batch)
        return _due_ids(got)

    with ThreadPoolExecutor(len(claimers)) as pool:
        claimed = list(pool.map(claim, claimers))
    everything = set().union(*claimed)
    assert len(everything) == 30
    assert sum(len(c) for c in claimed) == 30  # no row handed out twice
    # While the lease lasts nobody gets them again; after it expires they are claimable.
    assert store.claim_due(now + timedelta(seconds=30), limit=100) == []
    assert _due_ids(store.claim_due(now + timedelta(seconds=61), limit=100)) == everything


def test_claim_carries_what_the_senders_need(db_url, make_store):
    store = make_store(db_url, targets=("webhook",))
    recorded = store.record(escalation(message_id="m1", message_time=T0), now=T0)
    assert store.claim_due(T0 - timedelta(seconds=1)) == []  # not due yet
    [due] = store.claim_due(T0)
    assert (due.escalation_id, due.target, due.attempts) == (recorded.escalation_id, "webhook", 0)
    assert due.message_text == PATIENT_TEXT and due.symptoms == ("saddle_numbness", "leg_weakness")
    assert due.created_at == T0
    assert PATIENT_TEXT not in repr(due)


def test_marking_retry_delivered_and_failed(db_url, make_store):
    store = make_store(db_url, targets=BOTH)
    store.record(escalation(message_time=T0), now=T0)
    webhook, sms = sorted(store.claim_due(T0), key=lambda d: d.target == "sms")
    retry_at = T0 + timedelta(seconds=5)
    assert store.mark_retry(webhook.notification_id, retry_at, "HTTP 500")
    assert store.mark_failed(sms.notification_id, "HTTP 401")
    assert store.next_due_at() == retry_at
    assert store.claim_due(T0 + timedelta(seconds=4)) == []
    [again] = store.claim_due(retry_at)
    assert again.attempts == 1
    assert store.mark_delivered(again.notification_id, retry_at)
    assert not store.mark_retry(again.notification_id, retry_at, "late")  # no longer pending
    [row] = store.recent()
    states = {n.target: (n.status, n.attempts, n.last_error) for n in row.notifications}
    assert states == {"webhook": (DELIVERED, 2, "HTTP 500"), "sms": (FAILED, 1, "HTTP 401")}
    assert store.next_due_at() is None
    with store.engine.connect() as conn:
        assert conn.execute(select(notifications_table.c.claimed_until)).scalars().all() == [None, None]


def test_tables_are_created_on_first_use_by_racing_replicas(db_url, make_store):
    stores = [make_store(db_url, targets=BOTH) for _ in range(3)]
    barrier = threading.Barrier(len(stores))

    def first_use(store: EscalationStore):
        barrier.wait()
        return store.recent()

    with ThreadPoolExecutor(len(stores)) as pool:
        assert list(pool.map(first_use, stores)) == [[], [], []]


def test_new_escalation_normalises_its_fields():
    new = escalation(message_time=T0.timestamp(), symptoms=["leg_weakness"], message_id="  ", channel="")
    assert new.message_time == T0 and new.message_id is None and new.channel == "unknown"
    assert new.symptoms == ("saddle_numbness", "leg_weakness")  # the main symptom is always listed
    assert escalation(message_time=T0.replace(tzinfo=None)).message_time == T0  # naive means UTC
    assert PATIENT_TEXT not in repr(new)
    with pytest.raises(ValueError, match="symptom"):
        escalation(symptom=" ")
