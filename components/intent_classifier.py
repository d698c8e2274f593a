"""Intent classifier: a linear model over TF-IDF character and word n-grams.

Replaces DIET in this project because it generalises better on patient wording with the
amount of data a clinic can write (measured in docs/nlu.md), trains in seconds, and
answers in well under a millisecond. It sets `intent` and `intent_ranking` like any Rasa
intent classifier, so the FallbackClassifier and the policies work unchanged.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List

import joblib
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.pipeline import Pipeline

from components.text_model import build_text_model, confidences

logger = logging.getLogger(__name__)

MODEL_FILE = "intent_model.joblib"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """Classifies intents with TF-IDF n-grams and a linear SVM."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """SVM regularisation, confidence sharpness and ranking length."""
        return {"C": 0.5, "temperature": 8.0, "ranking_length": 10}

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Pipeline | None = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        """Creates an untrained classifier."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        """Loads the trained model; without one, every message is left unclassified."""
        model = None
        try:
            with model_storage.read_from(resource) as directory:
                model = joblib.load(directory / MODEL_FILE)
        except (ValueError, FileNotFoundError):
            logger.warning("LinearIntentClassifier has no trained model.")
        return cls(config, model_storage, resource, model)

    def train(self, training_data: TrainingData) -> Resource:
        """Fits the model on the intent examples and stores it with the Rasa model."""
        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        labels = [m.get(INTENT) for m in examples]
        if len(set(labels)) < 2:
            logger.warning("LinearIntentClassifier needs at least two intents to train.")
            return self._resource
        model = build_text_model(self._config["C"])
        model.fit([m.get(TEXT) for m in examples], labels)
        self._model = model
        with self._storage.write_to(self._resource) as directory:
            joblib.dump(model, directory / MODEL_FILE)
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        """Sets the intent and the ranking of the best intents on each message."""
        if self._model is None or not messages:
            return messages
        texts = [m.get(TEXT) or "" for m in messages]
        rows = confidences(self._model, texts, self._config["temperature"])
        classes = list(self._model.classes_)
        for message, text, row in zip(messages, texts, rows, strict=False):
            if not text.strip() or not row.any():
                message.set(INTENT, {"name": None, "confidence": 0.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
                continue
            order = row.argsort()[::-1][: self._config["ranking_length"]]
            ranking = [{"name": classes[i], "confidence": float(row[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
