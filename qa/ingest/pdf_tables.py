"""A PDF's tables, as the other converters write them: one row a line, its cells joined by " | ".

pypdf's plain text joins a row's cells with single spaces ("4 to 6 years 16 to 20 kg 7.5 ml up to 3
times"), so no cell could be asked for by its column (users' leaflets, manuals and papers). Its
layout text keeps where each word stands: a table is a run of rows (lines, or lines with no blank
between them) whose cells, separated by three spaces or more, start at the same three or more
columns. Such a run replaces the stretch of the plain text that holds exactly its words, in order
of the rows; where the words differ (a two-column page, a table pypdf reads otherwise), the plain
text stays as it is.

>>> layout = "Age            Weight        Dose\\n\\n1 to 3 years   10 to 15 kg   5 ml\\n\\n4 to 6 years   16 to 20 kg   7.5 ml\\n"
>>> with_tables("Dosage\\nAge Weight Dose\\n1 to 3 years 10 to 15 kg 5 ml\\n4 to 6 years 16 to 20 kg 7.5 ml\\nEnd.", layout)
'Dosage\\nAge | Weight | Dose\\n1 to 3 years | 10 to 15 kg | 5 ml\\n4 to 6 years | 16 to 20 kg | 7.5 ml\\nEnd.'
"""

from __future__ import annotations

import re

from qa.ingest.sentences import CELL_SEP, EMPTY_CELL

#: a cell of a layout line: text up to three spaces or more
_CELL = re.compile(r"\S+(?:\s{1,2}\S+)*")
#: columns this many characters apart are one
_SLACK = 2
#: where two cells touch in the layout text: a number, then a capitalised word ("2026Monday"); pypdf
#: sets a cell's text at its own width, so a long cell can run into the next one (a user's term dates)
_TOUCHING = re.compile(r"(?<=\d)(?=[A-Z][a-z])")
#: a table has at least this many columns and rows (the header counted)
MIN_COLUMNS, MIN_ROWS = 3, 3


def _cells(line: str) -> list[tuple[int, str]]:
    """(column, text) of each cell of a layout line."""
    return [(m.start(), m.group()) for m in _CELL.finditer(line)]


def _groups(layout: str) -> list[list[list[tuple[int, str]]]]:
    """The layout's lines in groups with no blank line between them, each line as its cells."""
    groups: list[list[list[tuple[int, str]]]] = [[]]
    for line in layout.splitlines():
        if line.strip():
            groups[-1].append(_cells(line))
        elif groups[-1]:
            groups.append([])
    return [g for g in groups if g]


def _unglued(cells: list[tuple[int, str]], columns: list[int]) -> list[tuple[int, str]]:
    """A line's cells with touching ones parted, each part in the next column: only where the line
    has fewer cells than columns and each part has a column of its own before the next cell's."""
    out: list[tuple[int, str]] = []
    for i, (col, text) in enumerate(cells):
        parts = _TOUCHING.split(text)
        first = max((j for j, c in enumerate(columns) if c <= col + _SLACK), default=None)
        bound = (max((j for j, c in enumerate(columns) if c <= cells[i + 1][0] + _SLACK), default=0) if i + 1 < len(cells)
                 else len(columns))
        if len(parts) == 1 or len(cells) >= len(columns) or first is None or first + len(parts) > bound:
            out.append((col, text))
            continue
        out.extend((col if k == 0 else columns[first + k], part) for k, part in enumerate(parts))
    return out


def _placed(cells: list[tuple[int, str]], known: list[tuple[int, int]]) -> list[tuple[int, str]] | None:
    """A line's cells each at the start of the known column it starts or ends with (a right-aligned
    "£42,460.00" ends where "Budget" does); None when a cell is in none, or two in one."""
    placed: list[tuple[int, str]] = []
    for col, text in cells:
        j = next((j for j, (a, b) in enumerate(known) if abs(a - col) <= _SLACK or abs(b - col - len(text)) <= _SLACK), None)
        if j is None or (placed and known[j][0] <= placed[-1][0]):
            return None
        placed.append((known[j][0], text))
    return placed


def _columns(lines: list[list[tuple[int, str]]]) -> list[int]:
    """The columns the cells of ``lines`` start at, near ones merged."""
    starts: list[int] = []
    for col in sorted(c for cells in lines for c, _ in cells):
        if not starts or col - starts[-1] > _SLACK:
            starts.append(col)
    return starts


def _row(lines: list[list[tuple[int, str]]], columns: list[int]) -> list[str]:
    """One row's cells: each column's texts, top to bottom (a cell set on several lines)."""
    texts: list[list[str]] = [[] for _ in columns]
    for cells in lines:
        for col, text in cells:
            j = max(i for i, c in enumerate(columns) if c <= col + _SLACK)
            texts[j].append(text)
    return [" ".join(t) for t in texts]


