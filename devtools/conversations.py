"""Scripted conversations for testers: YAML files of what the patient says and what the
replies must quote, contain or avoid, run against the live Rasa and action servers.

Rasa's own test stories check predicted actions but never run the custom actions, so they
cannot see a wrong quote, a missing alert or a lost question. These conversations talk to
the real servers over the REST channel, as a patient would. The format is described in the
README ("For testers"); this module validates it strictly, so a typo in a test is reported
as a typo, not as a bug in the assistant.

    python -m devtools.conversations [paths] [--url URL] [--escalation-db URL] [--filter TEXT]

Without --url the real action server and Rasa server are started here (with a test
clinic's details and an escalation database in a temporary directory) and stopped after.
"""

from __future__ import annotations

import argparse
import difflib
import logging
import os
import re
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Sequence, Tuple

import requests
import yaml

from actions.knowledge import ANSWERS_FILE, load_knowledge

logger = logging.getLogger(__name__)

PROJECT = Path(__file__).resolve().parent.parent
CONVERSATIONS_DIR = PROJECT / "tests" / "conversations"
DOMAIN_FILE = PROJECT / "domain.yml"
RED_FLAGS_FILE = PROJECT / "data" / "red_flags.yml"
REST_PATH = "/webhooks/rest/webhook"

# The clinic the runner's own servers use: made-up numbers, never a real clinic's.
TEST_CLINIC = {
    "CLINIC_NAME": "Conversation Test Clinic",
    "CLINIC_CARE_TEAM_PHONE": "555-0177",
    "CLINIC_NURSE_LINE_PHONE": "555-0166",
}

LEVELS = ("emergency", "urgent", "watch")
ESCALATES_VALUES = (*LEVELS, "no")
CONVERSATION_KEYS = {"conversation": str, "tags": list, "notes": str, "steps": list}
STEP_KEYS = {
    "patient": str,
    "quotes": list,
    "not_quotes": list,
    "contains": (str, list),
    "not_contains": (str, list),
    "escalates": str,
    "advice": str,
}
QUOTE_KEYS = {"quote": str, "from": str}
# The care team confirmation sent by action_escalate (actions/escalate.py, ALERTED).
ALERTED = re.compile(r"I have let the .+? care team know \(alert number (\d+)\)\.")
QUOTE_SPAN = re.compile(r"“(.*?)”", re.DOTALL)
ATTRIBUTION = re.compile(r"^— (.+)$", re.MULTILINE)
RECORD_WAIT_SECONDS = 10.0


class ConversationError(ValueError):
    """A conversation file that cannot be run as written; the message names file and step."""


# --------------------------------------------------------------------------- YAML


class _StrictLoader(yaml.SafeLoader):
    """YAML 1.2 booleans (only true/false), so `escalates: no` and `patient: yes` stay
    words; and a key written twice is an error instead of silently losing one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Dict[Any, Any]:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ConversationError(f"line {key_node.start_mark.line + 1}: `{key}` is written twice")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


# --------------------------------------------------------------------------- handouts


def normalise(text: str) -> str:
    """Folds what may differ between a quote and the handout: spacing, bullets, apostrophes."""
    text = text.replace("’", "'").replace("‘", "'").replace("•", " ")
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class Handouts:
    """The handouts' titles and texts (from answers.yml), for checking testers' quotes."""

    titles: Dict[str, str]
    texts: Dict[str, str]
    corrections: Dict[str, str]
    general: Tuple[str, ...]

    def fold(self, text: str) -> str:
        """A quote as the handout spells it: answers.yml's corrections ("[ask]") undone."""
        for corrected, original in self.corrections.items():
            text = text.replace(corrected, original)
        return normalise(text)

    def sources_of(self, quote: str) -> List[str]:
        """The titles of the handouts that contain the quote ("…" may leave words out)."""
        parts = [p for p in (self.fold(x) for x in quote.split("…")) if p]
        found = []
        for key, text in self.texts.items():
            position = 0
            for part in parts:
                position = text.find(part, position)
                if position < 0:
                    break
                position += len(part)
            else:
                found.append(self.titles[key])
        return found

    def title(self, name: str) -> str | None:
        """A handout's full title from the title or the part after "Medial Branch Neurotomy:"."""
        wanted = normalise(name).lower()
        for title in self.titles.values():
            if wanted in (title.lower(), title.split(":", 1)[-1].strip().lower()):
                return title
        return None

    def closest(self, quote: str) -> str:
        """The handout text most like a quote that is not in the handouts, for the report."""
        folded = self.fold(quote)
        count = max(1, len(_sentences(folded)))
        candidates = []
        for text in self.texts.values():
            sentences = _sentences(text)
            candidates += [" ".join(sentences[i:i + count]) for i in range(len(sentences))]
        best = max(candidates, key=lambda c: difflib.SequenceMatcher(None, folded, c).ratio())
        return best


