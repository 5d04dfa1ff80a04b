"""Chunking: consecutive sentences packed into retrievable passages, and the pages they lie on.

A chunk is always an exact slice ``doc.text[start:end]`` and never spans masked furniture. For a
paged document (PDF) each chunk records the pages it lies on, so that a citation of any of its
sentences can name its page (:func:`page_at`) without the whole document at hand. A chunk of a
document with Markdown headings records the headings it starts under (``Chunk.section``): a recipe's
ingredient list split from its "## Pumpkin Soup" line still belongs to the soup.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence

from qa.ingest.sentences import split_sentences
from qa.types import Chunk, Document, Sentence

#: Bumped whenever splitting or chunking changes, so existing indexes rebuild.
CHUNKER_VERSION = 25  # 2: "**Dr." ends no sentence; 3-4: lines that go on, "p.m. The" (not "a.m. Central European Time"); 5: sections; 6: HTML/DOCX headings; 7: "5. Contacts" one sentence; 8: whole tables; 9: a long table's head row carried on; 10: where a section's headings stand, version numbers are BM25 terms; 11: a PDF line begun in lower case goes on; 12: and one after a label's colon; 13: a table row is one sentence, never joined to another line; 14: a PDF's tables are rows of cells; 15: a troubleshooting record is not cut; 16: empty table cells kept (DOCX, HTML); 17: right-aligned PDF columns; 18: "Ext. 5587" one sentence; 19: PDF table cells that run into the next parted; 20: a PDF table's section rows and empty cells; 21: years name columns; 22: a letter starts a passage, its subject its section; 23: a heading never ends a passage; 24: centred PDF cells under their header; 25: a line ending on "from" goes on with a number

#: a Markdown heading line ("## Pumpkin Soup"): its level and its words
HEADING = re.compile(r"#{1,6}(?=\s)\s*(?P<text>.*?)[\s#]*")


def heading_of(sentence: str) -> tuple[int, str] | None:
    """(level, words) of a Markdown heading sentence, else None.

    >>> heading_of("## Pumpkin Soup ##"), heading_of("#hashtag"), heading_of("Serves 4.")
    ((2, 'Pumpkin Soup'), None, None)
    """
    m = HEADING.fullmatch(sentence.strip())
    if m is None or not m.group("text"):
        return None
    return len(sentence.strip()) - len(sentence.strip().lstrip("#")), m.group("text")


def under(path: Iterable[tuple[int, str]], heading: tuple[int, str]) -> list[tuple[int, str]]:
    """The section path once ``heading`` starts a section: deeper headings and its own level end."""
    return [h for h in path if h[0] < heading[0]] + [heading]


def _split_long(sent: Sentence, max_words: int) -> list[Sentence]:
    """Cut a sentence longer than ``max_words`` at word boundaries (keeps offsets exact)."""
    words = list(re.finditer(r"\S+", sent.text))
    if len(words) <= max_words:
        return [sent]
    pieces = []
    for i in range(0, len(words), max_words):
        a = sent.start + words[i].start()
        b = sent.start + words[min(i + max_words, len(words)) - 1].end()
        pieces.append(Sentence(a, b, sent.text[a - sent.start : b - sent.start]))
    return pieces


def _n_words(s: Sentence) -> int:
    return len(s.text.split())


def chunk_id_for(doc_id: str, start: int, text: str) -> str:
    return hashlib.sha256(f"{doc_id}\x00{start}\x00{text}".encode("utf-8", "surrogatepass")).hexdigest()[:24]


def pages_between(page_starts: Sequence[int], start: int, end: int) -> tuple[tuple[int, int], ...]:
    """``(page number, page start)`` of each page that ``text[start:end]`` lies on, given where each
    page starts (``Document.pages``); ``()`` for a document without pages.

    >>> pages_between((0, 40, 90), 45, 100)
    ((2, 40), (3, 90))
    """
    out = []
    for number, page_start in enumerate(page_starts, 1):
        if page_start >= end and out:
            break
        if page_start <= start and out:
            out.clear()  # a later page also starts at or before ``start``: only the last one counts
        out.append((number, page_start))
    return tuple(out)


def page_at(pages: Sequence[tuple[int, int]], offset: int) -> int | None:
    """The page (1-based) that ``offset`` lies on, from a chunk's ``pages``; None without pages.

    This is what a citation's ``page`` is: ``page_at(chunk.pages, sentence.start)``.

    >>> page_at(((2, 40), (3, 90)), 95)
    3
    >>> page_at((), 95) is None
    True
    """
    found = None
    for number, start in pages:
        if start > offset and found is not None:
            break
        found = number
    return found


#: a table row as the converters store it (cells joined by " | "), or a Markdown table's rule ("|---|---|")
_TABLE_LINE = re.compile(r" \| |^\s*\|?\s*:?-{3,}:?\s*\|")


#: a model's or product's code: "DW-500", "X3", "Nimbus 800"
_MODEL_CODE = re.compile(r"(?!(?:EUR|USD|GBP|CHF|JPY|AUD|CAD|NOK|SEK|DKK|PLN|Rs|kr|No|Nr)\b)[A-Za-z][A-Za-z]*[- ]?\d+[A-Za-z]?")
#: a year, or a financial year, naming a column: "2025", "2024/25", "FY2025"
_YEAR_COLUMN = re.compile(r"(?:FY\s?)?(?:19|20)\d\d(?:[/–-]\d\d(?:\d\d)?)?")


def names_columns(row: str) -> bool:
    """A table's header row holds no value: no digit outside brackets but in a name of four words or
    more ("How often in 24 hours", a user's leaflet); column names ("Youth (4-17)"), not values.

    >>> names_columns("Ticket | Adult | Youth (4-17)"), names_columns("Single visit | $7.50 | $4.00")
    (True, False)
    >>> names_columns("Age | Single dose | How often in 24 hours"), names_columns("Physiotherapy | 70% | Up to 20 sessions a year")
    (True, False)
    >>> names_columns("Property | DW-500 | DW-700 | DW-900"), names_columns("Noise level | 49 dB | 44 dB")
    (True, False)
    >>> names_columns("Price | EUR 449 | EUR 629"), names_columns("Volume | 500ml | 750ml")
    (False, False)
    >>> names_columns("Item | 2025 (£) | 2024 (£)"), names_columns("Budget | 2024/25 | 2025/26"), names_columns("2024 | 2025 | 2026")
    (True, True, False)
    """
    parts = [c.strip() for c in re.sub(r"\([^)]*\)", "", row).split("|") if c.strip()]
    valued = [c for c in parts if re.search(r"\d", c) and len(c.split()) < 4]
    # model codes naming the columns ("Property | DW-500 | DW-700 | DW-900", a user's spec table), the first cell none
    codes = len(valued) >= 2 and parts[:1] != valued[:1] and all(_MODEL_CODE.fullmatch(c) for c in valued)
    # years naming the columns ("Measure | 2025 | 2024", "Item | 2025 (£) | 2024 (£)", users' annual reports)
    years = len(valued) >= 2 and parts[:1] != valued[:1] and all(_YEAR_COLUMN.fullmatch(c) for c in valued)
    return not valued or codes or years


def _tables(sents: Sequence[Sentence]) -> tuple[dict[int, int], dict[int, int]]:
    """The words of each table (a run of row sentences), keyed by the index of its first row; and
    the index of its first row for every row of a table."""
    words: dict[int, int] = {}
    first_row: dict[int, int] = {}
    first = None
    for i, s in enumerate([*sents, None]):
        if s is not None and _TABLE_LINE.search(s.text):
            first = i if first is None else first
            words[first] = words.get(first, 0) + _n_words(s)
            first_row[i] = first
        else:
            first = None
    return words, first_row


#: a troubleshooting record's first and last labelled lines ("Problem: … / Cause: … / Solution: …")
PROBLEM_LABEL = re.compile(r"^\W*(?:problem|symptom|issue|fault)\s*:\s*", re.I)
REMEDY_LABEL = re.compile(r"^\W*(?:solution|remedy|fix|action|what to do|resolution)\s*:\s*", re.I)
#: sentences a record may run to, its problem's included
_RECORD_SPAN = 6


def _records(sents: Sequence[Sentence]) -> dict[int, int]:
    """The words of each troubleshooting record, keyed by the index of its "Problem:" sentence: from
    there to the first "Solution:" (or "Remedy:" …) sentence within :data:`_RECORD_SPAN`, with no other
    problem between. A record cut by a chunk's end loses its problem or its remedy (a user's manual:
    "does not drain" in one chunk, "Clean the filter" in the next)."""
    words: dict[int, int] = {}
    for i, s in enumerate(sents):
        if not PROBLEM_LABEL.match(s.text):
            continue
        for j in range(i + 1, min(len(sents), i + _RECORD_SPAN)):
            if PROBLEM_LABEL.match(sents[j].text):
                break
            if REMEDY_LABEL.match(sents[j].text):
                words[i] = sum(_n_words(x) for x in sents[i : j + 1])
                break
    return words


#: a letter's or an e-mail's header line ("From: Jane Roe", "Subject: Proposed rent"), and its subject's
LETTER_HEADER = re.compile(r"^\s*(?:From|To|Cc|Bcc|Date|Sent|Subject)\s*:\s*\S", re.I)
_SUBJECT = re.compile(r"^\s*Subject\s*:\s*(?:(?:re|fw|fwd|aw)\s*:\s*)*(?P<text>\S.*?)\s*$", re.I)
#: a letter's section: under any heading of the document ("## Correspondence"), never above one
LETTER_LEVEL = 7


def _letters(sents: Sequence[Sentence]) -> dict[int, int | None]:
    """The index of each letter's (or e-mail's) first header line, and of its "Subject:" line (None
    without one): a "From:" line with a "Date:", "Sent:" or "Subject:" line among the next five. A
    letter starts a passage and its subject is its section, so that its sender, its date and its
    subject are read with what it says (a user's letters: one passage held one letter's end and the
    next one's "From:", and "Who sent the letter about the new rent?" was refused)."""
    found: dict[int, int | None] = {}
    for i, s in enumerate(sents):
        if not re.match(r"^\s*From\s*:\s*\S", s.text, re.I) or (found and max(found) >= i - 1):
            continue
        near = range(i + 1, min(len(sents), i + 6))
        if not any(re.match(r"^\s*(?:Date|Sent|Subject)\s*:", sents[j].text, re.I) for j in near):
            continue
        first = i - 1 if i and LETTER_HEADER.match(sents[i - 1].text) else i  # "Date:" may stand first
        found[first] = next((j for j in near if _SUBJECT.match(sents[j].text)), None)
    return found


def heading_words(sent: Sentence) -> tuple[int, tuple[int, int], str] | None:
    """(level, (start, end) in the document, words) of a heading sentence's words, else None.

    >>> heading_words(Sentence(10, 33, "## [4.3.0] - 2025-09-18"))
    (2, (13, 33), '[4.3.0] - 2025-09-18')
    """
    heading = heading_of(sent.text)
    if heading is None:
        return None
    at = sent.text.index(heading[1], len(sent.text) - len(sent.text.lstrip()) + heading[0])
    return heading[0], (sent.start + at, sent.start + at + len(heading[1])), heading[1]


def _sections_at(sents: Sequence[Sentence], title: str) -> dict[int, tuple[tuple[int, str, tuple[int, int]], ...]]:
    """The headings each sentence stands under, by its start: (level, words, where the words stand), so
    that a chunk that starts inside a section (its ingredients, not its "## Pumpkin Soup" line) still
    says which one; a heading stands under its parents only, and the document's own title is left out."""
    section_at: dict[int, tuple[tuple[int, str, tuple[int, int]], ...]] = {}
    path: list[tuple[int, str, tuple[int, int]]] = []
    letters = _letters(sents)
    subjects = {j for j in letters.values() if j is not None}
    for i, s in enumerate(sents):
        heading = heading_words(s)
        if i in subjects:  # a letter's subject is the section of what follows it
            m = _SUBJECT.match(s.text)
            heading = LETTER_LEVEL, (s.start + m.start("text"), s.start + m.end("text")), m.group("text")
        if heading is not None or i in letters:
            path = [h for h in path if h[0] < (heading[0] if heading is not None else LETTER_LEVEL)]
        section_at[s.start] = tuple(h for h in path if h[1] != title)
        if heading is not None:
            path = [*path, (heading[0], heading[2], heading[1])]
    return section_at


def chunk_document(doc: Document, max_words: int = 110, overlap: int = 0) -> list[Chunk]:
    """Pack consecutive sentences into chunks of at most ``max_words`` words.

    A chunk never spans masked furniture, so ``chunk.text == doc.text[chunk.start:chunk.end]`` is
    always content. ``overlap`` sentences are repeated at the start of the following chunk.
    """
    sents: list[Sentence] = []
    for s in split_sentences(doc):
        sents.extend(_split_long(s, max_words))
    chunks: list[Chunk] = []
    group: list[Sentence] = []
    section_at = _sections_at(sents, doc.title)
    tables, first_row = _tables(sents)
    records = _records(sents)
    letters = _letters(sents)
    index_at = {s.start: i for i, s in enumerate(sents)}

    def flush() -> None:
        if not group:
            return
        start, end = group[0].start, group[-1].end
        body = doc.text[start:end]
        # a chunk that starts inside a table longer than a chunk carries the table's header row on
        first = first_row.get(index_at[start])
        head = sents[first].text if first is not None and sents[first].start < start and names_columns(sents[first].text) else ""
        chunks.append(Chunk(chunk_id_for(doc.doc_id, start, body), doc.doc_id, doc.title, start, end, body, tuple(group),
                            pages=pages_between(doc.pages, start, end), section=tuple((n, w) for n, w, _ in section_at.get(start, ())),
                            section_spans=tuple(at for _, _, at in section_at.get(start, ())), table_head=head))

    def crosses_mask(a: int, b: int) -> bool:
        return any(ms < b and me > a for ms, me in doc.masked)

    for i, s in enumerate(sents):
        # a table that fits a chunk starts one rather than being cut: a row without its header row
        # cannot say which column is which ("Bupa | Zilveren Kruis | Médis" without "Leeds | Rotterdam | Porto")
        # and so does a troubleshooting record: its problem and its remedy in one passage
        whole = tables.get(i, 0) if tables.get(i, max_words + 1) <= max_words else _n_words(s)
        whole = records[i] if records.get(i, max_words + 1) <= max_words else whole
        if group and (sum(_n_words(x) for x in group) + whole > max_words or crosses_mask(group[-1].end, s.start) or i in letters):
            # a heading ending the chunk goes on with what it heads ("## 5. Thursday evening session" above its decision)
            heads = []
            while len(group) > len(heads) + 1 and heading_of(group[-1 - len(heads)].text) is not None \
                    and not crosses_mask(group[-1].end, s.start):
                heads.insert(0, group[-1 - len(heads)])
            group = group[: len(group) - len(heads)]
            flush()
            keep = group[-overlap:] if overlap and not heads and not crosses_mask(group[-1].end, s.start) else []
            # never carry the whole previous chunk over, nor more than fits beside the new sentence
            if len(keep) >= len(group) or sum(_n_words(x) for x in keep) + _n_words(s) > max_words:
                keep = []
            group = list(keep) + heads
        group.append(s)
    flush()
    return chunks


def chunk_documents(docs: Iterable[Document], max_words: int = 110, overlap: int = 0) -> Iterator[Chunk]:
    for d in docs:
        yield from chunk_document(d, max_words, overlap)
