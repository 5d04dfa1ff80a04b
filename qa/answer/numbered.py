"""Numbered lines: an agenda's "4. Christmas Fair", a contract's "4.2 The tenant shall …". The
question names one by its number ("What was decided under item 4?", "What does clause 4.2 say?"):
its text answers, or, under a title line, the sentence of its body that says what was asked.
Rules over the text, no model; read by :func:`qa.answer.labels.asked_value` and
:meth:`qa.answer.asked.Asked.sets_aside`.
"""

from __future__ import annotations

import re

from collections.abc import Sequence

from qa.answer.question import content_terms
from qa.pointers import ITEM_ASKED as _ITEM_ASKED
from qa.pointers import ITEM_BODY as _OF_THE_BODY
from qa.pointers import NUMBERED_LINE

#: a minute's decision line: "Decision: the board approved …", "Resolved: …"
_DECISION = re.compile(r"^\W*(?:decisions?|resolutions?|resolved|agreed)\b", re.I)


def numbered_value(question: str, lines: Sequence[str], index: int) -> tuple[int, int] | None:
    """(start, end) in ``lines[index]`` of the numbered item the question names by its number, the
    only line with that number: its text ("What was agenda item 4?" over "4. Skate park lighting");
    or, when the question asks what was decided, said … and the line is a title, the sentence of the
    body under it that says so, else the body's first (a user's PTA minutes: "4. Christmas Fair" answered
    "What was decided under item 4?"). None for every other line.

    >>> agenda = ["## Agenda", "1. Call to order", "4. Skate park lighting"]
    >>> agenda[2][slice(*numbered_value("What was agenda item 4?", agenda, 2))], numbered_value("What was agenda item 4?", agenda, 1)
    ('Skate park lighting', None)
    >>> lease = ["4.1 The rent is due monthly.", "4.2 No pets without consent."]
    >>> lease[1][slice(*numbered_value("What does clause 4.2 say?", lease, 1))], numbered_value("What does clause 4 say?", lease, 1)
    ('No pets without consent.', None)
    >>> minutes = ["4. Christmas Fair", "Mrs Okafor spoke.", "It was decided to hold it on 6 December.", "5. Shelter"]
    >>> [numbered_value("What was decided under item 4?", minutes, i) is not None for i in range(4)]
    [False, False, True, False]
    >>> minutes = ["## 4. Finance", "David Hirst presented the accounts.", "Decision: the board approved the budget."]
    >>> [numbered_value("What was decided under agenda item 4?", minutes, i) is not None for i in range(3)]
    [False, False, True]
    """
    asked = _ITEM_ASKED.search(question)
    if asked is None:
        return None
    titled = [i for i, line in enumerate(lines) if (x := NUMBERED_LINE.match(line)) and x.group(1) == asked.group(1)]
    heading = getattr(lines, "heading", "")  # the passage starts under "3. Finance": its first lines are item 3's
    if not titled and (x := NUMBERED_LINE.match(heading)) and x.group(1) == asked.group(1) and _OF_THE_BODY.search(question):
        titled = [-1]
    if len(titled) != 1:
        return None
    line = lines[titled[0]] if titled[0] >= 0 else heading
    m = NUMBERED_LINE.match(line)
    text = line[m.end():].rstrip()
    if _OF_THE_BODY.search(question) and len(text.split()) <= 6 and not text.endswith((".", "!", "?", ":")):
        body, ended = [], False
        for i in range(titled[0] + 1, len(lines)):
            if NUMBERED_LINE.match(lines[i]) or lines[i].lstrip().startswith("#"):
                ended = True
                break
            body.append(i)
        verbs = set(content_terms(" ".join(_OF_THE_BODY.findall(question))))
        decided = re.search(r"\b(?:decided?|agreed?|resolved?|approved?)\b", question, re.I)
        saying = [i for i in body if verbs & set(content_terms(lines[i])) or (decided and _DECISION.match(lines[i]))]
        # no line saying it: the body's first, unless the body goes on in the next passage (it may say it there)
        target = (saying or (body if ended else []) or [None])[0]
        label = re.match(r"\s*[A-Za-z][\w ]{0,24}:\s+(?=\S)", lines[index])  # "Decision: the board agreed …": what follows it
        return (label.end() if label else 0, len(lines[index].rstrip().rstrip("."))) if index == target else None
    return (m.end(), len(line)) if index == titled[0] else None


def other_number(question: str, line: str) -> bool:
    """Is ``line`` a numbered list's line of another number than the item the question names?
    "What does clause 9.9 say?" is not answered by "4.1 The tenant shall keep the flat clean."

    >>> other_number("What does clause 9.9 say?", "4.1 The tenant shall keep the flat clean."), other_number("What does clause 4.1 say?", "4.1 The flat.")
    (True, False)
    >>> other_number("How much notice must the landlord give under section 21?", "9.2 Two months' notice under section 21 of the Act.")
    False
    """
    asked, m = _ITEM_ASKED.search(question), NUMBERED_LINE.match(line)
    if asked is not None and re.search(rf"\b{re.escape(asked.group())}\b", line, re.I):
        return False  # "9.2 … under section 21 of the Housing Act": the line names what the question does
    return asked is not None and m is not None and m.group(1) != asked.group(1)


def title_unasked(question: str, line: str) -> bool:
    """Is ``line`` a numbered item's title ("4. Treasurer's report", "5. Proposal: raise the match fee
    from £42 to £45") while the question names no item? A title says what the item is about, not what
    was said or decided under it (a user's AGM minutes answered the year's income with "Treasurer's report").

    >>> title_unasked("What was the income for the year?", "4. Treasurer's report"), title_unasked("What was item 4?", "4. Treasurer's report")
    (True, False)
    >>> title_unasked("What is the rent?", "2.1 The rent is £1,350 per calendar month.")
    False
    """
    m = NUMBERED_LINE.match(line)
    if m is None or _ITEM_ASKED.search(question):
        return False
    title = line[m.end():].strip()
    return len(title.split()) <= 14 and not re.search(r"[.!?]$", title) and "|" not in title
