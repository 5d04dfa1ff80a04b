"""Hostile files: links and special files in the documents folder, a binary ``--source`` corpus,
a damaged Chroma store and a lost manifest.

Real files, real links (``os.symlink``), real FIFOs (``os.mkfifo``), a real socket, ``/dev/zero``,
real Chroma stores damaged on disk, and the real ``qa`` command in a subprocess wherever the
command itself is what must behave (no hang, one ``error:`` line, the documented way out working).

* Documents folder: only regular files inside the folder (links resolved) are read; a link out of
  it is skipped and named, a FIFO/device/socket is never opened, a link loop never hangs, and reads
  stop at the size limit whatever ``st_size`` says.
* ``qa index --source FILE`` on a binary or compressed file: one ``error: FILE:LINE: ...`` line,
  exit status 2, the index exactly as before.
* A damaged ``chroma.sqlite3`` (random bytes; cut to half its size): ``qa index --rebuild`` moves
  the store aside into ``index/damaged-<time>/``, says where, and rebuilds; ``qa ask`` then answers.
* ``manifest.json`` deleted: ``qa index --rebuild`` rebuilds, drops the unreachable collections, and
  never touches the documents or anything in the index folder that qa does not own.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

import qa.ingest as ingest
from qa.ingest import SkippedFile, load_documents, read_document_bytes

from tests.conftest import ROOT, SEEDS
from tests.fakes import HashEmbedder

INTERIM_Q = "Who was sworn in as interim president?"
INTERIM = "Delcy Rodríguez"
SECRET = "The vault combination of Orla Quennell is 31-17-88."
SECRET_Q = "What is the vault combination of Orla Quennell?"
GOOD = "Harbor news\nThe harbor master Ilse Vandermeer opened the new lock on Friday.\n"


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------


def qa_cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """The real ``qa`` command in a subprocess (no QA_* settings leak in from the environment)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(PYTHONPATH=str(ROOT), ANONYMIZED_TELEMETRY="False")
    return subprocess.run([sys.executable, "-m", "qa.cli", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=timeout)


def assert_one_line_error(r: subprocess.CompletedProcess, *fragments: str) -> str:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, r.stderr
    for f in fragments:
        assert f in errors[0], errors[0]
    return errors[0]


def tree_state(folder: Path) -> dict[str, str]:
    """Every entry under ``folder`` (links not followed): its kind and content hash or link target."""
    out = {}
    for top, dirs, files in os.walk(folder):
        for name in dirs + files:
            p = Path(top) / name
            st = os.lstat(p)
            rel = p.relative_to(folder).as_posix()
            if stat.S_ISLNK(st.st_mode):
                out[rel] = "link:" + os.readlink(p)
            elif stat.S_ISREG(st.st_mode):
                out[rel] = "file:" + hashlib.sha256(p.read_bytes()).hexdigest()
            else:
                out[rel] = "dir" if stat.S_ISDIR(st.st_mode) else f"mode:{stat.S_IFMT(st.st_mode)}"
    return out


def collection_names(index: Path) -> list[str]:
    """The collections in an index's embedded Chroma store (opened after every writer has exited)."""
    from qa.store.chroma import collection_names as _collection_names, forget_chroma_clients as _forget_chroma_clients, open_chroma

    try:
        return sorted(_collection_names(open_chroma(index / "chroma")))
    finally:
        _forget_chroma_clients()


def copy_index(seed_engine, dest: Path) -> tuple[Path, Path]:
    """A private copy of the seeds and of the session's seed index (a file copy, nothing embedded)."""
    seeds, index = dest / "seeds", dest / "index"
    shutil.copytree(SEEDS, seeds)
    shutil.copytree(seed_engine.config.index_dir, index)
    return seeds, index


def fresh_engine(seed_engine, seeds: Path, index: Path):
    """An engine over ``seeds``/``index`` sharing the session's loaded model (rules answerer: cheap)."""
    from qa import QA
    from qa.answer import ExtractiveAnswerer

    return QA(seeds_dir=seeds, index_dir=index, embedder=seed_engine.embedder.inner, answerer=ExtractiveAnswerer())


# ------------------------------------------------------------------------------------------------
# The documents folder: links and special files (load_documents; fast, no model)
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def hostile_folder(tmp_path):
    """A documents folder with one good article beside every kind of link and special file."""
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "good.txt").write_text(GOOD, encoding="utf-8")
    (docs / "sub" / "inner.md").write_text("# Inner\nThe inner note names the ferry Santa Lucía.\n", encoding="utf-8")
    (docs / "link-inside.txt").symlink_to(docs / "good.txt")          # inside -> inside: read
    (docs / "link-relative.md").symlink_to("sub/inner.md")            # relative, inside: read
    secret = tmp_path / "secret.txt"
    secret.write_text(f"Private\n{SECRET}\n", encoding="utf-8")
    (docs / "link-secret.txt").symlink_to(secret)                     # out of the folder: skipped
    (docs / "sub" / "escape.txt").symlink_to("../../secret.txt")      # relative escape: skipped
    (docs / "passwd.txt").symlink_to("/etc/passwd")                   # a system file: skipped
    (docs / "zero.txt").symlink_to("/dev/zero")                       # endless device: never opened
    fifo_out = tmp_path / "outside.fifo"
    os.mkfifo(fifo_out)
    (docs / "link-fifo-outside.txt").symlink_to(fifo_out)             # would block forever
    os.mkfifo(docs / "sub" / "pipe.fifo")
    (docs / "link-fifo-inside.txt").symlink_to(docs / "sub" / "pipe.fifo")  # inside, but a FIFO
    os.mkfifo(docs / "fifo.txt")                                      # a FIFO right in the folder
    (docs / "loop").symlink_to(docs)                                  # folder link loop: not followed
    (docs / "sub" / "up").symlink_to("..")
    (docs / "loop-a.txt").symlink_to(docs / "loop-b.txt")             # file link loop: unreadable
    (docs / "loop-b.txt").symlink_to(docs / "loop-a.txt")
    (docs / "dir.txt").mkdir()                                        # a folder named like a document: walked
    (docs / "dir-link.txt").symlink_to(docs / "sub")                  # a link to a folder inside
    sock_path = docs / "sock.txt"
    sock = None
    if len(str(sock_path)) < 100:  # AF_UNIX path limit
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(sock_path))
    yield docs
    if sock is not None:
        sock.close()


