"""Find the handout's warning signs in a message, and whether each is present.

The pipeline, all on one spaCy Doc:
1. spaCy's English tokenizer (with digits split from a temperature unit: "38.5c");
2. `normalise.Normaliser`: SMS spellings, misspellings and stems into `token.norm_`;
3. a PhraseMatcher per concept of data/red_flags.yml on NORM, less the matches that lie
   inside a `not_symptoms` phrase ("the numbing shot"), plus the temperature reader;
4. symptom patterns: all concepts of a pattern within `window` tokens in one sentence;
5. `context`: ConText decides whether each mention is present, negated, hypothetical
   historical, or someone else's.
The message's level is the most severe level among its present symptoms.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Dict, List, NamedTuple, Sequence, Set, Tuple

import spacy
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc
from spacy.util import compile_infix_regex

from components.red_flags.context import CueSpan, Status, sentence_ids, status_of
from components.red_flags.lexicon import Lexicon, load_lexicon
from components.red_flags.normalise import Normaliser, SpellingCorrector

MAX_CHARS = 2000

# Co-occurring concepts make one symptom only within a clause: "the site is fine but my
# arm is red" is no statement about a red site.
CONTRASTIVE = {"but", "however", "although", "though", "except", "whereas"}

# The words of a denial that takes back what the sentence said ("didn't *actually* pass out").
TAKING_BACK = frozenset("actually really quite fully completely totally".split())

# What may follow a bare confirmation ("I did about 20 min ago", "it happened again").
CONFIRMATION_TAIL = frozenset(
    "about around just earlier today tonight yesterday this last again twice once already too "
    "lol haha maybe all evening morning night afternoon day long now since".split()
)

# A temperature: 35-43.5 is read as Celsius, 95-110 as Fahrenheit, unless a unit says; a
# number without a unit counts only in a sentence that speaks of temperature or fever.
_NUMBER = re.compile(r"^(\d{2,3}(?:[.,]\d{1,2})?)(?:°|º|deg)?([cf])?$")
_UNIT_WORDS = {"c": "c", "celsius": "c", "centigrade": "c", "f": "f", "fahrenheit": "f", "farenheit": "f"}
_DEGREE_WORDS = {"°", "º", "deg", "degree", "degrees"}
_UNIT_TOKENS = _DEGREE_WORDS | set(_UNIT_WORDS)
FEVER_AT = {"c": 38.0, "f": 100.4}
# A number followed by one of these measures something else ("I'm 39 years old").
_OTHER_MEASURES = frozenset(
    "year years yr yrs yo kg kgs kilos lb lbs pounds mg ml min mins minutes hour hours hrs day days "
    "week weeks % percent bpm".split()
)


# A temperature said in words, as dictation writes it ("one hundred and one point two",
# "thirty eight point five", "one oh one"): read like its digits (set W).
_UNITS = {
    w: n
    for n, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen".split()
    )
}
_TENS = {w: 10 * n for n, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)}
_NUMBER_WORDS = frozenset(_UNITS) | frozenset(_TENS) | {"hundred", "oh", "point", "and", "a", "-"}


def _words_to_number(words: Sequence[str]) -> float | None:
    """The value of a temperature said in words, or None when the words are no such number."""
    whole, _, decimals = " ".join(words).partition(" point ")
    parts = [w for w in whole.replace("-", " ").split() if w != "and"]
    if not parts or parts[0] in ("and", "point"):
        return None
    if "oh" in parts:  # "one oh one" is said digit by digit
        digits = ["0" if w == "oh" else str(_UNITS.get(w, "x")) for w in parts]
        if any(len(d) != 1 for d in digits):
            return None
        value = float("".join(digits))
    else:
        value, current = 0.0, 0
        for word in parts:
            if word == "hundred":
                current, value = 0, value + 100 * (current or 1)
            elif word == "a":
                continue
            elif word in _TENS and current % 100 == 0:
                current += _TENS[word]
            elif word in _UNITS and current % 10 == 0:
                current += _UNITS[word]
            else:
                return None
        value += current
    if decimals:
        digits = [str(_UNITS.get(w, "x")) for w in decimals.replace("-", " ").split()]
        if not digits or any(len(d) != 1 for d in digits):
            return None
        value += float("0." + "".join(digits))
    return value


def spelled_number(tokens: Sequence[str], start: int) -> Tuple[float, int] | None:
    """A number said in words starting at `start` of the lower-case tokens: its value and
    where it ends, or None."""
    end = start
    while end < len(tokens) and tokens[end] in _NUMBER_WORDS:
        end += 1
    while end > start and tokens[end - 1] in ("and", "point", "a", "-", "oh"):
        end -= 1
    if end == start or tokens[start] not in _UNITS and tokens[start] not in _TENS and tokens[start] != "a":
        return None
    value = _words_to_number(tokens[start:end])
    return (value, end) if value is not None else None


_READING = re.compile(
    r"(?<![\d.,])(\d{2,3}(?:[.,]\d{1,2})?)\s*(?:°|º|deg\b|degrees?\b)?\s*"
    r"(c\b|f\b|celsius\b|fahrenheit\b)?",
    re.IGNORECASE,
)


def _readings_at(text: str) -> List[Tuple[int, float, str]]:
    """Every number in the text that reads as a body temperature: where it starts, its
    value and its unit (a unit when one is written, otherwise Celsius for 35-43.5 and
    Fahrenheit for 95-110)."""
    readings = []
    for match in _READING.finditer(text or ""):
        value = float(match.group(1).replace(",", "."))
        guessed = "c" if 35 <= value <= 43.5 else "f" if 95 <= value <= 110 else ""
        unit = (match.group(2) or "").lower()[:1] or guessed
        if (unit == "c" and 35 <= value <= 43.5) or (unit == "f" and 95 <= value <= 110):
            readings.append((match.start(1), value, unit))
    return readings


def temperature_readings(text: str) -> List[Tuple[float, str]]:
    """Every body-temperature reading in the text, with its unit."""
    return [(value, unit) for _, value, unit in _readings_at(text)]


def last_reading_start(text: str) -> int | None:
    """Where the text's last body-temperature reading starts, if it gives one."""
    readings = _readings_at(text)
    return readings[-1][0] if readings else None


