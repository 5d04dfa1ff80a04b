"""A contract's defined parties: "Harbour Lets Ltd, a company registered … (the "Landlord")" makes
Harbour Lets Ltd the Landlord, so "Who is the Landlord?" is answered by the name the definition
opens with (a user's tenancy agreement was refused: no sentence says "the Landlord is …"). Rules
over the line, no model; read by :meth:`qa.answer.reader.ReaderAnswerer._look_up_labels`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TypeVar

from qa.pointers import asked_term, definition

T = TypeVar("T", bound=Any)  # a candidate: anything with a ``sentence``

#: what may stand before the name on a definition's line: a list mark, "between", "and", "(1)"
_LEAD = re.compile(r"^\s*(?:[-*•]\s+|\(?\d{1,2}[.)]\s+|\(?[a-z][.)]\s+)?(?:(?:made\s+)?between\s+|and\s+)?", re.I)
#: a name just before the definition's bracket: "… and Harbour Lets Ltd (the "Landlord")"
_NAME_BEFORE = re.compile(r"((?:[A-Z][\w&.'’-]*\s+){0,5}[A-Z][\w&.'’-]*)\s*$")


def defined_party(question: str, line: str) -> tuple[int, int] | None:
    """(start, end) in ``line`` of the party's name when ``line`` defines the term "Who is the X?" asks
    for: the name the line opens with, up to its first comma; or the capitalised name right before the
    bracket. None otherwise.

    >>> line = 'Harbour Lets Ltd, a company registered in England, acting by its Director Martin Okafor (the "Landlord"); and'
    >>> line[slice(*defined_party("Who is the Landlord?", line))]
    'Harbour Lets Ltd'
    >>> line = 'This agreement is made between Molino Tecnico S.r.l. (the “Supplier”) and Bean & Burr GmbH.'
    >>> line[slice(*defined_party("Which company is the supplier?", line))]
    'Molino Tecnico S.r.l.'
    >>> defined_party("Who is the Tenant?", line), defined_party("Who is the landlord's agent?", line)
    (None, None)
    """
    term = asked_term(question)
    bracket = definition(term).search(line) if term else None
    if bracket is None:
        return None
    before = line[: bracket.start()]
    if "," not in before.strip():  # "… between Molino Tecnico S.r.l. (the “Supplier”)": the name next to it
        name = _NAME_BEFORE.search(before.rstrip())
        return (name.start(1), name.end(1)) if name else None
    start = _LEAD.match(line).end()
    end = line.index(",", start)
    text = line[start:end]
    if not text[:1].isupper() or len(text.split()) > 8:  # no name opens the line: "The Landlord lets …"
        return None
    return start, end


def defining_first(question: str, cands: Sequence[T]) -> list[T]:
    """``cands`` with those whose sentence defines the term "Who is the X?" asks for put first, so that
    their passage is read whatever its rank (every clause of a contract names "the Landlord")."""
    term = asked_term(question)
    if term is None:
        return list(cands)
    defines = definition(term)
    first = [c for c in cands if defines.search(c.sentence.text)]
    return first + [c for c in cands if not defines.search(c.sentence.text)]
