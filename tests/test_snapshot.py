"""Small collections answered from memory (qa.store.snapshot): the same rows, scores and order as the
vector store, for one committed state only.

The snapshot's own query/get against an exact in-memory collection; the store's snapshots against the
live collections they stand for (memory backend and real Chroma, with a hashing embedder made free of
exact ties: tie order is the one thing two exact searches may differ in); the fallbacks (a shared
backend, too many rows, a committed row missing); staleness: after a commit, a reopen or a change
through the public API the next question sees the change. The seeds' gold questions with the real
model are in the integration test at the end.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa import QA
from qa.answer import ExtractiveAnswerer
from qa.config import Config
from qa.ingest import chunk_document, load_documents, parse_document
from qa.retrieve import build_retriever
from qa.store import CollectionReader, IndexStore, Records, VectorCollection
from qa.store.records import add_vectors
from qa.store.snapshot import CommittedSnapshots, SnapshotCollection, SnapshotPolicy, VectorSnapshot

from tests.conftest import GOLD, ROOT
from tests.fakes import HashEmbedder, InMemoryBackend, InMemoryCollection, NoTieEmbedder

CHUNKING = {"chunk_words": 110, "chunk_overlap": 0, "version": 1}
QUESTIONS = ["Who was sworn in as interim president?", "Where did the intense firefights break out?",
             "What did the minister say about the oil reserves and exports?", "How much is the bounty on Maduro?"]
NEW_NAME = "harbour-notes.md"
NEW_TEXT = b"# Harbour notes\n\nThe harbour master Zorblax Quendry opened the new lighthouse on Tuesday.\n"
LIVE = SnapshotPolicy(max_rows=0)
#: the in-memory read alone (no saved snapshot file), as these tests watch when it happens
READ = SnapshotPolicy(saved=False)
#: read on the first question (the default waits for the second)
AT_ONCE = SnapshotPolicy(after_queries=0, saved=False)


def random_collection(n: int = 200, dim: int = 16, seed: int = 0) -> InMemoryCollection:
    rng = np.random.default_rng(seed)
    col = InMemoryCollection("rows", {})
    ids = [f"row-{i:04d}" for i in rng.permutation(n)]  # inserted out of id order
    col.add(ids, rng.standard_normal((n, dim)).astype(np.float32) * rng.uniform(0.1, 5, (n, 1)).astype(np.float32),
            [{"k": i % 7, "doc_id": f"d{i % 3}"} for i in range(n)], [f"text {i}" for i in range(n)])
    return col


def snap_of(col: InMemoryCollection) -> VectorSnapshot:
    return VectorSnapshot.read(col, col.get().ids)


def matches(found) -> list[tuple]:
    return [(m.id, m.metadata, m.document) for m in found]


# --- the snapshot itself -----------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 5, 50, 199, 200, 500])
def test_query_returns_what_an_exact_search_of_the_collection_returns(n):
    col = random_collection()
    snap = snap_of(col)
    rng = np.random.default_rng(1)
    for _ in range(20):
        q = rng.standard_normal(16).astype(np.float32) * 3
        want, got = col.query(q, n), snap.query(q, n)
        assert matches(got) == matches(want)
        assert np.allclose([m.score for m in got], [m.score for m in want], atol=1e-6)
        assert all(-1 - 1e-6 <= m.score <= 1 + 1e-6 for m in got)


def test_equal_scores_go_to_the_smaller_id_also_where_n_cuts_through_them():
    col = InMemoryCollection("ties", {})
    v = np.array([1.0, 0.0, 0.0], np.float32)
    col.add(["d", "c", "b", "a"], [v, v * 2, v * 3, [0, 1, 0]], [{}] * 4)  # d, c, b: cosine 1 in any scale
    snap = snap_of(col)
    assert [m.id for m in snap.query(v, 2)] == ["b", "c"]
    assert [m.id for m in snap.query(v, 10)] == ["b", "c", "d", "a"]
    assert [m.score for m in snap.query(v, 3)] == pytest.approx([1.0, 1.0, 1.0], abs=1e-6)


def test_get_serves_the_rows_the_collection_serves():
    col = random_collection()
    snap = snap_of(col)
    asked = ["row-0007", "missing", "row-0003", "row-0150"]
    want, got = col.get(ids=asked, vectors=True), snap.get(ids=asked, vectors=True)
    assert got.ids == ["row-0007", "row-0003", "row-0150"] == want.ids  # the order asked, missing ones left out
    assert got.metadatas == want.metadatas and got.documents == want.documents
    assert all(np.array_equal(a, b) for a, b in zip(got.vectors, want.vectors))
    assert snap.get(ids=asked).vectors == []
    assert sorted(snap.get().ids) == sorted(col.get().ids) and snap.count() == col.count() == 200
    assert sorted(snap.get(where={"k": 3, "doc_id": "d0"}).ids) == sorted(col.get(where={"k": 3, "doc_id": "d0"}).ids)
    assert snap.get(ids=[]).ids == []
    # what a caller does with the rows it got never reaches the snapshot
    got.vectors[0][:] = 0
    got.metadatas[0]["k"] = "changed"
    again = snap.get(ids=["row-0007"], vectors=True)
    assert np.array_equal(again.vectors[0], want.vectors[0]) and again.metadatas[0] == want.metadatas[0]
    with pytest.raises(ValueError):
        snap.vectors[0, 0] = 1.0


def test_an_empty_snapshot_and_a_zero_vector():
    empty = VectorSnapshot.of("none", Records([], [], [], []), dimension=8)
    assert empty.count() == 0 and empty.query(np.ones(8), 5) == [] and empty.get().ids == []
    snap = snap_of(random_collection(10, 4))
    assert [m.score for m in snap.query(np.zeros(4), 3)] == [0.0, 0.0, 0.0]
    assert len(snap.query(np.ones(4), 0)) == 1  # at least one row, as the stores answer


# --- a store's snapshots against its live collections ------------------------------------------------


def make_store(tmp_path: Path, seeds: Path, backend="memory", embedder=None) -> IndexStore:
    store = IndexStore(tmp_path / "index", embedder or NoTieEmbedder(), CHUNKING,
                       backend=InMemoryBackend() if backend == "memory" else backend)
    store.sync(load_documents(seeds).documents)
    return store


def retriever(store: IndexStore, policy: SnapshotPolicy | None = None):
    return build_retriever(store, store.embedder.embed_query, top_k=5, candidates=20, snapshot=policy or READ)


def seen(hybrid, question: str) -> list[tuple]:
    return [(h.chunk.chunk_id, h.dense_rank, h.sparse_rank, h.score) for h in hybrid.search(question)]


def assert_same(a: list[tuple], b: list[tuple]) -> None:
    assert [x[:3] for x in a] == [x[:3] for x in b]
    assert [x[3] for x in a] == pytest.approx([x[3] for x in b], abs=1e-9)


def sides(hybrid, question: str) -> dict[str, list[tuple]]:
    """Each dense side's own results: (node id, text, row) and the scores apart."""
    out = {}
    for side in ("dense", "sentences"):
        got = getattr(hybrid, side).retrieve(question)
        out[side] = [(s.node.node_id, s.node.text, dict(s.node.row)) for s in got]
        out[side + " scores"] = [s.score for s in got]
    return out


