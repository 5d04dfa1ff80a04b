"""Documents a user owns (issue 14): list, add, replace, delete, through the Python API
(``QA.documents``), with real Chroma, in temporary folders (the seeds folder is a copy, checked
unchanged). REST and CLI: tests/test_documents_http.py.

The hashing embedder and the extractive answerer without the trained reader keep these fast; the
questions repeat the new document's words, so its sentence is the best match.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from qa import QA
from qa.answer import ExtractiveAnswerer
from qa.config import Config
from qa.documents import DocumentInfo, SeedDocument, TooLarge, UnknownDocument, UnsupportedType
from qa.store.change import sentence_counts

from tests.fakes import HashEmbedder
from tests.test_store_contract import _Killed, kill_at

SEED = "001_08e073e419b132d4.txt"
NAME = "harbour-notes.md"
TEXT = (b"# Harbour notes\n\nThe harbour master Zorblax Quendry opened the new lighthouse on Tuesday. "
        b"Fishermen said the beacon could be seen from the far side of the bay.\n")
QUESTION = "Who opened the new lighthouse on Tuesday?"
NEWER = TEXT.replace(b"Zorblax Quendry", b"Mirta Olavide")


def make_engine(seeds: Path, tmp: Path) -> QA:
    cfg = Config.resolve(seeds_dir=seeds, documents_dir=tmp / "documents", index_dir=tmp / "index")
    return QA(config=cfg, embedder=HashEmbedder(), answerer=ExtractiveAnswerer())


def tree_digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def engine(seeds_copy, tmp_path):
    before = tree_digest(seeds_copy)
    engine = make_engine(seeds_copy, tmp_path)
    yield engine
    engine.store.close(timeout=30)
    assert tree_digest(seeds_copy) == before  # nothing ever written to or removed from the seeds


def cited(engine: QA, question: str = QUESTION) -> set[str]:
    a = engine.ask(question)
    return {c.doc_id for c in a.citations}


def rows_of(engine: QA, doc_id: str, chunk_ids: list[str]) -> tuple[int, int, set[str]]:
    """(chunk rows, sentence rows, BM25 hits) of ``doc_id`` left in the store."""
    store = engine.store
    assert store.wait_bm25(60)
    bm25 = {n.node.metadata.get("doc_id") for n in store.bm25().retrieve("harbour master Zorblax Quendry lighthouse")}
    return len(store.chunks_collection.get(ids=chunk_ids).ids), sum(sentence_counts(store.sentences_collection, doc_id).values()), bm25


def test_list_shows_the_seeds_with_their_source_size_and_chunks(engine, seeds_copy):
    docs = engine.documents.list()
    assert [d.doc_id for d in docs] == sorted(p.name for p in seeds_copy.iterdir())
    d = next(d for d in docs if d.doc_id == SEED)
    assert isinstance(d, DocumentInfo) and d.source == "seeds" and d.file_name == SEED
    assert d.size == (seeds_copy / SEED).stat().st_size and d.chunks > 0 and d.title
    assert d.to_dict()["source"] == "seeds"


def test_add_then_the_answer_cites_it_then_delete_removes_every_trace(engine, tmp_path):
    added = engine.documents.add(NAME, TEXT)
    assert added.created and added.chunks >= 1 and (tmp_path / "documents" / NAME).read_bytes() == TEXT
    assert NAME in cited(engine)
    info = engine.documents.get(NAME)
    assert info.source == "documents" and info.size == len(TEXT)
    chunk_ids = engine.store.manifest.documents[NAME]["chunks"]
    assert rows_of(engine, NAME, chunk_ids)[:2] != (0, 0)

    gone = engine.documents.delete(NAME)
    assert gone.deleted and gone.report.removed == (NAME,)
    assert NAME not in cited(engine) and NAME not in [d.doc_id for d in engine.documents.list()]
    chunks, sentences, bm25 = rows_of(engine, NAME, chunk_ids)
    assert (chunks, sentences) == (0, 0) and NAME not in bm25
    assert list((tmp_path / "documents").iterdir()) == []  # no file, no hidden leftover
    # a new engine over the same folders (a restart) agrees
    again = make_engine(engine.config.seeds_dir, tmp_path)
    assert NAME not in cited(again)


def test_the_same_name_again_replaces_the_contents(engine, tmp_path):
    engine.documents.add(NAME, TEXT)
    old_chunks = engine.store.manifest.documents[NAME]["chunks"]
    assert engine.documents.add(NAME, TEXT).created is False  # the same bytes: nothing to do
    swapped = engine.documents.add(NAME, NEWER)
    assert swapped.replaced and swapped.report.updated == (NAME,)
    assert (tmp_path / "documents" / NAME).read_bytes() == NEWER
    assert engine.ask(QUESTION).short_answer == "Mirta Olavide"
    assert engine.store.chunks_collection.get(ids=old_chunks).ids == []
    again = engine.documents.replace(NAME, "whatever.md", TEXT)
    assert again.replaced and engine.ask(QUESTION).short_answer == "Zorblax Quendry"
    assert sorted(p.name for p in (tmp_path / "documents").iterdir()) == [NAME]


def test_seeds_are_never_deleted_or_replaced(engine, seeds_copy):
    with pytest.raises(SeedDocument, match="seed"):
        engine.documents.delete(SEED)
    with pytest.raises(SeedDocument, match="seed"):
        engine.documents.add(SEED, b"Another text under the seed's name.\n")
    with pytest.raises(SeedDocument):
        engine.documents.replace(SEED, SEED, b"Another text.\n")
    assert SEED in [d.doc_id for d in engine.documents.list()]


@pytest.mark.parametrize("doc_id", ["nope.md", "../seeds/" + SEED, "/etc/passwd", ""])
def test_unknown_ids_change_nothing(engine, doc_id):
    before = [d.to_dict() for d in engine.documents.list()]
    with pytest.raises(UnknownDocument):
        engine.documents.delete(doc_id)
    assert [d.to_dict() for d in engine.documents.list()] == before


def test_bad_files_are_refused_by_kind(engine, tmp_path):
    with pytest.raises(UnsupportedType, match=r"\.exe"):
        engine.documents.add("tool.exe", b"MZ...")
    with pytest.raises(TooLarge, match="limit"):
        engine.documents.add("big.md", b"x" * (2 * 1024 * 1024 + 1))
    assert not (tmp_path / "documents").exists() or list((tmp_path / "documents").iterdir()) == []


def test_a_name_taken_by_a_link_out_of_the_folder_is_refused_and_nothing_is_written_through_it(engine, tmp_path):
    """An upload whose name is a hand-made link in documents/ to a file elsewhere got "no document
    'trap.txt' in this collection" (404) on a POST; it now says what is in the way."""
    from qa.uploads import InvalidDocument

    outside = tmp_path / "outside.txt"
    outside.write_text("Private notes.\n", encoding="utf-8")
    docs = engine.documents.documents_dir
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "trap.txt").symlink_to(outside)
    with pytest.raises(InvalidDocument, match="link of this name pointing out of the folder"):
        engine.documents.add("trap.txt", b"New text.\n")
    assert outside.read_text(encoding="utf-8") == "Private notes.\n" and (docs / "trap.txt").is_symlink()


