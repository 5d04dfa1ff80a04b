"""Table rows and list items: the cell under the column the question names, the item it names. Converters store a table row as one line,
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

from qa.answer.about import other_numbered
from qa.answer.cells import CELL_SEP, cells, holds_asked_number, row_quoted
from qa.answer.columns import attribute_unnamed, names_other_item, other_kind_of
from qa.answer.labels import shares
from qa.answer.question import content_terms
from qa.answer.spans import Span
from qa.ingest.chunking import names_columns
from qa.types import Chunk



class Lines(list[str]):
    """The texts of a chunk's sentences and, in ``above``, the first row of a table the chunk starts
    inside when that row lies in an earlier chunk (:attr:`qa.types.Chunk.table_head`); in ``heading``,
    the words of the heading the chunk starts under ("3. Finance", :attr:`qa.types.Chunk.section`)."""

    def __init__(self, texts: Sequence[str] = (), above: str = "", heading: str = "") -> None:
        super().__init__(texts)
        self.above = above
        self.heading = heading


#: the index :func:`header_of` gives a header row that lies above the chunk (``Lines.above``)
ABOVE = -1


def lines_of(chunk: Chunk) -> Lines:
    """The texts of ``chunk``'s sentences (a table row is one), what the functions below take."""
    return Lines([s.text for s in chunk.sentences], chunk.table_head, chunk.section[-1][1] if chunk.section else "")


def row_at(lines: Sequence[str], index: int) -> str:
    """``lines[index]``, or the header row above the chunk for :data:`ABOVE`."""
    return getattr(lines, "above", "") if index == ABOVE else lines[index]


#: a Markdown table's rule under its header: "|---|:---:|"
MARKDOWN_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)+\|?\s*$")


def _in_table(line: str, width: int) -> bool:
    """A row of ``width`` cells, or a Markdown rule (which stands between the header and the rows)."""
    return len(cells(line)) == width or bool(MARKDOWN_RULE.match(line))


def header_of(lines: Sequence[str], index: int) -> int | None:
    """The index of the header row of the table row ``lines[index]``: the topmost row above it, in an
    unbroken run of rows of as many cells, that holds no values; :data:`ABOVE` for the table's first
    row carried from an earlier chunk (``Lines.above``) when the run reaches the chunk's top; None
    when there is none.

    >>> rows = Lines(["Night bus | 23:40 | 00:10", "Last bus | 22:50 | 23:20"], above="Service | Leaves | Arrives")
    >>> header_of(rows, 1), row_at(rows, header_of(rows, 1)), header_of(["a | 1", "b | 2"], 1)
    (-1, 'Service | Leaves | Arrives', None)
    """
    width = len(cells(lines[index]))
    if not width:
        return None
    found, i = None, index - 1
    while i >= 0 and _in_table(lines[i], width):
        # a Markdown table's header stands above its rule, whatever it holds ("| Product line | … | Q3 total |")
        if cells(lines[i]) and (names_columns(lines[i]) or (i + 1 < len(lines) and MARKDOWN_RULE.match(lines[i + 1]))):
            found = i
        i -= 1
    above = getattr(lines, "above", "")
    if i < 0 and above and len(cells(above)) == width and names_columns(above):
        return ABOVE  # the topmost: the table's first row, before the chunk
    return found


def _run(lines: Sequence[str], index: int) -> tuple[int, int]:
    """The first and last index of the unbroken run of rows (as many cells, or a Markdown rule) that
    the table row ``lines[index]`` stands in."""
    width = len(cells(lines[index]))
    first, last = index, index
    while first > 0 and _in_table(lines[first - 1], width):
        first -= 1
    while last + 1 < len(lines) and _in_table(lines[last + 1], width):
        last += 1
    return first, last


def is_header_row(lines: Sequence[str], index: int) -> bool:
    """Is ``lines[index]`` the header row of a table (rows of as many cells follow it)?"""
    width = len(cells(lines[index]))
    after = index + 2 if index + 1 < len(lines) and MARKDOWN_RULE.match(lines[index + 1]) else index + 1
    return bool(width) and names_columns(lines[index]) and after < len(lines) and len(cells(lines[after])) == width \
        and header_of(lines, after) == index


