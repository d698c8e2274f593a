"""Splitting a message into the questions it asks."""

from __future__ import annotations

import pytest

from components.segments import asks, split_questions


@pytest.mark.parametrize(
    "text, expected",
    [
        ("is a shower ok 2nite", ["is a shower ok 2nite"]),
        ("can i shower tonight and when do i go back to work?",
         ["can i shower tonight", "when do i go back to work?"]),
        ("Can I eat before? Also how long will I be there",
         ["Can I eat before?", "how long will I be there"]),
        ("is it normal to be sore and swollen", ["is it normal to be sore and swollen"]),
        ("my temp is 100.4. is that ok", ["my temp is 100.4. is that ok"]),
        ("hi. what does the dye do?", ["hi. what does the dye do?"]),
    ],
)
def test_split(text: str, expected: list[str]) -> None:
    assert [s.text for s in split_questions(text)] == expected


def test_offsets_point_into_the_original_text() -> None:
    text = "can i eat after?\n\nand when can i drive"
    for segment in split_questions(text):
        assert text[segment.start : segment.end] == segment.text


@pytest.mark.parametrize("text", ["", "   ", "🙂🙂", "x" * 10_000])
def test_odd_input_never_fails(text: str) -> None:
    assert len(split_questions(text)) <= 1


def test_a_question_may_open_with_a_filler_word() -> None:
    assert asks("like where do i go") and asks("ok what now") and asks("i mean how long")
    # but "like" inside a sentence is a verb or a comparison, not the opening of a question
    assert not asks("i like what they did") and not asks("its like when you sleep")
