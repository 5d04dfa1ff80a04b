"""Adding documents in place: an upload (or a sync that only adds) costs what its own chunks cost.

Real Chroma, the fake hashing embedder (it counts every text it embeds): no whole-collection copy,
no re-embedding, the same cost whatever the collection's size; crash points of the append protocol;
uncommitted vectors never answered from; BM25 rebuilt in the background and followed by the engine;
a running engine in another process follows an append.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from qa import QA
from qa.answer import ExtractiveAnswerer
from qa.config import Config
from qa.ingest import chunk_document, load_documents, parse_document
from qa.store import APPEND, BM25_KEY_FILE, MANIFEST, IndexStore, Manifest

from tests.conftest import ROOT
from tests.fakes import HashEmbedder

CHUNKING = {"chunk_words": 110, "chunk_overlap": 0, "version": 1}
NEW_NAME = "harbour-notes.md"
NEW_TEXT = (
    "# Harbour notes\n\n"
    "The harbour master Zorblax Quendry opened the new lighthouse on Tuesday. "
    "Fishermen said the beacon could be seen from the far side of the bay. "
    "The council paid for the lamp with a grant from the coastal fund.\n"
)


class _Killed(BaseException):
    """Stands in for SIGKILL: a BaseException, so the ordinary-error cleanup does not run."""


def make_store(index_dir: Path, embedder: HashEmbedder | None = None) -> IndexStore:
    return IndexStore(index_dir, embedder or HashEmbedder(), CHUNKING)


def texts_of(doc) -> int:
    """Texts an append embeds for ``doc``: each chunk and each of its sentences."""
    chunks = chunk_document(doc, CHUNKING["chunk_words"], CHUNKING["chunk_overlap"])
    return len(chunks) + sum(len(c.sentences) for c in chunks)


def filler(folder: Path, n: int) -> None:
    """``n`` more documents, so that the collection is much larger than the seeds."""
    for i in range(n):
        (folder / f"filler-{i:03d}.txt").write_text(
            f"Filler report {i}\n\n" + " ".join(f"Paragraph {i} sentence {j} mentions ledger entry {i * 31 + j}." for j in range(40)),
            encoding="utf-8",
        )


def record_writes(monkeypatch) -> list[tuple[str, str, int]]:
    """Record (method, collection, rows) of every Chroma add/get/delete/upsert."""
    from chromadb.api.models.Collection import Collection

    calls: list[tuple[str, str, int]] = []
    for method in ("add", "get", "delete", "upsert"):
        real = getattr(Collection, method)

        def wrapped(self, *a, _real=real, _m=method, **k):
            ids = k.get("ids", a[0] if a else None)
            calls.append((_m, self.name, -1 if ids is None else len(ids if isinstance(ids, list) else [ids])))
            return _real(self, *a, **k)

        monkeypatch.setattr(Collection, method, wrapped)
    return calls


def snapshot(index: Path) -> dict:
    """What a fresh reader sees: documents, chunk ids, stored rows, and the best chunks for a query."""
    store = make_store(index)
    m = store.open()
    q = HashEmbedder()._vec("harbour master lighthouse interim president sworn")
    hits = store.chunks_collection.query(q, 5)
    return {"docs": sorted(m.documents), "chunks": sorted(m.chunk_ids()), "count": store.count(),
            "sentences": store.sentences_collection.count(), "top": [h.id for h in hits], "generation": m.generation}


def stored_count(index: Path) -> tuple[int, int]:
    """Rows in the live collections, read without the cleanup a reader does on open."""
    from qa.store import open_chroma

    m = Manifest.load(index / MANIFEST)
    client = open_chroma(index / "chroma")
    ch, se = m.names()
    return client.get_collection(ch).count(), client.get_collection(se).count()


# --- the store --------------------------------------------------------------------------------------


@pytest.mark.integration
def test_an_added_document_is_appended_in_place_embedding_only_its_own_text(tmp_path, seeds_copy, monkeypatch):
    index = tmp_path / "index"
    emb = HashEmbedder()
    store = make_store(index, emb)
    store.sync(load_documents(seeds_copy).documents)
    m1 = Manifest.load(index / MANIFEST)
    before = store.chunks_collection.get(ids=m1.chunk_ids(), vectors=True)
    sentences_before = store.sentences_collection.count()
    (seeds_copy / NEW_NAME).write_text(NEW_TEXT, encoding="utf-8")
    docs = load_documents(seeds_copy).documents
    new_doc = next(d for d in docs if d.doc_id == NEW_NAME)
    calls = record_writes(monkeypatch)
    embedded = emb.texts_embedded
    report = store.sync(docs)
    assert report.appended and report.added == (NEW_NAME,) and report.chunks_copied == 0 and not report.updated
    assert emb.texts_embedded - embedded == texts_of(new_doc)  # its chunks and sentences, nothing else
    m2 = Manifest.load(index / MANIFEST)
    assert (m2.index_id, m2.generation) == (m1.index_id, m1.generation) and m2.names() == m1.names()
    assert sorted(m2.documents) == sorted([*m1.documents, NEW_NAME])
    new_chunks = m2.documents[NEW_NAME]["chunks"]
    # only the new rows were written, into the live collections; nothing was read to be copied
    adds = [(name, n) for what, name, n in calls if what == "add"]
    assert {name for name, _ in adds} == set(m1.names())
    assert sum(n for name, n in adds if name == m1.names()[0]) == len(new_chunks)
    assert not [c for c in calls if c[0] == "get" and c[2] == -1]
    # the other documents' vectors are untouched, the new ones are there
    after = store.chunks_collection.get(ids=m1.chunk_ids(), vectors=True)
    assert after.ids == before.ids and after.documents == before.documents
    assert all((a == b).all() for a, b in zip(after.vectors, before.vectors))
    assert store.count() == len(m2.chunk_ids())
    assert store.sentences_collection.count() == sentences_before + texts_of(new_doc) - len(new_chunks)
    new_rows = store.chunks_collection.get(ids=new_chunks)
    assert set(store.sentences_collection.get(where={"doc_id": NEW_NAME}).ids) == {
        f"{cid}:{j}" for cid, md in zip(new_rows.ids, new_rows.metadatas)
        for j in range(len(json.loads(md["sentences"])))
    }
    assert not (index / APPEND).exists()
    assert store.wait_bm25(60)
    assert (index / "bm25" / BM25_KEY_FILE).read_text() == m2.corpus_key()


@pytest.mark.integration
def test_append_cost_does_not_grow_with_the_collection(tmp_path, seeds_copy, monkeypatch):
    """The same upload into the seeds and into a collection 40x larger: the same texts embedded,
    the same rows written, nothing read from the collection on the upload's time."""
    costs = {}
    for label, extra in (("small", 0), ("large", 200)):
        seeds = tmp_path / label / "seeds"
        seeds.parent.mkdir()
        import shutil

        shutil.copytree(seeds_copy, seeds)
        filler(seeds, extra)
        emb = HashEmbedder()
        engine = QA(config=Config.resolve(seeds_dir=seeds, documents_dir=tmp_path / label / "documents",  # an upload folder each
                                          index_dir=tmp_path / label / "index"), embedder=emb, answerer=ExtractiveAnswerer())
        engine.index()
        assert engine.store.wait_bm25(60)
        size = engine.store.count()

        def no_folder_read(*a, **k):
            raise AssertionError("an upload read the whole documents folder")

        monkeypatch.setattr("qa.engine.load_collection", no_folder_read)
        calls = record_writes(monkeypatch)
        embedded = emb.texts_embedded
        started = threading.Event()
        release = threading.Event()
        real_build = IndexStore._build_bm25

        def slow_build(self, *a, **k):  # the background rebuild, held until the upload has returned
            started.set()
            release.wait(60)
            return real_build(self, *a, **k)

        monkeypatch.setattr(IndexStore, "_build_bm25", slow_build)
        added = engine.add_document(NEW_NAME, NEW_TEXT.encode())
        upload_calls = list(calls)
        release.set()
        assert engine.store.wait_bm25(60)
        monkeypatch.undo()
        assert added.created and added.report.appended and added.report.chunks_copied == 0
        costs[label] = {
            "size": size,
            "embedded": emb.texts_embedded - embedded,
            "written": sorted((what, n) for what, _, n in upload_calls if what in ("add", "upsert")),
            "read": sum(max(n, 0) for what, _, n in upload_calls if what == "get"),
            "whole_reads": [c for c in upload_calls if c[0] == "get" and c[2] == -1],
        }
    small, large = costs["small"], costs["large"]
    assert large["size"] > 10 * small["size"]
    assert small["embedded"] == large["embedded"] == texts_of(parse_document(NEW_NAME, NEW_TEXT))
    assert small["written"] == large["written"]
    assert small["read"] == large["read"] == 0 and not small["whole_reads"] and not large["whole_reads"]