def _column_words(question: str) -> set[str]:
    """The column a when- or where-question asks for without naming it: "Date", "Room" (a user's exam timetable)."""
    if re.match(r"^\W*when\b", question, re.I):  # "When does the spring term end?": its "Last day"
        ends = " last end final day" if re.search(r"\b(?:end|ends|finish|finishes|close|closes)\b", question, re.I) else ""
        starts = " first start day" if re.search(r"\b(?:start|starts|begin|begins|open|opens)\b", question, re.I) else ""
        return set(content_terms("date" + ends + starts))
    if re.match(r"^\W*where\b", question, re.I):
        return set(content_terms("room location venue place address"))
    return set(content_terms(" ".join(words for asks, words in _ASKS_COLUMN if re.search(asks, question, re.I))))


#: what a question asks a column by without naming it: "How much does the E-700 cost?" its "Price", "Who runs
#: football?" its "Leader", "the e-mail address of the SENCo" its "Contact", "What was the result of A v B?" its "Score"
_ASKS_COLUMN = ((r"\b(?:cost|costs|charged?|pay)\b", "price cost fee charge"), (r"\b(?:e-?mail|phone|telephone)\b", "contact"),
                (r"^\W*who\b", "leader coach teacher instructor host organiser organizer contractor engineer technician assignee owner"),
                (r"\b(?:result|score|won|win|beat|lost)\b", "score result"))


def asked_cell(question: str, lines: Sequence[str], index: int) -> tuple[int, int] | None:
    """(start, end) in ``lines[index]`` of the cell under the one column the question names (not the
    first, which names the row), or None (no header, no column named, or two named alike). A word
    names a column by its beginning too ("invigilates", "Invigilator"); "when" names "Date", "where" "Room".
    Of two columns named by as many words, the one the question names whole wins ("Address" over
    "Office manager" in "What is the address of the Berlin office?").

    >>> rows = ["Course code | Date | Room | Invigilator", "CHEM 4400 | 2026-05-20 | Gym North | Dr. Samuel Oyelaran"]
    >>> [rows[1][slice(*asked_cell(q, rows, 1))] for q in ("Who invigilates the CHEM 4400 exam?", "When is the CHEM 4400 exam?")]
    ['Dr. Samuel Oyelaran', '2026-05-20']
    """
    head = header_of(lines, index)
    if head is None:
        return None
    asked, row = set(content_terms(question)) | _column_words(question), lines[index]
    hits = _columns_named(asked, row_at(lines, head), row, question)
    best = max((n for n, _ in hits), default=(0, 0.0, False, False))
    chosen = [j for n, j in hits if n == best]
    counted = _counted_cell(question, row)  # "20 sessions" whatever column "covered" names ("Coverage": 70%)
    if counted is not None or not best[0] or len(chosen) != 1:
        return counted
    a, b = cells(lines[index])[chosen[0]]
    return (a, b) if b > a else None


def _counted_cell(question: str, row: str) -> tuple[int, int] | None:
    """The one cell of ``row`` that counts what "how many …" counts: "Up to 20 sessions per plan year"
    for "How many physiotherapy sessions are covered?", not the "Coverage" column's "70%" (a user's
    insurance table).

    >>> row = "Physiotherapy | EUR 25 | 70% | Up to 20 sessions per plan year"
    >>> row[slice(*_counted_cell("How many physiotherapy sessions are covered per year?", row))]
    'Up to 20 sessions per plan year'
    """
    m = re.match(r"^\W*how\s+many\s+((?:[\w-]+\s+){0,3}?[\w-]{3,}s)\b", question, re.I)  # the plural counted
    if m is None:
        return None
    noun = m.group(1).split()[-1][:-1]
    found = [(a, b) for a, b in cells(row) if re.search(rf"\d[\d,.]*\s+(?:[\w-]+\s+)?{re.escape(noun)}", row[a:b], re.I)]
    return found[0] if len(found) == 1 else None


_WHICH_NOUN = re.compile(r"^\W*(?:which|what)\s+([a-z][\w’'-]*)", re.I)


