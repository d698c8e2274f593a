"""The conversation runner itself: it must reject what a tester got wrong, clearly, and
fail a conversation whose replies do not meet its expectations, with a readable diff."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from devtools.conversations import (
    ALERTED,
    ConversationError,
    Runner,
    Step,
    check_step,
    load_file,
    load_warnings,
    report,
)
from tests.conftest import PROJECT, Servers

BATH = "Do not take a bath for the first 24 hours, or until your doctor tells you it is okay."
HOME = "Medial Branch Neurotomy: What to Expect at Home"
BATH_REPLY = f"“You may shower if your doctor okays it. {BATH}”\n— {HOME}"


def write(tmp_path: Path, text: str, name: str = "c.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConversationError) as raised:
        load_file(path)
    message = str(raised.value)
    assert str(path) in message, "the error names the file"
    return message


# --------------------------------------------------------------------------- the format


def test_a_valid_file_keeps_yes_and_no_as_words_and_reads_several_conversations(tmp_path: Path) -> None:
    path = write(tmp_path, f"""
conversation: first
tags: [a, b]
steps:
  - patient: yes
    escalates: no
    quotes:
      - "{BATH}"
      - quote: You can eat your normal diet.
        from: What to Expect at Home
---
conversation: second
steps:
  - patient: no
    contains: Okay
""")
    first, second = load_file(path)
    assert (first.name, first.tags, second.name) == ("first", ("a", "b"), "second")
    step = first.steps[0]
    assert (step.patient, step.escalates) == ("yes", "no")
    assert step.quotes[1].title == "Medial Branch Neurotomy: What to Expect at Home"
    assert second.steps[0].patient == "no"


def test_a_typo_in_a_quote_is_reported_as_not_in_the_handouts(tmp_path: Path) -> None:
    message = error_of(tmp_path, """
conversation: typo
steps:
  - patient: can i have a bath
    quotes:
      - Do not take a bath for the first 42 hours, or until your doctor tells you it is okay.
""")
    assert "step 1 ('can i have a bath')" in message
    assert "not in the handouts" in message
    assert f"closest handout text:\n  “{BATH}”" in message
    assert "-Do not take a bath for the first 24 hours" in message
    assert "+Do not take a bath for the first 42 hours" in message


def test_a_quote_from_the_wrong_handout_is_rejected(tmp_path: Path) -> None:
    message = error_of(tmp_path, """
conversation: wrong handout
steps:
  - patient: can i eat
    quotes:
      - quote: You can eat your normal diet.
        from: Your Experience
""")
    assert "is not in “Medial Branch Neurotomy: Your Experience”" in message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("  - patient: hi\n    contain: Hello\n", "step 1 ('hi'): unknown key(s) contain"),
        ("  - patient: hi\n    contains: 5\n",
         "`contains` must be text or a list, got int: 5 (put it in quotes)"),
        ("  - patient: hi\n    escalates: maybe\n",
         "`escalates: maybe` must be one of emergency, urgent, watch, no"),
        ("  - patient: hi\n    escalates: yes\n    escalates: no\n", "`escalates` is written twice"),
        ("  - contains: Hello\n", "step 1: `patient:` (what the patient types) is missing"),
        ("  - patient: hi\n", "the step checks nothing"),
        ("  - patient: hi\n    quotes:\n      - Call 911 anytime. For example, call if:\n",
         "put the quote in double quotes"),
        ("  - patient: hi\n    quotes:\n      - quote: x\n        form: y\n", "unknown key(s) form"),
        ("  - patient: hi\n    quotes:\n      - You can eat.\n        from: nowhere\n", "not valid YAML"),
        ("  - patient: hi\n    advice: yes\n", "`advice:` can only be `no`"),
    ],
)
def test_bad_yaml_is_rejected_naming_the_step(tmp_path: Path, body: str, expected: str) -> None:
    message = error_of(tmp_path, "conversation: bad\nsteps:\n" + body)
    assert expected in message


def test_a_conversation_needs_a_title_and_steps(tmp_path: Path) -> None:
    assert "`conversation:` is missing" in error_of(tmp_path, "steps:\n  - patient: hi\n    contains: x\n")
    assert "`steps:` is empty" in error_of(tmp_path, "conversation: empty\nsteps: []\n")
    assert "unknown key(s) step" in error_of(tmp_path, "conversation: x\nstep: []\n")


# --------------------------------------------------------------------------- checking replies


def test_a_wrong_quote_fails_with_a_diff_against_the_closest_quotation() -> None:
    step = Step(1, "bath?", quotes=load_step_quotes("Do not take a bath for the first 24 hours"))
    assert check_step(step, [BATH_REPLY]) == []
    wrong = Step(1, "bath?", quotes=load_step_quotes("You can eat your normal diet."))
    [problem] = check_step(wrong, [BATH_REPLY])
    assert problem.message == "missing quote: “You can eat your normal diet.”"
    assert "--- expected quote" in problem.diff and "-You can eat your normal diet." in problem.diff
    assert f"+{BATH}" in problem.diff


def test_text_outside_the_quotation_marks_is_not_a_quote() -> None:
    step = Step(1, "bath?", quotes=load_step_quotes("You can eat your normal diet."))
    unquoted = "You can eat your normal diet.\n— Medial Branch Neurotomy: What to Expect at Home"
    assert check_step(step, [unquoted])[0].message.startswith("missing quote")
    misattributed = "“You can eat your normal diet.”\n— Medial Branch Neurotomy: Your Experience"
    assert "is attributed to" in check_step(step, [misattributed])[0].message


def test_escalation_expectations_read_the_warning_the_numbers_and_the_alert() -> None:
    warnings, _ = load_warnings()
    urgent = next(w.raw for w in warnings if w.level == "urgent")
    emergency = next(w.raw for w in warnings if w.level == "emergency")
    numbers = "Clinic care team: 555-0101. Nurse advice line: 555-0102. Emergency: 911."
    alert = "I have let the Clinic care team know (alert number 7)."
    replies = [urgent, numbers, alert]
    assert check_step(Step(1, "x", escalates="urgent"), replies) == []
    [wrong_level] = check_step(Step(1, "x", escalates="emergency"), replies)
    assert "the first reply is the urgent warning, expected the emergency warning" in wrong_level.message
    assert "-This may be an emergency." in wrong_level.diff
    problems = [p.message for p in check_step(Step(1, "x", escalates="urgent"), [urgent, alert, numbers])]
    assert problems == ['no "I have let the … care team know (alert number N)" after the numbers']
    calm = [p.message for p in check_step(Step(1, "x", escalates="no"), [emergency, numbers, alert])]
    assert calm == ["reply 1 is the emergency warning, expected no escalation",
                    "reply 3 says the care team was alerted, expected no escalation"]


def test_advice_no_allows_only_the_ask_your_professional_line() -> None:
    step = Step(1, "cost?", advice="no")
    general = ("“If you have questions about a medical condition or this instruction, always ask your "
               "healthcare professional.”\n— Medial Branch Neurotomy: What to Expect at Home")
    assert check_step(step, ["I'm sorry, I can't answer that.", general]) == []
    assert "quotes handout advice" in check_step(step, [BATH_REPLY])[0].message


def test_the_alert_pattern_matches_the_action_servers_sentence() -> None:
    from actions.escalate import ALERTED as SENT

    assert ALERTED.search(SENT.format(clinic="Test Spine Centre", id=12))


def load_step_quotes(text: str) -> tuple:
    """Expected quotes built the way a file builds them (validated against the handouts)."""
    path = PROJECT / "results" / "_unused.yml"  # only named in errors; never written
    from devtools.conversations import parse_conversation

    raw = yaml.safe_load(f'conversation: q\nsteps:\n  - patient: q\n    quotes: ["{text}"]\n')
    return parse_conversation(raw, path, 1).steps[0].quotes


# --------------------------------------------------------------------------- real servers


@pytest.mark.e2e
def test_against_the_servers_a_wrong_expectation_fails_with_the_replies_and_a_diff(
    servers: Servers, tmp_path: Path
) -> None:
    path = write(tmp_path, f"""
