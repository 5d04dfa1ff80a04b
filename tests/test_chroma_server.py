"""Server mode: the vectors in a real Chroma server (`chroma run`), manifest and BM25 in index_dir.

A module fixture starts ``chroma run --path TMP --host 127.0.0.1 --port N`` (the ``chroma`` binary
installed next to this Python) on a free loopback port, waits for its heartbeat and stops it at the
end. Everything else is the real engine: real model, real Chroma. Answers are read with the
rules-based ``ExtractiveAnswerer`` on both sides (the store is under test, not the answerer).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from qa import QA
from qa.answer import ExtractiveAnswerer
from qa.cli import main as cli
from qa.config import Config
from qa.ingest import load_documents
from qa.store import MANIFEST, IndexStore, Manifest

from tests.conftest import SEEDS
from tests.fakes import HashEmbedder

pytestmark = pytest.mark.integration

QUESTION = "Who was sworn in as interim president?"
SOURCE = "001_08e073e419b132d4.txt"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory):
    """URL of a real Chroma server on a free loopback port, stopped after the module."""
    binary = Path(sys.executable).parent / "chroma"
    if not binary.exists():
        binary = Path(shutil.which("chroma") or binary)
    data = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    log = open(data.parent / f"chroma-server-{port}.log", "wb")
    proc = subprocess.Popen(
        [str(binary), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"chroma run exited with {proc.returncode}: {Path(log.name).read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("chroma run did not answer its heartbeat within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def server_collections(url: str) -> set[str]:
    from qa.store import open_chroma

    return {c.name for c in open_chroma(Path("unused"), url).list_collections()}


def comparable(answer) -> dict:
    d = answer.to_dict()
    d.pop("timings", None)
    return d


def engine_on(url: str, seeds: Path, index: Path, embedder, **kw) -> QA:
    return QA(config=Config.resolve(seeds_dir=seeds, index_dir=index, chroma_url=url), embedder=embedder,
              answerer=ExtractiveAnswerer(), **kw)


def test_server_index_answers_exactly_like_the_embedded_store(chroma_server, seed_engine, tmp_path):
    index = tmp_path / "index"
    engine = engine_on(chroma_server, SEEDS, index, seed_engine.embedder.inner)
    report = engine.index()
    assert len(report.added) == 5
    a = engine.ask(QUESTION)
    assert a.short_answer == "Delcy Rodríguez" and a.citations[0].doc_id == SOURCE
    embedded = QA(config=seed_engine.config, embedder=seed_engine.embedder.inner, answerer=ExtractiveAnswerer(), auto_index=False)
    assert comparable(a) == comparable(embedded.ask(QUESTION))
    # vectors live in the server; only the manifest and BM25 in index_dir
    assert not (index / "chroma").exists() and (index / MANIFEST).exists() and (index / "bm25").is_dir()
    m = Manifest.load(index / MANIFEST)
    assert set(m.names()) <= server_collections(chroma_server)
    # reopening (a new process would do the same): no re-embedding, same answer
    again = engine_on(chroma_server, SEEDS, index, seed_engine.embedder.inner, auto_index=False)
    assert comparable(again.ask(QUESTION)) == comparable(a)
    assert not engine_on(chroma_server, SEEDS, index, seed_engine.embedder.inner).index().changed


def test_incremental_resync_adds_and_removes_documents_on_the_server(chroma_server, seed_engine, tmp_path, seeds_copy):
    index = tmp_path / "index"
    engine = engine_on(chroma_server, seeds_copy, index, seed_engine.embedder.inner)
    engine.index()
    first = Manifest.load(index / MANIFEST)
    (seeds_copy / "harbour.md").write_text(
        "# Harbour report\n\nThe harbour master of Puerto Cabello is Ignacio Valdés, appointed in March.\n", encoding="utf-8")
    (seeds_copy / "000_9b8c8bf65a001266.txt").unlink()
    report = engine.index()
    assert report.added == ("harbour.md",) and report.removed == ("000_9b8c8bf65a001266.txt",)
    assert report.chunks_copied == sum(len(d["chunks"]) for k, d in first.documents.items() if k != "000_9b8c8bf65a001266.txt")
    a = engine.ask("Who is the harbour master of Puerto Cabello?")
    assert a.short_answer == "Ignacio Valdés" and a.citations[0].doc_id == "harbour.md"
    assert "000_9b8c8bf65a001266.txt" not in engine.stats()["titles"]
    b = engine.ask(QUESTION)
    assert b.short_answer == "Delcy Rodríguez" and b.citations[0].doc_id == SOURCE
    # the replaced generation goes once no question can still be reading it
    engine.store.drop_retired()
    live = Manifest.load(index / MANIFEST)
    ours = {n for n in server_collections(chroma_server) if n.startswith(live.prefix())}
    assert ours == set(live.names())


def test_two_indexes_on_one_server_do_not_clash(chroma_server, tmp_path):
    docs = load_documents(SEEDS).documents
    chunking = {"chunk_words": 110, "chunk_overlap": 0, "version": 1}
    a = IndexStore(tmp_path / "a", HashEmbedder(), chunking, chroma_url=chroma_server)
    b = IndexStore(tmp_path / "b", HashEmbedder(), chunking, chroma_url=chroma_server)
    a.sync(docs[:2])
    b.sync(docs[2:])
    assert sorted(a.open().documents) == sorted(d.doc_id for d in docs[:2])
    assert sorted(b.open().documents) == sorted(d.doc_id for d in docs[2:])
    assert a.count() + b.count() == IndexStore(tmp_path / "c", HashEmbedder(), chunking, chroma_url=chroma_server).sync(docs).chunks_added
    # rebuilding one index leaves the other's collections alone
    a.sync(docs[:2], rebuild=True)
    a.drop_retired()
    assert set(b.manifest.names()) <= server_collections(chroma_server)
    assert b.count() == len(b.manifest.chunk_ids())


def test_cli_index_and_ask_with_qa_chroma_url(chroma_server, tmp_path, monkeypatch):
    monkeypatch.setenv("QA_CHROMA_URL", chroma_server)
    monkeypatch.setenv("QA_READER", "rules")  # the rules-based answerer, as in the other tests here
    runner = CliRunner()
    args = ["--seeds", str(SEEDS), "--index", str(tmp_path / "index")]
    r = runner.invoke(cli, [*args, "index", "--quiet"])
    assert r.exit_code == 0, r.output
    assert "chunks/s" in r.output and f"vectors on {chroma_server}" in r.output
    r = runner.invoke(cli, [*args, "ask", "--json", QUESTION])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["short_answer"] == "Delcy Rodríguez" and out["citations"][0]["doc_id"] == SOURCE


class _Killed(BaseException):
    """Stands in for SIGKILL (tests/test_crash.py kills real processes; this checks the server side)."""


def test_a_crashed_run_on_the_server_is_cleaned_up_and_other_indexes_are_untouched(chroma_server, tmp_path, seeds_copy, monkeypatch):
    chunking = {"chunk_words": 110, "chunk_overlap": 0, "version": 1}

    def store(name: str) -> IndexStore:
        return IndexStore(tmp_path / name, HashEmbedder(), chunking, chroma_url=chroma_server)

    docs = load_documents(seeds_copy).documents
    store("other").sync(docs[:1])
    neighbour = Manifest.load(tmp_path / "other" / MANIFEST)
    store("mine").sync(docs)
    before = Manifest.load(tmp_path / "mine" / MANIFEST)
    (seeds_copy / "new.md").write_text("# New\n\nA new document about the harbour.\n", encoding="utf-8")
    (seeds_copy / "000_9b8c8bf65a001266.txt").unlink()  # a removal: the run writes a new generation
    monkeypatch.setattr("qa.store.generations.checkpoint", lambda at: (_ for _ in ()).throw(_Killed()) if at == "switch" else None)
    with pytest.raises(_Killed):
        store("mine").sync(load_documents(seeds_copy).documents)
    monkeypatch.undo()
    # the dead run's generation sits on the server; the live one is intact and still the one named
    assert Manifest.load(tmp_path / "mine" / MANIFEST).generation == before.generation
    ours = {n for n in server_collections(chroma_server) if n.startswith(before.prefix())}
    assert len(ours) == 4 and set(before.names()) < ours
    reader = store("mine")
    reader.open()  # a reader finding no writer busy clears the leftovers
    assert reader.count() == len(before.chunk_ids())
    assert {n for n in server_collections(chroma_server) if n.startswith(before.prefix())} == set(before.names())
    assert set(neighbour.names()) <= server_collections(chroma_server)
    assert store("mine").sync(load_documents(seeds_copy).documents).added == ("new.md",)


@pytest.mark.crash
def test_an_append_on_the_server_killed_before_its_commit_is_undone(chroma_server, tmp_path, seeds_copy, monkeypatch):
    """Added documents go into the live collections on the server in place; killed before the
    commit, a reader removes them again and the next run adds them."""
    chunking = {"chunk_words": 110, "chunk_overlap": 0, "version": 1}

    def store() -> IndexStore:
        return IndexStore(tmp_path / "index", HashEmbedder(), chunking, chroma_url=chroma_server)

    store().sync(load_documents(seeds_copy).documents)
    before = Manifest.load(tmp_path / "index" / MANIFEST)
    (seeds_copy / "new.md").write_text("# New\n\nA new document about the harbour.\n", encoding="utf-8")
    monkeypatch.setattr("qa.store.generations.checkpoint", lambda at: (_ for _ in ()).throw(_Killed()) if at == "append-switch" else None)
    with pytest.raises(_Killed):
        store().sync(load_documents(seeds_copy).documents)
    monkeypatch.undo()
    live = {n for n in server_collections(chroma_server) if n.startswith(before.prefix())}
    assert live == set(before.names())  # no generation: the same collections, with uncommitted rows
    reader = store()
    reader.open()
    assert reader.count() == len(before.chunk_ids()) and not (tmp_path / "index" / "append.json").exists()
    report = store().sync(load_documents(seeds_copy).documents)
    assert report.appended and report.added == ("new.md",)
    after = Manifest.load(tmp_path / "index" / MANIFEST)
    assert after.generation == before.generation and store().open() and reader.count() == len(after.chunk_ids())
