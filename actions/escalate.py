"""Tell the care team about a warning sign, after the patient already has the instruction.

The patient's instruction ("Call 911 …") is a static response the Rasa server sends before
this action runs, so it never waits for the action server. This action records the
escalation (once, however often the message is delivered), has the care team notified in
the background, and tells the patient it did so (or, if it could not, to call the clinic's
numbers, which it repeats). It also
records any earlier warning sign of the conversation that was not recorded because the
action server was unreachable at the time.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.clinic import clinic
from actions.knowledge import Quote, knowledge, render_contacts, render_quotes
from components.red_flags.lexicon import Lexicon, load_lexicon
from escalations import NewEscalation, attach_to_action_server, escalate

logger = logging.getLogger(__name__)

ENTITY = "red_flag"
PRIMARY = "primary"
# "Yes" to "Is any of this happening now?" after a vague report: urgent, sign not named.
CONFIRMED_INTENT = "affirm"
UNWELL_INTENT = "feeling_unwell"
UNNAMED = "unnamed_warning_sign"

ALERTED = "I have let the {clinic} care team know (alert number {id})."
ALREADY_ALERTED = "The {clinic} care team already has this message (alert number {id})."
# After a 911 warning, the alert must not read as if help were on its way.
NOT_INSTEAD_OF_911 = "This does not replace calling {emergency}: if you have not called yet, please call now."
# A repeat of the warning for a follow-up question ("is that normal?") is no new alert.
FOLLOW_UP = "follow_up"
CONFIRMED = "confirmed"
NOT_ALERTED = (
    "I could not pass this on to the care team from this chat, so please call them yourself."
)
ALSO_DESCRIBED = "You also described:"

# The background notifier starts with the action server, so alerts left pending by a
# restart go out without waiting for the next escalation.
attach_to_action_server()

_lexicon: Lexicon | None = None


def lexicon() -> Lexicon:
    """The warning signs, read once per process from data/red_flags.yml."""
    global _lexicon
    if _lexicon is None:
        _lexicon = load_lexicon()
    return _lexicon


def red_flags_of(parse_data: Dict[str, Any]) -> Tuple[str | None, List[str]]:
    """The primary warning sign of a parsed message and all its warning signs, in order."""
    entities = [
        e for e in parse_data.get("entities") or []
        if e.get("entity") == ENTITY and e.get("detector") != FOLLOW_UP
    ]
    primary = next((e["value"] for e in entities if e.get("role") == PRIMARY), None)
    symptoms = [e["value"] for e in entities]
    if primary in symptoms:
        symptoms.remove(primary)
        symptoms.insert(0, primary)
    return primary, symptoms


def detectors_of(parse_data: Dict[str, Any]) -> List[str]:
    """Which detectors found the message's warning signs, for the care team's record."""
    found: List[str] = []
    for entity in parse_data.get("entities") or []:
        if entity.get("entity") == ENTITY:
            found += [d for d in str(entity.get("detector") or "").split("+") if d and d not in found]
    return found


def new_escalation(
    tracker: Tracker, event: Dict[str, Any], symptoms: List[str], previous: Dict[str, Any] | None = None
) -> NewEscalation:
    """The record of one user message with warning signs."""
    parse_data = event.get("parse_data") or {}
    detectors = detectors_of(parse_data)
    text = event.get("text") or parse_data.get("text") or ""
    if CONFIRMED in detectors and previous:  # a yes: keep what the patient first wrote
        text = f"{previous.get('text') or ''}\n(answered \"{text}\" to: {symptoms[0]} right now?)"
    return NewEscalation(
        detectors=detectors,
        conversation_id=tracker.sender_id,
        level=lexicon().symptoms[symptoms[0]].level,
        symptom=symptoms[0],
        symptoms=symptoms,
        message_text=text,
        channel=event.get("input_channel") or tracker.get_latest_input_channel() or "unknown",
        message_id=event.get("message_id"),
        message_time=event.get("timestamp"),
    )


def _intent(event: Dict[str, Any]) -> str | None:
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def unnamed_escalation(tracker: Tracker, unwell: Dict[str, Any], answer: Dict[str, Any]) -> NewEscalation:
    """A yes to the warning-sign check: urgent, with what the patient first wrote."""
    return NewEscalation(
        conversation_id=tracker.sender_id,
        level="urgent",
        symptom=UNNAMED,
        symptoms=[UNNAMED],
        message_text=f"{unwell.get('text') or ''}\n"
        f"(answered \"{answer.get('text') or ''}\" to: is any of this happening now?)",
        channel=answer.get("input_channel") or tracker.get_latest_input_channel() or "unknown",
        message_id=answer.get("message_id"),
        message_time=answer.get("timestamp"),
        detectors=["confirmed"],
    )


def escalations_in(tracker: Tracker) -> List[NewEscalation]:
    """Every escalation the conversation's messages call for, oldest first: each message
    with a present warning sign, and each yes that answers the warning-sign check.

    Recording is idempotent (by message id), so recording all of them adds only those
    that were missed, for example while the action server was down.
    """
    found: List[NewEscalation] = []
    previous: Dict[str, Any] = {}
    for event in (e for e in tracker.events if e.get("event") == "user"):
        _, symptoms = red_flags_of(event.get("parse_data") or {})
        symptoms = [s for s in symptoms if s in lexicon().symptoms]
        if symptoms:
            found.append(new_escalation(tracker, event, symptoms, previous))
        elif _intent(event) == CONFIRMED_INTENT and _intent(previous) == UNWELL_INTENT:
            found.append(unnamed_escalation(tracker, previous, event))
        previous = event
    return found


def bullets_text(symptoms: List[str]) -> str:
    """The handout bullets of these warning signs, quoted with their titles."""
    quotes: List[Quote] = []
    for name in symptoms:
        quotes += [Quote(b.source, b.text) for b in lexicon().symptoms[name].bullets]
    return render_quotes(tuple(quotes), knowledge().titles)


class ActionEscalate(Action):
    """Records the escalation, alerts the care team and gives the clinic's numbers."""

    def name(self) -> str:
        return "action_escalate"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        details = clinic()
        history = escalations_in(tracker)
        users = [e for e in tracker.events if e.get("event") == "user"]
        if not history or not users or history[-1].message_id != users[-1].get("message_id"):
            return details.slot_events(tracker)  # this message calls for no escalation
        *earlier, record = history
        try:
            for missed in earlier:
                await escalate(missed)
            result = await escalate(record)
            template = ALERTED if result.created else ALREADY_ALERTED
            lines = [template.format(clinic=details.clinic_name, id=result.escalation_id)]
            if record.level == "emergency":
                lines.append(NOT_INSTEAD_OF_911.format(emergency=details.emergency_number))
            logger.info("Escalation %s: %s, new: %s.", result.escalation_id, record.symptom, result.created)
        except Exception as error:  # the patient must hear that nobody was told
            logger.error("Could not record an escalation: %s", type(error).__name__)
            lines = [NOT_ALERTED]
        if lines[0] == NOT_ALERTED or tracker.get_slot("care_team_phone") is None:
            lines.append(render_contacts(details))  # the static reply could not show them
        if len(record.symptoms) > 1:
            lines += [ALSO_DESCRIBED, bullets_text(list(record.symptoms[1:]))]
        dispatcher.utter_message(text="\n".join(lines))
        return details.slot_events(tracker)
