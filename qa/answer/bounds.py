"""The bound a question asks for: "What is the maximum penalty for late delivery?" over "a penalty of
1.5% of the value …, up to a maximum of 10% of that value" is answered by the 10%, not the rate the
reader was surer of (a user's supply agreement). Rules over the sentence, no model; applied by
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