@pytest.mark.parametrize("point", ["append-intent", "append-embed", "append-switch", "append-committed"])
def test_a_crash_at_any_point_of_an_append_keeps_the_committed_index(tmp_path, seeds_copy, monkeypatch, point):
    index = tmp_path / "index"
    emb = HashEmbedder()
    make_store(index, emb).sync(load_documents(seeds_copy).documents)
    before = snapshot(index)
    for i in range(3):
        (seeds_copy / f"new{i}.md").write_text(f"# Report {i}\n\n{NEW_TEXT}\nThe harbour master number {i} resigned.\n", encoding="utf-8")
    monkeypatch.setenv("QA_INDEX_BATCH_CHUNKS", "1")  # several batches: killed after the first one

    def pause(at: str) -> None:
        if at == point:
            raise _Killed(at)

    monkeypatch.setattr("qa.store.generations.checkpoint", pause)
    with pytest.raises(_Killed):
        make_store(index, emb).sync(load_documents(seeds_copy).documents)
    monkeypatch.undo()
    assert (index / APPEND).exists()  # the dead run's intent
    rows = stored_count(index)
    if point == "append-intent":
        assert rows == (before["count"], before["sentences"])
    elif point != "append-committed":
        assert rows[0] > before["count"] and rows[1] > before["sentences"]  # uncommitted vectors, still there
    after = snapshot(index)  # a reader that finds no writer cleans up
    assert not (index / APPEND).exists()
    if point == "append-committed":  # the rename happened: the new documents are live and complete
        assert {"new0.md", "new1.md", "new2.md"} <= set(after["docs"]) and after["count"] == len(after["chunks"])
    else:  # exactly the previous index: documents, rows, nearest chunks
        assert after == before
    store = make_store(index, emb)
    report = store.sync(load_documents(seeds_copy).documents)
    assert report.changed == (point != "append-committed")
    m = Manifest.load(index / MANIFEST)
    assert sorted(m.documents) == sorted(d.doc_id for d in load_documents(seeds_copy).documents)
    assert store.count() == len(m.chunk_ids()) and m.generation == before["generation"]
    assert set(store.backend.names()) == set(m.names())


