"""The linear intent classifier, trained and loaded through Rasa's model storage."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.encoder.minilm import shared_encoder
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


# A statement that tells the timing, a question about the procedure, and a short follow-up
# whose subject is in the turn before it.
CONTEXT_EXAMPLES = {
    "inform_after": ["i had it done yesterday", "had the procedure this morning", "got it done today",
                     "my procedure was yesterday", "they did it on monday", "it was done last week",
                     "i had my ablation yesterday", "done yesterday at the clinic"],
    "ask_during_procedure": ["what happens during the procedure", "what do they do on the table",
                             "what will the doctor do", "how is the procedure done",
                             "what goes on in the procedure room", "what are the steps of it",
                             "what does the doctor actually do", "walk me through the procedure"],
    "ask_ice": ["ice for a sore injection spot", "the needle site is sore, how do i ease it",
                "cold pack for the tender area", "sore where the needle went in, any tips",
                "how to calm a tender injection site", "can ice help the sore spot",
                "the spot they injected aches, what should i put on it", "soothing a sore site"],
    "ask_capabilities": ["what can you do", "what can you help with", "what do you know about",
                         "what are you for", "what topics do you cover", "help", "menu",
                         "what can i ask you"],
    "thank": ["thanks", "thank you", "cheers", "much appreciated", "thanks a lot", "ty",
              "thank you so much", "great thanks"],
}
CONTEXT_CONFIG = {
    "statement_intents": ["inform_before", "inform_after"],
    "follow_up_max_words": 8,
    "encoder_weight": 2.0,
}


@pytest.fixture(scope="module")
def with_context(tmp_path_factory: pytest.TempPathFactory) -> LinearIntentClassifier:
    storage, resource = LocalModelStorage(tmp_path_factory.mktemp("context")), Resource("intents")
    component = LinearIntentClassifier.create(CONTEXT_CONFIG, storage, resource, CONTEXT)
    component.train(
        TrainingData(
            [Message(data={"text": t, "intent": i}) for i, ts in CONTEXT_EXAMPLES.items() for t in ts]
        ),
        shared_encoder(),
    )
    return LinearIntentClassifier.load(CONTEXT_CONFIG, storage, resource, CONTEXT)


def after_turn(component: LinearIntentClassifier, earlier: str | None, text: str) -> str:
    events = [UserUttered(earlier)] if earlier else []
    message = Message({"text": text})
    component.process([message], shared_encoder(), DialogueStateTracker.from_events("p", events))
    return message.get("intent")["name"]


def test_a_statement_intent_never_wins_over_a_question(with_context: LinearIntentClassifier) -> None:
    ranking = [
        {"name": "inform_after", "confidence": 0.6},
        {"name": "ask_during_procedure", "confidence": 0.3},
        {"name": "ask_ice", "confidence": 0.1},
    ]
    reordered = with_context._questions_first(ranking, "what did they do to me yesterday?")
    assert [r["name"] for r in reordered] == ["ask_during_procedure", "ask_ice", "inform_after"]
    assert reordered[0]["confidence"] == pytest.approx(0.75)
    # telling, or answering "before or after?", stays a statement
    assert with_context._questions_first(ranking, "had it done yesterday, can't sleep") == ranking
    assert with_context._questions_first(ranking, "after?") == ranking


def test_a_short_follow_up_question_takes_the_subject_of_the_turn_before(
    with_context: LinearIntentClassifier,
) -> None:
    earlier = "it's a bit sore where they put the needle in"
    assert after_turn(with_context, earlier, "what helps with that?") == "ask_ice"
    # the same words alone, or after a turn about nothing in particular, are not about ice
    assert after_turn(with_context, None, "what helps with that?") != "ask_ice"
    # a non-question after a question is not rewritten into the earlier topic
    assert after_turn(with_context, "what happens during the procedure", "thanks") == "thank"
    # a long message carries its own topic
    long = "what can you help with, i mean which things do you know about at all"
    assert after_turn(with_context, earlier, long) == "ask_capabilities"
