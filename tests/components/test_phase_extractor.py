"""Finding plain before/after cues, and staying silent when unsure."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from components.phase_extractor import PhaseExtractor, find_phase


@pytest.mark.parametrize(
    "text, phase",
    [
        ("can i eat before my procedure", "before"),
        ("should I stop eliquis b4 the ablation?", "before"),
        ("my procedure is tomorrow, can i have coffee", "before"),
        ("i haven't had it done yet", "before"),
        ("had it done yesterday can i shower", "after"),
        ("can i take advil after the RFA", "after"),
        ("is it ok to drive after?", "after"),
        ("just got home, what can I eat", "after"),
    ],
)
def test_plain_cues(text: str, phase: str) -> None:
    assert find_phase(text)["value"] == phase


@pytest.mark.parametrize(
    "text",
    [
        "I never had this pain before, can I take tylenol",
        "what should i do before and after the procedure",
        "can i eat something after lunch",
        "can i shower",
        # a comparison with the time before says nothing of which side of it we are on
        "my legs feel weaker than before the procedure",
        "the ache is the same as before the rfa",
        "ok got it thanks",
        "",
    ],
)
def test_no_or_mixed_cue_sets_nothing(text: str) -> None:
    assert find_phase(text) is None


def test_component_adds_an_entity_that_points_at_the_cue() -> None:
    message = Message({"text": "can i have coffee before my procedure?"})
    PhaseExtractor({}).process([message])
    (entity,) = message.get("entities")
    assert entity["entity"] == "procedure_phase" and entity["value"] == "before"
    assert message.get("text")[entity["start"] : entity["end"]] == "before my procedure"


def test_starting_a_medicine_again_is_after_and_with_a_before_names_both() -> None:
    assert find_phase("when can he go back on his warfarin")["value"] == "after"
    # broken grammar: "I stop it before" is no plain before; with the restart, both are named
    assert find_phase("when I can begin again my pills? I stop them before the procedure") is None
