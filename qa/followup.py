"""Follow-up questions: make "When was she sworn in?" searchable by naming who "she" is.

Simple and deterministic, no model: when a question holds a pronoun and the previous turn named
someone (the previous short answer, or a capitalised name in the previous question), the pronoun is
replaced by that name. "it"/"this"/"that" are replaced by the previous question's topic (its
capitalised names, else the question without its wh-word). The rewritten question is what the engine
searches for; the chat shows it as "Searched for: …".

>>> prev = Turn(question="Who was sworn in as interim president?", answer="Delcy Rodríguez")
>>> rewrite("When was she sworn in?", prev)
'When was Delcy Rodríguez sworn in?'
>>> rewrite("What did he say about it?", Turn("Who ordered the operation that captured Maduro?", "Donald Trump"))
'What did Donald Trump say about the operation that captured Maduro?'
>>> rewrite("Who won the World Cup?", prev)
'Who won the World Cup?'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: Pronouns that point at a person or group (replaced by a name).
PERSON_PRONOUNS = {"she", "he", "her", "him", "his", "hers", "they", "them", "their", "theirs"}
#: Pronouns that point at a thing or event (replaced by the previous topic).
THING_PRONOUNS = {"it", "its", "this", "that"}
_POSSESSIVE = {"his", "their", "its", "hers", "theirs"}
_DETERMINERS = {"the", "a", "an", "this", "that", "these", "those", "his", "her", "their", "its"}

_WH = {"who", "whom", "whose", "what", "when", "where", "which", "why", "how"}
_AUX = {
    "is", "are", "was", "were", "be", "been", "do", "does", "did", "has", "have", "had", "can", "could",
    "will", "would", "should", "may", "might", "much", "many", "long", "old", "often", "far",
}
# Capitalised words that are not names when they start a question or stand alone.
_NOT_NAMES = _WH | _AUX | {
    "the", "a", "an", "and", "or", "but", "in", "on", "at", "of", "for", "to", "from", "by", "with", "about",
    "after", "before", "during", "according", "i", "we", "you", "he", "she", "they", "it", "this", "that",
    "these", "those", "his", "her", "their", "its", "tell", "me", "please", "not", "found", "documents",
    "breaking", "urgent", "update", "exclusive", "president", "minister", "general", "vice",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december",
}
# Words after "her" that mean it is an object ("tell her about"), not a possessive ("her decision").
_AFTER_OBJECT = {
    "about", "after", "again", "as", "at", "before", "by", "for", "from", "in", "into", "of", "on", "to",
    "with", "and", "or", "but", "that", "when", "while", "if", "because", "so", "then", "now", "there",
    "here", "too", "also", "first", "later", "last", "up", "down", "out", "off", "over", "back",
}
# "that"/"this" are pronouns only at the end or before these words ("say about that?").
_AFTER_DEMONSTRATIVE_PRONOUN = {"", "?", ".", "!", ",", "happen", "happened", "mean", "means", "occur", "occurred", "take", "took", "start", "started", "end", "ended", "cause", "caused", "lead", "led"}

_TOKEN = re.compile(r"[^\W\d_][\w’'.-]*|\d[\w,.:/-]*|[^\w\s]", re.UNICODE)
_WORD = re.compile(r"\b[^\W\d_]+(?:[’'][^\W\d_]+)?\b", re.UNICODE)
_NAME = re.compile(
    r"(?<![\w’'])[A-ZÀ-ÖØ-Þ](?:[\w’'-]|\.(?=\w))*\.?(?:\s+(?:(?:de|del|la|da|van|von|bin|al)\s+)?[A-ZÀ-ÖØ-Þ](?:[\w’'-]|\.(?=\w))*\.?)*",
    re.UNICODE,
)
_PRONOUN_RE = re.compile(r"\b(" + "|".join(sorted(PERSON_PRONOUNS | THING_PRONOUNS, key=len, reverse=True)) + r")\b", re.IGNORECASE)


@dataclass(frozen=True)
class Turn:
    """One earlier exchange: the question searched for and the short answer (or first line) given."""

    question: str
    answer: str | None = None


def names_in(text: str | None) -> list[str]:
    """Capitalised names in ``text`` (multi-word first), without question words, months or titles.

    >>> names_in("Which U.S. president ordered the operation that captured Nicolás Maduro?")
    ['Nicolás Maduro', 'U.S.']
    """
    if not text:
        return []
    found: list[str] = []
    for m in _NAME.finditer(text):
        words = m.group(0).split()
        while words and words[0].lower().rstrip(".") in _NOT_NAMES:
            words.pop(0)
        while words and words[-1].lower().rstrip(".") in _NOT_NAMES:
            words.pop()
        if not words:
            continue
        name = " ".join(words).rstrip(".") if not re.fullmatch(r"(?:[A-Z]\.)+", words[-1]) else " ".join(words)
        if len(name) < 2 or name in found:
            continue
        found.append(name)
    return sorted(found, key=lambda n: -len(n.split()))


def _looks_like_name(text: str | None) -> bool:
    if not text or len(text) > 60 or any(ch.isdigit() for ch in text):
        return False
    return bool(names_in(text)) and names_in(text)[0] == text.strip().rstrip(".")


def _topic(question: str) -> str:
    """What the previous question was about: the question without its wh-word and auxiliaries, and
    without the verb in "Who VERB the …" ("Who ordered the operation that captured Maduro?" → "the
    operation that captured Maduro"; "Who was sworn in as interim president?" → "sworn in as
    interim president")."""
    q = question.strip().rstrip("?.! ")
    words = q.split()
    i = 0
    while i < len(words) and words[i].lower() in _WH | _AUX:
        i += 1
    rest = words[i:]
    # "Who ordered the operation that …": drop the verb right after the wh-word when an article follows
    if i == 1 and len(rest) >= 2 and rest[1].lower() in {"the", "a", "an", "this", "that", "his", "her", "their"}:
        rest = rest[1:]
    return " ".join(rest)


def _is_demonstrative_pronoun(tokens: Sequence[str], i: int) -> bool:
    nxt = tokens[i + 1].lower() if i + 1 < len(tokens) else ""
    return nxt in _AFTER_DEMONSTRATIVE_PRONOUN


def needs_context(question: str) -> bool:
    """Does ``question`` hold a pronoun that refers back to an earlier turn?"""
    tokens = _TOKEN.findall(question)
    for i, t in enumerate(tokens):
        w = t.lower()
        if w in PERSON_PRONOUNS or w in {"it", "its"}:
            return True
        if w in {"this", "that"} and _is_demonstrative_pronoun(tokens, i):
            return True
    return False


def rewrite(question: str, previous: Turn | None) -> str:
    """``question`` with its pronouns replaced from ``previous``; unchanged when nothing applies.

    Person pronouns become the previous short answer when it is a name (else the first name in the
    previous question); "it"/"this"/"that" become the previous question's topic when that is a noun
    phrase ("the operation that captured Maduro"), and otherwise the topic is added in brackets.
    """
    if previous is None or not question or not needs_context(question):
        return question
    person = previous.answer.strip() if _looks_like_name(previous.answer) else None
    if person is None:
        q_names = names_in(previous.question)
        person = q_names[0] if q_names else None
    thing = _topic(previous.question) if previous.question else ""
    thing_is_phrase = bool(thing) and thing.split()[0].lower() in _DETERMINERS

    out: list[str] = []
    pos = 0
    tokens = _TOKEN.findall(question)
    tok_index = {m.start(): k for k, m in enumerate(_TOKEN.finditer(question))}
    changed = False
    append_topic = False
    for m in _PRONOUN_RE.finditer(question):
        lw = m.group(1).lower()
        k = tok_index.get(m.start())
        if k is None or tokens[k].lower() != lw:
            continue  # part of a longer token, e.g. "it's"
        nxt = tokens[k + 1].lower() if k + 1 < len(tokens) else ""
        repl = None
        if lw in PERSON_PRONOUNS:
            if person:
                possessive = lw in _POSSESSIVE or (lw == "her" and nxt.isalpha() and nxt not in _AFTER_OBJECT)
                repl = f"{person}’s" if possessive else person
        elif lw in {"it", "its"} or _is_demonstrative_pronoun(tokens, k):
            if thing_is_phrase:
                repl = f"{thing}’s" if lw == "its" else thing
            elif thing:
                append_topic = True
        if repl is None:
            continue
        out.append(question[pos:m.start()])
        out.append(repl)
        pos = m.end()
        changed = True
    out.append(question[pos:])
    result = "".join(out)
    if append_topic:
        body = result.rstrip()
        end = ""
        while body and body[-1] in "?.!":
            body, end = body[:-1], body[-1] + end
        result = f"{body} ({thing}){end}"
        changed = True
    return result if changed else question


def previous_turn(history: Iterable[tuple[str, str]]) -> Turn | None:
    """The last complete (question, answer) pair in a ``(role, text)`` history, answers reduced
    to their first line (the short answer, when there is one)."""
    last_q: str | None = None
    turn: Turn | None = None
    for role, text in history:
        if role == "user":
            last_q = text
        elif role == "assistant" and last_q is not None:
            first = next((ln.strip() for ln in (text or "").splitlines() if ln.strip()), "")
            turn = Turn(question=last_q, answer=None if first.startswith(("“", "\"", "Not found")) else first)
            last_q = None
    return turn