def _sentences(text: str) -> List[str]:
    return [s for s in re.split(r"(?<=[.?!:])\s+", text) if s]


@lru_cache(maxsize=1)
def load_handouts(path: Path = ANSWERS_FILE) -> Handouts:
    """The handouts as the assistant reads them (actions/knowledge.py), folded for matching."""
    kb = load_knowledge(path)
    return Handouts(
        dict(kb.titles),
        {key: normalise(text) for key, text in kb.texts.items()},
        dict(kb.corrections),
        tuple(normalise(q.text) for q in kb.general),
    )


# --------------------------------------------------------------------------- the format


@dataclass(frozen=True)
class ExpectedQuote:
    """Handout text that must appear verbatim between “ and ”, optionally from one handout."""

    text: str
    title: str | None = None


@dataclass(frozen=True)
class Step:
    """What the patient says and what the replies to it must show."""

    number: int
    patient: str
    quotes: Tuple[ExpectedQuote, ...] = ()
    not_quotes: Tuple[ExpectedQuote, ...] = ()
    contains: Tuple[str, ...] = ()
    not_contains: Tuple[str, ...] = ()
    escalates: str | None = None
    advice: str | None = None

    def expectations(self) -> List[str]:
        """The step's expectations, as a tester wrote them, for the report."""
        lines = [f"quotes: “{q.text}”" + (f" from {q.title}" if q.title else "") for q in self.quotes]
        lines += [f"not_quotes: “{q.text}”" for q in self.not_quotes]
        lines += [f"contains: {c!r}" for c in self.contains]
        lines += [f"not_contains: {c!r}" for c in self.not_contains]
        if self.escalates:
            lines.append(f"escalates: {self.escalates}")
        if self.advice:
            lines.append(f"advice: {self.advice}")
        return lines


@dataclass(frozen=True)
class Conversation:
    """One scripted conversation: a title, tags and its steps, in the order they are said."""

    name: str
    path: Path
    steps: Tuple[Step, ...]
    tags: Tuple[str, ...] = ()

    @property
    def where(self) -> str:
        try:
            return str(self.path.resolve().relative_to(PROJECT))
        except ValueError:
            return str(self.path)

    def matches(self, text: str) -> bool:
        """Whether --filter TEXT selects it: a tag, or part of the title or file name."""
        wanted = text.lower()
        return wanted in self.name.lower() or wanted in self.path.name.lower() or wanted in (
            t.lower() for t in self.tags
        )


def _type_name(expected: type | Tuple[type, ...]) -> str:
    names = {str: "text", list: "a list", dict: "a mapping"}
    kinds = expected if isinstance(expected, tuple) else (expected,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _check_keys(raw: Any, allowed: Dict[str, Any], where: str) -> None:
    if not isinstance(raw, dict):
        raise ConversationError(f"{where}: expected a mapping of keys, got {type(raw).__name__}: {raw!r}")
    unknown = sorted(str(k) for k in raw if k not in allowed)
    if unknown:
        raise ConversationError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}"
        )
    for key, value in raw.items():
        if not isinstance(value, allowed[key]):
            hint = " (put it in quotes)" if isinstance(value, int | float | bool) else ""
            raise ConversationError(
                f"{where}: `{key}` must be {_type_name(allowed[key])}, got {type(value).__name__}: "
                f"{value!r}{hint}"
            )


def _texts(value: str | list, key: str, where: str) -> Tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise ConversationError(f"{where}: each `{key}` entry must be non-empty text, got {item!r}")
    return tuple(items)


