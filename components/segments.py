"""Split a patient's message into the separate questions it asks.

Patients often ask two things at once ("can i shower tonight and when do i go back to
work?"). The splitter cuts at sentence ends and at a conjunction that starts a new
question, and keeps fragments too short to be a question attached to their neighbour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List

from components.text_model import MAX_CHARS

# A sentence ends at ?, ! or . (not inside numbers such as 100.4) or at a line break.
_SENTENCE_END = re.compile(r"(?<=[?!])\s*|(?<=[^\d\s]\.)\s+|\n+")

# "and"/"also"/"plus"/"oh and" followed by a word that starts a question.
_QUESTION_START = (
    r"(?:when|what|whats|how|can|could|should|shall|do|does|did|is|are|am|will|would|"
    r"may|who|where|why|which|any|also|i|im|my|is|pls|please)"
)
_CONJUNCTION = re.compile(
    r"\s*(?:,\s*)?\b(?:and also|and|also|plus|oh and|&)\s+(?=" + _QUESTION_START + r"\b)",
    re.IGNORECASE,
)

# A comma, for messages the classifier read as a one-word answer ("no fever or anything
# like that, just wondering if i can have a bath yet"): the question is after the comma.
_COMMA = re.compile(r"\s*,\s*")

MIN_WORDS = 3

# A clause that opens with a question word ("my wife is booked for this, who does she
# tell", "like where do i go"); "can't"/"don't" open no question, and a bare "after?"
# answers one.
_ASKS = re.compile(
    r"(?:(?:^|[,.;:!]\s*)(?:(?:like|i mean|um|ok|okay)\s+)?|\b(?:and|so|but)\s+)"
    r"(?:who|what|whats|when|where|why|which|how|can|could|"
    r"should|do|does|did|is|are|will|would|may)(?!n?['’]t)\b",
    re.IGNORECASE,
)


def asks(text: str) -> bool:
    """Whether a clause of the text opens with a question word: it asks, not only tells."""
    return bool(_ASKS.search(text or ""))


@dataclass(frozen=True)
class Segment:
    """A piece of the message with its character offsets in the original text."""

    text: str
    start: int
    end: int


def _pieces(text: str, start: int, pattern: re.Pattern[str]) -> List[Segment]:
    pieces: List[Segment] = []
    cursor = 0
    for match in pattern.finditer(text):
        if match.start() == match.end() == cursor:
            continue
        pieces.append(Segment(text[cursor : match.start()], start + cursor, start + match.start()))
        cursor = match.end()
    pieces.append(Segment(text[cursor:], start + cursor, start + len(text)))
    return [p for p in pieces if p.text.strip()]


def _merge_short(pieces: List[Segment], text: str) -> List[Segment]:
    """Attach fragments of fewer than MIN_WORDS words to the previous piece."""
    merged: List[Segment] = []
    for piece in pieces:
        if merged and len(piece.text.split()) < MIN_WORDS:
            start = merged[-1].start
            merged[-1] = Segment(text[start : piece.end], start, piece.end)
        else:
            merged.append(piece)
    if len(merged) > 1 and len(merged[0].text.split()) < MIN_WORDS:
        start, end = merged[0].start, merged[1].end
        merged[0:2] = [Segment(text[start:end], start, end)]
    return merged


def split_questions(text: str, at_commas: bool = False) -> List[Segment]:
    """The message's separate questions, in order; the whole text if it asks one."""
    text = text[:MAX_CHARS]
    sentences = _pieces(text, 0, _SENTENCE_END)
    pieces: List[Segment] = []
    for sentence in sentences:
        for piece in _pieces(sentence.text, sentence.start, _CONJUNCTION):
            pieces.extend(_pieces(piece.text, piece.start, _COMMA) if at_commas else [piece])
    return _merge_short(pieces, text) or ([Segment(text, 0, len(text))] if text.strip() else [])
