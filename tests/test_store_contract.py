"""The store's contract, run against every vector backend: Chroma and the in-memory one (tests/fakes.py).

Sync, generations, appends, crash recovery and reopening are written against the
:class:`~qa.store.backend.VectorBackend` Protocol, so each case here must hold for both. A "crash"
is an exception raised from :func:`qa.store.generations.checkpoint` mid-write (a BaseException,
so no ordinary-error cleanup runs) and a "reopen" is a new store over the same folder and the same
backend storage; real SIGKILLs of a `qa index` process stay in tests/test_crash.py (Chroma only).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.ingest import load_documents
from qa.store import APPEND, MANIFEST, STAGING, IndexStore, Manifest, VectorBackend, VectorCollection

from tests.fakes import HashEmbedder, InMemoryBackend, MemoryStorage

CHUNKING = {"chunk_words": 110, "chunk_overlap": 0, "version": 1}
EDITED = "002_67f5309dadd8483c.txt"


class _Killed(BaseException):
    """Stands in for SIGKILL: a BaseException, so the store's ordinary-error cleanup does not run."""


@pytest.fixture(params=["chroma", "memory"])
def open_store(request):
    """``open_store(index_dir, embedder=None)``: a new store over the folder, on the backend under test
    (for "memory", every store of a test shares one storage: a new store is a reopen)."""
    storage = MemoryStorage()

    def make(index: Path, embedder: HashEmbedder | None = None) -> IndexStore:
        backend = InMemoryBackend(storage) if request.param == "memory" else "chroma"
        return IndexStore(index, embedder or HashEmbedder(), CHUNKING, backend=backend)

    make.kind = request.param  # type: ignore[attr-defined]
    return make


def kill_at(monkeypatch, point: str) -> None:
    def hook(at: str) -> None:
        if at == point:
            raise _Killed(at)

    monkeypatch.setattr("qa.store.generations.checkpoint", hook)


def edit(seeds: Path, name: str = EDITED) -> None:
    p = seeds / name
    p.write_text(p.read_text(encoding="utf-8") + "\nA closing sentence added by an editor.\n", encoding="utf-8")


def add_doc(seeds: Path) -> None:
    (seeds / "harbour.md").write_text("# Harbour\n\nThe harbour master of Puerto Cabello is Ignacio Valdés.\n", encoding="utf-8")


def snapshot(store: IndexStore) -> dict:
    """What a reader sees: documents, chunk ids, row counts, the best chunks for a query."""
    m = store.open()
    hits = store.chunks_collection.query(HashEmbedder()._vec("harbour master interim president sworn"), 5)
    return {"docs": sorted(m.documents), "chunks": sorted(m.chunk_ids()), "count": store.count(),
            "sentences": store.sentences_collection.count(), "top": [h.id for h in hits][:3]}


def test_the_backends_implement_the_protocol(open_store, tmp_path, seeds_copy):
    store = open_store(tmp_path / "index")
    store.sync(load_documents(seeds_copy).documents)
    assert isinstance(store.backend, VectorBackend)
    assert isinstance(store.chunks_collection, VectorCollection) and isinstance(store.sentences_collection, VectorCollection)


def test_query_scores_are_cosine_similarity_best_first(open_store, tmp_path, seeds_copy):
    store = open_store(tmp_path / "index")
    store.sync(load_documents(seeds_copy).documents)
    row = store.chunks_collection.get(ids=store.manifest.chunk_ids()[:1], vectors=True)
    hits = store.chunks_collection.query(row.vectors[0], 5)
    assert hits[0].id == row.ids[0] and hits[0].score == pytest.approx(1.0, abs=1e-4)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True) and all(-1.0001 <= s <= 1.0001 for s in scores)
    q = HashEmbedder()._vec("interim president sworn")
    for h in store.chunks_collection.query(q, 5):
        v = store.chunks_collection.get(ids=[h.id], vectors=True).vectors[0]
        assert h.score == pytest.approx(float(v @ q / (np.linalg.norm(v) * np.linalg.norm(q))), abs=1e-4)
        assert h.metadata["doc_id"] and h.document


