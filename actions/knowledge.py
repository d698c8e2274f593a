"""The handout knowledge: which quotes answer which topic, and how a reply reads.

Blocks are separated by single line breaks: Rasa's REST channel cuts a text at blank lines
into separate messages, and one question must get one message (SMS patients pay for each).

Everything medical that the assistant says comes from data/handouts/answers.yml, whose
quotes tests/test_quotes.py checks word for word against the handouts. This module only
arranges them: quotes between “ and ”, each block followed by its handout's title, and
for timing-dependent topics a labelled part for before and after the procedure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Tuple

import yaml

from actions.clinic import Clinic

HANDOUT_DIR = Path(__file__).resolve().parent.parent / "data" / "handouts"
ANSWERS_FILE = HANDOUT_DIR / "answers.yml"

BEFORE, AFTER = "before", "after"
PHASE_LABELS = {BEFORE: "Before your procedure:", AFTER: "After your procedure:"}
ASK_PHASE_HINT = "If you tell me whether you've had your procedure yet, I'll answer just for that."


@dataclass(frozen=True)
class Quote:
    """Handout text to be shown word for word, and the handout it comes from."""

    source: str
    text: str


@dataclass(frozen=True)
class Answer:
    """What one topic (or one phase of a topic) says: quotes and an optional note."""

    quotes: Tuple[Quote, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class Topic:
    """A topic intent's answer, either the same at any time or split before/after."""

    name: str
    label: str
    answer: Answer | None = None
    phases: Dict[str, Answer] = field(default_factory=dict)
    contacts: bool = False

    @property
    def timing(self) -> bool:
        """Whether the answer differs before and after the procedure."""
        return bool(self.phases)

    def answers(self) -> List[Answer]:
        """All of the topic's answers, whatever the phase."""
        return [self.answer] if self.answer else list(self.phases.values())


@dataclass(frozen=True)
class Knowledge:
    """The handouts' titles and texts, the topics, and the general care-team quotes."""

    titles: Dict[str, str]
    texts: Dict[str, str]
    topics: Dict[str, Topic]
    general: Tuple[Quote, ...]
    corrections: Dict[str, str]


def _answer(raw: dict) -> Answer:
    quotes = tuple(Quote(q["source"], q["text"].strip()) for q in raw.get("quotes", []))
    note = raw.get("note")
    return Answer(quotes, note.strip() if note else None)


def load_knowledge(path: Path = ANSWERS_FILE) -> Knowledge:
    """Reads answers.yml and the handout texts it names."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    titles = {key: h["title"] for key, h in raw["handouts"].items()}
    texts = {
        key: (path.parent / h["file"]).read_text(encoding="utf-8")
        for key, h in raw["handouts"].items()
    }
    topics = {}
    for name, spec in raw["topics"].items():
        phases = {p: _answer(spec[p]) for p in (BEFORE, AFTER) if p in spec}
        topics[name] = Topic(
            name=name,
            label=spec["label"],
            answer=None if phases else _answer(spec),
            phases=phases,
            contacts=bool(spec.get("contacts")),
        )
    general = tuple(Quote(q["source"], q["text"].strip()) for q in raw.get("general", []))
    return Knowledge(titles, texts, topics, general, dict(raw.get("corrections", {})))


@lru_cache(maxsize=1)
def knowledge() -> Knowledge:
    """The knowledge of this process, loaded once."""
    return load_knowledge()


def render_quotes(quotes: Tuple[Quote, ...], titles: Dict[str, str]) -> str:
    """Quotes in “ ”, consecutive quotes of one handout grouped above its title."""
    blocks: List[str] = []
    group: List[Quote] = []
    for quote in quotes + (Quote("", ""),):
        if group and quote.source != group[-1].source:
            lines = "\n".join(f"“{q.text}”" for q in group)
            blocks.append(f"{lines}\n— {titles[group[-1].source]}")
            group = []
        group.append(quote)
    return "\n".join(blocks)


def render_answer(answer: Answer, titles: Dict[str, str]) -> str:
    """An answer's quotes followed by its note, if any."""
    parts = [render_quotes(answer.quotes, titles)] if answer.quotes else []
    if answer.note:
        parts.append(answer.note)
    return "\n".join(parts)


def render_contacts(clinic: Clinic) -> str:
    """The clinic's numbers: contact details, not advice."""
    return (
        f"{clinic.clinic_name} care team: {clinic.care_team_phone}. "
        f"Nurse advice line: {clinic.nurse_line_phone}. "
        f"Emergency: {clinic.emergency_number}."
    )


def render_topic(topic: Topic, phase: str | None, kb: Knowledge, clinic: Clinic) -> str:
    """The whole reply for one topic, given what the conversation says about timing."""
    if topic.answer is not None:
        parts = [render_answer(topic.answer, kb.titles)]
    elif phase in topic.phases:
        parts = [PHASE_LABELS[phase] + "\n" + render_answer(topic.phases[phase], kb.titles)]
    else:
        parts = []
        for name in (BEFORE, AFTER):
            parts.append(PHASE_LABELS[name] + "\n" + render_answer(topic.phases[name], kb.titles))
        parts.append(ASK_PHASE_HINT)
    if topic.contacts:
        parts.append(render_contacts(clinic))
    return "\n".join(parts)
