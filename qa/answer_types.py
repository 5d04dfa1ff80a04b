"""Does an answer look like the kind of thing the question asked for? Pure Python, no model.

Two small functions, shared by the evaluation (the "wrong type" counts of ``qa eval``) and usable
by the answer code:

* :func:`question_word` — the question's wh-word class: ``when``, ``who``, ``how many``,
  ``how much``, ``where``, ``what``, ``which``, ``why``, ``how`` or ``other``;
* :func:`looks_like` — whether an answer text has the shape of an answer to that class.

Only three classes have a checkable shape (:data:`CHECKED`): ``when`` (a time expression), ``who``
(a name-like span) and ``how many`` (a number). The engine's own answer types
(:func:`qa.answer.question_type`: ``date``, ``person``, ``number``) are accepted as aliases, so the
answer code can pass its own labels. Any other class is not checked: :func:`looks_like` says True.

>>> looks_like("when", "in the spring of 1832")
True
>>> looks_like("who", "1832")
False
>>> looks_like("how many", "several")
False
"""

from __future__ import annotations

import re

#: the question-word classes, in report order
QUESTION_WORDS: tuple[str, ...] = ("when", "who", "how many", "how much", "where", "what", "which", "why", "how", "other")

#: classes whose answers have a checkable shape
CHECKED: tuple[str, ...] = ("when", "who", "how many")

#: the engine's answer types (qa.answer.PERSON, DATE, NUMBER) and the class each one is checked as
ALIASES: dict[str, str] = {"date": "when", "person": "who", "number": "how many"}

# The first wh-word decides, as in qa.answer.question_type: in "What were they doing when the raid
# began?" the "when" belongs to a clause. "whom"/"whose" ask for a person too.
_WH = re.compile(r"\b(how\s+many|how\s+much|when|whom|whose|who|where|what|which|why|how)\b", re.I)


_AFTER_CLAUSE = re.compile(r",\s*" + _WH.pattern, re.I)
_SUBORDINATE = re.compile(r"\W*(?:if|since|although|though|because|while|after|before|once|unless|as|given)\b", re.I)


def question_word(question: str) -> str:
    """The wh-word class of ``question`` (its first wh-word), one of :data:`QUESTION_WORDS`.

    >>> question_word("How many people live in Warsaw?")
    'how many'
    >>> question_word("In what year did the war end?")
    'what'
    >>> question_word("What were they doing when the raid began?")
    'what'
    >>> question_word("When John Fox left the Broncos, who replaced him?")
    'who'
    >>> question_word("Prior to Super Bowl 50, when were the Broncos last there?")
    'when'
    >>> question_word("Since NASA didn't know how many tests it needed, what did it use?")
    'what'
    >>> question_word("To whom did he write?")
    'who'
    >>> question_word("The treaty was signed in 1763?")
    'other'
    """
    m = _WH.search(question)
    if not m:
        return "other"
    if m.group(1).lower() in ("when", "where") or _SUBORDINATE.match(question):
        # "When John Fox left, who replaced him?", "Since NASA didn't know how many attempts …, what
        # did they use?": a leading clause, then the question after a comma
        later = _AFTER_CLAUSE.search(question, m.end())
        if later:
            m = later
    word = " ".join(m.group(1).lower().split())
    return "who" if word in ("whom", "whose") else word


# "May" only capitalised: "may" is mostly the verb
_MONTH = (r"(?:(?i:january|february|march|april|june|july|august|september|october|november|december"
          r"|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\.?|May|MAY)")
