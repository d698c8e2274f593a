"""The detector on the issue's own examples and on the mechanisms behind them."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.red_flags.context import Status
from components.red_flags.detector import RedFlagDetector, spelled_number
from components.red_flags.lexicon import load_lexicon


@pytest.fixture(scope="module")
def detector() -> RedFlagDetector:
    return RedFlagDetector()


@pytest.mark.parametrize(
    ("text", "level", "symptom"),
    [
        ("i fanted", "emergency", "passed_out"),
        ("cant brethe", "emergency", "breathing"),
        ("my brother keeps fainting", "emergency", "passed_out"),
        ("what time is my follow-up? and my hand won't move since lunch", "emergency", "cannot_move_limb"),
        ("haven't had tingling until today, now my foot tingles", "urgent", "nerve_symptoms"),
        ("the chills are gone but my leg gave out", "urgent", "nerve_symptoms"),
        ("all good apart from my hand not moving", "emergency", "cannot_move_limb"),
        ("CANT MOVE MY ARM", "emergency", "cannot_move_limb"),
        ("temp is 38.4 C", "urgent", "fever"),
        ("thermometer says 101.3", "urgent", "fever"),
        ("i measured 100.9F", "urgent", "fever"),
        ("<b>fainted</b> in the hall", "emergency", "passed_out"),
        ("the numbness was gone, now it's back", "urgent", "nerve_symptoms"),
        ("not sure if this counts but i feel feverish", "urgent", "fever"),
        ("i can't stop shivering", "urgent", "chills"),
        ("my temp was 99 this morning, now i'm burning up", "urgent", "fever"),
        # a reading with a question after it is a reading ("is it" asks, it does not hide)
        ("is it normal to have a temp of 38.5 today", "urgent", "fever"),
        # a visit "back here" is no sign that came back, but a sign that did is
        ("the tingling came back this morning", "urgent", "nerve_symptoms"),
    ],
)
def test_reports_are_found_at_their_level(
    detector: RedFlagDetector, text: str, level: str, symptom: str
) -> None:
    finding = detector.detect(text)
    assert (finding.level, finding.present[0]) == (level, symptom)


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("temperature is normal, is a shower ok?", None),
        ("no fever or chills", Status.NEGATED),
        ("who do I call if chills start later?", Status.HYPOTHETICAL),
        ("will they numb the skin first", None),
        ("what's the number for the nurse line", None),
        ("i'm 38 and had it done on monday", None),
        ("is a fever one of the things to watch for? not that i have one", Status.HYPOTHETICAL),
        ("if there's an emergency at home do i ring 911 or come back here?", Status.HYPOTHETICAL),
        ("temp 99.1, is that a fever?", Status.HYPOTHETICAL),
        ("no improvement yet since yesterday, is that normal", Status.EXPECTED),
    ],
)
def test_calm_messages_raise_nothing(detector: RedFlagDetector, text: str, status: Status | None) -> None:
    finding = detector.detect(text)
    assert finding.level is None
    assert {m.status for m in finding.mentions} == ({status} if status else set())


def test_a_negated_list_stays_negated_but_a_comma_does_not_hide_a_new_symptom(
    detector: RedFlagDetector,
) -> None:
    assert detector.detect("no fever, chills or redness").present == ()
    assert detector.detect("no fever, chills tonight").present == ("chills",)


def test_mentions_point_at_the_patients_own_words(detector: RedFlagDetector) -> None:
    text = "Can I eat? Also I PASSED OUT earlier"
    mention = detector.detect(text).mentions[0]
    assert text[mention.start_char : mention.end_char] == mention.text == "PASSED OUT"


@pytest.mark.parametrize(
    "text", ["", "   ", "🙂🙏😬", "¿Puedo ducharme esta noche?", "x" * 50_000, "\u0000\u0001"]
)
def test_odd_input_is_handled(detector: RedFlagDetector, text: str) -> None:
    assert detector.detect(text).level is None


def test_the_lexicon_refuses_a_bare_yaml_no(tmp_path: Path) -> None:
    source = (Path(__file__).resolve().parents[2] / "data" / "red_flags.yml").read_text(encoding="utf-8")
    broken = tmp_path / "red_flags.yml"
    broken.write_text(source.replace("  FAINT:\n", "  FAINT:\n    - no\n", 1), encoding="utf-8")
    with pytest.raises(ValueError, match="not text"):
        load_lexicon(broken)


def test_every_symptom_pattern_names_known_concepts_and_every_level_has_a_handout_line() -> None:
    lexicon = load_lexicon()
    assert set(lexicon.level_intros) == {"emergency", "urgent", "watch"}
    assert {s.level for s in lexicon.symptoms.values()} == {"emergency", "urgent", "watch"}


def test_temperature_readings_and_whether_they_are_all_normal() -> None:
    from components.red_flags.detector import only_normal_readings, temperature_readings

    assert temperature_readings("37.2") == [(37.2, "c")]
    assert temperature_readings("99.1 F this morning") == [(99.1, "f")]
    assert only_normal_readings("temp 98.9, all good")
    assert not only_normal_readings("it was 99 and now 102")
    assert not only_normal_readings("no numbers here")
    assert not only_normal_readings("38C")


@pytest.mark.parametrize(
    ("text", "status"),
    [
        # an animal, a child or a workmate cannot be the patient
        ("our puppy collapsed after his walk, poor thing", Status.OTHER),
        ("a colleague of mine passed out in the break room", Status.OTHER),
        ("the baby has had a fever since tuesday", Status.OTHER),
        # sign words in another sense
        ("we were laughing so much at dinner I couldn't breathe", Status.OTHER),
        ("forecast says 39 degrees outside tomorrow, staying in", Status.OTHER),
        # a film, a show or a thing
        ("a character in the film fainted in the rain", Status.OTHER),
        ("my bank account passed out after the pharmacy bill", Status.OTHER),
        ("the neighbours' cat cannot move its back legs since the fall", Status.OTHER),
        # a fear, afterwards, of what did not happen
        ("I was worried I would faint on the table, turned out fine", Status.HYPOTHETICAL),
        # a dream, someone's conviction, a toy
        ("I dreamed my arm would not move, then woke up and it was fine", Status.HYPOTHETICAL),
        ("my wife is convinced I will faint at the sight of the needle", Status.HYPOTHETICAL),
        ("my grandson's teddy bear passed out in the toy box, he says", Status.OTHER),
        ("my flatmate has had a fever since the weekend", Status.OTHER),
        ("I keep imagining my legs won't move after it", Status.HYPOTHETICAL),
        # another time no phrase list can hold
        ("I blacked out once when I was 19, never again", Status.HISTORICAL),
        ("had a fever back in 2011 with the flu", Status.HISTORICAL),
        ("I passed out twenty years ago at a wedding", Status.HISTORICAL),
    ],
)
def test_someone_elses_a_figurative_or_a_long_past_sign_is_not_the_patients(
    detector: RedFlagDetector, text: str, status: Status
) -> None:
    finding = detector.detect(text)
    assert finding.present == ()
    assert status in {m.status for m in finding.mentions}


@pytest.mark.parametrize(
    ("text", "symptom"),
    [
        # the sentence comes back to the patient, or the relative may be the patient
        ("a colleague found me collapsed on the floor", "passed_out"),
        ("the cat woke me and I couldn't breathe", "breathing"),
        ("my granddaughter says grandpa fainted in the garden", "passed_out"),
        ("my dad collapsed after his back procedure", "passed_out"),
        # a time that is today, an age that is now
        ("I fainted when I was getting out of the car", "passed_out"),
        ("my wife aged 70 cannot move her right leg", "cannot_move_limb"),
        # a film before the patient's own sign, and capitals for emphasis, not a title
        ("we watched a movie and I passed out halfway through it", "passed_out"),
        ("I think I'm going to Pass Out", "passed_out"),
        ("MY LEG WONT MOVE AT ALL", "cannot_move_limb"),
        # a not-symptom phrase inside a longer sign phrase keeps the sign
        ("three weeks on and zero pain relief", "not_improving"),
    ],
)
def test_cues_of_someone_else_or_another_time_stop_where_the_patient_is_meant(
    detector: RedFlagDetector, text: str, symptom: str
) -> None:
    assert symptom in detector.detect(text).present


def test_a_year_counts_as_history_only_before_this_one(detector: RedFlagDetector) -> None:
    from datetime import date

    this_year = date.today().year
    assert detector.detect(f"I fainted in {this_year - 3}").present == ()
    assert detector.detect(f"I fainted in {this_year}").present == ("passed_out",)


@pytest.mark.parametrize(
    ("text", "present"),
    [
        # an answer to the question before it negates that question's sign
        ("numbness? nope. tingling? nah. all good", ()),
        ("the list says fainting, bad breathing and so on. none of that here", ()),
        # no question before it: an ordinary "no" or "nope" hides nothing there
        ("I blacked out. Nope, I'm not joking.", ("passed_out",)),
        ("shivering since lunch, no other symptoms", ("chills",)),
        # "no idea" is no negation
        ("temperature? no idea, I feel hot and feverish", ("fever",)),
    ],
)
def test_an_answer_to_a_question_before_it_negates_only_that_question(
    detector: RedFlagDetector, text: str, present: tuple
) -> None:
    assert detector.detect(text).present == present


@pytest.mark.parametrize(
    "text",
    [
        # a title or a name, capitalised after a word that introduces one
        "we saw Breathless at the cinema last night, great film",
        "my son supports a team called the Fever, big game tonight",
        # sign words in a saying
        "that last episode was giving me the chills, so good",
        "the nurses had me out the door in no time, lovely people",
        "the letter says my follow-up is with Dr. Faint next month",
        "my uncle was a paramedic for thirty years, he'll keep an eye on me",
        # words in quotation marks are someone's words
        "the grandkids 'fainted' with delight when they saw the cake",
    ],
)
def test_a_title_or_a_saying_is_no_sign(detector: RedFlagDetector, text: str) -> None:
    assert detector.detect(text).present == ()


def test_numb_skin_where_the_needle_went_in_is_the_numbing_unless_a_limb_is_named(
    detector: RedFlagDetector,
) -> None:
    # the cue covers its whole sentence, past "still", which ends other scopes
    site = detector.detect("the skin by the needle spot is still numb a couple of hours later")
    assert site.present == ()
    assert Status.EXPECTED in {m.status for m in site.mentions}
    # a limb or body region in the sentence stops it
    assert "nerve_symptoms" in detector.detect("numb at the injection site and all down my right leg").present
    assert "nerve_symptoms" in detector.detect("the skin of my left buttock has gone numb").present
    # and it hides no other sign
    assert "bladder_bowel" in detector.detect("skin is numb where they injected and I wet myself").present


def test_the_early_days_cover_their_sentence_but_a_month_does_not(detector: RedFlagDetector) -> None:
    early = detector.detect("nothing has changed with my back yet, but it's only day 2")
    assert early.present == ()
    assert Status.EXPECTED in {m.status for m in early.mentions}
    assert "not_improving" in detector.detect("my pain is no better and it's been a month now").present
    assert "not_improving" in detector.detect("no change at all after a month").present
    # a longer time in the same sentence wins over the early days it mentions
    said = "the nurse said give it a few days, but three weeks on there is no change at all"
    assert "not_improving" in detector.detect(said).present


def test_a_bare_number_right_after_a_sentence_about_temperature_is_a_reading(
    detector: RedFlagDetector,
) -> None:
    assert "fever" in detector.detect("what is a normal temperature? I'm sitting at 38.7").present
    # ...but not a number that measures something else
    assert detector.detect("my temperature is fine. I turned 39 years old today").present == ()


def test_a_word_that_stems_to_a_negation_is_no_negation(detector: RedFlagDetector) -> None:
    from components.red_flags.normalise import stem

    assert stem("note") == "note" and stem("noted") == "noted" and stem("needles") == "needl"
    noted = detector.detect("I noted a lot of redness around the puncture site today")
    assert "site_infection" in noted.present


def test_a_site_that_has_gone_red_is_a_change_not_a_redness_gone(detector: RedFlagDetector) -> None:
    assert "site_infection" in detector.detect("the needle site has gone red and hot").present


def test_a_bare_confirmation_after_a_question_reports_the_sign(detector: RedFlagDetector) -> None:
    assert "passed_out" in detector.detect("does anyone faint after this? I did, an hour ago").present
    assert "bladder_bowel" in detector.detect(
        "can you lose control of your bladder after? it happened to me this morning"
    ).present
    assert "passed_out" in detector.detect("my friend fainted after her rfa. i did too, an hour ago").present
    # a confirmation that goes on to say something else confirms nothing
    assert detector.detect("is it common to pass out after this? I did read the leaflet").present == ()
    assert detector.detect("what if i faint at home? i have a question too").present == ()
    # and a confirmation before the question is no confirmation of it
    assert detector.detect("I did. is it common to faint after the ablation?").present == ()


def test_broken_grammar_no_can_is_an_inability(detector: RedFlagDetector) -> None:
    assert "breathing" in detector.detect("mi esposo no can breathe, very hard").present
    assert "cannot_move_limb" in detector.detect("mother no can move leg at all").present


def test_a_sign_from_before_the_procedure_counts_again_when_it_is_worse(detector: RedFlagDetector) -> None:
    worse = detector.detect("the tingling in my foot i had before the procedure is much worse now")
    assert "nerve_symptoms" in worse.present
    same = detector.detect("the tingling in my foot i had before the procedure is about the same")
    assert same.present == () and same.mentions[0].status == Status.HISTORICAL


def test_early_days_cover_the_whole_message_unless_it_gives_a_longer_time(detector: RedFlagDetector) -> None:
    assert detector.detect("no pain relief yet. it's only been 1 day. worried it didnt work").present == ()
    longer = detector.detect("no relief yet. day 2 of the flu too, and it's been 3 weeks")
    assert "not_improving" in longer.present


def test_sleep_and_household_senses_of_sign_words(detector: RedFlagDetector) -> None:
    assert detector.detect("so tired i passed out in bed at 8pm lol, slept 11 hours").present == ()
    assert "passed_out" in detector.detect("I passed out after a nap and woke up on the floor").present
    assert detector.detect("the kitchen sink drainage is clogged again").present == ()
    assert "site_infection" in detector.detect("drainage from the site, and the garden is flooded").present


def test_idioms_and_fears_are_no_signs(detector: RedFlagDetector) -> None:
    assert detector.detect("cant wait to move my arms freely again").present == ()
    assert detector.detect("its fever pitch at my house with the kids").present == ()
    assert detector.detect("I thought I might faint before it, but I didnt").present == ()
    assert "cannot_move_limb" in detector.detect("i cant wait, my leg wont move at all").present


def test_a_hard_time_breathing_is_severe_and_better_every_day_is_no_worsening(
    detector: RedFlagDetector,
) -> None:
    assert "breathing" in detector.detect("having a terrible time breathing, is it the dye?").present
    assert "not_improving" in detector.detect("the relief never came. it's been 2 months").present
    assert detector.detect("pain is a little better every day").present == ()
    assert "site_infection" in detector.detect("the swelling gets bigger every day").present


def test_pain_scores_that_rise_are_worse_pain(detector: RedFlagDetector) -> None:
    # numbers instead of "worse", in either order; days, pills and falling scores are not
    assert "site_infection" in detector.detect("the needle spot hurt like a 2 monday, today it's a 7").present
    assert "site_infection" in detector.detect("back pain is at a 9 now, it was a 4 this morning").present
    assert detector.detect("the ache was an 8 before the rfa and now it's a 2").present == ()
    assert detector.detect("took 2 tablets at 6 and the pain is about a 3").present == ()
    assert detector.detect("rated it a 3 on day 1 and a 7 for my golf swing").present == ()


def test_a_reading_asked_about_is_still_a_reading_and_night_wetting_is_incontinence(
    detector: RedFlagDetector,
) -> None:
    assert "fever" in detector.detect("temp 38.7 this evening, is that normal this soon after?").present
    assert detector.detect("temp's normal today, is that normal to feel this tired?").present == ()
    assert "bladder_bowel" in detector.detect("she was wet in the night again, that never happens").present
    assert detector.detect("can the bandage get wet in the shower").present == ()


def test_chills_from_a_film_or_the_air_and_someone_who_is_not_the_patient(detector: RedFlagDetector) -> None:
    assert detector.detect("watched a scary movie and got the chills, site is fine").present == ()
    assert detector.detect("my husband, not the patient, has a temp of 101.5 with flu").present == ()
    # the sentence comes back to the patient: her sign is read as usual
    assert "passed_out" in detector.detect(
        "my wife is not the one who had the procedure, I did, and I just fainted"
    ).present
    assert "chills" in detector.detect("got the chills and shaking since lunch").present


def test_someone_elses_sign_goes_on_past_a_time_word_but_not_back_to_the_patient(
    detector: RedFlagDetector,
) -> None:
    assert detector.detect("the grandkids' puppy just collapsed on the rug").present == ()
    assert detector.detect("my coworker still can't move her arm after her fall").present == ()
    assert "passed_out" in detector.detect("a coworker just found me passed out in the break room").present
    assert "passed_out" in detector.detect("my husband just fainted in the hallway").present
    assert detector.detect("almost passed out at the size of the bill lol").present == ()


def test_a_sign_always_had_and_unchanged_is_history_unless_worse_or_new(detector: RedFlagDetector) -> None:
    assert detector.detect("fingers tingle from my neuropathy, always have").present == ()
    # (unchanged pain or weakness may still be "not getting better", which is its own sign)
    assert "nerve_symptoms" not in detector.detect(
        "that knee has been weak for ages, same as it has always been"
    ).present
    assert "nerve_symptoms" in detector.detect(
        "the tingling from my diabetes is much worse since the rfa"
    ).present
    assert "nerve_symptoms" in detector.detect(
        "my feet are numb same as always. now my hands went numb this morning too"
    ).present


def test_no_change_in_a_lifelong_sign_is_no_word_on_the_treated_pain(detector: RedFlagDetector) -> None:
    # the sign always had, said unchanged: neither it nor "no change" is a warning
    assert detector.detect("the usual pins and needles in my toes, no different to always").present == ()
    assert detector.detect("numb patch on my shin from carpal tunnel too, hasn't changed").present == ()
    # unchanged *pain* still is "not getting better"; worse is new or worse symptoms
    assert "not_improving" in detector.detect("my back pain is the same as always, 4 weeks on").present
    assert "nerve_symptoms" in detector.detect("my usual tingling is much worse since yesterday").present


def test_pain_back_months_after_relief_is_expected_but_no_relief_is_not(detector: RedFlagDetector) -> None:
    assert detector.detect("the ache came back after about ten months, can I book another one").present == ()
    assert detector.detect("after 8 months my back pain came back, is that normal").present == ()
    assert "not_improving" in detector.detect("still no relief after 4 months").present
    assert "not_improving" in detector.detect("the pain came back after 2 days").present


def test_a_denial_that_takes_back_a_sign_but_not_one_about_now(detector: RedFlagDetector) -> None:
    assert detector.detect("went a bit faint at the sight of it but never actually fainted").present == ()
    # a plain later denial is about now: the faint this morning still counts
    assert "passed_out" in detector.detect("I fainted at breakfast but I haven't fainted since").present


def test_handing_things_out_sleep_and_a_sign_from_before_the_procedure(detector: RedFlagDetector) -> None:
    assert detector.detect("we'll pass out cards to the recovery staff tomorrow").present == ()
    assert detector.detect("grandpa is passed out in his armchair, snoring like a train").present == ()
    assert "passed_out" in detector.detect("he passed out and he's snoring, we can't wake him").present
    assert detector.detect("I had a temperature the week before my procedure, gone now").present == ()
    assert "fever" in detector.detect("had a fever before the procedure and I still have it").present
    # new since, or compared with, the time before: a change, not history
    assert "nerve_symptoms" in detector.detect("tingling in my calf that I never had before the rfa").present
    assert "nerve_symptoms" in detector.detect("my hands are weaker than before the procedure").present
    # unchanged pain a month on is "not getting better", whatever the "before"
    same = detector.detect("my back pain is the same as before my procedure, 5 weeks on")
    assert "not_improving" in same.present


def test_a_question_in_general_or_another_known_condition_is_no_report(detector: RedFlagDetector) -> None:
    assert detector.detect("can damp weather make my neck pain worse?").present == ()
    assert detector.detect("could the rfa make my legs weak in the long run?").present == ()
    # the question's sentence only: a report after it is read as usual
    after = detector.detect("can sitting make it worse? my arm is numb since lunch")
    assert "nerve_symptoms" in after.present
    assert detector.detect("my hip aches from my arthritis, is rfa an option there").present == ()
    assert detector.detect("my shoulder hurts too, could they do rfa on my knee as well").present == ()
    worse = detector.detect("my arthritis knee is much worse and numb since the rfa")
    assert "nerve_symptoms" in worse.present


def test_what_a_sign_is_like_an_idiom_a_power_cut_and_a_doubt_denied(detector: RedFlagDetector) -> None:
    assert detector.detect("all fine here, but what would weakness in the legs feel like?").present == ()
    assert detector.detect("is this what infected skin looks like in the pictures online?").present == ()
    assert detector.detect("I don't think I have a fever, it's 98 point something").present == ()
    outage = detector.detect("the lights went out and everything went black for an hour, power outage")
    assert outage.present == ()
    down = detector.detect("the power went out and she went down, she's not waking up")
    assert "passed_out" in down.present
    assert detector.detect("my daughter won't let me lift a finger this week").present == ()
    assert detector.detect("is passing out something we should ring 911 for?").present == ()
    # a report in the question's own sentence is the question's; a report after it is not
    assert "passed_out" in detector.detect("should we ring 911 for fainting? she just fainted").present


def test_a_yes_no_question_about_normal_denies_nothing_but_normal_now_does(detector: RedFlagDetector) -> None:
    assert "nerve_symptoms" in detector.detect("is tingling down my calf normal?").present
    assert "site_infection" in detector.detect("is drainage from the puncture normal").present
    assert detector.detect("the tingling in my calf is normal now").present == ()


def test_the_everyday_and_settled_senses_found_in_set_u(detector: RedFlagDetector) -> None:
    # "cause" is "because" unless it is the verb of a question
    assert "not_improving" in detector.detect("cause it's week 4 and still no better at all").present
    assert detector.detect("can this cause weakness in the legs?").present == ()
    # a sign over since, ink from the skin marker, a figure of speech, feeling come back
    assert detector.detect("had a temp of 38.5 with flu in may, totally fine ever since").present == ()
    assert detector.detect("the purple marker on my back is still there, will it wash off").present == ()
    assert detector.detect("my son will pass out from excitement if the team wins").present == ()
    assert detector.detect("toes were numb after the numbing, feeling came back by teatime").present == ()
    assert "nerve_symptoms" in detector.detect("feeling came back then my foot went numb again").present
    # but the same cues do not hide a current sign in a sentence of its own
    assert "site_infection" in detector.detect("where they did the rfa is red and oozing").present


def test_autocorrected_and_misspelled_signs(detector: RedFlagDetector) -> None:
    assert "passed_out" in detector.detect("i pasta out on the stairs").present
    assert "breathing" in detector.detect("help i can barley breath").present
    assert "fever" in detector.detect("pyrexic, 38.9 orally").present


def test_a_cue_group_may_share_another_groups_phrases(tmp_path: Path) -> None:
    lexicon = load_lexicon()
    history = [c for c in lexicon.cues if c.category == "HISTORICAL"]
    chronic = {c.phrase for c in history if c.symptoms == ("nerve_symptoms",)}
    unchanged = {c.phrase for c in history if c.symptoms == ("not_improving",)}
    assert {"arthritis", "for years now", "same as always"} <= chronic & unchanged
    source = (Path(__file__).resolve().parents[2] / "data" / "red_flags.yml").read_text(encoding="utf-8")
    broken = tmp_path / "red_flags.yml"
    broken.write_text(source.replace("phrases_of: CHRONIC", "phrases_of: CHRONICLE", 1), encoding="utf-8")
    with pytest.raises(ValueError, match="phrases_of"):
        load_lexicon(broken)


def test_the_classes_found_in_set_v(detector: RedFlagDetector) -> None:
    # long over, before the operation, a figure of speech, blackout blinds, joking
    assert detector.detect("I passed out once as a student, years back, never since").present == ()
    assert detector.detect("I was breathless before the operation from the stairs").present == ()
    assert detector.detect("the parking fee almost made me faint, ha").present == ()
    assert detector.detect("put up blackout curtains so I can rest in the day").present == ()
    assert detector.detect("my fingers are numb! from the ice lolly, only joking, all good").present == ()
    assert "passed_out" in detector.detect("no joke, I fainted in the hall an hour ago").present
    # a limb asleep from sitting on it, unless it is still numb
    assert detector.detect("my calf went to sleep, I sat on it through a whole film").present == ()
    assert "nerve_symptoms" in detector.detect("my foot fell asleep and it's still numb hours later").present
    # witnesses of the patient's own fainting, and a comparison with the day itself
    witnessed = detector.detect("I went down at the bus stop, they said I was out for a bit")
    assert "passed_out" in witnessed.present
    assert "site_infection" in detector.detect("the spot is much puffier than it was on the day").present
    # "all under control", one's own smell, fluids through a line, "puff up": no signs
    assert detector.detect("peeing a lot from all the water but it's all under control").present == ()
    assert detector.detect("I really stink after two days in bed, can I wash").present == ()
    assert detector.detect("do they give fluids through a line during it?").present == ()
    # accidents one could not control are bowel or bladder accidents
    assert "bladder_bowel" in detector.detect("two accidents this morning that I could not control").present
    # "puffed up" is a swelling, not breathlessness; "puffing and panting" is
    puffed = detector.detect("the site has puffed right up and it's hot")
    assert "site_infection" in puffed.present and "breathing" not in puffed.present
    assert "breathing" in detector.detect("puffing and panting after two steps").present


@pytest.mark.parametrize(
    ("words", "value"),
    [
        ("a hundred and three point one", 103.1),
        ("thirty nine point two", 39.2),
        ("one oh two", 102.0),
        ("ninety seven", 97.0),
        ("forty-one", 41.0),
    ],
)
def test_a_temperature_said_in_words_reads_as_its_digits(words: str, value: float) -> None:
    tokens = words.replace("-", " - ").split()
    assert spelled_number(tokens, 0) == (value, len(tokens))


def test_number_words_that_are_no_number_are_not_read() -> None:
    assert spelled_number("and then some".split(), 0) is None
    assert spelled_number("point five".split(), 0) is None
    assert spelled_number("one one hundred".split(), 0) is None


def test_a_misspelling_as_near_a_sign_word_as_a_cue_word_reads_as_the_sign(detector) -> None:
    # "blatter" is two edits from "bladder" and from "battery" (a household thing, a cue)
    assert detector.detect("i lost control of my blatter twice today").present == ("bladder_bowel",)
