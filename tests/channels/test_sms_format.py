"""SMS bodies: plain text, at most 1,600 characters, split where a sentence ends."""

from __future__ import annotations

import re

from channels.sms_format import MAX_SMS_CHARS, plain_text, split_sms, with_choices
from tests.conftest import PROJECT

HOME = (PROJECT / "data" / "handouts" / "what-to-expect-at-home.txt").read_text(encoding="utf-8")


def _words(text: str) -> list[str]:
    return text.split()


def test_a_short_reply_is_one_message_unchanged() -> None:
    assert split_sms("“You may shower.”\n— Title") == ["“You may shower.”\n— Title"]


def test_a_whole_handout_is_split_at_sentence_or_line_ends_and_nothing_is_lost() -> None:
    parts = split_sms(HOME)
    assert len(parts) > 1
    assert all(0 < len(p) <= MAX_SMS_CHARS for p in parts)
    assert _words(" ".join(parts)) == _words(plain_text(HOME)), "every word, in order"
    for part in parts[:-1]:
        assert re.search(r"[.!?:”)]$", part) or part.endswith(tuple("abcdefghijklmnopqrstuvwxyz")), part
        next_start = parts[parts.index(part) + 1][0]
        assert not next_start.islower() or part.endswith((".", "!", "?", ":")), "a cut inside a sentence"


def test_sentences_are_kept_whole_when_they_fit() -> None:
    sentence = "This sentence is about sixty characters long, give or take. "
    text = sentence * 60  # about 3,600 characters
    parts = split_sms(text)
    assert len(parts) == 3
    assert all(p.endswith("take.") and len(p) <= MAX_SMS_CHARS for p in parts)


def test_a_sentence_longer_than_an_sms_is_cut_between_words() -> None:
    text = " ".join(["word"] * 1000)  # 4,999 characters, no sentence end
    parts = split_sms(text)
    assert all(len(p) <= MAX_SMS_CHARS for p in parts)
    assert all(w == "word" for p in parts for w in p.split())
    assert sum(len(p.split()) for p in parts) == 1000


def test_a_limit_is_honoured_exactly() -> None:
    parts = split_sms("One. Two. Three. Four.", limit=10)
    assert parts == ["One. Two.", "Three.", "Four."]


def test_markdown_becomes_plain_text() -> None:
    expected = "Call the nurse line (tel:555) now, _please_"
    assert plain_text("**Call** the [nurse line](tel:555) now, _please_") == expected
    assert plain_text("## Heading\n`code`") == "Heading\ncode"


def test_buttons_become_words_to_type() -> None:
    assert with_choices("Is this happening now?", ["Yes", "No"]) == "Is this happening now?\nReply Yes or No."
    assert with_choices("Pick one.", ["A", "B", "C"]) == "Pick one.\nReply A, B or C."
    assert with_choices("Nothing to pick.", []) == "Nothing to pick."


def test_empty_text_sends_nothing() -> None:
    assert split_sms("") == [] and split_sms("  \n ") == []