def only_normal_readings(text: str) -> bool:
    """Whether the text gives a temperature and every one is under 100.4 °F / 38 °C."""
    readings = temperature_readings(text)
    return bool(readings) and all(value < FEVER_AT[unit] for value, unit in readings)


def raised_reading(text: str) -> bool:
    """Whether any temperature reading in the text is at or over the fever line."""
    return any(value >= FEVER_AT[unit] for value, unit in temperature_readings(text))


# A pain score out of ten: "a 3", "an 8", "7/10", "6 out of 10" (not "day 4", "2 pills").
_SCORE = re.compile(r"^(10|[0-9])(?:/10)?$")
_SCORE_BEFORE = frozenset("a an at was is its it's were been about around like now maybe".split())
_NOT_SCORES = frozenset(
    "day days week weeks hour hours hrs min mins minutes time times pill pills tablet tablets "
    "am pm oclock o'clock year years month months night nights".split()
)
# The earlier reading of two: "it *was* a 3, now an 8", "it's an 8 now, *was* a 3 yesterday".
_EARLIER = frozenset("was were used yesterday before started".split())
# Rising by this much, to at least this, is worse pain, whatever words go with it.
SCORE_RISE, SCORE_AT_LEAST = 2, 5
_PAIN_WORDS = frozenset("pain pains painful hurt hurts hurting sore soreness ache aches aching".split())


def rising_scores(doc: Doc, sentences: List[int]) -> List[Tuple[int, int]]:
    """Pain scores that rise within a sentence that speaks of pain ("pain at the site was a
    3 on day 1, now on day 4 it's an 8"), as PAIN_RISING spans: a patient who gives numbers
    instead of "worse" says the same thing."""
    rising: List[Tuple[int, int]] = []
    about_pain = {sentences[i] for i, t in enumerate(doc) if t.lower_ in _PAIN_WORDS}
    by_sentence: Dict[int, List[Tuple[int, int, bool]]] = defaultdict(list)
    for i, token in enumerate(doc):
        match = _SCORE.match(token.lower_)
        if not match or i == 0 or doc[i - 1].lower_ not in _SCORE_BEFORE:
            continue
        after = doc[i + 1].lower_ if i + 1 < len(doc) else ""
        if after in _NOT_SCORES or (i >= 2 and doc[i - 2].lower_ in _NOT_SCORES):
            continue
        earlier = any(t.lower_ in _EARLIER for t in doc[max(0, i - 3) : i + 3])
        by_sentence[sentences[i]].append((i, int(match.group(1)), earlier))
    for sentence, scores in by_sentence.items():
        if len(scores) < 2 or sentence not in about_pain:
            continue
        before = [s for s in scores if s[2]] or scores[:1]
        now = [s for s in scores if not s[2] and s not in before] or scores[-1:]
        low, high = min(s[1] for s in before), max(s[1] for s in now)
        if high - low >= SCORE_RISE and high >= SCORE_AT_LEAST:
            i = max(now, key=lambda s: s[1])[0]
            rising.append((i, i + 1))
    return rising


