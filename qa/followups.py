"""Follow-ups that name only what changed: "And in week 10?", "What about physiotherapy?", "In which
room?". Each is the previous question asked again with the new part in the old one's place; three
users' chats sent them unchanged, so "And for 7 to 9 years?" after "What is the dose for children
aged 1 to 3 years?" was refused. Names ("and in Porto?") are :func:`qa.topics.with_other_slot`'s.
Pure Python, no model.

>>> with_other_part("And in week 10?", "How long is the long run in week 9?")
'How long is the long run in week 10?'
>>> with_other_part("What about physiotherapy?", "What is the co-pay for a specialist visit?")
'What is the co-pay for physiotherapy?'
>>> asked_for_another("In which room?", "What time does Leo Fernandes speak?")
'In which room does Leo Fernandes speak?'
"""

from __future__ import annotations

import re

from qa.topics import AUX, DETERMINERS, WH, topic_of, with_other_slot

_PREPOSITION = r"(?:in|for|at|on|of|with|by|from|to|during|after|before|under|over|about)"
#: "and for a child?", "what about intervals?", "how about in week 10?": a connective, maybe a preposition, a short phrase
_OTHER_PART = re.compile(rf"^\W*(?i:and|but|so|what about|how about|and what about)\s+(?:(?i:({_PREPOSITION}))\s+)?"
                         r"([\w’'.%/-]+(?:\s+[\w’'.%/-]+){0,5})\s*[?.!]*\s*$")
#: a number, or a range of them: "9", "1 to 3", "7-9", "2.5"
_NUMBER = r"\d+(?:[.,]\d+)?(?:\s*(?:to|-|–|and)\s*\d+(?:[.,]\d+)?)?"
_WORDS = re.compile(r"[\w’'.%/-]+")
#: a passive's verb ending the previous question ("On which day is general waste collected?")
_PARTICIPLE = re.compile(r"[a-z]+(?:ed|en)|held|paid|sold|made|kept|sent|built|run|done|shut|open|due|taught|brought", re.I)
_NOT_A_PART = WH | AUX | {"it", "its", "they", "them", "he", "she", "him", "her", "that", "this", "you", "i", "we", "then"}
_VERBS = {"is", "are", "was", "were", "do", "does", "did", "can", "could", "will", "would", "should", "has", "have", "had"}


def follow_up_of(question: str, previous: str) -> str | None:
    """``question`` as a whole question when it names only what changed since ``previous`` (or asks
    only a wh-phrase), else None: a number first ("And in 1951?" after "… of Wrenford in 1901?" is no
    other town), then a name (:func:`qa.topics.with_other_slot`), another part, a wh-phrase.

    >>> follow_up_of("And in 1951?", "What was the population of Wrenford in 1901?")
    'What was the population of Wrenford in 1951?'
    >>> follow_up_of("and in Porto?", "What is the annual leave in Leeds?")
    'What is the annual leave in Porto?'
    """
    m = _OTHER_PART.match(question)
    if m and re.search(_NUMBER, m.group(2)) and (swapped := _other_number(m.group(2), previous.strip().rstrip("?.! "))):
        return f"{swapped}?"
    return with_other_slot(question, previous) or with_other_part(question, previous) or asked_for_another(question, previous)


def with_other_part(question: str, previous: str) -> str | None:
    """The previous question with the part the follow-up offers in its place: a number beside the
    same word ("week 9" → "week 10", "the 1852 flood" → "the 1947 flood", "1 to 3 years" → "7 to 9
    years"), else the object of the same preposition, else (no preposition given) of its last one,
    else its topic (:func:`qa.topics.topic_of`); a phrase after a preposition the previous question
    lacks is added at its end. None when ``question`` is no such follow-up.

    >>> with_other_part("And during the 1947 flood?", "Who was mayor at the time of the 1852 flood?")
    'Who was mayor at the time of the 1947 flood?'
    >>> with_other_part("And for 7 to 9 years?", "What is the dose for children aged 1 to 3 years?")
    'What is the dose for children aged 7 to 9 years?'
    >>> with_other_part("And for pre-existing conditions?", "What is the waiting period for maternity care?")
    'What is the waiting period for pre-existing conditions?'
    >>> with_other_part("What about intervals?", "What pace are the tempo runs?")
    'What pace are intervals?'
    >>> with_other_part("What about intervals?", "What pace are tempo runs?"), with_other_part("And the cavalry?", "How long did the troops stay?")
    ('What pace are intervals?', 'How long did the cavalry stay?')
    >>> with_other_part("And for a child?", "How much is an adult ticket?")
    'How much is an adult ticket for a child?'
    >>> with_other_part("And for an adult?", "How much is an extra bed for a child under 12?")
    'How much is an extra bed for an adult?'
    >>> with_other_part("And what is the price?", "How much is it?") is None, with_other_part("so?", "Who won?") is None
    (True, True)
    >>> with_other_part("And then what happened?", "Who won?") is None, with_other_part("And the long run?", "What pace is the tempo run?")
    (True, 'What pace is the long run?')
    """
    m = _OTHER_PART.match(question)
    body = previous.strip().rstrip("?.! ")
    if not m or not body:
        return None
    prep, part = (m.group(1) or "").lower(), m.group(2)
    words = [w.lower() for w in _WORDS.findall(part)]
    if not words or words[0] in _NOT_A_PART or any(w in WH | _VERBS for w in words):
        return None  # "And you?", "And then what happened?": a question of its own
    swapped = _other_number(part, body) or _other_object(prep, part, body)
    if swapped:
        return f"{swapped}?"
    if not prep:
        topic = topic_of(previous)
        if topic and topic in body and topic.split()[0].lower() in DETERMINERS:  # "the troops" of "How long did the troops stay?"
            return f"{body.replace(topic, part, 1)}?"
        words = body.split()
        aux = max((i for i, w in enumerate(words) if 0 < i < len(words) - 1 and w.lower() in AUX), default=None)
        if aux is not None and len(words) - aux - 1 <= 4:  # "tempo runs" of "What pace are tempo runs?"
            done = [words[-1]] if len(words) - aux > 2 and _PARTICIPLE.fullmatch(words[-1]) else []
            return " ".join([*words[: aux + 1], part, *done]) + "?"  # "general waste collected": the waste is replaced
    return f"{body} {prep + ' ' if prep else ''}{part}?"


