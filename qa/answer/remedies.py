"""A troubleshooting table's remedy for the problem a question describes: "What should I do if the
dishwasher does not drain?" over "Problem: The dishwasher does not drain. Cause: The filter is
blocked. Solution: Clean the filter assembly …" is answered by the solution, whichever passage the
record falls in (a user's manual: the reader, trained on prose, took the section's heading).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa.answer.labels import shares
from qa.answer.question import content_terms
from qa.ingest.chunking import PROBLEM_LABEL as _PROBLEM
from qa.ingest.chunking import REMEDY_LABEL as _REMEDY

#: a question asking what to do about a problem
_ASKS_REMEDY = re.compile(r"^\W*(?:what\s+(?:should|can|do|must)\s+(?:i|we|you)\s+do\b|how\s+(?:do|can|should)\s+(?:i|we|you)\s+"
                          r"(?:fix|solve|resolve|stop|repair|clear|deal\s+with)\b|what\s+is\s+the\s+(?:solution|remedy|fix)\b)", re.I)
#: words of such a question that name no problem
_ASKING = frozenset(content_terms("solution remedy fix solve resolve repair clear deal problem issue happen happens"))


def remedy(question: str, sentences: Sequence[str], index: int) -> tuple[int, int] | None:
    """(start, end) in ``sentences[index]`` of the remedy the question asks for: the sentence is
    labelled "Solution:" (or "Remedy:", "Fix:" …), and the nearest sentence before it labelled
    "Problem:" (or "Symptom:", "Fault:"), of the same record (``sentences`` are a line's, in order),
    holds every word the question describes its problem with; else None.

    >>> line = ["Problem: The dishwasher does not drain.", "Cause: The filter is blocked.", "Solution: Clean the filter."]
    >>> line[2][slice(*remedy("What should I do if the dishwasher does not drain?", line, 2))]
    'Clean the filter'
    >>> remedy("What should I do if the dishwasher does not start?", line, 2), remedy("Why does it not drain?", line, 2)
    (None, None)
    """
    m = _REMEDY.match(sentences[index])
    if m is None or not _ASKS_REMEDY.match(question):
        return None
    problem = next((s for s in reversed(sentences[:index]) if _PROBLEM.match(s)), None)
    asked = set(content_terms(question)) - _ASKING
    if problem is None or not asked or not all(shares({t}, set(content_terms(problem))) for t in asked):
        return None
    end = len(sentences[index].rstrip())
    while end > m.end() and sentences[index][end - 1] in ".;":
        end -= 1
    return (m.end(), end) if end > m.end() else None