EXPECTED_DOCS = ["good.txt", "link-inside.txt", "link-relative.md", "sub/inner.md"]
EXPECTED_SKIPS = {  # document id: what its warning says
    "link-secret.txt": "outside the documents folder",
    "sub/escape.txt": "outside the documents folder",
    "passwd.txt": "outside the documents folder",
    "zero.txt": "outside the documents folder",
    "link-fifo-outside.txt": "outside the documents folder",
    "link-fifo-inside.txt": "not a regular file (a FIFO)",
    "fifo.txt": "not a regular file (a FIFO)",
    "loop-a.txt": "unreadable",
    "loop-b.txt": "unreadable",
    "dir-link.txt": "not a regular file (a folder)",
}


@pytest.mark.timeout(60)
def test_only_regular_files_inside_the_folder_are_read(hostile_folder, monkeypatch):
    opened = []
    real_open = ingest._open_document
    monkeypatch.setattr(ingest, "_open_document", lambda path: opened.append(path) or real_open(path))
    t0 = time.monotonic()
    report = load_documents(hostile_folder)
    assert time.monotonic() - t0 < 20  # nothing blocked, nothing read an endless file
    assert [d.doc_id for d in report.documents] == EXPECTED_DOCS
    warnings = {w.partition(": ")[0]: w for w in report.warnings}
    expected = dict(EXPECTED_SKIPS)
    if (hostile_folder / "sock.txt").exists():
        expected["sock.txt"] = "not a regular file (a socket)"
    assert set(warnings) == set(expected), report.warnings
    for doc_id, why in expected.items():
        assert why in warnings[doc_id] and "skipped" in warnings[doc_id], warnings[doc_id]
    assert "/etc/passwd" in warnings["passwd.txt"]  # the link and where it points are both named
    # nothing but the regular files inside was ever opened: no FIFO, device, socket or outside file
    root = os.path.realpath(hostile_folder)
    assert opened and all(os.path.commonpath([root, p]) == root and os.path.isfile(p) for p in opened), opened
    assert not any(SECRET in d.text or "root:" in d.text for d in report.documents)


