"""The store reads chunk rows and BM25 folders without llama-index (issue 13: answering must not import
it), and reads them exactly as llama-index does: same nodes, same BM25 scores, same folder format.

Real Chroma, fake (hashing) embedder.
"""

from __future__ import annotations

import shutil

from qa.ingest import load_documents, node_to_chunk
from qa.store.records import row_node
from qa.store.sparse import BM25Index, corpus_entry

from tests.conftest import SEEDS
from tests.test_store import make_store

QUESTIONS = ("Who was sworn in as interim president?", "oil reserves", "the of and", "zzqx", "Nicolás Maduro captured")


def _ranking(bm, question: str) -> list[tuple[str, float]]:
    """Every chunk's BM25 score, best first (ours and llama-index's BM25Retriever alike)."""
    bm.similarity_top_k = len(bm.corpus)
    return [(n.node.node_id, float(n.score)) for n in bm.retrieve(question)]


def _indexed(tmp_path):
    store = make_store(tmp_path / "index")
    store.sync(load_documents(SEEDS).documents)
    return store


def test_stored_nodes_are_the_nodes_llama_index_reads(tmp_path):
    from llama_index.core.schema import MetadataMode
    from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict

    from qa.llama import to_text_node

    store = _indexed(tmp_path)
    got = store.chunks_collection.get(ids=store.manifest.chunk_ids())
    assert len(got.ids) > 10
    for rid, md, doc in zip(got.ids, got.metadatas, got.documents):
        theirs = metadata_dict_to_node(md, text=doc)
        theirs.id_ = rid
        ours = row_node(rid, md, doc)
        assert (ours.node_id, ours.text, ours.metadata) == (theirs.node_id, theirs.text, theirs.metadata)
        assert ours.embed_content() == theirs.get_content(metadata_mode=MetadataMode.EMBED)
        assert node_to_chunk(ours) == node_to_chunk(theirs)
        assert to_text_node(ours).model_dump() == theirs.model_dump()
        assert corpus_entry(ours) == node_to_metadata_dict(theirs) | {"node_id": rid}


def test_bm25_scores_and_folders_are_llama_index_bm25_retrievers(tmp_path):
    """Our BM25 gives BM25Retriever's scores, and a ``bm25/`` folder written by either loads in the other
    (indexes saved before issue 13 keep loading; an older engine reads the new ones)."""
    from llama_index.core.vector_stores.utils import metadata_dict_to_node
    from llama_index.retrievers.bm25 import BM25Retriever

    store = _indexed(tmp_path)
    ours = store.bm25()
    assert isinstance(ours, BM25Index) and ours.similarity_top_k == 10
    got = store.chunks_collection.get(ids=store.manifest.chunk_ids())
    nodes = []
    for rid, md, doc in zip(got.ids, got.metadatas, got.documents):
        nodes.append(metadata_dict_to_node(md, text=doc))
        nodes[-1].id_ = rid
    theirs = BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=10)
    saved_by_us = BM25Retriever.from_persist_dir(str(tmp_path / "index" / "bm25"), show_progress=False)
    theirs.persist(str(tmp_path / "theirs"), show_progress=False)
    saved_by_them = BM25Index.load(tmp_path / "theirs")
    for q in QUESTIONS:
        want = _ranking(theirs, q)
        assert want and _ranking(ours, q) == want == _ranking(saved_by_us, q) == _ranking(saved_by_them, q), q
    # a store whose bm25/ llama-index wrote (every index built before) loads it as it is, no rebuild
    key = (tmp_path / "index" / "bm25" / "qa_corpus_key.txt").read_text()
    shutil.rmtree(tmp_path / "index" / "bm25")
    shutil.copytree(tmp_path / "theirs", tmp_path / "index" / "bm25")
    (tmp_path / "index" / "bm25" / "qa_corpus_key.txt").write_text(key)
    fresh = make_store(tmp_path / "index")
    fresh.open()
    assert fresh._load_bm25_folder() is not None
    assert _ranking(fresh.bm25(), QUESTIONS[0]) == _ranking(theirs, QUESTIONS[0])
