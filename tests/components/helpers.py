"""Shared by the component tests: a small intent classifier trained and loaded for real."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.encoder.minilm import shared_encoder
from components.intent_classifier import LinearIntentClassifier

CONTEXT = ExecutionContext(GraphSchema({}), "test")


def trained_classifier(examples: Dict[str, List[str]], directory: Path) -> LinearIntentClassifier:
    """Trains the classifier on these examples, stores it, and loads it as Rasa would."""
    storage, resource = LocalModelStorage(directory), Resource("intents")
    component = LinearIntentClassifier.create({}, storage, resource, CONTEXT)
    data = TrainingData([Message(data={"text": t, "intent": i}) for i, ts in examples.items() for t in ts])
    component.train(data, shared_encoder())
    return LinearIntentClassifier.load({}, storage, resource, CONTEXT)
