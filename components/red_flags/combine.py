"""Decide from two independent detectors: the rules (data/red_flags.yml) and the learned one.

They are combined for recall, so the policy is asymmetric on purpose:
- a sign either detector finds with high confidence escalates: the rules' "present", or
  the learned probability at or above `high`;
- a negation, history, "what if" or someone-else cue of the rules may hide a sign only when the learned
  detector agrees it is absent (below `low`). When they disagree, the patient is asked;
- a sign only the learned detector finds, between `low` and `high`, is asked about too;
- a sign only the rules find, at a level in `doubtable` (urgent, not emergency), while the
  learned detector gives it almost nothing (below `doubt_below`) and the rules saw no change
  or site words with it (`firm`), is asked about instead,
  unless a less severe sign of the message escalates anyway:
  the rules then most often matched a sign word used in another sense ("none since",
  "fever blister"), and the patient's yes escalates it at once;
- nothing is dropped silently: what is not escalated and not hidden by agreement is asked.

A clear emergency never waits for a question: it escalates on either detector's "high".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import AbstractSet, Dict, Iterable, List, Mapping, Tuple

from components.red_flags.context import Status
from components.red_flags.detector import Finding

RULES, LEARNED = "rules", "learned"
CUED = (Status.NEGATED, Status.EXPECTED, Status.HYPOTHETICAL, Status.HISTORICAL, Status.OTHER)


@dataclass(frozen=True)
class Decision:
    """The signs to escalate (most severe first), who found each, and the one to ask about."""

    present: Tuple[str, ...] = ()
    detectors: Mapping[str, Tuple[str, ...]] = field(default_factory=dict)
    possible: str | None = None
    possible_probability: float = 0.0


def combine(
    rules: Finding,
    learned: Mapping[str, float],
    rank: Mapping[str, int],
    high: float,
    low: float,
    doubtable: AbstractSet[str] = frozenset(),
    doubt_below: float = 0.0,
    support: Mapping[str, float] | None = None,
    overriding: AbstractSet[str] = frozenset(),
    override_at: float = 1.01,
) -> Decision:
    """One decision from the rules' finding and the learned sign probabilities.

    `rank` orders the signs by level (higher is more severe); ties go to the higher
    learned probability. `doubtable` are the signs the rules alone may not escalate when
    the learned probability is below `doubt_below` (in `support`, when given: the
    learned detector's reading of more parts of the message): they are asked about.
    """
    support = learned if support is None else support
    # A sign in `overriding` (the emergencies) that the learned detector is all but sure
    # of is not held back by a cue of the rules: a clear emergency never waits.
    cued = {m.symptom for m in rules.mentions if m.status in CUED} - set(rules.present)
    # A sign said with a change or at the site in its own words ("much worse and swollen",
    # "pus at the site") is no other sense of a word: it is not doubted.
    firm = {m.symptom for m in rules.mentions if m.firm and m.status == Status.PRESENT}
    doubted = {
        sign
        for sign in rules.present
        if sign in doubtable and sign not in firm and support.get(sign, 0.0) < doubt_below
    }
    found: Dict[str, List[str]] = {sign: [RULES] for sign in rules.present if sign not in doubted}
    for sign, probability in learned.items():
        if probability >= high and (sign not in cued or (sign in overriding and probability >= override_at)):
            found.setdefault(sign, []).append(LEARNED)
    if found and doubted:
        # The message already reports a sign, so a doubted one that outranks it is most
        # likely meant too: dropping it would under-triage ("the pain at the site keeps
        # getting worse, not better" is an infection sign, not only slow progress).
        highest = max(rank.get(s, 0) for s in found)
        for sign in doubted:
            if rank.get(sign, 0) > highest:
                found[sign] = [RULES]
    if found:
        order = sorted(found, key=lambda s: (-rank.get(s, 0), -learned.get(s, 0.0)))
        return Decision(tuple(order), {s: tuple(found[s]) for s in order})
    if doubted:  # the rules' sign, doubted by the learned detector: asked, never dropped
        sign = max(doubted, key=lambda s: (rank.get(s, 0), learned.get(s, 0.0)))
        return Decision(possible=sign, possible_probability=learned.get(sign, 0.0))
    # Unsure: a learned sign in the middle band, or a cued sign the learned one still sees.
    candidates = [(s, p) for s, p in learned.items() if p >= low]
    if not candidates:
        return Decision()
    sign, probability = max(candidates, key=lambda sp: (rank.get(sp[0], 0), sp[1]))
    return Decision(possible=sign, possible_probability=probability)


def strongest(rows: Iterable[Mapping[str, float]]) -> Dict[str, float]:
    """Each sign's highest probability over several readings of one message."""
    best: Dict[str, float] = {}
    for row in rows:
        for sign, probability in row.items():
            best[sign] = max(best.get(sign, 0.0), probability)
    return best
