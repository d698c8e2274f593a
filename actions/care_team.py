"""Put the patient in touch with a person at the clinic."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.clinic import clinic
from actions.knowledge import knowledge, render_contacts, render_quotes

HANDOFF = (
    "I can't connect you to a person from this chat, but the care team can help you "
    "directly. If you think you may need emergency care, call {emergency} now."
)


class ActionContactCareTeam(Action):
    """Gives the care team's numbers; this assistant does not book or transfer calls."""

    def name(self) -> str:
        return "action_contact_care_team"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        kb, details = knowledge(), clinic()
        dispatcher.utter_message(
            text="\n".join(
                [
                    HANDOFF.format(emergency=details.emergency_number),
                    render_contacts(details),
                    render_quotes(kb.general, kb.titles),
                ]
            )
        )
        return details.slot_events(tracker)
