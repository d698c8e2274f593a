"""Intent classifier: a linear model over TF-IDF n-grams and sentence-encoder vectors.

Replaces DIET in this project because it generalises better on patient wording with the
amount of data a clinic can write (measured in docs/nlu.md) and trains in seconds. It
sets `intent` and `intent_ranking` like any Rasa intent classifier, so the
FallbackClassifier and the policies work unchanged.

It also classifies each question of a message that asks several (`components.segments`)
with the same trained model and leaves the rankings on the message, for the
QuestionSplitter to pick the extra topics with its own settings: one model, trained once.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.encoder.minilm import SentenceEncoder
from components.segments import split_questions
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
        return {"C": 0.5, "encoder_weight": 1.0, "use_ngrams": True, "temperature": 8.0, "ranking_length": 10}

    MODEL_FILE = "intent_model.joblib"

    def process(self, messages: List[Message], model: SentenceEncoder | None = None) -> List[Message]:
        """Sets the intent and the ranking on each message, and ranks its question pieces."""
        if self._model is None or not messages:
            return messages
        for message in messages:
            text = message.get(TEXT) or ""
            plain = split_questions(text)
            commas = split_questions(text, at_commas=True)
            pieces = {"plain": plain if len(plain) > 1 else [], "commas": commas if len(commas) > 1 else []}
            texts = [text] + [p.text for p in pieces["plain"] + pieces["commas"]]
            rows = self._model.confidences(texts, model, self._config["temperature"])
            classes = list(self._model.classes_)
            ranking = self._ranking(rows[0], classes)
            if not text.strip() or not ranking:
                message.set(INTENT, {"name": None, "confidence": 0.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
            else:
                message.set(INTENT, ranking[0], add_to_output=True)
                message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            near = self._model.similarities([text], model)
            if near is not None:
                message.set(SIMILARITY, {c: float(v) for c, v in zip(classes, near[0], strict=True)})
            piece_rows = iter(rows[1:])
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

    def _ranking(self, row: Any, classes: List[str]) -> List[Dict[str, Any]]:
        if not row.any():
            return []
        order = row.argsort()[::-1][: self._config["ranking_length"]]
        return [{"name": classes[i], "confidence": float(row[i])} for i in order]
