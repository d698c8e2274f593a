"""Mark a topic answer as only the nearest the handouts have, when the match is weak.

The intent classifier always picks some topic, however far a question is from anything it
was trained on: "what's the success rate?" lands on how long relief lasts. Quoting that
as if it were the answer is an invented answer by another name. This component adds an
`answer_fit` entity with the value `nearest` when the topic's confidence is low or the
message is far from every example of that topic (the encoder's cosine similarity, set by
the classifier), or when the classifier itself gives out-of-scope a real chance beside it
(`max_out_of_scope`: "I have a pacemaker, is the radiofrequency safe?"), or when the
nearest training example of all is an out-of-scope one (`out_of_scope_margin`); the answer
action then says plainly that the handouts don't say exactly that, beside the nearest
quote and the care team's numbers. The limits live in config.yml.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.configured import ConfiguredComponent
from components.intent_classifier import SIMILARITY

ENTITY = "answer_fit"
NEAREST = "nearest"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class AnswerFit(ConfiguredComponent, EntityExtractorMixin):
    """Adds `answer_fit: nearest` to a topic question the handouts may not answer."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Which intents are topics, and the confidence and similarity a sure answer needs."""
        return {
            "topic_pattern": r"^ask_(?!capabilities$)",
            "min_confidence": 0.6,
            "min_similarity": 0.5,
            "out_of_scope_intent": "out_of_scope",
            "max_out_of_scope": 1.01,
            # None: off. Otherwise how much nearer an out-of-scope example may be than the
            # topic's nearest before the answer is only the nearest.
            "out_of_scope_margin": None,
        }

    def __init__(self, config: Dict[str, Any]) -> None:
        super().__init__(config)
        self._topic = re.compile(self._config["topic_pattern"])

    def is_uncertain(self, message: Message) -> bool:
        """Whether the message's topic is a weak match: low confidence or no near example."""
        intent = message.get(INTENT) or {}
        name = intent.get("name")
        if not name or not self._topic.search(name):
            return False
        if float(intent.get("confidence") or 0.0) < self._config["min_confidence"]:
            return True
        ranking = {
            r.get("name"): float(r.get("confidence") or 0.0) for r in message.get(INTENT_RANKING_KEY) or []
        }
        if ranking.get(self._config["out_of_scope_intent"], 0.0) >= self._config["max_out_of_scope"]:
            return True
        similarities = message.get(SIMILARITY) or {}
        similarity = similarities.get(name)
        if similarity is None:
            return False
        if similarity < self._config["min_similarity"]:
            return True
        # the nearest question ever taught is one the handouts do not answer ("how long is
        # the wait list?" beside "how long until I can go home?")
        margin = self._config["out_of_scope_margin"]
        nearest_unanswered = similarities.get(self._config["out_of_scope_intent"])
        if margin is None or nearest_unanswered is None:
            return False
        return nearest_unanswered - similarity > margin

    def process(self, messages: List[Message]) -> List[Message]:
        """Adds the entity over the whole message when its topic is a weak match."""
        for message in messages:
            if self.is_uncertain(message):
                text = message.get(TEXT) or ""
                entity = {
                    "entity": ENTITY,
                    "value": NEAREST,
                    "start": 0,
                    "end": len(text),
                    "extractor": self.__class__.__name__,
                }
                message.set(ENTITIES, message.get(ENTITIES, []) + [entity], add_to_output=True)
        return messages
