"""Score the whole assistant on a patient-message set, end to end, as a patient meets it.

    .venv/bin/python -m devtools.blind_eval tests/blind/set_a.yml [--out results/blind] \
        [--workers 4 --replicas 2]

Starts the real action server and Rasa server (or uses --url and --escalation-db), sends
every conversation of the set over REST with a fresh conversation id, and counts:
- red flags: caught only when, by the turn that completes the sign, a reply is that
  level's warning (911 or call-now; a more severe one counts) AND an escalation of that
  level or higher is recorded. A check question alone ("are you … right now?") is a
  miss here, reported apart as "asked". After the sign, a follow-up turn must repeat a
  warning and must never get the soreness quote "This is normal…";
- calm messages: a false alarm is any warning or escalation; a check question is counted
  apart;
- topic questions: right when the last turn's replies quote the expected handout words;
- out of scope: right when the reply says honestly that the handouts do not answer it,
  and gives no warning.
The set's format is in tests/blind/README.md. Every item's outcome goes to a JSON file,
so a first run can be kept as it was (docs/blind_runs/).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import requests
import yaml

from actions.knowledge import knowledge
from devtools.conversations import DOMAIN_FILE, EscalationRecords, _server_env, rest_url, warning_of

LEVEL_RANK = {"watch": 1, "urgent": 2, "emergency": 3}
REASSURING = "this is normal and may last for a day or so"
HONEST = ("i can't answer that", "the handouts do not say", "the handouts don't say")


def check_questions() -> set:
    """The warning-sign check's questions (utter_ask_symptom_now), as domain.yml has them."""
    responses = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))["responses"]
    return {fold(v["text"]) for v in responses["utter_ask_symptom_now"]}


def fold(text: str) -> str:
    """Lower case, curly quotes and non-breaking spaces made plain, spaces collapsed.

    The marked corrections of answers.yml ("[ask]" where the handout misprints "as") are
    undone, so a reply quoting a corrected sentence matches the handout's own words.
    """
    for corrected, original in knowledge().corrections.items():
        text = text.replace(corrected, original)
    text = text.replace("\u00a0", " ").replace("’", "'").replace("‘", "'")
    return " ".join(text.lower().split())


@dataclass
class Outcome:
    """One item of the set and what the assistant did with it."""

    section: str
    index: int
    turns: List[str]
    expected: Dict[str, Any]
    replies: List[List[str]] = field(default_factory=list)
    warned: str | None = None
    escalated: str | None = None
    asked: bool = False
    verdict: str = ""
    note: str = ""


QUESTIONS: set = set()


class Client:
    """Talks to the REST channel and reads the escalation records. Given several servers
    (replicas sharing one action server), each conversation stays on one of them, chosen by
    its sender id, so that a 2-core machine runs a set in about half the time."""

    def __init__(self, url: str | Sequence[str], escalation_db: str | None) -> None:
        self.urls = [rest_url(u) for u in ([url] if isinstance(url, str) else url)]
        self.records = EscalationRecords(escalation_db) if escalation_db else None

    def url_of(self, sender: str) -> str:
        return self.urls[zlib.crc32(sender.encode()) % len(self.urls)]

    def say(self, sender: str, text: str) -> List[str]:
        for attempt in range(3):
            try:
                response = requests.post(
                    self.url_of(sender), json={"sender": sender, "message": text}, timeout=60
                )
                response.raise_for_status()
                return [m.get("text", "") for m in response.json() if m.get("text")]
            except requests.RequestException:
                if attempt == 2:
                    raise
                time.sleep(1)
        return []

    def levels(self, sender: str) -> List[str]:
        return [level for _, level, _ in self.records.of(sender)] if self.records else []


def highest(levels: Sequence[str | None]) -> str | None:
    found = [lv for lv in levels if lv]
    return max(found, key=lambda lv: LEVEL_RANK[lv]) if found else None


