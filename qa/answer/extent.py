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

from qa.answer.about import NUMBERED, ROLE, ROLE_HEAD
from qa.answer.question import DATE, NUMBER, PERSON, QUOTE, REASON, content_terms, question_type
from qa.answer.spans import _UPPER_WORD, Span, spans_of

_UNIT_AFTER = re.compile(r"\s?(?:%|percent\b|per cent\b|percentage points?\b)", re.I)
# a capitalised run with the particles names hold ("Cartel de los Soles"), but not "and"/"for",
# which join two names rather than make one
_NAME_RUN = re.compile(rf"{_UPPER_WORD}(?:\s+(?:(?:de|del|la|los|las|da|di|van|von|al|bin|of|the|y)\s+)*{_UPPER_WORD})*")
_AND_NAME = re.compile(rf"\s+and\s+({_NAME_RUN.pattern})")
# what may stand before a date or an amount inside an answer, and between the parts of a range
_LEAD = re.compile(r"(?i:between|from|about|around|approximately|nearly|almost|some|roughly|up to|more than|over|on|in|at|by|until|since)?\s*"
                   r"(?:[$€£¥]|(?:GBP|EUR|USD|CHF)\s?)?")  # and a currency's sign before its amount: "£6.75 and a pot of tea £2.40"
_RANGE_GAP = re.compile(r"\s*(?:,|and|or|to|through|until|till|-|–)?\s*")
# a clause joined after the typed answer: "… to shareholders of record", "… and gross margin of …"
# (a word of one letter is no clause: "1, 2, and n")
_NEXT_CLAUSE = re.compile(r",?\s+(?:and|to|for|with|while|which|but|compared|after|before|from|than)\s+(?:an?\s+)?(\w)(?=\w)", re.I)


def with_unit(sentence: str, start: int, end: int, question: str = "") -> int:
    """The end of a number span that leaves its percent sign or word behind: "18" → "18 percent"; or
    a unit of measure the question does not name itself: "30" → "30 Hz" for "At what frequency …?"
    (a user's paper), but "30" for "How many hertz …?"."""
    if end > start and sentence[end - 1].isdigit():
        m = _UNIT_AFTER.match(sentence, end)
        if m:
            return m.end()
        m = _MEASURE_UNIT.match(sentence, end)
        if m and question and not re.search(rf"\b{re.escape(m.group(1))}", question, re.I) \
                and not re.search(_UNIT_NAMES.get(m.group(1), r"(?!x)x"), question, re.I):  # "How many kilometers …?": "300"
            return m.end()
    return end


#: a unit symbol's name, in a question that counts in it ("How many kilometers …?" takes "300", not "300 km")
_UNIT_NAMES = {"km": r"\bkilomet", "m": r"\bmet(?:re|er)", "cm": r"\bcentimet", "mm": r"\bmillimet", "kg": r"\bkilo",
               "g": r"\bgram", "mg": r"\bmilligram", "ml": r"\bmillilit", "ha": r"\bhectare", "lb": r"\bpound", "lbs": r"\bpound",
               "oz": r"\bounce", "ft": r"\bfe?e?t|\bfoot", "m²": r"\bsquare", "km²": r"\bsquare"}
#: units of measure a number may leave behind (symbols: a word's measure is named by the question's words)
_MEASURE_UNIT = re.compile(r"\s?(Hz|kHz|MHz|GHz|kWh|kW|MW|mAh|dB|bar|psi|rpm|mph|km/h|°C|°F|km|m|cm|mm|m²|km²|kg|g|mg|ml|ha|lb|lbs|oz|ft)"
                           r"(?![\w/²])")


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
    first = _NAME_RUN.match(sentence, start)
    # "Mette Kjær and logistics are led by …": the name, not the next clause (a user's programme); but
    # not the asked person's own name ("Nicolás Maduro and his wife" for "Who captured Maduro?": set aside whole)
    if question_type(question) == PERSON and first and re.match(r"\s+and\s+(?!(?:the|a|an)\s+[A-Z])[a-z]", sentence[first.end() : end]) \
            and not set(content_terms(first.group())) & asked:
        return first.end()
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


#: a person and the role the sentence gives them: "Tomas Ferreira, Grants Officer", "Kari Nordmann (CTO"
_HOLDER = re.compile(rf"({_NAME_RUN.pattern})\s*(?:,\s*(?:the\s+)?|\()((?:[A-Z][\w-]*\s+){{0,3}}(?:{ROLE_HEAD}|Lead|Coordinator))")
#: a question asking for several: "Which days …", "What countries …" (not "What is", "What does")
_ASKS_SEVERAL = re.compile(r"^\W*(?:which|what)\s+(?:\w+\s+)?(?!(?:is|was|does|has|this|us|its|dos)\b)[a-z]{3,}s\b(?!\s+of\b)", re.I)
_ITEM_BEFORE = re.compile(rf"({_NAME_RUN.pattern})(?:,\s*|,?\s+and\s+)$")
_ITEM_AFTER = re.compile(rf"(?:,\s*|,?\s+and\s+)({_NAME_RUN.pattern})")


