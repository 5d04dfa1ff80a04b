"""What a question asks for, and whether a text has the shape of an answer to it. Pure Python.

Two typings live here, both read from the question's first wh-phrase:

* :func:`question_type` — the engine's answer type (``person``, ``date``, ``number``, ``place``,
  ``organisation``, ``quote``, ``reason``, ``entity``, ``other``); the scoring and span cutting use it;
* :func:`question_word` — the question's wh-word class (``when``, ``who``, ``how many``, …, ``other``),
  which the evaluation reports by; :func:`looks_like` says whether an answer text has the shape of
  an answer to that class (a time for "when", a name for "who", a number for "how many").

The small text helpers every answerer shares (:data:`STOPWORDS`, :func:`stem`,
:func:`content_terms`) are here too. This module imports only :mod:`re`, so light tools (the
evaluation, the support check) can use it without numpy or a model.

>>> question_type("Who was sworn in as interim president?"), question_word("How many people live in Warsaw?")
('person', 'how many')
>>> looks_like("when", "in the spring of 1832"), looks_like("who", "1832"), looks_like("how many", "several")
(True, False, False)
"""

from __future__ import annotations

import functools
import re

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me more
    most my myself no nor not now of off on once only or other our ours out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom whose why will with would you
    your yours according said say says did does name named called happen happened kind sort whats""".split()
)
#: a word, with its apostrophes and hyphens ("Rodríguez’s", "cold-blooded")
TOKEN = re.compile(r"[\w’'\-]+", re.UNICODE)

PERSON, DATE, NUMBER, PLACE, ORG, QUOTE, REASON, ENTITY, OTHER = (
    "person", "date", "number", "place", "organisation", "quote", "reason", "entity", "other",
)

# "which U.S. official", "what kind of weapons": up to two words between the wh-word and its noun
_WH = r"(?:what|which)(?:\s+(?:kind|type|sort)\s+of)?(?:\s+(?!(?:is|was|are|were|did|does|do|has|had|have|will|would|can|could)\b)[\w.’'-]+){0,3}?\s+"
#: nouns for a person by role: "Which councillor voted against?" asks for a person, never "6-1" (a user's minutes)
ROLES = ("(?:leader|official|minister|president|figure|scholar|analyst|general|officer|politician|journalist|spokesman|"
          "spokeswoman|councill?or|mayor|senator|governor|chair|chairman|chairwoman|chairperson|secretary|treasurer|"
          "manager|director|employee|engineer|doctor|nurse|physician|surgeon|teacher|professor|student|author|writer|"
          "poet|painter|artist|architect|composer|singer|actor|actress|player|coach|captain|driver|pilot|judge|lawyer|"
          "king|queen|emperor|empress|pope|bishop|priest|scientist|researcher|inventor|founder|landlord|tenant|"
          "speaker|candidate|commander|soldier|colleague|invigilator|instructor|lecturer|supervisor|coordinator|"
         "customer|client|patient|owner|guest|visitor)")
_QTYPE_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(how (many|much)|what (number|percentage|percent|amount|sum|share|proportion)|how (large|big|high|long|old|far))\b", re.I), NUMBER),
    (re.compile(rf"\b(when|{_WH}(year|date|day|month|time|decade|century)s?\b|since when|how long ago)", re.I), DATE),
    (re.compile(r"\bwhat (did|does|do|had|has)\b.*\b(say|said|warn|claim|declare|state|call|describe|tell|announce|write|tweet|assert|argue|insist|emphasi[sz]e|stress|vow)\w*\b"
                r"|\bhow (did|does|do|has|have|had|was|were|is)\b.*\b(describe|characteri[sz]e|call|refer|label|dub|term)\w*\b"
                rf"|\b{_WH}(phrase|words?|term|slogan|expression)\b", re.I), QUOTE),
    (re.compile(rf"\b(where|{_WH}(city|country|countries|town|place|region|state|states|neighbou?rhood|location|district|island|continent|border|area|capital|cities|nation|nations)\b)", re.I), PLACE),
    (re.compile(rf"\b{_WH}(organi[sz]ation|agency|group|company|channel|account|network|party|department|body|bodies|institution|court|council|cartel|outlet|university|newspaper|team|unit|administration|tv|television|station|force|forces)s?\b", re.I), ORG),
    (re.compile(rf"\b(who|whom|whose|{_WH}(person|people|man|men|woman|women|{ROLES})s?\b|name of the (person|man|woman|leader|official|minister|president))", re.I), PERSON),
    (re.compile(r"\b(why|how come|for what reason|what (caused|led to|prompted|motivated))\b", re.I), REASON),
    (re.compile(r"^\s*how\b", re.I), REASON),
    (re.compile(r"\b(what|which) (is|was|are|were) the name\b|\bwhat \w+ (is|was) named\b", re.I), ENTITY),
]

_STEM_SUFFIXES = ("ations", "ation", "ings", "ing", "edly", "ies", "ied", "es", "ed", "ly", "s")


@functools.lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """A light suffix stripper: 'invaded'/'invades'/'invading' -> 'invad'. Good enough for overlap.

    Cached: ranking stems every word of every retrieved sentence on each question (about 1,600
    calls), the same few thousand words again and again; uncached that was ~5 ms of a warm ask."""
    w = word.lower().replace("’", "'").strip("'-")
    if w.endswith("'s"):
        w = w[:-2]
    for suf in _STEM_SUFFIXES:
        if len(w) > len(suf) + 2 and w.endswith(suf):
            return w[: -len(suf)]
    return w


def content_terms(text: str) -> list[str]:
    """The stemmed words of ``text`` that carry meaning (no stopwords, no single letters).

    >>> content_terms("Who was sworn in as interim president?")
    ['sworn', 'interim', 'president']
    """
    return list(_content_terms(text))


@functools.lru_cache(maxsize=8192)
def _content_terms(text: str) -> tuple[str, ...]:
    # cached like stem(): ranking asks for the terms of the same retrieved sentences on every question
    return tuple(stem(t) for t in TOKEN.findall(text) if t.lower() not in STOPWORDS and len(t) > 1)


_AUX = frozenset("is was are were did does do has had have can could will would should may might".split())
_HEAD = re.compile(r"\b(?:what|which|name of the|name of)(?:\s+(?:kind|type|sort)\s+of)?((?:\s+[\w.’'-]+){1,3})", re.I)


def head_noun(question: str) -> str | None:
    """The noun a which/what question asks for: "Which Telegram channel ..." -> "channel"."""
    named = re.search(r"\bname of (?:the |a |an )?([\w’'-]+)", question, re.I)
    if named:
        return stem(named.group(1))
    m = _HEAD.search(question)
    if not m:
        return None
    words = m.group(1).split()
    picked = None
    for w in words:
        # the noun phrase ends at the verb: an auxiliary, or a past form ("which channel cited")
        if w.lower() in _AUX or (picked is not None and w.lower().endswith("ed")):
            break
        picked = w
    if picked is None or picked.lower() in STOPWORDS:
        return None
    return stem(picked)


_FIRST_WH = re.compile(r"\b(?:who|whom|whose|what|which|when|where|why|how|name of)\b", re.I)


def question_type(question: str) -> str:
    """The kind of answer asked for, read from the question's first wh-phrase.

    Only the first wh-word counts: in "What were they doing when the raid began?" the "when" is
    part of a clause, not the question.
    """
    first = _FIRST_WH.search(question)
    text = question[first.start() :] if first else question
    for pattern, qtype in _QTYPE_RULES:
        m = pattern.search(text)
        if m and (first is None or m.start() == 0 or pattern.pattern.startswith("^")):
            return qtype
    return OTHER


# --- answer shapes (formerly qa.answer_types) ----------------------------------------------------

#: the question-word classes, in report order
QUESTION_WORDS: tuple[str, ...] = ("when", "who", "how many", "how much", "where", "what", "which", "why", "how", "other")

#: classes whose answers have a checkable shape
CHECKED: tuple[str, ...] = ("when", "who", "how many")

#: the engine's answer types (PERSON, DATE, NUMBER above) and the class each one is checked as
ALIASES: dict[str, str] = {"date": "when", "person": "who", "number": "how many"}

# The first wh-word decides, as in question_type: in "What were they doing when the raid
# began?" the "when" belongs to a clause. "whom"/"whose" ask for a person too.
_WH_CLASS = re.compile(r"\b(how\s+many|how\s+much|when|whom|whose|who|where|what|which|why|how)\b", re.I)


_AFTER_CLAUSE = re.compile(r",\s*" + _WH_CLASS.pattern, re.I)
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
    m = _WH_CLASS.search(question)
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
# lengths of time (and "now", "ago"): a time expression, but one that dates nothing on its own
_DURATION_WORDS = r"(?:now|ago|years?|months?|weeks?|days?|hours?|minutes?)"
_TIME_EXPR = re.compile(
    rf"\b{_MONTH}(?!\w)|\b{_WEEKDAY}s?(?!\w)"                        # month names, weekdays
    r"|(?i:"
    r"\b1\d{3}s?\b|\b20\d{2}s?\b"                                 # a year (1000-2099), or its decade: 1970s
    r"|'\d0s\b|\b\d0s\b"                                          # '60s, 60s
    r"|\b\d{1,4}\s*(?:bc|bce|ad|ce|b\.c\.|a\.d\.)(?!\w)|\b(?:ad|a\.d\.)\s*\d{1,4}\b"  # 476 AD, AD 476
    r"|\b\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\b"                       # 3/4/2010, 2010-01-03
    r"|\b\d{1,2}(?::\d{2})+\s*(?:[ap]\.?m\.?)?(?!\w)|\b\d{1,2}\s*[ap]\.?m\.?(?!\w)"  # 10:30, 3 pm
    r"|\b(?:today|yesterday|tomorrow|tonight|overnight|noon|midnight|dawn|dusk|morning|afternoon|evening|night)\b"
    r"|\b(?:o'clock|century|centuries|decade|decades|millennium|era|season|spring|summer|autumn|fall|winter)\b"
    rf"|\b{_DURATION_WORDS}\b"
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
# each word is taken whole ("(?>...)", the longer alternatives first) and its separators all ("*+"): with overlapping alternatives
# (\d+, [\d,]+, 1\d{3}) a list of numbers such as "500, 1,000, 5,000, 10,000 and 20,000 tögrög" otherwise
# backtracks exponentially (a reader span of that kind hung `qa eval`)
_DATE_WORD = re.compile(
    rf"^(?:(?>1\d{{3}}s?|20\d{{2}}s?|\d+(?:st|nd|rd|th)?|[\d,]+|{_MONTH}|{_WEEKDAY}|the|in|on|of|early|late|mid|by"
    r"|since|until|century|centuries|bce|bc|ad|ce|b\.c\.|a\.d\.)[\s,.-]*+)+$",
    re.I,
)
_LEADING = re.compile(r"^[\s\"“‘'(\[]*(?:(?:the|a|an)\s+)?", re.I)
# a time phrase cut off before what it is relative to ("just hours after" of "just hours after she was
# sworn in") tells no time at all
_RELATING = r"(?:after|before|until|till|since|following|prior to|ahead of|by|from)"
_DANGLING = re.compile(rf"\b{_RELATING}\W*$", re.I)
_RELATED_NEXT = re.compile(rf"^\W*{_RELATING}\b", re.I)
# what plausible_in takes out before looking for a date ("hours" in "hours after the vote")
_DURATION = re.compile(rf"\b(?:{_DURATION_WORDS}|decades?|centuries)\b", re.I)


def looks_like(qtype: str, text: str) -> bool:
    """Does ``text`` have the shape of an answer to a ``qtype`` question?

    * ``when`` (or ``date``): it holds a time expression — a year, a decade, a month name, a weekday,
      a date, a time of day, "today"/"yesterday", a century or season — and does not end on the word
      that relates it to something left out ("just hours after").
    * ``who`` (or ``person``): it starts with a capital letter (after an article or an opening
      quote) and is not only a date or a number.
    * ``how many`` (or ``number``): it holds a number, in digits or words.

    Any other ``qtype`` is not checked (True). An empty text is not an answer (False).

    >>> looks_like("when", "1832")
    True
    >>> looks_like("when", "Tuesday night"), looks_like("when", "Tuesdays and Thursdays")
    (True, True)
    >>> looks_like("when", "the 19th century")
    True
    >>> looks_like("when", "after the war"), looks_like("when", "the war"), looks_like("when", "just hours after")
    (True, False, False)
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
        return _TIME_EXPR.search(t) is not None and not _DANGLING.search(t)
    if kind == "how many":
        return _NUMBER.search(t) is not None
    # who: a name-like span
    rest = t[_LEADING.match(t).end():]
    if not rest or not rest[0].isupper():
        return False
    return not (_ONLY_NUMBER.match(t) or _DATE_WORD.match(t) or _only_a_time(t))


