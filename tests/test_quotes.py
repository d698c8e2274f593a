"""Every quotation the assistant can send is handout text, and every piece of handout
guidance can be reached by some answer."""

from __future__ import annotations

import re
from typing import Dict, Iterator, List, Tuple

import pytest
import yaml

from actions.answer import cannot_answer_text
from actions.care_team import ActionContactCareTeam
from actions.clinic import Clinic
from actions.knowledge import AFTER, BEFORE, Knowledge, load_knowledge, render_topic
from tests.conftest import PROJECT

# Handout lines that are titles, headings or the publisher's notice, not patient guidance.
NOT_GUIDANCE = {
    "Medial Branch Neurotomy: Your Experience",
    "Getting ready for your treatment",
    "During the procedure",
    "After the procedure",
    "When to call your healthcare provider",
    "Medial Branch Neurotomy: What to Expect at Home",
    "Your Recovery",
    "How can you care for yourself at home?",
    "When should you call for help?",
    "Care instructions adapted under license by your healthcare professional.",
    "Healthwise, Incorporated disclaims any warranty or liability for your use of this information.",
}

QUOTE = re.compile(r"“(.*?)”", re.DOTALL)
CLINIC = Clinic("Quote Test Clinic", "555-0100", "555-0111", "911")


def normalise(text: str) -> str:
    """Folds what may differ between a quote and the handout: spacing, bullets, apostrophes."""
    text = text.replace("’", "'").replace("‘", "'").replace("•", " ")
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def kb() -> Knowledge:
    return load_knowledge()


def handout_text(kb: Knowledge, source: str) -> str:
    return normalise(kb.texts[source])


def quote_parts(quote: str, corrections: Dict[str, str]) -> List[str]:
    """The pieces of a quotation that must appear in order in the handout."""
    for corrected, original in corrections.items():
        quote = quote.replace(corrected, original)
    return [normalise(part) for part in quote.split("…") if normalise(part)]


def appears_in_order(parts: List[str], text: str) -> bool:
    position = 0
    for part in parts:
        found = text.find(part, position)
        if found < 0:
            return False
        position = found + len(part)
    return True


def all_replies(kb: Knowledge) -> Iterator[Tuple[str, str]]:
    """Every reply text the assistant can produce, named for the failure message."""
    for name, topic in kb.topics.items():
        for phase in (None, BEFORE, AFTER):
            yield f"{name} ({phase})", render_topic(topic, phase, kb, CLINIC)
    yield "cannot answer", cannot_answer_text()
    domain = yaml.safe_load((PROJECT / "domain.yml").read_text())
    for name, variants in domain["responses"].items():
        for variant in variants:
            yield name, variant.get("text", "")


def test_every_quotation_in_every_reply_is_verbatim_handout_text(kb: Knowledge) -> None:
    handouts = " ".join(handout_text(kb, source) for source in kb.texts)
    checked = 0
    for name, reply in all_replies(kb):
        for quote in QUOTE.findall(reply):
            parts = quote_parts(quote, kb.corrections)
            assert appears_in_order(parts, handouts), f"{name}: not handout text: {quote!r}"
            checked += 1
    assert checked > 40


def test_each_quote_is_attributed_to_the_handout_it_comes_from(kb: Knowledge) -> None:
    for name, topic in kb.topics.items():
        for answer in topic.answers():
            for quote in answer.quotes:
                parts = quote_parts(quote.text, kb.corrections)
                assert appears_in_order(parts, handout_text(kb, quote.source)), (
                    f"{name}: quote is not in {kb.titles[quote.source]!r}: {quote.text!r}"
                )
                reply = render_topic(topic, None, kb, CLINIC)
                assert f"— {kb.titles[quote.source]}" in reply


def guidance_sentences(kb: Knowledge, source: str) -> List[str]:
    sentences = []
    for line in kb.texts[source].splitlines():
        line = normalise(line)
        if not line or line in NOT_GUIDANCE:
            continue
        sentences += [
            s for s in re.split(r"(?<=[.?!:])\s+(?=[A-Z])", line) if s and s not in NOT_GUIDANCE
        ]
    return sentences


@pytest.mark.parametrize("source", ["experience", "home"])
def test_every_guidance_sentence_is_reachable_by_an_answer(kb: Knowledge, source: str) -> None:
    quoted = [
        part
        for answer in [a for t in kb.topics.values() for a in t.answers()]
        for quote in answer.quotes
        for part in quote_parts(quote.text, kb.corrections)
    ] + [normalise(q.text) for q in kb.general]
    missing = [s for s in guidance_sentences(kb, source) if not any(s in part for part in quoted)]
    assert not missing, f"handout guidance no answer quotes: {missing}"


def test_the_typo_is_quoted_with_its_correction(kb: Knowledge) -> None:
    reply = render_topic(kb.topics["ask_pain_medicine"], AFTER, kb, CLINIC)
    assert "[ask] your doctor if you can take an over-the-counter medicine" in reply
    assert "as your doctor" not in reply


def test_a_changed_quote_is_caught(kb: Knowledge) -> None:
    """The checker itself: an invented or altered quotation must fail it."""
    handouts = " ".join(handout_text(kb, source) for source in kb.texts)
    assert not appears_in_order(quote_parts("You may shower tonight.", kb.corrections), handouts)
    assert not appears_in_order(
        quote_parts("Do not take a bath for the first 48 hours", kb.corrections), handouts
    )
    assert not appears_in_order(  # the parts of an ellipsis quote must be in handout order
        quote_parts("A fever. … You passed out (lost consciousness).", kb.corrections), handouts
    )


def test_care_team_reply_quotes_only_handout_text(kb: Knowledge) -> None:
    from rasa_sdk.executor import CollectingDispatcher

    from tests.actions.helpers import run_action, tracker_for

    dispatcher = CollectingDispatcher()
    run_action(ActionContactCareTeam(), dispatcher, tracker_for("request_human", "nurse pls"))
    handouts = " ".join(handout_text(kb, source) for source in kb.texts)
    for quote in QUOTE.findall(dispatcher.messages[0]["text"]):
        assert appears_in_order(quote_parts(quote, kb.corrections), handouts)
