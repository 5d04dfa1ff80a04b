"""Sentences about another person or day than the one asked: "When did Clara Rookwood die?" is not
answered by her father's death, nor "Who is speaking on Friday?" by a row under Thursday's heading
(users' biography and conference programme). Rules over the text, no model; part of
:meth:`qa.answer.asked.Asked.sets_aside`.
"""

from __future__ import annotations

import re

from qa.answer.definitions import fold
from qa.answer.fit import WEEKDAYS
from qa.answer.question import STOPWORDS

_WEEKDAY = re.compile(rf"\b({WEEKDAYS})s?\b", re.I)


def other_weekday(question: str, context: str) -> bool:
    """Does ``context`` (a sentence and the headings it stands under) name only other weekdays than
    the one the question names? "Who is speaking in Seminar Room C on Friday?" is not answered by a
    row under "Day 1: Thursday 9 October 2025" (a user's programme).

    >>> other_weekday("Who speaks on Friday?", "Day 1: Thursday\\n11:20 | Room C | Ann Lee"), other_weekday("Who speaks on Friday?", "Ann Lee")
    (True, False)
    >>> other_weekday("Who speaks on Friday?", "Fridays and Thursdays: Ann Lee")
    False
    """
    asked = {d.lower() for d in _WEEKDAY.findall(question)}
    named = {d.lower() for d in _WEEKDAY.findall(context)}
    return bool(asked) and bool(named) and not asked & named


#: a person's full name as a question's subject, right after its auxiliary: "When did Clara Rookwood die?"
_ASKED_PERSON = re.compile(r"\b(?:did|does|do|was|is|were|has|had)\s+([A-Z][a-zà-ÿ’'-]+)\s+([A-Z][a-zà-ÿ’'-]{2,})\b(?!\s+[A-Z])")
#: words before a surname that are no first name ("Mr Pellow", "the Rookwood family")
_NOT_FIRST = frozenset("mr mrs ms miss dr sir lady lord dame king queen prince princess saint st the mayor "
                       "president councillor professor reverend captain general".split())


#: words that open a sentence before a surname without being a first name ("Said Young …", "Upon Byers' retirement")
_NOT_A_FIRST_NAME = frozenset("said says upon after before under its his her their when while during since".split())


def _one_letter_off(a: str, b: str) -> bool:
    """Are ``a`` and ``b`` the same word but for one letter (changed, added or left out), or the same?"""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) <= 1
    short, long_ = sorted((a, b), key=len)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def other_person(question: str, sentence: str) -> bool:
    """Is ``sentence`` about another person of the asked one's family: the question's subject is a full
    name, the sentence's subject the same surname with another first name, and the asked first name
    is nowhere in it? "When did Clara Rookwood die?" is not answered by "Edmund Rookwood died of
    pneumonia on 17 January 1869." (a user's biography: a family's dates were given for each other).
    Names elsewhere in either say nothing (on the dev half, any shared capitalised word did: "Wang Khan"
    and "Genghis Khan", "Energy Conservation Act" and "Designation Act").

    >>> s = "Edmund Rookwood died of pneumonia on 17 January 1869."
    >>> other_person("When did Clara Rookwood die?", s), other_person("When did Edmund Rookwood die?", s)
    (True, False)
    >>> other_person("When did Clara Rookwood die?", "Rookwood died in 1869."), other_person("Who won?", s)
    (False, False)
    """
    m = _ASKED_PERSON.search(question)
    if m is None or m.group(1).lower() in _NOT_FIRST or re.search(rf"\b{re.escape(m.group(1))}\b", sentence):
        return False
    other = re.match(rf"\W*([A-Z][a-zà-ÿ’'-]+)\s+(?:[A-Z]\.\s+)?{re.escape(m.group(2))}\b(?!\s+[A-Z])", sentence)  # its subject
    if other is None or other.group(1).lower() in _NOT_FIRST | STOPWORDS | _NOT_A_FIRST_NAME:
        return False
    return not _one_letter_off(fold(other.group(1)), fold(m.group(1)))  # "Napoléon", "Winstron": the asked one


