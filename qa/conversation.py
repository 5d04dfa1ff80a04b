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
>>> rewrite_text("What did he say about it?", "Who ordered the operation that captured Maduro?", "Donald Trump")
'What did Donald Trump say about the operation that captured Maduro?'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from qa.answer.definitions import TITLES
from qa.followups import follow_up_of, it_names, of_what, that_one
from qa.topics import AUX, DETERMINERS, WH, WORD, topic_of, without_shared_tail
from qa.types import Answer

#: Pronouns that point at a person or group (replaced by a name).
PERSON_PRONOUNS = {"she", "he", "her", "him", "his", "hers", "they", "them", "their", "theirs"}
#: Pronouns that point at a thing or event (replaced by the previous topic).
THING_PRONOUNS = {"it", "its", "this", "that"}
_POSSESSIVE = {"his", "their", "its", "hers", "theirs"}
# Capitalised words that are not names when they start a question or stand alone.
_NOT_NAMES = WH | AUX | {
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


_SINGULAR_PERSON, _PLURAL = {"she", "he", "her", "him", "his", "hers"}, {"they", "them", "their", "theirs"}
_SHE, _HE = {"she", "her", "hers"}, {"he", "him", "his"}
#: head words of a group a "they"/"them" can stand for ("Venezuelan security personnel", "U.S. special forces")
GROUP_WORDS = {
    "forces", "troops", "personnel", "people", "officials", "police", "soldiers", "agents", "guards", "members",
    "residents", "protesters", "militants", "rebels", "workers", "citizens", "civilians", "leaders", "authorities",
    "military", "government", "army", "officers", "commandos", "operators", "marines", "crew", "team", "group",
    "family", "supporters", "opposition", "ministers", "lawmakers", "countries", "nations", "allies", "victims",
}
#: group words that are as often a noun's modifier ("military strike", "government plan")
_MODIFIER_GROUPS = {"military", "government", "police", "army", "opposition", "family", "team", "group", "crew"}


def _modifies(following: str) -> bool:
    """Is a group word before ``following`` its modifier? A lower-case word that is no function word
    and no past-tense verb ("the army attacked")."""
    w = following.lower()
    return following[:1].islower() and w not in _NOT_NAMES | _AFTER_OBJECT | DETERMINERS and not w.endswith("ed")


_HOW_MANY = re.compile(r"\bhow many\s+(.+?)\s+(?:were|was|are|is|have|has|had|did|do|does|will|would|could|can|died)\b", re.I)
#: "How many participants completed the trial?": what is counted, a plural, right before its verb
_HOW_MANY_DID = re.compile(r"\b(?i:how many)\s+((?:[a-z-]+\s+)?[a-z-]+s)\s+[a-z]+ed\b")
_ROMAN = re.compile(r"^(?:I{1,3}|IV|V|VI{0,3}|IX|X)$")


#: the last word of a name that is an event, an organisation or a place, never a person
_THING_HEADS = frozenset("summit conference festival congress forum expo meeting inc ltd llc plc gmbh corp corporation company "
                         "group association society foundation institute university college school hospital ministry council "
                         "committee agency bank hall centre center museum park street road avenue square airport station club team".split())


def _is_thing_name(name: str, context: str = "") -> bool:
    """A capitalised name that is no person: an acronym ("U.S."), a numbered thing ("Tuy III"), or
    one the text gives an article ("the Tuy III plant")."""
    last = name.split()[-1]
    if re.fullmatch(r"(?:[A-Z]\.)+|[A-Z]{2,5}", last) or _ROMAN.match(last) or any(ch.isdigit() for ch in name):
        return True
    if last.lower() in _THING_HEADS:  # "NordDev Summit" is nobody "she" can be (a user's chat)
        return True
    at = context.find(name)
    before = context[:at].split()[-1:] if at > 0 else []
    return bool(before) and before[0].lower() in {"the", "a", "an"}


def _group_in(text: str | None) -> str | None:
    """A group named in ``text``: what "how many" counts, else a phrase ending in a group word."""
    if not text:
        return None
    m = _HOW_MANY.search(text) or _HOW_MANY_DID.search(text)
    if m:
        return m.group(1).strip(" ,")
    words = WORD.findall(text)
    for i, w in enumerate(words):
        if w.lower() in _MODIFIER_GROUPS and i + 1 < len(words) and _modifies(words[i + 1]):
            continue  # "the military strike": a strike, not the military
        if w.lower() in GROUP_WORDS:
            j = i
            while j > 0 and i - j < 3 and words[j - 1].lower() not in _NOT_NAMES | DETERMINERS | WH:
                j -= 1
            return " ".join(words[j : i + 1])
    return None


#: a question whose answer can be a person: not "Where did Trump watch it?" (a "he" after it is still Trump)
_ASKING_WHO = re.compile(r"^\W*(?:\w+\W+){0,3}?(?:who|whom|whose)\b", re.I)


def _person_named(answer: str) -> str | None:
    """The person a short answer names: all of it ("Delcy Rodríguez"), or its one name after a title
    ("President Donald Trump" → "Donald Trump"); None for a number, a group, a thing or several people."""
    text = answer.strip()
    if not text or len(text) > 60 or any(ch.isdigit() for ch in text) or _group_in(text) or text.split()[-1].lower() in TITLES:
        return None
    names = [n for n in names_in(text) if not _is_thing_name(n, text)]
    if names and all(n in names[0] for n in names):  # "Flores; Cilia Flores" is one person
        return names[0]
    if names and text.startswith(names[0]) and _AFFILIATION.match(text, len(names[0])):
        return names[0]  # "Professor Ingrid Solberg of Nordvik University, Norway": a person, then where she is from
    return None


#: what follows a person's name in an answer that goes on to say where they are from
_AFFILIATION = re.compile(r"\s+(?:of|from|at)\s+(?:the\s+)?[A-Z]")


def _person_in(question: str, answer: str | None, skip: frozenset[str] = frozenset()) -> str | None:
    """Who "she"/"he" can be after a turn: the person its short answer names when it asked who, else a
    person's name in its question; a number, a group, a place or a thing is never put for a person,
    nor a name in ``skip`` (one the user called by the other pronoun)."""
    if answer is not None and _ASKING_WHO.search(question):
        named = _person_named(answer)
        if named and named not in skip:
            return named
    return next((n for n in names_in(question) if not _is_thing_name(n, question) and n not in skip), None)


def _plural_in(question: str, answer: str | None) -> str | None:
    """Who "they"/"them" can be after a turn: a group in its short answer, else in its question."""
    if answer is not None and not any(ch.isdigit() for ch in answer) and _group_in(answer):
        return answer.strip()
    return _group_in(question)


def _referent(lw: str, turns: Sequence[tuple[str, str | None]], called: Mapping[str, str] | None = None) -> str | None:
    """The referent of pronoun ``lw`` in the latest turn that has one of its kind (turns newest first);
    ``called``: name -> "she"/"he" as the user referred to it earlier (a "him" is never a "she")."""
    if lw not in _SINGULAR_PERSON:
        return next((r for q, a in turns if (r := _plural_in(q, a))), None)
    other = "he" if lw in _SHE else "she"
    skip = frozenset(n for n, g in (called or {}).items() if g == other)
    return next((r for q, a in turns if (r := _person_in(q, a, skip))), None)


def pronoun_names(turns: Sequence[Turn]) -> dict[str, str]:
    """name -> "she"/"he": the names the user's own pronouns stood for in ``turns`` (the name a
    follow-up's "she" was resolved to is a "she" for the rest of the conversation)."""
    called: dict[str, str] = {}
    for t in turns:
        words = {w.lower() for w in WORD.findall(t.question)}
        gender = "she" if words & _SHE and not words & _HE else "he" if words & _HE and not words & _SHE else None
        if gender and t.searched_for and t.searched_for != t.question:
            for n in names_in(_without_added_topic(t.searched_for)):
                if n not in t.question:
                    called.setdefault(n, gender)
    return called


def _without_added_topic(searched: str) -> str:
    """A searched question less the topic a rewrite added in brackets (the previous turn's names)."""
    return re.sub(r"\s*\([^()]*\)(?=[?.!]*$)", "", searched)


#: a follow-up that is only a question word: "and where?", "Why?", "How many exactly?"
_ELLIPSIS = re.compile(
    r"^\W*(?:(?:and|but|so|then|ok|okay|also)\W+)?(how (?:many|much|long|far|old|often)|(?:by|until|till|since) when|who|whom|whose|what|when|where|why"
    r"|which|how)(?:\W+(?:exactly|then|else|again|now|so|though))?\W*$", re.I)
_LEADING_AUX = {"did", "does", "do", "was", "were", "is", "are", "has", "have", "had", "will", "would", "can", "could", "must", "shall",
                "should"}


def _asked_again(wh: str, previous: str, answer: str | None = None) -> str:
    """The previous question asked with another question word; when its word was its subject ("Who
    was sworn in …?"), with the person it answered in its place, else the topic in brackets.

    >>> _asked_again("where", "When did the United States launch the military strike?")
    'Where did the United States launch the military strike?'
    >>> _asked_again("where", "Who was sworn in as interim president?", "Delcy Rodríguez")
    'Where was Delcy Rodríguez sworn in as interim president?'
    >>> _asked_again("why", "Who ordered the operation that captured Maduro?", "Donald Trump")
    'Why (the operation that captured Maduro)?'
    >>> _asked_again("by when", "Who must book the van's MOT?", "Tom Whitaker")
    "By when must Tom Whitaker book the van's MOT?"
    """
    words, wh = previous.strip().rstrip("?.! ").split(), wh[:1].upper() + wh[1:].lower()
    aux = len(words) > 2 and words[1].lower() in _LEADING_AUX
    if aux and words[0].lower() in WH - {"who", "what", "which"}:
        return " ".join([wh, *words[1:]]) + "?"
    if aux and words[0].lower() == "who" and (person := _person_named(answer or "")):
        return " ".join([wh, words[1], person, *words[2:]]) + "?"
    topic = topic_of(previous)
    return f"{wh} ({topic})?" if topic else f"{wh}?"


def rewrite_text(question: str, previous_question: str, previous_answer: str | None,
                 earlier: Sequence[tuple[str, str | None]] = (), called: Mapping[str, str] | None = None) -> str:
    """``question`` with its pronouns replaced from the previous turn (the question searched for,
    and its short answer), or from ``earlier`` turns (newest first) when the previous one names no
    referent of the pronoun's kind; unchanged when nothing applies.

    "she"/"he" become a person's name (the short answer when it is one, else a name in the question,
    never a number, a group or a thing such as "the Tuy III plant"); "they"/"them" a group ("how many
    Venezuelan security personnel…" → "Venezuelan security personnel"); "it"/"this"/"that" the previous
    question's topic when that is a noun phrase ("the operation that captured Maduro"), and otherwise
    the topic is added in brackets, unless the follow-up names its own subject ("Where did Trump watch
    it?"). A pronoun with no referent of its kind stays as it is: a follow-up is better searched as
    asked than with a wrong name put in (``called``: see :func:`pronoun_names`).

    Longer than 60 lines: one pass over the pronouns, each replaced by its class's referent in place.
    """
    previous = _without_added_topic(previous_question)  # its names and topic, not an older turn's in brackets
    if question and (swapped := follow_up_of(question, previous) or that_one(question, previous)):
        return swapped
    if question and previous and (wh := _ELLIPSIS.match(question)):
        kept = re.search(r"\([^()]*\)(?=[?.!]*$)", previous_question) if _ELLIPSIS.match(previous) else None
        return f"{wh.group(1).capitalize()} {kept.group()}?" if kept else _asked_again(wh.group(1), previous, previous_answer)
    if not question or not needs_context(question):
        return question
    turns = [(previous, previous_answer), *earlier]
    thing = of_what(topic_of(previous)) if previous else ""  # "the price of the E-500": "it" is the E-500
    if any(w.lower().strip(",.;:") in {"it", "its"} for w in thing.split()):
        thing = ""  # "ordered it": the previous question's own "it" was never resolved
    thing_is_phrase = bool(thing) and thing.split()[0].lower() in DETERMINERS
    named = None  # where the previous question's topic is no noun phrase of its own, "it" is the thing it named:
    if not thing_is_phrase:  # "Which club runs on Wednesday?" "Coding Club"; "Who leads Coding Club?" (not "the agreement"
        named = it_names(previous, previous_answer) or next(  # of "Which law governs the agreement?")
            (n for n in names_in(previous) if len(n.split()) > 1 and _is_thing_name(n, previous)), None)

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
            who = _referent(lw, turns, called)
            if who and lw in _PLURAL and who[:1].islower() and who.split()[0].lower() not in DETERMINERS:
                who = f"the {who}"  # "How many of them …?" → "How many of the participants …?"
            if who:
                possessive = lw in _POSSESSIVE or (lw == "her" and nxt.isalpha() and nxt not in _AFTER_OBJECT)
                repl = (f"{who}’" if who.endswith("s") else f"{who}’s") if possessive else who
        elif lw in {"it", "its"} or _is_demonstrative_pronoun(tokens, k):
            if named:
                repl = f"{named}’s" if lw == "its" else named
            elif thing_is_phrase:
                phrase = without_shared_tail(thing, question)
                repl = f"{phrase}’s" if lw == "its" else phrase
            elif thing and not names_in(question):  # a bracketed topic would only pull away from the name asked about
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


def rewrite(question: str, previous: Turn | None, earlier: Sequence[Turn] = ()) -> str:
    """``question`` resolved against the ``previous`` turn (unchanged without one); ``earlier`` turns
    (newest first) are looked at for a pronoun whose kind the previous turn does not name."""
    if previous is None:
        return question
    back = [(_without_added_topic(t.searched_for or t.question), t.short_answer) for t in earlier]
    return rewrite_text(question, previous.searched_for or previous.question, previous.short_answer, back,
                        pronoun_names([*reversed(earlier), previous]))


def resolve(question: str, history: Sequence[Turn]) -> str:
    """``question`` as it is searched for after ``history`` (oldest first): a follow-up refers to
    the last turn (itself resolved against the turns before it), or for a person or group the last
    one naming somebody of that kind among the last three turns."""
    if not history:
        return question
    return rewrite(question, history[-1], list(reversed(history[-3:-1])))
