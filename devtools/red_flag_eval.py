"""Score the red-flag detector on a YAML set of red flags and calm messages.

    .venv/bin/python -m devtools.red_flag_eval tests/components/red_flag_cases.yml

A red flag is caught when the detector finds a present warning sign at its level or a
more severe one; a calm message is a false alarm when any warning sign is found present.
The 95% upper bound of the miss rate is the exact (Clopper-Pearson) one-sided bound.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

import yaml

from components.red_flags.detector import RedFlagDetector
from components.red_flags.lexicon import LEVELS


def miss_rate_upper_bound(misses: int, total: int, confidence: float = 0.95) -> float:
    """One-sided exact upper bound of a binomial proportion (0 misses: 1 - alpha**(1/n))."""
    from scipy.stats import beta

    if misses >= total:
        return 1.0
    return float(beta.ppf(confidence, misses + 1, total - misses))


@dataclass
class Score:
    """The outcome of one evaluation run."""

    red_flags: int = 0
    missed: List[Dict[str, str]] = field(default_factory=list)
    under_triaged: List[Dict[str, str]] = field(default_factory=list)
    right_level: int = 0
    calm: int = 0
    false_alarms: List[Dict[str, str]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return 1 - len(self.missed) / self.red_flags if self.red_flags else 0.0

    @property
    def false_alarm_rate(self) -> float:
        return len(self.false_alarms) / self.calm if self.calm else 0.0

    def summary(self) -> str:
        bound = miss_rate_upper_bound(len(self.missed), self.red_flags)
        return (
            f"red flags: {self.red_flags}, missed {len(self.missed)} "
            f"(recall {self.recall:.4f}; 95% upper bound of the miss rate {bound:.4f}); "
            f"exact level {self.right_level}/{self.red_flags}; "
            f"calm: {self.calm}, false alarms {len(self.false_alarms)} ({self.false_alarm_rate:.1%})"
        )


@dataclass(frozen=True)
class Verdict:
    """What the whole NLU pipeline made of a message: the level it escalates, if any."""

    level: str | None
    present: tuple
    asked: str | None = None


class PipelineDetector:
    """Both detectors as the assistant runs them: the trained Rasa model's NLU pipeline,
    parsed in-process (a message on its own, as the first of a conversation)."""

    def __init__(self, model: Path) -> None:
        import asyncio

        from rasa.core.agent import Agent

        from components.red_flags.lexicon import load_lexicon

        self._loop = asyncio.new_event_loop()
        self._agent = Agent.load(str(model))
        self._levels = {name: s.level for name, s in load_lexicon().symptoms.items()}

    def detect(self, text: str) -> Verdict:
        parsed = self._loop.run_until_complete(self._agent.parse_message(text))
        entities = parsed.get("entities") or []
        signs = tuple(e["value"] for e in entities if e.get("entity") == "red_flag")
        asked = next((e["value"] for e in entities if e.get("entity") == "possible_sign"), None)
        levels = [self._levels[s] for s in signs if s in self._levels]
        level = min(levels, key=LEVELS.index) if levels else None
        return Verdict(level, signs, asked)


def evaluate(path: Path, detector: RedFlagDetector | PipelineDetector) -> Score:
    """Runs the detector over every message of the file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    score = Score()
    for item in data["red_flags"]:
        finding = detector.detect(item["text"])
        score.red_flags += 1
        expected = LEVELS.index(item["level"])
        if finding.level is None:
            score.missed.append({**item, "found": "nothing"})
        elif LEVELS.index(finding.level) > expected:
            score.missed.append({**item, "found": f"{finding.level} {finding.present}"})
            score.under_triaged.append(item)
        elif LEVELS.index(finding.level) == expected:
            score.right_level += 1
    for item in data["calm"]:
        finding = detector.detect(item["text"])
        score.calm += 1
        if finding.level is not None:
            score.false_alarms.append({**item, "found": f"{finding.level} {finding.present}"})
    return score


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", type=Path)
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    parser.add_argument("--model", type=Path, help="a trained model: score both detectors as combined there")
    args = parser.parse_args()
    score = evaluate(args.path, PipelineDetector(args.model) if args.model else RedFlagDetector())
    if not args.quiet:
        for item in score.missed:
            symptom = item.get("symptom", "")
            print(f"MISSED  {item['level']:9} {symptom:16} {item['text']!r} -> {item['found']}")
        for item in score.false_alarms:
            print(f"ALARM   {item['kind']:12} {item['text']!r} -> {item['found']}")
    print(score.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
