"""Read patients' spelling the way a nurse would: "fanted" is "fainted", "cnt" is "can not".

A step of the detector's spaCy pipeline that rewrites each token's `norm_`: contractions
("n't" → "not"), then the SMS spellings of data/red_flags.yml, then a correction by edit
distance to a word of the lexicon, then a light stemming so "faints", "fainted" and
"fainting" are one word. Matching is done on `norm_`, and phrases of the lexicon go through
the same steps, so both sides always agree.

A word is corrected only when it is not a real English word (pyspellchecker's frequency
list decides) and is one or two edits from a lexicon word: "number" stays "number" even
though it is one edit from "numbed".
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Dict, Iterable, List, Set

from spacy.tokens import Doc
from spellchecker import SpellChecker

# Below this frequency in the English list a word is too rare to trust as intended.
KNOWN_WORD_MIN_FREQUENCY = 50
# No "y" or "ly": "every" must not become "ever", nor "early" "ear".
_SUFFIXES = ("ness", "ings", "ing", "edly", "ed", "es", "s", "e")
_MIN_STEM = 3
_WORD = re.compile(r"^[a-z]+$")


# Stems that would turn an ordinary word into a negation ("note", "noted" → "not").
_NEGATIONS = frozenset({"not", "nor"})


def stem(word: str) -> str:
    """Strips one common English suffix, keeping at least three letters; never leaves a
    negation where there was none ("I *note* some redness" is no "not")."""
    if not _WORD.match(word):
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            stemmed = word[: -len(suffix)]
            return word if stemmed in _NEGATIONS else stemmed
    return word


def edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (adjacent transpositions count one), or limit + 1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: List[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def _deletions(word: str, depth: int) -> Set[str]:
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


class SpellingCorrector:
    """Corrects misspellings towards the lexicon's words only (a SymSpell-style index)."""

    def __init__(
        self, targets: Iterable[str], english: SpellChecker | None = None, preferred: Iterable[str] = ()
    ) -> None:
        self._english = english or SpellChecker(language="en", distance=1)
        self._targets = {t for t in targets if _WORD.match(t) and len(t) >= 4}
        # On a tie, a word of a warning sign wins over a word of a cue: a misspelling as near
        # "bladder" as "battery" is read as the sign, since a missed sign costs more.
        self._preferred = frozenset(preferred)
        self._index: Dict[str, Set[str]] = {}
        for target in self._targets:
            for variant in _deletions(target, self.max_distance(target)):
                self._index.setdefault(variant, set()).add(target)
        self.correct = lru_cache(maxsize=20_000)(self._correct)

    @staticmethod
    def max_distance(word: str) -> int:
        """Short words tolerate one edit, long ones two: "brething" → "breathing"."""
        return 2 if len(word) >= 7 else 1

    def is_known(self, word: str) -> bool:
        """A real English word, or one of the lexicon's own."""
        return word in self._targets or self._english[word] >= KNOWN_WORD_MIN_FREQUENCY

    def _correct(self, word: str) -> str:
        if len(word) < 4 or not _WORD.match(word) or self.is_known(word):
            return word
        limit = self.max_distance(word)
        candidates: Set[str] = set()
        for variant in _deletions(word, limit):
            candidates |= self._index.get(variant, set())
        scored = [
            (edit_distance(word, c, limit), c[0] != word[0], c not in self._preferred, c) for c in candidates
        ]
        scored = [s for s in scored if s[0] <= min(limit, self.max_distance(s[3]))]
        return min(scored)[3] if scored else word


_APOSTROPHES = str.maketrans("", "", "'’‘`")
# The pieces spaCy's tokenizer cuts contractions into ("didn't" → "did" + "n't"), read as
# the words they stand for. spaCy's own norms are not used: they turn "did" into "do".
CONTRACTIONS = {
    "n't": "not", "nt": "not", "n’t": "not", "ca": "can", "wo": "will", "sha": "shall",
    "'s": "is", "’s": "is", "'m": "am", "’m": "am", "'re": "are", "’re": "are", "'ve": "have", "’ve": "have",
    "'ll": "will", "’ll": "will", "'d": "had", "’d": "had",
}


class Normaliser:
    """Sets every token's norm_ to its corrected, stemmed form; splits SMS contractions."""

    def __init__(self, spelling: Dict[str, str], corrector: SpellingCorrector) -> None:
        self._spelling = spelling
        self._corrector = corrector

    def word_norm(self, text: str) -> str:
        """The norm of one word, without SMS expansion (used for single-word lookups)."""
        word = text.lower().translate(_APOSTROPHES)
        return stem(self._corrector.correct(word))

    def __call__(self, doc: Doc) -> Doc:
        splits = []
        for token in doc:
            lower = token.text.lower()
            expansion = self._spelling.get(lower)
            if expansion:
                words = expansion.split()
                if len(words) > 1 and len(token.text) >= len(words):
                    splits.append((token, words))
                    continue
                token.norm_ = stem(words[0])
                continue
            norm = CONTRACTIONS.get(lower) or lower.translate(_APOSTROPHES) or lower
            token.norm_ = stem(self._corrector.correct(norm))
        if splits:
            with doc.retokenize() as retokenizer:
                for token, words in splits:
                    text = token.text
                    orths = [text[i] for i in range(len(words) - 1)] + [text[len(words) - 1 :]]
                    heads = [(token, 0)] * len(words)
                    retokenizer.split(token, orths, heads=heads, attrs={"NORM": [stem(w) for w in words]})
        return doc

