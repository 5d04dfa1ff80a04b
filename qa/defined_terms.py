"""A contract's defined terms, as a question asks for one: "Who is the Landlord?" asks for the party
that a line like 'Harbour Lets Ltd, … (the "Landlord")' defines. Shared by retrieval (the defining
chunk is among the passages read) and the answerer (:mod:`qa.answer.parties`); no model.
"""

from __future__ import annotations

import functools
import re

#: "Who is the Landlord?", "Who are the Buyer?", "Which company is the supplier?": the defined term asked
_WHO_IS_THE = re.compile(r"^\W*(?:who|which\s+(?:company|firm|person|party|organi[sz]ation|business))\s+"
                         r"(?:is|are|was|were|acts\s+as)\s+the\s+([A-Za-z][\w-]*(?:\s+[A-Za-z][\w-]*){0,2})\s*\??\s*$", re.I)


def asked_term(question: str) -> str | None:
    """The term "Who is the X?" asks for, or None.

    >>> asked_term("Who is the Landlord?"), asked_term("Which company is the supplier?"), asked_term("Who signed it?")
    ('Landlord', 'supplier', None)
    """
    m = _WHO_IS_THE.match(question)
    return m.group(1) if m else None


@functools.lru_cache(maxsize=256)
def definition(term: str) -> re.Pattern[str]:
    """The bracket defining ``term``: (the "Landlord"), (“Tenant”), (together the 'Buyers').

    >>> bool(definition("landlord").search('Harbour Lets Ltd (the "Landlord"); and')), bool(definition("Tenant").search("the Tenant"))
    (True, False)
    """
    return re.compile(rf"\((?:(?:each|together|jointly|hereinafter|hereafter)\s+)?(?:(?:the|a|an)\s+)?[\"“‘']{re.escape(term)}[\"”’']\)", re.I)