def test_an_error_while_deleting_puts_the_file_back(engine, tmp_path, monkeypatch):
    engine.documents.add(NAME, TEXT)

    def broken(*a, **k):
        raise RuntimeError("the store went away")

    monkeypatch.setattr(engine.store, "remove_documents", broken)
    with pytest.raises(RuntimeError):
        engine.documents.delete(NAME)
    monkeypatch.undo()
    assert sorted(p.name for p in (tmp_path / "documents").iterdir()) == [NAME]
    assert NAME in cited(engine)


@pytest.mark.parametrize("point", ["change-intent", "change-switch", "change-committed"])
def test_a_crash_mid_delete_never_leaves_an_answer_from_a_half_deleted_document(engine, tmp_path, monkeypatch, point):
    engine.documents.add(NAME, TEXT)
    kill_at(monkeypatch, point)
    with pytest.raises(_Killed):
        engine.documents.delete(NAME)
    monkeypatch.undo()
    engine.store.close(timeout=30)
    # the next start syncs the folders: the file is gone (renamed to a hidden name), so is the document
    again = make_engine(engine.config.seeds_dir, tmp_path)
    assert NAME not in cited(again) and NAME not in [d.doc_id for d in again.documents.list()]
    m = again.store.manifest
    assert again.store.count() == len(m.chunk_ids())


@pytest.mark.parametrize("point,new", [("change-intent", True), ("change-switch", True), ("change-committed", True)])
def test_a_crash_mid_replace_keeps_one_version(engine, tmp_path, monkeypatch, point, new):
    engine.documents.add(NAME, TEXT)
    kill_at(monkeypatch, point)
    with pytest.raises(_Killed):
        engine.documents.add(NAME, NEWER)
    monkeypatch.undo()
    engine.store.close(timeout=30)
    again = make_engine(engine.config.seeds_dir, tmp_path)
    # the file was changed first: the next start indexes the new version (never neither)
    assert again.ask(QUESTION).short_answer == ("Mirta Olavide" if new else "Zorblax Quendry")
    assert again.store.count() == len(again.store.manifest.chunk_ids())


