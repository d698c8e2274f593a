"""The Rasa component: what a warning sign does to the intent and the entities."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
from rasa.shared.nlu.training_data.message import Message

from components.red_flag_detector import RedFlagDetectorComponent
from components.red_flags.detector import RedFlagDetector


@pytest.fixture(scope="module")
def component() -> RedFlagDetectorComponent:
    return RedFlagDetectorComponent(RedFlagDetectorComponent.get_default_config(), RedFlagDetector())


def parsed(component: RedFlagDetectorComponent, text: str, ranking: List[Dict[str, Any]]) -> Message:
    message = Message(data={"text": text, "intent": ranking[0], "intent_ranking": ranking, "entities": []})
    component.process([message])
    return message


def entities(message: Message, name: str) -> List[Dict[str, Any]]:
    return [e for e in message.get("entities") if e["entity"] == name]


def test_a_warning_sign_becomes_the_intent_and_the_other_question_stays(component) -> None:
    message = parsed(
        component,
        "when is my follow up? also my dad fainted",
        [{"name": "ask_follow_up", "confidence": 0.8}, {"name": "report_red_flag", "confidence": 0.1}],
    )
    assert message.get("intent") == {"name": "report_red_flag", "confidence": 1.0}
    [flag] = entities(message, "red_flag")
    assert (flag["value"], flag["role"]) == ("passed_out", "primary")
    assert [e["value"] for e in entities(message, "question_topic")] == ["ask_follow_up"]


def test_a_guess_made_from_the_symptom_itself_is_not_answered(component) -> None:
    message = parsed(component, "i fainted in the bathroom", [{"name": "ask_bathing", "confidence": 0.7}])
    assert entities(message, "question_topic") == []


def test_several_signs_are_ordered_most_severe_first(component) -> None:
    message = parsed(
        component, "I have a fever and I passed out", [{"name": "report_red_flag", "confidence": 0.9}]
    )
    assert [(e["value"], e["role"]) for e in entities(message, "red_flag")] == [
        ("passed_out", "primary"),
        ("fever", "other"),
    ]


def test_a_hypothetical_question_gets_the_warning_signs(component) -> None:
    message = parsed(
        component, "who do i call if i get chills", [{"name": "report_red_flag", "confidence": 0.6}]
    )
    assert message.get("intent")["name"] == "ask_warning_signs"
    assert entities(message, "red_flag") == []


def test_a_hypothetical_inside_another_topic_adds_the_warning_signs(component) -> None:
    message = parsed(
        component, "can i shower, and what if i get a fever", [{"name": "ask_bathing", "confidence": 0.8}]
    )
    assert message.get("intent")["name"] == "ask_bathing"
    assert [e["value"] for e in entities(message, "question_topic")] == ["ask_warning_signs"]


def test_a_negated_sign_takes_the_classifiers_next_guess(component) -> None:
    ranking = [{"name": "report_red_flag", "confidence": 0.5}, {"name": "ask_bathing", "confidence": 0.4}]
    message = parsed(component, "no fever, ok to shower?", ranking)
    assert message.get("intent")["name"] == "ask_bathing"


def test_a_report_without_a_nameable_sign_is_asked_about_never_silent(component) -> None:
    message = parsed(component, "i dont feel right", [{"name": "report_red_flag", "confidence": 0.9}])
    assert message.get("intent")["name"] == "feeling_unwell"
    assert entities(message, "red_flag") == []


def test_feeling_unwell_with_a_named_sign_escalates(component) -> None:
    message = parsed(
        component, "i feel awful and i have chills", [{"name": "feeling_unwell", "confidence": 0.9}]
    )
    assert message.get("intent")["name"] == "report_red_flag"


def test_feeling_unwell_stays_so_when_a_sign_is_only_denied(component) -> None:
    message = parsed(component, "no fever but i feel awful", [{"name": "feeling_unwell", "confidence": 0.9}])
    assert message.get("intent")["name"] == "feeling_unwell"


def test_an_ordinary_question_is_left_alone(component) -> None:
    ranking = [{"name": "ask_driving", "confidence": 0.9}]
    message = parsed(component, "when can i drive", ranking)
    assert message.get("intent") == ranking[0] and message.get("entities") == []


def test_a_no_about_a_warning_sign_is_not_a_no_to_the_question_that_follows(component) -> None:
    # the classifier read "no fever or anything like that, ..." as a bare "no"; the splitter
    # found the question after the comma
    message = Message(
        data={
            "text": "nope, no fever at all, just checking whether a soak in the tub is alright now",
            "intent": {"name": "deny", "confidence": 0.5},
            "intent_ranking": [{"name": "deny", "confidence": 0.5}],
            "entities": [{"entity": "question_topic", "value": "ask_bathing", "start": 20, "end": 70}],
        }
    )
    component.process([message])
    assert message.get("intent")["name"] == "ask_bathing"
    assert entities(message, "question_topic") == [] and entities(message, "red_flag") == []


def test_a_plain_no_stays_a_no(component) -> None:
    message = parsed(component, "no thanks", [{"name": "deny", "confidence": 0.9}])
    assert message.get("intent")["name"] == "deny"


def test_a_change_to_the_learned_examples_changes_the_cache_key(tmp_path) -> None:
    # Rasa restores a trained component from its cache when its fingerprint is unchanged;
    # the example files are outside the training data, so they must be in the fingerprint.
    examples = tmp_path / "learned.yml"
    examples.write_text("version: 1\nsigns:\n  passed_out:\n    - i fainted\n", encoding="utf-8")
    config = {"learned_examples_files": [str(examples)]}
    before = RedFlagDetectorComponent.fingerprint_addon(config)
    assert RedFlagDetectorComponent.fingerprint_addon(config) == before
    examples.write_text("version: 1\nsigns:\n  passed_out:\n    - i blacked out\n", encoding="utf-8")
    assert RedFlagDetectorComponent.fingerprint_addon(config) != before


@pytest.mark.parametrize(
    "text",
    [
        # a sign word in any sense, or a raised reading, is never met with "good to hear"
        "all fine here, just can't hold my wee like I used to",
        "feeling ok, my temperature is 38.6 though",
        "no fever, all good",
    ],
)
def test_all_is_well_with_a_sign_word_or_a_raised_reading_is_asked_about(
    component: RedFlagDetectorComponent, text: str
) -> None:
    message = parsed(component, text, [{"name": "report_well", "confidence": 0.9}])
    assert message.get("intent")["name"] in ("feeling_unwell", "report_red_flag")


def test_all_is_well_with_nothing_of_a_sign_stays_all_is_well(component: RedFlagDetectorComponent) -> None:
    for text in ["home now and resting, all good", "temp 36.6 this morning, feeling fine"]:
        message = parsed(component, text, [{"name": "report_well", "confidence": 0.9}])
        assert message.get("intent")["name"] == "report_well", text


class Readings:
    """The learned detector's readings for given texts (its interface, without training): what
    the combination does with a part that the whole message does not bear out."""

    def __init__(self, table: Dict[str, Dict[str, float]]) -> None:
        self.table = table

    def probabilities(self, texts: List[str], model: Any) -> List[Dict[str, float]]:
        return [self.table.get(t.strip(" ,.?!"), {}) for t in texts]


@pytest.fixture()
def with_clauses() -> RedFlagDetectorComponent:
    config = {**RedFlagDetectorComponent.get_default_config(), "learned_clauses": True, "clause_floor": 0.3}
    config.update(emergency_override=0.9, override_levels=["emergency", "urgent"])
    return RedFlagDetectorComponent(config, RedFlagDetector())


def test_a_part_the_whole_message_does_not_bear_out_is_asked_about_not_escalated(with_clauses) -> None:
    text = "i can't move my shift to friday, work is busy"
    with_clauses._learned = Readings(
        {text: {"cannot_move_limb": 0.05}, "i can't move my shift to friday": {"cannot_move_limb": 0.86}}
    )
    _, decision, _ = with_clauses._decide(text, model=object())
    assert decision.present == () and decision.possible == "cannot_move_limb"


def test_a_part_sure_of_an_emergency_or_borne_out_by_the_whole_message_escalates(with_clauses) -> None:
    # (wordings the rules do not know, so that only the learned readings decide)
    text = "so tired of all of this today, the left one just hangs there like a sack"
    with_clauses._learned = Readings(
        {text: {"cannot_move_limb": 0.1}, text.split(", ")[1]: {"cannot_move_limb": 0.95}}
    )
    assert with_clauses._decide(text, model=object())[1].present == ("cannot_move_limb",)
    text = "the little hole is making a mess of the sheets, can i still bathe"
    with_clauses._learned = Readings(
        {text: {"site_infection": 0.4}, text.split(", ")[0]: {"site_infection": 0.9}}
    )
    assert with_clauses._decide(text, model=object())[1].present == ("site_infection",)


def test_a_report_the_rules_mention_keeps_its_part_whatever_question_follows(with_clauses) -> None:
    # the rules read "clear" as a negation; the question drags the whole message's reading
    # down; the report itself is sure, so it escalates
    text = "the site is oozing clear liquid, can i still shower?"
    with_clauses._learned = Readings(
        {text: {"site_infection": 0.01}, "the site is oozing clear liquid": {"site_infection": 0.99}}
    )
    assert with_clauses._decide(text, model=object())[1].present == ("site_infection",)


def test_a_fever_word_answered_by_a_normal_reading_is_asked_about_not_one_before_it(
    component: RedFlagDetectorComponent,
) -> None:
    ranking = [{"name": "ask_warning_signs", "confidence": 0.6}]
    asked = parsed(component, "was scared it was a fever so i took it, 37.1, ok?", ranking)
    assert entities(asked, "red_flag") == [] and entities(asked, "possible_sign")[0]["value"] == "fever"
    reported = parsed(component, "it said 98.7 at lunch but now i'm burning up", ranking)
    assert [e["value"] for e in entities(reported, "red_flag")] == ["fever"]
    # the reading's own question asks about the word: asked, not escalated
    question = parsed(component, "is 99.1 a fever?", ranking)
    assert entities(question, "red_flag") == [] and entities(question, "possible_sign")[0]["value"] == "fever"
    # ...but a fever said after a question about the reading is a report
    later = parsed(component, "is 99.1 ok? because i have a fever and chills now", ranking)
    assert "fever" in [e["value"] for e in entities(later, "red_flag")]


@pytest.fixture()
def reading() -> RedFlagDetectorComponent:
    """The component with a learned detector whose readings a test sets."""
    return RedFlagDetectorComponent(RedFlagDetectorComponent.get_default_config(), RedFlagDetector())


def learned_parse(component: RedFlagDetectorComponent, text: str, ranking: List[Dict[str, Any]]) -> Message:
    message = Message(data={"text": text, "intent": ranking[0], "intent_ranking": ranking, "entities": []})
    component.process([message], model=object())
    return message


@pytest.mark.parametrize(
    "text",
    [
        "nope, no temperature and no shivering, feeling grand",
        "I don't have any chills, the procedure went fine",
    ],
)
def test_signs_plainly_denied_that_the_learned_detector_agrees_on_are_all_is_well(reading, text) -> None:
    reading._learned = Readings({})
    calm = [{"name": "report_well", "confidence": 0.9}]
    assert learned_parse(reading, text, calm).get("intent")["name"] == "report_well"
    # ...also when the classifier's first guess was "unwell"
    unwell = [{"name": "feeling_unwell", "confidence": 1.0}, {"name": "report_well", "confidence": 0.8}]
    message = learned_parse(reading, text, unwell)
    assert message.get("intent")["name"] == "report_well"
    assert entities(message, "possible_sign") == []


def test_a_denial_the_learned_detector_doubts_or_a_denial_after_the_sign_is_still_asked(reading) -> None:
    calm = [{"name": "report_well", "confidence": 0.9}]
    reading._learned = Readings({"no temperature and no shivering, feeling grand": {"chills": 0.6}})
    message = learned_parse(reading, "no temperature and no shivering, feeling grand", calm)
    assert message.get("intent")["name"] == "feeling_unwell"
    reading._learned = Readings({})
    # "like normal" after the sign is no plain denial (set M)
    message = learned_parse(reading, "back is fine but I can't hold my bladder like normal", calm)
    assert message.get("intent")["name"] in ("feeling_unwell", "report_red_flag")
    # a raised reading is never all is well
    message = learned_parse(reading, "no chills, temp 38.4 though", calm)
    assert message.get("intent")["name"] in ("feeling_unwell", "report_red_flag")
    # without a learned reading, only one detector has spoken: asked
    assert (
        parsed(reading, "no temperature and no shivering, feeling grand", calm).get("intent")["name"]
        == "feeling_unwell"
    )
