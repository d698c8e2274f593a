"""Care-team alerting: record a patient's warning sign once and make sure staff hear of it.

The action calls `await escalate(NewEscalation(...))`; staff use `python -m escalations`.
"""

from escalations.notify import sign, verify
from escalations.settings import Settings, SettingsError, get_settings, load_settings
from escalations.store import (
    EscalationStore,
    EscalationView,
    NewEscalation,
    RecordResult,
    get_store,
    reset_store_cache,
)
from escalations.worker import attach, attach_to_action_server, deliver_due, escalate, notify_soon

__all__ = [
    "EscalationStore",
    "EscalationView",
    "NewEscalation",
    "RecordResult",
    "Settings",
    "SettingsError",
    "attach",
    "attach_to_action_server",
    "deliver_due",
    "escalate",
    "get_settings",
    "get_store",
    "load_settings",
    "notify_soon",
    "reset_store_cache",
    "sign",
    "verify",
]