def _other_number(part: str, body: str) -> str | None:
    """``body`` with the number beside the word the ``part``'s number stands beside replaced by it."""
    m = re.search(_NUMBER, part)
    if m is None:
        return None
    before = _WORDS.findall(part[: m.start()])
    after = _WORDS.findall(part[m.end():])
    if before and before[-1].lower() not in _NOT_A_PART | {"the", "a", "an"}:
        pattern = rf"(?i:\b{re.escape(before[-1])})\s+({_NUMBER})"
    elif after:
        pattern = rf"\b({_NUMBER})\s+(?i:{re.escape(after[0])})\b"
    else:
        numbers = list(re.finditer(rf"\b({_NUMBER})\b", body))
        if len(numbers) != 1:
            return None
        pattern = rf"\b({_NUMBER})\b"
    old = re.search(pattern, body)
    return f"{body[: old.start(1)]}{m.group()}{body[old.end(1):]}" if old else None


#: a time a follow-up may ask about instead: "at weekends" for "on weekdays", "in March", "in 2024"
_TIMES = re.compile(r"\d|\b(?:week(?:day|end)s?|(?:mon|tues|wednes|thurs|fri|satur|sun)days?|mornings?|afternoons?|evenings?|nights?"
                    r"|(?:bank\s+|public\s+)?holidays?|january|february|march|april|may|june|july|august|september|october"
                    r"|november|december|spring|summer|autumn|winter|term|semester)\b", re.I)


#: an age or a bound qualifying the object before it: "under 12", "over 65", "aged 6 to 11"
_AGED = re.compile(r"\s+(?:under|over|below|above|aged|from)\s+\d+(?:\s*(?:to|-|–)\s*\d+)?(?:\s+years?(?:\s+old)?)?", re.I)


def _alike(part: str, obj: str) -> bool:
    """Can ``part`` stand for ``obj``, the object of one of the previous question's prepositions? A
    time for a time ("staff salaries" is no "2025"), a phrase with an article for one ("the landlord"
    is no "end the tenancy"), never a wh-phrase ("On which day …")."""
    first = obj.split()[0].lower() if obj.split() else ""
    if first in WH or bool(_TIMES.search(part)) != bool(_TIMES.search(obj)):
        return False
    return part.split()[0].lower() not in DETERMINERS or first in DETERMINERS or obj[:1].isupper()


def _other_object(prep: str, part: str, body: str) -> str | None:
    """``body`` with the object of its last ``prep`` (of its last preposition whose object ``part`` is
    alike, when none is given) replaced by ``part``: up to the next preposition or the end. A time
    after a preposition ``body`` lacks takes the place of its time and preposition ("on weekdays" →
    "at weekends")."""
    preps = list(re.finditer(rf"\b({prep if prep else _PREPOSITION})\s+", body, re.I))
    swap_prep = not preps and bool(prep) and bool(_TIMES.search(part))
    if swap_prep:
        preps = list(re.finditer(rf"\b({_PREPOSITION})\s+", body, re.I))
    for at in reversed(preps):
        rest = re.search(rf"\s+{_PREPOSITION}\s", body[at.end():], re.I)
        end = at.end() + rest.start() if rest else len(body)
        qualifier = _AGED.match(body, end)  # "a child under 12": the age goes with the child
        end = qualifier.end() if qualifier and not re.search(r"\d", part) else end
        if swap_prep and _TIMES.search(body[at.end():end]):
            return f"{body[: at.start()]}{prep} {part}{body[end:]}"
        if not swap_prep and (prep or _alike(part, body[at.end():end])):
            return f"{body[: at.end()]}{part}{body[end:]}"
    return None


