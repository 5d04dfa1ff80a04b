"""How chunks and sentences are stored as rows of a :class:`~qa.store.backend.VectorCollection`.

A chunk row is the chunk's llama-index node in llama-index's flat metadata layout (what
``ChromaVectorStore`` wrote before the backend interface existed: indexes written then read as
they are); a sentence row is ``<chunk id>:<i>`` with the document, chunk and character span.
"""

from __future__ import annotations

from collections.abc import Sequence
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


def chunk_row(chunk: Chunk) -> tuple[str, dict[str, Any], str]:
    """(id, metadata, document) of ``chunk``: its node without the text, and the bare text."""
    from llama_index.core.schema import MetadataMode
    from llama_index.core.vector_stores.utils import node_to_metadata_dict

    node = chunk_to_node(chunk)
    md = node_to_metadata_dict(node, remove_text=True, flat_metadata=True)
    return node.node_id, {k: ("" if v is None else v) for k, v in md.items()}, node.get_content(metadata_mode=MetadataMode.NONE)


def row_node(row_id: str, metadata: dict[str, Any], document: str | None) -> Any:
    """The llama-index node of a chunk row (inverse of :func:`chunk_row`)."""
    from llama_index.core.vector_stores.utils import metadata_dict_to_node

    node = metadata_dict_to_node(metadata, text=document)
    node.id_ = row_id
    return node


def read_nodes(collection: VectorCollection, ids: Sequence[str], batch: int | None = None) -> list[Any]:
    """The llama-index nodes of ``ids`` in ``collection``, read ``batch`` ids per get (default READ_BATCH).

    Never one get for a whole collection: past about 32k rows the embedded Chroma fails with
    "too many SQL variables". Ids missing from the collection are left out.
    """
    step = max(1, int(batch or READ_BATCH))
    out = []
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
