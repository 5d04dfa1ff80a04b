"""A signature's lines under a name: "Ext. 5587" under "Dr Tomasz Wierzbicki" / "Senior Lecturer"
is Wierzbicki's extension (a user's e-mail thread). A question naming the person and the line's kind
("What is Tomasz Wierzbicki's phone extension?") is answered by the line's value. Rules over the
lines, no model; read by :meth:`qa.answer.reader.ReaderAnswerer._look_up_labels`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: a signature's contact line, and the words a question asks for it with
_CONTACT = re.compile(r"^\s*(Ext(?:ension)?\.?|Tel(?:ephone)?\.?|Phone|Mob(?:ile)?\.?|Cell|Fax|E-?mail|Room|Office)\s*:?\s*(\S.*?)\s*$", re.I)
_ASKED_AS = {"ext": r"extension|ext\b", "tel": r"phone|telephone|number", "phone": r"phone|telephone|number",
             "mob": r"mobile|cell|phone", "cell": r"mobile|cell", "fax": r"fax", "e-mail": r"e-?mail", "email": r"e-?mail",
             "room": r"room|office", "office": r"office|room"}
#: a name line: up to a title, then two to four capitalised words ("Dr Tomasz Wierzbicki")
_NAME_LINE = re.compile(r"^\s*(?:(?:Dr|Prof|Mr|Mrs|Ms|Mx)\.?\s+)?([A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+){1,3})\s*$")


def signature_value(question: str, lines: Sequence[str], index: int) -> tuple[int, int] | None:
    """(start, end) of the value of the contact line ``lines[index]`` when it stands in a signature
    (at most three lines under a name line) whose person the question names, and the question asks for
    that kind of line; else None.

    >>> sig = ["--", "Dr Tomasz Wierzbicki", "Senior Lecturer, School of Medicine", "Ext. 5587"]
    >>> sig[3][slice(*signature_value("What is Tomasz Wierzbicki's phone extension?", sig, 3))]
    '5587'
    >>> signature_value("What is Helena Marsh's extension?", sig, 3), signature_value("What is Tomasz Wierzbicki's e-mail?", sig, 3)
    (None, None)
    """
    m = _CONTACT.match(lines[index])
    if m is None:
        return None
    kind = m.group(1).lower().rstrip(".")
    asked = next((v for k, v in _ASKED_AS.items() if kind.startswith(k)), None)
    if asked is None or not re.search(rf"\b(?:{asked})", question, re.I):
        return None
    for i in range(index - 1, max(-1, index - 4), -1):  # the name, above a title line or two ("Senior Lecturer")
        name = _NAME_LINE.match(lines[i])
        if name is not None and sum(bool(re.search(rf"\b{re.escape(w)}\b", question)) for w in name.group(1).split()) >= 2:
            return m.span(2)
    return None


#: whose contact line is asked for: "Peter Roe's phone number", "the caretaker's phone", "the phone number of Peter Roe"
_WHOSE = re.compile(r"\b((?:[A-Z][\w’'-]+\s+){0,3}[\w’'-]+)['’]s?\s+(?:[\w-]+\s+){0,2}(?:phone|number|e-?mail|extension|fax|mobile)"
                    r"|\b(?:phone|number|e-?mail|extension|fax|mobile)(?:\s+number|\s+address)?\s+of\s+(?:the\s+)?([\w’'-]+(?:\s+[A-Z][\w’'-]+){0,3})")


def signature_of_another(question: str, lines: Sequence[str], index: int) -> bool:
    """Is ``lines[index]`` a contact line signed by someone other than the person (or the role) the
    question asks for? "Phone: 07700 900418" under "Jane Roe" / "Tenant, Flat 4B" is not Peter Roe's
    phone, nor the caretaker's (a user's letters gave it for both).

    >>> sig = ["Yours faithfully,", "Jane Roe", "Tenant, Flat 4B", "Phone: 07700 900418"]
    >>> signature_of_another("What is Peter Roe's phone number?", sig, 3), signature_of_another("What is the caretaker's phone number?", sig, 3)
    (True, True)
    >>> signature_of_another("What is Jane Roe's phone number?", sig, 3), signature_of_another("What is the tenant's phone number?", sig, 3)
    (False, False)
    """
    if _CONTACT.match(lines[index]) is None:
        return False
    whose = next((m.group(1) or m.group(2) for m in _WHOSE.finditer(question)
                  if (m.group(1) or m.group(2) or "").lower() not in ("what", "which", "who", "is", "it", "its", "his", "her", "their")), None)
    if not whose:
        return False
    for i in range(index - 1, max(-1, index - 4), -1):
        name = _NAME_LINE.match(lines[i])
        if name is None:
            continue
        signed = " ".join(lines[i:index]).lower()  # the name and the title lines under it
        return not all(re.search(rf"\b{re.escape(w.lower())}", signed) for w in whose.split() if len(w) > 2 and w.lower() != "the")
    return False


def contact_of_unnamed(question: str, sentence: str, passage: str) -> bool:
    """Is a contact asked for someone (or some role) that neither the sentence nor its passage names?
    "Our Designated Safeguarding Lead is Sarah Lindqvist, phone 0113 496 0721" is not the treasurer's
    phone (a user's handbook names no treasurer).

    >>> s = "Our Designated Safeguarding Lead is Sarah Lindqvist, phone 0113 496 0721."
    >>> contact_of_unnamed("What is the treasurer's phone number?", s, s), contact_of_unnamed("What is Sarah Lindqvist's phone number?", s, s)
    (True, False)
    """
    if not re.search(r"\b(?:phone|telephone|e-?mail|fax|mobile|extension)\b", question, re.I):
        return False
    whose = next((m.group(1) or m.group(2) for m in _WHOSE.finditer(question)), None)
    words = [w for w in (whose or "").split() if len(w) > 2 and w.lower() not in ("the", "what", "which", "its", "his", "her")]
    if words and words[-1][:1].isupper():
        words = words[-1:]  # a person: the surname will do ("Ms Lindqvist")
    text = f"{sentence}\n{passage}".lower()
    return bool(words) and not all(re.search(rf"\b{re.escape(w.lower())}", text) for w in words)
