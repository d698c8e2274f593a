"""Intent classifier: a linear model over TF-IDF n-grams and sentence-encoder vectors.

Replaces DIET in this project because it generalises better on patient wording with the
amount of data a clinic can write (measured in docs/nlu.md) and trains in seconds. It
sets `intent` and `intent_ranking` like any Rasa intent classifier, so the
FallbackClassifier and the policies work unchanged.

It also classifies each question of a message that asks several (`components.segments`)
with the same trained model and leaves the rankings on the message, for the
QuestionSplitter to pick the extra topics with its own settings: one model, trained once.

A statement intent (`statement_intents`: "I had it done yesterday") never wins over a
question: "what did they do to me yesterday?" is asked about the procedure, however much
it sounds like telling the timing. The other intents' confidences are then read as
given that it is no statement (renormalised), so the fallback and AnswerFit still judge
how sure the question's topic is.

A short question right after another turn ("it's a bit sore where they went in" … "what
helps with that?") is read with that turn as well, and takes the joined reading when it
names a topic more surely: the question's "that" is the earlier turn's subject.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.encoder.minilm import SentenceEncoder
from components.red_flags.learned import TURN_SEPARATOR
from components.segments import asks, split_questions
from components.trained_text_model import TrainedTextModelComponent

# Internal message attributes (never in the output): each question piece's best intents,
# and how near the whole message is to each intent's training examples.
PIECES = "question_pieces"
SIMILARITY = "intent_similarity"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
    is_trainable=True,
    model_from="SentenceEncoderProvider",
)
class LinearIntentClassifier(TrainedTextModelComponent, IntentClassifier):
    """Classifies intents with TF-IDF n-grams, encoder vectors and a linear SVM."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """SVM regularisation, encoder weight, confidence sharpness and ranking length."""
        return {
            "C": 0.5,
            "encoder_weight": 1.0,
            "use_ngrams": True,
            "temperature": 8.0,
            "ranking_length": 10,
            "statement_intents": [],
            "topic_pattern": r"^ask_(?!capabilities$)",
            "follow_up_max_words": 0,
        }

    MODEL_FILE = "intent_model.joblib"

    def process(
        self,
        messages: List[Message],
        model: SentenceEncoder | None = None,
        tracker: DialogueStateTracker | None = None,
    ) -> List[Message]:
        """Sets the intent and the ranking on each message, and ranks its question pieces."""
        if self._model is None or not messages:
            return messages
        for message in messages:
            text = message.get(TEXT) or ""
            plain = split_questions(text)
            commas = split_questions(text, at_commas=True)
            pieces = {"plain": plain if len(plain) > 1 else [], "commas": commas if len(commas) > 1 else []}
            joined = self._with_last_turn(text, tracker)
            texts = [text] + [p.text for p in pieces["plain"] + pieces["commas"]]
            # one model call for every reading: the pieces, and the joined one when asked
            readings = texts + ([joined] if joined else [])
            rows = self._model.confidences(readings, model, self._config["temperature"])
            classes = list(self._model.classes_)
            ranking = self._questions_first(self._ranking(rows[0], classes), text)
            read_as = text
            if joined and ranking:
                with_turn = self._questions_first(self._ranking(rows[len(texts)], classes), joined)
                if self._names_topic_more_surely(with_turn, ranking):
                    ranking, read_as = with_turn, joined
            if not text.strip() or not ranking:
                message.set(INTENT, {"name": None, "confidence": 0.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
            else:
                message.set(INTENT, ranking[0], add_to_output=True)
                message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            near = self._model.similarities([read_as], model)
            if near is not None:
                message.set(SIMILARITY, {c: float(v) for c, v in zip(classes, near[0], strict=True)})
            piece_rows = iter(rows[1 : len(texts)])
            message.set(
                PIECES,
                {
                    mode: [
                        {
                            "start": p.start,
                            "end": p.end,
                            "ranking": self._ranking(next(piece_rows), classes)[:3],
                        }
                        for p in found
                    ]
                    for mode, found in pieces.items()
                },
            )
        return messages

    def _with_last_turn(self, text: str, tracker: DialogueStateTracker | None) -> str | None:
        """The last patient turn and this one, joined, for a short question (else None)."""
        limit = int(self._config["follow_up_max_words"])
        if tracker is None or not limit or len(text.split()) > limit:
            return None
        if "?" not in text and not asks(text):
            return None
        turns = [e.text for e in tracker.applied_events() if isinstance(e, UserUttered) and e.text]
        return f"{turns[-1]}{TURN_SEPARATOR}{text}" if turns else None

    def _names_topic_more_surely(self, joined: List[Dict[str, Any]], own: List[Dict[str, Any]]) -> bool:
        """Whether the joined reading's best is a topic, surer than the message's own topic."""
        topic = re.compile(self._config["topic_pattern"])
        if not joined or not topic.search(joined[0]["name"]):
            return False
        own_topic = own[0]["confidence"] if own and topic.search(own[0]["name"]) else 0.0
        return joined[0]["confidence"] > own_topic

    def _questions_first(self, ranking: List[Dict[str, Any]], text: str) -> List[Dict[str, Any]]:
        """A question's ranking without the statement intents on top (see the module)."""
        statements = set(self._config["statement_intents"])
        if not ranking or ranking[0]["name"] not in statements or not asks(text):
            return ranking
        rest = [r for r in ranking if r["name"] not in statements]
        mass = sum(r["confidence"] for r in rest)
        if not rest or mass <= 0:
            return ranking
        return [{"name": r["name"], "confidence": r["confidence"] / mass} for r in rest] + [
            r for r in ranking if r["name"] in statements
        ]

    def _ranking(self, row: Any, classes: List[str]) -> List[Dict[str, Any]]:
        if not row.any():
            return []
        order = row.argsort()[::-1][: self._config["ranking_length"]]
        return [{"name": classes[i], "confidence": float(row[i])} for i in order]