def plausible_in(qtype: str, sentence: str, start: int, end: int) -> bool:
    """:func:`plausible` for the span ``sentence[start:end]``, which for ``when`` must also date
    something itself: a length of time followed by the word that relates it to the rest of the
    sentence ("just hours" of "just hours after she was sworn in") says when only relative to that.

    >>> s = "The clashes occurred just hours after Rodríguez was sworn in."
    >>> plausible_in("when", s, 21, 31), plausible_in("when", "It fell in 2016 after a vote.", 11, 15)
    (False, True)
    """
    text = sentence[start:end]
    if not plausible(qtype, text):
        return False
    if ALIASES.get(qtype, qtype) != "when" or not _RELATED_NEXT.match(sentence[end:]):
        return True
    return _TIME_EXPR.search(_DURATION.sub(" ", text)) is not None


def plausible(qtype: str, text: str) -> bool:
    """The answerer's looser test: can ``text`` answer a ``qtype`` question at all?

    As :func:`looks_like` for ``when`` and ``how many``; for ``who`` only a bare number or date is
    ruled out, since SQuAD's gold answers to "who" are often lower-case ("teachers", "the city
    council") and a reader span of that kind is fine.

    >>> plausible("who", "teachers"), plausible("who", "1832"), plausible("who", "May 4")
    (True, False, False)
    >>> plausible("who", "14:41 UTC"), plausible("who", "10:30 a.m."), plausible("who", "Ortiz at 14:41")
    (False, False, True)
    >>> plausible("when", "interim president")
    False
    """
    kind = ALIASES.get(qtype, qtype)
    if kind != "who":
        return looks_like(kind, text)
    t = " ".join(text.split())
    return bool(t) and not (_ONLY_NUMBER.match(t) or _DATE_WORD.match(t) or _only_a_time(t))


