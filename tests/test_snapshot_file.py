"""The committed state saved beside the manifest (qa.store.snapshot_file), and the sync that finds
nothing to do: a new process answers from the saved rows without opening the vector store, and
never from rows of another state.

Memory backend and a hashing embedder (fast, network-free); the real model and real Chroma are in
tests/test_snapshot.py (the gold questions from the saved file) and tests/test_runtime_models.py (a
new process answers without importing chromadb).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.ingest import load_documents, parse_document
from qa.retrieve import build_retriever
from qa.store import IndexStore, Records
from qa.store.manifest import RETIRED, SNAPSHOT
from qa.store.records import sentence_id
from qa.store.snapshot import SnapshotPolicy, VectorSnapshot
from qa.store.snapshot_file import load_snapshots, save_snapshots, saved_digest

from tests.fakes import InMemoryBackend, MemoryStorage, NoTieEmbedder

CHUNKING = {"chunk_words": 110, "chunk_overlap": 0, "version": 1}
QUESTIONS = ["Who was sworn in as interim president?", "Where did the intense firefights break out?",
             "How much is the bounty on Maduro?"]
LIVE = SnapshotPolicy(max_rows=0)


class WatchedBackend(InMemoryBackend):
    """The memory backend, recording every call that reaches the store."""

    def __init__(self, storage: MemoryStorage):
        super().__init__(storage)
        self.calls: list[str] = []

    def names(self):
        self.calls.append("names")
        return super().names()

    def open(self, name):
        self.calls.append(f"open {name}")
        return super().open(name)

    def create(self, name, metadata):
        self.calls.append(f"create {name}")
        return super().create(name, metadata)


def store_on(index: Path, storage: MemoryStorage) -> IndexStore:
    return IndexStore(index, NoTieEmbedder(), CHUNKING, backend=WatchedBackend(storage))


def answers(store: IndexStore, policy: SnapshotPolicy | None = None) -> dict[str, tuple]:
    r = build_retriever(store, store.embedder.embed_query, top_k=5, candidates=20, snapshot=policy)
    out = {}
    for q in QUESTIONS:
        hits = r.search(q)
        vectors = store.sentence_vectors([h.chunk for h in hits])
        out[q] = ([(h.chunk.chunk_id, h.chunk.text, h.dense_rank, h.sparse_rank, round(h.score, 6)) for h in hits],
                  {k: v.round(6).tolist() for k, v in vectors.items()})
    return out


@pytest.fixture
def built(tmp_path, seeds_copy):
    storage = MemoryStorage()
    store = store_on(tmp_path / "index", storage)
    store.sync(load_documents(seeds_copy).documents)
    return store, storage, answers(store, LIVE)


def test_a_committing_sync_saves_its_state_and_a_new_process_answers_from_it_alone(built, seeds_copy):
    store, storage, want = built
    assert saved_digest(store.index_dir) == store.manifest.digest()
    fresh = store_on(store.index_dir, storage)  # as a new process would: same folder, same vectors
    report = fresh.sync(load_documents(seeds_copy).documents, check_store=False)  # what an ask's sync does
    assert not report.changed and len(report.unchanged) == len(store.manifest.documents)
    assert answers(fresh) == want
    assert fresh._snapshots.from_file
    assert fresh.backend.calls == []  # neither listed, nor opened: the saved state answered everything
    opened = store_on(store.index_dir, storage)  # an index opened without its documents (`--source` corpora)
    opened.open()
    assert answers(opened) == want and opened._snapshots.from_file and opened.backend.calls == []
    assert opened.count() == len(store.manifest.chunk_ids()) and opened.backend.calls  # opened when read
    checked = store_on(store.index_dir, storage)
    assert not checked.sync(load_documents(seeds_copy).documents).changed  # `qa index`: the store itself is checked
    assert any(c.startswith("open ") for c in checked.backend.calls)


def test_the_saved_file_holds_the_rows_as_they_were(tmp_path):
    rng = np.random.default_rng(3)
    ids = [f"c{i}" for i in range(7)]
    chunks = VectorSnapshot.of("x_chunks", _rows(ids, rng, [{"doc_id": "ü.md", "sentences": "[[0, 3]]"}] * 7))
    sentences = VectorSnapshot.of("x_sentences", _rows([sentence_id(i, 0) for i in ids], rng, [{"k": 1}] * 7))
    save_snapshots(tmp_path, "abc", chunks, sentences)
    got = load_snapshots(tmp_path, "abc", ids, max_rows=100)
    assert got is not None
    for a, b in zip(got, (chunks, sentences)):
        assert a.ids == b.ids and a.metadatas == b.metadatas and a.documents == b.documents and a.name == b.name
        assert np.array_equal(a.vectors, b.vectors)
    assert load_snapshots(tmp_path, "abc", ids, max_rows=3)[1] is None  # the sentences over the row limit: read live
    assert load_snapshots(tmp_path, "another state", ids, max_rows=100) is None
    assert load_snapshots(tmp_path, "abc", ids + ["c99"], max_rows=100) is None  # a committed chunk it lacks
    assert load_snapshots(tmp_path, "abc", ids[:-1], max_rows=100) is None  # a chunk the state does not hold


def _rows(ids, rng, metadatas):
    return Records(ids=list(ids), metadatas=list(metadatas), documents=[f"text “{i}”" for i in ids],
                   vectors=list(rng.standard_normal((len(ids), 8)).astype(np.float32)))


def test_a_file_of_another_state_is_never_read(built, seeds_copy):
    store, storage, _ = built
    stale, before = store.manifest.digest(), (store.index_dir / SNAPSHOT).read_bytes()
    doc = parse_document("harbour-notes.md", "# Harbour notes\n\nThe harbour master Zorblax Quendry opened the lighthouse.\n")
    store.commit_append(store.prepare_append([doc]))  # an upload: its state is saved after the background BM25 rebuild
    assert store.wait_bm25(60) and saved_digest(store.index_dir) == store.manifest.digest() != stale
    (store.index_dir / SNAPSHOT).write_bytes(before)  # what a crash before that save leaves: the state before
    fresh = store_on(store.index_dir, storage)
    fresh.open()
    r = build_retriever(fresh, fresh.embedder.embed_query, top_k=5, candidates=20)
    assert "harbour-notes.md" in {h.chunk.doc_id for h in r.search("Who opened the lighthouse?")}
    assert not fresh._snapshots.from_file
    r.search(QUESTIONS[0])  # the second question reads the state into memory, and saves it for the next process
    assert fresh._snapshots.wait(30) and saved_digest(store.index_dir) == fresh.manifest.digest()


@pytest.mark.parametrize("damage", ["truncated", "foreign", "empty"])
def test_a_damaged_file_is_ignored_and_the_collections_answer(built, seeds_copy, damage):
    store, storage, want = built
    path = store.index_dir / SNAPSHOT
    data = path.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 2], "foreign": b"PK\x03\x04 not a snapshot", "empty": b""}[damage])
    fresh = store_on(store.index_dir, storage)
    fresh.sync(load_documents(seeds_copy).documents)  # unchanged; a file that is not this state's is written again
    assert saved_digest(store.index_dir) == store.manifest.digest()
    path.write_bytes({"truncated": data[: len(data) // 2], "foreign": b"PK\x03\x04 not a snapshot", "empty": b""}[damage])
    other = store_on(store.index_dir, storage)
    other.open()
    assert answers(other) == want and not other._snapshots.from_file


def test_a_snapshot_that_cannot_be_saved_costs_the_sync_nothing(tmp_path, seeds_copy, caplog):
    index = tmp_path / "index"
    (index / SNAPSHOT).mkdir(parents=True)  # in the way of the rename
    (index / SNAPSHOT / "x").write_text("kept")
    store = store_on(index, MemoryStorage())
    report = store.sync(load_documents(seeds_copy).documents)
    assert report.committed and store.count() == len(store.manifest.chunk_ids())
    assert (index / SNAPSHOT / "x").read_text() == "kept" and not list(index.glob("snapshot.tmp-*"))


def test_a_generation_left_by_a_killed_writer_is_dropped_by_the_next_sync(built, seeds_copy):
    store, storage, _ = built
    doc = next(p for p in sorted(seeds_copy.iterdir()) if p.suffix == ".txt")
    doc.write_text(doc.read_text(encoding="utf-8") + "\nA sentence added later.\n", encoding="utf-8")
    old_names = set(store.manifest.names())
    store.sync(load_documents(seeds_copy).documents)  # a new generation; the old one is retired, not dropped yet
    assert (store.index_dir / RETIRED).exists() and old_names <= set(storage.collections)
    # the process dies here (its atexit never runs): the next one finds the mark and drops the old generation
    fresh = store_on(store.index_dir, storage)
    assert not fresh.sync(load_documents(seeds_copy).documents, check_store=False).changed
    assert "names" in fresh.backend.calls and not old_names & set(storage.collections)
    assert not (store.index_dir / RETIRED).exists()
    third = store_on(store.index_dir, storage)
    third.sync(load_documents(seeds_copy).documents, check_store=False)
    assert third.backend.calls == []  # nothing left to clean: the vector store is not touched


def test_dropping_the_retired_generation_clears_the_mark(built, seeds_copy):
    store, storage, _ = built
    victim = sorted(p for p in seeds_copy.iterdir() if p.suffix == ".txt")[0]
    victim.unlink()  # a removal: a new generation
    store.sync(load_documents(seeds_copy).documents)
    assert (store.index_dir / RETIRED).exists()
    assert store.drop_retired() and not (store.index_dir / RETIRED).exists()


def test_a_save_that_fails_after_a_read_costs_the_question_nothing(built, monkeypatch, caplog):
    store, storage, want = built
    (store.index_dir / SNAPSHOT).unlink()
    fresh = store_on(store.index_dir, storage)
    fresh.open()

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(fresh, "save_snapshot", broken)
    assert answers(fresh) == want  # the second question reads the state into memory, then fails to save it
    assert fresh._snapshots.wait(5) and fresh._snapshots.loaded and not fresh._snapshots.from_file
    assert "disk on fire" in caplog.text and not (store.index_dir / SNAPSHOT).exists()