def assert_same_sides(a: dict[str, list], b: dict[str, list]) -> None:
    for side in ("dense", "sentences"):
        assert a[side] == b[side]
        assert a[side + " scores"] == pytest.approx(b[side + " scores"], abs=1e-5)


@pytest.mark.parametrize("backend", ["memory", "chroma"])
def test_the_snapshot_answers_as_the_live_collections_do(tmp_path, seeds_copy, backend):
    store = make_store(tmp_path, seeds_copy, backend)
    live = retriever(store, LIVE)
    want = {q: (seen(live, q), sides(live, q), store.sentence_vectors([h.chunk for h in live.search(q)])) for q in QUESTIONS}
    hybrid = retriever(store)  # the default policy: the second question reads the snapshot
    snaps = store._snapshots
    assert isinstance(hybrid.sentences.sentences, SnapshotCollection) and snaps is not None
    for i, q in enumerate(QUESTIONS):
        assert_same(seen(hybrid, q), want[q][0])
        assert snaps.loaded == (i >= 1)
        assert_same_sides(sides(hybrid, q), want[q][1])
        vectors = store.sentence_vectors([h.chunk for h in hybrid.search(q)])
        assert vectors.keys() == want[q][2].keys()
        assert all(np.allclose(vectors[k], want[q][2][k], atol=1e-6) for k in vectors)
    m = store.manifest
    assert snaps.snapshot(0).count() == len(m.chunk_ids()) and snaps.snapshot(1).count() == store.sentences_collection.count()


