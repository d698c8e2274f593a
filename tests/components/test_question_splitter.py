"""The multi-question component, on the pieces the intent classifier's own model ranked."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.message import Message

from components.encoder.minilm import shared_encoder
from components.intent_classifier import LinearIntentClassifier
from components.question_splitter import QuestionSplitter
from tests.components.helpers import CONTEXT, trained_classifier

EXAMPLES = {
    "ask_bathing": ["can i shower", "is a bath ok", "when can i take a bath", "shower tonight ok?",
                    "can i get in the tub", "is showering allowed", "hot tub ok?", "wash in the shower"],
    "ask_return_to_work": ["when can i go back to work", "back to my job when", "time off work?",
                           "can i work tomorrow", "when do i return to the office", "how long off work",
                           "my boss asks when i am back", "work next week ok"],
    "greet": ["hi", "hello there", "good morning", "hey", "hiya", "good evening", "howdy", "yo"],
}


@pytest.fixture(scope="module")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> LinearIntentClassifier:
    return trained_classifier(EXAMPLES, Path(tmp_path_factory.mktemp("splitter")))


def split(classifier: LinearIntentClassifier, text: str, intent: str | None = None,
          config: dict | None = None) -> Message:
    message = Message(data={"text": text})
    classifier.process([message], shared_encoder())
    if intent:
        message.set("intent", {"name": intent, "confidence": 0.9})
    QuestionSplitter.create(config or {}, None, None, CONTEXT).process([message])  # type: ignore[arg-type]
    return message


def test_a_second_topic_becomes_an_entity(classifier: LinearIntentClassifier) -> None:
    message = split(classifier, "can i shower tonight and when can i go back to work?")
    entities = message.get("entities")
    assert message.get("intent")["name"] in ("ask_bathing", "ask_return_to_work")
    assert len(entities) == 1 and entities[0]["entity"] == "question_topic"
    assert {entities[0]["value"], message.get("intent")["name"]} == {"ask_bathing", "ask_return_to_work"}


def test_a_single_question_adds_nothing(classifier: LinearIntentClassifier) -> None:
    assert not split(classifier, "can i shower tonight").get("entities")


def test_non_topic_pieces_are_not_answered(classifier: LinearIntentClassifier) -> None:
    message = split(classifier, "hello there good morning. can i shower tonight?", "ask_bathing")
    assert not message.get("entities")


def test_a_long_bare_no_is_searched_for_a_question_after_a_comma(classifier: LinearIntentClassifier) -> None:
    message = split(classifier, "nope nothing like that, can i get in the tub tonight", "greet")
    assert [e["value"] for e in message.get("entities", [])] == ["ask_bathing"]
    # an ordinary question is not cut at its commas
    ordinary = split(classifier, "after work, can i get in the tub tonight", "ask_bathing")
    assert ordinary.get("entities", []) == []


def test_its_threshold_comes_from_its_configuration(classifier: LinearIntentClassifier) -> None:
    text = "can i shower tonight and when can i go back to work?"
    assert split(classifier, text, config={"threshold": 0.6}).get("entities")
    assert not split(classifier, text, config={"threshold": 1.01}).get("entities")