def _columns_named(asked: set[str], head_row: str, row: str, question: str = "") -> list[tuple[tuple[int, float, bool, bool], int]]:
    """((question words naming it, the share of its name they are, its cell not naming the row), j)
    for each column j of ``head_row`` the question may ask for: "Address", not "Office manager", for
    "What is the address of the Berlin office?"; "Room", not "Speaker" (whose cell, "Chen Wei", is
    what names the row), for "In which room does Chen Wei speak?". The first column names the row,
    unless another cell does: "What time does Chen Wei's talk start?" asks for "Time"."""
    hits: list[tuple[tuple[int, float, bool, bool], int]] = []
    parts = cells(row)
    key = parts[:1]
    kind = _WHICH_NOUN.match(question)  # "Which club runs on Friday?": "club" asks for the row's name, it names no row
    keyed = (set(content_terms(row[key[0][0] : key[0][1]])) & asked) - set(content_terms(kind.group(1) if kind else "")) if key else set()
    first = 0 if key and not keyed else 1
    for words in (asked - keyed, asked):
        # a word naming the row names no column: "INSET day" asks for the "Date" of the INSET day's row, not its
        # "Day"; unless no column is named else ("Goal race pace" asks for the "Pace" column all the same)
        hits = []
        for j, (a, b) in enumerate(cells(head_row)):
            terms = content_terms(head_row[a:b])
            if j >= first and terms and not other_kind_of(question, head_row[a:b]):
                named = sum(shares({t}, words if j else asked) for t in terms)
                cell = set(content_terms(row[slice(*parts[j])])) - set(terms) if j < len(parts) else set()
                hits.append(((named, named / len(terms), not cell & asked, j > 0), j))  # of all else equal, not the first
        if any(n[0] for n, j in hits if j):
            break
    return hits


def asked_row(question: str, lines: Sequence[str], index: int) -> int | None:
    """The row of ``lines[index]``'s table whose first cell (the row's name) is the only one that
    shares a word with the question: "Manchester" in "What is the hotel limit per night in
    Manchester?" (of several, the one sharing the most words with the question: "12 | Airport
    Terminal" for "… Airport Terminal on route 12?"); when no first cell does, the one row sharing the
    most words with the question. None when no row, or more than one, is named."""
    kind = _WHICH_NOUN.match(question)  # "Which club runs on Monday?": every club's row says "club"; Monday names the row
    asked, head = set(content_terms(question)) - set(content_terms(kind.group(1) if kind else "")), header_of(lines, index)
    first, last = _run(lines, index)  # without a header (in an earlier passage), the run of rows this one is in
    rows = range(head + 1 if head is not None else first, last + 1)
    if head is not None:  # a word naming a column names no row: "shipping" of "Free shipping from" is no "no free shipping"
        asked -= set(content_terms(row_at(lines, head)))
    keyed = _row_named_by_key(question, lines, rows)
    if keyed is None:
        keyed = row_quoted(question, lines, rows)
    if keyed is not None:
        return keyed
    named, shared = [], {}
    for i in range(head + 1 if head is not None else first, last + 1):
        if not cells(lines[i]):  # the Markdown rule
            continue
        a, b = cells(lines[i])[0]
        if asked & set(content_terms(lines[i][a:b])):
            named.append(i)
        shared[i] = len(asked & set(content_terms(lines[i])))
    if len(named) > 1:  # several rows named by their first cell ("route 12"): the one the question names more of
        best = max(shared[r] for r in named)  # ("Airport Terminal on route 12"), or whose range holds its age
        named = [r for r in named if shared[r] == best]
        named = [r for r in named if holds_asked_number(question, lines[r])] or named
    if named:
        return named[0] if len(named) == 1 else None
    # no row named by its first cell (a time, a number): the one row sharing the most words with the
    # question, more than this one ("Opening keynote" for "Who gives the opening keynote?", not "Closing keynote")
    best = max(shared.values(), default=0)
    rows = [r for r, n in shared.items() if n == best]
    return rows[0] if len(rows) == 1 and best and (rows[0] == index or best > shared.get(index, 0)) else None


#: a row's key: "404", "2025-41", "E-1001", "AI-3", "Under-12", "CHEM 4400" (a short word, then digits; two digits at least alone)
_KEY = re.compile(r"(?:([A-Za-z]{1,8}[- ]?)(\d{1,6}(?:-\d{1,4})?)|()(\d{2,6}(?:-\d{1,4})?))")


def _shape(key: str) -> tuple[str, str] | None:
    """The key's word and its digits' pattern ("Under-", "99"), or None for no key."""
    m = _KEY.fullmatch(key)
    if m is None:
        return None
    word, digits = (m.group(1), m.group(2)) if m.group(2) else (m.group(3), m.group(4))
    return word.lower(), re.sub(r"\d", "9", digits)