def test_a_shared_backend_gets_no_snapshot(tmp_path, seeds_copy):
    store = make_store(tmp_path, seeds_copy, InMemoryBackend(shared=True))
    chunks, sentences = store.reader_collections(AT_ONCE)
    assert (chunks, sentences) == (store.chunks_collection, store.sentences_collection)
    assert store._snapshots is None
    hybrid = retriever(store, AT_ONCE)
    assert not isinstance(hybrid.sentences.sentences, SnapshotCollection) and hybrid.search(QUESTIONS[0])


def test_collections_over_the_row_limit_are_read_live(tmp_path, seeds_copy):
    store = make_store(tmp_path, seeds_copy)
    chunks = len(store.manifest.chunk_ids())
    sentences = store.sentences_collection.count()
    assert chunks < sentences
    assert store.reader_collections(SnapshotPolicy(max_rows=chunks - 1)) == (store.chunks_collection, store.sentences_collection)
    want = seen(retriever(store, LIVE), QUESTIONS[0])
    hybrid = retriever(store, SnapshotPolicy(max_rows=chunks, after_queries=0, saved=False))  # the chunks fit, their sentences do not
    assert_same(seen(hybrid, QUESTIONS[0]), want)
    snaps = store._snapshots
    assert snaps.loaded and snaps.snapshot(0).count() == chunks and snaps.snapshot(1) is None


def test_a_snapshot_holds_only_committed_rows(tmp_path, seeds_copy):
    """Rows an append under way has added (not listed by the manifest) are never read into it."""
    store = make_store(tmp_path, seeds_copy)
    want = {q: seen(retriever(store, LIVE), q) for q in QUESTIONS}
    ghosts = [c for i, q in enumerate(QUESTIONS) for c in chunk_document(parse_document(f"ghost-{i}.txt", f"{q} {q} ghost"), 110)]
    add_vectors(store.chunks_collection, store.sentences_collection, ghosts, *store._embed_chunks(ghosts))
    hybrid = retriever(store, AT_ONCE)
    for q in QUESTIONS:
        assert_same(seen(hybrid, q), want[q])
    snaps = store._snapshots
    assert snaps.loaded and snaps.snapshot(0).count() == len(store.manifest.chunk_ids())
    assert not [i for i in snaps.snapshot(1).ids if i.split(":")[0] in {g.chunk_id for g in ghosts}]


def test_a_snapshot_missing_a_committed_row_is_never_used(tmp_path, seeds_copy):
    """A view of the store that lacks a committed row (one not caught up with another process) is thrown away."""
    store = make_store(tmp_path, seeds_copy)
    hybrid = retriever(store, AT_ONCE)
    store.chunks_collection.delete([store.manifest.chunk_ids()[0]])
    hybrid.search(QUESTIONS[0])
    assert not store._snapshots.loaded
    assert hybrid.sentences.sentences._source().collection() is store.sentences_collection


