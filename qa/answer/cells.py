"""A table row's cells, as the converters write a row (cells joined by " | "), and what a question
quotes of them: "4 to 6 years" in "What is the dose for children aged 4 to 6 years?" names its row,
and "7.6 to 9 kg" says the row of "5 to 7.5 kg" is another (a user's dose table). Used by
:mod:`qa.answer.tables` and :mod:`qa.answer.asked`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa.ingest.sentences import CELL_SEP


def cells(row: str) -> list[tuple[int, int]]:
    """(start, end) of each cell of a " | "-joined row, blanks trimmed; [] for a line that is no row.
    A Markdown row's outer bars are no cells: "| max_size | 20 |" has two.

    >>> row = "| max_size | 20 |"
    >>> [row[a:b] for a, b in cells(row)]
    ['max_size', '20']
    """
    if CELL_SEP not in row:
        return []
    lo, hi = 0, len(row)
    if row.lstrip().startswith("|"):
        lo = row.index("|") + 1
    if row.rstrip().endswith("|") and row.rstrip()[:-1].rstrip() and hi > lo:
        hi = len(row.rstrip()) - 1
    out, start = [], lo
    for part in row[lo:hi].split(CELL_SEP.strip()) if lo else row[lo:hi].split(CELL_SEP):
        sep = 1 if lo else len(CELL_SEP)
        a = start + len(part) - len(part.lstrip())
        b = start + len(part.rstrip())
        out.append((a, max(a, b)))
        start += len(part) + sep
    return out if len(out) >= 2 else []


def quoted(question: str, span: str) -> bool:
    """Is ``span``, a number with its words, quoted whole by the question? "7.6 to 9 kg" does not answer
    "How much should a baby weighing 7.6 to 9 kg get?" (a user's dose table: the reader's weight cell).
    One gold answer of the dev half and 7 of train.json's are (odd questions: "… in the 487 …").

    >>> quoted("How much should a baby weighing 7.6 to 9 kg get?", "7.6 to 9 kg"), quoted("How much?", "2.5 ml")
    (True, False)
    """
    text = " ".join(span.lower().split())
    return bool(re.search(r"\d", text)) and re.search(rf"(?<![\w.]){re.escape(text)}(?![\w.])", " ".join(question.lower().split())) is not None


def row_quoted(question: str, lines: Sequence[str], rows: range) -> int | None:
    """The one row of ``rows`` with a cell of a number and a word or more that the question quotes
    whole, the longest such quote: "4 to 6 years" in "What is the dose for children aged 4 to 6
    years?" (a user's dose table, whose every row says "years").

    >>> doses = ["Age | Dose", "1 to 3 years | 5 ml", "4 to 6 years | 7.5 ml"]
    >>> row_quoted("What is the dose for children aged 4 to 6 years?", doses, range(1, 3))
    2
    """
    named = [(len(text), i) for i in rows for a, b in cells(lines[i])
             if len((text := " ".join(lines[i][a:b].split())).split()) > 1 and quoted(question, text)]
    best = max((n for n, _ in named), default=0)
    found = {i for n, i in named if n == best}
    return found.pop() if len(found) == 1 else None


def _template(cell: str) -> re.Pattern[str] | None:
    """The shape of a cell of numbers and words, any numbers in their place: "5 to 7.5 kg" →
    "N to N kg"; None for a cell without a number or of one word."""
    text = " ".join(cell.split())
    if not re.search(r"\d", text) or len(text.split()) < 2:
        return None
    parts = [r"\d+(?:[.,]\d+)?" if re.fullmatch(r"\d+(?:[.,]\d+)?", p) else re.escape(p) for p in re.split(r"(\d+(?:[.,]\d+)?)", text) if p]
    return re.compile(r"(?<![\w.])" + "".join(parts).replace(r"\ ", r"\s+") + r"(?![\w.])", re.I)


def other_value(question: str, row: str) -> bool:
    """Does the question give, for a cell of ``row`` shaped like "5 to 7.5 kg", another value of that
    shape ("7.6 to 9 kg")? Then the row is not the one asked, whatever else it holds.

    >>> other_value("How much should a baby weighing 7.6 to 9 kg get?", "3 to 6 months | 5 to 7.5 kg | 2.5 ml")
    True
    >>> other_value("How much should a baby weighing 7.6 to 9 kg get?", "6 to 12 months | 7.6 to 9 kg | 2.5 ml")
    False
    """
    for a, b in cells(row):
        shape = _template(row[a:b])
        found = shape.search(question) if shape is not None else None
        if found is not None and " ".join(found.group().lower().split()) != " ".join(row[a:b].lower().split()):
            return True
    return False


#: a code of letters and digits: "E-900", "AP6", "20-ride", "G-300"
_CODE = re.compile(r"\b(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+\b|\b[A-Za-z]+\d+[A-Za-z]?\b")


def code_unheld(question: str, passage: str) -> bool:
    """Does the question name a code of letters and digits ("the E-900") that ``passage`` never holds?
    Then no row of its tables is that item's: "What is the price of the E-900 espresso machine?" is not
    answered by a sales table's July row (a user's report; the catalogue lists the E-500 and E-700).

    >>> code_unheld("What is the price of the E-900?", "| July | €21,400 | €24,600 |"), code_unheld("What is the E-500 price?", "E-500 | €599")
    (True, False)
    >>> code_unheld("How much was sold in 2025?", "| July | 498 |"), code_unheld("What costs 5 EUR?", "| Tea | 5 EUR |")
    (False, False)
    """
    low = passage.lower()
    return any(m.group().lower() not in low for m in _CODE.finditer(question))


_RANGE_OF = re.compile(r"\b(\d{1,3})\s*(?:to|-|–)\s*(\d{1,3})\b|\b(under|below|over|above)\s+(\d{1,3})\b", re.I)
#: a number the question gives someone or something: "a child aged 10", "a 10-year-old", "for 7 people"
_GIVEN = re.compile(r"\b(?:aged|age|of)\s+(\d{1,3})\b|\b(\d{1,3})[- ]years?[- ]old\b", re.I)


def holds_asked_number(question: str, cell: str) -> bool:
    """Does ``cell`` state a range that holds the age the question gives? "Child (5 to 16)", not "Child
    under 5", is the row of "a child aged 10" (a user's ticket prices).

    >>> holds_asked_number("What does a ticket for a child aged 10 cost?", "Child (5 to 16)"), holds_asked_number("… aged 10?", "Child under 5")
    (True, False)
    """
    given = _GIVEN.search(question)
    if given is None:
        return False
    n = int(given.group(1) or given.group(2))
    for m in _RANGE_OF.finditer(cell):
        if m.group(1):
            if int(m.group(1)) <= n <= int(m.group(2)):
                return True
        elif (m.group(3).lower() in ("under", "below")) == (n < int(m.group(4))) and n != int(m.group(4)):
            return True
    return False
