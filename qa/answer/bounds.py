"""Which of a sentence's amounts, dates or counts the question asks for: the bound ("What is the
maximum penalty for late delivery?" over "a penalty of 1.5% …, up to a maximum of 10% of that value":
the 10%, not the rate the reader was surer of, a user's supply agreement), one end of a range of
dates, a group's count. Rules over the sentence, no model; applied by
:meth:`qa.answer.reader.ReaderAnswerer._read` to each span read.
"""

from __future__ import annotations

import re

#: a question asking for an upper or a lower bound ("at least" in a question describes: "the prize for finding a
#: prime with at least 10 million digits" asks the prize, a dev-half question)
_ASKS_MOST = re.compile(r"\b(?:maximum|max|highest|upper limit|cap|ceiling)\b", re.I)
_ASKS_LEAST = re.compile(r"\b(?:minimum|min|lowest|lower limit)\b", re.I)
_AMOUNT = r"(?:[$€£¥]\s?\d[\d,.]*|\b(?:GBP|EUR|USD|CHF)\s?\d[\d,.]*|\b\d[\d,.]*\s?(?:%|percent\b|per cent\b)?)"
#: where a sentence states a bound: "up to a maximum of 10%", "at most 3", "capped at EUR 500", "at least 20 units"
_MOST = re.compile(rf"\b(?:(?:up\s+to\s+)?(?:a\s+)?maximum\s+(?:of\s+)?|up\s+to\s+|at\s+most\s+|no\s+more\s+than\s+|capped\s+at\s+|not\s+exceeding\s+)({_AMOUNT})", re.I)
_LEAST = re.compile(rf"\b(?:(?:a\s+)?minimum\s+(?:of\s+)?|at\s+least\s+|no\s+less\s+than\s+|not\s+less\s+than\s+)({_AMOUNT})", re.I)


def bounded_amount(question: str, sentence: str, start: int, end: int) -> tuple[int, int]:
    """A span on an amount moved to the bound the question asks for, when the sentence states one
    bound of that kind, at another amount; else unchanged.

    >>> s = "The Supplier shall pay a penalty of 1.5% of the value, up to a maximum of 10% of that value."
    >>> s[slice(*bounded_amount("What is the maximum penalty for late delivery?", s, s.index("1.5%"), s.index("1.5%") + 4))]
    '10%'
    >>> s[slice(*bounded_amount("What penalty does the supplier pay per week?", s, s.index("1.5%"), s.index("1.5%") + 4))]
    '1.5%'
    >>> s[slice(*bounded_amount("What is the prize for at least 10% of the value?", s, s.index("1.5%"), s.index("1.5%") + 4))]
    '1.5%'
    >>> t = "Groups of at least 10 pay EUR 8 each."
    >>> t[slice(*bounded_amount("What is the minimum group size?", t, t.index("EUR"), t.index("EUR") + 5))]
    '10'
    """
    bound = _MOST if _ASKS_MOST.search(question) else _LEAST if _ASKS_LEAST.search(question) else None
    if bound is None or not re.search(r"\d", sentence[start:end]):
        return start, end
    stated = list(bound.finditer(sentence))
    if len(stated) != 1:
        return start, end
    a, b = stated[0].span(1)
    b = len(sentence[:b].rstrip(" .,;"))  # "10%." ends before its full stop
    return (start, end) if a <= start < b else (a, b)


#: a question asking when something starts, or when it ends
_ASKS_START = re.compile(r"\b(?:start|starts|started|begin|begins|began|commence[sd]?|open|opens|opened)\b", re.I)
_ASKS_END = re.compile(r"\b(?:end|ends|ended|finish|finishes|finished|close|closes|closed|conclude[sd]?|end\s+date|expire[sd]?)\b", re.I)
#: a date changed "from … to …", and a question asking the date before the change
_CHANGED = re.compile(r"\b(?:mov(?:e|es|ed|ing)|postpon\w+|delay\w*|chang\w+|extend\w*|push\w*|brought|bring\w*|shift\w*|reschedul\w+)\b"
                      r"[^.;]{0,40}$", re.I)
_ASKS_OLD = re.compile(r"\b(?:originally|original|old|previous|previously|initially|first\s+planned|before\s+the\s+change)\b", re.I)
#: a span that is a range of two dates or times: "7 April to 12 May 2025", "from 28 February 2026 to 30 June 2026"
_DATE_RANGE = re.compile(r"^(?:from\s+)?(?P<a>\S.*?)\s*(?:\bto\b|\buntil\b|\btill\b|\bthrough\b|–|—)\s*(?P<b>\S.*)$", re.I)