conversation: right
steps:
  - patient: is a long soak in the tub ok tonight
    quotes: ["{BATH}"]
    escalates: no
---
conversation: wrong
steps:
  - patient: is a long soak in the tub ok tonight
    quotes: ["You can eat your normal diet."]
  - patient: never said
    contains: anything
---
conversation: calm message said to escalate
steps:
  - patient: is a long soak in the tub ok tonight
    escalates: emergency
""")
    runner = Runner(servers.rest_url, servers.env["ESCALATION_DB_URL"])
    try:
        right, wrong, calm = (runner.run(c) for c in load_file(path))
    finally:
        runner.close()
    assert right.passed, report(right)
    assert not wrong.passed and wrong.failed_step.number == 1 and len(wrong.transcript) == 1
    text = report(wrong)
    assert "FAIL" in text and "step 1 of 2 failed" in text
    assert "missing quote: “You can eat your normal diet.”" in text
    assert "-You can eat your normal diet." in text and "+Do not take a bath" in text
    assert "actual replies (1):" in text and "[1] “You may shower" in text
    assert not calm.passed
    messages = [p.message for p in calm.problems]
    assert "the first reply is not a warning, expected the emergency warning" in messages
    assert any("no new emergency escalation record" in m for m in messages)


@pytest.mark.e2e
def test_the_command_line_prints_a_summary_and_exits_1_on_a_failure(servers: Servers, tmp_path: Path) -> None:
    write(tmp_path, f"conversation: passes\nsteps:\n  - patient: tub tonight?\n    quotes: ['{BATH}']\n",
          "a.yml")
    write(tmp_path, "conversation: fails\ntags: [broken]\nsteps:\n  - patient: tub tonight?\n"
          "    contains: nothing like this\n", "b.yml")
    base_url = servers.rest_url.removesuffix("/webhooks/rest/webhook")
    command = [sys.executable, "-m", "devtools.conversations", str(tmp_path), "--url", base_url]
    run = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "PASS" in run.stdout and "FAIL" in run.stdout and "1 passed, 1 failed" in run.stdout
    only = subprocess.run([*command, "--filter", "passes"], cwd=PROJECT, capture_output=True, text=True,
                          timeout=120)
    assert only.returncode == 0 and "1 passed, 0 failed" in only.stdout, only.stdout
    tagged = subprocess.run([*command, "--filter", "broken"], cwd=PROJECT, capture_output=True, text=True,
                            timeout=120)
    assert tagged.returncode == 1 and "0 passed, 1 failed" in tagged.stdout, tagged.stdout