def _quotes(value: list, key: str, where: str, handouts: Handouts) -> Tuple[ExpectedQuote, ...]:
    found = []
    for item in value:
        if isinstance(item, dict) and len(item) == 1 and list(item.values()) == [None]:
            raise ConversationError(
                f"{where}: a `{key}` entry ends with ':' ({next(iter(item))}:), which YAML reads as a "
                "key; put the quote in double quotes"
            )
        if isinstance(item, dict):
            _check_keys(item, QUOTE_KEYS, f"{where}, `{key}` entry")
            if "quote" not in item:
                raise ConversationError(f"{where}: a `{key}` entry written as a mapping needs `quote:`")
            text, wanted = item["quote"], item.get("from")
        elif isinstance(item, str):
            text, wanted = item, None
        else:
            raise ConversationError(f"{where}: each `{key}` entry must be text, got {item!r}")
        if not text.strip():
            raise ConversationError(f"{where}: an empty `{key}` entry")
        title = None
        if wanted is not None:
            title = handouts.title(wanted)
            if title is None:
                raise ConversationError(
                    f"{where}: `from: {wanted}` is not a handout; use one of: "
                    + "; ".join(handouts.titles.values())
                )
        sources = handouts.sources_of(text)
        if not sources:
            closest = handouts.closest(text)
            raise ConversationError(
                f"{where}: this quote is not in the handouts (a typo?):\n  “{text.strip()}”\n"
                f"closest handout text:\n  “{closest}”\n"
                + unified(closest, handouts.fold(text), "handout", "quote")
            )
        if title is not None and title not in sources:
            raise ConversationError(
                f"{where}: “{text.strip()}” is not in “{title}” (it is in: {'; '.join(sources)})"
            )
        found.append(ExpectedQuote(text.strip(), title))
    return tuple(found)


def parse_conversation(raw: Any, path: Path, number: int, handouts: Handouts | None = None) -> Conversation:
    """Validates one conversation document and returns it; ConversationError if it is wrong."""
    handouts = handouts or load_handouts()
    where = f"{path}, conversation {number}"
    _check_keys(raw, CONVERSATION_KEYS, where)
    for required in ("conversation", "steps"):
        if required not in raw:
            raise ConversationError(f"{where}: `{required}:` is missing")
    name = raw["conversation"].strip()
    if not name:
        raise ConversationError(f"{where}: `conversation:` (the title) is empty")
    where = f"{path}, conversation {name!r}"
    tags = _texts(raw.get("tags", []), "tags", where)
    if not raw["steps"]:
        raise ConversationError(f"{where}: `steps:` is empty")
    steps = []
    for index, step in enumerate(raw["steps"], start=1):
        at = f"{where}, step {index}"
        if isinstance(step, dict) and isinstance(step.get("patient"), str):
            at = f"{at} ({step['patient'].strip()!r})"
        _check_keys(step, STEP_KEYS, at)
        if "patient" not in step or not step["patient"].strip():
            raise ConversationError(f"{at}: `patient:` (what the patient types) is missing or empty")
        escalates = step.get("escalates")
        if escalates is not None and escalates not in ESCALATES_VALUES:
            raise ConversationError(
                f"{at}: `escalates: {escalates}` must be one of {', '.join(ESCALATES_VALUES)}"
            )
        advice = step.get("advice")
        if advice is not None and advice != "no":
            raise ConversationError(f"{at}: `advice:` can only be `no` (the reply quotes no handout advice)")
        parsed = Step(
            number=index,
            patient=step["patient"].strip(),
            quotes=_quotes(step.get("quotes", []), "quotes", at, handouts),
            not_quotes=_quotes(step.get("not_quotes", []), "not_quotes", at, handouts),
            contains=_texts(step.get("contains", []), "contains", at),
            not_contains=_texts(step.get("not_contains", []), "not_contains", at),
            escalates=escalates,
            advice=advice,
        )
        if not (parsed.quotes or parsed.not_quotes or parsed.contains or parsed.not_contains
                or parsed.escalates or parsed.advice):
            raise ConversationError(f"{at}: the step checks nothing; add quotes, contains, escalates, …")
        steps.append(parsed)
    return Conversation(name=name, path=path, steps=tuple(steps), tags=tags)


def load_file(path: Path, handouts: Handouts | None = None) -> List[Conversation]:
    """The conversations of one file: one YAML document each (separate them with ---)."""
    try:
        documents = list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=_StrictLoader))
    except ConversationError as error:
        raise ConversationError(f"{path}: {error}") from None
    except yaml.YAMLError as error:
        raise ConversationError(f"{path}: not valid YAML: {error}") from None
    documents = [d for d in documents if d is not None]
    if not documents:
        raise ConversationError(f"{path}: no conversation in the file")
    return [parse_conversation(d, path, i, handouts) for i, d in enumerate(documents, start=1)]


