"""How chunks and sentences are stored as rows of a :class:`~qa.store.backend.VectorCollection`.

A chunk row is the chunk's llama-index node in llama-index's flat metadata layout (what
``ChromaVectorStore`` wrote before the backend interface existed: indexes written then read as
they are); a sentence row is ``<chunk id>:<i>`` with the document, chunk and character span.

Rows are written through llama-index (at index time) but read back without it, as
:class:`StoredNode`: the node is a JSON string in the row (``_node_content``), and parsing it
ourselves keeps llama-index (~380 modules, ~1 s) out of a process that only answers questions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from qa.ingest import Chunk, chunk_to_node
from qa.store.backend import VectorCollection

#: rows per get/add when copying unchanged vectors into a new generation
COPY_BATCH = 1000
#: ids per get when reading a whole collection (BM25): the embedded Chroma turns one get into one
#: SQL statement with a variable per row, and SQLite refuses more than 32,766 of them
READ_BATCH = 5000
#: rows per add (well under every store's limit on one request)
ADD_BATCH = 4096


def sentence_id(chunk_id: str, i: int) -> str:
    return f"{chunk_id}:{i}"


def sentence_ids_of(chunk_id: str, metadata: Any) -> list[str] | None:
    """The ids of a chunk row's sentence rows (its metadata lists its sentences' spans); None when it does not."""
    try:
        spans = json.loads(metadata["sentences"])
    except (KeyError, TypeError, ValueError):
        return None
    return [sentence_id(chunk_id, j) for j in range(len(spans))] if isinstance(spans, list) else None


def chunk_row(chunk: Chunk) -> tuple[str, dict[str, Any], str]:
    """(id, metadata, document) of ``chunk``: its node without the text, and the bare text."""
    from llama_index.core.schema import MetadataMode
    from llama_index.core.vector_stores.utils import node_to_metadata_dict

    node = chunk_to_node(chunk)
    md = node_to_metadata_dict(node, remove_text=True, flat_metadata=True)
    return node.node_id, {k: ("" if v is None else v) for k, v in md.items()}, node.get_content(metadata_mode=MetadataMode.NONE)


@lru_cache(maxsize=8192)
def _node_content(content: str) -> dict[str, Any]:
    """A row's ``_node_content`` parsed, once per text: every question reads the same rows again (read
    only: :meth:`StoredNode.from_row` copies what it keeps)."""
    return json.loads(content)


@dataclass(frozen=True)
class StoredNode:
    """A chunk read back from the store: what llama-index's ``metadata_dict_to_node`` would give,
    without llama-index (:func:`qa.llama.to_text_node` makes the ``TextNode`` for llama-index apps).

    ``get_content()`` is the bare text, as ``TextNode.get_content()`` is, so
    :func:`~qa.ingest.node_to_chunk` reads both.
    """

    node_id: str
    text: str
    metadata: dict[str, Any]
    #: the row's flat metadata as stored (``_node_content`` and all): a TextNode is rebuilt from it
    row: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_row(cls, row: Mapping[str, Any], text: str | None = None, node_id: str | None = None) -> StoredNode:
        """The node of a flat metadata dict; ``text`` and ``node_id`` override the ones inside it
        (a chunk row holds its text in the row's document, not in ``_node_content``)."""
        content = row.get("_node_content")
        if content is None:  # the error metadata_dict_to_node gives
            raise ValueError("Node content not found in metadata dict.")
        node = _node_content(content)
        return cls(node_id=str(node_id if node_id is not None else node.get("id_", "")),
                   text=text if text is not None else str(node.get("text") or ""),
                   metadata=dict(node.get("metadata") or {}), row=row)

    def get_content(self) -> str:
        return self.text

    def embed_content(self) -> str:
        """``TextNode.get_content(MetadataMode.EMBED)``: what embedding and BM25 see ("title\n\ntext"
        for our chunks), from the templates and excluded keys stored with the node."""
        node = json.loads(self.row["_node_content"])
        hidden = set(node.get("excluded_embed_metadata_keys") or ())
        template = node.get("metadata_template", "{key}: {value}")
        shown = [template.format(key=k, value=str(v)) for k, v in self.metadata.items() if k not in hidden]
        meta = node.get("metadata_separator", "\n").join(shown).strip()
        if not meta:
            return self.text
        return str(node.get("text_template", "{metadata_str}\n\n{content}")).format(content=self.text, metadata_str=meta).strip()


def query_text(question: Any) -> str:
    """The question of a string or of a llama-index ``QueryBundle`` (what llama-index apps pass)."""
    return question if isinstance(question, str) else str(question.query_str)


@dataclass(frozen=True)
class Scored:
    """A node and the score one retriever gave it (higher is better)."""

    node: StoredNode
    score: float


def row_node(row_id: str, metadata: dict[str, Any], document: str | None) -> StoredNode:
    """The node of a chunk row (inverse of :func:`chunk_row`)."""
    return StoredNode.from_row(metadata, text=document, node_id=row_id)


def read_nodes(collection: VectorCollection, ids: Sequence[str], batch: int | None = None) -> list[StoredNode]:
    """The nodes of ``ids`` in ``collection``, read ``batch`` ids per get (default READ_BATCH).

    Never one get for a whole collection: past about 32k rows the embedded Chroma fails with
    "too many SQL variables". Ids missing from the collection are left out.
    """
    step = max(1, int(batch or READ_BATCH))
    out: list[StoredNode] = []
    for i in range(0, len(ids), step):
        got = collection.get(ids=list(ids[i : i + step]))
        out += [row_node(r, md, doc) for r, md, doc in zip(got.ids, got.metadatas, got.documents)]
    return out


def add_vectors(chunks_col: VectorCollection, sents_col: VectorCollection, chunks: Sequence[Chunk],
                chunk_vecs: np.ndarray, sent_vecs: np.ndarray) -> None:
    """Add ``chunks`` and the vector of each of their sentences (``sent_vecs`` in chunk order)."""
    for i in range(0, len(chunks), ADD_BATCH):
        rows = [chunk_row(c) for c in chunks[i : i + ADD_BATCH]]
        chunks_col.add([r[0] for r in rows], chunk_vecs[i : i + len(rows)], [r[1] for r in rows], [r[2] for r in rows])
    sents = [(c, j, s) for c in chunks for j, s in enumerate(c.sentences)]
    for i in range(0, len(sents), ADD_BATCH):
        part = sents[i : i + ADD_BATCH]
        sents_col.add(
            [sentence_id(c.chunk_id, j) for c, j, _ in part], sent_vecs[i : i + len(part)],
            [{"doc_id": c.doc_id, "chunk_id": c.chunk_id, "start": s.start, "end": s.end} for c, _, s in part],
        )


def delete_vectors(chunks_col: VectorCollection, sents_col: VectorCollection, chunks: Sequence[tuple[str, int]]) -> None:
    """Delete chunks ``(chunk id, number of sentences)`` and their sentence vectors (ids that are absent are fine)."""
    for i in range(0, len(chunks), COPY_BATCH):
        part = chunks[i : i + COPY_BATCH]
        chunks_col.delete([cid for cid, _ in part])
        sent_ids = [sentence_id(cid, j) for cid, n in part for j in range(n)]
        for k in range(0, len(sent_ids), COPY_BATCH * 4):
            sents_col.delete(sent_ids[k : k + COPY_BATCH * 4])
