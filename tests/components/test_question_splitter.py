"""The multi-question component, trained and loaded through Rasa's model storage."""

from __future__ import annotations

from pathlib import Path

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.question_splitter import QuestionSplitter

EXAMPLES = {
    "ask_bathing": ["can i shower", "is a bath ok", "when can i take a bath", "shower tonight ok?",
                    "can i get in the tub", "is showering allowed", "hot tub ok?", "wash in the shower"],
    "ask_return_to_work": ["when can i go back to work", "back to my job when", "time off work?",
                           "can i work tomorrow", "when do i return to the office", "how long off work",
                           "my boss asks when i am back", "work next week ok"],
    "greet": ["hi", "hello there", "good morning", "hey", "hiya", "good evening", "howdy", "yo"],
}


def trained(tmp_path: Path) -> tuple[QuestionSplitter, LocalModelStorage, Resource]:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("splitter")
    context = ExecutionContext(GraphSchema({}), "test")
    component = QuestionSplitter.create({}, storage, resource, context)
    data = TrainingData([Message(data={"text": t, "intent": i}) for i, ts in EXAMPLES.items() for t in ts])
    component.train(data)
    return component, storage, resource


def test_a_second_topic_becomes_an_entity_after_loading(tmp_path: Path) -> None:
    _, storage, resource = trained(tmp_path)
    loaded = QuestionSplitter.load({}, storage, resource, ExecutionContext(GraphSchema({}), "test"))
    message = Message({"text": "can i shower tonight and when can i go back to work?",
                       "intent": {"name": "ask_bathing", "confidence": 0.9}})
    loaded.process([message])
    entities = message.get("entities")
    assert [e["value"] for e in entities] == ["ask_return_to_work"]
    assert entities[0]["entity"] == "question_topic"


def test_a_single_question_adds_nothing(tmp_path: Path) -> None:
    component, _, _ = trained(tmp_path)
    message = Message({"text": "can i shower tonight", "intent": {"name": "ask_bathing"}})
    component.process([message])
    assert not message.get("entities")


def test_non_topic_pieces_are_not_answered(tmp_path: Path) -> None:
    component, _, _ = trained(tmp_path)
    message = Message({"text": "hello there good morning. can i shower tonight?",
                       "intent": {"name": "ask_bathing"}})
    component.process([message])
    assert not message.get("entities")


def test_a_long_bare_no_is_searched_for_a_question_after_a_comma(tmp_path: Path) -> None:
    component, _, _ = trained(tmp_path)
    message = Message(data={"text": "nope nothing like that, can i get in the tub tonight",
                            "intent": {"name": "greet", "confidence": 0.4}})
    component.process([message])
    assert [e["value"] for e in message.get("entities", [])] == ["ask_bathing"]
    # an ordinary question is not cut at its commas
    ordinary = Message(data={"text": "after work, can i get in the tub tonight",
                             "intent": {"name": "ask_bathing", "confidence": 0.9}})
    component.process([ordinary])
    assert ordinary.get("entities", []) == []