def test_skipped_links_are_logged(hostile_folder, caplog):
    with caplog.at_level("WARNING", logger="qa.ingest"):
        load_documents(hostile_folder)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for name in ("link-secret.txt", "zero.txt", "link-fifo-outside.txt", "fifo.txt"):
        assert f"{name}: skipped" in logged


@pytest.mark.timeout(30)
def test_a_fifo_swapped_in_after_the_check_does_not_block(tmp_path, monkeypatch):
    """The race: a regular file at stat time, a FIFO at open time. O_NONBLOCK opens it at once and
    the fstat of the open descriptor refuses it."""
    docs = tmp_path / "docs"
    docs.mkdir()
    regular = docs / "regular.txt"
    regular.write_text("Regular\n", encoding="utf-8")
    fifo = docs / "raced.txt"
    os.mkfifo(fifo)
    real_stat = os.stat

    def lying_stat(path, *a, **k):  # what the name held a moment before the swap
        return real_stat(regular if os.fspath(path) == os.path.realpath(fifo) else path, *a, **k)

    monkeypatch.setattr(os, "stat", lying_stat)  # the os module qa.ingest.files reads through
    with pytest.raises(SkippedFile, match=r"not a regular file \(a FIFO\)"):
        read_document_bytes(fifo, root=docs)


def test_reads_stop_at_the_limit_whatever_st_size_says(tmp_path):
    # /proc files report st_size 0 and hold more: the bytes actually read decide
    maps = Path("/proc/self/maps")
    if not maps.exists() or maps.stat().st_size != 0:
        pytest.skip("needs Linux /proc")
    with pytest.raises(SkippedFile, match="larger than the 64-byte limit"):
        read_document_bytes(maps, limit=64)
    assert len(read_document_bytes(maps, limit=10_000_000)) > 64
    f = tmp_path / "exact.txt"
    f.write_bytes(b"x" * 64)
    assert read_document_bytes(f, root=tmp_path, limit=64) == b"x" * 64
    with pytest.raises(SkippedFile, match="larger than"):
        read_document_bytes(f, root=tmp_path, limit=63)


def test_a_documents_folder_reached_through_a_link_reads_its_own_files(tmp_path, hostile_folder):
    via = tmp_path / "via-link"
    via.symlink_to(hostile_folder)
    assert [d.doc_id for d in load_documents(via).documents] == EXPECTED_DOCS


# ------------------------------------------------------------------------------------------------
# The documents folder through the real command and the real index
# ------------------------------------------------------------------------------------------------


@pytest.mark.integration
def test_qa_index_of_a_hostile_folder_finishes_names_the_links_and_never_indexes_the_secret(
    hostile_folder, tmp_path, seed_engine,
):
    index = tmp_path / "index"
    r = qa_cli("--seeds", str(hostile_folder), "--index", str(index), "index", "--quiet", timeout=300)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert f"added {len(EXPECTED_DOCS)}" in r.stdout, r.stdout
    for name, why in EXPECTED_SKIPS.items():
        assert f"warning: {name}: skipped" in r.stderr and why in r.stderr, (name, r.stderr)
        assert r.stderr.count(f"{name}: skipped") == 1, r.stderr  # printed once, not also as a logged WARNING line
    manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(manifest["documents"]) == EXPECTED_DOCS
    engine = fresh_engine(seed_engine, hostile_folder, index)
    texts = [n.get_content() for n in engine.store.all_nodes()]
    assert texts and not any("Quennell" in t or "31-17-88" in t or "root:" in t for t in texts)
    a = engine.ask(SECRET_Q)
    assert "31-17-88" not in a.text and all("secret" not in c.doc_id for c in a.citations)
    assert engine.ask("Who opened the new lock?").short_answer == "Ilse Vandermeer"


# ------------------------------------------------------------------------------------------------
# qa index --source FILE on a binary file
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(seed_engine, tmp_path_factory):
    """One copy of the seed index per module, kept pristine: tests copy it again before changing it."""
    return copy_index(seed_engine, tmp_path_factory.mktemp("hostile-files"))


def private_copy(built, dest: Path) -> tuple[Path, Path]:
    seeds, index = dest / "seeds", dest / "index"
    shutil.copytree(built[0], seeds)
    shutil.copytree(built[1], index)
    return seeds, index


