"""Tell whether a message is about before or after the procedure.

Answers about eating, medicines, driving and activity differ before and after the
procedure. This extractor finds explicit timing cues ("before my procedure", "had it done
yesterday") and emits a `procedure_phase` entity that fills the slot of the same name.
It is rule-based on purpose: a wrong guess changes medical instructions, so it only
speaks when the cue is plain and stays silent when a message names both phases.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.configured import ConfiguredComponent
from components.text_model import MAX_CHARS

ENTITY = "procedure_phase"

_PROCEDURE = (
    r"(?:(?:the|my|his|her|your|their|our|this)\s+)?"
    r"(?:procedure|procedre|proceedure|treatment|neurotomy|ablation|rfa|injection|surgery|"
    r"appointment|appt|op|operation|nerve burn(?:ing)?|it)\b"
)

CUES: Dict[str, List[str]] = {
    "before": [
        r"\b(?:before|b4|prior to|ahead of)\s+" + _PROCEDURE,
        r"\b(?:before|b4)\s*\?",
        r"^\s*(?:can|could|should|do|does|is|are|may|what|when|how)\b[^.!?]*\b(?:before|b4)\s*$",
        r"\bbefore\s*(?:and|or|&|/)\s*after\b",
        r"\bbeforehand\b",
        r"\bpre[- ]?(?:op|procedure|treatment)\b",
        r"\b(?:have|having|getting|get)\s+(?:it|the procedure|my procedure)\s+"
        r"(?:done\s+)?(?:tomorrow|tmrw|next|on)\b",
        r"\b(?:haven'?t|have not|havent|not)\s+(?:had|been done|gone)\b.*\byet\b",
        r"\b(?:procedure|appointment|neurotomy|ablation|rfa)\s+(?:is|'s)\s+"
        r"(?:tomorrow|tmrw|next|on|coming|scheduled|in \d+)",
        r"\bnight before\b",
    ],
    "after": [
        r"\b(?:after|aftr|post|following|since)\s+" + _PROCEDURE,
        r"\bafter\s*\?",
        r"^\s*(?:can|could|should|do|does|is|are|may|what|when|how)\b[^.!?]*\bafter\s*$",
        r"\bafterwards?\b",
        r"\bpost[- ]?(?:op|procedure|treatment)\b",
        r"(?<!n't )(?<!nt )(?<!not )(?<!never )(?<!yet )\b(?:had|did)\s+"
        r"(?:it|(?:the|my) (?:procedure|ablation|neurotomy|rfa))\b(?:\s+done)?",
        r"\bgot\s+(?:it|(?:the|my) (?:procedure|ablation|neurotomy|rfa))\s+done\b",
        r"\b(?:just\s+)?got\s+(?:back\s+)?home\b",
        r"\b(?:was|got)\s+(?:done|discharged)\s+(?:yesterday|today|this morning|last)",
        # starting a medicine again is after it ("when I can start again aspirin? I stop
        # it before the procedure": with that "before", the message names both, and both
        # answers are given)
        r"\b(?:start|take|begin)\w*\s+(?:\w+\s+){0,2}again\b",
        r"\brestart\w*\b|\bgo(?:ing)? back on\b|\bresum\w+\b",
    ],
}

# "I stopped my aspirin before the procedure": a before that is already history.
_PAST_STOP = re.compile(
    r"\b(?:stopped|quit|held|paused|came off|went off|skipped|had to stop|told to stop|"
    r"didn'?t take|did not take)\b[^.!?]{0,40}$",
    re.IGNORECASE,
)

# "my arms feel weaker than before the procedure": a comparison, said after it.
_COMPARED = re.compile(r"\b(?:than|as|like)\s*$", re.IGNORECASE)

_COMPILED = {
    phase: [re.compile(pattern, re.IGNORECASE) for pattern in patterns]
    for phase, patterns in CUES.items()
}


def find_phase(text: str) -> Dict[str, Any] | None:
    """The phase the text plainly refers to, with the cue's span; None if none or both."""
    found: Dict[str, re.Match[str]] = {}
    for phase, patterns in _COMPILED.items():
        for pattern in patterns:
            match = pattern.search(text)
            if match and phase == "before" and any(
                cue.search(text[: match.start()]) for cue in (_PAST_STOP, _COMPARED)
            ):
                continue
            if match:
                found[phase] = match
                break
    if len(found) != 1:
        return None
    phase, match = next(iter(found.items()))
    return {"value": phase, "start": match.start(), "end": match.end()}


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False
)
class PhaseExtractor(ConfiguredComponent, EntityExtractorMixin):
    """Emits a `procedure_phase` entity (before/after) from plain timing cues."""

    def process(self, messages: List[Message]) -> List[Message]:
        """Adds the phase entity to each message that names one phase plainly."""
        for message in messages:
            text = message.get(TEXT) or ""
            phase = find_phase(text[:MAX_CHARS])
            if phase is None:
                continue
            entity = {
                "entity": ENTITY,
                "value": phase["value"],
                "start": phase["start"],
                "end": phase["end"],
                "confidence": 1.0,
                "extractor": self.__class__.__name__,
            }
            message.set(ENTITIES, message.get(ENTITIES, []) + [entity], add_to_output=True)
        return messages
