"""REGRESSION gate for the rule detector: not one red flag of these sets may be missed, and
at most 3% of the calm, negated and hypothetical messages may raise an alarm.

Every set here has been learned from after its one blind run, so passing says nothing
about wording nobody has seen: only the first run of a new blind set measures that
(docs/red_flags.md; tests/blind/README.md). The whole assistant, both detectors
together, is gated on the blind sets in tests/test_blind_sets.py.

tests/red_flags.yml is the issue's held-out set; tests/red_flags_unseen.yml a second one,
written later by another writer (its first, blind run is reported in docs/red_flags.md);
tests/components/red_flag_cases.yml the development set; tests/red_flags_blind.yml a third
held-out set, run once blind and then learned from (docs/red_flags.md). All were written
separately from data/red_flags.yml. No emergency or urgent sign may be missed in any set;
the third set keeps one documented watch-level miss (a double negative the ConText rules
read as negated). Recall and the 95% upper bound of the miss rate are
printed for the closing notes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components.red_flags.detector import RedFlagDetector
from devtools.red_flag_eval import evaluate, miss_rate_upper_bound
from tests.conftest import PROJECT

SETS = {
    "held-out": PROJECT / "tests" / "red_flags.yml",
    "unseen": PROJECT / "tests" / "red_flags_unseen.yml",
    "development": PROJECT / "tests" / "components" / "red_flag_cases.yml",
    "third": PROJECT / "tests" / "red_flags_blind.yml",
}
# Watch-level ("not getting better as expected") misses tolerated per set; never more.
WATCH_MISSES_ALLOWED = {"third": 1}
MAX_FALSE_ALARM_RATE = 0.03


@pytest.fixture(scope="module")
def detector() -> RedFlagDetector:
    return RedFlagDetector()


@pytest.mark.parametrize("name", list(SETS))
def test_no_red_flag_is_missed_and_calm_messages_rarely_alarm(
    name: str, detector: RedFlagDetector, capsys: pytest.CaptureFixture
) -> None:
    score = evaluate(SETS[name], detector)
    with capsys.disabled():
        print(f"\nRed flags, {name} set ({SETS[name].relative_to(PROJECT)}): {score.summary()}")
    missed = [f"{m['level']}: {m['text']!r} -> {m['found']}" for m in score.missed]
    serious = [m for m in score.missed if m["level"] != "watch"]
    watch = len(score.missed) - len(serious)
    allowed = WATCH_MISSES_ALLOWED.get(name, 0)
    assert not serious and watch <= allowed, "missed red flags:\n" + "\n".join(missed)
    alarms = [f"{a['kind']}: {a['text']!r} -> {a['found']}" for a in score.false_alarms]
    assert score.false_alarm_rate <= MAX_FALSE_ALARM_RATE, "false alarms:\n" + "\n".join(alarms)


def test_the_held_out_set_is_as_large_as_the_issue_asks() -> None:
    data = yaml.safe_load(SETS["held-out"].read_text(encoding="utf-8"))
    levels = [item["level"] for item in data["red_flags"]]
    assert len(levels) >= 300 and levels.count("emergency") >= 60 and len(data["calm"]) >= 150


def _texts(path: Path) -> set[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {i["text"].strip().lower() for key in ("red_flags", "calm") for i in data[key]}


def _training_texts() -> set[str]:
    """Every NLU example and every phrase of the detector's data, as whole lines."""
    found = set()
    for path in [*(PROJECT / "data" / "nlu").glob("*.yml"), PROJECT / "data" / "red_flags.yml"]:
        for line in path.read_text(encoding="utf-8").lower().splitlines():
            text = line.strip()
            if text.startswith("- "):
                found.add(text[2:].strip().strip('"'))
    return found


def test_evaluation_messages_are_not_copied_into_the_detector_or_nlu_data() -> None:
    training = _training_texts()
    copied = sorted(
        {t for path in SETS.values() for t in _texts(path) if t in training and len(t.split()) > 4}
    )
    assert not copied, f"evaluation messages found in training data: {copied}"


def test_the_miss_rate_bound_is_the_exact_one() -> None:
    # zero misses in n: the bound solves (1 - p)^n = 0.05
    assert miss_rate_upper_bound(0, 376) == pytest.approx(1 - 0.05 ** (1 / 376), rel=1e-6)
    assert miss_rate_upper_bound(3, 100) > 3 / 100
