"""Candidates of one kind that compete: rows of one table, letters of one collection. The one the
question names more of keeps its reader evidence; the others lose it (the caller unreads them).
Rules over read candidates, no model; used by :meth:`qa.answer.reader.ReaderAnswerer.rank`.
"""

from __future__ import annotations

from collections.abc import Sequence

from qa.answer.letters import asks_a_letter, letter_fit
from qa.answer.scoring import Candidate
from qa.answer.tables import CELL_SEP, MARKDOWN_RULE, cells, is_header_row, lines_of
from qa.ingest.chunking import names_columns


def rows_asked_less(read_cands: Sequence[Candidate]) -> list[Candidate]:
    """Rows of one table (one document, as many cells) compete by the question's words they hold: a
    row holding fewer than another loses. "Who gives the opening keynote?" got the "Closing keynote"
    row of a user's programme, a long table read from two passages (so
    :func:`qa.answer.tables.in_asked_row` could not move the span)."""
    tables: dict[tuple[str, int], list[Candidate]] = {}
    for c in read_cands:  # a header row answers nothing, whatever words it shares ("| Week | … | Weekly total |")
        if c.reader_score is not None and CELL_SEP in c.sentence.text and not _a_header(lines_of(c.hit.chunk), c.index):
            tables.setdefault((c.doc_id, len(cells(c.sentence.text))), []).append(c)
    losing = []
    for rows in tables.values():
        most = max(len(c.matched) for c in rows)
        losing += [c for c in rows if len(c.matched) < most]
    return losing


def _a_header(lines: Sequence[str], index: int) -> bool:
    """Is ``lines[index]`` a table's header row: rows follow it, or it names columns and only a rule
    follows it in its passage (the rows are in the next)?"""
    if is_header_row(lines, index):
        return True
    after = [line for line in lines[index + 1:] if not MARKDOWN_RULE.match(line)]
    return names_columns(lines[index]) and (not after or CELL_SEP not in after[0])


def letters_fitting_less(question: str, read_cands: Sequence[Candidate], looked_up: str) -> list[Candidate]:
    """Letters of several passages compete as those of one do (:func:`qa.ingest.chunking._letters`
    starts a passage at each): a header looked up (span kind ``looked_up``) for a letter fitting the
    question less than another's loses ("Who wrote the letter about the heating?": not the reply).
    Where the question asks for a letter's sender or date, every other sentence loses to its header."""
    fits = {id(c): letter_fit(question, lines_of(c.hit.chunk), c.index) for c in read_cands
            if c.span is not None and c.span.kind == looked_up}
    best = max((f for f in fits.values() if f is not None), default=None)
    header_only = best is not None and asks_a_letter(question)  # its header answers, not its body
    return [c for c in read_cands
            if (fits.get(id(c)) is not None and fits[id(c)] != best) or (header_only and fits.get(id(c)) is None)]
