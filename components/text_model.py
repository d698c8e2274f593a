"""The text classifier shared by the intent classifier and the question splitter.

TF-IDF over character n-grams (typos, SMS spellings: "shwer", "2nite", "tylenal") and
word uni- and bigrams, with a linear SVM. On this project's data it beat DIET
(see docs/nlu.md for the measurements) and trains in about a second.
Confidences are a softmax over the SVM's scores; `temperature` sets how sharp they are,
so the FallbackClassifier's threshold has something meaningful to compare against.
"""

from __future__ import annotations

from typing import List, Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

# The most of one message any NLU component reads: a 10,000-character paste costs no more
# than a long question.
MAX_CHARS = 2000


def build_text_model(c: float = 0.5) -> Pipeline:
    """An untrained pipeline: features, then a class-balanced linear SVM."""
    features = FeatureUnion(
        [
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
        ]
    )
    return Pipeline(
        [("features", features), ("svm", LinearSVC(C=c, class_weight="balanced", random_state=0))]
    )


def clip(texts: Sequence[str]) -> List[str]:
    """Bounded input: a 10,000-character message costs no more than a long question."""
    return [(t or "")[:MAX_CHARS] for t in texts]


def confidences(model: Pipeline, texts: Sequence[str], temperature: float) -> np.ndarray:
    """One row per text: a probability-like confidence for each of `model.classes_`.

    A text sharing no n-gram with the training data (emoji, another script) gets a row
    of zeros rather than whatever the SVM's intercepts favour, so it falls back.
    """
    features = model.named_steps["features"].transform(clip(texts))
    scores = np.atleast_2d(model.named_steps["svm"].decision_function(features)) * temperature
    scores -= scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    rows = exp / exp.sum(axis=1, keepdims=True)
    rows[np.asarray(features.getnnz(axis=1)) == 0] = 0.0
    return rows
