"""The linear intent classifier, trained and loaded through Rasa's model storage."""

from __future__ import annotations

from pathlib import Path

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.intent_classifier import LinearIntentClassifier
from tests.components.test_question_splitter import EXAMPLES

CONTEXT = ExecutionContext(GraphSchema({}), "test")


def loaded(tmp_path: Path) -> LinearIntentClassifier:
    storage, resource = LocalModelStorage(tmp_path), Resource("intents")
    component = LinearIntentClassifier.create({}, storage, resource, CONTEXT)
    component.train(
        TrainingData([Message(data={"text": t, "intent": i}) for i, ts in EXAMPLES.items() for t in ts])
    )
    return LinearIntentClassifier.load({}, storage, resource, CONTEXT)


def classify(component: LinearIntentClassifier, text: str) -> Message:
    message = Message({"text": text})
    component.process([message])
    return message


def test_unseen_wording_gets_the_right_intent_and_a_ranking(tmp_path: Path) -> None:
    message = classify(loaded(tmp_path), "is showering ok tonite")
    assert message.get("intent")["name"] == "ask_bathing"
    ranking = message.get("intent_ranking")
    assert [r["name"] for r in ranking][0] == "ask_bathing"
    assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-6
    assert ranking[0]["confidence"] > ranking[1]["confidence"]


def test_text_with_nothing_known_is_left_unclassified(tmp_path: Path) -> None:
    component = loaded(tmp_path)
    for text in ["", "   ", "🙂🙏😬", "ЖЖЖ"]:
        intent = classify(component, text).get("intent")
        assert intent["name"] is None and intent["confidence"] == 0.0, text


def test_a_huge_message_is_classified_without_error(tmp_path: Path) -> None:
    assert classify(loaded(tmp_path), "can i shower " * 2000).get("intent")["name"] == "ask_bathing"
