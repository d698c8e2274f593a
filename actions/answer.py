"""Answer handout questions, one reply per question the patient asked."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.clinic import clinic
from actions.knowledge import knowledge, render_contacts, render_quotes, render_topic

PHASE_SLOT = "procedure_phase"
LAST_TOPICS_SLOT = "last_topics"
QUESTION_ENTITY = "question_topic"

CANNOT_ANSWER = (
    "I'm sorry, I can't answer that. I can only answer questions about your medial branch "
    "neurotomy from {clinic}'s handouts, in English: what the procedure is, getting ready, "
    "what happens during it, going home, care at home, pain relief, follow-up, and when to "
    "call for help."
)
NOTED = {
    "before": "Thanks. I'll answer for before your procedure from now on.",
    "after": "Thanks. I'll answer for after your procedure from now on.",
    None: "Thanks. What would you like to know?",
}
NEAREST_ONLY = (
    "The handouts don't say exactly that, so please check with your care team. "
    "The nearest they say is:"
)
FIT_ENTITY, NEAREST = "answer_fit", "nearest"
PARTLY_ANSWERED = "I couldn't answer every part of your message from the handouts."
# A warning sign was reported: the warning and the alert come first (rules), and this
# action answers only what else the patient asked, if anything.
RED_FLAG_INTENT = "report_red_flag"
# A no to the warning-sign check ("no", or "I'm fine") answers what the message that
# started the check asked.
DENY_INTENTS = ("deny", "report_well")
UNWELL_INTENT = "feeling_unwell"


def _intent_of(parse_data: Dict[str, Any]) -> str | None:
    return (parse_data.get("intent") or {}).get("name")


def answering_check(tracker: Tracker) -> Dict[str, Any] | None:
    """The message that started the warning-sign check, when the latest one answers it no."""
    users = [e for e in tracker.events if e.get("event") == "user"]
    if len(users) < 2 or _intent_of(users[-1].get("parse_data") or {}) not in DENY_INTENTS:
        return None
    earlier = users[-2].get("parse_data") or {}
    return earlier if _intent_of(earlier) == UNWELL_INTENT else None


def asked_topics(tracker: Tracker) -> List[str]:
    """The topics of the latest message: its intent, then any extra questions in it."""
    topics = knowledge().topics
    latest = answering_check(tracker) or tracker.latest_message or {}
    intent = (latest.get("intent") or {}).get("name")
    found = [intent] if intent in topics else []
    for entity in latest.get("entities") or []:
        value = entity.get("value")
        if entity.get("entity") == QUESTION_ENTITY and value in topics and value not in found:
            found.append(value)
    return found


def nearest_only(message: Dict[str, Any]) -> bool:
    """Whether NLU found the message's topic only a weak match (components.answer_fit)."""
    return any(
        e.get("entity") == FIT_ENTITY and e.get("value") == NEAREST
        for e in message.get("entities") or []
    )


def cannot_answer_text() -> str:
    """The honest 'I can't answer that' with the care team's numbers and the handout's advice."""
    kb, details = knowledge(), clinic()
    return "\n".join(
        [
            CANNOT_ANSWER.format(clinic=details.clinic_name),
            render_quotes(kb.general, kb.titles),
            render_contacts(details),
        ]
    )


class ActionAnswerQuestion(Action):
    """Quotes the handouts for every topic asked; says plainly when it has no answer."""

    def name(self) -> str:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        topics = asked_topics(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if (intent == RED_FLAG_INTENT or answering_check(tracker)) and not topics:
            return clinic().slot_events(tracker)
        if not topics:
            dispatcher.utter_message(text=cannot_answer_text())
            return [SlotSet(LAST_TOPICS_SLOT, None), *clinic().slot_events(tracker)]
        kb, details = knowledge(), clinic()
        phase: str | None = tracker.get_slot(PHASE_SLOT)
        asked = answering_check(tracker) or tracker.latest_message or {}
        main = (asked.get("intent") or {}).get("name")
        hedged = nearest_only(asked)
        for name in topics:
            text = render_topic(kb.topics[name], phase, kb, details)
            if hedged and name == main:
                # A weak match is not presented as the answer: it is the nearest there is.
                # (the care team's numbers once: some topics end with them already)
                contacts = [] if kb.topics[name].contacts else [render_contacts(details)]
                text = "\n".join([NEAREST_ONLY, text, *contacts])
            dispatcher.utter_message(text=text)
        if intent not in kb.topics and intent != RED_FLAG_INTENT and not answering_check(tracker):
            dispatcher.utter_message(text=PARTLY_ANSWERED + " " + render_contacts(details))
        return [SlotSet(LAST_TOPICS_SLOT, topics), *details.slot_events(tracker)]


class ActionAcknowledgePhase(Action):
    """After the patient says whether they have had the procedure, answer for that phase.

    The slot itself is filled by the domain's slot mappings; this action re-answers the
    last timing-dependent question for the phase now known, so the patient does not have
    to ask again.
    """

    def name(self) -> str:
        return "action_acknowledge_phase"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        kb, details = knowledge(), clinic()
        phase = tracker.get_slot(PHASE_SLOT)
        asked = asked_topics(tracker)
        if asked:  # "had it this morning. when can i drive again": the phase, then the answer
            dispatcher.utter_message(text=NOTED.get(phase, NOTED[None]))
            for name in asked:
                dispatcher.utter_message(text=render_topic(kb.topics[name], phase, kb, details))
            return [SlotSet(LAST_TOPICS_SLOT, asked), *details.slot_events(tracker)]
        last = [kb.topics[t] for t in tracker.get_slot(LAST_TOPICS_SLOT) or [] if t in kb.topics]
        timing = [t for t in last if t.timing]
        if phase and timing:
            dispatcher.utter_message(text="Thanks, that helps. Here is the answer for you:")
            for topic in timing:
                dispatcher.utter_message(text=render_topic(topic, phase, kb, details))
        else:
            dispatcher.utter_message(text=NOTED.get(phase, NOTED[None]))
        return details.slot_events(tracker)
