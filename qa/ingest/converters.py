"""File formats: a :class:`Converter` per suffix turns a file's bytes into the text that is stored.

The extracted text is what gets chunked, quoted verbatim and offset into, so a converter decides it
once and for all: ``.txt``/``.md`` are the file's bytes decoded with nothing changed; ``.pdf``,
``.docx`` and ``.html`` are their text as extracted (one paragraph per line), with a PDF's page
starts kept so a citation can name its page. Parser libraries are imported only when a file of
their kind is read (see :mod:`qa.ingest.pdf`, :mod:`qa.ingest.office`, :mod:`qa.ingest.webpage`).

>>> converter_for("notes/Report.PDF").kind
'PDF'
>>> converter_for("data.json") is None
True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from typing import Protocol

from qa.ingest.extracted import Extracted, SkippedFile
from qa.ingest.office import DocxConverter
from qa.ingest.pdf import PdfConverter
from qa.ingest.webpage import HtmlConverter

#: Plain-text suffixes: the file's bytes decoded are the document's text.
TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".text")


class Converter(Protocol):
    """Turns the bytes of one file into :class:`Extracted` text, or raises :class:`SkippedFile`
    saying why not (any other exception is reported as an unreadable file of this ``kind``)."""

    #: the format as named in messages ("PDF")
    kind: str

    def convert(self, data: bytes, name: str) -> Extracted: ...


def _decode(data: bytes) -> tuple[str | None, str | None]:
    """(text, warning) for text-file bytes: UTF-8, else cp1252/latin-1 with a warning; binary is (None, reason)."""
    if b"\x00" in data[:8192]:
        return None, "skipped, looks binary (NUL bytes)"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as e:
        for enc in ("cp1252", "latin-1"):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                continue
            return text, f"not valid UTF-8 (byte {e.start}); decoded as {enc}"
    return None, "skipped, undecodable"  # pragma: no cover - latin-1 decodes anything


def decode_bytes(data: bytes, name: str) -> tuple[str | None, str | None]:
    """Decode file bytes: UTF-8, else cp1252/latin-1 with a warning; binary gives (None, reason)."""
    text, why = _decode(data)
    return text, (f"{name}: {why}" if why else None)


@dataclass(frozen=True)
class TextConverter:
    """``.txt`` and ``.md``: the bytes decoded, nothing removed or normalised (offsets into the file)."""

    kind: str = "text file"

    def convert(self, data: bytes, name: str) -> Extracted:
        text, why = _decode(data)
        if text is None:
            raise SkippedFile(why)
        return Extracted(text=text, warnings=(why,) if why else ())


_REGISTRY: dict[str, Converter] = {}


def register(suffix: str, converter: Converter) -> None:
    """Read files ending in ``suffix`` (case-insensitive, with the dot) with ``converter``."""
    if not suffix.startswith("."):
        raise ValueError(f"a suffix starts with a dot: {suffix!r}")
    _REGISTRY[suffix.lower()] = converter


def converter_for(name: str | PurePath) -> Converter | None:
    """The converter for a file name's suffix, or None for a file the folder reader does not read."""
    return _REGISTRY.get(PurePath(name).suffix.lower())


def document_suffixes() -> tuple[str, ...]:
    """Every suffix the folder reader reads, in registration order."""
    return tuple(_REGISTRY)


for _suffix in TEXT_SUFFIXES:
    register(_suffix, TextConverter())
register(".pdf", PdfConverter())
register(".docx", DocxConverter())
register(".html", HtmlConverter())
register(".htm", HtmlConverter())
