"""llama-index views of documents and chunks, and the way back from a stored node to a chunk.

A chunk's offsets, sentence spans and (for a PDF) pages travel to the store in the node's metadata,
hidden from embedding and the LLM; :func:`node_to_chunk` reads them back for retrieval and citing.
"""

from __future__ import annotations

import json
from typing import Any

from qa.types import SECTION_SEP, Chunk, Document, Sentence

_NODE_META_HIDDEN = ["doc_id", "start", "end", "sentences", "chunk_id"]
#: metadata key of a chunk's pages, ``[[page, page start], ...]`` as JSON; only on chunks of paged
#: documents, so the nodes of text documents are exactly what they were before pages existed
PAGES_KEY = "pages"
#: metadata key of a chunk's section path (:attr:`qa.types.Chunk.section`); only where there is one
SECTION_KEY, SECTION_LEVELS_KEY, SECTION_SPANS_KEY = "section", "section_levels", "section_spans"
#: metadata key of the header row a chunk inside a long table inherits (:attr:`qa.types.Chunk.table_head`)
TABLE_HEAD_KEY = "table_head"


def to_llama_document(doc: Document) -> Any:
    """The document as a llama-index ``Document`` (id = doc_id, title/path in metadata)."""
    from llama_index.core import Document as LIDocument

    return LIDocument(
        id_=doc.doc_id,
        text=doc.text,
        metadata={"doc_id": doc.doc_id, "title": doc.title, "path": doc.path, "sha256": doc.sha256},
        excluded_embed_metadata_keys=["doc_id", "path", "sha256"],
        excluded_llm_metadata_keys=["doc_id", "path", "sha256"],
    )


def chunk_to_node(chunk: Chunk) -> Any:
    """The chunk as a llama-index ``TextNode``; offsets and sentence spans live in metadata.

    The title, the section path where the document has headings and the header row of a table begun
    in an earlier chunk are the only metadata seen by embedding and BM25 ("title\\nsection\\n\\ntext"):
    headlines carry the topic words that a passage
    deep in an article often lacks.
    """
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

    metadata: dict[str, Any] = {
        "doc_id": chunk.doc_id,
        "title": chunk.title,
        "start": chunk.start,
        "end": chunk.end,
        "chunk_id": chunk.chunk_id,
        "sentences": json.dumps([[s.start, s.end] for s in chunk.sentences]),
    }
    hidden = list(_NODE_META_HIDDEN)
    if chunk.pages:
        metadata[PAGES_KEY] = json.dumps([list(p) for p in chunk.pages])
        hidden.append(PAGES_KEY)
    if chunk.section:  # its words seen by embedding and BM25, after the title; its levels hidden
        metadata[SECTION_KEY] = chunk.section_text
        metadata[SECTION_LEVELS_KEY] = json.dumps([level for level, _ in chunk.section])
        hidden.append(SECTION_LEVELS_KEY)
        if chunk.section_spans:
            metadata[SECTION_SPANS_KEY] = json.dumps([list(at) for at in chunk.section_spans])
            hidden.append(SECTION_SPANS_KEY)
    if chunk.table_head:  # its column names seen by embedding and BM25 too: "Departure" for a row of times
        metadata[TABLE_HEAD_KEY] = chunk.table_head
    return TextNode(
        id_=chunk.chunk_id,
        text=chunk.text,
        start_char_idx=chunk.start,
        end_char_idx=chunk.end,
        metadata=metadata,
        excluded_embed_metadata_keys=hidden,
        excluded_llm_metadata_keys=list(hidden),
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=chunk.doc_id)},
        metadata_template="{value}",
        text_template="{metadata_str}\n\n{content}",
    )


def node_to_chunk(node: Any) -> Chunk:
    """Inverse of :func:`chunk_to_node`: of its ``TextNode``, or of the
    :class:`~qa.store.records.StoredNode` the store reads back (from the vector store or BM25)."""
    md = node.metadata
    text = node.get_content()  # MetadataMode.NONE: the bare chunk text
    start = int(md["start"])
    spans = json.loads(md.get("sentences") or "[]")
    sents = tuple(Sentence(int(a), int(b), text[int(a) - start : int(b) - start]) for a, b in spans)
    pages = tuple((int(n), int(s)) for n, s in json.loads(md.get(PAGES_KEY) or "[]"))
    return Chunk(
        chunk_id=str(md.get("chunk_id") or node.node_id),
        doc_id=str(md["doc_id"]),
        title=str(md.get("title", "")),
        start=start,
        end=int(md["end"]),
        text=text,
        sentences=sents,
        pages=pages,
        section=_section(md),
        section_spans=tuple((int(a), int(b)) for a, b in json.loads(md.get(SECTION_SPANS_KEY) or "[]")),
        table_head=str(md.get(TABLE_HEAD_KEY) or ""),
    )


def _section(md: Any) -> tuple[tuple[int, str], ...]:
    """A chunk's section from its node's metadata ((level, words) per heading)."""
    words = str(md.get(SECTION_KEY) or "")
    levels = json.loads(md.get(SECTION_LEVELS_KEY) or "[]")
    return tuple(zip((int(n) for n in levels), words.split(SECTION_SEP))) if words else ()


def embedding_text(chunk: Chunk) -> str:
    """What the dense and sparse indexes see for a chunk (same as the node's EMBED content)."""
    head = "\n".join(x for x in (chunk.title, chunk.section_text, chunk.table_head) if x)
    return f"{head}\n\n{chunk.text}" if head else chunk.text
