"""The text classifier behind the intents and the question splitter.

Two kinds of features side by side, then one class-balanced linear SVM:
- TF-IDF over character n-grams (typos, SMS spellings: "shwer", "2nite", "tylenal") and
  word uni- and bigrams: what the patient literally wrote;
- the pretrained sentence encoder's vector (`components.encoder`, all-MiniLM-L6-v2),
  scaled by `encoder_weight`: what it means, so a place or object word ("shower",
  "kitchen") no longer decides the topic of a message about something else.
docs/nlu.md compares TF-IDF alone, the encoder alone and both on the held-out and blind
sets. Confidences are a softmax over the SVM's scores; `temperature` sets how sharp they
are, so the FallbackClassifier's threshold has something meaningful to compare against.
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from components.encoder.minilm import SentenceEncoder

# The most of one message any NLU component reads: a 10,000-character paste costs no more
# than a long question.
MAX_CHARS = 2000


def clip(texts: Sequence[str]) -> List[str]:
    """Bounded input: a 10,000-character message costs no more than a long question."""
    return [(t or "")[:MAX_CHARS] for t in texts]


def build_ngrams() -> FeatureUnion:
    """Untrained TF-IDF features: character 2-5-grams within words, word 1-2-grams."""
    return FeatureUnion(
        [
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
        ]
    )


def featurise(
    ngrams: FeatureUnion | None,
    texts: List[str],
    encoder: SentenceEncoder | None,
    encoder_weight: float,
    fit: bool = False,
) -> Tuple[sparse.csr_matrix, sparse.csr_matrix | None]:
    """TF-IDF n-grams (none without `ngrams`) beside the encoder's vectors × weight (none at
    0): the features of every model here, and the n-gram block on its own."""
    blocks = []
    grams = None
    if ngrams is not None:
        grams = ngrams.fit_transform(texts) if fit else ngrams.transform(texts)
        blocks.append(grams)
    if encoder_weight > 0:
        if encoder is None:
            raise ValueError("this model needs the sentence encoder")
        blocks.append(sparse.csr_matrix(encoder.encode(texts) * encoder_weight))
    return sparse.hstack(blocks, format="csr"), grams


class TextModel:
    """TF-IDF n-grams plus sentence-encoder vectors, and a linear SVM over both.

    The encoder is passed to `fit` and `confidences`, never stored: the model pickles
    without the 90 MiB of weights, and one encoder per process serves every component.
    `encoder_weight` 0 is TF-IDF alone; `use_ngrams=False` is the encoder alone.
    """

    def __init__(self, c: float = 0.5, encoder_weight: float = 1.0, use_ngrams: bool = True) -> None:
        self.c = c
        self.encoder_weight = encoder_weight
        self.use_ngrams = use_ngrams
        self.ngrams: FeatureUnion | None = build_ngrams() if use_ngrams else None
        self.svm = LinearSVC(C=c, class_weight="balanced", random_state=0)
        # The training examples' encoder vectors, sorted by class, and where each class
        # starts: how close a new text is to anything a class was trained on.
        self.example_vectors: np.ndarray | None = None
        self.class_starts: np.ndarray | None = None

    @property
    def classes_(self) -> np.ndarray:
        return self.svm.classes_

    def _features(self, texts: List[str], encoder: SentenceEncoder | None, fit: bool = False):
        return featurise(self.ngrams, texts, encoder, self.encoder_weight, fit)

    def fit(self, texts: Sequence[str], labels: Sequence[str], encoder: SentenceEncoder | None) -> TextModel:
        texts = clip(texts)
        self.svm.fit(self._features(texts, encoder, fit=True)[0], list(labels))
        if encoder is not None and self.encoder_weight > 0:
            order = np.argsort(np.asarray(labels), kind="stable")
            self.example_vectors = encoder.encode([texts[i] for i in order]).astype(np.float32)
            sorted_labels = np.asarray(labels)[order]
            self.class_starts = np.searchsorted(sorted_labels, self.svm.classes_)
        return self

    def similarities(self, texts: Sequence[str], encoder: SentenceEncoder | None) -> np.ndarray | None:
        """One row per text: its cosine similarity to the nearest training example of each
        of `classes_`, or None for a model without the encoder.

        The SVM always picks some class, however far a text is from all of them; this is
        how near the text really is to what a class was trained on.
        """
        if encoder is None or self.example_vectors is None or self.class_starts is None:
            return None
        scores = encoder.encode(clip(texts)) @ self.example_vectors.T
        return np.maximum.reduceat(scores, self.class_starts, axis=1)

    def confidences(
        self, texts: Sequence[str], encoder: SentenceEncoder | None, temperature: float
    ) -> np.ndarray:
        """One row per text: a probability-like confidence for each of `classes_`.

        A text sharing no n-gram with the training data (emoji, another script) gets a
        row of zeros rather than whatever the SVM's intercepts favour, so it falls back.
        """
        texts = clip(texts)
        features, grams = self._features(texts, encoder)
        scores = np.atleast_2d(self.svm.decision_function(features)) * temperature
        if scores.shape[1] == 1:  # two classes: one signed score
            scores = np.hstack([-scores, scores]) / 2
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        rows = exp / exp.sum(axis=1, keepdims=True)
        # whether each text shares at least one n-gram with the training data
        known = (
            np.asarray(grams.getnnz(axis=1)) > 0
            if grams is not None
            else np.array([bool(t.strip()) for t in texts])
        )
        rows[~known] = 0.0
        return rows
