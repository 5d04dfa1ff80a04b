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