#: a question's party and what it must do: "How much notice must the landlord give?" -> ("landlord", "give")
_ASKED_PARTY = re.compile(r"\b(?:must|shall|should|will|does|do|can|may)\s+(?:the|a|an|each|every|my|our|your)\s+"
                          r"([a-z]{3,})\s+([a-z]{3,})\b")
#: be, have and do say nothing of what a party does
_NO_ACT = frozenset("be been being have has had do does did get".split())


def other_party(question: str, sentence: str) -> bool:
    """Does ``sentence`` say what another party must do than the one the question asks about? "How much
    notice must the landlord give?" is not answered by "the tenant must give at least one month's
    written notice" (a user's lease: the clause after it gives the landlord's two months). Only where
    the sentence states the same act of another party ("the tenant must give") and never of the asked one.

    >>> s = "6.1 After the fixed term, the tenant must give at least one month's written notice."
    >>> other_party("How much notice must the landlord give?", s), other_party("How much notice must the tenant give?", s)
    (True, False)
    >>> other_party("How much notice must the landlord give?", "The landlord must give two months' notice.")
    False
    """
    m = _ASKED_PARTY.search(question.lower())
    if m is None or m.group(2) in _NO_ACT:
        return False
    party, act = m.groups()
    stated = re.findall(rf"\b(?:the|a|an|each|every|any)\s+([a-z]{{3,}})\s+(?:must|shall|should|will|may|can|has\s+to|is\s+required\s+to)"
                        rf"\s+(?:\w+\s+)?{re.escape(act)}\b", sentence.lower())
    return bool(stated) and party not in stated


#: a thing the question names by a proper name before it: "the Sintra tour" -> ("Sintra", "tour")
_NAMED_THING = re.compile(r"\b(?:the|a|an|our|my)\s+([A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)?)\s+([a-z]{3,})\b")
_NAME = r"[A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+){0,2}"


def other_named(question: str, context: str) -> bool:
    """Is ``context`` (a sentence and the headings it stands under) about the same kind of thing as
    the question, named by another name, and never by the asked one? "Who is the guide for the
    Sintra tour?" is not answered by "Guided walking tour of Alfama with guide Rui Tavares" under
    "Day 2 — Lisbon" (a user's itinerary, whose Sintra day has no guide).

    >>> other_named("Who is the guide for the Sintra tour?", "Day 2 — Lisbon\\n- 09:30 Walking tour of Alfama with guide Rui Tavares.")
    True
    >>> other_named("Who is the guide for the Alfama tour?", "- 09:30 Walking tour of Alfama with guide Rui Tavares.")
    False
    >>> other_named("Who leads the Sintra tour?", "Day 3 — Sintra\\n- 10:00 Guided tour of Pena Palace with Ana Lopes.")
    False
    >>> other_named("Where was the Kievian force defeated?", "At the Battle of Kalka River, Subutai's forces defeated the Kievan force.")
    False
    >>> other_named("Where was the ESRS congress?", "Poster at the European Sleep Research Society congress in Seville.")
    False
    """
    m = _NAMED_THING.search(question)
    if m is None or m.start() == 0:
        return False
    name, thing = m.groups()
    # any word of the name, by its first four letters, is enough to leave it ("Kievan" for "Kievian",
    # "the legislature of the European Union" for "the European Union's legislature": dev-half
    # questions); an acronym ("the ESRS congress") may stand spelled out ("European Sleep Research …")
    words, folded = [fold(w)[:4] for w in re.findall(r"[^\W\d_]{3,}", name)], fold(context)
    if not words or name.isupper() or name.lower() in STOPWORDS or any(re.search(rf"\b{re.escape(w)}", folded) for w in words):
        return False
    other = re.search(rf"\b{re.escape(thing)}s?\s+(?:of|in|at|to|around|through)\s+(?:the\s+)?({_NAME})", context)
    return other is not None


