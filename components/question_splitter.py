"""Find every handout question in a message that asks more than one.

The intent classifier gives one intent per message, but patients write "can i shower
and when can i drive?". This component cuts the message into questions
(`components.segments`) and classifies each piece with its own copy of the intent model
(`components.text_model`), trained on the same NLU data. Each topic found besides the
message's main intent is added as a `question_topic` entity, so the answer action can
reply to all of them. It only adds topics it is confident about: an unrelated quote is
worse than a missing one, and the patient can still ask again.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.segments import split_questions
from components.text_model import confidences
from components.trained_text_model import TrainedTextModelComponent

ENTITY = "question_topic"
# Intents that are a one-word answer; said in a long message, the question may follow a comma.
SHORT_ANSWER_INTENTS = frozenset({"deny", "affirm", "thank", "greet", "nlu_fallback"})


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True
)
class QuestionSplitter(TrainedTextModelComponent, EntityExtractorMixin):
    """Adds a `question_topic` entity for each extra question in a message."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Which intents count as topics, and how sure a piece's topic must be."""
        return {"topic_pattern": r"^ask_(?!capabilities$)", "threshold": 0.6, "temperature": 8.0}

    MODEL_FILE = "segment_classifier.joblib"

    def topics(self, text: str, at_commas: bool = False) -> List[Dict[str, Any]]:
        """The confident topic of each question piece of a multi-question text."""
        pieces = split_questions(text, at_commas)
        if self._model is None or len(pieces) < 2:
            return []
        probabilities = confidences(self._model, [p.text for p in pieces], self._config["temperature"])
        classes = list(self._model.classes_)
        found = []
        for piece, row in zip(pieces, probabilities, strict=False):
            best = int(row.argmax())
            intent = classes[best]
            if row[best] >= self._config["threshold"] and re.search(self._config["topic_pattern"], intent):
                found.append(
                    {"value": intent, "start": piece.start, "end": piece.end, "confidence": float(row[best])}
                )
        return found

    def process(self, messages: List[Message]) -> List[Message]:
        """Adds one entity per extra topic, in the order the patient asked them."""
        for message in messages:
            main = (message.get(INTENT) or {}).get("name")
            seen = {main}
            extra = []
            # A long message read as a bare "no" or "ok" usually asks something after a comma.
            for topic in self.topics(message.get(TEXT) or "", at_commas=main in SHORT_ANSWER_INTENTS):
                if topic["value"] in seen:
                    continue
                seen.add(topic["value"])
                extra.append({"entity": ENTITY, "extractor": self.__class__.__name__, **topic})
            if extra:
                message.set(ENTITIES, message.get(ENTITIES, []) + extra, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Adds nothing to training data: the entities exist only at inference."""
        return training_data
