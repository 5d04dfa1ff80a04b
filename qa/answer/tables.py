"""Table rows: the cell under the column the question names. Converters store a table row as one line,
its cells joined by " | " (:mod:`qa.ingest.office`, :mod:`qa.ingest.webpage`), so a row is a sentence
and its header row is the line above the rows. "What does a 10-visit pass cost for a youth?" is
answered by the "Youth" cell of the "10-visit pass" row, not by the row's first price; a header row
itself answers nothing.

>>> rows = ["Ticket | Adult | Youth (4-17) | Senior", "Single visit | $7.50 | $4.00 | $5.00"]
>>> row = rows[1]
>>> row[slice(*asked_cell("How much is a single visit for a youth?", rows, 1))]
'$4.00'
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa.answer.question import content_terms
from qa.answer.spans import Span
from qa.types import Chunk

#: what joins the cells of a table row (qa.ingest.office, qa.ingest.webpage)
CELL_SEP = " | "


def lines_of(chunk: Chunk) -> list[str]:
    """The texts of ``chunk``'s sentences (a table row is one), what the functions below take."""
    return [s.text for s in chunk.sentences]


def cells(row: str) -> list[tuple[int, int]]:
    """(start, end) of each cell of a " | "-joined row, blanks trimmed; [] for a line that is no row."""
    if CELL_SEP not in row:
        return []
    out, start = [], 0
    for part in row.split(CELL_SEP):
        a = start + len(part) - len(part.lstrip())
        b = start + len(part.rstrip())
        out.append((a, max(a, b)))
        start += len(part) + len(CELL_SEP)
    return out if len(out) >= 2 else []


def _is_header(row: str) -> bool:
    """No digit outside brackets in any cell: column names ("Youth (4-17)"), not values."""
    return not re.search(r"\d", re.sub(r"\([^)]*\)", "", row))


def header_of(lines: Sequence[str], index: int) -> int | None:
    """The index of the header row of the table row ``lines[index]``: the topmost row above it, in an
    unbroken run of rows of as many cells, that holds no values; None when there is none."""
    width = len(cells(lines[index]))
    if not width:
        return None
    found, i = None, index - 1
    while i >= 0 and len(cells(lines[i])) == width:
        if _is_header(lines[i]):
            found = i
        i -= 1
    return found


def is_header_row(lines: Sequence[str], index: int) -> bool:
    """Is ``lines[index]`` the header row of a table (rows of as many cells follow it)?"""
    width = len(cells(lines[index]))
    return bool(width) and _is_header(lines[index]) and index + 1 < len(lines) and len(cells(lines[index + 1])) == width \
        and header_of(lines, index + 1) == index


def asked_cell(question: str, lines: Sequence[str], index: int) -> tuple[int, int] | None:
    """(start, end) in ``lines[index]`` of the cell under the one column the question names (not the
    first, which names the row), or None (no header, no column named, or two named alike)."""
    head = header_of(lines, index)
    if head is None:
        return None
    asked = set(content_terms(question))
    names = cells(lines[head])
    hits = [(len(asked & set(content_terms(lines[head][a:b]))), j) for j, (a, b) in enumerate(names) if j > 0]
    best = max((n for n, _ in hits), default=0)
    chosen = [j for n, j in hits if n == best]
    if not best or len(chosen) != 1:
        return None
    a, b = cells(lines[index])[chosen[0]]
    return (a, b) if b > a else None


def asked_row(question: str, lines: Sequence[str], index: int) -> int | None:
    """The row of ``lines[index]``'s table whose first cell (the row's name) is the only one that
    shares a word with the question: "Manchester" in "What is the hotel limit per night in
    Manchester?". None when no row, or more than one, is named."""
    head = header_of(lines, index)
    if head is None:
        return None
    width, asked = len(cells(lines[index])), set(content_terms(question))
    named, i = [], head + 1
    while i < len(lines) and len(cells(lines[i])) == width:
        a, b = cells(lines[i])[0]
        if asked & set(content_terms(lines[i][a:b])):
            named.append(i)
        i += 1
    return named[0] if len(named) == 1 else None


def in_asked_row(question: str, lines: Sequence[str], index: int, start: int, end: int) -> tuple[int, int, int]:
    """A span the reader found in one row of a table, moved to the same column of the row the question
    names (:func:`asked_row`): the reader knows which column holds a price, less well which row is
    Manchester's. (index, start, end), unchanged when the question names no other row."""
    row = asked_row(question, lines, index)
    if row is None or row == index:
        return index, start, end
    column = next((j for j, (a, b) in enumerate(cells(lines[index])) if a <= start < b + 1), None)
    if column is None or column == 0:
        return index, start, end
    a, b = cells(lines[row])[column]
    return (row, a, b) if b > a else (index, start, end)


def table_span(question: str, chunk: Chunk, index: int, span: Span | None) -> Span | None:
    """The span sentence ``index`` of ``chunk`` answers with: in a table row, the cell under the column
    the question names (:func:`asked_cell`), none in a header row; ``span`` otherwise."""
    if CELL_SEP not in chunk.sentences[index].text:
        return span
    lines = lines_of(chunk)
    cell = asked_cell(question, lines, index)
    if cell is not None:
        return Span(*cell, "table")
    return None if is_header_row(lines, index) else span
