"""The clinic's details, read from clinic.yml and overridable from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Mapping

import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

PROJECT_DIR = Path(__file__).resolve().parent.parent
CLINIC_FILE = PROJECT_DIR / "clinic.yml"
ENV_PREFIX = "CLINIC_"


@dataclass(frozen=True)
class Clinic:
    """What patients need to reach the clinic; never typed into responses directly."""

    clinic_name: str
    care_team_phone: str
    nurse_line_phone: str
    emergency_number: str = "911"

    def as_slots(self) -> dict:
        """The details as slot values, for responses that show them."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def slot_events(self, tracker: Tracker) -> List[Dict[str, Any]]:
        """SlotSet events for the details the conversation lacks: every custom action
        returns them.

        The static responses read the details from slots. Conversations start with Rasa's
        own session start, which needs no action server, so the slots are filled by the
        first custom action and then carried over; until then the responses have a
        variation without them. Only changed values are set, so the tracker does not grow
        by four events a turn.
        """
        return [
            SlotSet(name, value) for name, value in self.as_slots().items() if tracker.get_slot(name) != value
        ]


def load_clinic(path: Path = CLINIC_FILE, environ: Mapping[str, str] | None = None) -> Clinic:
    """Reads the file, then lets CLINIC_<FIELD> environment variables override it."""
    environ = os.environ if environ is None else environ
    values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for field in fields(Clinic):
        override = environ.get(ENV_PREFIX + field.name.upper().removeprefix("CLINIC_"))
        if override:
            values[field.name] = override
    values.setdefault("emergency_number", Clinic.emergency_number)
    missing = [f.name for f in fields(Clinic) if not str(values.get(f.name) or "").strip()]
    if missing:
        raise ValueError(f"clinic.yml is missing {', '.join(missing)}")
    return Clinic(**{f.name: str(values[f.name]).strip() for f in fields(Clinic)})


@lru_cache(maxsize=1)
def clinic() -> Clinic:
    """The clinic of this process, loaded once."""
    return load_clinic()
