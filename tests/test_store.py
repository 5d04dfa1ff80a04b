"""The persisted index: manifest, incremental sync, rebuild triggers, broken folders.

Real Chroma, fake (hashing) embedder: fast, and it counts how much text gets embedded.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa import QA
from qa.config import Config
from qa.ingest import load_documents
from qa.store import MANIFEST, IndexError_, IndexStore, Manifest

from tests.fakes import HashEmbedder

CHUNKING = {"chunk_words": 110, "chunk_overlap": 0, "version": 1}


def make_store(index_dir: Path, embedder: HashEmbedder | None = None, chunking=CHUNKING) -> IndexStore:
    return IndexStore(index_dir, embedder or HashEmbedder(), chunking)


def chunk_ids_by_doc(store: IndexStore) -> dict[str, set[str]]:
    got = store.chunks_collection.get(include=["metadatas"])
    out: dict[str, set[str]] = {}
    for cid, md in zip(got["ids"], got["metadatas"]):
        out.setdefault(md["doc_id"], set()).add(cid)
    return out


def test_first_sync_indexes_everything_and_writes_manifest(tmp_path, seeds_copy):
    store = make_store(tmp_path / "index")
    docs = load_documents(seeds_copy).documents
    report = store.sync(docs)
    assert sorted(report.added) == sorted(d.doc_id for d in docs)
    assert not report.rebuilt and report.chunks_added == store.count() > 0
    m = json.loads((tmp_path / "index" / MANIFEST).read_text())
    assert m["model"] == "test/hash-embedder" and m["dimension"] == 256
    assert m["chunking"] == CHUNKING
    for d in docs:
        assert m["documents"][d.doc_id]["sha256"] == d.sha256
    # every sentence of every chunk has a stored vector
    n_sent = sum(len(json.loads(md["sentences"])) for md in store.chunks_collection.get(include=["metadatas"])["metadatas"])
    assert store.sentences_collection.count() == n_sent


def test_manifest_save_load_round_trip(tmp_path):
    m = Manifest(model="m", dimension=3, chunking={"chunk_words": 5}, collection="c", documents={"a": {"sha256": "x", "chunks": ["1"]}})
    p = tmp_path / MANIFEST
    m.save(p)
    back = Manifest.load(p)
    assert back.documents == m.documents and back.model == "m" and back.chunk_ids() == ["1"]
    assert back.corpus_key() == m.corpus_key()


def test_resync_without_changes_embeds_nothing(tmp_path, seeds_copy):
    emb = HashEmbedder()
    store = make_store(tmp_path / "index", emb)
    store.sync(load_documents(seeds_copy).documents)
    before = emb.texts_embedded
    again = make_store(tmp_path / "index", emb).sync(load_documents(seeds_copy).documents)
    assert not again.changed and len(again.unchanged) == 5
    assert emb.texts_embedded == before


def test_editing_one_document_changes_only_its_chunks(tmp_path, seeds_copy):
    emb = HashEmbedder()
    store = make_store(tmp_path / "index", emb)
    store.sync(load_documents(seeds_copy).documents)
    before = chunk_ids_by_doc(store)
    target = seeds_copy / "002_67f5309dadd8483c.txt"
    target.write_text(target.read_text(encoding="utf-8") + "\nA new closing sentence about the border.\n", encoding="utf-8")
    embedded = emb.texts_embedded
    report = make_store(tmp_path / "index", emb).sync(load_documents(seeds_copy).documents)
    assert report.updated == ("002_67f5309dadd8483c.txt",) and not report.added and not report.removed
    after = chunk_ids_by_doc(store)
    for doc_id in before:
        if doc_id == "002_67f5309dadd8483c.txt":
            assert after[doc_id] != before[doc_id]
        else:
            assert after[doc_id] == before[doc_id]
    # only the edited document was embedded again (its chunks and their sentences)
    n_chunks = len(after["002_67f5309dadd8483c.txt"])
    assert embedded < emb.texts_embedded <= embedded + n_chunks * 40


def test_added_and_removed_documents(tmp_path, seeds_copy):
    store = make_store(tmp_path / "index")
    store.sync(load_documents(seeds_copy).documents)
    (seeds_copy / "000_9b8c8bf65a001266.txt").unlink()
    (seeds_copy / "new.md").write_text("# Extra\n\nA brand new document about oil reserves.\n", encoding="utf-8")
    report = make_store(tmp_path / "index").sync(load_documents(seeds_copy).documents)
    assert report.added == ("new.md",) and report.removed == ("000_9b8c8bf65a001266.txt",)
    ids = chunk_ids_by_doc(store)
    assert "000_9b8c8bf65a001266.txt" not in ids and "new.md" in ids
    assert store.sentences_collection.get(where={"doc_id": "000_9b8c8bf65a001266.txt"})["ids"] == []


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"embedder": HashEmbedder(name="test/other-model")}, "embedding model changed"),
        ({"embedder": HashEmbedder(dimension=128)}, "embedding dimension changed"),
        ({"chunking": {"chunk_words": 60, "chunk_overlap": 0, "version": 1}}, "chunking changed"),
    ],
)
def test_model_or_chunking_change_rebuilds(tmp_path, seeds_copy, change, expected):
    docs = load_documents(seeds_copy).documents
    make_store(tmp_path / "index").sync(docs)
    store = make_store(tmp_path / "index", change.get("embedder"), change.get("chunking", CHUNKING))
    report = store.sync(docs)
    assert report.rebuilt and expected in report.reason
    assert len(report.added) == 5
    m = Manifest.load(tmp_path / "index" / MANIFEST)
    assert m.model == store.embedder.name and m.dimension == store.embedder.dimension


def test_unreadable_manifest_gives_a_clear_error_and_rebuild_fixes_it(tmp_path, seeds_copy):
    docs = load_documents(seeds_copy).documents
    make_store(tmp_path / "index").sync(docs)
    (tmp_path / "index" / MANIFEST).write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexError_, match="qa index --rebuild"):
        make_store(tmp_path / "index").sync(docs)
    report = make_store(tmp_path / "index").sync(docs, rebuild=True)
    assert report.rebuilt and len(report.added) == 5


def test_foreign_folder_is_refused_and_left_alone(tmp_path, seeds_copy):
    folder = tmp_path / "not-an-index"
    folder.mkdir()
    (folder / "thesis.docx").write_bytes(b"precious")
    with pytest.raises(IndexError_, match="holds no qa manifest"):
        make_store(folder).sync(load_documents(seeds_copy).documents)
    assert (folder / "thesis.docx").read_bytes() == b"precious"


def test_rebuild_deletes_only_what_qa_owns(tmp_path, seeds_copy):
    index = tmp_path / "index"
    store = make_store(index)
    store.sync(load_documents(seeds_copy).documents)
    (index / "feedback.jsonl").write_text('{"keep": true}\n', encoding="utf-8")
    outside = tmp_path / "user-notes.txt"
    outside.write_text("mine", encoding="utf-8")
    store.wipe()
    assert not (index / MANIFEST).exists()
    assert (index / "feedback.jsonl").exists() and outside.read_text() == "mine"


def test_bm25_persists_and_is_reused(tmp_path, seeds_copy):
    store = make_store(tmp_path / "index")
    store.sync(load_documents(seeds_copy).documents)
    bm = store.bm25()
    assert (tmp_path / "index" / "bm25" / "retriever.json").exists()
    key = Manifest.load(tmp_path / "index" / MANIFEST).bm25_key
    assert key == store.manifest.corpus_key()
    fresh = make_store(tmp_path / "index")
    fresh.open()
    again = fresh.bm25()
    assert again is not bm and len(again.corpus) == len(bm.corpus) == store.count()


def test_engine_with_fake_embedder_answers_with_verbatim_quotes(tmp_path, seeds_copy, hash_embedder):
    engine = QA(config=Config.resolve(seeds_dir=seeds_copy, index_dir=tmp_path / "index"), embedder=hash_embedder)
    a = engine.ask("Who was sworn in as interim president?")
    assert not a.refused and a.citations
    for c in a.citations:
        assert (seeds_copy / c.doc_id).read_bytes().decode("utf-8")[c.start : c.end] == c.quote
    # one model call per question: the cached query vector is shared by retrieval and answering
    calls = hash_embedder.calls
    engine.ask("Where did the firefights break out?")
    assert hash_embedder.calls == calls + 1


def test_open_without_index_says_how_to_build_one(tmp_path, hash_embedder):
    engine = QA(config=Config.resolve(seeds_dir=tmp_path / "missing", index_dir=tmp_path / "index"), embedder=hash_embedder)
    with pytest.raises(IndexError_, match="qa index"):
        engine.ask("anything?")
