"""Find every handout question in a message that asks more than one.

The intent classifier gives one intent per message, but patients write "can i shower
and when can i drive?". The classifier also ranks each question piece of the message
(`components.segments`) with the same trained model; this component picks, with its
settings from config.yml, the pieces whose topic is confident and adds each topic
besides the message's main intent as a `question_topic` entity, so the answer action can
reply to all of them. It only adds topics it is confident about: an unrelated quote is
worse than a missing one, and the patient can still ask again.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT
from rasa.shared.nlu.training_data.message import Message

from components.configured import ConfiguredComponent
from components.intent_classifier import PIECES

ENTITY = "question_topic"
# Intents that are a one-word answer; said in a long message, the question may follow a comma.
SHORT_ANSWER_INTENTS = frozenset({"deny", "affirm", "thank", "greet", "nlu_fallback"})


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class QuestionSplitter(ConfiguredComponent, EntityExtractorMixin):
    """Adds a `question_topic` entity for each extra question in a message."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Which intents count as topics, and how sure a piece's topic must be."""
        return {"topic_pattern": r"^ask_(?!capabilities$)", "threshold": 0.6}

    def __init__(self, config: Dict[str, Any]) -> None:
        super().__init__(config)
        self._topic = re.compile(self._config["topic_pattern"])

    def topics(self, message: Message, at_commas: bool = False) -> List[Dict[str, Any]]:
        """The confident topic of each question piece of a multi-question message."""
        pieces = (message.get(PIECES) or {}).get("commas" if at_commas else "plain") or []
        found = []
        for piece in pieces:
            if not piece["ranking"]:
                continue
            best = piece["ranking"][0]
            if best["confidence"] >= self._config["threshold"] and self._topic.search(best["name"]):
                found.append(
                    {
                        "value": best["name"],
                        "start": piece["start"],
                        "end": piece["end"],
                        "confidence": best["confidence"],
                    }
                )
        return found

    def process(self, messages: List[Message]) -> List[Message]:
        """Adds one entity per extra topic, in the order the patient asked them."""
        for message in messages:
            main = (message.get(INTENT) or {}).get("name")
            seen = {main}
            extra = []
            # A long message read as a bare "no" or "ok" usually asks something after a comma.
            for topic in self.topics(message, at_commas=main in SHORT_ANSWER_INTENTS):
                if topic["value"] in seen:
                    continue
                seen.add(topic["value"])
                extra.append({"entity": ENTITY, "extractor": self.__class__.__name__, **topic})
            if extra:
                message.set(ENTITIES, message.get(ENTITIES, []) + extra, add_to_output=True)
        return messages