def conversation_files(paths: Sequence[str | Path] = ()) -> List[Path]:
    """The YAML files named, or found under the folders named (default tests/conversations)."""
    files: List[Path] = []
    for given in paths or [CONVERSATIONS_DIR]:
        path = Path(given)
        if path.is_dir():
            files += sorted([*path.rglob("*.yml"), *path.rglob("*.yaml")])
        elif path.exists():
            files.append(path)
        else:
            raise ConversationError(f"{path}: no such file or folder")
    return files


# --------------------------------------------------------------------------- reading replies


@dataclass(frozen=True)
class WarningText:
    """A static warning response of domain.yml and the escalation level it stands for."""

    level: str | None  # None: the general warning sent when no sign could be named
    text: str  # normalised, for comparing
    raw: str  # as domain.yml writes it, for the diff


@lru_cache(maxsize=1)
def load_warnings() -> Tuple[Tuple[WarningText, ...], Tuple[re.Pattern, ...]]:
    """The warning texts (utter_red_flag, utter_red_flag_confirmed) and the numbers' patterns
    (utter_red_flag_contacts), read from domain.yml so the runner follows the assistant."""
    domain = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))["responses"]
    symptoms = yaml.safe_load(RED_FLAGS_FILE.read_text(encoding="utf-8"))["symptoms"]
    levels = {name: spec["level"] for name, spec in symptoms.items()}
    warnings = []
    for variant in domain["utter_red_flag"]:
        slot_values = [c.get("value") for c in variant.get("condition", []) if c.get("name") == "red_flag"]
        level = levels.get(slot_values[0]) if slot_values else None
        warnings.append(WarningText(level, normalise(variant["text"]), variant["text"]))
    # A yes to "Is any of this happening now?" is recorded as urgent (docs/red_flags.md).
    warnings += [
        WarningText("urgent", normalise(v["text"]), v["text"]) for v in domain["utter_red_flag_confirmed"]
    ]
    contacts = []
    for variant in domain["utter_red_flag_contacts"]:
        pieces = re.split(r"\{[a-z_]+\}", normalise(variant["text"]))
        contacts.append(re.compile(".+?".join(re.escape(p) for p in pieces)))
    return tuple(warnings), tuple(contacts)


def warning_of(reply: str) -> WarningText | None:
    """The static warning this reply is, if it is one."""
    text = normalise(reply)
    return next((w for w in load_warnings()[0] if w.text == text), None)


def is_contacts(reply: str) -> bool:
    """Whether the reply is the clinic's numbers sent after a warning."""
    return any(p.fullmatch(normalise(reply)) for p in load_warnings()[1])


@dataclass(frozen=True)
class QuotedSpan:
    """Text between “ and ” in a reply, and the handout title on the "— " line after it."""

    text: str
    title: str | None


def quoted_spans(replies: Sequence[str]) -> List[QuotedSpan]:
    """Every quotation in the replies with the title it is attributed to."""
    spans = []
    for reply in replies:
        for match in QUOTE_SPAN.finditer(reply):
            title = ATTRIBUTION.search(reply, match.end())
            spans.append(QuotedSpan(match.group(1), title.group(1).strip() if title else None))
    return spans


def unified(expected: str, actual: str, from_name: str = "expected", to_name: str = "actual") -> str:
    """A unified diff of two texts, line by line (a sentence a line for one-line texts), so
    the differing line or sentence stands out."""
    def lines(text: str) -> List[str]:
        rows = text.strip().splitlines() if "\n" in text.strip() else _sentences(normalise(text))
        return [row.rstrip() + "\n" for row in rows] or ["\n"]

    diff = difflib.unified_diff(lines(expected), lines(actual), from_name, to_name, n=1)
    return "".join(diff)


# --------------------------------------------------------------------------- checking a step


@dataclass
class Problem:
    """One expectation a step did not meet, with a diff where one helps."""

    message: str
    diff: str = ""


@dataclass
class StepContext:
    """What the runner knows about a step beyond the replies: the escalation records."""

    new_records: List[Tuple[str, str]] | None = None  # (level, symptom); None: no database


