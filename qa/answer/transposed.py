"""Tables set on their side: a signature block whose columns are the parties ("- | For the Landlord |
Tenant") and whose rows are what is asked of each ("Name | Martin Okafor | Jane Roe", "Date | 14
August 2024 | 16 August 2024"). "Who signed for the Landlord?" is the Name row's cell under "For the
Landlord"; "When did Jane Roe sign?" the Date row's cell in Jane Roe's column (a user's tenancy
agreement answered with her date of birth). Rules over the rows, no model; read by
:meth:`qa.answer.reader.ReaderAnswerer._look_up_labels`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa.answer.cells import cells
from qa.answer.question import content_terms

#: the row a question word asks for, by the row's label
_ROW_ASKED = (
    (re.compile(r"^\W*who\b", re.I), {"name", "names", "signed", "signatory", "signature", "by"}),
    (re.compile(r"^\W*(?:when|on what date|what date)\b", re.I), {"date", "dated", "on"}),
    (re.compile(r"\b(?:title|position|role|job)\b", re.I), {"title", "position", "role", "capacity"}),
)


def _table(lines: Sequence[str], index: int) -> range:
    """The run of rows of as many cells as ``lines[index]`` around it."""
    width = len(cells(lines[index]))
    first, last = index, index
    while first > 0 and len(cells(lines[first - 1])) == width:
        first -= 1
    while last + 1 < len(lines) and len(cells(lines[last + 1])) == width:
        last += 1
    return range(first, last + 1)


def _texts(line: str) -> list[str]:
    return [line[a:b] for a, b in cells(line)]


def transposed_cell(question: str, lines: Sequence[str], index: int) -> tuple[int, int] | None:
    """(start, end) in ``lines[index]`` of the cell the question asks of a table set on its side: the
    row whose label the question's kind asks for ("Name" for who, "Date" for when), in the column the
    question names (its header, or a name in it). None for any other line or table.

    >>> rows = ["- | For the Landlord | Tenant", "Name | Martin Okafor | Jane Roe", "Date | 14 August 2024 | 16 August 2024"]
    >>> [rows[i][slice(*transposed_cell(q, rows, i))] for q, i in (("Who signed for the Landlord?", 1), ("When did Jane Roe sign?", 2))]
    ['Martin Okafor', '16 August 2024']
    >>> transposed_cell("Who signed for the Landlord?", rows, 2), transposed_cell("When did Peter Roe sign?", rows, 2)
    (None, None)
    """
    if len(cells(lines[index])) < 3:
        return None
    rows = _table(lines, index)
    head = _texts(lines[rows[0]])
    if len(rows) < 3 or head[0].strip() not in ("", "-") or any(re.search(r"\d", _texts(lines[r])[0]) for r in rows):
        return None  # no corner cell over the row labels, or a label with a number: a table the right way up
    asked_rows = next((labels for pattern, labels in _ROW_ASKED if pattern.search(question)), None)
    label = set(re.findall(r"[a-z]+", _texts(lines[index])[0].lower()))  # "Name" is no content term
    if asked_rows is None or not label & asked_rows:
        return None
    terms = set(content_terms(question))
    named = {j for j in range(1, len(head)) if set(content_terms(head[j])) & terms}
    for r in rows[1:]:  # a name in the column: "Jane Roe"
        named |= {j for j, cell in enumerate(_texts(lines[r])) if j and cell.strip() and cell.strip() in question}
    if len(named) != 1:
        return None
    return cells(lines[index])[named.pop()]
