"""Ingestion: read documents, mask page furniture, split sentences, pack chunks.

Offsets are sacred here. A document's ``text`` is the file's bytes decoded (``.txt``, ``.md``) or
the text a converter extracted (``.pdf``, ``.docx``, ``.html``), with nothing removed or normalised
afterwards, and every sentence and chunk is a ``(start, end)`` slice of it. Page furniture ("Back to
top button", "Related Articles", an empty "Sources:") is *masked* (recorded as ranges to skip),
never cut out, so quotes can always be checked against the stored text.

The parts: :mod:`~qa.ingest.files` (the documents folder, read safely), :mod:`~qa.ingest.converters`
(a converter per suffix), :mod:`~qa.ingest.documents` (text to :class:`~qa.types.Document`, a JSONL
source), :mod:`~qa.ingest.furniture`, :mod:`~qa.ingest.sentences`, :mod:`~qa.ingest.chunking`
(with the pages a chunk lies on) and :mod:`~qa.ingest.nodes` (llama-index views).

>>> doc = parse_document("a.txt", "Headline\\nFirst sentence here. Second one follows.\\nRelated Articles\\n")
>>> doc.title
'Headline'
>>> [doc.text[s.start:s.end] for s in split_sentences(doc)]
['Headline', 'First sentence here.', 'Second one follows.']
"""

from __future__ import annotations

from pathlib import Path

from qa.ingest import files as _files
from qa.ingest.chunking import CHUNKER_VERSION, chunk_document, chunk_documents, chunk_id_for, page_at, pages_between
from qa.ingest.converters import (
    TEXT_SUFFIXES, Converter, converter_for, decode_bytes, document_suffixes, register,
)
from qa.ingest.documents import MAX_DOCUMENT_BYTES, MAX_JSONL_LINE_BYTES, load_jsonl, parse_document, sha256_text
from qa.ingest.extracted import Extracted, SkippedFile
from qa.ingest.files import LoadReport, iter_document_files
from qa.ingest.files import open_document as _open_document
from qa.ingest.furniture import furniture_ranges, title_of
from qa.ingest.nodes import chunk_to_node, embedding_text, node_to_chunk, to_llama_document
from qa.ingest.sentences import split_sentences
from qa.types import Chunk, Document, Sentence

__all__ = [
    "CHUNKER_VERSION", "MAX_DOCUMENT_BYTES", "MAX_JSONL_LINE_BYTES", "TEXT_SUFFIXES", "Chunk", "Converter", "Document",
    "Extracted", "LoadReport", "Sentence", "SkippedFile", "chunk_document", "chunk_documents", "chunk_id_for",
    "chunk_to_node", "converter_for", "decode_bytes", "document_suffixes", "embedding_text", "furniture_ranges",
    "iter_document_files", "load_document", "load_documents", "load_jsonl", "node_to_chunk", "page_at",
    "pages_between", "parse_document", "read_document_bytes", "register", "sha256_text", "split_sentences",
    "title_of", "to_llama_document",
]

# ``qa.ingest._open_document`` is the seam tests patch to simulate a file the kernel refuses (root
# reads through chmod 000). The three readers below look it up here at each call, so a patch of this
# package's attribute reaches the folder reader in qa.ingest.files.


def read_document_bytes(path: str | Path, root: str | Path | None = None, limit: int | None = None) -> bytes:
    """See :func:`qa.ingest.files.read_document_bytes` (opened through ``qa.ingest._open_document``)."""
    return _files.read_document_bytes(path, root, limit, opener=_open_document)


def load_documents(folder: str | Path) -> LoadReport:
    """See :func:`qa.ingest.files.load_documents` (opened through ``qa.ingest._open_document``)."""
    return _files.load_documents(folder, opener=_open_document)


def load_document(folder: str | Path, name: str) -> LoadReport:
    """See :func:`qa.ingest.files.load_document` (opened through ``qa.ingest._open_document``)."""
    return _files.load_document(folder, name, opener=_open_document)
