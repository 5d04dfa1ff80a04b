"""Deleting and replacing documents in place (qa.store.change), run against every vector backend.

Same style as tests/test_store_contract.py (whose ``open_store`` fixture, kill hook and snapshot
are reused): a "crash" is a BaseException raised from a checkpoint mid-write, a "reopen" is a new
store over the same folder and backend storage. Before the commit point a crash leaves the index as
it was; after it, the change is finished by the next reader.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.ingest import load_documents, parse_document
from qa.store import APPEND, IndexStore, Manifest, MANIFEST
from qa.store.change import UnknownDocument, sentence_counts

from tests.test_store_contract import _Killed, kill_at, open_store, snapshot  # noqa: F401  (open_store: a fixture)

GONE = "001_08e073e419b132d4.txt"


def _indexed(open_store, tmp_path: Path, seeds: Path) -> tuple[Path, IndexStore]:
    index = tmp_path / "index"
    store = open_store(index)
    store.sync(load_documents(seeds).documents)
    return index, store


def _rows_match_manifest(store: IndexStore) -> None:
    """Every row belongs to a listed chunk, every listed chunk has its row and its sentences."""
    m = store.open()
    assert store.count() == len(m.chunk_ids())
    listed = sum(sum(sentence_counts(store.sentences_collection, d).values()) for d in m.documents)
    assert store.sentences_collection.count() == listed


def _bm25_docs(store: IndexStore, query: str) -> set[str]:
    assert store.wait_bm25(60)
    return {n.node.metadata.get("doc_id") for n in store.bm25().retrieve(query)}


def test_delete_removes_chunks_sentences_and_bm25_entries(open_store, tmp_path, seeds_copy):
    index, store = _indexed(open_store, tmp_path, seeds_copy)
    text = (seeds_copy / GONE).read_text(encoding="utf-8")
    words = " ".join(text.split()[:12])
    assert GONE in _bm25_docs(store, words)
    before = store.open()
    report = store.remove_documents([GONE])
    assert report.removed == (GONE,) and report.chunks_removed == len(before.documents[GONE]["chunks"])
    m = Manifest.load(index / MANIFEST)
    assert GONE not in m.documents and m.generation == before.generation  # in place: no new generation
    assert not (index / APPEND).exists()
    assert store.chunks_collection.get(ids=before.documents[GONE]["chunks"]).ids == []
    assert sentence_counts(store.sentences_collection, GONE) == {}
    assert GONE not in _bm25_docs(store, words)
    _rows_match_manifest(open_store(index))


def test_deleting_an_unknown_document_changes_nothing(open_store, tmp_path, seeds_copy):
    index, store = _indexed(open_store, tmp_path, seeds_copy)
    before = snapshot(store)
    with pytest.raises(UnknownDocument, match="nope.txt"):
        store.remove_documents(["nope.txt"])
    assert snapshot(open_store(index)) == before and not (index / APPEND).exists()


@pytest.mark.parametrize("point", ["change-intent", "change-switch"])
def test_a_crash_before_the_delete_commits_keeps_the_document(open_store, tmp_path, seeds_copy, monkeypatch, point):
    index, store = _indexed(open_store, tmp_path, seeds_copy)
    before = snapshot(store)
    kill_at(monkeypatch, point)
    with pytest.raises(_Killed):
        open_store(index).remove_documents([GONE])
    monkeypatch.undo()
    assert (index / APPEND).exists()
    assert snapshot(open_store(index)) == before  # the reader undid nothing it should keep
    assert not (index / APPEND).exists()
    _rows_match_manifest(open_store(index))


@pytest.mark.parametrize("point", ["change-committed", "change-deleted"])
def test_a_crash_after_the_delete_commits_is_finished_by_the_next_reader(open_store, tmp_path, seeds_copy, monkeypatch, point):
    index, store = _indexed(open_store, tmp_path, seeds_copy)
    chunks = store.open().documents[GONE]["chunks"]
    kill_at(monkeypatch, point)
    with pytest.raises(_Killed):
        open_store(index).remove_documents([GONE])
    monkeypatch.undo()
    reader = open_store(index)
    got = snapshot(reader)
    assert GONE not in got["docs"] and not (index / APPEND).exists()
    assert reader.chunks_collection.get(ids=chunks).ids == [] and sentence_counts(reader.sentences_collection, GONE) == {}
    _rows_match_manifest(reader)


def _new_version(seeds: Path, doc_id: str = GONE):
    old = (seeds / doc_id).read_text(encoding="utf-8")
    # the first paragraph kept (its chunk rows stay), the rest replaced
    head = old.split("\n\n")[0]
    return parse_document(doc_id, head + "\n\nThe harbour master of Puerto Cabello is Ignacio Valdés.\n", path=str(seeds / doc_id))


def test_replace_swaps_the_contents_in_one_commit(open_store, tmp_path, seeds_copy):
    index, store = _indexed(open_store, tmp_path, seeds_copy)
    doc = _new_version(seeds_copy)
    report = store.commit_change(store.prepare_change([doc]))
    assert report.updated == (GONE,) and report.removed == () and report.appended
    m = Manifest.load(index / MANIFEST)
    assert m.documents[GONE]["sha256"] == doc.sha256
    assert "Ignacio" in " ".join(n.text for n in open_store(index).get_nodes(m.documents[GONE]["chunks"]))
    assert _bm25_docs(store, "harbour master Puerto Cabello Ignacio Valdés") >= {GONE}
    _rows_match_manifest(open_store(index))


@pytest.mark.parametrize("point,kept_new", [("change-intent", False), ("append-embed", False), ("change-switch", False),
                                            ("change-committed", True), ("change-deleted", True)])
def test_a_crash_mid_replace_leaves_one_version_whole(open_store, tmp_path, seeds_copy, monkeypatch, point, kept_new):
    index, store = _indexed(open_store, tmp_path, seeds_copy)
    old_sha = store.open().documents[GONE]["sha256"]
    doc = _new_version(seeds_copy)
    prepared = store.prepare_change([doc])
    kill_at(monkeypatch, point)
    with pytest.raises(_Killed):
        open_store(index).commit_change(prepared)
    monkeypatch.undo()
    reader = open_store(index)
    m = reader.open()
    assert m.documents[GONE]["sha256"] == (doc.sha256 if kept_new else old_sha)
    assert not (index / APPEND).exists()
    _rows_match_manifest(reader)


def test_old_rows_wait_for_the_questions_that_began_before_the_change(open_store, tmp_path, seeds_copy):
    """purge=False: the commit leaves the old rows (unlisted, never answered) until finish_change,
    which waits for reads that started before it, not for later ones."""
    import threading

    index, store = _indexed(open_store, tmp_path, seeds_copy)
    chunks = store.open().documents[GONE]["chunks"]
    reading = store.reading()
    reading.__enter__()  # a question under way
    store.remove_documents([GONE], purge=False)
    assert GONE not in Manifest.load(index / MANIFEST).documents and (index / APPEND).exists()
    assert len(store.chunks_collection.get(ids=chunks).ids) == len(chunks)  # still readable by that question
    done = threading.Event()
    worker = threading.Thread(target=lambda: (store.finish_change(timeout=30), done.set()))
    worker.start()
    with store.reading():  # a later question does not hold the change up
        pass
    assert not done.wait(0.5)
    reading.__exit__(None, None, None)
    assert done.wait(30)
    worker.join()
    assert store.chunks_collection.get(ids=chunks).ids == [] and not (index / APPEND).exists()
    _rows_match_manifest(open_store(index))


def test_a_change_left_unfinished_is_finished_by_the_next_reader(open_store, tmp_path, seeds_copy):
    index, store = _indexed(open_store, tmp_path, seeds_copy)
    store.remove_documents([GONE], purge=False)
    reader = open_store(index)
    reader.open()
    assert not (index / APPEND).exists() and sentence_counts(reader.sentences_collection, GONE) == {}
    _rows_match_manifest(reader)
