"""Documents from text: :func:`parse_document` (furniture, title, hash) and a ``--source`` JSONL file.

Offsets are sacred: a document's ``text`` is kept exactly as given (a text file's bytes decoded, or
what a converter extracted from a PDF, DOCX or HTML file), with nothing removed or normalised.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

from qa.ingest.furniture import furniture_ranges, title_of
from qa.types import Document

#: Files larger than this are skipped with a warning (a text article is a few kB).
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024

#: A ``--source`` JSONL line longer than this is an error (one document's text, JSON-escaped, fits).
MAX_JSONL_LINE_BYTES = 8 * MAX_DOCUMENT_BYTES

_GZIP_HINT = "; it looks gzip-compressed: decompress it first"


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def parse_document(doc_id: str, text: str, path: str = "", title: str | None = None,
                   pages: Sequence[int] = ()) -> Document:
    """Build a :class:`Document` from already-decoded (or extracted) text; ``pages`` are where each
    page starts in ``text``, for paged formats."""
    masked = furniture_ranges(text)
    return Document(
        doc_id=doc_id,
        title=title or title_of(text, masked, fallback=doc_id),
        text=text,
        path=path,
        sha256=sha256_text(text),
        masked=masked,
        pages=tuple(pages),
    )


def _jsonl_line(raw: bytes, lineno: int, where: str) -> str:
    """One raw line of a ``--source`` file as text, or a ``ValueError`` saying what it is instead."""
    if len(raw) > MAX_JSONL_LINE_BYTES:
        raise ValueError(f"{where}: line longer than {MAX_JSONL_LINE_BYTES:,} bytes; expected one JSON object per line")
    hint = _GZIP_HINT if lineno == 1 and raw.startswith(b"\x1f\x8b") else ""
    if b"\x00" in raw:
        raise ValueError(f"{where}: binary data (NUL bytes), not a line of JSON text{hint}")
    try:
        return raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(
            f"{where}: not UTF-8 text (byte 0x{raw[e.start]:02x} at column {e.start + 1}){hint}; "
            f"--source takes a UTF-8 JSONL file"
        ) from None


def load_jsonl(path: str | Path) -> Iterator[Document]:
    """Documents from a JSONL file, one ``{"id", "title", "text"}`` object per line.

    Any line that is not a UTF-8 JSON object with an id and a text is a ``ValueError`` naming
    ``FILE:LINE`` (a binary or compressed file fails on its first line, before anything is indexed).
    """
    with open(path, "rb") as f:
        lineno = 0
        while True:
            raw = f.readline(MAX_JSONL_LINE_BYTES + 1)
            if not raw:
                break
            lineno += 1
            where = f"{path}:{lineno}"
            line = _jsonl_line(raw, lineno, where)
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                doc_id, text = rec["id"], rec["text"]
                if not isinstance(text, str) or not isinstance(doc_id, (str, int)) or isinstance(doc_id, bool):
                    raise TypeError("id must be a string or number and text a string")
                doc_id = str(doc_id)
            except (ValueError, KeyError, TypeError) as e:
                raise ValueError(f"{where}: expected a JSON object with id and text ({e})") from None
            if text.strip():
                yield parse_document(doc_id, text, path=f"{path}#{lineno}", title=rec.get("title") or None)