def test_the_next_writer_clears_the_orphans_of_a_crashed_append(tmp_path, seeds_copy, monkeypatch):
    index = tmp_path / "index"
    make_store(index).sync(load_documents(seeds_copy).documents)
    before = snapshot(index)
    (seeds_copy / NEW_NAME).write_text(NEW_TEXT, encoding="utf-8")
    monkeypatch.setattr("qa.store.generations.checkpoint", lambda at: (_ for _ in ()).throw(_Killed()) if at == "append-switch" else None)
    with pytest.raises(_Killed):
        make_store(index).sync(load_documents(seeds_copy).documents)
    monkeypatch.undo()
    (seeds_copy / NEW_NAME).unlink()  # the document is gone again: the next sync has nothing to add
    store = make_store(index)
    report = store.sync(load_documents(seeds_copy).documents)
    assert not report.changed and not (index / APPEND).exists()
    assert stored_count(index) == (before["count"], before["sentences"])
    assert snapshot(index) == before


def test_an_ordinary_error_during_an_append_takes_its_vectors_out(tmp_path, seeds_copy, monkeypatch):
    index = tmp_path / "index"
    emb = HashEmbedder()
    make_store(index, emb).sync(load_documents(seeds_copy).documents)
    before = snapshot(index)
    (seeds_copy / NEW_NAME).write_text(NEW_TEXT * 5, encoding="utf-8")
    monkeypatch.setenv("QA_INDEX_BATCH_CHUNKS", "1")
    real = emb.embed_texts
    calls = []

    def failing(texts, progress=None):
        calls.append(len(texts))
        if len(calls) == 2:
            raise RuntimeError("the model ran out of memory")
        return real(texts, progress)

    emb.embed_texts = failing
    with pytest.raises(RuntimeError, match="out of memory"):
        make_store(index, emb).sync(load_documents(seeds_copy).documents)
    assert not (index / APPEND).exists()
    assert stored_count(index) == (before["count"], before["sentences"])  # the first batch was taken out again
    assert snapshot(index) == before


