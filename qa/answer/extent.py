"""How far a reader's span reaches. The span reader, trained on SQuAD's word pieces, sometimes stops
short ("18" of "18 percent", "Nordmarkt" of "Nordmarkt Retail Group", one founder of two) or runs on
into the next clause ("November 20, 2025 to shareholders of record on November 6, 2025"). Each rule
here moves one end of a span to a boundary the sentence itself shows; none adds text that is not
the sentence's, and each was measured on the SQuAD dev half and users' documents before it was
kept (benchmarks/RESULTS.md, "Session 12").

>>> s = "Revenue rose 18 percent, to $412.6 million."
>>> s[slice(*reach("By what percentage did revenue rise?", s, s.index("18"), s.index("18") + 2))]
'18 percent'
"""

from __future__ import annotations

import re

from qa.answer.question import DATE, NUMBER, PERSON, QUOTE, REASON, content_terms, question_type
from qa.answer.spans import _UPPER_WORD, spans_of

_UNIT_AFTER = re.compile(r"\s?(?:%|percent\b|per cent\b|percentage points?\b)", re.I)
# a capitalised run with the particles names hold ("Cartel de los Soles"), but not "and"/"for",
# which join two names rather than make one
_NAME_RUN = re.compile(rf"{_UPPER_WORD}(?:\s+(?:(?:de|del|la|los|las|da|di|van|von|al|bin|of|the|y)\s+)*{_UPPER_WORD})*")
_AND_NAME = re.compile(rf"\s+and\s+({_NAME_RUN.pattern})")
# what may stand before a date or an amount inside an answer, and between the parts of a range
_LEAD = re.compile(r"(?i:between|from|about|around|approximately|nearly|almost|some|roughly|up to|more than|over|on|in|at|by|until|since)?\s*")
_RANGE_GAP = re.compile(r"\s*(?:,|and|or|to|through|until|till|-|–)?\s*")
# a clause joined after the typed answer: "… to shareholders of record", "… and gross margin of …"
# (a word of one letter is no clause: "1, 2, and n")
_NEXT_CLAUSE = re.compile(r",?\s+(?:and|to|for|with|while|which|but|compared|after|before|from|than)\s+(\w)(?=\w)", re.I)


def with_unit(sentence: str, start: int, end: int) -> int:
    """The end of a number span that leaves its percent sign or word behind: "18" → "18 percent"."""
    if end > start and sentence[end - 1].isdigit():
        m = _UNIT_AFTER.match(sentence, end)
        if m:
            return m.end()
    return end


def _headline(sentence: str) -> bool:
    """Every word of four letters or more capitalised: a headline, where a capitalised run is no
    name (:func:`qa.answer.spans.is_title_case` also counts a sentence dense with names)."""
    words = re.findall(r"[^\W\d_][\w’'-]{3,}", sentence)
    return bool(words) and all(w[0].isupper() for w in words)


def whole_name(question: str, sentence: str, start: int, end: int) -> int:
    """The end of a span that stops inside a capitalised name ("Nordmarkt" of "Nordmarkt Retail
    Group"), and, for a who-question, runs on over a second name joined by "and" that the question
    does not hold ("founded by Ingrid Halvorsen and Tor Lunde"). Not in a headline, whose capitals
    mean nothing."""
    if end <= start or not sentence[start].isupper() or _headline(sentence):
        return end
    asked = set(content_terms(question))
    for m in _NAME_RUN.finditer(sentence):
        # the rest of the run, unless it is the question's own name ("Interior Minister" of
        # "Interior Minister Diosdado Cabello" answers "What post does Diosdado Cabello hold?")
        if m.start() <= start < m.end() and end < m.end() and sentence[end] == " " \
                and not set(content_terms(sentence[end : m.end()])) & asked:
            end = m.end()
            break
    if question_type(question) == PERSON and any(m.start() <= start and end == m.end() for m in _NAME_RUN.finditer(sentence)):
        joined = _AND_NAME.match(sentence, end)
        if joined and not set(content_terms(joined.group(1))) & asked:
            end = joined.end()
    return end


def _typed_end(sentence: str, start: int, end: int) -> int | None:
    """Where the date or amount that opens ``sentence[start:end]`` ends (a range "between $430
    million and $450 million" counts as one), or None when the span does not open with one."""
    typed = sorted((s for s in spans_of(sentence) if s.kind in (DATE, NUMBER) and start <= s.start and s.end <= end),
                   key=lambda s: s.start)
    if not typed or _LEAD.fullmatch(sentence[start : typed[0].start]) is None:
        return None
    last = typed[0].end
    for s in typed[1:]:
        if _RANGE_GAP.fullmatch(sentence[last : s.start]) is None:
            break
        last = s.end
    return last


def clause_end(question: str, sentence: str, start: int, end: int) -> int:
    """The end of a span that opens with a date or an amount and runs past it into another clause
    (not for quotations and reasons, which are clauses): "November 20, 2025 to shareholders of record on …" → "November 20, 2025"."""
    if question_type(question) in (QUOTE, REASON):
        return end
    last = _typed_end(sentence, start, end)
    if last is None or last >= end:
        return end
    m = _NEXT_CLAUSE.match(sentence, last)
    if m is None or m.start(1) >= end:
        return end
    # "from 1990 to 1995" is a range, not a clause: the word after the joint is not typed
    if any(s.start == m.start(1) and s.kind in (DATE, NUMBER) for s in spans_of(sentence)):
        return end
    return last


def reach(question: str, sentence: str, start: int, end: int) -> tuple[int, int]:
    """``start``/``end`` with the rules above applied (the start never moves)."""
    end = with_unit(sentence, start, end)
    end = whole_name(question, sentence, start, end)
    return start, clause_end(question, sentence, start, end)