# Words that introduce a title or a name: "watching *Breathless*", "a horse called *Pass
# Out Pete*", "her team, the *Fever*", "Dr. *Faint*". A capitalised sign after any other
# word ("I'm going to Pass Out") is read as usual.
NAME_INTRODUCERS = frozenset(
    "watching watched watch saw seen see read reading called named about the film movie show "
    "book song band team series episode titled dr dr. doctor mr mr. mrs mrs. ms ms.".split()
)


TITLES = frozenset({"dr", "mr", "mrs", "ms", "prof"})


def _title(word: str) -> bool:
    return word[0].isupper() and word[1:].islower()


def _written_in_lower_case(doc: Doc, text: str) -> bool:
    """Whether the message (`text` as written; `doc` is lower case) is mostly lower case:
    only then does a capitalised word stand out as a name."""
    if len(doc.text) != len(text):
        return False
    words = [text[t.idx : t.idx + len(t)] for t in doc if t.is_alpha]
    capitalised = [w for w in words if (_title(w) or w.isupper()) and w != "I"]
    return len(words) >= 4 and len(capitalised) <= 0.3 * len(words)


def _is_name(doc: Doc, start: int, end: int, text: str) -> bool:
    """Whether sign words are a title or a name: capitalised right after a word that
    introduces one, in a message written in lower case (`_written_in_lower_case`, checked
    by the caller). A message typed in capitals or title case is read as usual, and the
    learned detector still reads it all.
    """
    span = [text[t.idx : t.idx + len(t)] for t in doc[start:end] if t.is_alpha]
    if not span or not all(_title(w) for w in span):
        return False
    before = start - 1
    if before > 0 and doc[before].text == "." and doc[before - 1].lower_ in TITLES:
        return True  # "Dr. Faint", the title's full stop read apart
    return before >= 0 and doc[before].lower_ in NAME_INTRODUCERS


QUOTES = frozenset("'\"‘’“”")


def _in_quotes(doc: Doc, start: int, end: int) -> bool:
    """Sign words in quotation marks are someone's words, not a report: "my toddler
    'fainted' dramatically", "he 'passed out' asleep in the chair". The learned detector
    still reads them, and escalates on its own when it is sure."""
    return 0 < start and end < len(doc) and doc[start - 1].text in QUOTES and doc[end].text in QUOTES


def _holds(start: int, end: int, inner_start: int, inner_end: int) -> bool:
    """Whether the span [start, end) holds the inner span and more."""
    return start <= inner_start and inner_end <= end and end - start > inner_end - inner_start


class RawMention(NamedTuple):
    """A symptom pattern's match: its token range and the concept matches it is made of."""

    symptom: str
    start: int
    end: int
    parts: Tuple[Tuple[int, int], ...]
    # whether the pattern names a change or the treated site in its own words (see Mention)
    firm: bool = False


@dataclass(frozen=True)
class Mention:
    """One warning sign found in the message, where, and what the message says of it."""

    symptom: str
    level: str
    start_char: int
    end_char: int
    text: str
    status: Status
    cues: Tuple[str, ...] = ()
    # said with a change ("much worse and swollen") or at the treated site in its own words
    # ("pus at the site"): no other sense of a sign word, so the learned detector's doubt
    # does not hold it back (data/red_flags.yml `firm_concepts`)
    firm: bool = False


