"""Names a question asks about that no document mentions: "Who scored the winning goal in the FA
Trophy?" over a club's season report that never names the FA Trophy is refused, with a notice
naming the word ("The documents do not mention Trophy."), rather than answered from the County
Senior Cup final (a user's report). The collection's BM25 vocabulary says which words a document
holds (:meth:`qa.store.sparse.BM25Index.knows`: one wrong letter, a demonym or a missing accent
forgiven). Only capitalised words of four letters or more count, and not acronyms, which documents
often spell out ("WWII", "RB"). On SQuAD's dev half, read against the gold paragraph with the
collection of all its paragraphs, it newly refuses 18 of SQuAD 2.0's 3,363 unanswerable questions
and 5 of the 4,961 answerable ones (misspelt names: "Ghengis Khan", "Superbowl 50").
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence

from qa.answer.compose import refusal
from qa.answer.question import STOPWORDS
from qa.types import Answer, Hit

_WORD = re.compile(r"[^\W\d_][\w’'.-]*")
_PART = re.compile(r"\w\w+")
#: capitalised words that name nothing: question words, months and days are in any document's vocabulary or no name
_NO_NAME = frozenset("what which who whom whose when where why how is was are were did does do the a an in of on for to at by "
                     "after before during according besides other than i".split())


def unmentioned(question: str, knows: Callable[[str], bool]) -> list[str]:
    """The capitalised words of ``question`` (not its first word, not an acronym) that ``knows``
    says no document holds.

    >>> unmentioned("Who scored in the FA Trophy final?", lambda w: w.lower() in {"scored", "final"})
    ['Trophy']
    >>> unmentioned("What did WWII change?", lambda w: False), unmentioned("Who won?", lambda w: False)
    ([], [])
    """
    found = []
    for i, word in enumerate(_WORD.findall(question)):
        word = word.rstrip(".’'")
        if i == 0 or not word[:1].isupper() or word.lower() in _NO_NAME or word.lower() in STOPWORDS:
            continue
        if re.fullmatch(r"[A-Z0-9.&-]{1,6}s?", word):  # an acronym ("WWII", "MVPs"): often spelled out in the text
            continue
        parts = [p for p in _PART.findall(word) if not p.isdigit() and len(p) >= 4]  # "Jr", "Ms", "Lev's": too short to judge
        if parts and not all(knows(p) for p in parts) and word not in found:
            found.append(word)
    return found


def unmentioned_refusal(question: str, hits: Sequence[Hit], names: Sequence[str]) -> Answer:
    """The refusal of ``question``, whose ``names`` no document mentions, with a note saying which."""
    said = ", ".join(f"“{n}”" for n in names)
    return dataclasses.replace(refusal(question, list(hits)), notices=(f"No document mentions {said}.",))
