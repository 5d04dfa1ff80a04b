"""PDF: the text of each page (pypdf), lines reflowed into paragraphs, tables one row a line with
their cells joined by " | " (:mod:`qa.ingest.pdf_tables`), and where each page starts.

pypdf because it is pure Python (no system library), small (~4 MB) and imports in well under a
second, and its plain text extraction is what a reader needs; layout analysis (pdfminer, PyMuPDF)
costs more than chunked question answering gains from it. A PDF without a text layer (a scan) has
nothing to extract: it is skipped with a message that says so (OCR is out of scope).
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass

from qa.ingest.documents import MAX_DOCUMENT_BYTES
from qa.ingest.extracted import Extracted, SkippedFile, check_size, clean_line, no_text
from qa.ingest.pdf_tables import with_tables

#: a line shorter than this share of the page's longest line ends its paragraph (a heading, a last line)
FULL_LINE = 0.6
#: pages are separated by a blank line: a sentence never runs from one page into the next
PAGE_BREAK = "\n\n"

# A line ending a sentence (or a label: "Summary:"), closing quotes and brackets allowed.
_ENDS_SENTENCE = re.compile(r"[.!?:;…][\"”’')\]]*$")
_BULLET = re.compile(r"^(?:[•●▪◦‣∙*–—-]|\(?\d{1,3}[.)]|\(?[a-z][.)])\s")


def _joins(prev: str, line: str, width: int) -> bool:
    """Does ``line`` continue the paragraph whose last line was ``prev`` (the PDF wrapped it)? A long
    line without a sentence end goes on, and so does a short one when the next begins in lower case:
    a title set on three lines ("Alderbrook Household Waste" / "and Recycling Guide", a user's leaflet).
    A label's colon ends no line: "Solution:" / "Clean the filter." is one labelled line, and so is a
    long line wrapped right after "Due:" (users' manual and syllabus).

    >>> _joins("Alderbrook Household Waste", "and Recycling Guide", 80), _joins("Short.", "and more", 80)
    (True, False)
    >>> _joins("Solution:", "Clean the filter.", 80), _joins("Ingredients:", "- 1 kg flour", 80), _joins("These are the rules we follow:", "Be kind.", 80)
    (True, False, False)
    """
    if _BULLET.match(line):
        return False
    if prev.endswith(":") and (len(prev) >= FULL_LINE * width or len(prev.split()) <= 3):
        return True  # "Due:" wrapped at the end of a line, or a short label above its value ("Solution:")
    if _ENDS_SENTENCE.search(prev):
        return False
    return len(prev) >= FULL_LINE * width or bool(re.match(r"[a-z]", line))


def reflow(page_text: str) -> str:
    """The lines of one page joined into paragraphs, one per line.

    PDF text comes one printed line per line, and a line break ends a sentence here; so a line that
    was wrapped (long, no sentence end) is joined to the next with a space. "exam-" + "ple" keeps the
    hyphen ("exam-ple"): it cannot be told from "well-" + "known".

    >>> reflow("A long first line that wraps\\nonto the next.\\nShort.\\nNext one")
    'A long first line that wraps onto the next.\\nShort.\\nNext one'
    >>> reflow("Household Waste\\nand Recycling Guide\\n2026 Edition\\nThis guide says which bin each kind of waste goes in.")
    'Household Waste and Recycling Guide\\n2026 Edition\\nThis guide says which bin each kind of waste goes in.'
    """
    lines = [clean_line(x) for x in page_text.splitlines()]
    width = max((len(x) for x in lines), default=0)
    paragraphs: list[str] = []
    prev = ""
    for line in lines:
        if not line:
            prev = ""
            continue
        if prev and paragraphs and _joins(prev, line, width):
            glue = "" if prev.endswith("-") and prev[-2:-1].isalpha() and line[:1].islower() else " "
            paragraphs[-1] += glue + line
        else:
            paragraphs.append(line)
        prev = line
    return "\n".join(paragraphs)


def join_pages(pages: list[str]) -> tuple[str, tuple[int, ...]]:
    """The pages' texts as one text, and where each page starts in it (an empty page starts where
    the next one does, so no offset ever lands on it).

    >>> join_pages(["One.", "", "Three."])
    ('One.\\n\\nThree.', (0, 6, 6))
    """
    parts: list[str] = []
    starts: list[int] = []
    pos = 0
    for text in pages:
        if pos and text:
            parts.append(PAGE_BREAK)
            pos += len(PAGE_BREAK)
        starts.append(pos)
        parts.append(text)
        pos += len(text)
    for i in range(len(pages) - 2, -1, -1):
        if not pages[i]:
            starts[i] = starts[i + 1]
    return "".join(parts), tuple(starts)


def _layout(page: object) -> str:
    """The page's layout text (:mod:`qa.ingest.pdf_tables` finds its tables there), or "" where
    pypdf's layout mode, younger than its plain one, fails: the page's plain text is kept then."""
    try:
        return page.extract_text(extraction_mode="layout") or ""  # type: ignore[attr-defined]
    except Exception:  # any failure of the layout pass costs the tables only, never the page
        return ""


@dataclass(frozen=True)
class PdfConverter:
    kind: str = "PDF"

    def convert(self, data: bytes, name: str) -> Extracted:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        quiet = logging.getLogger("pypdf")
        if quiet.level == logging.NOTSET:  # unless someone set it: pypdf logs each oddity of a damaged
            quiet.setLevel(logging.ERROR)  # file as a warning; the skip message (or nothing) is what matters
        try:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise SkippedFile("skipped, the PDF is encrypted (password-protected)")
            texts: list[str] = []
            size = 0
            for page in reader.pages:
                texts.append(with_tables(reflow(page.extract_text() or ""), _layout(page)))
                size += len(texts[-1])
                if size > MAX_DOCUMENT_BYTES:  # stop early: the rest would be refused anyway
                    break
        except (PdfReadError, ValueError, KeyError, TypeError) as e:
            raise SkippedFile(f"skipped, not a readable PDF ({type(e).__name__}: {e})") from None
        except NotImplementedError as e:  # encryption algorithms pypdf cannot open without extras
            raise SkippedFile(f"skipped, the PDF is encrypted in a way that cannot be opened ({e})") from None
        text, starts = join_pages(texts)
        if not text.strip():
            raise no_text("PDF", f" ({len(texts)} page{'s' if len(texts) != 1 else ''}, no text layer:"
                                 " a scanned PDF needs OCR first)")
        return Extracted(text=check_size(text, "PDF"), pages=starts)
