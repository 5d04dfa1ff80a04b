"""Conversations: earlier turns as data, and follow-up questions resolved against them.

"When was she sworn in?" cannot be searched for as it stands: "she" is whoever the previous turn
was about. :meth:`qa.QA.ask` takes the earlier turns (``history``, oldest first, as :class:`Turn`)
and searches for the question with its pronouns resolved (:func:`resolve`); the returned
:class:`~qa.types.Answer` says what was searched for in ``searched_question``. Every entry point
(the chat, REST, the OpenAI-compatible API, the CLI) passes typed turns; nothing parses rendered
text back.

The rewrite is simple and deterministic, no model: when a question holds a pronoun and the previous
turn named someone (its short answer, or a capitalised name in the question it searched for), the
pronoun is replaced by that name. "it"/"this"/"that" are replaced by the previous question's topic
(its noun phrase, else the topic is added in brackets).

>>> from qa.types import Answer
>>> first = Turn("Who was sworn in as interim president?", "Who was sworn in as interim president?",
...              Answer(question="Who was sworn in as interim president?", text="…", short_answer="Delcy Rodríguez"))
>>> resolve("When was she sworn in?", [first])
'When was Delcy Rodríguez sworn in?'
>>> resolve("Who won the World Cup?", [first])
'Who won the World Cup?'
>>> rewrite_text("What did he say about it?", "Who ordered the operation that captured Maduro?", "Donald Trump")
'What did Donald Trump say about the operation that captured Maduro?'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from qa.types import Answer

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
    """One earlier exchange: what the user asked, what was searched for (the question with its
    follow-up resolved), and the :class:`~qa.types.Answer` given."""

    question: str
    searched_for: str
    answer: Answer

    @classmethod
    def of(cls, answer: Answer) -> Turn:
        """The turn an answer from :meth:`qa.QA.ask` closes (it records both questions)."""
        return cls(question=answer.question, searched_for=answer.searched_question or answer.question, answer=answer)

    @property
    def short_answer(self) -> str | None:
        """The short answer a follow-up can refer to (None after a refusal or a quote-only answer)."""
        return None if self.answer.refused else self.answer.short_answer

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "searched_for": self.searched_for, "answer": self.answer.to_dict()}

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


def rewrite_text(question: str, previous_question: str, previous_answer: str | None) -> str:
    """``question`` with its pronouns replaced from the previous turn (the question searched for,
    and its short answer); unchanged when nothing applies.

    Person pronouns become the previous short answer when it is a name (else the first name in the
    previous question); "it"/"this"/"that" become the previous question's topic when that is a noun
    phrase ("the operation that captured Maduro"), and otherwise the topic is added in brackets.
    """
    if not question or not needs_context(question):
        return question
    person = previous_answer.strip() if previous_answer is not None and _looks_like_name(previous_answer) else None
    if person is None:
        q_names = names_in(previous_question)
        person = q_names[0] if q_names else None
    thing = _topic(previous_question) if previous_question else ""
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


def rewrite(question: str, previous: Turn | None) -> str:
    """``question`` resolved against the ``previous`` turn (unchanged without one)."""
    if previous is None:
        return question
    return rewrite_text(question, previous.searched_for or previous.question, previous.short_answer)


def resolve(question: str, history: Sequence[Turn]) -> str:
    """``question`` as it is searched for after ``history`` (oldest first): a follow-up refers to
    the last turn, which was itself resolved against the turns before it."""
    return rewrite(question, history[-1] if history else None)