@dataclass(frozen=True)
class Finding:
    """What a message says about warning signs."""

    mentions: Tuple[Mention, ...] = ()
    level: str | None = None
    present: Tuple[str, ...] = field(default_factory=tuple)

    def with_status(self, status: Status) -> Tuple[str, ...]:
        """Symptoms with at least one mention of this status, most severe first."""
        seen: List[str] = []
        for mention in self.mentions:
            if mention.status == status and mention.symptom not in seen:
                seen.append(mention.symptom)
        return tuple(seen)

    @property
    def hypothetical(self) -> Tuple[str, ...]:
        """Symptoms asked about in general or for later, not reported."""
        return tuple(s for s in self.with_status(Status.HYPOTHETICAL) if s not in self.present)

    @property
    def negated(self) -> Tuple[str, ...]:
        """Symptoms the patient does not have, or has only as the handout expects at first."""
        found = self.with_status(Status.NEGATED) + self.with_status(Status.EXPECTED)
        return tuple(dict.fromkeys(s for s in found if s not in self.present))


def _build_nlp() -> spacy.Language:
    nlp = spacy.blank("en")
    infixes = list(nlp.Defaults.infixes) + [
        r"(?<=[0-9])(?=[°ºcCfF]\b)",  # "38.5c", "101F"
        r"(?<=[a-zA-Z]):(?=[0-9])",  # "temp:38"
        r"[<>()\[\]{}|=\\\"*_~#]",  # markup and emphasis: "<b>fainted</b>", "*numb*"
    ]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    return nlp