def check_quotes(step: Step, replies: Sequence[str], handouts: Handouts) -> List[Problem]:
    """Each expected quote inside one quotation, attributed to a handout that has it."""
    problems = []
    spans = quoted_spans(replies)
    for quote in step.quotes:
        wanted = handouts.fold(quote.text)
        hits = [s for s in spans if wanted in handouts.fold(s.text)]
        if not hits:
            closest = max(
                (s.text for s in spans),
                key=lambda t: difflib.SequenceMatcher(None, wanted, handouts.fold(t)).ratio(),
                default="",
            )
            problems.append(
                Problem(
                    f"missing quote: “{quote.text}”"
                    + ("" if spans else " (the replies quote nothing)"),
                    unified(quote.text, closest, "expected quote", "closest quotation in the replies")
                    if closest else "",
                )
            )
            continue
        allowed = [quote.title] if quote.title else handouts.sources_of(quote.text)
        if not any(s.title in allowed for s in hits):
            problems.append(
                Problem(
                    f"quote “{quote.text}” is attributed to {', '.join(repr(s.title) for s in hits)}, "
                    f"expected {' or '.join(repr(t) for t in allowed)}"
                )
            )
    for quote in step.not_quotes:
        wanted = handouts.fold(quote.text)
        if any(wanted in handouts.fold(s.text) for s in spans):
            problems.append(Problem(f"quotes what it must not: “{quote.text}”"))
    if step.advice == "no":
        advice = [s.text for s in spans if handouts.fold(s.text) not in handouts.general]
        if advice:
            problems.append(
                Problem("quotes handout advice, expected none: "
                        + "; ".join(f"“{normalise(a)}”" for a in advice))
            )
    return problems


def check_texts(step: Step, replies: Sequence[str]) -> List[Problem]:
    """contains / not_contains, ignoring case and spacing."""
    problems = []
    joined = normalise("\n".join(replies)).lower()
    for text in step.contains:
        if normalise(text).lower() not in joined:
            rows = [row for reply in replies for row in reply.splitlines() if row.strip()]
            closest = max(rows, key=lambda r: difflib.SequenceMatcher(None, text.lower(), r.lower()).ratio(),
                          default="")
            diff = unified(text, closest, "expected text", "closest reply")
            problems.append(Problem(f"missing text: {text!r}", diff))
    for text in step.not_contains:
        if normalise(text).lower() in joined:
            problems.append(Problem(f"contains what it must not: {text!r}"))
    return problems


def check_escalation(step: Step, replies: Sequence[str], context: StepContext) -> List[Problem]:
    """escalates: the level's warning first, then the numbers, then the care team's alert;
    escalates: no: no warning, no alert and no new record."""
    if step.escalates is None:
        return []
    warnings = [(i, w) for i, w in ((i, warning_of(r)) for i, r in enumerate(replies)) if w]
    alerted = [i for i, r in enumerate(replies) if ALERTED.search(r)]
    records = context.new_records
    if step.escalates == "no":
        problems = [
            Problem(f"reply {i + 1} is the {w.level or 'general'} warning, expected no escalation")
            for i, w in warnings
        ]
        problems += [
            Problem(f"reply {i + 1} says the care team was alerted, expected no escalation") for i in alerted
        ]
        if records:
            problems.append(Problem(f"new escalation record(s) {records}, expected none"))
        return problems
    level, problems = step.escalates, []
    first = replies[0] if replies else ""
    found = warning_of(first)
    if found is None or found.level != level:
        what = f"the {found.level or 'general'} warning" if found else "not a warning"
        closest = max(
            (w for w in load_warnings()[0] if w.level == level),
            key=lambda w: difflib.SequenceMatcher(None, w.text, normalise(first)).ratio(),
        ).raw
        problems.append(
            Problem(f"the first reply is {what}, expected the {level} warning",
                    unified(closest, first, f"{level} warning (domain.yml)", "first reply"))
        )
    contacts = [i for i, r in enumerate(replies) if is_contacts(r)]
    if not any(i > 0 for i in contacts):
        problems.append(Problem("the clinic's numbers do not follow the warning"))
    if not any(i > min(contacts, default=0) for i in alerted):
        problems.append(Problem('no "I have let the … care team know (alert number N)" after the numbers'))
    if records is not None and level not in [r[0] for r in records]:
        problems.append(
            Problem(f"no new {level} escalation record for this conversation (new records: {records})")
        )
    return problems


