"""Turn the assistant's replies into SMS bodies: plain text, at most 1,600 characters each.

Twilio refuses a body over 1,600 characters, and a phone shows markdown and buttons as
noise. A long handout quote is split at sentence (or line) boundaries, never inside a word
when it can be helped, so each message reads on its own and the quote stays word for word.
"""

from __future__ import annotations

import re
from typing import Iterable, List, Sequence

MAX_SMS_CHARS = 1600

_MD_LINK = re.compile(r"\[([^\]]+)\]\((\S+?)\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(?=\S)(.+?)(?<=\S)\1")
_MD_HEADING = re.compile(r"^#{1,6}\s+", re.MULTILINE)
# A sentence ends at . ! ? (optionally followed by a closing quote or bracket) and a space.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[”\"')\]]?\s+")


def plain_text(text: str) -> str:
    """Markdown reduced to what an SMS shows: links as 'text (url)', no emphasis marks."""
    text = _MD_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    text = _MD_HEADING.sub("", text)
    text = _MD_EMPHASIS.sub(lambda m: m.group(2), text)
    return text.replace("\r\n", "\n").strip()


def with_choices(text: str, titles: Sequence[str]) -> str:
    """Buttons become a line the patient can answer by typing: 'Reply Yes or No.'"""
    titles = [t.strip() for t in titles if t and t.strip()]
    if not titles:
        return text
    choices = titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " or " + titles[-1]
    return f"{text}\nReply {choices}."


def _pieces(text: str) -> Iterable[str]:
    """Lines, then sentences within a line, each with the whitespace that followed it."""
    for line in text.splitlines(keepends=True):
        start = 0
        for match in _SENTENCE_END.finditer(line):
            yield line[start : match.end()]
            start = match.end()
        if start < len(line):
            yield line[start:]


def _hard_split(piece: str, limit: int) -> List[str]:
    """A single sentence longer than the limit: cut at the last space before it."""
    parts = []
    while len(piece) > limit:
        cut = piece.rfind(" ", 0, limit + 1)
        cut = cut if cut > limit // 2 else limit
        parts.append(piece[:cut])
        piece = piece[cut:].lstrip(" ")
    return [*parts, piece] if piece else parts


def split_sms(text: str, limit: int = MAX_SMS_CHARS) -> List[str]:
    """Plain-text messages of at most `limit` characters whose concatenation (ignoring the
    whitespace at the cuts) is the whole text."""
    text = plain_text(text)
    if not text:
        return []
    if len(text) <= limit:
        return [text]
    messages: List[str] = []
    current = ""
    for piece in _pieces(text):
        for part in _hard_split(piece, limit) if len(piece) > limit else [piece]:
            if current and len(current) + len(part.rstrip()) > limit:
                messages.append(current.rstrip())
                current = ""
            current += part
    if current.strip():
        messages.append(current.rstrip())
    return [m for m in messages if m]
