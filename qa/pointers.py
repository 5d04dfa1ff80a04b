"""What a question points at by its words' form, not their meaning: a contract's defined term ("Who is
the Landlord?" asks for the party a line like 'Harbour Lets Ltd, … (the "Landlord")' defines) and a
numbered item ("What was agenda item 5?" asks for the line or heading "5. …"). Embeddings and BM25
rank such a passage low (every clause says "the Landlord"; "5" is no term), so retrieval makes sure
it is read (:mod:`qa.retrieve`); the answerer reads it (:mod:`qa.answer.parties`,
:mod:`qa.answer.numbered`). No model.
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


#: the words a question names a numbered line by ("agenda item 4", "clause 4.2")
ITEM_WORDS = "item point step number clause section article paragraph rule"
#: a question naming a numbered line's number ("agenda item 4"; the line: NUMBERED_LINE)
ITEM_ASKED = re.compile(rf"\b(?:{'|'.join(ITEM_WORDS.split())}|no\.?|#)\s*(\d{{1,2}}(?:\.\d{{1,2}})*)\b", re.I)
#: what a question asks of a numbered item's body, not its title: "What was decided under item 4?"
ITEM_BODY = re.compile(r"\b(?:decided?|agreed?|discussed?|said|say|reported?|proposed?|noted?|approved?|resolved?|raised?"
                       r"|suggested?|planned?|plan|happened?|done)\b", re.I)
#: a numbered list's, a contract's or a numbered heading's line number ("4. Skate park lighting", "3.1 The
#: minimum order …", "## 5. Thursday evening session")
NUMBERED_LINE = re.compile(r"^\s*(?:#{1,6}\s+)?(\d{1,2}(?=[.)]\s)|\d{1,2}(?:\.\d{1,2})+(?=\.?\s))[.)]?\s+(?=\S)")


def asked_item(question: str) -> str | None:
    """The number of the item the question names, or None.

    >>> asked_item("What was agenda item 5?"), asked_item("What does clause 4.2 say?"), asked_item("What is 5 + 5?")
    ('5', '4.2', None)
    """
    m = ITEM_ASKED.search(question)
    return m.group(1) if m else None


def holds_item(text: str, number: str) -> bool:
    """Does ``text`` hold a line numbered ``number``?

    >>> holds_item("Minutes\\n## 5. Thursday evening session\\nThe board …", "5"), holds_item("5.1 The rent", "5")
    (True, False)
    """
    return any((m := NUMBERED_LINE.match(line)) and m.group(1) == number for line in text.split("\n"))