def test_uncommitted_vectors_are_never_answered_from_and_change_no_answer(tmp_path, seeds_copy):
    """Vectors in the live collections that the manifest does not list (an append under way, or
    one a crash interrupted) are invisible: the engine returns exactly what it returned before."""
    engine = QA(config=Config.resolve(seeds_dir=seeds_copy, index_dir=tmp_path / "index"), embedder=HashEmbedder(),
                answerer=ExtractiveAnswerer())
    # whole questions: with the hashing embedder a two-word query ties most chunks at cosine 0, and
    # the order of ties in Chroma's graph is arbitrary
    questions = ["Who was sworn in as interim president?", "Where did the firefights break out?",
                 "What did the minister say about the oil reserves and exports?"]
    before = {q: [(h.chunk.chunk_id, h.dense_rank, h.sparse_rank, round(h.score, 9)) for h in engine.retrieve(q)] for q in questions}
    answers = {q: engine.ask(q).to_dict() for q in questions}
    # 60 chunks that repeat the questions' words, added straight into the live collections
    from qa.store.records import add_vectors

    store = engine.store
    ghosts = [c for i in range(20) for q in questions
              for c in chunk_document(parse_document(f"ghost-{i}-{len(q)}.txt", f"{q} {q} ghost note {i} ledger{i * 7}"), 110)]
    vecs = store._embed_chunks(ghosts)
    add_vectors(store.chunks_collection, store.sentences_collection, ghosts, *vecs)
    assert store.count() == len(store.manifest.chunk_ids()) + len(ghosts)
    for q in questions:
        hits = engine.retrieve(q)
        assert not [h for h in hits if h.chunk.doc_id.startswith("ghost-")]
        assert [(h.chunk.chunk_id, h.dense_rank, h.sparse_rank, round(h.score, 9)) for h in hits] == before[q]
        got = engine.ask(q).to_dict()
        got.pop("timings", None), answers[q].pop("timings", None)
        assert got == answers[q]


def test_bm25_is_rebuilt_in_the_background_and_the_engine_picks_it_up(tmp_path, seeds_copy, monkeypatch):
    engine = QA(config=Config.resolve(seeds_dir=seeds_copy, index_dir=tmp_path / "index"), embedder=HashEmbedder(),
                answerer=ExtractiveAnswerer())
    engine.ask("Who was sworn in as interim president?")
    old_key = (tmp_path / "index" / "bm25" / BM25_KEY_FILE).read_text()
    started, release = threading.Event(), threading.Event()
    real_build = IndexStore._build_bm25

    def held_build(self, *a, **k):
        started.set()
        assert release.wait(60)
        return real_build(self, *a, **k)

    monkeypatch.setattr(IndexStore, "_build_bm25", held_build)
    added = engine.add_document(NEW_NAME, NEW_TEXT.encode())
    assert added.report.appended
    assert started.wait(30)
    # the old BM25 answers meanwhile; the dense sides already find the new document
    hits = engine.retrieve("Zorblax Quendry")
    new = [h for h in hits if h.chunk.doc_id == NEW_NAME]
    assert new and new[0].dense_rank is not None and new[0].sparse_rank is None
    assert (tmp_path / "index" / "bm25" / BM25_KEY_FILE).read_text() == old_key
    release.set()
    assert engine.store.wait_bm25(60)
    monkeypatch.undo()
    assert (tmp_path / "index" / "bm25" / BM25_KEY_FILE).read_text() == engine.store.manifest.corpus_key() != old_key
    # the same retriever now finds it by a word only it contains, through the new BM25
    hits = engine.retrieve("Zorblax Quendry")
    assert hits[0].chunk.doc_id == NEW_NAME and hits[0].sparse_rank == 1
    # a fresh process loads the installed BM25 without rebuilding it
    fresh = make_store(tmp_path / "index")
    fresh.open()
    assert len(fresh.bm25().corpus) == fresh.count()


