"""The learned red-flag detector: what a message means, not which words it uses.

A multinomial logistic regression over the sentence encoder's vector and TF-IDF n-grams,
trained on `data/red_flags_learned.yml`: examples of each warning sign in patients' own
words, and counter-examples (negated, historical, hypothetical, someone else's past,
procedure words, sign words inside other terms, ordinary questions). The ordinary
questions of `data/nlu/` are counter-examples too. It shares nothing with the rules of
`data/red_flags.yml` but the names of the signs, so the two detectors fail differently;
`components.red_flags.combine` decides from both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Tuple

import numpy as np
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from components.encoder.minilm import SentenceEncoder
from components.text_model import clip, featurise

EXAMPLES_FILE = Path(__file__).resolve().parents[2] / "data" / "red_flags_learned.yml"
NONE = "none"
# Turns of one conversation are joined with this, in training and at run time alike.
TURN_SEPARATOR = " | "


def load_examples(path: Path = EXAMPLES_FILE) -> List[Tuple[str, str]]:
    """(text, sign) pairs; every counter-example group is labelled `none`."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    pairs = [(text, sign) for sign, texts in data["signs"].items() for text in texts]
    pairs += [(text, NONE) for texts in data["none"].values() for text in texts]
    return [(str(t).strip(), s) for t, s in pairs if str(t).strip()]


class LearnedRedFlagDetector:
    """Probabilities of each warning sign (and of none) for texts; pickles without the encoder."""

    def __init__(self, c: float = 4.0, encoder_weight: float = 2.0) -> None:
        self.c = c
        self.encoder_weight = encoder_weight
        self.ngrams = FeatureUnion(
            [
                (
                    "chars",
                    TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2),
                ),
                ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
            ]
        )
        self.model = LogisticRegression(C=c, max_iter=3000)

    @property
    def labels(self) -> List[str]:
        return list(self.model.classes_)

    def _features(self, texts: List[str], encoder: SentenceEncoder, fit: bool = False):
        return featurise(self.ngrams, texts, encoder, self.encoder_weight, fit)[0]

    def fit(self, examples: Iterable[Tuple[str, str]], encoder: SentenceEncoder) -> LearnedRedFlagDetector:
        pairs = list(examples)
        texts = clip([t for t, _ in pairs])
        self.model.fit(self._features(texts, encoder, fit=True), [s for _, s in pairs])
        return self

    def probabilities(self, texts: Sequence[str], encoder: SentenceEncoder) -> List[Dict[str, float]]:
        """For each text, each sign's probability (`none` left out)."""
        if not texts:
            return []
        rows = self.model.predict_proba(self._features(clip(texts), encoder))
        labels = self.labels
        return [
            {label: float(p) for label, p in zip(labels, row, strict=True) if label != NONE}
            for row in np.atleast_2d(rows)
        ]