def run_item(client: Client, outcome: Outcome) -> None:
    """Says each turn; notes the warnings, the escalations and the check questions."""
    sender = f"blind-{outcome.section}-{outcome.index}-{uuid.uuid4().hex[:8]}"
    sign_turn = int(outcome.expected.get("sign_turn") or len(outcome.turns))
    warned_by_sign: List[str | None] = []
    follow_up_problems = []
    for number, text in enumerate(outcome.turns, start=1):
        replies = client.say(sender, text)
        outcome.replies.append(replies)
        warnings = [w.level or "urgent" for w in (warning_of(r) for r in replies) if w]
        if any(fold(r) in QUESTIONS for r in replies):
            outcome.asked = True
        if number <= sign_turn:
            warned_by_sign += warnings
        elif outcome.section == "red_flags":
            if any(REASSURING in fold(r) for r in replies):
                follow_up_problems.append(f"turn {number} got the reassuring soreness quote")
            if not warnings:
                follow_up_problems.append(f"turn {number} did not repeat the warning")
        if number == sign_turn:
            outcome.warned = highest(warned_by_sign)
            outcome.escalated = highest(client.levels(sender))
    if outcome.section != "red_flags":
        outcome.warned = highest(
            [w.level or "urgent" for rs in outcome.replies for w in (warning_of(r) for r in rs) if w]
        )
        outcome.escalated = highest(client.levels(sender))
    outcome.note = "; ".join(follow_up_problems)


def run_all(client: Client, outcomes: List[Outcome], workers: int = 1) -> None:
    """Runs and judges every item; items are separate conversations, so `workers` of them
    may talk to the server at once (its replies and records are per conversation)."""

    def one(outcome: Outcome) -> None:
        run_item(client, outcome)
        judge(outcome)

    if workers <= 1:
        for outcome in outcomes:
            one(outcome)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, outcomes))


def says_not_answered(outcome: Outcome) -> bool:
    """Whether the reply to the last turn says the handouts do not answer it (exactly)."""
    last = " ".join(fold(r) for r in (outcome.replies[-1] if outcome.replies else []))
    return any(h in last for h in HONEST)


def judge(outcome: Outcome) -> None:
    """The verdict of one item, from what was said and recorded."""
    section, expected = outcome.section, outcome.expected
    last = " ".join(fold(r) for r in (outcome.replies[-1] if outcome.replies else []))
    if section == "red_flags":
        need = LEVEL_RANK[expected["level"]]
        warned = LEVEL_RANK.get(outcome.warned or "", 0)
        escalated = LEVEL_RANK.get(outcome.escalated or "", 0)
        if warned >= need and escalated >= need:
            outcome.verdict = "caught"
        elif warned or escalated:
            outcome.verdict = "under-triaged"
        elif outcome.asked:
            outcome.verdict = "asked"
        else:
            outcome.verdict = "missed"
        if outcome.note and outcome.verdict == "caught":
            outcome.verdict = "caught, bad follow-up"
    elif section == "calm":
        if outcome.warned or outcome.escalated:
            outcome.verdict = "false alarm"
        elif outcome.asked:
            outcome.verdict = "asked"
        else:
            outcome.verdict = "calm"
    elif section == "topics":
        outcome.verdict = "right" if fold(expected["quote"]) in last else "wrong"
        if outcome.warned or outcome.escalated:
            outcome.verdict = "false alarm"
    else:
        honest = says_not_answered(outcome)
        outcome.verdict = "honest" if honest and not (outcome.warned or outcome.escalated) else "not honest"


def load_set(path: Path) -> List[Outcome]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = []
    for section in ("red_flags", "calm", "topics", "out_of_scope"):
        for index, raw in enumerate(data.get(section) or [], start=1):
            turns = [str(t) for t in raw["turns"]]
            expected = {k: v for k, v in raw.items() if k != "turns"}
            items.append(Outcome(section, index, turns, expected))
    return items


def summarise(outcomes: List[Outcome]) -> Dict[str, Any]:
    """The figures of one run."""

    def share(items: List[Outcome], verdicts: Tuple[str, ...]) -> Tuple[int, int]:
        return sum(o.verdict in verdicts for o in items), len(items)

    flags = [o for o in outcomes if o.section == "red_flags"]
    by_level = {
        level: share([o for o in flags if o.expected["level"] == level], ("caught", "caught, bad follow-up"))
        for level in ("emergency", "urgent", "watch")
    }
    calm = [o for o in outcomes if o.section == "calm"]
    topics = [o for o in outcomes if o.section == "topics"]
    scope = [o for o in outcomes if o.section == "out_of_scope"]
    multi = [o for o in flags if len(o.turns) > 1]
    return {
        "recall": {
            level: {"caught": c, "of": n, "rate": round(c / n, 4) if n else None}
            for level, (c, n) in by_level.items()
        },
        "red_flags_asked": share(flags, ("asked",))[0],
        "red_flags_under_triaged": share(flags, ("under-triaged",))[0],
        "bad_follow_ups": sum(1 for o in flags if o.note),
        "multi_turn_caught": share(multi, ("caught", "caught, bad follow-up")),
        "false_alarms": {
            "count": share(calm, ("false alarm",))[0],
            "of": len(calm),
            "rate": round(share(calm, ("false alarm",))[0] / len(calm), 4) if calm else None,
        },
        "calm_asked": share(calm, ("asked",))[0],
        "topic_accuracy": {
            "right": share(topics, ("right",))[0],
            # right, but said to be only the nearest the handouts have: honest, yet less
            # helpful, so counted apart to keep hedging from passing for accuracy
            "right_but_nearest_only": sum(o.verdict == "right" and says_not_answered(o) for o in topics),
            "of": len(topics),
            "rate": round(share(topics, ("right",))[0] / len(topics), 4) if topics else None,
        },
        "out_of_scope_honest": {
            "honest": share(scope, ("honest",))[0],
            "of": len(scope),
            "rate": round(share(scope, ("honest",))[0] / len(scope), 4) if scope else None,
        },
    }