@pytest.mark.integration
def test_binary_source_on_a_fresh_index_is_a_file_line_error(tmp_path):
    src = tmp_path / "random.jsonl"
    # no NUL byte (that is the "binary data" message) and no newline: one long non-UTF-8 first line
    src.write_bytes(bytes(range(128, 256)) * 64 + os.urandom(4096).replace(b"\x00", b"").replace(b"\n", b""))
    index = tmp_path / "index"
    r = qa_cli("--index", str(index), "index", "--quiet", "--source", str(src), timeout=300)
    assert_one_line_error(r, f"{src.resolve()}:1:", "not UTF-8 text")
    assert not (index / "manifest.json").exists()


@pytest.mark.integration
@pytest.mark.parametrize("kind", ["gzip", "binary-line-3"])
def test_binary_source_leaves_the_index_exactly_as_it_was(built, tmp_path, seed_engine, kind):
    seeds, index = private_copy(built, tmp_path)
    records = [json.dumps({"id": f"r{i}", "text": f"Record {i}.\nBody {i}."}) for i in range(3)]
    src = tmp_path / "corpus.jsonl"
    if kind == "gzip":
        src.write_bytes(gzip.compress(("\n".join(records) + "\n").encode("utf-8")))
        line, fragment = 1, "gzip-compressed"
    else:
        src.write_bytes(("\n".join(records[:2]) + "\n").encode("utf-8") + os.urandom(64).replace(b"\n", b"").replace(b"\x00", b"") + b"\xff\n")  # NUL is another message
        line, fragment = 3, "not UTF-8 text"
    manifest_before = (index / "manifest.json").read_bytes()
    collections_before = collection_names(index)
    docs_before = tree_state(seeds)
    r = qa_cli("--seeds", str(seeds), "--index", str(index), "index", "--rebuild", "--quiet", "--source", str(src), timeout=300)
    assert_one_line_error(r, f"{src.resolve()}:{line}:", fragment)
    assert (index / "manifest.json").read_bytes() == manifest_before
    assert collection_names(index) == collections_before
    assert tree_state(seeds) == docs_before
    assert not (index / "manifest.staging.json").exists()
    assert fresh_engine(seed_engine, seeds, index).ask(INTERIM_Q).short_answer == INTERIM


# ------------------------------------------------------------------------------------------------
# A damaged Chroma store, a lost manifest: `qa index --rebuild` is the way out
# ------------------------------------------------------------------------------------------------