def check_step(step: Step, replies: Sequence[str], context: StepContext | None = None,
               handouts: Handouts | None = None) -> List[Problem]:
    """Everything wrong with the replies to one step; empty when the step passes."""
    handouts = handouts or load_handouts()
    context = context or StepContext()
    if not replies:
        return [Problem("no reply at all")]
    return [*check_escalation(step, replies, context), *check_quotes(step, replies, handouts),
            *check_texts(step, replies)]


# --------------------------------------------------------------------------- running


@dataclass
class Result:
    """How one conversation went: every step said, and what failed (if anything)."""

    conversation: Conversation
    sender: str = ""
    transcript: List[Tuple[Step, List[str]]] = field(default_factory=list)
    failed_step: Step | None = None
    problems: List[Problem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.problems


class EscalationRecords:
    """Reads the escalation records of one conversation from the escalation database."""

    def __init__(self, url: str) -> None:
        from escalations import EscalationStore  # the database layer, only when asked for

        self.store = EscalationStore(url)

    def of(self, sender: str) -> List[Tuple[int, str, str]]:
        views = self.store.recent(limit=1_000, conversation_id=sender)
        return [(e.id, e.level, e.symptom) for e in views]

    def close(self) -> None:
        self.store.dispose()


def rest_url(url: str) -> str:
    """The REST webhook from a server's base address (or the webhook itself)."""
    url = url.rstrip("/")
    return url if url.endswith(REST_PATH) else url + REST_PATH


class Runner:
    """Runs conversations against a Rasa server's REST channel, each with a fresh sender."""

    def __init__(self, url: str, escalation_db: str | None = None, timeout: float = 60) -> None:
        self.url = rest_url(url)
        self.records = EscalationRecords(escalation_db) if escalation_db else None
        self.timeout = timeout

    def say(self, sender: str, text: str) -> List[str]:
        """One patient message; the texts of the replies."""
        response = requests.post(self.url, json={"sender": sender, "message": text}, timeout=self.timeout)
        response.raise_for_status()
        return [m.get("text", "") for m in response.json() if m.get("text")]

    def _new_records(self, sender: str, before: set, wait: bool) -> List[Tuple[str, str]] | None:
        if self.records is None:
            return None
        deadline = time.monotonic() + (RECORD_WAIT_SECONDS if wait else 0)
        while True:
            new = [(level, symptom) for i, level, symptom in self.records.of(sender) if i not in before]
            if new or time.monotonic() >= deadline:
                return new
            time.sleep(0.2)

    def run(self, conversation: Conversation) -> Result:
        """Says each step in turn and stops at the first step whose replies are wrong."""
        slug = re.sub(r"[^a-z0-9]+", "-", conversation.name.lower()).strip("-")[:40]
        result = Result(conversation, sender=f"conv-{slug}-{uuid.uuid4().hex[:10]}")
        started = time.monotonic()
        handouts = load_handouts()
        for step in conversation.steps:
            before = {i for i, _, _ in self.records.of(result.sender)} if self.records else set()
            try:
                replies = self.say(result.sender, step.patient)
            except requests.RequestException as error:
                result.failed_step, result.problems = step, [Problem(f"could not reach {self.url}: {error}")]
                break
            result.transcript.append((step, replies))
            wait = step.escalates in LEVELS
            context = StepContext(self._new_records(result.sender, before, wait))
            problems = check_step(step, replies, context, handouts)
            if problems:
                result.failed_step, result.problems = step, problems
                break
        result.seconds = time.monotonic() - started
        logger.debug("Conversation %s: %s", result.sender, "passed" if result.passed else "failed")
        return result

    def close(self) -> None:
        if self.records:
            self.records.close()


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line else line for line in text.rstrip("\n").splitlines())