def test_sync_writes_every_chunk_and_sentence_and_a_reopen_sees_them(open_store, tmp_path, seeds_copy):
    index = tmp_path / "index"
    store = open_store(index)
    docs = load_documents(seeds_copy).documents
    report = store.sync(docs)
    assert report.committed and sorted(report.added) == sorted(d.doc_id for d in docs)
    m = Manifest.load(index / MANIFEST)
    rows = store.chunks_collection.get()
    assert sorted(rows.ids) == sorted(m.chunk_ids()) == sorted(store.manifest.chunk_ids())
    assert store.sentences_collection.count() == sum(len(__import__("json").loads(md["sentences"])) for md in rows.metadatas)
    assert snapshot(open_store(index)) == snapshot(store)
    assert len(open_store(index).bm25().corpus) == store.count()


def test_an_edit_writes_a_new_generation_copying_unchanged_vectors(open_store, tmp_path, seeds_copy):
    index = tmp_path / "index"
    emb = HashEmbedder()
    store = open_store(index, emb)
    store.sync(load_documents(seeds_copy).documents)
    m1 = Manifest.load(index / MANIFEST)
    edit(seeds_copy)
    embedded = emb.texts_embedded
    writer = open_store(index, emb)
    report = writer.sync(load_documents(seeds_copy).documents)
    m2 = Manifest.load(index / MANIFEST)
    assert report.updated == (EDITED,) and report.committed and report.chunks_copied > 0
    assert m2.generation != m1.generation and m2.index_id == m1.index_id
    assert embedded < emb.texts_embedded < embedded + 200  # only the edited document
    # the old generation stays until nothing reads it any more (a question under way may)
    assert set(m1.names()) <= set(writer.backend.names())
    assert sorted(writer.drop_retired()) == sorted(m1.names())
    reader = open_store(index)
    reader.open()
    assert {n for n in reader.backend.names() if n.startswith(m1.prefix())} == set(m2.names())
    assert sorted(reader.chunks_collection.get().ids) == sorted(m2.chunk_ids())


def test_added_documents_are_appended_in_place(open_store, tmp_path, seeds_copy):
    index = tmp_path / "index"
    store = open_store(index)
    store.sync(load_documents(seeds_copy).documents)
    m1 = Manifest.load(index / MANIFEST)
    add_doc(seeds_copy)
    report = store.sync(load_documents(seeds_copy).documents)
    m2 = Manifest.load(index / MANIFEST)
    assert report.appended and report.added == ("harbour.md",) and m2.generation == m1.generation
    assert not (index / APPEND).exists() and store.wait_bm25(60)
    assert snapshot(open_store(index))["docs"] == sorted([*m1.documents, "harbour.md"])
    assert open_store(index).count() == len(m2.chunk_ids())


@pytest.mark.parametrize("point", ["staging", "embed", "switch"])
def test_a_crash_before_the_commit_keeps_the_previous_generation(open_store, tmp_path, seeds_copy, monkeypatch, point):
    index = tmp_path / "index"
    open_store(index).sync(load_documents(seeds_copy).documents)
    before = snapshot(open_store(index))
    add_doc(seeds_copy)
    edit(seeds_copy)
    kill_at(monkeypatch, point)
    with pytest.raises(_Killed):
        open_store(index).sync(load_documents(seeds_copy).documents)
    monkeypatch.undo()
    assert (index / STAGING).exists()
    assert snapshot(open_store(index)) == before  # the reopen also drops the staging collections
    assert not (index / STAGING).exists()
    m = Manifest.load(index / MANIFEST)
    assert {n for n in open_store(index).backend.names() if n.startswith(m.prefix())} == set(m.names())
    report = open_store(index).sync(load_documents(seeds_copy).documents)
    assert report.committed and "harbour.md" in report.added


def test_a_crash_after_the_commit_leaves_the_new_generation(open_store, tmp_path, seeds_copy, monkeypatch):
    index = tmp_path / "index"
    open_store(index).sync(load_documents(seeds_copy).documents)
    old = Manifest.load(index / MANIFEST)
    add_doc(seeds_copy)
    edit(seeds_copy)
    kill_at(monkeypatch, "committed")
    with pytest.raises(_Killed):
        open_store(index).sync(load_documents(seeds_copy).documents)
    monkeypatch.undo()
    new = Manifest.load(index / MANIFEST)
    assert new.generation != old.generation and "harbour.md" in new.documents
    writer = open_store(index)
    assert not writer.sync(load_documents(seeds_copy).documents).changed  # and it drops the old generation
    assert {n for n in writer.backend.names() if n.startswith(new.prefix())} == set(new.names())
    assert "harbour.md" in snapshot(open_store(index))["docs"]