#: a deputy's role: "vice-chair", "Deputy Head", "assistant manager", "co-chair"
_DEPUTY = re.compile(r"\b(vice|deputy|assistant|associate|acting|co)[\s-]+(chair(?:man|woman|person)?|president|director|head|principal"
                     r"|manager|treasurer|secretary|captain|editor|governor|coordinator|lead)\b", re.I)


def other_deputy(question: str, sentence: str, passage: str = "") -> bool:
    """Does ``sentence`` name the role's holder where the question asks for the deputy, or the deputy
    where it asks for the holder? "Margaret Okafor (Chair)" does not answer "Who is the vice-chair?"
    (a user's minutes), nor "Claire Dubois (Vice-Chair)" "Who is the chair?"; nor does any sentence of a
    ``passage`` that names no vice-chair ("Helen Moss (Trustee)" was given).

    >>> s = "Present: Margaret Okafor (Chair), David Hirst (Treasurer)."
    >>> other_deputy("Who is the vice-chair of the trustees?", s), other_deputy("Who is the chair?", s)
    (True, False)
    >>> other_deputy("Who is the chair?", "Apologies: Claire Dubois (Vice-Chair)."), other_deputy("Who is the vice chair?", "Claire Dubois (Vice-Chair)")
    (True, False)
    >>> other_deputy("Who is the vice-chair?", "Helen Moss (Trustee).", "Present: Margaret Okafor (Chair). Apologies: Helen Moss (Trustee).")
    True
    """
    asked = _DEPUTY.search(question)
    if asked is not None:
        base = asked.group(2)
        if passage and not any(d.group(2).lower() == base.lower() for d in _DEPUTY.finditer(passage)):
            return True  # the passage names no deputy of the kind: whoever it names is someone else
        return bool(re.search(rf"\b{base}\b", sentence, re.I)) and not any(
            d.group(2).lower() == base.lower() for d in _DEPUTY.finditer(sentence))
    roles = re.findall(r"\b(?:who|which)\b.*?\bthe\s+(chair(?:man|woman|person)?|president|director|head|principal|manager|treasurer"
                       r"|secretary|captain|editor|governor|coordinator|lead)\b", question, re.I)
    if not roles:
        return False
    base = roles[0]
    plain = [m for m in re.finditer(rf"\b{base}\b", sentence, re.I)
             if not re.search(r"(?:vice|deputy|assistant|associate|acting|co)[\s-]+$", sentence[: m.start()], re.I)]
    return bool(re.search(rf"\b{base}\b", sentence, re.I)) and not plain


_EARLIER, _LATER = r"(?:previous|last|prior|preceding|former)", r"(?:next|following|coming|upcoming)"


def other_turn(question: str, sentence: str) -> bool:
    """Does ``sentence`` speak of the next of a thing where the question asks for the previous one, or
    the other way round? "The next meeting will be held on Tuesday 17 March" does not answer "When was
    the previous board meeting?" (a user's minutes).

    >>> s = "The next meeting will be held on Tuesday 17 March 2026."
    >>> other_turn("When was the previous board meeting?", s), other_turn("When is the next meeting?", s)
    (True, False)
    >>> other_turn("When is the next meeting?", "The minutes of the previous meeting were approved.")
    True
    >>> other_turn("When was the previous meeting held?", s), other_turn("Who chaired the last meeting?", "Ann chaired the last meeting.")
    (True, False)
    """
    for asked, other in ((_EARLIER, _LATER), (_LATER, _EARLIER)):
        m = re.search(rf"\b{asked}\s+([\w-]+)(?:\s+([\w-]+))?", question, re.I)
        if m is None:
            continue
        for thing in filter(None, (m.group(1), m.group(2))):  # "the previous board meeting": the board's, or the meeting
            thing = re.escape(thing.rstrip("s"))
            if re.search(rf"\b{other}\s+{thing}", sentence, re.I) and not re.search(rf"\b{asked}\s+{thing}", sentence, re.I):
                return True
        return False
    return False