def report(result: Result) -> str:
    """A failed conversation, readably: what was said, what was expected, what came back."""
    conv = result.conversation
    if result.passed:
        return f"PASS  {conv.where}: {conv.name} ({result.seconds:.1f} s)"
    step = result.failed_step
    lines = [f"FAIL  {conv.where}: {conv.name}", f"  sender id: {result.sender}"]
    for said, replies in result.transcript[:-1]:
        lines.append(f"  step {said.number}: patient: {said.patient!r}  (ok, {len(replies)} replies)")
    if step is not None:
        lines.append(f"  step {step.number} of {len(conv.steps)} failed: patient: {step.patient!r}")
        lines.append("  expected:")
        lines += [f"    {e}" for e in step.expectations()]
        lines.append("  problems:")
        for problem in result.problems:
            lines.append(f"    - {problem.message}")
            if problem.diff:
                lines.append(_indent(problem.diff, "        "))
        replies = result.transcript[-1][1] if result.transcript and result.transcript[-1][0] is step else []
        lines.append(f"  actual replies ({len(replies)}):")
        for number, reply in enumerate(replies, start=1):
            lines.append(f"    [{number}] " + reply.replace("\n", "\n        "))
    return "\n".join(lines)


# --------------------------------------------------------------------------- command line


def _server_env(workdir: Path) -> Dict[str, str]:
    """The servers' environment: a test clinic, throwaway databases, and no notification or
    store settings inherited from the shell (a test must never text a real on-call)."""
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("ESCALATION_", "TWILIO_", "CLINIC_", "SMS_"))
        and k not in ("TRACKER_STORE_URL", "REDIS_URL")
    }
    return {
        **env, **TEST_CLINIC,
        "ESCALATION_DB_URL": f"sqlite:///{workdir / 'escalations.db'}",
        "TF_CPP_MIN_LOG_LEVEL": "2", "RASA_TELEMETRY_ENABLED": "false",
    }


def run_all(conversations: Iterable[Conversation], runner: Runner, out: Any = sys.stdout) -> List[Result]:
    """Runs conversations one after another, printing a line each and a report per failure."""
    results = []
    for conversation in conversations:
        result = runner.run(conversation)
        print(report(result), file=out, flush=True)
        results.append(result)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """The CLI: exit code 0 when every conversation passed, 1 otherwise."""
    parser = argparse.ArgumentParser(
        prog="python -m devtools.conversations", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("paths", nargs="*", help="conversation files or folders (default: all of them)")
    parser.add_argument(
        "--url", help="a running Rasa server (e.g. http://localhost:5005); default: start both servers"
    )
    parser.add_argument("--escalation-db", help="SQLAlchemy URL of that server's escalation database, "
                        "to check records too")
    parser.add_argument("--filter", action="append", default=[], metavar="TEXT",
                        help="only conversations whose title, file name or a tag contains TEXT (repeatable)")
    args = parser.parse_args(argv)

    started = time.monotonic()
    conversations: List[Conversation] = []
    invalid = 0
    try:
        files = conversation_files(args.paths)
    except ConversationError as error:
        print(f"ERROR {error}")
        return 1
    for path in files:
        try:
            conversations += load_file(path)
        except ConversationError as error:
            invalid += 1
            print(f"INVALID {error}\n")
    if args.filter:
        conversations = [c for c in conversations if any(c.matches(f) for f in args.filter)]
    if not conversations and not invalid:
        print("no conversations to run")
        return 1

    servers = None
    url, escalation_db = args.url, args.escalation_db
    with tempfile.TemporaryDirectory(prefix="conversations-") as workdir:
        if conversations and url is None:
            from devtools.servers import MODEL, Servers

            if not MODEL.exists():
                print(f"{MODEL} is missing: run `make train`")
                return 1
            print("Starting the action server and the Rasa server...", flush=True)
            env = _server_env(Path(workdir))
            servers = Servers(Path(workdir), env)
            try:
                servers.start_actions()
                servers.start_rasa()
            except RuntimeError as error:
                servers.stop_all()
                print(f"ERROR the servers did not start: {error}")
                return 1
            url, escalation_db = servers.rest_url, env["ESCALATION_DB_URL"]
        runner = Runner(url, escalation_db) if conversations else None
        try:
            results = run_all(conversations, runner) if runner else []
        finally:
            if runner:
                runner.close()
            if servers:
                servers.stop_all()
    failed = sum(not r.passed for r in results) + invalid
    passed = len(results) - sum(not r.passed for r in results)
    took = time.monotonic() - started
    conversation_seconds = sum(r.seconds for r in results)
    print(f"\n{passed} passed, {failed} failed"
          + (f" ({invalid} invalid file(s))" if invalid else "")
          + f" in {took:.1f} s ({conversation_seconds:.1f} s talking)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