def coordinated(question: str, sentence: str, start: int, end: int) -> tuple[int, int]:
    """A name span widened over the names listed with it, for a question asking for several: "Which
    days are the team days?" is answered "Tuesday and Thursday", not "Thursday" (a user's guide).

    >>> s = "Staff come in two days a week, with Tuesday and Thursday as team days."
    >>> s[slice(*coordinated("Which days are the team days?", s, s.index("Thursday"), s.index("Thursday") + 8))]
    'Tuesday and Thursday'
    >>> s[slice(*coordinated("Which day is a team day?", s, s.index("Thursday"), s.index("Thursday") + 8))]
    'Thursday'
    """
    if not _ASKS_SEVERAL.match(question) or not _NAME_RUN.fullmatch(sentence[start:end]):
        return start, end
    asked = set(content_terms(question))  # "Which country besides Cuba …": the question's own names are no answer
    while (before := _ITEM_BEFORE.search(sentence[:start])) is not None and not asked & set(content_terms(before.group(1))):
        start = before.start()
    while (after := _ITEM_AFTER.match(sentence, end)) is not None and not asked & set(content_terms(after.group(1))):
        end = after.end()
    return start, end


def role_holder(question: str, sentence: str, start: int, end: int) -> tuple[int, int]:
    """A name span moved to the name the asked role is given to, when the sentence gives several
    people their roles: "led by Dr. Sofia Lindqvist, Programme Manager, with support from Tomas
    Ferreira, Grants Officer" answers "Who is the Grants Officer?" with "Tomas Ferreira" (a user's
    grant call got the programme manager).

    >>> s = "The call is led by Dr. Sofia Lindqvist, Programme Manager, with support from Tomas Ferreira, Grants Officer."
    >>> s[slice(*role_holder("Who is the Grants Officer?", s, s.index("Sofia") - 4, s.index("Sofia") + 15))]
    'Tomas Ferreira'
    """
    asked = {m.group().lower() for m in ROLE.finditer(question) if len(m.group().split()) > 1}
    if not asked:
        return start, end
    pairs = [(m.start(1), m.end(1), m.group(2).lower()) for m in _HOLDER.finditer(sentence)]
    mine = [(a, b) for a, b, role in pairs if role in asked]
    if len(mine) != 1 or not any(start < b and a < end for a, b, role in pairs if role not in asked):  # the span holds another's name
        return start, end
    return mine[0]


def reach(question: str, sentence: str, start: int, end: int) -> tuple[int, int]:
    """``start``/``end`` with the rules above applied (the start moves only to another item's number,
    or to the first of several names listed together for a question asking for several)."""
    start, end = attached_value(question, sentence, start, end)
    start, end = role_holder(question, sentence, start, end)
    end = with_unit(sentence, start, end, question)
    end = whole_name(question, sentence, start, end)
    start, end = coordinated(question, sentence, start, end)
    return start, clause_end(question, sentence, start, end)


#: what joins a value to the item it is for: "$49 for the Nimbus 400", "3 years for the AP-400" (a unit between)
_FOR_ITEM = re.compile(r"(?:\s*[a-zA-Z%]+)?\s+(?:for|of|on|per)\s+(?:the\s+|a\s+|an\s+|each\s+)?")


def attached_value(question: str, sentence: str, start: int, end: int) -> tuple[int, int]:
    """A number span moved to the number that belongs to the item the question names, when the
    sentence lists several of a numbered series: "$39 for the Nimbus 200, $49 for the Nimbus 400 and
    $69 for the Nimbus 600" answers "How much is a filter for the Nimbus 400?" with "$49" (a user's
    manual got "$39"). A number belongs to the item after it that it is "for" or "of", else to the
    nearest item named.

    >>> s = "Filters cost $39 for the Nimbus 200, $49 for the Nimbus 400 and $69 for the Nimbus 600."
    >>> s[slice(*attached_value("How much is a filter for the Nimbus 400?", s, s.index("$39"), s.index("$39") + 3))]
    '$49'
    >>> s = "Filter housing: 5 years for the AP-600 and 3 years for the AP-400."
    >>> s[slice(*attached_value("How long is the housing covered on the AP-400?", s, s.index("5"), s.index("5") + 7))]
    '3 years'
    >>> s = "Weights: Nimbus 200, 3.2 kg; Nimbus 400, 5.1 kg."
    >>> s[slice(*attached_value("How much does the Nimbus 400 weigh?", s, s.index("3.2"), s.index("3.2") + 6))]
    '5.1 kg'
    """
    asked = set(NUMBERED.findall(question))
    items = [(m.start(), (m.group(1), m.group(2))) for m in NUMBERED.finditer(sentence)]
    named = [pos for pos, item in items if item in asked]
    if len(named) != 1 or not any(item[0] == w and item not in asked for _, item in items for w, _ in asked):
        return start, end
    values = [s for s in spans_of(sentence) if s.kind == NUMBER and not any(p <= s.start < p + 40 and sentence[p:s.end].count(" ") <= 1
                                                                             for p, _ in items)]  # "400" of "Nimbus 400" is no value

    ends = {pos: pos + len(" ".join(item)) for pos, item in items}

    def owner(v: Span) -> int:
        after = [pos for pos, _ in items if pos >= v.end]
        if after and _FOR_ITEM.fullmatch(sentence[v.end : after[0]]):  # "$49 for the Nimbus 400"
            return after[0]
        # else the nearest item by the words between ("Nimbus 400: $49", "Nimbus 600, $69")
        return min(items, key=lambda it: v.start - ends[it[0]] if ends[it[0]] <= v.start else it[0] - v.end)[0]

    read = next((v for v in values if v.start <= start < v.end), None)
    mine = [v for v in values if owner(v) == named[0]]
    if read is None or len(mine) != 1:
        return start, end
    unit = sentence[read.end : end]  # what the read span had after its number (" kg"), kept if it follows this one too
    return mine[0].start, mine[0].end + (len(unit) if unit and sentence.startswith(unit, mine[0].end) else 0)
