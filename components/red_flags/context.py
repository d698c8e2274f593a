"""ConText (Chapman et al., 2007) for patients' messages: is a mention present or not?

Each cue (a phrase of data/red_flags.yml) opens a scope of up to `scope` tokens forward or
backward. The scope ends at a sentence end, at a terminator ("but", "now", "apart from",
...), at a comma that does not continue a list, or at a turn of the sentence to a new
subject ("and my ..."). A mention inside a cue's scope takes the cue's category.

Two rules keep a present symptom from being hidden, which is the point of this module:
- a cue inside a concept of a mention is part of the symptom, not a modifier ("my hand
  is *not* moving", "*not* getting better", "I *can't* move my leg");
- when cues disagree, presence wins: RECURRED ("it's back", which looks back over the
  whole sentence) and POSSIBLE ("not sure if", "I think") beat NEGATED, which beats
  HYPOTHETICAL, HISTORICAL and OTHER. A symptom counts as present when any of its
  mentions is.

OTHER is a sign of someone who cannot be the patient ("the dog passed out", "my coworker
fainted"), FIGURATIVE a sign word in another sense ("laughed so hard I could barely
breathe", "38 degrees outside"); both read as "other", not the patient's sign. An OTHER
cue's scope ends where the sentence comes back to the patient ("my coworker found *me*
passed out", "my grandson says *grandma* fainted"); a relative who may be the patient
("my dad fainted") is no OTHER cue at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import AbstractSet, Iterable, List, Sequence, Set, Tuple

from spacy.tokens import Doc

SENTENCE_ENDS = {".", "!", "?", ";", "…", "..."}
LIST_CONTINUERS = {"or", "nor"}
# Terminators that only say when, which do not end an OTHER cue's scope.
TIME_WORDS = frozenset({"just", "now", "still", "today", "tonight", "then", "this", "only", "also"})


class Status(str, Enum):
    """What the message says about a mentioned symptom."""

    PRESENT = "present"
    NEGATED = "negated"
    EXPECTED = "expected"
    HYPOTHETICAL = "hypothetical"
    HISTORICAL = "historical"
    OTHER = "other"


# Cue categories in order of precedence; POSSIBLE means present. (PSEUDO cues only block
# a shorter cue inside them, so they have no place here.)
PRECEDENCE = (
    "RECURRED",
    "POSSIBLE",
    "NEGATED",
    "EXPECTED",
    "HYPOTHETICAL",
    "HISTORICAL",
    "OTHER",
    "FIGURATIVE",
)
_STATUS = {
    "RECURRED": Status.PRESENT,
    "EXPECTED": Status.EXPECTED,
    "POSSIBLE": Status.PRESENT,
    "NEGATED": Status.NEGATED,
    "HYPOTHETICAL": Status.HYPOTHETICAL,
    "HISTORICAL": Status.HISTORICAL,
    "OTHER": Status.OTHER,
    "FIGURATIVE": Status.OTHER,
}


@dataclass(frozen=True)
class CueSpan:
    """A cue found in the message: token offsets, category, direction, and the warning
    signs it is limited to (none: all)."""

    start: int
    end: int
    category: str
    direction: str
    symptoms: Tuple[str, ...] = ()
    unless: Tuple[str, ...] = ()
    whole_sentence: bool = False
    whole_message: bool = False
    unless_question: bool = False


def sentence_ids(doc: Doc) -> List[int]:
    """A sentence number per token; sentences end at . ! ? ; and line breaks."""
    ids, current = [], 0
    for token in doc:
        ids.append(current)
        ellipsis = token.is_punct and token.text.count(".") > 1
        if token.text in SENTENCE_ENDS or "\n" in token.text or ellipsis:
            current += 1
    return ids


def _comma_ends_scope(doc: Doc, comma: int, limit: int, sentences: List[int]) -> bool:
    """A comma ends a scope unless the list goes on to an "or"/"nor" ("no fever, chills or ...")."""
    for i in range(comma + 1, min(limit, len(doc))):
        if sentences[i] != sentences[comma]:
            break
        if doc[i].norm_ in LIST_CONTINUERS:
            return False
    return True


def scope_of(
    doc: Doc,
    cue: CueSpan,
    max_tokens: int,
    terminators: Set[int],
    sentences: List[int],
    patient: AbstractSet[int] = frozenset(),
) -> Tuple[int, int]:
    """The token range [start, end) a cue governs; an OTHER cue's ends at a `patient` token."""
    if cue.whole_message:
        return 0, len(doc)
    if cue.whole_sentence:
        own = [i for i, s in enumerate(sentences) if s == sentences[cue.start]]
        end = own[-1] + 1
        if cue.category == "OTHER":  # "…not the one who had it, but I had it and I fainted"
            end = next((i for i in own if i >= cue.end and i in patient), end)
        return own[0], end
    if cue.direction in ("previous", "answer"):
        own = sentences[cue.start]
        if own == 0:
            return cue.start, cue.start
        before = [i for i, s in enumerate(sentences) if s == own - 1]
        if cue.direction == "answer" and doc[before[-1]].text != "?":
            return cue.start, cue.start  # no question before it: an ordinary "no"
        return before[0], cue.start
    if cue.direction == "forward":
        start, end = cue.end, cue.end
        while end < len(doc) and end - cue.end < max_tokens and sentences[end] == sentences[cue.start]:
            if cue.category == "OTHER" and end in patient:
                break
            # someone else's sign goes on past a time word ("my coworker *just* fainted"):
            # only a turn back to the patient or a new sentence ends it
            if end in terminators and not (cue.category == "OTHER" and doc[end].norm_ in TIME_WORDS):
                break
            if doc[end].text in SENTENCE_ENDS:
                break
            if doc[end].text == "," and _comma_ends_scope(doc, end, cue.end + max_tokens, sentences):
                break
            end += 1
        return start, end
    end, start = cue.start, cue.start
    if cue.category == "RECURRED":
        while start > 0 and sentences[start - 1] == sentences[cue.start]:
            start -= 1
        return start, end
    while start > 0 and cue.start - start < max_tokens and sentences[start - 1] == sentences[cue.start]:
        previous = start - 1
        if previous in terminators or doc[previous].text in SENTENCE_ENDS or doc[previous].text == ",":
            break
        start -= 1
    return start, end


def status_of(
    symptom: str,
    parts: Sequence[Tuple[int, int]],
    cues: Iterable[CueSpan],
    doc: Doc,
    max_tokens: int,
    terminators: Set[int],
    sentences: List[int],
    patient: AbstractSet[int] = frozenset(),
) -> Tuple[Status, Sequence[CueSpan]]:
    """The status of a mention made of these concept matches, and the cues that decided it.

    A cue governs the mention when its scope reaches one of the mention's concepts, so a
    cue between them counts too ("the site is not red"). The caller leaves out cues that lie
    inside a concept.
    """
    found = []
    for cue in cues:
        if cue.symptoms and symptom not in cue.symptoms:
            continue
        scope_start, scope_end = scope_of(doc, cue, max_tokens, terminators, sentences, patient)
        if any(scope_start <= s < scope_end or scope_start < e <= scope_end for s, e in parts):
            found.append(cue)
    for category in PRECEDENCE:
        deciding = [c for c in found if c.category == category]
        if deciding:
            return _STATUS[category], deciding
    return Status.PRESENT, []
