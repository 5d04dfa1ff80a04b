"""The persisted index: manifest, incremental sync, rebuild triggers, broken folders.

Real Chroma, fake (hashing) embedder: fast, and it counts how much text gets embedded.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from qa import QA
from qa.config import Config, parse_chroma_url
from qa.ingest import load_documents, parse_document
from qa.store import BM25_KEY_FILE, MANIFEST, IndexStore, IndexUnusable, Manifest

from tests.fakes import HashEmbedder

CHUNKING = {"chunk_words": 110, "chunk_overlap": 0, "version": 1}


def make_store(index_dir: Path, embedder: HashEmbedder | None = None, chunking=CHUNKING) -> IndexStore:
    return IndexStore(index_dir, embedder or HashEmbedder(), chunking)


def edit_one(seeds: Path, name: str = "002_67f5309dadd8483c.txt") -> str:
    """Edit one document, so that the next sync writes a new generation (documents that are only
    added are appended to the live generation in place)."""
    p = seeds / name
    p.write_text(p.read_text(encoding="utf-8") + "\nA closing sentence added by an editor.\n", encoding="utf-8")
    return name


def chunk_ids_by_doc(store: IndexStore) -> dict[str, set[str]]:
    got = store.chunks_collection.get()
    out: dict[str, set[str]] = {}
    for cid, md in zip(got.ids, got.metadatas):
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
    n_sent = sum(len(json.loads(md["sentences"])) for md in store.chunks_collection.get().metadatas)
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
    store = make_store(tmp_path / "index", emb)  # a store object reads the generation it opened
    report = store.sync(load_documents(seeds_copy).documents)
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
    store = make_store(tmp_path / "index")
    report = store.sync(load_documents(seeds_copy).documents)
    assert report.added == ("new.md",) and report.removed == ("000_9b8c8bf65a001266.txt",)
    ids = chunk_ids_by_doc(store)
    assert "000_9b8c8bf65a001266.txt" not in ids and "new.md" in ids
    assert store.sentences_collection.get(where={"doc_id": "000_9b8c8bf65a001266.txt"}).ids == []


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
    with pytest.raises(IndexUnusable, match="qa index --rebuild"):
        make_store(tmp_path / "index").sync(docs)
    report = make_store(tmp_path / "index").sync(docs, rebuild=True)
    assert report.rebuilt and len(report.added) == 5


def test_foreign_folder_is_refused_and_left_alone(tmp_path, seeds_copy):
    folder = tmp_path / "not-an-index"
    folder.mkdir()
    (folder / "thesis.docx").write_bytes(b"precious")
    with pytest.raises(IndexUnusable, match="holds no qa manifest"):
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
    key = (tmp_path / "index" / "bm25" / BM25_KEY_FILE).read_text()
    assert key == store.manifest.corpus_key() == Manifest.load(tmp_path / "index" / MANIFEST).corpus_key()
    fresh = make_store(tmp_path / "index")
    fresh.open()
    again = fresh.bm25()
    assert again is not bm and len(again.corpus) == len(bm.corpus) == store.count()


def test_engine_with_fake_embedder_answers_with_verbatim_quotes(tmp_path, seeds_copy, hash_embedder):
    from qa.answer import ExtractiveAnswerer

    # the rules-based answerer: fast and model-free, like the embedder here (the store is under test)
    engine = QA(config=Config.resolve(seeds_dir=seeds_copy, index_dir=tmp_path / "index"), embedder=hash_embedder,
                answerer=ExtractiveAnswerer())
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
    with pytest.raises(IndexUnusable, match="qa index"):
        engine.ask("anything?")


# --- generations, staging and crash safety (fake embedder, real Chroma) ----------------------------


class _Killed(BaseException):
    """Stands in for SIGKILL: a BaseException, so sync's ordinary-error cleanup does not run."""


def collection_names(store: IndexStore) -> set[str]:
    return set(store.backend.names())


def snapshot(index: Path) -> dict:
    """What a fresh reader sees: documents, chunk ids, and the best chunk for a query."""
    store = make_store(index)
    m = store.open()
    hits = store.chunks_collection.query(HashEmbedder()._vec("interim president sworn"), 3)
    return {"docs": sorted(m.documents), "chunks": sorted(m.chunk_ids()), "count": store.count(), "top": [h.id for h in hits]}