def _ends(lines: list[list[tuple[int, str]]], columns: list[int]) -> list[int]:
    """Where each column's cells end, the furthest (a right-aligned column's cells end together)."""
    ends = [0] * len(columns)
    for cells in lines:
        for col, text in cells:
            j = max(i for i, c in enumerate(columns) if c <= col + _SLACK)
            ends[j] = max(ends[j], col + len(text))
    return ends


def _rows(group: list[list[tuple[int, str]]], known: list[tuple[int, int]] | None = None
          ) -> tuple[list[tuple[int, int]], list[list[str]]] | None:
    """The group's columns (start, end) and its rows (one, or one a line when several lines fill every
    column); None when it is no table's part (fewer than three columns). ``known``: the columns of the
    rows above, taken where the group's own are some of them (a cell ran into the next one, a "Total"
    row with no cell in some columns)."""
    columns = _columns(group)
    if known and len(columns) < len(known):
        starts = [a for a, _ in known]
        placed = [_placed(_unglued(cells, starts), known) for cells in group]
        if any(cells is None for cells in placed) or (placed == group and max(map(len, group)) < 2):
            return None  # not in the table's columns; or a heading, a line of prose under the table
        columns, group = starts, placed  # parted already
    elif len(columns) >= MIN_COLUMNS:
        group = [_unglued(cells, columns) for cells in group]
    if len(columns) < MIN_COLUMNS:
        return None
    full = [i for i, cells in enumerate(group) if len(cells) >= len(columns)]
    if full:  # a line of prose at the margin right above or below the rows, no blank between, is none of the table's
        group = [cells for i, cells in enumerate(group) if full[0] <= i <= full[-1] or len(cells) > 1 or cells[0][0] > columns[0]]
        full = [i for i, cells in enumerate(group) if len(cells) >= len(columns)]
    spans = list(zip(columns, _ends(group, columns)))
    if len(full) > 1:  # rows without a blank between them: each line a row
        return spans, [_row([cells], columns) for cells in group]
    return spans, [_row(group, columns)]


def _same(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> bool:
    """The same columns: each starts where the other does, or ends where it does (prices and weights
    are set right-aligned: "€49.00" starts two columns right of "€189.00", a user's price list), or
    stands centred under it."""
    return len(a) == len(b) and all(abs(x[0] - y[0]) <= _SLACK or abs(x[1] - y[1]) <= _SLACK or _centred(x, y) for x, y in zip(a, b))


def _centred(x: tuple[int, int], y: tuple[int, int]) -> bool:
    """Does one cell stand centred under the other ("4" under "Rooms", "€78" under "Low season", a user's
    rate card), give or take the slack pypdf's layout text leaves?"""
    return abs((x[0] + x[1]) - (y[0] + y[1])) <= max(x[1] - x[0], y[1] - y[0]) + 2 * _SLACK


def tables(layout: str) -> list[list[list[str]]]:
    """The tables of a page's layout text, each as its rows of cells."""
    found: list[list[list[str]]] = []
    run: list[list[str]] = []
    run_columns: list[tuple[int, int]] = []
    section: list[str] | None = None  # a one-cell line inside the table ("INCOME"): a row only if rows follow
    for group in _groups(layout) + [[]]:
        part = _rows(group) if group else None
        if run and group and (part is None or not _same(part[0], run_columns)):
            part = _rows(group, run_columns) or part
        if part is not None and (not run or _same(part[0], run_columns)):
            run_columns = run_columns or part[0]
            run.extend(([section] if section else []) + part[1])
            section = None
            continue
        if run and section is None and len(group) == 1 and len(group[0]) == 1 and abs(group[0][0][0] - run_columns[0][0]) <= _SLACK \
                and len(group[0][0][1].split()) <= 6 and not re.search(r"[.!?;]\s", group[0][0][1]):  # a label, no prose
            section = [group[0][0][1]] + [""] * (len(run_columns) - 1)
            continue
        section = None
        if len(run) >= MIN_ROWS:
            found.append(run)
        run, run_columns = (list(part[1]), part[0]) if part is not None else ([], [])
    return found


def with_tables(plain: str, layout: str) -> str:
    """``plain`` (a page's reflowed text) with each table of ``layout`` written one row a line, cells
    joined by " | ", in place of the stretch that holds exactly the table's words."""
    for rows in tables(layout):
        words = [w for row in rows for cell in row for w in cell.split()]
        exactly = re.compile(r"(?<!\S)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\S)")
        stretch = exactly.search(plain)
        if stretch is None:  # pypdf's plain text puts the words in another order: left as it is
            continue
        table = "\n".join(CELL_SEP.join(cell or EMPTY_CELL for cell in row) for row in rows)  # as DOCX and HTML write one
        before, after = plain[: stretch.start()].rstrip(" "), plain[stretch.end():].lstrip(" ")
        # the rows on lines of their own, even where reflow joined them to the prose around
        opening = "\n" if before and not before.endswith("\n") else ""
        closing = "\n" if after and not after.startswith("\n") else ""
        plain = before + opening + table + closing + after
    return plain
