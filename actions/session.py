"""Start each conversation with the clinic's details in slots, for the static responses."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.clinic import clinic

CARRIED_OVER = ("procedure_phase",)


class ActionSessionStart(Action):
    """Starts a session like Rasa's default, carrying over what the patient told us."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        events: List[Dict[str, Any]] = [SessionStarted()]
        events += [SlotSet(name, value) for name, value in clinic().as_slots().items()]
        events += [
            SlotSet(name, tracker.get_slot(name))
            for name in CARRIED_OVER
            if tracker.get_slot(name) is not None
        ]
        events.append(ActionExecuted("action_listen"))
        return events