def test_what_a_crashed_change_held_aside_is_removed_once_old(engine, tmp_path):
    engine.documents.add(NAME, TEXT)
    folder = tmp_path / "documents"
    old, recent = folder / ".qa-aside-1000-abcd-x.md", folder / f".qa-aside-{int(__import__('time').time())}-abcd-y.md"
    old.write_bytes(b"x"), recent.write_bytes(b"y")
    engine.documents.delete(NAME)
    assert not old.exists() and recent.exists()  # a recent one may belong to a change under way elsewhere


def test_another_engine_on_the_same_folders_follows_a_delete(engine, tmp_path):
    """A second engine (another server worker) reopens when the manifest changes: it stops citing a
    deleted document at once, without a restart."""
    engine.documents.add(NAME, TEXT)
    other = make_engine(engine.config.seeds_dir, tmp_path)
    assert NAME in cited(other)
    engine.documents.delete(NAME)
    assert NAME not in cited(other)
    other.store.close(timeout=30)


def test_questions_during_adds_and_deletes_never_fail(engine):
    """Questions asked while the document comes and goes (its rows deleted under a question already
    reading them) always get an answer: a missing row is left out, never an error."""
    import threading

    SEEDS_LISTED = engine.documents.list()

    errors: list[BaseException] = []
    stop = threading.Event()
    asked = [0]

    def ask_loop() -> None:
        while not stop.is_set():
            try:
                a = engine.ask(QUESTION)
                assert {c.doc_id for c in a.citations} <= {NAME} | {d.doc_id for d in SEEDS_LISTED}
                asked[0] += 1
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)
                return

    engine.ask(QUESTION)  # the index opened and BM25 loaded before the race starts
    t = threading.Thread(target=ask_loop)
    t.start()
    try:
        rounds = 0
        while rounds < 3 or (asked[0] < 5 and rounds < 30 and not errors):  # a busy machine: enough questions overlap
            engine.documents.add(NAME, TEXT)
            engine.documents.add(NAME, NEWER)
            engine.documents.delete(NAME)
            rounds += 1
    finally:
        stop.set()
        t.join(60)
    assert not errors, errors[0]
    assert asked[0] > 0 and NAME not in cited(engine)


def test_add_document_and_the_library_share_one_path(engine, tmp_path):
    """``QA.add_document`` is the library's add that refuses instead of replacing: the same checks,
    the same in-place change of the index, and a file of the same bytes dropped in by hand (not yet
    indexed) gets indexed rather than reported as already there."""
    from qa.uploads import InvalidDocument

    engine.ask(QUESTION)  # the index exists, without the file
    (tmp_path / "documents").mkdir()
    (tmp_path / "documents" / NAME).write_bytes(TEXT)
    added = engine.add_document(NAME, TEXT)
    assert not added.created and added.report.added == (NAME,) and added.title == "Harbour notes" and added.chunks == 1
    assert NAME in cited(engine)
    with pytest.raises(InvalidDocument, match="a different document with this name is already in the collection"):
        engine.add_document(NAME, NEWER)
    assert engine.documents.add(NAME, NEWER).replaced  # the library replaces
    steps: list[tuple[int, int]] = []
    new = engine.add_document("more.md", b"# More\n\nThe ferry leaves at noon.\n", progress=lambda d, t: steps.append((d, t)))
    assert new.created and new.report.appended and steps[0] == (0, new.chunks) and steps[-1] == (new.chunks, new.chunks)


def test_a_llama_index_retriever_follows_uploads_and_refuses_what_ask_refuses(engine):
    """``as_retriever()`` made before an upload finds the new document (it reads the engine's current
    retriever), and an empty or missing question is refused as ``ask`` refuses it."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from llama_index.core.schema import QueryBundle

    from qa.guards import InvalidQuestion

    retriever = engine.as_retriever()
    assert NAME not in {n.node.metadata["doc_id"] for n in retriever.retrieve(QUESTION)}
    engine.documents.add(NAME, TEXT)
    assert NAME in {n.node.metadata["doc_id"] for n in retriever.retrieve(QUESTION)}
    with ThreadPoolExecutor(1) as pool:  # a loop of its own: another test may leave one running in this thread
        nodes = pool.submit(asyncio.run, retriever.aretrieve(QueryBundle(QUESTION))).result()
    assert NAME in {n.node.metadata["doc_id"] for n in nodes}
    for bad in ("", "   ", None, 5, QueryBundle("")):
        with pytest.raises(InvalidQuestion):
            retriever.retrieve(bad)
