"""What a question asks, and the checks every span the reader gives must pass before it may answer:
the asked kind, not the question's own words, fitting the question (:mod:`qa.answer.fit`), not a
table's header or another list item (:mod:`qa.answer.tables`), not about something else
(:mod:`qa.answer.about`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, NamedTuple

from qa.answer.about import (
    negation_unmet, numbered_items, other_colour, other_event, other_numbered, other_ordinal, other_place, other_role,
    other_time, other_version, role_for_employer, unnamed_role,
)
from qa.answer.another import other_deputy, other_named, other_party, other_person, other_turn, other_weekday
from qa.answer.cells import CELL_SEP, code_unheld, other_value, quoted
from qa.answer.definitions import defined_name, names_another, next_to
from qa.answer.fit import counted_after_in_other_units, joined_to_asked, placed_for_who, unitless_amount, wrong_kind
from qa.answer.dated import born_unasked, other_date
from qa.answer.headed import not_a_version
from qa.answer.kinds import another_number
from qa.answer.labels import label_unasked, line_of, other_item, other_label
from qa.answer.letters import letter_header, subject_unasked
from qa.answer.measures import other_dimension
from qa.answer.numbered import numbered_value, other_number, title_unasked
from qa.answer.question import content_terms, plausible_in
from qa.answer.scoring import section_of
from qa.answer.signatures import contact_of_unnamed, signature_of_another
from qa.answer.speakers import turn_label
from qa.answer.tables import is_header_row, row_keys, unnamed_key
from qa.types import SECTION_SEP


def restates(q_terms: set[str], span: str) -> bool:
    """Is ``span`` mostly the question's own words (at least two, and half of them)? Such a span
    answers nothing: "just hours after Delcy Rodríguez was sworn in" for "When was Delcy Rodríguez
    sworn in?".

    >>> q = set(content_terms("When was Delcy Rodríguez sworn in?"))
    >>> restates(q, "just hours after Delcy Rodríguez was formally sworn in"), restates(q, "on Monday")
    (True, False)
    """
    if re.search(r"@|://", span):  # an address spells its owner's name: "sophie.lambert@telenet.be" says more
        return False
    hits = len(q_terms & set(content_terms(span)))
    return hits >= 2 and hits * 2 >= len(q_terms)


#: "Who is the release manager?": the thing asked for is "release manager", named by its last word
_ASKED_ROLE = re.compile(r"^\W*(?:who|what)\s+(?:is|was|are|were)\s+(?:the|a|an)\s+(?:[\w’'-]+\s+){0,3}?([\w’'-]+)"
                         r"(?:\s+(?:of|at|for|in|on)\s+[^?]+)?\s*[?.!]*\s*$", re.I)


#: "What medicines …?", "Which club …?": the kind of thing asked, named right after the wh-word
_WH_NOUN = re.compile(r"^\W*(?:what|which)\s+([\w’'-]+)\b", re.I)


def echoes(question: str, span: str) -> bool:
    """Is ``span`` only the word that names what "Who is the X?" asks for ("manager" for "Who is the
    release manager?", a user's README), or, one word, the kind "What X …?" asks for? It names nobody
    and nothing. No gold answer of SQuAD's dev half or train.json is such a word.

    >>> echoes("Who is the release manager?", "manager"), echoes("Who is the release manager?", "Beatriz Souza")
    (True, False)
    >>> echoes("Who is taught at teacher's colleges?", "teachers")
    False
    >>> echoes("What medicines can the school give?", "Medicines"), echoes("What vitamin does sunlight give?", "vitamin D")
    (True, False)
    """
    asked = _ASKED_ROLE.match(question)
    if asked is None and len(span.split()) == 1:  # "Medicines" for "What medicines can the school give?" (a user's handbook)
        asked = _WH_NOUN.match(question)
    return asked is not None and not re.search(r"\d", span) and content_terms(span.strip()) == content_terms(asked.group(1)) != []


class Asked(NamedTuple):
    """What a question asks, worked out once for the checks of every span its reading gives."""

    question: str
    kind: str | None
    terms: set[str]
    defined: str | None  # "Who is Cilia Flores?": a description, never another name
    numbered: list[tuple[str, str]]  # "Nimbus 800": each sentence's section is then looked at

    @classmethod
    def of(cls, question: str, kind: str | None) -> Asked:
        """What ``question`` asks, for spans of the asked ``kind`` (None: any)."""
        return cls(question, kind, set(content_terms(question)), defined_name(question), numbered_items(question))

    def sets_aside(self, ch: Any, idx: int, rs: int, re_: int, lines: Sequence[str], about: str) -> bool:
        """Can ``[rs, re_)`` of sentence ``idx`` of chunk ``ch`` not answer: empty, not of the asked
        kind, the question's own words, not fitting the question (:mod:`qa.answer.fit`) or about
        something else (:mod:`qa.answer.about`)? ``about`` is the chunk's title, section and text;
        ``lines`` its lines (tables)."""
        q, sent = self.question, ch.sentences[idx].text
        text = sent[rs:re_]
        if re_ <= rs or (self.kind and not plausible_in(self.kind, sent, rs, re_)) or restates(self.terms, text) \
                or echoes(q, text) or quoted(q, text):
            return True
        if self.defined and (names_another(text, self.defined) or not next_to(sent, rs, re_, self.defined)):
            return True
        if (wrong_kind(q, text) or joined_to_asked(q, sent, rs, re_) or placed_for_who(q, sent, rs)  # the span does not fit
                or unitless_amount(q, sent, rs, re_) or counted_after_in_other_units(q, sent, rs, re_) or other_dimension(q, sent, rs, re_)
                or role_for_employer(q, text) or turn_label(q, sent, rs, re_) or not_a_version(q, text)
                or born_unasked(q, sent, rs, re_) or another_number(q, sent, rs, re_)):
            return True
        line, before = line_of(ch, idx)
        if is_header_row(lines, idx) or (other_item(q, lines, idx) and numbered_value(q, lines, idx) is None) \
                or unnamed_key(q, lines, idx) or other_number(q, line) or title_unasked(q, sent) or other_value(q, sent) \
                or signature_of_another(q, lines, idx) or contact_of_unnamed(q, sent, about) or subject_unasked(q, sent) \
                or (CELL_SEP in sent and code_unheld(q, about)) \
                or (other_label(q, line, ch.text.split("\n"), about) and letter_header(q, lines, idx) is None
                    and numbered_value(q, lines, idx) is None) \
                or label_unasked(q, line, len(before) + rs, len(before) + re_):  # a table's header, another list item or label, a label for a value
            return True
        section = section_of(ch, idx)
        # a table row of a "Q3 2025 Sales Report" is of 2025, whatever its line says
        return (other_time(q, f"{ch.title}\n{section}\n{sent}", f"{ch.title}\n{ch.text}") or other_event(q, sent)
                or other_date(q, sent, f"{ch.title}\n{section}")  # "31 March 2025" for "… on 31 March 2024?"
                or other_role(q, sent) or other_deputy(q, sent, about) or other_turn(q, sent) or unnamed_role(q, about)  # about else
                or other_person(q, sent) or other_party(q, sent) or other_weekday(q, f"{section}\n{before}{sent}")
                or other_named(q, f"{section}\n{before}{sent}")
                or other_ordinal(q, sent, about) or negation_unmet(q, about) or other_version(q, f"{section}\n{sent}", about)
                or other_place(q, sent, about) or other_colour(q, sent, about)  # a line's label counts for each of its sentences ("AI-1: …. Owner: Jonas Weber.")
                or (bool(self.numbered) and other_numbered(q, f"{section}\n{before}{sent} {row_keys(lines, idx)}", about,
                                                          section.split(SECTION_SEP)[-1])))