def test_a_commit_retires_the_snapshot_of_the_state_before(tmp_path, seeds_copy):
    store = make_store(tmp_path, seeds_copy)
    old = retriever(store, AT_ONCE)
    old.search(QUESTIONS[0])
    old_snaps = store._snapshots
    assert old_snaps.loaded and old_snaps.current()
    doc = parse_document(NEW_NAME, NEW_TEXT.decode())
    store.commit_append(store.prepare_append([doc]))
    # the state it read is gone: the old retriever reads the live collections, as before snapshots
    assert not old_snaps.current() and old_snaps.snapshot(0) is None and old_snaps.snapshot(1) is None
    assert old.dense.make(5).chunks._source().collection() is store.chunks_collection
    new = retriever(store, AT_ONCE)
    assert NEW_NAME in {h.chunk.doc_id for h in new.search("Who opened the new lighthouse on Tuesday?")}
    assert store._snapshots.loaded and store._snapshots is not old_snaps
    new_snaps = store._snapshots
    store.remove_documents([NEW_NAME])
    assert not new_snaps.current()
    later = retriever(store, AT_ONCE)
    assert NEW_NAME not in {h.chunk.doc_id for h in later.search("Who opened the new lighthouse on Tuesday?")}
    assert store._snapshots.loaded


def test_a_sync_that_changes_nothing_keeps_the_snapshot_and_a_reopen_of_the_same_state_too(tmp_path, seeds_copy):
    store = make_store(tmp_path, seeds_copy)
    hybrid = retriever(store, AT_ONCE)
    hybrid.search(QUESTIONS[0])
    snaps = store._snapshots
    before = store.manifest
    assert not store.sync(load_documents(seeds_copy).documents).changed
    store.open()
    assert store.manifest is not before and snaps.current() and snaps.snapshot(0) is not None


def test_a_larger_state_is_read_in_the_background(tmp_path, seeds_copy):
    store = make_store(tmp_path, seeds_copy)
    want = seen(retriever(store, LIVE), QUESTIONS[1])
    hybrid = retriever(store, SnapshotPolicy(sync_chunks=0, saved=False))
    seen(hybrid, QUESTIONS[0])
    snaps = store._snapshots
    assert not snaps.loaded
    assert_same(seen(hybrid, QUESTIONS[1]), want)  # starts the read; the live collections answer meanwhile
    assert snaps.wait(30) and snaps.loaded
    assert_same(seen(hybrid, QUESTIONS[1]), want)


def test_a_retriever_built_across_a_commit_gets_no_snapshot(tmp_path, seeds_copy):
    """The filters of a retriever and its snapshot are of one state: a commit between the two means none."""
    store = make_store(tmp_path, seeds_copy)
    read_before = store.manifest
    store.commit_append(store.prepare_append([parse_document(NEW_NAME, NEW_TEXT.decode())]))
    assert store.reader_collections(AT_ONCE, read_before) == (store.chunks_collection, store.sentences_collection)
    assert store._snapshots is None
    assert isinstance(store.reader_collections(AT_ONCE, store.manifest)[0], SnapshotCollection)


def test_the_retrievers_view_is_read_only(tmp_path, seeds_copy):
    store = make_store(tmp_path, seeds_copy)
    chunks, _ = store.reader_collections(AT_ONCE)
    assert isinstance(chunks, SnapshotCollection) and isinstance(store._snapshots, CommittedSnapshots)
    assert isinstance(chunks, VectorCollection) and isinstance(snap_of(random_collection(3)), CollectionReader)
    with pytest.raises(TypeError, match="read-only"):
        chunks.add(["x"], [np.ones(256)], [{}])
    with pytest.raises(TypeError, match="read-only"):
        chunks.delete(["x"])


# --- staleness through the public API (real Chroma, the hashing embedder) ----------------------------


