"""The testers' scripted conversations (tests/conversations/*.yml) against the real servers.

Each file runs as one test on the session's servers (tests/conftest.py), so they start
once for the whole suite; a failure shows the same report as `make test-conversations`.
The other tests here keep the set honest: big enough, covering every topic and level, and
written in new words rather than copied from the training or test data.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator, List

import pytest
import yaml

from actions.knowledge import load_knowledge
from devtools.conversations import (
    LEVELS,
    Conversation,
    Runner,
    conversation_files,
    load_file,
    load_handouts,
    normalise,
    report,
)
from tests.conftest import PROJECT, Servers

FILES = conversation_files()
# Files a patient line must not be copied from: the training data and every test set.
SOURCES = [
    *sorted((PROJECT / "data" / "nlu").glob("*.yml")),
    PROJECT / "data" / "red_flags.yml",
    PROJECT / "tests" / "nlu_holdout.yml",
    PROJECT / "tests" / "red_flags.yml",
    PROJECT / "tests" / "red_flags_unseen.yml",
    PROJECT / "tests" / "red_flags_blind.yml",
    PROJECT / "tests" / "components" / "red_flag_cases.yml",
    PROJECT / "tests" / "test_stories.yml",
]


def all_conversations() -> List[Conversation]:
    return [c for path in FILES for c in load_file(path)]


@pytest.mark.e2e
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_conversation(path: Path, servers: Servers) -> None:
    runner = Runner(servers.rest_url, servers.env["ESCALATION_DB_URL"])
    try:
        results = [runner.run(conversation) for conversation in load_file(path)]
    finally:
        runner.close()
    failed = [report(r) for r in results if not r.passed]
    if failed:
        pytest.fail("\n\n".join(failed), pytrace=False)


def test_there_are_at_least_40_conversations_with_every_kind_of_step() -> None:
    conversations = all_conversations()
    assert len(conversations) >= 40
    escalates = {s.escalates for c in conversations for s in c.steps}
    assert escalates >= {*LEVELS, "no"}
    tags = {t for c in conversations for t in c.tags}
    assert tags >= {"chitchat", "out-of-scope", "negated", "hypothetical", "unwell", "correction",
                    "phase-later", "multi-turn", "two-questions", "before", "after"}
    assert sum(len(c.steps) > 1 for c in conversations) >= 10


def _lines(value: object) -> Iterator[str]:
    """Every line of text in a YAML document: NLU examples, test messages, story lines."""
    if isinstance(value, str):
        for line in value.splitlines():
            yield line.strip().removeprefix("- ").strip()
    elif isinstance(value, dict):
        for item in value.values():
            yield from _lines(item)
    elif isinstance(value, list):
        for item in value:
            yield from _lines(item)


def fold(text: str) -> str:
    """Case, punctuation and spacing do not make a line new."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def test_patient_lines_are_new_not_copied_from_training_or_test_data() -> None:
    known = {fold(line) for path in SOURCES for line in _lines(yaml.safe_load(path.read_text("utf-8")))}
    copied = sorted(
        {s.patient for c in all_conversations() for s in c.steps if fold(s.patient) in known}
    )
    assert not copied, f"patient lines copied from the training or test data: {copied}"


def test_every_handout_topic_and_phase_is_checked_by_some_conversation() -> None:
    """Each answer of data/handouts/answers.yml (both phases of a timing topic) is
    expected by some step: one of its quotes, or its note for an answer without quotes."""
    kb, handouts = load_knowledge(), load_handouts()
    steps = [s for c in all_conversations() for s in c.steps]
    quoted = [handouts.fold(q.text) for s in steps for q in s.quotes]
    contained = [normalise(t).lower() for s in steps for t in s.contains]
    missing = []
    for name, topic in kb.topics.items():
        answers = {"": topic.answer} if topic.answer else topic.phases
        for phase, answer in answers.items():
            texts = [handouts.fold(q.text) for q in answer.quotes]
            note = normalise(answer.note or "").lower()
            by_quote = any(q in t for q in quoted for t in texts)
            by_note = bool(note) and any(c in note for c in contained)
            if not (by_quote or by_note):
                missing.append(f"{name} {phase}".strip())
    assert not missing, f"no conversation checks the answer of: {missing}"