def test_a_background_build_loses_to_a_later_sync_and_close_joins_it(tmp_path, seeds_copy, monkeypatch):
    index = tmp_path / "index"
    store = make_store(index)
    store.sync(load_documents(seeds_copy).documents)
    started, release = threading.Event(), threading.Event()
    real_build = IndexStore._build_bm25

    def held_build(self, *a, **k):
        if threading.current_thread().name == "qa-bm25" and not release.is_set():
            started.set()
            assert release.wait(60)
        return real_build(self, *a, **k)

    monkeypatch.setattr(IndexStore, "_build_bm25", held_build)
    (seeds_copy / NEW_NAME).write_text(NEW_TEXT, encoding="utf-8")
    assert store.sync(load_documents(seeds_copy).documents).appended
    assert started.wait(30)
    # meanwhile an edit writes a new generation (its BM25 built with it)
    (seeds_copy / "002_67f5309dadd8483c.txt").write_text("Replaced text about the border crossing.\n", encoding="utf-8")
    report = store.sync(load_documents(seeds_copy).documents)
    assert report.updated and not report.appended
    m = Manifest.load(index / MANIFEST)
    release.set()
    assert store.wait_bm25(60)
    # the stale background build was not installed over the newer one
    assert (index / "bm25" / BM25_KEY_FILE).read_text() == m.corpus_key()
    assert store._bm25_state[1] == m.corpus_key() and len(store.bm25().corpus) == len(m.chunk_ids())
    store.close(timeout=10)
    assert store._bm25_thread is None
    assert not [p for p in index.iterdir() if p.name.startswith("bm25.tmp-")]


def test_upload_reports_embedding_progress_of_its_passages(tmp_path, seeds_copy, monkeypatch):
    engine = QA(config=Config.resolve(seeds_dir=seeds_copy, index_dir=tmp_path / "index"), embedder=HashEmbedder(),
                answerer=ExtractiveAnswerer())
    engine.ask("Who was sworn in as interim president?")
    monkeypatch.setenv("QA_INDEX_BATCH_CHUNKS", "2")
    text = "# Long notes\n\n" + " ".join(f"Sentence {i} of the long notes names the pier number {i}." for i in range(200))
    steps: list[tuple[int, int]] = []
    added = engine.add_document("long-notes.md", text.encode(), progress=lambda done, total: steps.append((done, total)))
    assert added.chunks > 4 and added.report.appended
    total = added.chunks
    assert steps[0] == (0, total) and steps[-1] == (total, total)
    assert all(t == total for _, t in steps) and [d for d, _ in steps] == sorted(d for d, _ in steps)
    assert len({d for d, _ in steps}) > 4  # it moves while embedding, not only at the end


def test_an_upload_refused_by_the_loader_is_removed_and_indexes_nothing(tmp_path, seeds_copy, monkeypatch):
    import qa.ingest
    from qa.uploads import InvalidDocument

    emb = HashEmbedder()
    engine = QA(config=Config.resolve(seeds_dir=seeds_copy, index_dir=tmp_path / "index"), embedder=emb,
                answerer=ExtractiveAnswerer())
    engine.ask("Who was sworn in as interim president?")
    before = (tmp_path / "index" / MANIFEST).read_text()
    real = qa.ingest._open_document
    monkeypatch.setattr(qa.ingest, "_open_document",
                        lambda p: (_ for _ in ()).throw(PermissionError(13, "Permission denied", p)) if p.endswith("locked.md") else real(p))
    embedded = emb.texts_embedded
    with pytest.raises(InvalidDocument, match="locked.md: skipped, unreadable"):
        engine.add_document("locked.md", b"# Locked\n\nSecret text.\n")
    assert not (seeds_copy / "locked.md").exists() and emb.texts_embedded == embedded
    assert (tmp_path / "index" / MANIFEST).read_text() == before


def test_a_running_engine_follows_an_append_by_another_engine(tmp_path, seeds_copy):
    cfg = Config.resolve(seeds_dir=seeds_copy, index_dir=tmp_path / "index")
    server = QA(config=cfg, embedder=HashEmbedder(), answerer=ExtractiveAnswerer())
    before = server.ask("Who was sworn in as interim president?")
    generation = server.store.manifest.generation
    writer = QA(config=cfg, embedder=HashEmbedder(), answerer=ExtractiveAnswerer())
    assert writer.add_document(NEW_NAME, NEW_TEXT.encode()).report.appended
    assert writer.store.manifest.generation == generation
    new = server.retrieve("Zorblax Quendry lighthouse harbour master")
    assert server.store.manifest.documents.keys() == writer.store.manifest.documents.keys()
    assert new[0].chunk.doc_id == NEW_NAME
    assert server.ask("Who was sworn in as interim president?").citations[0].quote == before.citations[0].quote


