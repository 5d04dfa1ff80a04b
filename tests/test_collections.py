"""Named collections (issue 14): each its own documents folder and index, engines built lazily and
cached, names checked, the default collection keeping today's layout. Python API here; REST and CLI
in tests/test_documents_http.py. Real Chroma, hashing embedder, temporary folders.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qa.collections import DEFAULT, Collections, InvalidCollection, UnknownCollection, check_name

from tests.test_documents import NAME, QUESTION, TEXT, cited, make_engine, tree_digest


@pytest.fixture
def shelf(seeds_copy, tmp_path):
    before = tree_digest(seeds_copy)
    engine = make_engine(seeds_copy, tmp_path)
    shelf = Collections.of(engine)
    yield shelf
    shelf.close()
    engine.store.close(timeout=30)
    assert tree_digest(seeds_copy) == before


@pytest.mark.parametrize("name", ["a", "contracts-2024", "x_y", "0"])
def test_safe_names_pass(name):
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "A", "../x", ".hidden", "-x", "a/b", "a b", "x" * 41, None, "é"])
def test_unsafe_names_are_refused(name):
    with pytest.raises(InvalidCollection):
        check_name(name)


def test_a_named_collection_has_its_own_folder_index_and_engine(shelf, tmp_path):
    assert shelf.names() == [DEFAULT]
    info = shelf.create("contracts")
    assert Path(info.documents_dir) == tmp_path / "documents" / ".collections" / "contracts"
    assert Path(info.index_dir) == tmp_path / "index" / "collections" / "contracts"
    assert shelf.names() == [DEFAULT, "contracts"]
    contracts = shelf.get("contracts")
    assert shelf.get("contracts") is contracts and shelf.get(DEFAULT) is shelf.get()  # cached
    assert contracts.documents.list() == []  # empty until the first document
    contracts.documents.add(NAME, TEXT)
    assert NAME in cited(contracts)
    assert [d.source for d in contracts.documents.list()] == ["documents"]
    # the default collection (seeds + documents_dir) does not see it, and the index is apart
    default = shelf.get()
    assert NAME not in cited(default) and NAME not in [d.doc_id for d in default.documents.list()]
    assert (tmp_path / "index" / "collections" / "contracts" / "manifest.json").exists()
    # a restart (a new registry, new engines) finds the collection and its document
    again = Collections.of(make_engine(default.config.seeds_dir, tmp_path))
    assert again.names() == [DEFAULT, "contracts"] and NAME in cited(again.get("contracts"))
    again.close()


def test_a_default_index_can_be_built_beside_the_collections(shelf, tmp_path):
    """index_dir/collections exists before the default index: the default index is still built there."""
    shelf.create("notes")
    shelf.get("notes").documents.add(NAME, TEXT)
    shelf.get().store.close(timeout=30)
    for p in (tmp_path / "index").iterdir():  # the default index gone, the collection's kept
        if p.name != "collections":
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    rebuilt = make_engine(shelf.config.seeds_dir, tmp_path)
    assert rebuilt.documents.list()
    assert NAME in cited(Collections.of(rebuilt).get("notes"))


def test_unknown_and_default_collections(shelf):
    with pytest.raises(UnknownCollection):
        shelf.get("nope")
    with pytest.raises(InvalidCollection):
        shelf.create(DEFAULT)
    with pytest.raises(InvalidCollection):
        shelf.delete(DEFAULT)
    shelf.create("twice")
    with pytest.raises(InvalidCollection, match="exists"):
        shelf.create("twice")


def test_deleting_a_collection_removes_its_folders(shelf, tmp_path):
    shelf.create("gone")
    shelf.get("gone").documents.add(NAME, TEXT)
    shelf.delete("gone")
    assert shelf.names() == [DEFAULT]
    assert [p.name for p in (tmp_path / "documents" / ".collections").iterdir()] == []
    assert [p.name for p in (tmp_path / "index" / "collections").iterdir()] == []
    with pytest.raises(UnknownCollection):
        shelf.get("gone")
    # the name can be used again, empty
    shelf.create("gone")
    assert shelf.get("gone").documents.list() == []
    shelf.get("gone").documents.add(NAME, TEXT)
    assert shelf.get("gone").ask(QUESTION).short_answer == "Zorblax Quendry"


def test_an_engine_kept_from_a_deleted_collection_no_longer_answers(shelf):
    """Whoever still holds a deleted collection's engine (a request under way, a Python caller) gets
    an error saying so: it must not answer, list or take uploads from what it kept in memory."""
    shelf.create("gone")
    kept = shelf.get("gone")
    kept.documents.add(NAME, TEXT)
    assert kept.ask(QUESTION).short_answer == "Zorblax Quendry"
    shelf.delete("gone")
    for call in (lambda: kept.ask(QUESTION), lambda: kept.documents.list(), lambda: kept.documents.add("b.md", b"# B\nText.")):
        with pytest.raises(UnknownCollection, match="collection 'gone' was deleted"):
            call()
    assert shelf.names() == [DEFAULT]  # the upload did not bring the collection back


def test_a_collection_deleted_by_another_process_is_gone_here_too(shelf, tmp_path):
    """A server's registry caches engines; `qa collections delete` in another shell deletes the
    folders under it. The next request for the collection is refused, not answered from memory."""
    shelf.create("gone")
    kept = shelf.get("gone")
    kept.documents.add(NAME, TEXT)
    elsewhere = Collections(shelf.config)  # another process's registry: same folders, its own engines
    elsewhere.delete("gone")
    with pytest.raises(UnknownCollection):
        shelf.get("gone")
    with pytest.raises(UnknownCollection, match="was deleted"):
        kept.ask(QUESTION)
    shelf.create("gone")  # the name can be used again, empty
    assert shelf.get("gone") is not kept and shelf.get("gone").documents.list() == []
