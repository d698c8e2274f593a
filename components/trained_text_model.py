"""Base for components that train, store and load one `components.text_model.TextModel`."""

from __future__ import annotations

import logging
from typing import Any, Dict

import joblib
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.encoder.minilm import SentenceEncoder
from components.text_model import TextModel

logger = logging.getLogger(__name__)


class TrainedTextModelComponent(GraphComponent):
    """Trains the text model on the intent examples and keeps it with the Rasa model."""

    MODEL_FILE = "text_model.joblib"

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: TextModel | None = None,
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
    ) -> TrainedTextModelComponent:
        """Creates an untrained component."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TrainedTextModelComponent:
        """Loads the trained model; without one the component leaves messages alone."""
        model = None
        try:
            with model_storage.read_from(resource) as directory:
                model = joblib.load(directory / cls.MODEL_FILE)
        except (ValueError, FileNotFoundError):
            logger.warning("%s has no trained model.", cls.__name__)
        return cls(config, model_storage, resource, model)

    def train(self, training_data: TrainingData, model: SentenceEncoder | None = None) -> Resource:
        """Fits the model on the intent examples and stores it."""
        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        labels = [m.get(INTENT) for m in examples]
        if len(set(labels)) < 2:
            logger.warning("%s needs at least two intents to train.", type(self).__name__)
            return self._resource
        text_model = TextModel(
            c=self._config.get("C", 0.5),
            encoder_weight=self._config.get("encoder_weight", 1.0) if model is not None else 0.0,
            use_ngrams=self._config.get("use_ngrams", True),
        )
        text_model.fit([m.get(TEXT) for m in examples], labels, model)
        self._model = text_model
        with self._storage.write_to(self._resource) as directory:
            joblib.dump(text_model, directory / self.MODEL_FILE)
        return self._resource