_WEEKDAY = r"(?i:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_TIME_EXPR = re.compile(
    rf"\b{_MONTH}(?!\w)|\b{_WEEKDAY}(?!\w)"                        # month names, weekdays
    r"|(?i:"
    r"\b1\d{3}s?\b|\b20\d{2}s?\b"                                 # a year (1000-2099), or its decade: 1970s
    r"|'\d0s\b|\b\d0s\b"                                          # '60s, 60s
    r"|\b\d{1,4}\s*(?:bc|bce|ad|ce|b\.c\.|a\.d\.)(?!\w)|\b(?:ad|a\.d\.)\s*\d{1,4}\b"  # 476 AD, AD 476
    r"|\b\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\b"                       # 3/4/2010, 2010-01-03
    r"|\b\d{1,2}(?::\d{2})+\s*(?:[ap]\.?m\.?)?(?!\w)|\b\d{1,2}\s*[ap]\.?m\.?(?!\w)"  # 10:30, 3 pm
    r"|\b(?:today|yesterday|tomorrow|tonight|overnight|noon|midnight|dawn|dusk|morning|afternoon|evening|night)\b"
    r"|\b(?:o'clock|century|centuries|decade|decades|millennium|era|season|spring|summer|autumn|fall|winter)\b"
    r"|\b(?:now|ago|years?|months?|weeks?|days?|hours?|minutes?)\b"
    r"|^\W*(?:during|after|before|until|till|since|while|whenever|once)\b"  # a temporal clause or phrase
    r")"
)
_NUMBER_WORDS = (
    r"(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundreds?|"
    r"thousands?|millions?|billions?|trillions?|dozens?|half|once|twice|single|pair|couple)"
)
_NUMBER = re.compile(rf"\d|\b{_NUMBER_WORDS}\b", re.I)
# the whole text is a number or a date: "Three", "1832", "May 4", "the 19th century"
_ONLY_NUMBER = re.compile(rf"^(?:(?:about|around|over|nearly|some|the|a|an)\s+)?(?:[\d.,%$]+|{_NUMBER_WORDS})(?:[\s-]+(?:[\d.,%$]+|{_NUMBER_WORDS}|and))*$", re.I)
_DATE_WORD = re.compile(
    rf"^(?:(?:the|in|on|of|early|late|mid|by|since|until|\d+(?:st|nd|rd|th)?|[\d,]+|{_MONTH}|{_WEEKDAY}"
    r"|century|centuries|bc|bce|ad|ce|b\.c\.|a\.d\.|1\d{3}s?|20\d{2}s?)[\s,.-]*)+$",
    re.I,
)
_LEADING = re.compile(r"^[\s\"“‘'(\[]*(?:(?:the|a|an)\s+)?", re.I)


def looks_like(qtype: str, text: str) -> bool:
    """Does ``text`` have the shape of an answer to a ``qtype`` question?

    * ``when`` (or ``date``): it holds a time expression — a year, a decade, a month name, a weekday,
      a date, a time of day, "today"/"yesterday", a century or season.
    * ``who`` (or ``person``): it starts with a capital letter (after an article or an opening
      quote) and is not only a date or a number.
    * ``how many`` (or ``number``): it holds a number, in digits or words.

    Any other ``qtype`` is not checked (True). An empty text is not an answer (False).

    >>> looks_like("when", "1832")
    True
    >>> looks_like("when", "Tuesday night")
    True
    >>> looks_like("when", "the 19th century")
    True
    >>> looks_like("when", "after the war"), looks_like("when", "the war")
    (True, False)
    >>> looks_like("when", "May"), looks_like("when", "it may rain")
    (True, False)
    >>> looks_like("when", "3:30 p.m."), looks_like("when", "476 AD"), looks_like("when", "the 1970s")
    (True, True, True)
    >>> looks_like("who", "Margaret Doyle")
    True
    >>> looks_like("who", "the Denver Broncos")
    True
    >>> looks_like("who", "May 1832")
    False
    >>> looks_like("who", "Three")
    False
    >>> looks_like("who", "an engineer")
    False
    >>> looks_like("how many", "34 metres")
    True
    >>> looks_like("how many", "twenty-one")
    True
    >>> looks_like("how many", "a small museum")
    False
    >>> looks_like("what", "anything at all")
    True
    >>> looks_like("person", "Ann")
    True
    """
    kind = ALIASES.get(qtype, qtype)
    if kind not in CHECKED:
        return True
    t = " ".join(text.split())
    if not t:
        return False
    if kind == "when":
        return _TIME_EXPR.search(t) is not None
    if kind == "how many":
        return _NUMBER.search(t) is not None
    # who: a name-like span
    rest = t[_LEADING.match(t).end():]
    if not rest or not rest[0].isupper():
        return False
    return not (_ONLY_NUMBER.match(t) or _DATE_WORD.match(t))


def plausible(qtype: str, text: str) -> bool:
    """The answerer's looser test: can ``text`` answer a ``qtype`` question at all?

    As :func:`looks_like` for ``when`` and ``how many``; for ``who`` only a bare number or date is
    ruled out, since SQuAD's gold answers to "who" are often lower-case ("teachers", "the city
    council") and a reader span of that kind is fine.

    >>> plausible("who", "teachers"), plausible("who", "1832"), plausible("who", "May 4")
    (True, False, False)
    >>> plausible("when", "interim president")
    False
    """
    kind = ALIASES.get(qtype, qtype)
    if kind != "who":
        return looks_like(kind, text)
    t = " ".join(text.split())
    return bool(t) and not (_ONLY_NUMBER.match(t) or _DATE_WORD.match(t))