def unnamed_key(question: str, lines: Sequence[str], index: int) -> bool:
    """Is ``lines[index]`` a row of a table keyed by codes ("404 | not_found | …") while the question
    names a code of the same shape that no row has? "What does error 418 mean?" was answered by the
    413 row (a user's API reference).

    >>> rows = ["Code | Name", "404 | not_found", "413 | payload_too_large"]
    >>> unnamed_key("What does error 418 mean?", rows, 2), unnamed_key("What does error 413 mean?", rows, 2)
    (True, False)
    >>> fees = ["Age group | Fee", "Under-8 | $120", "Under-12 | $165", "Adults (18+) | $280"]
    >>> unnamed_key("What is the fee for the Under-18 team?", fees, 3), unnamed_key("What is the fee for under-12s?", fees, 3)
    (True, False)
    >>> exams = ["Course | Room", "CHEM 1010 | Hall A", "CHEM 4400 | Lab 2"]
    >>> unnamed_key("What room is the CHEM 2415 exam in?", exams, 1), unnamed_key("What room is the CHEM 4400 exam in?", exams, 1)
    (True, False)
    """
    if not cells(lines[index]):
        return False
    first, last = _run(lines, index)
    keys = {lines[i][a:b] for i in range(first, last + 1) for a, b in cells(lines[i])[:1]}
    shapes = {_shape(k) for k in keys} - {None}
    head = header_of(lines, index)
    keyed = head is not None and re.search(r"\b(?:code|id|no|number|key)\b", row_at(lines, head).split("|")[0], re.I)
    if sum(_shape(k) is not None for k in keys) < (1 if keyed else 2):  # one row is key enough under "Course code"
        return False
    lowered = {k.lower() for k in keys}
    tokens = re.findall(r"\b(?:[A-Za-z]{1,8}[- ]?)?\d{1,6}(?:-\d{1,4})?\b", question) + re.findall(r"\b\d{2,6}(?:-\d{1,4})?\b", question)
    return any(_shape(t) in shapes and t.lower() not in lowered for t in tokens)


def in_asked_row(question: str, lines: Sequence[str], index: int, start: int, end: int) -> tuple[int, int, int]:
    """A span the reader found in one row of a table, moved to the same column of the row the question
    names (:func:`asked_row`): the reader knows which column holds a price, less well which row is
    Manchester's. (index, start, end), unchanged when the question names no other row."""
    row = asked_row(question, lines, index)
    if row is None or row == index:
        return index, start, end
    here, there = cells(lines[index]), cells(lines[row])
    first = next((j for j, (a, b) in enumerate(here) if a <= start < b + 1), None)
    last = next((j for j, (a, b) in enumerate(here) if a < end <= b + 1), first)
    if first is None or last is None or last < first:
        return index, start, end
    # the same cells of the asked row: one cell, or several (the whole row, whose asked column
    # table_span then cuts), even the row's name ("Harriet Osei" for "Daniel Kowalczyk's extension")
    a, b = there[first][0], there[last][1]
    return (row, a, b) if b > a else (index, start, end)


def label_asked(question: str, row: str, start: int, end: int) -> tuple[int, int]:
    """A span inside a cell that holds what the question gives, moved to the row's name (its first
    cell), when the question asks which one: "Which dessert contains tree nuts?" over "| Dark
    chocolate torte | £8.50 | milk, egg, tree nuts |" is "Dark chocolate torte", not "egg" (a user's menu).

    >>> row = "| Dark chocolate torte | £8.50 | milk, egg, tree nuts |"
    >>> row[slice(*label_asked("Which dessert contains tree nuts?", row, row.index("egg"), row.index("egg") + 3))]
    'Dark chocolate torte'
    >>> row[slice(*label_asked("What does the torte cost?", row, row.index("£"), row.index("£") + 5))]
    '£8.50'
    >>> row[slice(*label_asked("Which allergens does the torte contain?", row, row.index("milk"), row.index("milk") + 20))]
    'milk, egg, tree nuts'
    """
    parts = cells(row)
    if len(parts) < 2 or not re.match(r"^\W*(?:which|what)\b", question, re.I):
        return start, end
    asked = set(content_terms(question))
    here = next(((a, b) for a, b in parts[1:] if a <= start < b + 1), None)
    a0, b0 = parts[0]
    if here is None or asked & set(content_terms(row[a0:b0])) or not asked & set(content_terms(row[here[0]:here[1]])):
        return start, end
    return a0, b0


def row_keys(lines: Sequence[str], index: int) -> str:
    """The numbers of a table row named as its header names their columns: "Route 7" for the "7" of
    "7 | Airport Terminal | 09:56" under "Route | Stop | First bus", so that a row of another number
    than the question's ("route 9") is told apart ("" for no row, no header, no bare number).

    >>> row_keys(["Route | Stop | First bus", "7 | Airport Terminal | 09:56"], 1)
    'Route 7'
    """
    head = header_of(lines, index)
    if head is None or head == index:
        return ""
    row, names = lines[index], row_at(lines, head)
    pairs = zip((row[a:b] for a, b in cells(row)), (names[a:b] for a, b in cells(names)))
    keys = ((_BARE_NUMBER.fullmatch(value), name) for value, name in pairs)
    return " ".join(f"{name} {m.group(1)}" for m, name in keys if m)