FOLLOWER_WRITER = """
import sys
sys.path.insert(0, {root!r})
from qa import QA
from qa.answer import ExtractiveAnswerer
from tests.fakes import HashEmbedder
engine = QA(seeds_dir={seeds!r}, index_dir={index!r}, embedder=HashEmbedder(), answerer=ExtractiveAnswerer())
added = engine.add_document({name!r}, {data!r})
assert added.report.appended, added.report
print("appended", added.chunks)
"""


@pytest.mark.integration
def test_a_running_engine_in_another_process_follows_an_append(tmp_path, seeds_copy):
    """The embedded Chroma of a reader process sees vectors another process appended to collections
    it already has open only once it caught up with the store's log: the engine does that."""
    cfg = Config.resolve(seeds_dir=seeds_copy, index_dir=tmp_path / "index")
    server = QA(config=cfg, embedder=HashEmbedder(), answerer=ExtractiveAnswerer())
    server.ask("Who was sworn in as interim president?")
    assert not [h for h in server.retrieve("Zorblax Quendry") if h.chunk.doc_id == NEW_NAME]
    code = FOLLOWER_WRITER.format(root=str(ROOT), seeds=str(seeds_copy), index=str(tmp_path / "index"), name=NEW_NAME,
                                  data=NEW_TEXT.encode())
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    assert out.returncode == 0, out.stderr[-3000:]
    hits = server.retrieve("Zorblax Quendry lighthouse harbour master")
    assert hits and hits[0].chunk.doc_id == NEW_NAME and hits[0].dense_rank is not None
    assert server.store.wait_bm25(60)  # the writer installed its BM25; this process loads it
    hits = server.retrieve("Zorblax Quendry")
    assert hits[0].chunk.doc_id == NEW_NAME and hits[0].sparse_rank == 1


def test_a_sync_that_appends_returns_with_bm25_complete(tmp_path, seeds_copy):
    """Only an upload returns before its BM25 is rebuilt: `qa index`, QA.index() and evaluations
    (index_documents) leave a complete one."""
    engine = QA(config=Config.resolve(seeds_dir=seeds_copy, index_dir=tmp_path / "index"), embedder=HashEmbedder(),
                answerer=ExtractiveAnswerer())
    engine.index()
    (seeds_copy / NEW_NAME).write_text(NEW_TEXT, encoding="utf-8")
    report = engine.index()
    assert report.appended
    key = Manifest.load(tmp_path / "index" / MANIFEST).corpus_key()
    assert engine.store._bm25_state[1] == key and (tmp_path / "index" / "bm25" / BM25_KEY_FILE).read_text() == key
    assert engine.retrieve("Zorblax Quendry")[0].sparse_rank == 1


def test_add_document_takes_every_type_the_collection_reads_and_cites_the_pdf_page(tmp_path, seeds_copy):
    """``QA.add_document`` accepted only .txt/.md while the documents library, the web chat and the
    folder reader take PDF, DOCX and HTML; both now pass the same checks (:func:`qa.uploads.check_upload`)."""
    from fpdf import FPDF

    pdf = FPDF()
    for text in ("Harbor notes, page one.", "The Zorblax festival was founded in 1987 by Margaret Quendry."):
        pdf.add_page()
        pdf.set_font("helvetica", size=12)
        pdf.multi_cell(0, 10, text)
    engine = QA(config=Config.resolve(seeds_dir=seeds_copy, documents_dir=tmp_path / "docs", index_dir=tmp_path / "index"),
                embedder=HashEmbedder(), answerer=ExtractiveAnswerer())
    engine.index()
    added = engine.add_document("Harbor Notes.PDF", bytes(pdf.output()))
    assert added.created and added.doc_id == "Harbor_Notes.pdf" and (tmp_path / "docs" / "Harbor_Notes.pdf").is_file()
    hits = [h for h in engine.retrieve("Zorblax festival Quendry") if h.chunk.doc_id == "Harbor_Notes.pdf"]
    assert hits and 2 in [number for number, _ in hits[0].chunk.pages]
    answer = engine.ask("Who founded the Zorblax festival?")
    assert answer.citations and answer.citations[0].doc_id == "Harbor_Notes.pdf" and answer.citations[0].page == 2
    assert "Margaret Quendry" in answer.citations[0].quote