class RedFlagDetector:
    """Runs the detection pipeline; built once per process (about a second), then fast."""

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self.lexicon = lexicon or load_lexicon()
        self.nlp = _build_nlp()
        targets = {
            word
            for phrases in (*self.lexicon.concepts.values(), [c.phrase for c in self.lexicon.cues])
            for phrase in phrases
            for word in phrase.split()
        }
        concepts = self.lexicon.concepts.values()
        sign_words = {word for phrases in concepts for phrase in phrases for word in phrase.split()}
        self.normaliser = Normaliser(self.lexicon.spelling, SpellingCorrector(targets, preferred=sign_words))
        self.concepts = self._matcher("NORM", self.lexicon.concepts)
        self.exclusions = self._matcher("LOWER", {"NOT_SYMPTOM": self.lexicon.not_symptoms})
        cue_phrases: Dict[str, List[str]] = defaultdict(list)
        for cue in self.lexicon.cues:
            whole = "m" if cue.whole_message else "s" if cue.whole_sentence else ""
            whole += "q" if cue.unless_question else ""
            parts = (cue.category, cue.direction, ",".join(cue.symptoms), ",".join(cue.unless), whole)
            label = "|".join(parts)
            cue_phrases[label].append(cue.phrase)
        self.cues = self._matcher("NORM", cue_phrases)
        self.terminators = self._matcher("NORM", {"TERMINATE": self.lexicon.terminators})
        self.patient_words = self._matcher("NORM", {"PATIENT": self.lexicon.patient_words})
        self.confirmations = self._matcher("NORM", {"CONFIRM": self.lexicon.confirmations})
        self.historical = [re.compile(p) for p in self.lexicon.historical_patterns]
        self.returned = [re.compile(p) for p in self.lexicon.returned_patterns]
        self.general_questions = [re.compile(p) for p in self.lexicon.general_question_patterns]
        self.question_openers = {n[0] for p in self.lexicon.question_openers if len(n := self._norms(p)) == 1}
        concept_norms = {
            name: {self._norms(p) for p in phrases} for name, phrases in self.lexicon.concepts.items()
        }
        # One-word phrases that say a sentence is about temperature ("temp", "fever").
        self.temperature_words = {
            p[0] for concept in ("TEMPERATURE", "FEVER") for p in concept_norms[concept] if len(p) == 1
        }

    def _doc(self, text: str) -> Doc:
        # spaCy's contraction rules are case-sensitive ("CANT BREATHE"); lower-casing keeps
        # the character offsets wherever it keeps the length, which is nearly always.
        lower = text.lower()
        return self.normaliser(self.nlp.make_doc(lower if len(lower) == len(text) else text))

    def norms(self, phrase: str) -> Tuple[str, ...]:
        """A phrase's words as the matcher reads them (spelling, contractions, stems)."""
        return self._norms(phrase)

    def _norms(self, phrase: str) -> Tuple[str, ...]:
        return tuple(t.norm_ for t in self._doc(phrase))

    def _matcher(self, attr: str, phrases: Dict[str, Sequence[str]]) -> PhraseMatcher:
        matcher = PhraseMatcher(self.nlp.vocab, attr=attr)
        for label, items in phrases.items():
            docs = [self._doc(p) if attr == "NORM" else self.nlp.make_doc(p) for p in items]
            matcher.add(label, [d for d in docs if len(d)])
        return matcher

    def _labelled(self, matcher: PhraseMatcher, doc: Doc) -> List[Tuple[str, int, int]]:
        return [(self.nlp.vocab.strings[m], s, e) for m, s, e in matcher(doc)]

    # -- temperatures ---------------------------------------------------------------

    def _temperatures(self, doc: Doc, sentences: List[int]) -> List[Tuple[int, int]]:
        """Readings at or over 100.4 °F / 38 °C. A normal reading hides nothing: "it was 99
        this morning, now I'm burning up" is a fever."""
        high: List[Tuple[int, int]] = []
        about_temperature = {sentences[j] for j, t in enumerate(doc) if t.norm_ in self.temperature_words}
        lower = [t.lower_ for t in doc]
        skip_to = 0
        for i, token in enumerate(doc):
            match = _NUMBER.match(token.lower_)
            inside = i < skip_to or (i > 0 and lower[i - 1] in _NUMBER_WORDS)
            spelled = None if match or inside else spelled_number(lower, i)
            if not match and not spelled:
                continue
            if spelled:
                value, end = spelled
                unit, skip_to = None, end
            else:
                value = float(match.group(1).replace(",", "."))
                unit, end = match.group(2), i + 1
            while end < len(doc) and end <= i + 2 and doc[end].lower_ in _UNIT_TOKENS:
                unit = _UNIT_WORDS.get(doc[end].lower_, unit)
                end += 1
            if not unit:
                # the sentence is about temperature, or the one before it ("what counts as a
                # normal temp? | I'm at 38.4 right now": the turn before, read as context)
                if not ({sentences[i], sentences[i] - 1} & about_temperature):
                    continue
                if end < len(doc) and doc[end].lower_ in _OTHER_MEASURES:
                    continue
                unit = "c" if 35 <= value <= 43.5 else "f" if 95 <= value <= 110 else None
            if unit is None or not (35 <= value <= 43.5 or 95 <= value <= 110):
                continue
            if value >= FEVER_AT[unit]:
                high.append((i, end))
        return high

    # -- symptoms --------------------------------------------------------------------

    def _concept_matches(
        self, doc: Doc, sentences: List[int], text: str = ""
    ) -> Dict[str, List[Tuple[int, int]]]:
        excluded = [(s, e) for _, s, e in self._labelled(self.exclusions, doc)]
        names_stand_out = _written_in_lower_case(doc, text)
        found: Dict[str, List[Tuple[int, int]]] = defaultdict(list)
        for concept, start, end in self._labelled(self.concepts, doc):
            # a sign word inside a not-symptom phrase, or sharing words with it, is used in
            # that phrase's other sense ("I'm *dying to* get back on the golf course"); a
            # sign phrase that holds a whole not-symptom phrase is the sign ("zero pain relief")
            if any(start < e and s < end and not _holds(start, end, s, e) for s, e in excluded):
                continue
            if (names_stand_out and _is_name(doc, start, end, text)) or _in_quotes(doc, start, end):
                continue
            found[concept].append((start, end))
        found["HIGH_TEMPERATURE"] += self._temperatures(doc, sentences)
        found["PAIN_RISING"] += rising_scores(doc, sentences)
        return found

    def _clauses(self, doc: Doc, sentences: List[int]) -> List[int]:
        clause, ids = 0, []
        for i, token in enumerate(doc):
            if i and (sentences[i] != sentences[i - 1] or token.norm_ in CONTRASTIVE):
                clause += 1
            ids.append(clause)
        return ids

    def _mentions(self, concepts: Dict[str, List[Tuple[int, int]]], clauses: List[int]) -> List[RawMention]:
        window = self.lexicon.window
        found: Set[RawMention] = set()
        for name, symptom in self.lexicon.symptoms.items():
            for pattern in symptom.patterns:
                first, rest = pattern[0], pattern[1:]
                for anchor in concepts.get(first, []):
                    chosen = [anchor]
                    for concept in rest:
                        options = [
                            o
                            for o in concepts.get(concept, [])
                            if (symptom.across_sentences or clauses[o[0]] == clauses[anchor[0]])
                            and o not in chosen
                        ]
                        if not options:
                            break
                        chosen.append(min(options, key=lambda o: abs(o[0] - anchor[0])))
                    else:
                        start = min(s for s, _ in chosen)
                        end = max(e for _, e in chosen)
                        if end - start <= window:
                            firm = any(c in self.lexicon.firm_concepts for c in pattern)
                            found.add(RawMention(name, start, end, tuple(sorted(chosen)), firm))
        return sorted(found, key=lambda m: (m.start, m.end, m.symptom))

    # -- context ---------------------------------------------------------------------

    def _cues(self, doc: Doc) -> List[CueSpan]:
        """Cues, the longest winning where they overlap ("not sure if" over "not", "if")."""
        found = sorted(self._labelled(self.cues, doc), key=lambda m: (m[1] - m[2], m[1]))
        kept: List[Tuple[str, int, int]] = []
        for label, start, end in found:
            if all((s, e) == (start, end) or e <= start or end <= s for _, s, e in kept):
                kept.append((label, start, end))
        cues = []
        for label, start, end in sorted(kept, key=lambda m: m[1]):
            category, direction, limited, unless, whole = label.split("|")
            symptoms = tuple(limited.split(",")) if limited else ()
            stops = tuple(unless.split(",")) if unless else ()
            cues.append(
                CueSpan(
                    start, end, category, direction, symptoms, stops, "s" in whole, "m" in whole, "q" in whole
                )
            )
        return cues

    @staticmethod
    def _pattern_spans(doc: Doc, patterns: List[re.Pattern[str]]) -> List[Tuple[re.Match[str], int, int]]:
        """Each match of these patterns in the lower-cased text, with its token range."""
        found, lowered = [], doc.text.lower()
        for pattern in patterns:
            for match in pattern.finditer(lowered):
                span = doc.char_span(match.start(), match.end(), alignment_mode="expand")
                if span is not None:
                    found.append((match, span.start, span.end))
        return found

    def _historical_times(self, doc: Doc) -> List[CueSpan]:
        """ "when I was 16", "in 2015": HISTORICAL both ways; a year only before this one."""
        return [
            CueSpan(start, end, "HISTORICAL", direction)
            for match, start, end in self._pattern_spans(doc, self.historical)
            if not ((year := match.groupdict().get("year")) and int(year) >= date.today().year)
            for direction in ("forward", "backward")
        ]

    def _returned_after_months(self, doc: Doc) -> List[CueSpan]:
        """ "my pain came back after about 9 months": the return the handout expects, for
        "not getting better" in that sentence only (no relief for months is still the sign)."""
        return [
            CueSpan(start, end, "EXPECTED", "forward", ("not_improving",), whole_sentence=True)
            for _, start, end in self._pattern_spans(doc, self.returned)
        ]

    def _general_questions(self, doc: Doc) -> List[CueSpan]:
        """ "does cold weather make facet pain worse?": asked in general, for its sentence
        (the cue is the question's last token, so its sentence is the question's)."""
        return [
            CueSpan(end - 1, end, "HYPOTHETICAL", "backward", whole_sentence=True)
            for _, _, end in self._pattern_spans(doc, self.general_questions)
        ]

    @staticmethod
    def _corrected(doc: Doc, sentences: List[int], raw: List[RawMention], statuses: List[Status]) -> Set[int]:
        """Mentions the same sentence takes back later: "I felt faint *but* I didn't actually
        pass out". A sign said present, then denied after a contrast word with "actually",
        "really" or "quite", is denied; a plain later denial is about now ("I fainted this
        morning but haven't fainted since") and takes nothing back."""
        corrected = set()
        for i, (name, start, *_) in enumerate(raw):
            if statuses[i] != Status.PRESENT:
                continue
            for j, (other, later, *_) in enumerate(raw):
                if (
                    other == name
                    and statuses[j] == Status.NEGATED
                    and later > start
                    and sentences[later] == sentences[start]
                    and any(doc[k].norm_ in CONTRASTIVE for k in range(start, later))
                    and any(doc[k].norm_ in TAKING_BACK for k in range(start, later))
                ):
                    corrected.add(i)
        return corrected

    def _yes_no_questions(self, doc: Doc, sentences: List[int]) -> Set[int]:
        """Sentences whose first word opens a yes/no question ("is", "are", "should"…)."""
        return {
            sentences[i]
            for i, token in enumerate(doc)
            if (i == 0 or sentences[i - 1] != sentences[i]) and token.norm_ in self.question_openers
        }

    def _confirmed_after(self, doc: Doc, sentences: List[int]) -> Set[int]:
        """Sentences that open with a bare "I did" / "it happened" and say nothing else new.

        Only a confirmation that ends its clause counts (the next token is punctuation,
        the end, or a time word): "I did, about 20 min ago" confirms, "I did read the
        leaflet" does not.
        """
        found = set()
        for _, start, end in self._labelled(self.confirmations, doc):
            opens = start == 0 or sentences[start - 1] != sentences[start] or doc[start - 1].is_punct
            after = doc[end] if end < len(doc) else None
            closes = after is None or after.is_punct or after.lower_ in CONFIRMATION_TAIL or after.like_num
            if opens and closes:
                found.add(sentences[start])
        return found

    def detect(self, text: str) -> Finding:
        """The warning signs the text mentions, each with its status, and the level."""
        text = (text or "")[:MAX_CHARS]
        doc = self._doc(text)
        if not len(doc):
            return Finding()
        sentences = sentence_ids(doc)
        clauses = self._clauses(doc, sentences)
        concepts = self._concept_matches(doc, sentences, text)
        raw = self._mentions(concepts, clauses)
        if not raw:
            return Finding()
        concept_tokens = {i for m in raw for s, e in m.parts for i in range(s, e)}
        terminators = {
            i
            for _, s, e in self._labelled(self.terminators, doc)
            for i in range(s, e)
            if i not in concept_tokens
        }
        # A cue wholly inside a symptom's words is part of it ("my hand is *not* moving"), and
        # so is a negation whose last word starts them ("my leg has *stopped* moving").
        cues = [
            c
            for c in self._cues(doc)
            + self._historical_times(doc)
            + self._returned_after_months(doc)
            + self._general_questions(doc)
            if not all(i in concept_tokens for i in range(c.start, c.end))
            and not (c.category == "NEGATED" and (c.end - 1) in concept_tokens)
        ]
        # a cue stops where its sentence (or message) names a concept it does not hold for
        cues = [
            c
            for c in cues
            if not any(
                c.whole_message or sentences[start] == sentences[c.start]
                for name in c.unless
                for start, _ in concepts.get(name, ())
            )
        ]
        # ...and an `unless_question` cue where its sentence opens as a yes/no question
        asking = self._yes_no_questions(doc, sentences)
        cues = [c for c in cues if not (c.unless_question and sentences[c.start] in asking)]
        patient = {i for _, s, e in self._labelled(self.patient_words, doc) for i in range(s, e)}
        confirmed = self._confirmed_after(doc, sentences)
        decided = []
        for name, start, _end, parts, _firm in raw:
            status, deciding = status_of(
                name, parts, cues, doc, self.lexicon.scope, terminators, sentences, patient
            )
            # "is it common to faint? I did", "my friend fainted after hers. I did too"
            if status in (Status.HYPOTHETICAL, Status.OTHER) and any(s > sentences[start] for s in confirmed):
                status = Status.PRESENT
            decided.append((status, tuple(doc[c.start : c.end].text for c in deciding)))
        corrected = self._corrected(doc, sentences, raw, [status for status, _ in decided])
        mentions = []
        for index, ((name, start, end, _, firm), (status, said)) in enumerate(zip(raw, decided, strict=True)):
            if index in corrected:
                status, said = Status.NEGATED, ("taken back",)
            span = doc[start:end]
            mentions.append(
                Mention(
                    symptom=name,
                    level=self.lexicon.symptoms[name].level,
                    start_char=span.start_char,
                    end_char=span.end_char,
                    text=text[span.start_char : span.end_char],
                    status=status,
                    cues=said,
                    firm=firm,
                )
            )
        mentions.sort(key=lambda m: (-self.lexicon.rank(m.level), m.start_char))
        present = tuple(dict.fromkeys(m.symptom for m in mentions if m.status == Status.PRESENT))
        level = self.lexicon.symptoms[present[0]].level if present else None
        return Finding(tuple(mentions), level, present)
