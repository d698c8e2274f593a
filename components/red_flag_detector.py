"""The red-flag detectors as a Rasa NLU component: a warning sign outranks every intent.

Two independent detectors read every message: the rules of data/red_flags.yml
(`components.red_flags.detector`) and a learned classifier on the sentence encoder
(`components.red_flags.learned`, trained with the model from data/red_flags_learned*.yml).
`components.red_flags.combine` decides from both; docs/red_flags.md gives the figures.
It runs last in the pipeline and decides on its own, whatever the intent classifier says:
- a warning sign that is present: the intent becomes `report_red_flag` (confidence 1) and
  each present sign is a `red_flag` entity, the most severe with the role `primary` (it
  fills the slot that picks the static warning) and each with the `detector` that found
  it. What the patient also asked stays as `question_topic` entities, answered after the
  warning, but only from a part of the message without the warning sign. A report
  followed by a question ("I blacked out, is that normal?") is a report;
- the last two patient turns complete a sign ("my left leg felt weak" … "now it won't move
  at all", "took my temperature" … "101.3"): a sign found only with them is reported,
  unless those turns had already reported it;
- a worried follow-up right after a warning ("is that normal?") gets the same warning
  again (`report_red_flag` with detector `follow_up`; no second alert);
- a sign neither clearly present nor agreed absent: the intent becomes `feeling_unwell`
  with a `possible_sign` entity, whose reply asks one yes/no question naming the sign
  (red_flag_check_form); a yes is reported at that sign's level (detector `confirmed`);
- a warning sign asked about in general or for later ("who do I call if chills start?"):
  the handout's warning-sign answer is added (or becomes the intent);
- a negated one both detectors agree on ("no fever, can I shower?"): the message is
  answered as it is, and a classifier guess of `report_red_flag` is replaced;
- the classifier says `report_red_flag` but no warning sign is found: the intent becomes
  `feeling_unwell`, whose reply quotes every warning sign and asks whether any is
  happening now, instead of staying silent.

Whenever the reply will be a warning or the warning-sign check, the clinic's details
(clinic.yml and CLINIC_* variables, the one configuration place) are added as
`clinic_detail` entities, whose roles fill the slots the static responses show: the
clinic's own numbers reach the patient even in a brand-new conversation with the action
server down, since nothing on that path waits for a custom action.
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path
from typing import AbstractSet, Any, Dict, List, Sequence, Tuple

import joblib
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.encoder.minilm import SentenceEncoder
from components.red_flags.combine import RULES, Decision, combine, strongest
from components.red_flags.context import Status
from components.red_flags.detector import (
    Finding,
    RedFlagDetector,
    last_reading_start,
    only_normal_readings,
    raised_reading,
)
from components.red_flags.learned import (
    EXAMPLES_FILE,
    NONE,
    TURN_SEPARATOR,
    LearnedRedFlagDetector,
    load_examples,
)
from components.red_flags.lexicon import RED_FLAGS_FILE, Lexicon, load_lexicon
from components.segments import split_questions

logger = logging.getLogger(__name__)

ENTITY = "red_flag"
TOPIC_ENTITY = "question_topic"
POSSIBLE_ENTITY = "possible_sign"
UNNAMED = "unnamed"
PRIMARY, OTHER = "primary", "other"
FALLBACK_INTENT = "nlu_fallback"
DENY_INTENT = "deny"
AFFIRM_INTENT = "affirm"
CLINIC_ENTITY = "clinic_detail"
CHECK_FORM = "red_flag_check_form"
FOLLOW_UP, CONFIRMED, CONTEXT, OCCURRED = "follow_up", "confirmed", "context", "occurred"
FEVER, DECLARED = "fever", "declared_emergency"
MODEL_FILE = "learned_red_flags.joblib"


def _phrase_pattern(phrases: Sequence[str]) -> re.Pattern[str] | None:
    """Any of the phrases as whole words; None for none."""
    words = sorted(phrases, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")\b") if words else None


# A message that is only a number or a reading ("36.9", "98.6 f", "37,2°c").
_NUMBER_ONLY = re.compile(r"[\d.,°\s]+(?:[fc])?\.?")
# A pronoun that may stand for a limb named in an earlier turn.
_PRONOUN = re.compile(r"\b(?:it|it's|its|them)\b", re.IGNORECASE)


def _question_end(text: str, start: int) -> int | None:
    """Where the sentence starting before `start` ends, when it ends in a question mark."""
    end = re.search(r"[!?\n]|\.(?!\d)", text[start:])
    if end is None or text[start + end.start()] != "?":
        return None
    return start + end.start()


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR,
    is_trainable=True,
    model_from="SentenceEncoderProvider",
)
class RedFlagDetectorComponent(GraphComponent, EntityExtractorMixin):
    """Marks messages that describe a warning sign, so the dialogue escalates first."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """The data files, the thresholds, the intents it sets, and what counts as a topic."""
        return {
            "red_flags_file": str(RED_FLAGS_FILE),
            "learned_examples_files": [str(EXAMPLES_FILE)],
            "high": 0.7,
            "low": 0.5,
            # Levels whose unsure signs are asked about; below them only a sure one counts.
            "ask_levels": ["emergency", "urgent"],
            # A sign of these levels found by the rules alone, that the learned detector
            # gives less than `doubt_below`, is asked about rather than escalated.
            "doubt_levels": ["urgent"],
            "doubt_below": 0.0,
            # An emergency sign the learned detector gives at least this is escalated even
            # when a cue of the rules says otherwise ("people said I was out cold").
            "emergency_override": 1.01,
            "override_levels": ["emergency"],
            # Whether a sign the learned detector finds in one comma clause is found.
            "learned_clauses": False,
            # ...and escalated from a clause only when the whole message gives it this much.
            "clause_floor": 0.0,
            "C": 10.0,
            "encoder_weight": 2.0,
            "context_turns": 2,
            # Right after a warning, these intents are a follow-up about it: the warning
            # again and never their answer (it could reassure). Another topic gets the
            # warning again and its own answer.
            "follow_up_intents": [
                "ask_soreness",
                "ask_relief_onset",
                "ask_warning_signs",
                "nlu_fallback",
                "out_of_scope",
                "report_red_flag",
                # "it started the evening after", "do I call the clinic in the morning?"
                "inform_after",
                "inform_before",
                "request_human",
                # "I'm ok now" right after a warning does not take it back
                "report_well",
            ],
            "report_intent": "report_red_flag",
            "unwell_intent": "feeling_unwell",
            "warning_signs_intent": "ask_warning_signs",
            "topic_pattern": r"^ask_(?!capabilities$)",
            "fallback_threshold": 0.3,
            "ordinary_exclude": ["report_red_flag", "feeling_unwell"],
            # Intents that say all is well: acknowledged only when nothing in the message is
            # a sign word or a raised reading; otherwise the warning-sign check is asked.
            "calm_intents": ["report_well"],
            # A report of signs all plainly denied ("no fever, no chills, I'm good") that the
            # classifier reads as unwell is all-is-well when it gives that at least this.
            "calm_confidence": 0.5,
            # A goodbye right after a warning ("ok bye", "sorry tmi" read as one) gets the
            # warning again, never "take care" alone (set U). A thanks closes the warning
            # (a later "I feel rough" is asked about), as before.
            "after_warning_intents": ["goodbye"],
            # An answer to the check of up to this many words that names a limb or a
            # change (`confirm_concepts` in data/red_flags.yml) is a yes.
            "confirm_max_words": 6,
        }

    def __init__(
        self,
        config: Dict[str, Any],
        detector: RedFlagDetector,
        model_storage: ModelStorage | None = None,
        resource: Resource | None = None,
        learned: LearnedRedFlagDetector | None = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._detector = detector
        self._lexicon: Lexicon = detector.lexicon
        self._storage = model_storage
        self._resource = resource
        self._learned = learned
        self._topic = re.compile(self._config["topic_pattern"])
        self._follow_up_words = _phrase_pattern(self._lexicon.follow_up)
        self._follow_up_weak = _phrase_pattern(self._lexicon.follow_up_weak)
        self._occurred = _phrase_pattern(self._lexicon.occurred)
        denials = "|".join(re.escape(w) for w in self._lexicon.occurred_denials) or r"(?!)"
        self._denied_before = re.compile(
            rf"\b(?:{denials})\b[^,.;!?]{{0,{self._lexicon.occurred_denial_chars}}}$"
        )
        self._emergency_question = _phrase_pattern(self._lexicon.emergency_questions)
        self._general_question = _phrase_pattern(self._lexicon.emergency_question_unless)
        self._limb_words = _phrase_pattern(self._lexicon.concepts.get("LIMB", ()))
        self._pronoun_nouns = _phrase_pattern(self._lexicon.pronoun_nouns)
        self._denial = _phrase_pattern([*self._lexicon.occurred_denials, "nope", "nah"])
        self._confirm_words = _phrase_pattern(
            [p for name in self._lexicon.confirm_concepts for p in self._lexicon.concepts.get(name, ())]
        )
        self._absent_cues = {detector.norms(p) for p in self._lexicon.absent_cues}
        self._rank = {name: self._lexicon.rank(s.level) for name, s in self._lexicon.symptoms.items()}
        # The signs a sure learned reading escalates over a rules cue (`override_levels`). A
        # declared emergency is defined by the patient's words, so a cue of the rules decides
        # it: "if I ever feel it's an emergency, do I call 911?" is a question, however sure
        # the model is.
        self._overriding = frozenset(
            name
            for name, s in self._lexicon.symptoms.items()
            if s.level in self._config["override_levels"] and name != DECLARED
        )
        self._doubtable = frozenset(
            name for name, s in self._lexicon.symptoms.items() if s.level in self._config["doubt_levels"]
        )

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> str | None:
        """The learned detector's example files are read outside Rasa's training data, so
        their contents join the cache key: without this, `rasa train` restores a detector
        trained on yesterday's examples whenever the NLU data did not change."""
        files = {**cls.get_default_config(), **config}["learned_examples_files"]
        digest = hashlib.sha256()
        for path in map(Path, files):
            digest.update(str(path).encode("utf-8"))
            digest.update(path.read_bytes() if path.exists() else b"missing")
        return digest.hexdigest()

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RedFlagDetectorComponent:
        """Builds the rule detector from the data file (about a second, once per process)."""
        merged = {**cls.get_default_config(), **config}
        return cls(
            merged, RedFlagDetector(load_lexicon(Path(merged["red_flags_file"]))), model_storage, resource
        )

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> RedFlagDetectorComponent:
        """The rules from the data file, the learned detector from the trained model."""
        component = cls.create(config, model_storage, resource, execution_context)
        try:
            with model_storage.read_from(resource) as directory:
                component._learned = joblib.load(directory / MODEL_FILE)
        except (ValueError, FileNotFoundError):
            logger.warning("The learned red-flag detector is not trained; the rules decide alone.")
        return component

    def train(self, training_data: TrainingData, model: SentenceEncoder | None = None) -> Resource:
        """Fits the learned detector on the red-flag examples and the ordinary questions."""
        if model is None or self._resource is None or self._storage is None:
            return self._resource  # type: ignore[return-value]
        examples: List[Tuple[str, str]] = []
        for path in self._config["learned_examples_files"]:
            if Path(path).exists():
                examples += load_examples(Path(path))
        exclude = set(self._config["ordinary_exclude"])
        examples += [
            (m.get(TEXT), NONE)
            for m in training_data.intent_examples
            if m.get(TEXT) and m.get(INTENT) not in exclude
        ]
        if not any(label != NONE for _, label in examples):
            return self._resource
        unknown = {label for _, label in examples} - set(self._lexicon.symptoms) - {NONE}
        if unknown:
            raise ValueError(f"learned red-flag examples name unknown signs: {sorted(unknown)}")
        learned = LearnedRedFlagDetector(c=self._config["C"], encoder_weight=self._config["encoder_weight"])
        self._learned = learned.fit(examples, model)
        with self._storage.write_to(self._resource) as directory:
            joblib.dump(self._learned, directory / MODEL_FILE)
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Adds nothing to training data: the entities exist only at inference."""
        return training_data

    def _is_topic(self, intent: str | None) -> bool:
        return bool(intent) and bool(self._topic.search(intent or ""))

    # --- reading --------------------------------------------------------------------

    def _learned_rows(self, texts: Sequence[str], model: SentenceEncoder | None) -> List[Dict[str, float]]:
        if self._learned is None or model is None:
            return [{} for _ in texts]
        return self._learned.probabilities(list(texts), model)

    def _decide(
        self, text: str, model: SentenceEncoder | None
    ) -> Tuple[Finding, Decision, Dict[str, List[Tuple[int, int]]]]:
        """Both detectors on the whole text and on each of its questions (a report
        followed by a question is read on its own as well); where each sign was seen."""
        finding = self._detector.detect(text)
        pieces = split_questions(text)
        spans = [(0, len(text))] + ([(p.start, p.end) for p in pieces] if len(pieces) > 1 else [])
        clauses = [(p.start, p.end) for p in split_questions(text, at_commas=True)]
        clauses = [c for c in clauses if c not in spans] if len(clauses) > 1 else []
        rows = self._learned_rows([text[s:e] for s, e in spans + clauses], model)
        # Whole message and question pieces decide (a piece the whole message does not
        # bear out only asks, `_clause_row`); the comma clauses too, when
        # `learned_clauses` is set and the rules found nothing ("the site is oozing, can i
        # still shower?"): a clause read alone can mistake its sign ("can't hold it at all"
        # of the bladder is no limb). They always count as support against doubting the rules.
        by_clauses = self._config["learned_clauses"] and not finding.present
        parts = rows[1:] if by_clauses else rows[1 : len(spans)]
        # the rules' own reading of the patient (not someone else's or long-past sign)
        mentioned = {m.symptom for m in finding.mentions if m.status not in (Status.OTHER, Status.HISTORICAL)}
        reading = strongest([rows[0], *(self._clause_row(row, rows[0], mentioned) for row in parts)])
        decision = self._combine(finding, reading, strongest(rows))
        where: Dict[str, List[Tuple[int, int]]] = {}
        for span, row in zip(spans + clauses, rows, strict=True):
            for sign, probability in row.items():
                if probability >= self._config["low"]:
                    where.setdefault(sign, []).append(span)
        for mention in finding.mentions:
            where.setdefault(mention.symptom, []).append((mention.start_char, mention.end_char))
        return finding, decision, where

    def _clause_row(
        self, row: Dict[str, float], whole: Dict[str, float], mentioned: AbstractSet[str]
    ) -> Dict[str, float]:
        """A part's reading (a question piece or a clause), where a sign that no rule
        mentions and the whole message gives under `clause_floor` is at most unsure: a
        part read alone can take a sign word's other sense ("I can't move my shift", "not
        getting worse"), so it is asked about, never dropped. A sign the rules mention as
        the patient's keeps the part's reading ("the site is oozing, can I shower?" is a
        report; "the neighbour's kid can't move his leg. Me? fine" is not), and
        an emergency the part is sure of (`emergency_override`) never waits."""
        floor, high = self._config["clause_floor"], self._config["high"]
        sure = self._config["emergency_override"]

        def kept(sign: str, p: float) -> bool:
            emergency = self._lexicon.symptoms[sign].level == "emergency"
            return sign in mentioned or whole.get(sign, 0.0) >= floor or (emergency and p >= sure)

        return {sign: p if kept(sign, p) else min(p, high - 1e-6) for sign, p in row.items()}

    def process(
        self,
        messages: List[Message],
        model: SentenceEncoder | None = None,
        tracker: DialogueStateTracker | None = None,
    ) -> List[Message]:
        """Runs both detectors on each message (with the conversation's last turns)."""
        for message in messages:
            text = message.get(TEXT) or ""
            finding, decision, where = self._decide(text, model)
            history = self._history(tracker)
            if history:
                decision = self._merge(decision, self._with_context(text, history, model))
            if not decision.present:
                decision = self._occurrence(text, finding, decision, history)
            if DECLARED not in decision.present:
                decision = self._asks_for_emergency(text, decision)
            decision = self._normal_reading(text, finding, decision)
            if not decision.present and history:
                decision = self._follow_up(message, history, decision)
            checking = tracker is not None and tracker.active_loop_name == CHECK_FORM
            if checking and self._not_a_yes(message):
                # "is that ok?" or "36.9" to "is any of this happening now?" is no yes
                self._set_intent(message, FALLBACK_INTENT, message.get(INTENT_RANKING_KEY) or [])
            if not decision.present and tracker is not None:
                decision = self._confirmation(message, tracker, decision)
            learned_read = self._learned is not None and model is not None
            self._apply(message, finding, decision, where, checking, learned_read)
        return messages

    def _history(self, tracker: DialogueStateTracker | None) -> List[UserUttered]:
        """The patient's last turns in this conversation, oldest first."""
        if tracker is None:
            return []
        turns = [e for e in tracker.applied_events() if isinstance(e, UserUttered) and e.text]
        return turns[-int(self._config["context_turns"]) :]

    @staticmethod
    def _reported(turn: UserUttered) -> List[str]:
        return [
            e.get("value") for e in (turn.parse_data or {}).get(ENTITIES, []) if e.get("entity") == ENTITY
        ]

    def _with_context(self, text: str, history: List[UserUttered], model: SentenceEncoder | None) -> Decision:
        """A sign completed by this message with the last turns, and not reported in them."""
        earlier = TURN_SEPARATOR.join(t.text for t in history)  # type: ignore[misc]
        joined = earlier + TURN_SEPARATOR + self._resolve_pronouns(text, earlier)
        both = self._combine(self._detector.detect(joined), self._learned_rows([joined], model)[0])
        reported = {sign for turn in history for sign in self._reported(turn)}
        candidates = [s for s in both.present if s not in reported]
        if not candidates:
            return Decision()
        # only now read the earlier turns alone: a sign they already had is not new
        before = self._combine(self._detector.detect(earlier), self._learned_rows([earlier], model)[0])
        new = [s for s in candidates if s not in before.present]
        return Decision(tuple(new), {s: (*both.detectors[s], CONTEXT) for s in new}) if new else Decision()

    def _combine(
        self, finding: Finding, learned: Dict[str, float], support: Dict[str, float] | None = None
    ) -> Decision:
        decision = combine(
            finding,
            learned,
            self._rank,
            self._config["high"],
            self._config["low"],
            self._doubtable,
            # without the learned detector (no probabilities) the rules are never doubted
            self._config["doubt_below"] if learned else 0.0,
            support,
            self._overriding,
            self._config["emergency_override"],
        )
        if (
            decision.possible
            and self._lexicon.symptoms[decision.possible].level not in self._config["ask_levels"]
        ):
            return Decision()
        return decision

    def _asks_for_emergency(self, text: str, decision: Decision) -> Decision:
        """ "should I call 911? I feel really bad": asking whether to call now is thinking
        you may need emergency care. "when should I call 911?" is a question in general."""
        said = " ".join(text.lower().replace("’", "'").split())
        if self._emergency_question is None or not self._emergency_question.search(said):
            return decision
        if self._general_question is not None and self._general_question.search(said):
            return decision
        signs = (DECLARED, *decision.present)
        return Decision(signs, {DECLARED: (RULES,), **decision.detectors})

    def _normal_reading(self, text: str, finding: Finding, decision: Decision) -> Decision:
        """ "took my temperature" … "37.2": a fever the rules did not find, in a message
        whose every reading is normal, is asked about, not escalated (the learned detector
        reads no numbers); so is one the rules found only in words that come before the
        reading ("I was worried about fever but I checked and it's 98.9") or in the
        reading's own question ("is 98.9 a fever?"), though not after it ("it was 99 this
        morning, now I'm burning up"). Never dropped: the patient's yes escalates."""
        detectors = decision.detectors.get(FEVER, ())
        if FEVER not in decision.present or not only_normal_readings(text):
            return decision
        if RULES in detectors:
            reading = last_reading_start(text)
            words = [m.end_char for m in finding.mentions if m.symptom == FEVER]
            if reading is None or not words:
                return decision
            # a fever word after the reading is a new report, unless the reading's own
            # question asks about it ("is 98.9 a fever?")
            asked_to = _question_end(text, reading)
            if any(end > reading and (asked_to is None or end > asked_to) for end in words):
                return decision
        rest = tuple(s for s in decision.present if s != FEVER)
        if rest:
            return Decision(rest, {s: decision.detectors[s] for s in rest})
        return Decision(possible=FEVER, possible_probability=0.0)

    def _merge(self, own: Decision, context: Decision) -> Decision:
        """The message's own signs and those only its last turns complete, most severe first."""
        if not context.present:
            return own
        signs = dict.fromkeys([*own.present, *context.present])
        order = sorted(signs, key=lambda s: -self._rank.get(s, 0))
        detectors = {**context.detectors, **own.detectors}
        return Decision(tuple(order), {s: detectors[s] for s in order})

    def _resolve_pronouns(self, text: str, earlier: str) -> str:
        """ "now it won't move" after "my left leg felt weak": `it` is the limb named last;
        with no limb, the pain or swelling named last ("how long does the soreness last" …
        "mine's day 5 and it's getting worse")."""
        if not _PRONOUN.search(text):
            return text
        for words in (self._limb_words, self._pronoun_nouns):
            named = list(words.finditer(earlier.lower())) if words else []
            if named:
                return _PRONOUN.sub(f"my {named[-1].group(0)}", text)
        return text

    def _occurrence(
        self, text: str, finding: Finding, decision: Decision, history: List[UserUttered]
    ) -> Decision:
        """ "Is it common to faint? Because that's what happened to me": the sign asked
        about in general, in this message or the one before, is reported ("nothing's
        happening to me" is no such news)."""
        said = text.lower().replace("’", "'")
        if self._occurred is None or not any(
            not self._denied_before.search(said[: m.start()]) for m in self._occurred.finditer(said)
        ):
            return decision
        asked = list(finding.hypothetical)
        if decision.possible:
            asked.append(decision.possible)
        if not asked and history:
            asked = list(self._detector.detect(history[-1].text or "").hypothetical)
        if not asked:
            return decision
        sign = max(asked, key=lambda s: self._rank.get(s, 0))
        return Decision((sign,), {sign: (OCCURRED,)})

    def _follow_up(self, message: Message, history: List[UserUttered], decision: Decision) -> Decision:
        """Right after a warning, a worried question about it gets the warning again."""
        last = history[-1]
        reported = self._reported(last)
        if ((last.intent or {}).get("name") != self._config["report_intent"]) or not reported:
            return decision
        intent = (message.get(INTENT) or {}).get("name")
        text = (message.get(TEXT) or "").lower()
        worried = bool(self._follow_up_words and self._follow_up_words.search(text))
        weak = bool(self._follow_up_weak and self._follow_up_weak.search(text))
        # "should i just wait?" is about the warning whatever else it asks. A new question
        # of its own ("should i put ice on it?") is answered, after the warning again: the
        # sign was reported a moment ago, and an answer alone could read as all clear.
        # "and it's worse today" right after a warning is about it too, not a new check.
        # Only the turn right after the report itself: a repeat does not repeat itself
        # for every later question.
        about_it = intent in (*self._config["follow_up_intents"], self._config["unwell_intent"]) or not intent
        entities = (last.parse_data or {}).get(ENTITIES, [])
        first_repeat = any(e.get("entity") == ENTITY and e.get("detector") != FOLLOW_UP for e in entities)
        small_talk = intent in self._config["after_warning_intents"]
        if worried or weak or about_it or (first_repeat and (self._is_topic(intent) or small_talk)):
            sign = reported[0]
            return Decision((sign,), {sign: (FOLLOW_UP,)})
        return decision

    def _not_a_yes(self, message: Message) -> bool:
        """A "yes" by the classifier that is a yes/no question ("is that ok?") or only a
        number ("36.9"): the check's answer is neither, so it is asked again."""
        intent = (message.get(INTENT) or {}).get("name")
        text = (message.get(TEXT) or "").lower()
        words = text.split()
        if intent != AFFIRM_INTENT or not words:
            return False
        return words[0] in self._lexicon.question_openers or bool(_NUMBER_ONLY.fullmatch(text.strip()))

    def _confirmation(self, message: Message, tracker: DialogueStateTracker, decision: Decision) -> Decision:
        """A yes to "are you … right now?" reports the sign asked about."""
        asked = tracker.get_slot(POSSIBLE_ENTITY)
        intent = (message.get(INTENT) or {}).get("name")
        if tracker.active_loop_name != CHECK_FORM or asked not in self._lexicon.symptoms:
            return decision
        if intent == AFFIRM_INTENT or self._says_where_or_worse(message, intent):
            return Decision((asked,), {asked: (CONFIRMED,)})
        return decision

    def _says_where_or_worse(self, message: Message, intent: str | None) -> bool:
        """A short answer that tells where or how much instead of "yes" ("both feet now"
        to "do you have new or worse numbness…?"): the sign asked about is there."""
        if intent in (DENY_INTENT, *self._config["calm_intents"]) or self._confirm_words is None:
            return False
        text = " ".join((message.get(TEXT) or "").lower().replace("’", "'").replace("n't", " not").split())
        short = len(text.split()) <= self._config["confirm_max_words"]
        denied = self._denial is not None and self._denial.search(text)
        return short and bool(self._confirm_words.search(text)) and not denied

    # --- writing ----------------------------------------------------------------------

    def _apply(
        self,
        message: Message,
        finding: Finding,
        decision: Decision,
        where: Dict[str, List[Tuple[int, int]]],
        checking: bool = False,
        learned_read: bool = False,
    ) -> None:
        intent = (message.get(INTENT) or {}).get("name")
        ranking = message.get(INTENT_RANKING_KEY) or []
        report, warning = self._config["report_intent"], self._config["warning_signs_intent"]
        unwell = self._config["unwell_intent"]
        entities = list(message.get(ENTITIES) or [])
        text = message.get(TEXT) or ""
        if decision.present:
            flagged = [span for sign in decision.present for span in where.get(sign, [])]
            whole = (0, len(text))
            flagged = [span for span in flagged if span != whole]  # seen in one part only
            other_parts = [
                p
                for p in split_questions(text)
                if not any(p.start < end and start < p.end for start, end in flagged)
            ]
            follow_up = all(d == (FOLLOW_UP,) for d in decision.detectors.values())
            if (
                self._is_topic(intent)
                and intent != warning
                and (
                    (other_parts and flagged)
                    or (follow_up and intent not in self._config["follow_up_intents"])
                )
            ):
                entities.append(self._topic_entity(intent))
            about = flagged or ([] if follow_up else [whole])
            entities = [e for e in entities if not self._about_red_flag(e, about, warning)]
            if follow_up:
                # "is that normal? how long does it last?": a second question of a follow-up
                # gets no reassuring answer either, only the warning again
                entities = [
                    e
                    for e in entities
                    if e.get("entity") != TOPIC_ENTITY
                    or e.get("value") not in self._config["follow_up_intents"]
                ]
            entities += self._red_flag_entities(decision, where)
            self._set_intent(message, report, ranking)
        elif decision.possible:
            # Unsure: ask one question that names the sign; a no answers the rest.
            entities = [e for e in entities if e.get("entity") != TOPIC_ENTITY or e.get("value") != warning]
            if self._is_topic(intent) and intent != warning:
                entities.append(self._topic_entity(intent))
            entities.append(self._possible_entity(decision.possible, decision.possible_probability))
            self._set_intent(message, unwell, ranking)
        elif (
            learned_read
            and intent in (report, unwell)
            and (calm := self._calm_guess(ranking))
            and self._listed_absent(finding, text)
        ):
            # "no fever. no pus. no redness. im good": every sign denied, and the learned
            # detector agrees (nothing was possible): the all-is-well it also is, and to
            # the check, its "no"
            self._set_intent(message, DENY_INTENT if checking else calm, ranking)
        elif intent in (report, unwell) or (intent == FALLBACK_INTENT and self._top_guess(ranking) == report):
            if finding.hypothetical:
                self._set_intent(message, warning, ranking)
            elif finding.negated and intent == report:
                self._set_next_best(message, ranking, exclude={report})
            else:  # unwell, but no sign either detector can name: ask about them all
                entities.append(self._possible_entity(UNNAMED, 0.0))
                self._set_intent(message, unwell, ranking)
        elif finding.negated and intent == DENY_INTENT and (topic := self._first_topic(entities)):
            # "no fever or anything, can i have a bath yet": the "no" is about the warning
            # sign, and the message is the question (components/question_splitter.py)
            entities = [e for e in entities if e is not topic]
            self._set_intent(message, topic["value"], ranking)
        elif intent in self._config["calm_intents"] and not self._nothing_of_a_sign(finding, text):
            # "all good" is acknowledged only when nothing in it is a sign word or a raised
            # reading: "back is fine but I can't hold my bladder like normal" or "I'm at
            # 38.4" is asked about, never met with "good to hear". Answering the check
            # itself ("no fever or anything, I'm fine"), only negated signs are its "no".
            negated_only = all(m.status == Status.NEGATED for m in finding.mentions)
            if checking and negated_only and not raised_reading(text):
                self._set_intent(message, DENY_INTENT, ranking)
            elif not checking and learned_read and self._listed_absent(finding, text):
                pass  # every sign plainly denied and the learned detector agrees: all is well
            else:
                entities.append(self._possible_entity(UNNAMED, 0.0))
                self._set_intent(message, unwell, ranking)
        elif finding.hypothetical:
            if self._is_topic(intent):
                if intent != warning and not any(e.get("value") == warning for e in entities):
                    entities.append(self._topic_entity(warning))
            else:
                self._set_intent(message, warning, ranking)
        final = (message.get(INTENT) or {}).get("name")
        if final in (report, unwell) or decision.present:
            entities += self._clinic_entities()
        message.set(ENTITIES, entities, add_to_output=True)

    def _listed_absent(self, finding: Finding, text: str) -> bool:
        """Every sign the message names is denied by a plain denial before it (`absent_cues`
        in data/red_flags.yml: "no fever, no chills"), and no reading is raised. Called only
        where the learned detector read the message and found nothing possible, so both
        detectors agree."""
        return (
            bool(finding.mentions)
            and all(
                m.status == Status.NEGATED
                and m.cues
                and all(self._detector.norms(cue) in self._absent_cues for cue in m.cues)
                for m in finding.mentions
            )
            and not raised_reading(text)
        )

    def _calm_guess(self, ranking: List[Dict[str, Any]]) -> str | None:
        """The all-is-well intent, when the classifier gives it at least `calm_confidence`."""
        for row in ranking:
            if row.get("name") in self._config["calm_intents"]:
                if float(row.get("confidence") or 0.0) >= self._config["calm_confidence"]:
                    return str(row["name"])
        return None

    @staticmethod
    def _nothing_of_a_sign(finding: Finding, text: str) -> bool:
        """No warning-sign words in any sense, and no temperature above normal."""
        return not finding.mentions and not raised_reading(text)

    def _possible_entity(self, sign: str, probability: float) -> Dict[str, Any]:
        return {
            "entity": POSSIBLE_ENTITY,
            "value": sign,
            "confidence_entity": round(probability, 3),
            "extractor": self.__class__.__name__,
        }

    def _clinic_entities(self) -> List[Dict[str, Any]]:
        """The clinic's details as entities (loaded once per process, environment first)."""
        from actions.clinic import clinic  # the same cached loader the action server uses

        try:
            details = clinic().as_slots()
        except (OSError, ValueError):  # a broken clinic.yml must never block a warning
            return []
        return [
            {"entity": CLINIC_ENTITY, "role": name, "value": value, "extractor": self.__class__.__name__}
            for name, value in details.items()
        ]

    @staticmethod
    def _about_red_flag(entity: Dict[str, Any], flagged: List[tuple], warning: str) -> bool:
        """A topic guessed from the warning sign's own words, or the warning-sign topic."""
        if entity.get("entity") != TOPIC_ENTITY:
            return False
        if entity.get("value") == warning:
            return True
        start, end = entity.get("start"), entity.get("end")
        return start is not None and any(start < e and s < end for s, e in flagged)

    @staticmethod
    def _first_topic(entities: List[Dict[str, Any]]) -> Dict[str, Any] | None:
        return next((e for e in entities if e.get("entity") == TOPIC_ENTITY), None)

    @staticmethod
    def _top_guess(ranking: List[Dict[str, Any]]) -> str | None:
        return ranking[0]["name"] if ranking else None

    def _red_flag_entities(
        self, decision: Decision, where: Dict[str, List[Tuple[int, int]]]
    ) -> List[Dict[str, Any]]:
        entities = []
        for index, sign in enumerate(decision.present):
            spans = where.get(sign) or [(0, 0)]
            start, end = min(spans, key=lambda span: span[1] - span[0])
            entity = self._entity(sign, PRIMARY if index == 0 else OTHER, start, end)
            entity["detector"] = "+".join(decision.detectors.get(sign, ()))
            entities.append(entity)
        return entities

    def _entity(self, value: str, role: str, start: int, end: int) -> Dict[str, Any]:
        return {
            "entity": ENTITY,
            "value": value,
            "role": role,
            "start": start,
            "end": end,
            "confidence_entity": 1.0,
            "extractor": self.__class__.__name__,
        }

    def _topic_entity(self, intent: str) -> Dict[str, Any]:
        return {"entity": TOPIC_ENTITY, "value": intent, "extractor": self.__class__.__name__}

    @staticmethod
    def _set_intent(message: Message, name: str, ranking: List[Dict[str, Any]]) -> None:
        chosen = {"name": name, "confidence": 1.0}
        rest = [r for r in ranking if r.get("name") != name]
        message.set(INTENT, chosen, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [chosen, *rest], add_to_output=True)

    def _set_next_best(self, message: Message, ranking: List[Dict[str, Any]], exclude: set) -> None:
        """The classifier's best other guess, or the fallback when it is not sure enough."""
        options = [r for r in ranking if r.get("name") not in exclude | {FALLBACK_INTENT}]
        if options and options[0]["confidence"] >= self._config["fallback_threshold"]:
            message.set(INTENT, options[0], add_to_output=True)
        else:
            message.set(INTENT, {"name": FALLBACK_INTENT, "confidence": 1.0}, add_to_output=True)
        message.set(INTENT_RANKING_KEY, options, add_to_output=True)
