"""The red-flag detector as a Rasa NLU component: a warning sign outranks every intent.

Runs last in the pipeline, on every message, and decides on its own, whatever the intent
classifier's confidence:
- a warning sign that is present: the intent becomes `report_red_flag` (confidence 1) and
  each present symptom is a `red_flag` entity, the most severe with the role `primary`
  (it fills the slot that picks the static warning). What the patient also asked stays
  as `question_topic` entities, answered after the warning: the classifier's intent and
  the question splitter's topics, but only from a part of the message (a question, in
  `components.segments`' terms) without the warning sign, since a guess made from "I
  fainted in the kitchen" is no question;
- a warning sign asked about in general or for later ("who do I call if chills start?"):
  the handout's warning-sign answer is added (or becomes the intent);
- a negated one ("no fever, can I shower?"): the message is answered as it is, and a
  classifier guess of `report_red_flag` is replaced by its next guess;
- the classifier says `report_red_flag` but no warning sign is found: the intent becomes
  `feeling_unwell`, whose reply quotes every warning sign and asks whether any is
  happening now (red_flag_check_form), instead of staying silent.

Whenever the reply will be a warning or the warning-sign check, the clinic's details
(clinic.yml and CLINIC_* variables, the one configuration place) are added as
`clinic_detail` entities, whose roles fill the slots the static responses show: the
clinic's own numbers reach the patient even in a brand-new conversation with the action
server down, since nothing on that path waits for a custom action.

The detector reads data/red_flags.yml when the model is loaded, so a change to the warning
signs takes effect at the next start of the Rasa server.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.red_flags.detector import Finding, RedFlagDetector
from components.red_flags.lexicon import RED_FLAGS_FILE, load_lexicon
from components.segments import split_questions

ENTITY = "red_flag"
TOPIC_ENTITY = "question_topic"
PRIMARY, OTHER = "primary", "other"
FALLBACK_INTENT = "nlu_fallback"
DENY_INTENT = "deny"
CLINIC_ENTITY = "clinic_detail"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class RedFlagDetectorComponent(GraphComponent, EntityExtractorMixin):
    """Marks messages that describe a warning sign, so the dialogue escalates first."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """The data file, the intents it sets, and what counts as a handout topic."""
        return {
            "red_flags_file": str(RED_FLAGS_FILE),
            "report_intent": "report_red_flag",
            "unwell_intent": "feeling_unwell",
            "warning_signs_intent": "ask_warning_signs",
            "topic_pattern": r"^ask_(?!capabilities$)",
            "fallback_threshold": 0.3,
        }

    def __init__(self, config: Dict[str, Any], detector: RedFlagDetector) -> None:
        self._config = {**self.get_default_config(), **config}
        self._detector = detector
        self._topic = re.compile(self._config["topic_pattern"])

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RedFlagDetectorComponent:
        """Builds the detector from the data file (about a second, once per process)."""
        merged = {**cls.get_default_config(), **config}
        return cls(merged, RedFlagDetector(load_lexicon(Path(merged["red_flags_file"]))))

    def _is_topic(self, intent: str | None) -> bool:
        return bool(intent) and bool(self._topic.search(intent or ""))

    def process(self, messages: List[Message]) -> List[Message]:
        """Runs the detector on each message and sets intent and entities accordingly."""
        for message in messages:
            finding = self._detector.detect(message.get(TEXT) or "")
            self._apply(message, finding)
        return messages

    def _apply(self, message: Message, finding: Finding) -> None:
        intent = (message.get(INTENT) or {}).get("name")
        ranking = message.get(INTENT_RANKING_KEY) or []
        report, warning = self._config["report_intent"], self._config["warning_signs_intent"]
        unwell = self._config["unwell_intent"]
        entities = list(message.get(ENTITIES) or [])
        if finding.present:
            flagged = [(m.start_char, m.end_char) for m in finding.mentions if m.symptom in finding.present]
            other_parts = [
                p for p in split_questions(message.get(TEXT) or "")
                if not any(p.start < end and start < p.end for start, end in flagged)
            ]
            if other_parts and self._is_topic(intent) and intent != warning:
                entities.append(self._topic_entity(intent))
            entities = [e for e in entities if not self._about_red_flag(e, flagged, warning)]
            entities += self._red_flag_entities(finding)
            self._set_intent(message, report, ranking)
        elif intent in (report, unwell) or (intent == FALLBACK_INTENT and self._top_guess(ranking) == report):
            if finding.hypothetical:
                self._set_intent(message, warning, ranking)
            elif finding.negated and intent == report:
                self._set_next_best(message, ranking, exclude={report})
            else:  # unwell, but no sign the detector can name: ask
                self._set_intent(message, unwell, ranking)
        elif finding.negated and intent == DENY_INTENT and (topic := self._first_topic(entities)):
            # "no fever or anything, can i have a bath yet": the "no" is about the warning
            # sign, and the message is the question (components/question_splitter.py)
            entities = [e for e in entities if e is not topic]
            self._set_intent(message, topic["value"], ranking)
        elif finding.hypothetical:
            if self._is_topic(intent):
                if intent != warning and not any(e.get("value") == warning for e in entities):
                    entities.append(self._topic_entity(warning))
            else:
                self._set_intent(message, warning, ranking)
        final = (message.get(INTENT) or {}).get("name")
        if final in (report, unwell) or finding.present:
            entities += self._clinic_entities()
        message.set(ENTITIES, entities, add_to_output=True)

    def _clinic_entities(self) -> List[Dict[str, Any]]:
        """The clinic's details as entities (loaded once per process, environment first)."""
        from actions.clinic import clinic  # the same cached loader the action server uses

        try:
            details = clinic().as_slots()
        except (OSError, ValueError):  # a broken clinic.yml must never block a warning
            return []
        return [
            {"entity": CLINIC_ENTITY, "role": name, "value": value, "extractor": self.__class__.__name__}
            for name, value in details.items()
        ]

    @staticmethod
    def _about_red_flag(entity: Dict[str, Any], flagged: List[tuple], warning: str) -> bool:
        """A topic guessed from the warning sign's own words, or the warning-sign topic."""
        if entity.get("entity") != TOPIC_ENTITY:
            return False
        if entity.get("value") == warning:
            return True
        start, end = entity.get("start"), entity.get("end")
        return start is not None and any(start < e and s < end for s, e in flagged)

    @staticmethod
    def _first_topic(entities: List[Dict[str, Any]]) -> Dict[str, Any] | None:
        return next((e for e in entities if e.get("entity") == TOPIC_ENTITY), None)

    @staticmethod
    def _top_guess(ranking: List[Dict[str, Any]]) -> str | None:
        return ranking[0]["name"] if ranking else None

    def _red_flag_entities(self, finding: Finding) -> List[Dict[str, Any]]:
        entities = []
        for index, symptom in enumerate(finding.present):
            mention = next(m for m in finding.mentions if m.symptom == symptom)
            role = PRIMARY if index == 0 else OTHER
            entities.append(self._entity(symptom, role, mention.start_char, mention.end_char))
        return entities

    def _entity(self, value: str, role: str, start: int, end: int) -> Dict[str, Any]:
        return {
            "entity": ENTITY,
            "value": value,
            "role": role,
            "start": start,
            "end": end,
            "confidence_entity": 1.0,
            "extractor": self.__class__.__name__,
        }

    def _topic_entity(self, intent: str) -> Dict[str, Any]:
        return {"entity": TOPIC_ENTITY, "value": intent, "extractor": self.__class__.__name__}

    @staticmethod
    def _set_intent(message: Message, name: str, ranking: List[Dict[str, Any]]) -> None:
        chosen = {"name": name, "confidence": 1.0}
        rest = [r for r in ranking if r.get("name") != name]
        message.set(INTENT, chosen, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [chosen, *rest], add_to_output=True)

    def _set_next_best(self, message: Message, ranking: List[Dict[str, Any]], exclude: set) -> None:
        """The classifier's best other guess, or the fallback when it is not sure enough."""
        options = [r for r in ranking if r.get("name") not in exclude | {FALLBACK_INTENT}]
        if options and options[0]["confidence"] >= self._config["fallback_threshold"]:
            message.set(INTENT, options[0], add_to_output=True)
        else:
            message.set(INTENT, {"name": FALLBACK_INTENT, "confidence": 1.0}, add_to_output=True)
        message.set(INTENT_RANKING_KEY, options, add_to_output=True)
