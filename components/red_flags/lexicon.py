"""Load and check data/red_flags.yml: levels, symptoms, concepts and ConText cues."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Tuple

import yaml

from components.red_flags.context import PRECEDENCE

RED_FLAGS_FILE = Path(__file__).resolve().parents[2] / "data" / "red_flags.yml"

# Most severe first; a message's level is the most severe of its present symptoms.
LEVELS: Tuple[str, ...] = ("emergency", "urgent", "watch")
CATEGORIES = (*PRECEDENCE, "PSEUDO")
# forward/backward: up to `scope` tokens in the cue's clause; previous: the sentence before
# the cue's and its own up to the cue ("…passing out, breathing trouble. None of that
# here"); answer: the same, only when that sentence is a question ("chills? nope.").
DIRECTIONS = ("forward", "backward", "previous", "answer")

# Concepts that are not phrases from the file but come from code (the number reader).
BUILTIN_CONCEPTS = {"HIGH_TEMPERATURE", "PAIN_RISING"}


@dataclass(frozen=True)
class Bullet:
    """A handout bullet, word for word, and the handout it is in."""

    source: str
    text: str


@dataclass(frozen=True)
class Symptom:
    """A warning sign: its level, its handout bullets and the concept patterns that find it."""

    name: str
    level: str
    bullets: Tuple[Bullet, ...]
    patterns: Tuple[Tuple[str, ...], ...]
    across_sentences: bool = False


# The keys of a cue group that are options, not phrase lists.
OPTIONS = (
    "symptoms",
    "category",
    "unless_sentence_has",
    "whole_sentence",
    "whole_message",
    "unless_question",
    "phrases_of",
)


@dataclass(frozen=True)
class Cue:
    """A ConText cue phrase, what it says about a mention, and which way it looks.

    `symptoms` limits a cue to some warning signs ("no relief yet, since yesterday" is
    expected after the procedure; "no fever yet" is just no fever). `unless` names
    concepts that stop the cue when its sentence has one of them ("numb at the injection
    site" is the numbing medicine; "numb at the site and down my *leg*" is not).
    `unless_question` cues do not hold in a sentence that opens as a yes/no question
    (`question_openers`): "is numbness in my toes normal?" asks, it denies nothing.
    `whole_sentence` cues govern their whole sentence, whatever ends other scopes;
    `whole_message` cues the whole message, and their `unless` looks at all of it ("no
    relief yet. it's only been 1 day. worried it didn't work").
    """

    phrase: str
    category: str
    direction: str
    symptoms: Tuple[str, ...] = ()
    unless: Tuple[str, ...] = ()
    whole_sentence: bool = False
    whole_message: bool = False
    unless_question: bool = False


@dataclass(frozen=True)
class Lexicon:
    """Everything the detector knows, read from one data file."""

    level_intros: Dict[str, Bullet]
    symptoms: Dict[str, Symptom]
    concepts: Dict[str, Tuple[str, ...]]
    not_symptoms: Tuple[str, ...]
    cues: Tuple[Cue, ...]
    terminators: Tuple[str, ...]
    spelling: Dict[str, str]
    window: int
    scope: int
    # Words of a worried follow-up to a warning just given ("is that normal?"), and weaker
    # ones that count only when no new question is asked ("is driving ok?").
    follow_up: Tuple[str, ...] = ()
    follow_up_weak: Tuple[str, ...] = ()
    # Words that say a sign just asked about has happened ("is it common to faint? because
    # that's what happened to me"): the asked-about sign is a report.
    occurred: Tuple[str, ...] = ()
    occurred_denials: Tuple[str, ...] = ()
    occurred_denial_chars: int = 20
    question_openers: Tuple[str, ...] = ()
    pronoun_nouns: Tuple[str, ...] = ()
    absent_cues: Tuple[str, ...] = ()
    confirm_concepts: Tuple[str, ...] = ()
    # Asking whether to call 911 now, and the words that make such a question general.
    emergency_questions: Tuple[str, ...] = ()
    emergency_question_unless: Tuple[str, ...] = ()
    # Words that bring a sentence back to the patient ("me", "my mom"): an OTHER cue ("my
    # dog", "a coworker") governs nothing after them ("my coworker found *me* passed out").
    patient_words: Tuple[str, ...] = ()
    # Regular expressions for times no phrase list can hold ("when i was 16", "in 2015").
    historical_patterns: Tuple[str, ...] = ()
    # Regular expressions for pain that came back months after relief, which the handout
    # expects ("your pain may return"): EXPECTED for "not getting better" in their sentence.
    returned_patterns: Tuple[str, ...] = ()
    # Regular expressions for questions in general about what makes a sign worse.
    general_question_patterns: Tuple[str, ...] = ()
    # A short sentence that says the patient had what was just asked about: "is it common
    # to black out after this? I did, 20 minutes ago" reports it.
    confirmations: Tuple[str, ...] = ()
    # Concepts that make a sign's match firm: a change or the treated site in its own words.
    firm_concepts: Tuple[str, ...] = ()

    def rank(self, level: str) -> int:
        """Higher is more severe."""
        return len(LEVELS) - LEVELS.index(level)


def _cues(raw: Dict[str, Dict[str, Any]], symptom_names: set, concept_names: set) -> List[Cue]:
    """A group is named by its category, or has a `category:` of its own (a second group
    of one category, limited to other signs)."""
    cues = []
    for name, spec in raw.items():
        category = spec.get("category", name)
        if category not in CATEGORIES:
            raise ValueError(f"unknown cue category {category!r}")
        limited = tuple(spec.get("symptoms", ()))
        if set(limited) - symptom_names:
            raise ValueError(f"{category}: unknown symptoms {sorted(set(limited) - symptom_names)}")
        unless = tuple(spec.get("unless_sentence_has", ()))
        whole = bool(spec.get("whole_sentence", False))
        message = bool(spec.get("whole_message", False))
        question = bool(spec.get("unless_question", False))
        if set(unless) - concept_names:
            raise ValueError(f"{category}: unknown concepts {sorted(set(unless) - concept_names)}")
        # `phrases_of`: another group's phrases as well, one list kept in one place
        source = spec.get("phrases_of")
        shared = raw.get(source, {}) if source else {}
        if source and not shared:
            raise ValueError(f"{name}: phrases_of names no cue group {source!r}")
        directions = {d: list(p) for d, p in shared.items() if d not in OPTIONS}
        for direction, phrases in spec.items():
            if direction not in OPTIONS:
                directions[direction] = list(dict.fromkeys([*directions.get(direction, []), *phrases]))
        for direction, phrases in directions.items():
            if direction not in DIRECTIONS:
                raise ValueError(f"unknown direction {direction!r} for {category}")
            where = f"{category} {direction}"
            cues += [
                Cue(p, category, direction, limited, unless, whole, message, question)
                for p in _phrases(phrases, where)
            ]
    return cues


def _phrases(items: List[object], where: str) -> Tuple[str, ...]:
    """Phrases as lower-case text; a YAML non-string (a bare `no` reads as false) is an error."""
    bad = [item for item in items if not isinstance(item, str)]
    if bad:
        raise ValueError(f"{where}: {bad} are not text; quote them in the YAML file")
    return tuple(item.lower() for item in items)  # type: ignore[union-attr]


def _known(names: Tuple[str, ...], concepts: Dict[str, Tuple[str, ...]]) -> Tuple[str, ...]:
    """Concept names that must exist: a typo is an error, not a silently empty list."""
    unknown = sorted(set(names) - set(concepts))
    if unknown:
        raise ValueError(f"confirm_concepts: unknown concepts {unknown}")
    return names


def load_lexicon(path: Path = RED_FLAGS_FILE) -> Lexicon:
    """Reads the file and checks that every pattern names a known concept and level."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    concepts = {name: _phrases(phrases, name) for name, phrases in raw["concepts"].items()}
    symptoms = {}
    for name, spec in raw["symptoms"].items():
        if spec["level"] not in LEVELS:
            raise ValueError(f"{name}: unknown level {spec['level']!r}")
        patterns = tuple(tuple(p) for p in spec["patterns"])
        unknown = {c for p in patterns for c in p} - set(concepts) - BUILTIN_CONCEPTS
        if unknown:
            raise ValueError(f"{name}: unknown concepts {sorted(unknown)}")
        bullets = tuple(Bullet(b["source"], b["text"]) for b in spec["bullets"])
        symptoms[name] = Symptom(
            name, spec["level"], bullets, patterns, bool(spec.get("across_sentences", False))
        )
    firm = tuple(str(c) for c in raw.get("firm_concepts", []))
    unknown = set(firm) - set(concepts) - BUILTIN_CONCEPTS
    if unknown:
        raise ValueError(f"firm_concepts: unknown concepts {sorted(unknown)}")
    context = raw["context"]
    cue_spec = {k: v for k, v in context["cues"].items() if k != "TERMINATE"}
    return Lexicon(
        level_intros={
            level: Bullet(spec["source"], " ".join(spec["intro"].split()))
            for level, spec in raw["levels"].items()
        },
        symptoms=symptoms,
        concepts=concepts,
        not_symptoms=_phrases(raw.get("not_symptoms", []), "not_symptoms"),
        cues=tuple(_cues(cue_spec, set(symptoms), set(concepts))),
        terminators=_phrases(context["cues"].get("TERMINATE", []), "TERMINATE"),
        spelling={str(k).lower(): str(v).lower() for k, v in (raw.get("spelling") or {}).items()},
        window=int(raw.get("window", 8)),
        scope=int(context.get("scope", 8)),
        follow_up=_phrases(raw.get("follow_up", []), "follow_up"),
        follow_up_weak=_phrases(raw.get("follow_up_weak", []), "follow_up_weak"),
        occurred=_phrases(raw.get("occurred", []), "occurred"),
        occurred_denials=_phrases(raw.get("occurred_denials", []), "occurred_denials"),
        occurred_denial_chars=int(raw.get("occurred_denial_chars", 20)),
        question_openers=_phrases(context.get("question_openers", []), "question_openers"),
        pronoun_nouns=_phrases(raw.get("pronoun_nouns", []), "pronoun_nouns"),
        absent_cues=_phrases(raw.get("absent_cues", []), "absent_cues"),
        confirm_concepts=_known(tuple(str(c) for c in raw.get("confirm_concepts", [])), concepts),
        emergency_questions=_phrases(raw.get("emergency_questions", []), "emergency_questions"),
        emergency_question_unless=_phrases(
            raw.get("emergency_question_unless", []), "emergency_question_unless"
        ),
        patient_words=_phrases(context.get("patient_words", []), "patient_words"),
        historical_patterns=tuple(str(p) for p in context.get("historical_patterns", [])),
        returned_patterns=tuple(str(p) for p in context.get("returned_patterns", [])),
        general_question_patterns=tuple(str(p) for p in context.get("general_question_patterns", [])),
        confirmations=_phrases(context.get("confirmations", []), "confirmations"),
        firm_concepts=firm,
    )
