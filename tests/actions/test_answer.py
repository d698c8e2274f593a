"""The answer action: quotes per topic, before/after timing, several questions at once."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAcknowledgePhase, ActionAnswerQuestion
from tests.actions.helpers import run_action, texts, tracker_for

EAT_BEFORE = "Follow any directions you are given for not eating or drinking before treatment."
EAT_AFTER = "You can eat your normal diet."
SHOWER = "You may shower if your doctor okays it."
WORK = "Ask him or her when it’s OK for you to go back to work."


def answer(intent: str, text: str = "q", **kwargs) -> tuple[list[str], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = run_action(ActionAnswerQuestion(), dispatcher, tracker_for(intent, text, **kwargs))
    return texts(dispatcher), events


def test_a_timing_question_with_no_known_phase_gets_both_answers_in_one_message() -> None:
    replies, _ = answer("ask_diet")
    assert len(replies) == 1
    reply = replies[0]
    assert reply.index("Before your procedure:") < reply.index(EAT_BEFORE)
    assert reply.index("After your procedure:") < reply.index(EAT_AFTER)
    assert reply.index(EAT_BEFORE) < reply.index("After your procedure:")


def test_a_known_phase_gives_only_that_answer() -> None:
    (after,), _ = answer("ask_diet", slots={"procedure_phase": "after"})
    assert EAT_AFTER in after and EAT_BEFORE not in after
    (before,), _ = answer("ask_diet", slots={"procedure_phase": "before"})
    assert EAT_BEFORE in before and EAT_AFTER not in before


def test_a_second_question_in_the_message_is_answered_too() -> None:
    extra = [{"entity": "question_topic", "value": "ask_return_to_work"}]
    replies, events = answer("ask_bathing", "shower ok and when back to work", entities=extra)
    assert len(replies) == 2
    assert SHOWER in replies[0] and WORK in replies[1]
    assert events[0]["value"] == ["ask_bathing", "ask_return_to_work"]


def test_an_unknown_extra_topic_is_ignored() -> None:
    extra = [{"entity": "question_topic", "value": "ask_lottery_numbers"}]
    replies, _ = answer("ask_bathing", entities=extra)
    assert len(replies) == 1


def test_out_of_scope_gets_an_honest_reply_with_the_care_team_and_no_topic_quote() -> None:
    (reply,), events = answer("out_of_scope", "how much does this cost")
    assert "can't answer" in reply
    assert "555-0100" in reply  # clinic.yml's care team number
    assert SHOWER not in reply and EAT_AFTER not in reply
    assert events[0]["value"] is None


def test_out_of_scope_with_a_handout_question_answers_that_question_and_says_what_it_left() -> None:
    extra = [{"entity": "question_topic", "value": "ask_bathing"}]
    replies, _ = answer("out_of_scope", "does insurance pay? can i shower", entities=extra)
    assert SHOWER in replies[0]
    assert "couldn't answer every part" in replies[1]


def acknowledge(phase: str, last_topics: list[str]) -> list[str]:
    dispatcher = CollectingDispatcher()
    tracker = tracker_for("inform_after", "x", slots={"procedure_phase": phase, "last_topics": last_topics})
    run_action(ActionAcknowledgePhase(), dispatcher, tracker)
    return texts(dispatcher)


def test_saying_the_phase_re_answers_the_last_timing_question_for_that_phase() -> None:
    replies = acknowledge("after", ["ask_diet"])
    assert any(EAT_AFTER in r for r in replies)
    assert not any(EAT_BEFORE in r for r in replies)


def test_saying_the_phase_after_a_question_without_timing_just_acknowledges() -> None:
    replies = acknowledge("before", ["ask_bathing"])
    assert replies == ["Thanks. I'll answer for before your procedure from now on."]


def test_saying_the_phase_with_a_question_answers_it_for_that_phase() -> None:
    dispatcher = CollectingDispatcher()
    tracker = tracker_for(
        "inform_after",
        "x",
        slots={"procedure_phase": "after"},
        entities=[{"entity": "question_topic", "value": "ask_diet"}],
    )
    run_action(ActionAcknowledgePhase(), dispatcher, tracker)
    replies = texts(dispatcher)
    assert replies[0] == "Thanks. I'll answer for after your procedure from now on."
    assert EAT_AFTER in replies[1] and EAT_BEFORE not in replies[1]


def test_a_weak_topic_match_is_given_as_the_nearest_with_the_care_team() -> None:
    fit = [{"entity": "answer_fit", "value": "nearest"}]
    (reply,), _ = answer("ask_bathing", "is the sauna ok", entities=fit)
    assert reply.startswith("The handouts don't say exactly that")
    assert SHOWER in reply
    assert "555-0100" in reply  # the care team's number, to ask what the handouts don't say


def test_a_sure_topic_match_is_answered_without_the_caveat() -> None:
    (reply,), _ = answer("ask_bathing", "can i shower")
    assert "don't say exactly" not in reply and SHOWER in reply


def test_the_caveat_belongs_to_the_main_topic_not_to_a_confident_extra_question() -> None:
    entities = [
        {"entity": "answer_fit", "value": "nearest"},
        {"entity": "question_topic", "value": "ask_return_to_work"},
    ]
    first, second = answer("ask_bathing", "sauna ok? and when back to work", entities=entities)[0]
    assert first.startswith("The handouts don't say exactly") and "don't say exactly" not in second


def test_a_weak_match_of_a_topic_that_ends_with_the_numbers_gives_them_once() -> None:
    fit = [{"entity": "answer_fit", "value": "nearest"}]
    (reply,), _ = answer("ask_warning_signs", "when's the 811 line for", entities=fit)
    assert reply.startswith("The handouts don't say exactly that")
    assert reply.count("555-0100") == 1
    assert "811 in most provinces and territories" in reply