#: a cell that is a number, maybe with a note: "7", "12b", "4 (recovery week)"
_BARE_NUMBER = re.compile(r"(\d{1,4}[A-Za-z]?)(?:\s*\([^)]*\))?")


def _row_named_by_key(question: str, lines: Sequence[str], rows: range) -> int | None:
    """The one row of ``rows`` whose number the question names as its header names it: "week 7"
    for "7 | 2 x 6 km | 30 min tempo | 14 km" under "Week | Easy runs | …" (a user's training plan:
    "How long is the long run in week 7?" got the "4 (recovery week)" row, which says "week")."""
    named = [i for i in rows if (key := row_keys(lines, i).split(" ")) and len(key) >= 2
             and re.search(rf"\b{re.escape(' '.join(key[:2]))}\b", question, re.I)]
    return named[0] if len(named) == 1 else None


def looked_up(question: str, lines: Sequence[str], index: int) -> tuple[int, int] | None:
    """(start, end) of the cell the question looks up in the table row ``lines[index]``: it names
    this row by its first cell or by all of another cell's words (no other row of the table) and one
    column of the header; else None.
    "What is the default value of max_size?" over "| max_size | 20 |" under "| Option | Default |".

    >>> rows = ["| Option | Default |", "|---|---|", "| min_size | 2 |", "| max_size | 20 |"]
    >>> looked_up("What is the default value of max_size?", rows, 3), looked_up("What is the default value of max_size?", rows, 2)
    ((13, 15), None)
    """
    if not cells(lines[index]) or asked_row(question, lines, index) != index \
            or other_numbered(question, f"{lines[index]} {row_keys(lines, index)}", "") \
            or unnamed_key(question, lines, index):
        return None  # not the row named, or one of another number ("Route 12 …" for "Route 22", "CHEM 1010" for "CHEM 2415")
    asked, row = set(content_terms(question)), lines[index]
    passage = "\n".join(lines).lower()
    if any(re.search(r"\d", t) and t not in passage for t in asked):
        return None  # "a 20-ride card" is none of a club's fees ("| Adults (18+) | $280 | $55 |"): its code is not in this table
    terms = [set(content_terms(row[a:b])) for a, b in cells(row)]
    named = asked & terms[0] or any(t and t <= asked for t in terms[1:]) \
        or _row_named_by_key(question, lines, range(index, index + 1)) == index  # or a whole cell ("the Toxicology exam"), or "week 7"
    head = header_of(lines, index)
    known = set(content_terms(row_at(lines, head))) | _column_words(question) if head is not None else set()
    if named and not any(t and t <= asked for t in terms[1:]) and names_other_item(question, terms[0], known | set(content_terms("much many"))):
        return None  # "the yellow fever vaccine" is not the "Flu vaccine" row
    return asked_cell(question, lines, index) if named else None  # else asked_row's best guess, not named


def column_names(chunk: Chunk, index: int) -> str:
    """The header row of the table row sentence ``index`` of ``chunk`` stands in ("" for none): it
    counts as the row's heading ("Default" for "What is the default value of max_size?")."""
    if CELL_SEP not in chunk.sentences[index].text:
        return ""
    lines = lines_of(chunk)
    head = header_of(lines, index)
    return row_at(lines, head) if head is not None and head != index else ""


def table_span(question: str, chunk: Chunk, index: int, span: Span | None) -> Span | None:
    """The span sentence ``index`` of ``chunk`` answers with: in a table row, the cell under the column
    the question names (:func:`asked_cell`), none in a header row nor in a table with no column for the
    attribute asked (:func:`qa.answer.columns.attribute_unnamed`); ``span`` otherwise."""
    if CELL_SEP not in chunk.sentences[index].text:
        return span
    lines = lines_of(chunk)
    cell = asked_cell(question, lines, index)
    if cell is not None:
        return Span(*cell, "table")
    head = header_of(lines, index)
    columns = [row_at(lines, head)[a:b] for a, b in cells(row_at(lines, head))] if head is not None else []
    return None if is_header_row(lines, index) or attribute_unnamed(question, columns) else span