def only_a_date(text: str) -> bool:
    """Is ``text`` (Markdown's emphasis aside) a date or a time and nothing else: "1644", "**1902**",
    "Monday", "14:41 UTC"? Such a label answers when, not who or how many.

    >>> only_a_date("**1644**"), only_a_date("Monday"), only_a_date("14:41 UTC"), only_a_date("4"), only_a_date("Food scraps")
    (True, True, True, False, False)
    """
    t = " ".join(text.strip("*_` ").split())
    return bool(t) and ((looks_like("when", t) and _DATE_WORD.match(t) is not None) or _only_a_time(t))


_TIME_ZONE = re.compile(r"\b(?:UTC|GMT|[ECMP][SD]T|CES?T|BST|IST|local time|hrs|h)\b", re.I)


def _only_a_time(text: str) -> bool:
    """Is ``text`` nothing but a time of day or a date ("14:41 UTC", "10:30 a.m.")? A timeline's
    "14:41 UTC - The rollback was started by Rafael Ortiz." answered "Who started the rollback?"
    with its time (a user's postmortem)."""
    rest = _TIME_ZONE.sub(" ", _TIME_EXPR.sub(" ", text))
    return _TIME_EXPR.search(text) is not None and not re.search(r"[^\W\d_]", rest)


#: roles a question may name by acronym where documents spell them out, or the other way round
ROLE_ACRONYMS = {
    "CEO": "Chief Executive Officer", "CFO": "Chief Financial Officer", "COO": "Chief Operating Officer",
    "CTO": "Chief Technology Officer", "CIO": "Chief Information Officer", "CMO": "Chief Marketing Officer",
    "CPO": "Chief Product Officer", "CRO": "Chief Revenue Officer", "CDO": "Chief Data Officer",
    "CISO": "Chief Information Security Officer", "CHRO": "Chief Human Resources Officer",
    "VP": "Vice President", "SVP": "Senior Vice President", "EVP": "Executive Vice President", "GC": "General Counsel",
}


def with_roles_both_ways(question: str) -> str:
    """``question`` with each role it names by acronym also in words, and each role in words also
    by acronym, for retrieval: "Who is the CTO?" must find "Tomasz Nowak, Chief Technology Officer"
    (a user's meeting minutes), which neither BM25 nor the embedding matched to "CTO".

    >>> with_roles_both_ways("Who is the CTO?"), with_roles_both_ways("Who is the chief financial officer?")
    ('Who is the CTO? (Chief Technology Officer)', 'Who is the chief financial officer? (CFO)')
    >>> with_roles_both_ways("Who won?")
    'Who won?'
    """
    extra = [words for acronym, words in ROLE_ACRONYMS.items() if re.search(rf"\b{acronym}\b", question)]
    extra += [acronym for acronym, words in ROLE_ACRONYMS.items() if re.search(rf"\b{words}\b", question, re.I)]
    return f"{question} ({'; '.join(extra)})" if extra else question
