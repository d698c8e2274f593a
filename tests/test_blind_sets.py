"""Regression gates on the blind sets (tests/blind/), through the whole assistant.

These are REGRESSION gates, not measures of generalisation: each set was run once blind
(docs/blind_runs/, reported in docs/red_flags.md and docs/nlu.md) and then learned from,
so a pass here says only that nothing got worse. A new blind set is the only measure.
The gates sit at or just below the figures of the run after learning from them (every
emergency of eighteen of the twenty sets is caught, and must stay so), docs/red_flags.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
import yaml

from devtools.blind_eval import QUESTIONS, Client, check_questions, load_set, run_all, summarise
from tests.conftest import PROJECT, Servers

pytestmark = pytest.mark.e2e

SETS = sorted((PROJECT / "tests" / "blind").glob("set_*.yml"))
# Conversations at once, spread over two Rasa replicas (one per core) sharing the action
# server: the waits overlap and both cores work, which keeps the sets inside make test's
# time; the verdicts do not depend on it (each conversation stays on one replica).
WORKERS = 4
GATES = {
    # set: (emergency, urgent, false-alarm rate at most, topic accuracy, out-of-scope honest),
    # each at or just below the run after the third session on issue 10 (docs/red_flags.md)
    "set_a": (1.0, 0.97, 0.03, 0.92, 0.85),
    "set_b": (0.98, 0.95, 0.06, 0.96, 0.82),
    # first run 2026-11-27 (docs/blind_runs/third/), then regression sets
    "set_c": (1.0, 0.97, 0.10, 0.93, 0.75),
    "set_d": (1.0, 0.93, 0.12, 0.94, 0.85),
    # first run 2026-11-27 at the end of the session (docs/blind_runs/fifth/)
    "set_e": (0.96, 0.95, 0.06, 0.93, 0.82),
    # first runs 2026-11-27: F (sixth/), G-J (seventh/ to tenth/, the third session)
    "set_f": (1.0, 0.98, 0.04, 0.95, 0.90),
    "set_g": (1.0, 0.98, 0.04, 0.95, 0.82),
    "set_h": (1.0, 0.97, 0.03, 0.93, 0.84),
    "set_i": (1.0, 0.97, 0.09, 0.93, 0.82),
    "set_j": (1.0, 0.95, 0.04, 0.92, 0.75),
    # first runs 2026-11-27, the fourth session (docs/blind_runs/eleventh/, twelfth/)
    "set_k": (1.0, 0.98, 0.02, 0.96, 0.90),
    "set_l": (1.0, 0.98, 0.06, 0.96, 0.85),
    # first run at the session's final code (docs/blind_runs/thirteenth/)
    "set_m": (1.0, 0.96, 0.05, 0.96, 0.74),
    # first runs 2026-11-27, the fifth session (docs/blind_runs/fourteenth/, fifteenth/);
    # gates at the run after learning from them, which is a regression figure, not a measure
    "set_n": (1.0, 0.99, 0.08, 0.93, 0.85),
    "set_o": (1.0, 0.97, 0.11, 0.92, 0.82),
    # first run 2026-11-27 at the session's final code (docs/blind_runs/sixteenth/)
    "set_p": (1.0, 0.98, 0.04, 0.91, 0.86),
    # first run 2026-11-27, the sixth session (docs/blind_runs/seventeenth/); gates at the
    # run after learning from it
    "set_q": (1.0, 0.99, 0.04, 0.97, 0.93),
    # first run 2026-11-27 at the sixth session's final code (docs/blind_runs/eighteenth/)
    "set_r": (1.0, 0.99, 0.03, 0.95, 0.88),
    # first run 2026-11-27, the seventh session (docs/blind_runs/nineteenth/); gates at the
    # run after learning from it
    "set_s": (1.0, 0.99, 0.02, 0.97, 0.95),
    # first run 2026-11-27 at 6d133ae, after learning from S (docs/blind_runs/twentieth/)
    "set_t": (1.0, 0.99, 0.03, 0.94, 0.89),
    # first runs 2026-11-28, the eighth session: U at cddd997 (docs/blind_runs/twentyfirst/),
    # V at 2359879 after learning from U (twentysecond/); gates at the runs after learning
    "set_u": (1.0, 0.98, 0.02, 0.97, 0.92),
    "set_v": (1.0, 0.97, 0.06, 0.94, 0.89),
    # first runs 2026-11-28, the ninth session, both at 416b220 (docs/blind_runs/twentythird/
    # for X, twentyfourth/ for W); gates at the runs after learning from them. X's one
    # emergency asked about, not escalated, is a flatmate who keeled over: a flatmate reads
    # as someone else (set M's roommate with a fever was), so the patient is asked first.
    "set_w": (1.0, 0.99, 0.02, 0.97, 0.89),
    "set_x": (0.98, 0.99, 0.02, 0.96, 0.95),
}


@pytest.fixture(scope="module")
def client(servers: Servers) -> Iterator[Client]:
    """Both the shared Rasa server and a second replica, with a tracker store of its own."""
    servers.start_rasa("blind", tracker_store_url=f"sqlite:///{servers.workdir / 'blind-trackers.db'}")
    try:
        yield Client(
            [f"http://127.0.0.1:{servers.rasa_port}", f"http://127.0.0.1:{servers.replica_ports['blind']}"],
            servers.env["ESCALATION_DB_URL"],
        )
    finally:
        servers.stop("blind")


@pytest.mark.parametrize("path", SETS, ids=[p.stem for p in SETS])
def test_blind_set_does_not_regress(path: Path, client: Client, capsys: pytest.CaptureFixture) -> None:
    QUESTIONS.update(check_questions())
    outcomes = load_set(path)
    run_all(client, outcomes, workers=WORKERS)
    figures = summarise(outcomes)
    with capsys.disabled():
        print(f"\nBlind set {path.name} (regression): {figures}")
    emergency, urgent, alarms, topics, honest = GATES[path.stem]
    assert figures["recall"]["emergency"]["rate"] >= emergency
    assert figures["recall"]["urgent"]["rate"] >= urgent
    assert figures["bad_follow_ups"] == 0
    assert figures["false_alarms"]["rate"] <= alarms
    assert figures["topic_accuracy"]["rate"] >= topics
    assert figures["out_of_scope_honest"]["rate"] >= honest


def test_each_set_is_as_large_as_the_issue_asks() -> None:
    for path in SETS:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        levels = [item["level"] for item in data["red_flags"]]
        assert len(levels) >= 150 and levels.count("emergency") >= 50, path.name
        assert len(data["calm"]) >= 100 and len(data["topics"]) >= 150, path.name
        assert any(len(item["turns"]) > 1 for item in data["red_flags"]), path.name


# Everyday lines the blind writers happened to write that were already training examples
# before the sets existed (commit 71a296b): coincidences, not copies.
ALREADY_IN_TRAINING = {
    "do i have to stay overnight", "hello", "hi", "ok", "what do facet joints do",
    "when can i go back to work", "where do i park at the hospital", "can i drive myself home",
    "chest feels tight", "chills", "day 2", "do i have to sign anything", "good morning",
    "hey there", "how long will the soreness last", "thanks", "thanks for the info",
    "what are the medial branch nerves", "what is fluoroscopy", "when should i call 911",
    "when will i feel better",
    # sets c and d (2026-11-27): the same kind of everyday lines, in the data since commit 12ee93a
    "can i shower tonight?", "got it", "hi again", "k", "ty", "bye, have a nice day", "hey",
    "i'm back home", "thx", "what should i wear",
    # set e: also in the data since commit 12ee93a
    "ice how long", "thank you",
    # set f: in the data before the set was written (commits bc1af94, 5be0958, 84e93f7, 1558738)
    "good afternoon", "hello again", "hi there", "later", "morning", "should i ice it",
    "whats the dye for", "how long before i can take a bath?",
    # sets g-j: in the data before the sets were written (commits bc1af94, 5be0958, ad9f206,
    # 18e3d37, 7ec44e2, 1558738)
    "ok got it", "what are facet joints", "is cbd oil good for back pain", "no fever no chills",
    "whats the wifi password at the clinic", "heat or ice for the sore spot", "bye",
    "cant breath", "cheers mate", "have a good day", "have a nice evening", "i keep passing out",
    "what's the best mattress for back pain",
    # set k: in the data before the set was written (commits bc1af94, 7ec44e2, 1558738); the
    # kitchen line is close to the issue's own example, which both writers were shown
    "can i drink water the morning of", "can i have coffee after?", "good evening", "help",
    "i have a fever", "ok great",
    "i blacked out in the kitchen this morning, is that normal after the nerve burning thing?",
    # set l: in the data since commit 7ec44e2
    "can i eat normally after", "i have chills",
    # sets n and o: in the training data at 62fcca5, before the sets were written
    "can i mow the lawn this weekend", "can i take tylenol", "frozen peas ok?",
    "how long will i be there", "how long will the relief last",
    "is there a special diet after the ablation", "when will i see results",
    "can i take a bath tomorrow", "do i have to fast", "do they treat more than one nerve",
    "how long do i stay after", "how much does this procedure cost",
    "lost control of my bowels this morning", "what is the iv for",
    # set p: in the data before the set was written (bc1af94, 7ec44e2; the bandaid line in
    # 5148765, an hour before, by this session's own hand, not from the set)
    "how long before i can soak in the tub", "how long should i ice it",
    "pus on the bandaid this morning", "whats the fever cutoff in celsius",
    # set q: in the data before the set was written (bc1af94, 1558738)
    "is there a special diet after", "what should i wear to the appointment",
    # set r: in the data before the set was written (bc1af94, 2209a35, 84e93f7, 1558738)
    "fainted", "my boss wants to know when i'll be back", "what position will i be in",
    "when will it start helping",
    # set s: a learned counter-example since eab1ca9, before the set was written
    "what counts as an emergency after this procedure?",
    # set t: in the data before the set was written (bc1af94, 1558738)
    "hello there", "how long does it last", "i have a fever of 38.6", "just got home from the clinic",
    # set u: in the data before the set was written (bc1af94, 7ec44e2, 1558738)
    "hi its me again", "how does the doctor know where the nerve is", "i cant move my left leg at all",
    "is there a payment plan", "shower ok??",
    # set w: in the data since the project skeleton (bc1af94), before the set was written
    "will i be home the same day",
    # set x: short everyday lines, in the data before the set was written (bc1af94, 5be0958,
    # ad9f206, 7ec44e2, 1558738)
    "can i do my usual stuff after", "can i have an mri after rfa", "can i sleep on my back tonight",
    "can i wear nail polish", "i fainted in the shower", "is the doctor board certified",
    "is this permanent", "numbing?", "ok will do", "what does neurotomy mean",
    "when is it an emergency", "will it be sore after", "will the pain come back",
}


def test_blind_lines_are_not_in_the_training_data() -> None:
    training = set()
    # data/red_flags.yml is a lexicon of phrases, not messages: only its examples count
    for path in [*(PROJECT / "data" / "nlu").glob("*.yml"), *(PROJECT / "data").glob("red_flags_*.yml")]:
        for line in path.read_text(encoding="utf-8").lower().splitlines():
            if line.strip().startswith("- "):
                training.add(line.strip()[2:].strip().strip('"'))
    for path in SETS:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        said = {t.strip().lower() for key in ("red_flags", "calm", "topics", "out_of_scope")
                for item in data.get(key, []) for t in item["turns"]}
        copied = (said & training) - ALREADY_IN_TRAINING
        assert not copied, f"{path.name}: {sorted(copied)[:5]}"