def range_end_asked(question: str, sentence: str, start: int, end: int) -> tuple[int, int]:
    """Of a span that is a range of dates, the end the question asks for: when something starts, its
    first date; when it ends, its last. A date changed "from … to …" answers with its new date, or its
    old one when the question asks the original ("When will the field study start now?" over "the
    start of the field study moves from 7 April to 12 May 2025", a user's e-mails: 12 May 2025). A
    question asking neither, or both, keeps the range.

    >>> s = "The study now runs from 7 April to 12 May 2025."
    >>> a, b = s.index("7 April"), s.index("2025") + 4
    >>> s[slice(*range_end_asked("When will the field study start now?", s, a, b))], s[slice(*range_end_asked("When does it end?", s, a, b))]
    ('7 April', '12 May 2025')
    >>> s[slice(*range_end_asked("When does the study run?", s, a, b))]
    '7 April to 12 May 2025'
    >>> c = "The start of the field study moves from 7 April to 12 May 2025."
    >>> a, b = c.index("7 April"), c.index("2025") + 4
    >>> c[slice(*range_end_asked("When will the field study start now?", c, a, b))], c[slice(*range_end_asked("When was it originally to start?", c, a, b))]
    ('12 May 2025', '7 April')
    """
    if not re.match(r"^\W*(?:when|on\s+what\s+date|what\s+(?:date|day)|what\s+(?:\w+\s+){0,4}date)\b", question, re.I):
        return start, end
    wants_start, wants_end = bool(_ASKS_START.search(question)), bool(_ASKS_END.search(question))
    m = _DATE_RANGE.match(sentence[start:end])
    if m is not None and _CHANGED.search(sentence[max(0, start - 60) : start]):  # "moves from 7 April to 12 May 2025": a change,
        wants_start, wants_end = bool(_ASKS_OLD.search(question)), not _ASKS_OLD.search(question)  # its new date unless the old is asked
    # both ends whole dates ("7 April", "12 May 2025"), not one quantity's ("3–2.7 billion years ago", "1922–23")
    if m is None or wants_start == wants_end or not all(re.search(r"\d", m.group(k)) and re.search(r"[A-Za-z]{3}", m.group(k)) for k in "ab"):
        return start, end
    return (start + m.start("a"), start + m.end("a")) if wants_start else (start + m.start("b"), start + m.end("b"))


#: a count and the group it is of: "76 in the amber group", "72 in the clear-lens group"
_COUNT_IN = re.compile(r"((?:[$€£¥]\s?)?\b\d[\d,.]*)\s+(?:were\s+|are\s+)?(?:in|from|of)\s+the\s+([\w-]+(?:\s+[\w-]+)?)")


def paired_count(question: str, sentence: str, start: int, end: int) -> tuple[int, int]:
    """A number span moved to the count of the one group the question names, where the sentence pairs
    counts with groups: "148 participants completed the study: 76 in the amber group and 72 in the
    clear-lens group." answers "How many … in the clear-lens group?" with "72" (a user's paper).

    >>> s = "148 participants completed the study: 76 in the amber group and 72 in the clear-lens group."
    >>> s[slice(*paired_count("How many finished in the clear-lens group?", s, 0, 3))], s[slice(*paired_count("How many finished?", s, 0, 3))]
    ('72', '148')
    """
    if not re.match(r"^\W*how\s+(?:many|much)\b", question, re.I) or not re.search(r"\d", sentence[start:end]):
        return start, end
    pairs = [m for m in _COUNT_IN.finditer(sentence) if not m.group(2).lower().endswith(" of")]
    if len(pairs) < 2:
        return start, end
    named = [m for m in pairs if re.search(rf"\b{re.escape(m.group(2))}\b", question, re.I)]
    if len(named) != 1 or named[0].start(1) <= start < named[0].end(1):
        return start, end
    return named[0].span(1)


_NUMBER_WORD = (r"\d[\d,]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen"
                r"|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|hundred")
#: "five of seven trustees present": the part, the whole, what is counted, and what the part is
_PART_OF_WHOLE = re.compile(rf"\b(?!one\b)({_NUMBER_WORD})\s+(?:out\s+)?of\s+(?:the\s+|all\s+)?({_NUMBER_WORD})\s+([a-z-]+)\s+"
                            r"([a-z]+(?:ed|ing)|present|absent|alive|dead|missing|eligible|injured)\b", re.I)


def part_of_whole(question: str, sentence: str, start: int, end: int) -> tuple[int, int]:
    """A span on the whole of "N of M things <being so>" moved to the part, N, when the question asks
    how many things are so: "quorate with five of seven trustees present" answers "How many trustees
    were present?" with "five", not "seven" (a user's minutes); "How many trustees are there?" keeps it.

    >>> s = "The meeting was quorate with five of seven trustees present."
    >>> [s[slice(*part_of_whole(q, s, s.index("seven"), s.index("seven") + 5))] for q in ("How many trustees were present?", "How many trustees are there?")]
    ['five', 'seven']
    >>> s = "Graduates train at one of the seven Scottish Universities who offer these courses."
    >>> s[slice(*part_of_whole("How many universities offer ITE?", s, s.index("seven"), s.index("seven") + 5))]
    'seven'
    """
    if not re.match(r"^\W*how\s+many\b", question, re.I):
        return start, end
    for m in _PART_OF_WHOLE.finditer(sentence):
        if m.start(2) <= start < m.end(2) and re.search(rf"\b{re.escape(m.group(4))}\b", question, re.I):
            return m.span(1)
    return start, end