#: "in which room?", "which room?", "what time?": a wh-phrase and nothing else
_WH_PHRASE = re.compile(rf"^\W*(?i:and\s+|but\s+|so\s+)?((?:(?i:{_PREPOSITION})\s+)?(?i:which|what|whose)\s+[\w’'-]+(?:\s+[\w’'-]+)?)\s*[?.!]*\s*$")


def asked_for_another(question: str, previous: str) -> str | None:
    """The previous question asked with the follow-up's wh-phrase instead of its own: "In which
    room?" after "What time does Leo Fernandes speak?" is "In which room does Leo Fernandes speak?"
    (the words from its first auxiliary on). None when ``question`` is no wh-phrase alone, or the
    previous question has no auxiliary among its first four words.

    >>> asked_for_another("Which room?", "When is the keynote held?")
    'Which room is the keynote held?'
    >>> asked_for_another("Which room?", "Who spoke first?") is None
    True
    """
    m = _WH_PHRASE.match(question)
    words = previous.strip().rstrip("?.! ").split()
    if not m or m.group(1).split()[-1].lower() in AUX:
        return None
    aux = next((i for i, w in enumerate(words[:4]) if i > 0 and w.lower() in AUX - {"much", "many", "long", "old", "often", "far"}), None)
    if aux is None:
        return None
    phrase = m.group(1)
    return " ".join([phrase[:1].upper() + phrase[1:], *words[aux:]]) + "?"


#: a question asking which thing of a kind: "Which club runs on Wednesday?" (not "What is …", "What did …")
_WHICH_THING = re.compile(r"^\W*(?:which|what)\s+(?!(?:is|was|are|were|did|does|do|has|had|have|will|can|time|day|date|year)\b)[a-z]", re.I)


def it_names(previous: str, answer: str | None) -> str | None:
    """The thing a "which X" turn's short answer names, when it is a name, else None: after "Which club
    runs on Wednesday?" "Coding Club", "Who leads it?" asks who leads Coding Club (a user's chat).

    >>> it_names("Which club runs on Wednesday?", "Coding Club"), it_names("What time does it start?", "3:15pm")
    ('Coding Club', None)
    """
    if not previous or not answer or not _WHICH_THING.match(previous):
        return None
    answer = answer.strip()
    return answer if re.fullmatch(r"[A-Z][\w’'&.-]*(?:\s+(?:[A-Z0-9][\w’'&.-]*|of|and|the|de|du)){0,5}", answer) else None


#: attributes a question asks of a thing: after "What is the price of the E-500?", "it" is the E-500
_ATTRIBUTE_OF = re.compile(r"^(?:the|a|an)\s+(?:price|cost|weight|capacity|size|height|width|length|depth|colou?r|title|name|"
                           r"address|phone number|e-?mail address|warranty|value|speed|power)\s+of\s+(\S.*)$", re.I)


def of_what(topic: str) -> str:
    """The thing an attribute topic is of ("the price of the E-500" -> "the E-500"), else ``topic``.

    >>> of_what("the price of the E-500"), of_what("the operation that captured Maduro")
    ('the E-500', 'the operation that captured Maduro')
    >>> of_what("the score between Canal Street FC and Foundry Lane")
    'the match between Canal Street FC and Foundry Lane'
    """
    if (match := re.match(r"^the\s+(?:score|result)\s+(?:between|of)\s+(\S.*)$", topic, re.I)):
        return f"the match between {match.group(1)}"  # "it" of "What was the score between A and B?" is the match
    m = _ATTRIBUTE_OF.match(topic)
    return m.group(1) if m else topic


#: "that week", "the same round": a numbered thing the previous question named ("in week 43")
_THAT_ONE = re.compile(r"\b(?:(in|on|at|for|during)\s+)?(?:that|this|the\s+same)\s+(week|month|round|room|item|session|term|quarter|season"
                       r"|ticket|match|game|flight|route|stage|level|grade|year\s+group|unit|chapter|clause|section)\b", re.I)


def that_one(question: str, previous: str) -> str | None:
    """``question`` with "that week" (or round, room …) replaced by the numbered one the previous
    question named: "How many room nights were sold that week?" after "… in week 43?" is "… in week
    43?" (a user's chat refused it); None when there is no such pair.

    >>> that_one("How many room nights were sold that week?", "And what was the occupancy in week 43?")
    'How many room nights were sold in week 43?'
    >>> that_one("Who won in that round?", "Who played in round 5?"), that_one("Who won that week?", "Who won?")
    ('Who won in round 5?', None)
    """
    m = _THAT_ONE.search(question)
    if m is None:
        return None
    named = re.search(rf"\b{re.escape(m.group(2))}\s+(\w*\d[\w.-]*)", previous, re.I)
    if named is None:
        return None
    prep = m.group(1) or "in"
    return f"{question[: m.start()]}{prep} {m.group(2)} {named.group(1)}{question[m.end():]}"