def test_manifest_names_the_live_generation_and_old_ones_are_dropped(tmp_path, seeds_copy):
    index = tmp_path / "index"
    store = make_store(index)
    store.sync(load_documents(seeds_copy).documents)
    m1 = Manifest.load(index / MANIFEST)
    assert m1.format == 2 and m1.index_id and m1.generation
    assert collection_names(store) == set(m1.names())
    assert all(n.startswith(f"qa_{m1.index_id}_{m1.generation}_") for n in m1.names())
    (seeds_copy / "new.md").write_text("# Extra\n\nA new document about oil reserves.\n", encoding="utf-8")
    edited = edit_one(seeds_copy)
    report = store.sync(load_documents(seeds_copy).documents)
    m2 = Manifest.load(index / MANIFEST)
    assert report.added == ("new.md",) and report.updated == (edited,) and not report.appended
    assert report.chunks_copied == len(m1.chunk_ids()) - len(m1.documents[edited]["chunks"])
    assert m2.index_id == m1.index_id and m2.generation != m1.generation
    # the replaced generation stays readable for questions under way until drop_retired()
    assert collection_names(store) == set(m1.names()) | set(m2.names())
    assert sorted(store.drop_retired()) == sorted(m1.names())
    assert collection_names(store) == set(m2.names())
    assert store.chunks_collection.name == m2.names()[0] and store.count() == len(m2.chunk_ids())
    assert not (index / "manifest.staging.json").exists()


def test_no_change_creates_no_generation(tmp_path, seeds_copy):
    index = tmp_path / "index"
    make_store(index).sync(load_documents(seeds_copy).documents)
    before = (index / MANIFEST).read_text()
    store = make_store(index)
    assert not store.sync(load_documents(seeds_copy).documents).changed
    assert (index / MANIFEST).read_text() == before
    assert collection_names(store) == set(Manifest.load(index / MANIFEST).names())


@pytest.mark.parametrize("point", ["staging", "embed", "switch", "committed"])
def test_crash_at_any_point_keeps_an_answering_index_and_the_next_run_finishes(tmp_path, seeds_copy, monkeypatch, point):
    index = tmp_path / "index"
    emb = HashEmbedder()
    make_store(index, emb).sync(load_documents(seeds_copy).documents)
    before = snapshot(index)
    for i in range(3):
        (seeds_copy / f"new{i}.md").write_text(f"# Report {i}\n\nThe harbour master number {i} resigned.\n", encoding="utf-8")
    (seeds_copy / "000_9b8c8bf65a001266.txt").unlink()

    def pause(at: str) -> None:
        if at == point:
            raise _Killed(at)

    monkeypatch.setattr("qa.store.generations.checkpoint", pause)
    with pytest.raises(_Killed):
        make_store(index, emb).sync(load_documents(seeds_copy).documents)
    monkeypatch.undo()
    after_crash = snapshot(index)
    if point == "committed":  # the rename happened: the new index is live and complete
        assert "new0.md" in after_crash["docs"] and "000_9b8c8bf65a001266.txt" not in after_crash["docs"]
    else:  # the previous index, exactly as it was
        assert after_crash == before
    # the next run completes the work and clears what the killed one left
    store = make_store(index, emb)
    report = store.sync(load_documents(seeds_copy).documents)
    m = Manifest.load(index / MANIFEST)
    assert sorted(m.documents) == sorted(d.doc_id for d in load_documents(seeds_copy).documents)
    assert report.changed == (point != "committed")
    store.drop_retired()
    assert collection_names(store) == set(m.names())
    assert not (index / "manifest.staging.json").exists()
    assert store.count() == len(m.chunk_ids())


def test_reader_cleans_up_after_a_crashed_writer(tmp_path, seeds_copy, monkeypatch):
    index = tmp_path / "index"
    make_store(index).sync(load_documents(seeds_copy).documents)
    (seeds_copy / "new.md").write_text("# Extra\n\nA new document.\n", encoding="utf-8")
    edit_one(seeds_copy)
    monkeypatch.setattr("qa.store.generations.checkpoint", lambda at: (_ for _ in ()).throw(_Killed()) if at == "embed" else None)
    with pytest.raises(_Killed):
        make_store(index).sync(load_documents(seeds_copy).documents)
    monkeypatch.undo()
    assert (index / "manifest.staging.json").exists()
    reader = make_store(index)
    m = reader.open()
    assert collection_names(reader) == set(m.names()) and not (index / "manifest.staging.json").exists()