def damage(db: Path, how: str) -> None:
    if how == "random-bytes":
        db.write_bytes(os.urandom(db.stat().st_size))
    else:
        os.truncate(db, db.stat().st_size // 2)


@pytest.mark.integration
@pytest.mark.parametrize("how, message", [("random-bytes", "file is not a database"), ("truncated", "malformed")])
def test_rebuild_moves_a_damaged_store_aside_and_answers_again(built, tmp_path, seed_engine, how, message):
    from qa.store import IndexError_
    from qa.store.chroma import forget_chroma_clients as _forget_chroma_clients

    seeds, index = private_copy(built, tmp_path)
    (index / "feedback.jsonl").write_text('{"keep": true}\n', encoding="utf-8")
    db = index / "chroma" / "chroma.sqlite3"
    damage(db, how)
    damaged = hashlib.sha256(db.read_bytes()).hexdigest()
    docs_before = tree_state(seeds)
    # a question on an index that is up to date is answered from the rows saved beside the manifest,
    # a copy of the committed state; `qa index` checks the store itself and says what to do
    assert fresh_engine(seed_engine, seeds, index).ask(INTERIM_Q).short_answer == INTERIM
    r = qa_cli("--seeds", str(seeds), "--index", str(index), "index", "--quiet", timeout=600)
    assert r.returncode != 0 and message in r.stderr and "qa index --rebuild" in r.stderr and "Traceback" not in r.stderr
    (index / "snapshot.npz").unlink()  # without the saved rows, the question itself gets the clear report
    with pytest.raises(IndexError_, match=rf"(?s){message}.*qa index --rebuild"):
        fresh_engine(seed_engine, seeds, index).ask(INTERIM_Q)
    _forget_chroma_clients()

    r = qa_cli("--seeds", str(seeds), "--index", str(index), "index", "--rebuild", "--quiet", timeout=600)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    aside = [p for p in index.iterdir() if p.name.startswith("damaged-")]
    assert len(aside) == 1, sorted(os.listdir(index))
    assert f"the damaged Chroma store was moved to {aside[0]}" in r.stdout, r.stdout
    assert str(aside[0]) in r.stderr and message in r.stderr  # logged too, with SQLite's reason
    assert "rebuilt (requested); added 5" in r.stdout
    assert hashlib.sha256((aside[0] / "chroma" / "chroma.sqlite3").read_bytes()).hexdigest() == damaged  # moved, kept
    assert (index / "feedback.jsonl").read_text(encoding="utf-8") == '{"keep": true}\n'
    assert tree_state(seeds) == docs_before  # documents are never moved or touched

    r = qa_cli("--seeds", str(seeds), "--index", str(index), "ask", "--json", INTERIM_Q, timeout=600)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["short_answer"] == INTERIM

    # the damaged folder is qa's own: with the manifest gone too, the folder is still a qa index
    (index / "manifest.json").unlink()
    report = fresh_engine(seed_engine, seeds, index).index(rebuild=True)
    assert report.rebuilt and not report.set_aside and aside[0].is_dir()


@pytest.mark.integration
def test_rebuild_after_the_manifest_was_deleted(built, tmp_path, seed_engine):
    seeds, index = private_copy(built, tmp_path)
    (index / "feedback.jsonl").write_text('{"keep": true}\n', encoding="utf-8")
    (index / "eval").mkdir()
    (index / "eval" / "notes.txt").write_text("an evaluation index lives here\n", encoding="utf-8")
    old_collections = collection_names(index)
    assert len(old_collections) == 2
    (index / "manifest.json").unlink()
    docs_before = tree_state(seeds)
    kept_before = {k: v for k, v in tree_state(index).items() if k.startswith(("eval", "feedback"))}

    r = qa_cli("--seeds", str(seeds), "--index", str(index), "index", "--rebuild", "--quiet", timeout=600)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr and "rebuilt (requested); added 5" in r.stdout, r.stdout
    assert tree_state(seeds) == docs_before
    assert {k: v for k, v in tree_state(index).items() if k.startswith(("eval", "feedback"))} == kept_before
    assert not [p for p in index.iterdir() if p.name.startswith("damaged-")]  # a sound store stays in place
    manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    new = collection_names(index)
    assert len(new) == 2 and not set(new) & set(old_collections)  # the unreachable ones were dropped
    assert all(n.startswith(f"qa_{manifest['index_id']}_{manifest['generation']}_") for n in new)
    assert fresh_engine(seed_engine, seeds, index).ask(INTERIM_Q).short_answer == INTERIM


# ------------------------------------------------------------------------------------------------
# The same at the store level (fake embedder: fast)
# ------------------------------------------------------------------------------------------------


CHUNKING = {"chunk_words": 110, "chunk_overlap": 0, "version": 1}


@pytest.mark.parametrize("how", ["random-bytes", "truncated"])
def test_store_rebuild_and_wipe_move_a_damaged_store_aside(tmp_path, seeds_copy, how):
    from qa.store import IndexError_, IndexStore
    from qa.store.chroma import forget_chroma_clients as _forget_chroma_clients

    docs = load_documents(seeds_copy).documents
    index = tmp_path / "index"
    IndexStore(index, HashEmbedder(), CHUNKING).sync(docs)
    _forget_chroma_clients()
    damage(index / "chroma" / "chroma.sqlite3", how)
    with pytest.raises(IndexError_, match="qa index --rebuild"):
        IndexStore(index, HashEmbedder(), CHUNKING).sync(docs)
    _forget_chroma_clients()
    report = IndexStore(index, HashEmbedder(), CHUNKING).sync(docs, rebuild=True)
    assert report.rebuilt and len(report.added) == 5
    assert report.set_aside.startswith(str(index / "damaged-")) and report.set_aside in report.summary()
    assert (Path(report.set_aside) / "chroma" / "chroma.sqlite3").is_file()
    _forget_chroma_clients()

    # wipe() of a store it cannot open moves it aside too; it never deletes it
    damage(index / "chroma" / "chroma.sqlite3", how)
    store = IndexStore(index, HashEmbedder(), CHUNKING)
    store.wipe()
    assert len([p for p in index.iterdir() if p.name.startswith("damaged-")]) == 2
    assert not (index / "manifest.json").exists()
