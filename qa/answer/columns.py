"""Which column of a table a question asks for, told by the words it names them with: "What is
Helena Marsh's job title?" asks for no "Talk title", and a programme whose columns name no job title
answers it with no row (a user's conference programme). Used by :mod:`qa.answer.tables`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa.answer.labels import shares
from qa.answer.question import ROLES, content_terms


def other_kind_of(question: str, column: str) -> bool:
    """Does the question name the column's last word with another word before it than the column's
    own? "What is Helena Marsh's job title?" asks for no "Talk title" (a user's programme).

    >>> other_kind_of("What is Helena Marsh's job title?", "Talk title"), other_kind_of("What is the talk title?", "Talk title")
    (True, False)
    >>> other_kind_of("What is the title of her talk?", "Talk title"), other_kind_of("What is the job title?", "Title")
    (False, False)
    >>> other_kind_of("Who is the Year 3 class teacher?", "Class"), other_kind_of("Which class is Year 3?", "Class")
    (True, False)
    >>> other_kind_of("How much does shipping within Germany cost?", "Shipping cost")
    False
    >>> other_kind_of("How many guests can stay in the Lake Suite?", "Max. guests")
    False
    """
    words = column.split()
    if len(words) < 2:
        return _only_a_modifier(question, column)
    before = re.findall(rf"\b([\w’'-]+)\s+{re.escape(words[-1])}\b", question, re.I)
    own = set(content_terms(column))
    # a name before it is the question's subject, no kind: "How much does shipping within Germany cost?"
    return any(content_terms(b) and not b[:1].isupper() and not set(content_terms(b)) & own and b.lower() not in _QUANTIFIERS
               for b in before)


#: words that say how many or which, never what kind: "How many guests …?" asks for "Max. guests"
_QUANTIFIERS = frozenset("many much few more most which what whose all any some no each every other".split())


def _only_a_modifier(question: str, column: str) -> bool:
    """Does the question name a one-word column only before a person's role? "Who is the Year 3 class
    teacher?" asks for a teacher, not the "Class" column (a user's newsletter gave the class's name);
    "the default value" still names "Default"."""
    uses = re.findall(rf"\b{re.escape(column)}\s+([a-z][\w’'-]*)", question, re.I)
    return bool(uses) and len(uses) == len(re.findall(rf"\b{re.escape(column)}\b", question, re.I)) \
        and all(re.fullmatch(rf"{ROLES}s?", w, re.I) for w in uses)


#: "What is Helena Marsh's job title?", "What is the email of …": the attribute a question asks of someone
_ATTRIBUTE = re.compile(r"^\W*what(?:\s+is|\s+was|’s|'s)\s+(?:(?:the\s+)?[\w .-]+?[’']s?\s+([\w -]+?)|the\s+([\w -]+?)\s+of\b.*?)\W*$", re.I)


def attribute_unnamed(question: str, columns: Sequence[str]) -> bool:
    """Does the question ask for an attribute of someone (its possessive, or "the … of") that no
    column of the row's table names? "What is Helena Marsh's job title?" over a programme's "09:15 |
    Lecture Theatre 1 | Helena Marsh | Opening remarks" (a user's): the row tells no job title.

    >>> columns = ["Time", "Room", "Speaker", "Talk title"]
    >>> attribute_unnamed("What is Helena Marsh's job title?", columns), attribute_unnamed("What is Helena Marsh's room?", columns)
    (True, False)
    """
    m = _ATTRIBUTE.match(question)
    if not columns or m is None:
        return False
    attribute = set(content_terms(m.group(1) or m.group(2)))
    return bool(attribute) and not any(any(shares({t}, set(content_terms(c))) for t in attribute) and not other_kind_of(question, c)
                                       for c in columns)


def names_other_item(question: str, key_terms: set[str], known: set[str]) -> bool:
    """Does the question name the row's key only in part, after words of its phrase the key lacks
    (and that name no column: ``known``)? "How much does the yellow fever vaccine cost?" is not
    answered by the "Flu vaccine" row (a user's clinic fees: "yellow fever" is nowhere in them).

    >>> flu = set(content_terms("Flu vaccine"))
    >>> names_other_item("How much does the yellow fever vaccine cost?", flu, {"cost"}), names_other_item("How much is the flu vaccine?", flu, set())
    (True, False)
    >>> names_other_item("Who runs the vaccine clinic?", flu, set())  # a verb before it is no kind of vaccine
    False
    """
    phrases: list[list[str]] = []  # runs of content words after an article or a preposition: noun phrases
    run: list[str] | None = None
    for word in re.findall(r"[\w’'-]+", question):
        terms = content_terms(word)
        if not terms:  # "the yellow fever vaccine" is a phrase, "runs football" (after "Who") none
            run = [] if word.lower() in _OPENS_PHRASE else None
            if run is not None:
                phrases.append(run)
        elif run is not None:
            run.extend(terms)
    # the words before the key's in its phrase say which one ("yellow fever"); those after are its kind ("the CHEM 4400 exam")
    return any(set(p[: next(i for i, t in enumerate(p) if t in key_terms)]) - key_terms - known for p in phrases if set(p) & key_terms)


_OPENS_PHRASE = frozenset("the a an my our your his her their this that these those for of to with".split())