def test_an_ordinary_error_drops_the_half_written_generation(tmp_path, seeds_copy):
    index = tmp_path / "index"
    store = make_store(index)
    store.sync(load_documents(seeds_copy).documents)
    docs = list(load_documents(seeds_copy).documents)
    with pytest.raises(ValueError, match="duplicate document id"):
        store.sync([*docs, parse_document("x.md", "# X\n\nNew text here."), parse_document("x.md", "# X\n\nOther.")])
    assert collection_names(store) == set(Manifest.load(index / MANIFEST).names())
    assert not (index / "manifest.staging.json").exists()


def test_a_generator_is_streamed_and_progress_total_is_unknown(tmp_path, seeds_copy):
    calls = []
    store = make_store(tmp_path / "index")
    report = store.sync((d for d in load_documents(seeds_copy).documents), progress=lambda done, total: calls.append((done, total)))
    assert len(report.added) == 5 and calls[0] == (0, 0) and calls[-1] == (report.chunks_added, 0)
    listed = make_store(tmp_path / "index2")
    calls.clear()
    listed.sync(load_documents(seeds_copy).documents, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (report.chunks_added, report.chunks_added)


def test_a_format_1_index_is_migrated_without_re_embedding(tmp_path, seeds_copy):
    index = tmp_path / "index"
    emb = HashEmbedder()
    store = make_store(index, emb)
    store.sync(load_documents(seeds_copy).documents)
    # turn it into what the previous release wrote: fixed collection names, format 1
    m = Manifest.load(index / MANIFEST)
    for name, legacy in zip(m.names(), ("qa_chunks", "qa_sentences")):
        store.backend.client.get_collection(name).modify(name=legacy)
    data = json.loads((index / MANIFEST).read_text())
    for k in ("index_id", "generation", "source"):
        del data[k]
    data["format"] = 1
    (index / MANIFEST).write_text(json.dumps(data))
    old = make_store(index, emb)
    assert old.open().names() == ("qa_chunks", "qa_sentences") and old.count() == len(m.chunk_ids())
    embedded = emb.texts_embedded
    report = make_store(index, emb).sync(load_documents(seeds_copy).documents)
    assert report.changed and report.committed and not (report.added or report.updated or report.removed)
    assert report.chunks_copied == len(m.chunk_ids()) and "generations" in report.summary()
    assert emb.texts_embedded == embedded
    migrated = Manifest.load(index / MANIFEST)
    assert migrated.format == 2 and migrated.generation
    fresh = make_store(index, emb)
    fresh.open()
    fresh.cleanup()
    assert collection_names(fresh) == set(migrated.names())


def test_an_index_from_another_source_is_not_silently_replaced(tmp_path, seeds_copy):
    index = tmp_path / "index"
    store = make_store(index)
    store.sync(load_documents(seeds_copy).documents, source="jsonl:/data/corpus.jsonl")
    assert store.external_source() == "jsonl:/data/corpus.jsonl"
    with pytest.raises(IndexUnusable, match="corpus.jsonl.*--rebuild"):
        make_store(index).sync(load_documents(seeds_copy).documents)
    assert make_store(index).sync(load_documents(seeds_copy).documents, rebuild=True).rebuilt
    assert make_store(index).external_source() == ""


def test_two_indexes_share_a_chroma_store_without_clashing(tmp_path, seeds_copy):
    docs = load_documents(seeds_copy).documents
    a, b = make_store(tmp_path / "a"), make_store(tmp_path / "b")
    a.sync(docs[:2])
    b.sync(docs[2:])
    ma, mb = a.manifest, b.manifest
    assert ma.index_id != mb.index_id and not set(ma.names()) & set(mb.names())


def test_unreachable_chroma_server_gives_a_clear_error(tmp_path, seeds_copy):
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = IndexStore(tmp_path / "index", HashEmbedder(), CHUNKING, chroma_url=f"http://127.0.0.1:{port}")
    with pytest.raises(IndexUnusable, match=rf"cannot reach the Chroma server at http://127.0.0.1:{port}.*chroma run"):
        store.sync(load_documents(seeds_copy).documents)
    assert not (tmp_path / "index" / MANIFEST).exists()


@pytest.mark.parametrize(
    "url, expected",
    [
        ("http://127.0.0.1:8000", ("127.0.0.1", 8000, False)),
        ("https://chroma.example", ("chroma.example", 443, True)),
        ("localhost:9000", ("localhost", 9000, False)),
    ],
)
def test_chroma_url_parsing(url, expected):
    assert parse_chroma_url(url) == expected


def test_bad_chroma_url_is_a_config_error(monkeypatch):
    monkeypatch.setenv("QA_CHROMA_URL", "ftp://x/y")
    with pytest.raises(ValueError, match="chroma_url"):
        Config.resolve()
    monkeypatch.setenv("QA_CHROMA_URL", "http://127.0.0.1:8123")
    assert Config.resolve().chroma_url == "http://127.0.0.1:8123"


# --- `qa index --source FILE.jsonl` (real model through the CLI) -----------------------------------


@pytest.mark.integration
def test_cli_index_source_jsonl(tmp_path, seeds_copy, monkeypatch):
    from click.testing import CliRunner

    from qa.cli import main as cli

    monkeypatch.setenv("QA_READER", "rules")  # the rules-based answerer: the index is under test
    corpus = tmp_path / "corpus.jsonl"
    rows = [
        {"id": "lighthouse", "title": "The lighthouse", "text": "The Vigía lighthouse was built in 1887 by the engineer Tomás Arreaza."},
        {"id": "bridge", "title": "The bridge", "text": "The Angostura Bridge spans the Orinoco River at Ciudad Bolívar."},
        {"id": 7, "title": "", "text": "The national bird is the troupial, a bright orange oriole."},
        {"id": "blank", "title": "Empty", "text": "   "},
    ]
    corpus.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n", encoding="utf-8")
    args = ["--seeds", str(seeds_copy), "--index", str(tmp_path / "index")]
    runner = CliRunner()
    r = runner.invoke(cli, [*args, "index", "--source", str(corpus)])
    assert r.exit_code == 0, r.output
    assert "added 3: lighthouse, bridge, 7" in r.output and "chunks/s" in r.output
    assert "embedding" not in r.output  # no progress bar when stderr is not a terminal
    m = Manifest.load(tmp_path / "index" / MANIFEST)
    assert m.source == f"jsonl:{corpus.resolve()}" and sorted(m.documents) == ["7", "bridge", "lighthouse"]
    # asking opens the JSONL index as it is (the documents folder is not synced into it)
    r = runner.invoke(cli, [*args, "ask", "--json", "Who built the Vigía lighthouse?"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output[r.output.index("{"):])
    assert out["citations"][0]["doc_id"] == "lighthouse" and "Tomás Arreaza" in out["citations"][0]["quote"]
    r = runner.invoke(cli, [*args, "index", "--source", str(corpus), "--quiet"])
    assert r.exit_code == 0 and "index up to date (3 documents)" in r.output
    # the documents folder would replace the corpus: refused with the way out
    r = runner.invoke(cli, [*args, "index"])
    assert r.exit_code == 2 and "--rebuild" in r.output and "corpus.jsonl" in r.output
    assert sorted(Manifest.load(tmp_path / "index" / MANIFEST).documents) == ["7", "bridge", "lighthouse"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "text": "fine"}\n{"text": "no id"}\n', encoding="utf-8")
    r = runner.invoke(cli, [*args, "index", "--source", str(bad)])
    assert r.exit_code == 2 and "bad.jsonl" in r.output and "--rebuild" in r.output
    # a bad line half-way through a rebuild: clear error, the previous index stays live and whole
    r = runner.invoke(cli, [*args, "index", "--source", str(bad), "--rebuild"])
    assert r.exit_code == 2 and "bad.jsonl:2" in r.output
    assert not (tmp_path / "index" / "manifest.staging.json").exists()
    assert sorted(Manifest.load(tmp_path / "index" / MANIFEST).documents) == ["7", "bridge", "lighthouse"]


def test_a_foreign_folder_gets_no_lock_file_either(tmp_path, seeds_copy):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "cat.jpg").write_bytes(b"\xff\xd8\xff")
    with pytest.raises(IndexUnusable, match="holds no qa manifest"):
        make_store(folder).sync(load_documents(seeds_copy).documents)
    assert sorted(p.name for p in folder.iterdir()) == ["cat.jpg"]


def test_a_running_engine_follows_an_index_replaced_by_another_writer(tmp_path, seeds_copy, hash_embedder):
    """`qa serve` keeps answering when `qa index` runs in another shell and drops the old generation."""
    from qa.answer import ExtractiveAnswerer

    cfg = Config.resolve(seeds_dir=seeds_copy, index_dir=tmp_path / "index")
    server = QA(config=cfg, embedder=hash_embedder, answerer=ExtractiveAnswerer())
    before = server.ask("Who was sworn in as interim president?")
    old_generation = server.store.manifest.generation
    (seeds_copy / "zz_new.txt").write_text(
        "Lighthouse keepers in Port Ellen reported that the harbour pilot Ignacio Valdés guided the ferry in.\n",
        encoding="utf-8",
    )
    edit_one(seeds_copy)  # an edit: a new generation replaces the one the server has open
    writer = QA(config=cfg, embedder=HashEmbedder(), answerer=ExtractiveAnswerer())
    report = writer.index()
    writer.store.drop_retired()  # what `qa index` does at exit: the server's generation is gone now
    assert report.changed and writer.store.manifest.generation != old_generation
    again = server.ask("Who was sworn in as interim president?")
    assert server.store.manifest.generation == writer.store.manifest.generation
    assert again.citations[0].quote == before.citations[0].quote
    new = server.ask("Which harbour pilot guided the ferry into Port Ellen?")
    assert any(c.doc_id == "zz_new.txt" for c in new.citations)


# --- scale: batched reads, BM25 at index time, no per-question count (issue 5) ---------------------


def _record_gets(monkeypatch) -> list:
    """Record the ids argument of every Chroma Collection.get (None: the whole collection)."""
    from chromadb.api.models.Collection import Collection

    calls: list = []
    real = Collection.get

    def get(self, ids=None, *args, **kwargs):
        calls.append((self.name, None if ids is None else len(ids if isinstance(ids, list) else [ids])))
        return real(self, ids, *args, **kwargs)

    monkeypatch.setattr(Collection, "get", get)
    return calls


def _ranking(bm, question: str) -> dict[str, float]:
    """Every chunk's score (the store's BM25 and llama-index's BM25Retriever both take a string)."""
    bm.similarity_top_k = len(bm.corpus)
    return {n.node.node_id: round(float(n.score), 6) for n in bm.retrieve(question)}


def test_bm25_reads_the_collection_in_batches_and_matches_a_one_shot_build(tmp_path, seeds_copy, monkeypatch):
    """Past ~32k rows one Chroma get fails ("too many SQL variables"): no whole-collection get, ever.

    Indexing 33k chunks to hit the real limit takes ~30 s here, so the batch is made tiny instead.
    """
    from llama_index.retrievers.bm25 import BM25Retriever
    from llama_index.vector_stores.chroma import ChromaVectorStore

    monkeypatch.setattr("qa.store.records.READ_BATCH", 3)
    calls = _record_gets(monkeypatch)
    index = tmp_path / "index"
    store = make_store(index)
    store.sync(load_documents(seeds_copy).documents)
    (seeds_copy / "new.md").write_text("# Extra\n\nThe harbour master resigned on Tuesday.\n", encoding="utf-8")
    store.sync(load_documents(seeds_copy).documents)  # appended in place; BM25 rebuilt in the background
    assert store.wait_bm25(60)
    shutil.rmtree(index / "bm25")
    fresh = make_store(index)
    fresh.open()
    batched = fresh.bm25()  # missing on disk: rebuilt, in batches
    n = fresh.count()
    assert n > 3 and len(batched.corpus) == n
    chunk_reads = [k for name, k in calls if name == fresh.chunks_collection.name]
    assert None not in [k for _, k in calls]  # never the whole collection in one get
    assert len(chunk_reads) >= 2 * -(-n // 3) and max(chunk_reads) <= 3  # the sync's build and this one, 3 ids each
    monkeypatch.undo()
    once = BM25Retriever.from_defaults(nodes=ChromaVectorStore(chroma_collection=fresh.chunks_collection.raw).get_nodes(node_ids=None))
    for q in ("Who was sworn in as interim president?", "harbour master", "oil reserves"):
        assert _ranking(batched, q) == _ranking(once, q)


def test_sync_builds_bm25_and_opening_never_rebuilds_it(tmp_path, seeds_copy, monkeypatch):
    index = tmp_path / "index"
    store = make_store(index)
    store.sync(load_documents(seeds_copy).documents)
    m = Manifest.load(index / MANIFEST)
    assert (index / "bm25" / "retriever.json").exists()
    assert (index / "bm25" / BM25_KEY_FILE).read_text() == m.corpus_key()
    assert not [p for p in index.iterdir() if p.name.startswith("bm25.tmp-")]
    assert store._bm25 is not None and len(store.bm25().corpus) == store.count()  # kept in memory, too

    def no_rebuild(*a, **k):
        raise AssertionError("BM25 rebuilt on open")

    monkeypatch.setattr(IndexStore, "_build_bm25", no_rebuild)
    fresh = make_store(index)
    fresh.open()
    assert len(fresh.bm25().corpus) == store.count()
    engine = QA(config=Config.resolve(seeds_dir=tmp_path / "no-seeds", index_dir=index), embedder=HashEmbedder())
    assert engine.retrieve("Who was sworn in as interim president?")
    monkeypatch.undo()

    # an edit: the new generation's BM25 is committed with it
    (seeds_copy / "new.md").write_text("# Extra\n\nThe harbour master resigned on Tuesday.\n", encoding="utf-8")
    edit_one(seeds_copy)
    store.sync(load_documents(seeds_copy).documents)
    m2 = Manifest.load(index / MANIFEST)
    assert (index / "bm25" / BM25_KEY_FILE).read_text() == m2.corpus_key() != m.corpus_key()
    assert len(store.bm25().corpus) == store.count() == len(m2.chunk_ids())

    # an index from before BM25 was built at index time gets it from the next `qa index`, even with no change
    shutil.rmtree(index / "bm25")
    assert not make_store(index).sync(load_documents(seeds_copy).documents).changed
    assert (index / "bm25" / BM25_KEY_FILE).read_text() == m2.corpus_key()


def test_a_crash_while_building_bm25_leaves_no_scratch_for_long(tmp_path, seeds_copy, monkeypatch):
    index = tmp_path / "index"
    make_store(index).sync(load_documents(seeds_copy).documents)
    before = (index / "bm25" / BM25_KEY_FILE).read_text()
    (seeds_copy / "new.md").write_text("# Extra\n\nA new document.\n", encoding="utf-8")
    edit_one(seeds_copy)
    monkeypatch.setattr("qa.store.generations.checkpoint", lambda at: (_ for _ in ()).throw(_Killed()) if at == "switch" else None)
    with pytest.raises(_Killed):
        make_store(index).sync(load_documents(seeds_copy).documents)
    monkeypatch.undo()
    scratch = [p for p in index.iterdir() if p.name.startswith("bm25.tmp-")]
    assert len(scratch) == 1 and (index / "bm25" / BM25_KEY_FILE).read_text() == before  # live BM25 untouched
    dead = index / "bm25.tmp-999999999-dead"  # as a killed process would leave it
    scratch[0].rename(dead)
    make_store(index).open()  # the reader clears the crashed run's leftovers
    assert not dead.exists()


def test_sentence_retriever_does_not_count_the_collection_per_question(tmp_path, seeds_copy, hash_embedder):
    from qa.answer import ExtractiveAnswerer

    engine = QA(config=Config.resolve(seeds_dir=seeds_copy, index_dir=tmp_path / "index"), embedder=hash_embedder,
                answerer=ExtractiveAnswerer())
    engine.ask("Who was sworn in as interim president?")
    sentences = engine._retriever.sentences
    counts = []

    class Counting:
        def __init__(self, inner):
            self.inner = inner

        def count(self):
            counts.append(1)
            return self.inner.count()

        def __getattr__(self, name):
            return getattr(self.inner, name)

    sentences.sentences = Counting(sentences.sentences)
    sentences._count = None  # as freshly built
    for q in ("Where did the firefights break out?", "Who was sworn in?", "What about oil reserves?"):
        engine.ask(q)
    assert len(counts) <= 1
    # a sync that changes the index gives the engine a new retriever, which reads the new size
    (seeds_copy / "new.md").write_text("# Extra\n\nThe harbour master resigned on Tuesday.\n", encoding="utf-8")
    engine.index()
    fresh = engine._retriever.sentences
    assert fresh is not sentences and fresh._size() == engine.store.sentences_collection.count()
