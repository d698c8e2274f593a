"""A topic answer is marked as only the nearest when the classifier's match is weak."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.message import Message

from components.answer_fit import ENTITY, NEAREST, AnswerFit
from components.encoder.minilm import shared_encoder
from components.intent_classifier import SIMILARITY, LinearIntentClassifier
from tests.components.helpers import trained_classifier

EXAMPLES = {
    "ask_bathing": ["can i shower tonight", "is a bath ok after the procedure", "when can i take a bath",
                    "shower ok?", "can i get in the tub", "is showering allowed",
                    "wash my hair in the shower"],
    "ask_driving": ["when can i drive", "can i drive myself home", "is it ok to drive tomorrow",
                    "how soon can i get behind the wheel", "driving after the procedure?",
                    "can i drive to work"],
    "greet": ["hi", "hello there", "good morning", "hey", "hiya", "good evening"],
}


@pytest.fixture(scope="module")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> LinearIntentClassifier:
    return trained_classifier(EXAMPLES, Path(tmp_path_factory.mktemp("fit")))


def fit(classifier: LinearIntentClassifier, text: str, **config: float) -> list[dict]:
    message = Message(data={"text": text})
    classifier.process([message], shared_encoder())
    AnswerFit({**AnswerFit.get_default_config(), **config}).process([message])
    return [e for e in message.get("entities", []) if e["entity"] == ENTITY]


def test_the_classifier_tells_how_near_the_message_is_to_each_intent(
    classifier: LinearIntentClassifier,
) -> None:
    message = Message(data={"text": "can i have a shower this evening"})
    classifier.process([message], shared_encoder())
    near = message.get(SIMILARITY)
    assert set(near) == set(EXAMPLES)
    assert near["ask_bathing"] > near["ask_driving"]
    assert near["ask_bathing"] > 0.6


def test_a_question_like_the_examples_is_answered_plainly(classifier: LinearIntentClassifier) -> None:
    assert fit(classifier, "can I shower tonight?") == []


def test_a_question_far_from_every_example_gets_the_nearest_only(classifier: LinearIntentClassifier) -> None:
    # The SVM still picks a topic for it; the encoder says nothing like it was trained.
    found = fit(classifier, "what does the procedure cost with my insurance plan")
    assert [e["value"] for e in found] == [NEAREST]


def test_low_confidence_alone_is_enough(classifier: LinearIntentClassifier) -> None:
    assert fit(classifier, "can I shower tonight?", min_confidence=1.01, min_similarity=0.0)


def test_only_topics_are_marked(classifier: LinearIntentClassifier) -> None:
    assert fit(classifier, "hello", min_confidence=1.01, min_similarity=1.01) == []


def test_a_topic_beside_a_real_chance_of_out_of_scope_gets_the_nearest_only() -> None:
    message = Message(data={"text": "i have a pacemaker, is it safe"})
    message.set("intent", {"name": "ask_questions_for_provider", "confidence": 0.83})
    message.set(
        "intent_ranking",
        [
            {"name": "ask_questions_for_provider", "confidence": 0.83},
            {"name": "out_of_scope", "confidence": 0.10},
        ],
    )
    config = {**AnswerFit.get_default_config(), "max_out_of_scope": 0.05}
    AnswerFit(config).process([message])
    assert [e["value"] for e in message.get("entities")] == [NEAREST]
    # ...and not when out-of-scope has next to nothing
    sure = Message(data={"text": "can i shower"})
    sure.set("intent", {"name": "ask_bathing", "confidence": 0.97})
    sure.set(
        "intent_ranking",
        [{"name": "ask_bathing", "confidence": 0.97}, {"name": "out_of_scope", "confidence": 0.01}],
    )
    AnswerFit(config).process([sure])
    assert not sure.get("entities")


def test_a_topic_whose_nearest_example_is_out_of_scope_gets_the_nearest_only() -> None:
    def judged(similarities: dict, margin: float | None) -> list:
        message = Message(data={"text": "how long is the waiting list for this"})
        message.set("intent", {"name": "ask_going_home", "confidence": 0.97})
        message.set("intent_ranking", [{"name": "ask_going_home", "confidence": 0.97}])
        message.set(SIMILARITY, similarities)
        AnswerFit({**AnswerFit.get_default_config(), "out_of_scope_margin": margin}).process([message])
        return [e["value"] for e in message.get("entities", [])]

    nearer_unanswered = {"ask_going_home": 0.62, "out_of_scope": 0.71}
    assert judged(nearer_unanswered, 0.0) == [NEAREST]
    # ...not when the topic's own example is nearer, nor with the check off
    assert judged({"ask_going_home": 0.74, "out_of_scope": 0.71}, 0.0) == []
    assert judged(nearer_unanswered, None) == []
