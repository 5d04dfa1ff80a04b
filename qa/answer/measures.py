"""Which measure a length answers: "How deep is the River Averne at Wrenford?" is not answered by "94
kilometres" of "It is 94 kilometres (58 miles) long" (a user's river article): the sentence says the
length is its length. Rules over the sentence, no model; part of :meth:`qa.answer.asked.Asked.sets_aside`.
"""

from __future__ import annotations

import re

#: the measure a "how …" question asks, and the words a sentence states each measure with
_ASKED = re.compile(r"^\W*how\s+(deep|wide|broad|high|tall|long)\b(?!\s+(?:ago|before|after|did|does|do|will|would|has|have|had|was|were)\b)", re.I)
_MEASURE = {"deep": "depth", "wide": "width", "broad": "width", "high": "height", "tall": "height", "long": "length"}
#: a measure stated right after a length: "94 kilometres (58 miles) long", "12 metres high"
_STATED = re.compile(r"^\s*(?:\([^)]{0,30}\)\s*)?(deep|wide|broad|high|tall|long)\b", re.I)


def other_dimension(question: str, sentence: str, start: int, end: int) -> bool:
    """Is the span a length the sentence says measures another dimension than the one asked?

    >>> s = "It is 94 kilometres (58 miles) long and drains a catchment of 1,130 square kilometres."
    >>> other_dimension("How deep is the River Averne?", s, 6, 19), other_dimension("How long is the River Averne?", s, 6, 19)
    (True, False)
    >>> other_dimension("How deep is the River Averne?", s, 6, len(s) - 1), other_dimension("How long did the war last?", "It lasted 4 years long.", 10, 17)
    (True, False)
    >>> other_dimension("How high is the viaduct?", "A 1:50 scale model of the viaduct.", 2, 6)
    True
    """
    asked = _ASKED.match(question)
    if asked is None or re.search(r"\b(?:years?|months?|weeks?|days?|hours?|minutes?)\b", sentence[start:end], re.I):
        return False
    if re.match(r"\s*scale\b", sentence[end:], re.I) and re.fullmatch(r"\d+\s*:\s*\d+", sentence[start:end].strip()):
        return True  # "A 1:50 scale model of the viaduct" gives no height (a user's museum guide)
    # after the span, or after a length inside it ("94 kilometres (58 miles) long and drains …")
    ends = [end] + [start + m.end() for m in _LENGTH.finditer(sentence[start:end])]
    stated = [m.group(1).lower() for m in (_STATED.match(sentence[e:]) for e in ends) if m]
    return any(_MEASURE[m] != _MEASURE[asked.group(1).lower()] for m in stated)


#: a length: "94 kilometres", "58 miles", "12 m"
_LENGTH = re.compile(r"\d[\d,.]*\s*(?:kilometres?|kilometers?|km|metres?|meters?|m|miles?|feet|ft|foot|inches?|cm|mm|yards?)\b")