def test_the_next_question_sees_an_added_a_replaced_and_a_deleted_document(tmp_path, seeds_copy):
    cfg = Config.resolve(seeds_dir=seeds_copy, documents_dir=tmp_path / "documents", index_dir=tmp_path / "index")
    engine = QA(config=cfg, embedder=HashEmbedder(), answerer=ExtractiveAnswerer())
    question = "Who opened the new lighthouse on Tuesday?"

    def found() -> set[str]:
        return {h.chunk.doc_id for h in engine.retrieve(question)}

    def quote() -> str:
        return " ".join(c.quote for c in engine.ask(question).citations)

    for q in QUESTIONS[:2]:
        engine.ask(q)
    assert engine.store._snapshots.loaded and NEW_NAME not in found()
    engine.documents.add(NEW_NAME, NEW_TEXT)
    assert NEW_NAME in found() and "Zorblax" in quote()
    assert engine.store._snapshots.loaded  # a new snapshot, of the new state, answered the second question
    engine.documents.replace(NEW_NAME, NEW_NAME, NEW_TEXT.replace(b"Zorblax Quendry", b"Mirta Olavide"))
    assert "Mirta Olavide" in quote() and "Mirta Olavide" in quote() and "Zorblax" not in quote()
    engine.documents.delete(NEW_NAME)
    assert NEW_NAME not in found() and NEW_NAME not in found()
    # a sync writing a new generation (an edited seed)
    seed = sorted(seeds_copy.glob("*.txt"))[0]
    seed.write_text(seed.read_text(encoding="utf-8") + "\nThe quartermaster Pellinore Vask counted the lanterns.\n",
                    encoding="utf-8")
    assert engine.index().changed
    for _ in range(2):
        assert "Pellinore Vask" in " ".join(h.chunk.text for h in engine.retrieve("Who counted the lanterns?"))
    engine.store.close(timeout=30)


def test_reading_a_snapshot_imports_no_heavy_package(tmp_path, seeds_copy):
    """The query path stays free of torch, transformers and llama-index with the snapshot in use."""
    make_store(tmp_path, seeds_copy, "chroma", HashEmbedder()).close(timeout=30)
    code = (
        "import sys\nfrom qa.store import IndexStore\nfrom qa.retrieve import build_retriever\nfrom tests.fakes import HashEmbedder\n"
        f"s = IndexStore({str(tmp_path / 'index')!r}, HashEmbedder(), {CHUNKING!r}); s.open()\n"
        "r = build_retriever(s, s.embedder.embed_query, 5, 20)\n"
        f"for q in {QUESTIONS!r}: hits = r.search(q); s.sentence_vectors([h.chunk for h in hits])\n"
        "assert s._snapshots.loaded\n"
        "print(sorted({m.partition('.')[0] for m in sys.modules} & {'torch', 'transformers', 'llama_index', 'sentence_transformers'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


# --- the seeds with the real model -------------------------------------------------------------------


@pytest.mark.integration
def test_the_gold_questions_get_the_same_hits_and_answers_from_the_snapshot(seed_engine):
    engine = seed_engine
    questions = [json.loads(line)["question"] for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    cfg = engine.config

    def build(policy):
        return build_retriever(engine.store, engine.embedder.embed_query, cfg.top_k, cfg.fusion_candidates,
                               mode=cfg.fusion, rrf_k=cfg.rrf_k, snapshot=policy)

    def run() -> dict[str, tuple]:
        out = {}
        for q in questions:
            hits = engine.retrieve(q)
            answer = engine.ask(q).to_dict()
            answer.pop("timings", None)
            vectors = engine.store.sentence_vectors([h.chunk for h in hits])
            out[q] = ([(h.chunk.chunk_id, h.dense_rank, h.sparse_rank, h.score) for h in hits], answer, vectors,
                      sides(engine._retriever, q))
        return out

    try:
        engine._retriever = build(LIVE)
        want = run()
        engine._retriever = build(AT_ONCE)
        got = run()
        assert engine.store._snapshots.loaded and not engine.store._snapshots.from_file
        engine._retriever = build(SnapshotPolicy())  # the snapshot the index saved when it was built
        saved = run()
        assert engine.store._snapshots.from_file
    finally:
        engine._retriever = engine._build_retriever()
    for q in questions:
        for (h1, a1, v1, s1), (h2, a2, v2, s2) in ((want[q], got[q]), (want[q], saved[q])):
            assert [h[:3] for h in h2] == [h[:3] for h in h1], q
            assert [h[3] for h in h2] == pytest.approx([h[3] for h in h1], abs=1e-5), q
            assert_same_sides(s2, s1)
            assert v2.keys() == v1.keys() and all(np.allclose(v2[k], v1[k], atol=1e-6) for k in v1), q
            assert a2 == a1, q
