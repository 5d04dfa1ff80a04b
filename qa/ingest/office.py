"""DOCX: the body's paragraphs and tables, in document order, one paragraph (or table row) per line;
a heading ("Heading 2" style) marked with its level as in Markdown ("## Rent").

python-docx is the maintained reader of the format (lxml underneath, which the HTML converter uses
too). Headers, footers, comments and footnotes are left out: they are page furniture or asides, not
the document's text. A table row is one line, its cells joined by " | " (a merged cell once).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from qa.ingest.documents import MAX_DOCUMENT_BYTES
from qa.ingest.extracted import Extracted, SkippedFile, check_size, clean_line, no_text
from qa.ingest.sentences import CELL_SEP, EMPTY_CELL

#: the most a DOCX may hold uncompressed (all its parts): a zip bomb is refused before it is unpacked
MAX_UNPACKED_BYTES = 8 * MAX_DOCUMENT_BYTES
MAX_PARTS = 10_000


def check_zip(data: bytes) -> None:
    """Refuse a DOCX that is not a zip, or whose parts would unpack to more than the limit."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise SkippedFile(f"skipped, not a readable DOCX (not a zip file: {e})") from None
    if len(infos) > MAX_PARTS or sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
        raise SkippedFile(f"skipped, the DOCX unpacks to more than {MAX_UNPACKED_BYTES:,} bytes")


def _row_line(row: Any) -> str:
    """The row's cells joined by " | ", an empty one as :data:`EMPTY_CELL` (left out, the cells after
    it would stand under the wrong column: a signature table's blank corner put "For the Buyer" over
    the labels); a row with no text at all is an empty line."""
    cells, seen = [], set()
    for cell in row.cells:
        if id(cell._tc) in seen:  # a merged cell is listed once per grid column it spans
            continue
        seen.add(id(cell._tc))
        cells.append(" ".join(clean_line(p.text) for p in cell.paragraphs if p.text.strip()))
    return CELL_SEP.join(c or EMPTY_CELL for c in cells) if any(cells) else ""


def _lines(document: Any) -> Iterator[str]:
    """The body's lines in order: paragraphs (a manual line break makes a new line), table rows."""
    from docx.table import Table

    for block in document.iter_inner_content():
        if isinstance(block, Table):
            yield from (_row_line(row) for row in block.rows)
        else:
            level = _heading_level(block)
            lines = [clean_line(x) for x in block.text.splitlines()]
            yield from ([f"{'#' * level} {' '.join(x for x in lines if x)}"] if level and any(lines) else lines)


def _heading_level(paragraph: Any) -> int:
    """1-6 for a paragraph styled "Title" or "Heading N" (marked as in Markdown, so that its section
    is known: qa.ingest.chunking), else 0."""
    try:
        name = (paragraph.style.name or "") if paragraph.style is not None else ""
    except (KeyError, ValueError, AttributeError):  # a style the document names but does not define
        return 0
    if name == "Title":
        return 1
    m = re.fullmatch(r"Heading ([1-6])", name)
    return int(m.group(1)) if m else 0


@dataclass(frozen=True)
class DocxConverter:
    kind: str = "DOCX"

    def convert(self, data: bytes, name: str) -> Extracted:
        check_zip(data)
        import docx
        from docx.opc.exceptions import PackageNotFoundError

        try:
            lines = [line for line in _lines(docx.Document(io.BytesIO(data))) if line]
        except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as e:
            raise SkippedFile(f"skipped, not a readable DOCX ({type(e).__name__}: {e})") from None
        text = "\n".join(lines)
        if not text.strip():
            raise no_text("DOCX")
        return Extracted(text=check_size(text, "DOCX"))