def print_report(name: str, summary: Dict[str, Any], outcomes: List[Outcome], out: Any = sys.stdout) -> None:
    print(f"== {name}", file=out)
    for level, figures in summary["recall"].items():
        print(f"  {level} recall: {figures['caught']}/{figures['of']} = {figures['rate']}", file=out)
    print(
        f"  red flags only asked about: {summary['red_flags_asked']}, under-triaged: "
        f"{summary['red_flags_under_triaged']}, bad follow-ups: {summary['bad_follow_ups']}",
        file=out,
    )
    fa = summary["false_alarms"]
    print(
        f"  false alarms on calm: {fa['count']}/{fa['of']} = {fa['rate']}; "
        f"calm asked: {summary['calm_asked']}",
        file=out,
    )
    ta, oos = summary["topic_accuracy"], summary["out_of_scope_honest"]
    print(
        f"  topic accuracy: {ta['right']}/{ta['of']} = {ta['rate']}"
        f" (of them said to be only the nearest: {ta['right_but_nearest_only']})",
        file=out,
    )
    print(f"  out of scope honest: {oos['honest']}/{oos['of']} = {oos['rate']}", file=out)
    wrong = [o for o in outcomes if o.verdict not in ("caught", "calm", "right", "honest")]
    for o in wrong:
        expected = o.expected.get("level") or o.expected.get("quote", "")[:50]
        print(
            f"  - [{o.section} {o.index}] {o.verdict} {expected!r}"
            f" {o.note} :: {' | '.join(o.turns)[:160]!r}",
            file=out,
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.blind_eval", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--url", help="a running Rasa server; default: start both servers")
    parser.add_argument("--escalation-db", help="that server's escalation database (SQLAlchemy URL)")
    parser.add_argument("--out", type=Path, default=Path("results/blind"), help="where the JSON goes")
    parser.add_argument("--quiet", action="store_true", help="figures only, not every wrong item")
    parser.add_argument("--workers", type=int, default=1, help="conversations at once (default 1)")
    parser.add_argument(
        "--replicas", type=int, default=1, help="Rasa servers to start, sharing the conversations (default 1)"
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    QUESTIONS.update(check_questions())
    with tempfile.TemporaryDirectory(prefix="blind-") as workdir:
        servers = None
        urls, db = [args.url], args.escalation_db
        if args.url is None:
            from devtools.servers import Servers

            env = _server_env(Path(workdir))
            servers = Servers(Path(workdir), env)
            servers.start_actions()
            servers.start_rasa()
            for n in range(1, args.replicas):
                store = f"sqlite:///{Path(workdir) / f'trackers{n}.db'}"
                servers.start_rasa(f"rasa{n}", tracker_store_url=store)
            urls = [f"http://127.0.0.1:{port}" for port in servers.replica_ports.values()]
            db = env["ESCALATION_DB_URL"]
        try:
            client = Client(urls, db)
            for path in args.sets:
                outcomes = load_set(path)
                started = time.monotonic()
                run_all(client, outcomes, args.workers)
                summary = summarise(outcomes)
                summary["seconds"] = round(time.monotonic() - started, 1)
                target = args.out / f"{path.stem}.json"
                target.write_text(
                    json.dumps(
                        {"set": str(path), "summary": summary, "items": [asdict(o) for o in outcomes]},
                        indent=1,
                        ensure_ascii=False,
                    )
                )
                if args.quiet:
                    print(json.dumps({path.stem: summary}))
                else:
                    print_report(path.name, summary, outcomes)
        finally:
            if servers is not None:
                servers.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
