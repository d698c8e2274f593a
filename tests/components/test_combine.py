"""How the two red-flag detectors' readings become one decision."""

from __future__ import annotations

from components.red_flags.combine import LEARNED, RULES, combine, strongest
from components.red_flags.context import Status
from components.red_flags.detector import Finding, Mention

RANK = {"passed_out": 3, "cannot_move_limb": 3, "fever": 2, "nerve_symptoms": 2, "not_improving": 1}
HIGH, LOW = 0.85, 0.4


def finding(*mentions: tuple[str, Status]) -> Finding:
    built = tuple(Mention(sign, "urgent", 0, 5, "words", status) for sign, status in mentions)
    present = tuple(m.symptom for m in built if m.status == Status.PRESENT)
    return Finding(built, "urgent" if present else None, present)


def test_either_detector_with_high_confidence_escalates() -> None:
    by_rules = combine(finding(("fever", Status.PRESENT)), {}, RANK, HIGH, LOW)
    assert by_rules.present == ("fever",) and by_rules.detectors["fever"] == (RULES,)
    by_learning = combine(Finding(), {"passed_out": 0.93}, RANK, HIGH, LOW)
    assert by_learning.present == ("passed_out",) and by_learning.detectors["passed_out"] == (LEARNED,)
    both = combine(finding(("fever", Status.PRESENT)), {"fever": 0.9}, RANK, HIGH, LOW)
    assert both.detectors["fever"] == (RULES, LEARNED)


def test_the_most_severe_sign_comes_first() -> None:
    decision = combine(finding(("fever", Status.PRESENT)), {"cannot_move_limb": 0.9}, RANK, HIGH, LOW)
    assert decision.present == ("cannot_move_limb", "fever")


def test_a_negation_hides_a_sign_only_when_both_agree() -> None:
    agreed = combine(finding(("fever", Status.NEGATED)), {"fever": 0.1}, RANK, HIGH, LOW)
    assert not agreed.present and agreed.possible is None
    disputed = combine(finding(("fever", Status.NEGATED)), {"fever": 0.95}, RANK, HIGH, LOW)
    assert not disputed.present and disputed.possible == "fever"  # asked, never dropped
    history = combine(finding(("passed_out", Status.HISTORICAL)), {"passed_out": 0.6}, RANK, HIGH, LOW)
    assert history.possible == "passed_out"


def test_an_unsure_learned_reading_is_asked_about_the_most_severe_first() -> None:
    decision = combine(Finding(), {"not_improving": 0.7, "cannot_move_limb": 0.5}, RANK, HIGH, LOW)
    assert not decision.present and decision.possible == "cannot_move_limb"
    assert combine(Finding(), {"fever": 0.2}, RANK, HIGH, LOW).possible is None


def test_the_strongest_reading_over_the_parts_of_a_message_counts() -> None:
    assert strongest([{"fever": 0.2, "chills": 0.9}, {"fever": 0.7}]) == {"fever": 0.7, "chills": 0.9}


def test_an_urgent_sign_only_the_rules_see_is_asked_when_the_learned_detector_doubts_it() -> None:
    doubtable = {"fever", "nerve_symptoms"}
    doubted = combine(finding(("fever", Status.PRESENT)), {"fever": 0.01}, RANK, HIGH, LOW, doubtable, 0.05)
    assert doubted.present == () and doubted.possible == "fever"
    # a little support from the learned detector, and the rules escalate as before
    supported = combine(finding(("fever", Status.PRESENT)), {"fever": 0.2}, RANK, HIGH, LOW, doubtable, 0.05)
    assert supported.present == ("fever",)


def test_an_emergency_is_never_doubted() -> None:
    decision = combine(
        finding(("passed_out", Status.PRESENT)), {"passed_out": 0.0}, RANK, HIGH, LOW, {"fever"}, 0.05
    )
    assert decision.present == ("passed_out",)


def test_a_doubted_sign_beside_a_sure_one_leaves_the_sure_one_escalated() -> None:
    decision = combine(
        finding(("fever", Status.PRESENT), ("nerve_symptoms", Status.PRESENT)),
        {"fever": 0.9, "nerve_symptoms": 0.0},
        RANK,
        HIGH,
        LOW,
        {"fever", "nerve_symptoms"},
        0.05,
    )
    assert decision.present == ("fever",)


def test_a_sign_said_with_a_change_or_at_the_site_is_not_doubted() -> None:
    two = Finding(
        (Mention("fever", "urgent", 0, 20, "fever and it is worse", Status.PRESENT, firm=True),),
        "urgent",
        ("fever",),
    )
    decision = combine(two, {"fever": 0.0}, RANK, HIGH, LOW, {"fever"}, 0.05)
    assert decision.present == ("fever",)


def test_a_doubted_sign_more_severe_than_the_sure_one_is_escalated_too() -> None:
    decision = combine(
        finding(("fever", Status.PRESENT), ("not_improving", Status.PRESENT)),
        {"fever": 0.0, "not_improving": 0.95},
        RANK,
        HIGH,
        LOW,
        {"fever"},
        0.05,
    )
    assert decision.present == ("fever", "not_improving")
    assert decision.detectors["fever"] == (RULES,)


def test_an_emergency_the_learned_detector_is_all_but_sure_of_is_not_held_back_by_a_cue() -> None:
    cued = finding(("passed_out", Status.HYPOTHETICAL))
    held = combine(cued, {"passed_out": 0.95}, RANK, HIGH, LOW)
    assert held.present == () and held.possible == "passed_out"
    overridden = combine(
        cued, {"passed_out": 0.95}, RANK, HIGH, LOW, overriding={"passed_out"}, override_at=0.9
    )
    assert overridden.present == ("passed_out",)
    # an urgent sign, or a less sure reading, is still asked about
    fever = combine(finding(("fever", Status.NEGATED)), {"fever": 0.99}, RANK, HIGH, LOW,
                    overriding={"passed_out"}, override_at=0.9)
    assert fever.present == ()
    unsure = combine(cued, {"passed_out": 0.86}, RANK, HIGH, LOW, overriding={"passed_out"}, override_at=0.9)
    assert unsure.present == ()