@pytest.mark.parametrize("point", ["append-intent", "append-embed", "append-switch"])
def test_a_crash_during_an_append_is_undone_by_the_next_reader(open_store, tmp_path, seeds_copy, monkeypatch, point):
    index = tmp_path / "index"
    open_store(index).sync(load_documents(seeds_copy).documents)
    before = snapshot(open_store(index))
    add_doc(seeds_copy)
    kill_at(monkeypatch, point)
    with pytest.raises(_Killed):
        open_store(index).sync(load_documents(seeds_copy).documents)
    monkeypatch.undo()
    assert (index / APPEND).exists()
    assert snapshot(open_store(index)) == before  # uncommitted rows deleted on open
    assert not (index / APPEND).exists()
    report = open_store(index).sync(load_documents(seeds_copy).documents)
    assert report.appended and report.added == ("harbour.md",)


def test_a_crash_after_an_append_commit_keeps_the_new_document(open_store, tmp_path, seeds_copy, monkeypatch):
    index = tmp_path / "index"
    open_store(index).sync(load_documents(seeds_copy).documents)
    add_doc(seeds_copy)
    kill_at(monkeypatch, "append-committed")
    with pytest.raises(_Killed):
        open_store(index).sync(load_documents(seeds_copy).documents)
    monkeypatch.undo()
    reader = open_store(index)
    got = snapshot(reader)
    assert "harbour.md" in got["docs"] and got["count"] == len(got["chunks"])
    assert not (index / APPEND).exists()


def test_an_ordinary_error_drops_the_half_written_generation(open_store, tmp_path, seeds_copy):
    index = tmp_path / "index"
    store = open_store(index)
    store.sync(load_documents(seeds_copy).documents)
    m = Manifest.load(index / MANIFEST)
    edit(seeds_copy)

    def broken():
        yield from load_documents(seeds_copy).documents
        raise RuntimeError("the source broke")

    with pytest.raises(RuntimeError, match="source broke"):
        open_store(index).sync(broken())
    assert Manifest.load(index / MANIFEST).generation == m.generation and not (index / STAGING).exists()
    assert {n for n in store.backend.names() if n.startswith(m.prefix())} == set(m.names())


def test_the_engine_answers_alike_on_both_backends(tmp_path, seeds_copy, monkeypatch):
    """Retrieval sees only backend-neutral scores: the same index on either backend ranks alike."""
    from qa import QA
    from qa.config import Config

    from tests.fakes import register_memory_backend

    register_memory_backend()
    questions = ["Who was sworn in as interim president?", "Where did the firefights break out?"]
    got = {}
    for kind in ("chroma", "memory"):
        monkeypatch.setenv("QA_VECTOR_BACKEND", kind)
        engine = QA(config=Config.resolve(seeds_dir=seeds_copy, index_dir=tmp_path / kind), embedder=HashEmbedder())
        assert type(engine.store.backend).__name__ == {"chroma": "ChromaBackend", "memory": "InMemoryBackend"}[kind]
        got[kind] = {q: [(h.chunk.chunk_id, h.dense_rank, h.sparse_rank, round(h.score, 6)) for h in engine.retrieve(q)] for q in questions}
    assert got["memory"] == got["chroma"]


def test_backends_are_chosen_by_name_and_an_unknown_one_is_refused(tmp_path, monkeypatch):
    from qa.store import IndexStore, backend_name, make_backend

    from tests.fakes import register_memory_backend

    register_memory_backend()
    assert backend_name() == "chroma"
    monkeypatch.setenv("QA_VECTOR_BACKEND", "memory")
    assert type(IndexStore(tmp_path / "a", HashEmbedder(), CHUNKING).backend).__name__ == "InMemoryBackend"
    assert type(IndexStore(tmp_path / "a", HashEmbedder(), CHUNKING, backend="chroma").backend).__name__ == "ChromaBackend"
    with pytest.raises(ValueError, match="unknown vector backend 'nope'.*chroma"):
        make_backend("nope", tmp_path)
