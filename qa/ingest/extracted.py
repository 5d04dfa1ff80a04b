"""What a converter hands back (:class:`Extracted`), and how it says a file is not read (:class:`SkippedFile`).

Kept apart from :mod:`qa.ingest.converters` so that each format module can use them without
importing the registry that imports it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.ingest.documents import MAX_DOCUMENT_BYTES


class SkippedFile(Exception):
    """A file of the documents folder that is not read; the message says why (e.g. "skipped, ...")."""


@dataclass(frozen=True)
class Extracted:
    """A file's text as it is stored, chunked, quoted and offset into, and the structure found with it.

    ``pages`` are where each page starts in ``text`` (page n at ``pages[n - 1]``; PDF only);
    ``warnings`` are reasons without the file's name (the loader prefixes it).
    """

    text: str
    pages: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()


# C0 controls other than tab and newline, and DEL: PDF and DOCX text can carry them (form feeds,
# NULs from broken fonts); they are not text a reader would quote.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u00a0]+")


def clean_line(line: str) -> str:
    """One extracted line: controls dropped, runs of spaces and tabs made one space, ends trimmed."""
    return _SPACES.sub(" ", _CONTROLS.sub(" ", line)).strip()


def check_size(text: str, kind: str) -> str:
    """``text`` if its UTF-8 size is within :data:`MAX_DOCUMENT_BYTES` (what one document may hold),
    else :class:`SkippedFile`; a small file can hold much more text than its size (compression)."""
    if len(text) > MAX_DOCUMENT_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_DOCUMENT_BYTES:
        raise SkippedFile(f"skipped, the text of this {kind} is larger than the {MAX_DOCUMENT_BYTES:,}-byte limit")
    return text


def no_text(kind: str, hint: str = "") -> SkippedFile:
    """The clear message for a file that yields no text at all."""
    return SkippedFile(f"skipped, no text could be extracted from this {kind}{hint}")
