"""Of a sentence's values of one kind, the one the question's own word stands right before: "starts at
06:00 and finishes at 11:30" answers "When does the team finish?" with 11:30; "Total: €960.00
(tourist tax of €2.50 per person per night)" answers "How much is the tourist tax?" with €2.50 (a
user's hotel papers: the first value was given for both). Rules over the sentence, no model; used by
:meth:`qa.answer.reader.ReaderAnswerer._read`.
"""

from __future__ import annotations

import re

from qa.answer.extent import with_unit
from qa.answer.question import content_terms
from qa.answer.spans import spans_of

#: a question asking when something starts or ends
_ENDS = re.compile(r"\b(?:start|starts|begin|begins|open|opens|finish|finishes|end|ends|close|closes|leave|leaves|arrive|arrives)\b", re.I)
#: words that lead to a value and say nothing of what it is ("at", "of", "is": "finishes at 11:30")
_LINKS = frozenset("at of is was are were be to from by on in for about around approximately a an the its their per".split())


def _anchor(sentence: str, start: int) -> set[str]:
    """The content terms of the word before ``start``, past linking words ("finishes" of "finishes at")."""
    words = [w for w in re.findall(r"[\w’'-]+", sentence[:start])[-3:] if w.lower() not in _LINKS][-1:]
    return set(content_terms(" ".join(words)))


def _shape(sentence: str, start: int, end: int) -> str:
    """What a value is: a clock time, an amount of money, a day or month named, or a number."""
    text = sentence[start:end]
    if re.search(r"\d[:.]\d\d\b", text) and not re.search(r"\d[:.]\d\d\d", text) and sentence[start - 1 : start] not in "€$£¥":
        return "clock"
    if sentence[max(0, start - 1) : start] in ("€", "$", "£", "¥") or re.match(r"\s?%|\s?per\s?cent", sentence[end:]):
        return "amount"
    return "named" if re.search(r"[A-Za-z]", text) else "number"


def anchored_value(question: str, sentence: str, start: int, end: int) -> tuple[int, int]:
    """``[start, end)`` moved to the one other value of its kind that a word of the question stands
    right before, when another word stands before the span itself ("starts at 06:00"); unchanged otherwise.

    >>> s = "2.4 The breakfast kitchen team starts at 06:00 and finishes at 11:30."
    >>> [s[slice(*anchored_value(q, s, s.index("06:00"), s.index("06:00") + 5))] for q in
    ...  ("When does the breakfast kitchen team finish?", "When does the breakfast kitchen team start?")]
    ['11:30', '06:00']
    >>> s = "Total: €960.00 (tourist tax of €2.50 per person per night is paid on site)"
    >>> s[slice(*anchored_value("How much is the tourist tax?", s, 7, 14))]
    '€2.50'
    """
    asked = set(content_terms(question))
    found = [x for x in spans_of(sentence) if x.start <= start < x.end or start <= x.start < end]
    if not asked or len(found) != 1 or found[0].kind not in ("date", "number"):
        return start, end
    shape = _shape(sentence, found[0].start, found[0].end)
    # only a time of day after a verb of starting or ending, an amount after "… of" (on SQuAD every other
    # value the question's word stands before was as often not the answer)
    if not (shape == "clock" and _ENDS.search(question)) and not (shape == "amount" and re.search(r"\bhow\s+much\b", question, re.I)):
        return start, end
    own = _anchor(sentence, found[0].start)
    if not own or own & asked:  # the span stands after no word, or after one of the question's: it stays
        return start, end
    others = [x for x in spans_of(sentence) if x.kind == found[0].kind and (x.start >= end or x.end <= start)
              and _shape(sentence, x.start, x.end) == shape]  # a clock time for a clock time, not "Friday"
    anchored = [x for x in others if _anchor(sentence, x.start) & asked and (shape == "clock" or re.search(r"\bof\s*[€$£¥]?\s*$", sentence[:x.start]))]
    if len(anchored) != 1:
        return start, end
    a, b = anchored[0].start, anchored[0].end
    a -= sentence[a - 1 : a] in ("€", "$", "£", "¥")  # "€2.50", its currency kept
    return a, with_unit(sentence, a, b, question)
