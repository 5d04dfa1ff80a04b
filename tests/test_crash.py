"""Crash safety: a real `qa index` process killed with SIGKILL at several points.

Each case starts from a copy of one built index (the seeds), adds documents, runs
``python -m qa.cli index`` in a subprocess and SIGKILLs it: while embedding (after the first batch
of new vectors is written), just before the switch (new manifest written, not renamed), just after
it (renamed, old generation not yet dropped), and after a random delay once the run has begun
writing. Then: the index still opens and answers the question exactly as before (or, killed after
the commit, holds the new documents), and rerunning `qa index` completes the work, leaving no
staging collections behind. The kill points are reached through the test-only ``QA_TEST_PAUSE_AT``
hook that tests/fakes.py ``install_pause_hook`` puts in place of ``qa.store.generations.checkpoint`` in
the subprocess; it prints a marker on stderr and sleeps.

Two folders of new documents: ``grown`` also edits one seed, so the run writes a new generation;
``appended`` only adds documents, so the run adds them to the live generation in place (its own
kill points ``append-embed``, ``append-switch``, ``append-committed``): killed before its commit, the
live collections hold uncommitted vectors, which a reader never answers from and removes on open.

Answers are read with the rules-based ``ExtractiveAnswerer`` (deterministic and cheap): the store is
what is under test, not the answerer. Every check opens a private *copy* of the index, so this process never holds a Chroma client on a
folder that a subprocess writes.
"""

from __future__ import annotations

import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from qa import QA
from qa.answer import ExtractiveAnswerer
from qa.config import Config
from qa.store import APPEND, MANIFEST, STAGING, Manifest
from qa.store.chroma import open_chroma

from tests.conftest import ROOT, SEEDS

pytestmark = [pytest.mark.integration, pytest.mark.crash]

QUESTION = "Who was sworn in as interim president?"
NEW_QUESTION = "Who is the harbour master of Puerto Cabello?"
NEW_DOC = "# Harbour report\n\nThe harbour master of Puerto Cabello is Ignacio Valdés, appointed in March.\n"


def comparable(answer) -> dict:
    d = answer.to_dict()
    d.pop("timings", None)
    return d


@pytest.fixture(scope="module")
def base(tmp_path_factory, seed_engine):
    """A built index over the seeds, the grown documents folder, and the answer before any change."""
    root = tmp_path_factory.mktemp("crash")
    seeds = root / "seeds"
    shutil.copytree(SEEDS, seeds)
    index = root / "index"
    engine = QA(config=Config.resolve(seeds_dir=seeds, index_dir=index, documents_dir=root / "no-documents"), embedder=seed_engine.embedder.inner, answerer=ExtractiveAnswerer())
    engine.index()
    before = comparable(engine.ask(QUESTION))
    assert before["short_answer"] == "Delcy Rodríguez"
    folders = {}
    for name in ("grown", "appended"):
        folder = folders[name] = root / name
        shutil.copytree(SEEDS, folder)
        (folder / "harbour.md").write_text(NEW_DOC, encoding="utf-8")
        for p in sorted(SEEDS.iterdir()):  # enough new text that embedding takes several batches
            (folder / f"variant-{p.name}").write_text(f"Variant of {p.name}\n" + p.read_text(encoding="utf-8"), encoding="utf-8")
    edited = folders["grown"] / "004_3184abc0dc7d57db.txt"  # an edit: `grown` writes a new generation
    edited.write_text(edited.read_text(encoding="utf-8") + "\nEditor's note: this article was updated.\n", encoding="utf-8")
    m = Manifest.load(index / MANIFEST)
    return {"root": root, "index": index, "before": before, "embedder": seed_engine.embedder.inner,
            "docs": sorted(m.documents), "chunks": len(m.chunk_ids()), **folders}


#: `python -m qa.cli`, with the test-only pause hook installed first
PAUSING_CLI = "import runpy; from tests.fakes import install_pause_hook; install_pause_hook(); runpy.run_module('qa.cli', run_name='__main__')"


def start_index(seeds: Path, index: Path, pause: str | None = None) -> tuple[subprocess.Popen, queue.Queue]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    no_documents = seeds.parent / "no-documents"  # an empty user documents folder: only `seeds` is indexed
    no_documents.mkdir(exist_ok=True)
    env.update(PYTHONPATH=str(ROOT), QA_INDEX_BATCH_CHUNKS="8", ANONYMIZED_TELEMETRY="False", QA_DOCUMENTS_DIR=str(no_documents))
    if pause:
        env["QA_TEST_PAUSE_AT"] = pause
    proc = subprocess.Popen(
        [sys.executable, "-c", PAUSING_CLI, "--seeds", str(seeds), "--index", str(index), "index", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in proc.stderr:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return proc, lines


def wait_for_marker(proc: subprocess.Popen, lines: queue.Queue, marker: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        if marker in line:
            return
    proc.kill()
    raise AssertionError(f"{marker!r} never appeared (rc={proc.poll()}): {''.join(seen)[-2000:]}")


def kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def inspect(index: Path, embedder, tmp: Path) -> dict:
    """Open a private copy of ``index`` as a reader and report what it holds and answers."""
    copy = tmp / f"check-{time.monotonic_ns()}"
    shutil.copytree(index, copy)
    leftover_staging = (copy / STAGING).exists()
    intent = (copy / APPEND).exists()
    m = Manifest.load(copy / MANIFEST)
    client = open_chroma(copy / "chroma")
    collections = {c.name for c in client.list_collections()}
    rows = client.get_collection(m.names()[0]).count()  # before a reader's cleanup
    engine = QA(config=Config.resolve(seeds_dir=tmp / "no-seeds", index_dir=copy), embedder=embedder,
                answerer=ExtractiveAnswerer(), auto_index=False)
    out = {
        "docs": sorted(m.documents), "live": set(m.names()), "collections": collections, "staging": leftover_staging,
        "answer": comparable(engine.ask(QUESTION)), "new": engine.ask(NEW_QUESTION),
        "intent": intent, "rows": rows, "chunks": len(m.chunk_ids()),
    }
    out["intent_after"] = (copy / APPEND).exists()
    out["rows_after"] = engine.store.count()
    engine.store.close(timeout=60)
    return out


def rerun_completes(base: dict, index: Path, tmp: Path, folder: str = "grown") -> None:
    proc, lines = start_index(base[folder], index)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, "".join(list(lines.queue))[-3000:]
    assert "chunks/s" in out
    done = inspect(index, base["embedder"], tmp)
    assert "harbour.md" in done["docs"] and len(done["docs"]) == len(base["docs"]) * 2 + 1
    assert done["new"].short_answer == "Ignacio Valdés" and done["new"].citations[0].doc_id == "harbour.md"
    assert done["answer"]["short_answer"] == "Delcy Rodríguez"
    # the rerun finished and cleared everything the killed run left behind
    assert not done["staging"] and not done["intent"] and done["collections"] == done["live"]
    assert done["rows"] == done["chunks"]
    assert (index / "bm25" / "qa_corpus_key.txt").read_text() == Manifest.load(index / MANIFEST).corpus_key()


@pytest.mark.parametrize("point", ["embed", "switch"])
def test_killed_before_the_switch_the_previous_index_answers_as_before(base, tmp_path, point):
    index = tmp_path / "index"
    shutil.copytree(base["index"], index)
    proc, lines = start_index(base["grown"], index, pause=point)
    wait_for_marker(proc, lines, f"QA_TEST_PAUSED {point}")
    kill(proc)
    assert (index / STAGING).exists()  # the killed run had begun a generation
    after = inspect(index, base["embedder"], tmp_path)
    assert after["docs"] == base["docs"]
    assert after["answer"] == base["before"]  # identical answer, citations, passages and scores
    assert after["new"].refused or "harbour.md" not in {c.doc_id for c in after["new"].citations}
    assert after["collections"] > after["live"]  # the dead run's staging collections, still there
    rerun_completes(base, index, tmp_path)


def test_killed_after_the_switch_the_new_index_is_live(base, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(base["index"], index)
    proc, lines = start_index(base["grown"], index, pause="committed")
    wait_for_marker(proc, lines, "QA_TEST_PAUSED committed")
    kill(proc)
    after = inspect(index, base["embedder"], tmp_path)
    assert "harbour.md" in after["docs"] and after["new"].short_answer == "Ignacio Valdés"
    assert after["answer"]["short_answer"] == "Delcy Rodríguez"
    rerun_completes(base, index, tmp_path)


def test_killed_after_a_random_delay_while_writing(base, tmp_path):
    seed = int(os.environ.get("QA_CRASH_SEED", random.randrange(1 << 30)))
    delay = random.Random(seed).uniform(0.0, 4.0)
    index = tmp_path / "index"
    shutil.copytree(base["index"], index)
    proc, _ = start_index(base["grown"], index)
    deadline = time.monotonic() + 300
    while not (index / STAGING).exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(delay)
    finished = proc.poll() is not None
    if not finished:
        kill(proc)
    after = inspect(index, base["embedder"], tmp_path)
    note = f"(QA_CRASH_SEED={seed}, killed {delay:.2f}s after staging began, finished first: {finished})"
    if "harbour.md" in after["docs"]:  # the kill came after the commit
        assert after["new"].short_answer == "Ignacio Valdés", note
    else:
        assert after["docs"] == base["docs"] and after["answer"] == base["before"], note
    rerun_completes(base, index, tmp_path)


# --- appends: added documents only, written into the live generation in place ----------------------


@pytest.mark.parametrize("point", ["append-embed", "append-switch"])
def test_killed_during_an_append_the_previous_index_answers_as_before(base, tmp_path, point):
    index = tmp_path / "index"
    shutil.copytree(base["index"], index)
    proc, lines = start_index(base["appended"], index, pause=point)
    wait_for_marker(proc, lines, f"QA_TEST_PAUSED {point}")
    kill(proc)
    assert (index / APPEND).exists() and not (index / STAGING).exists()  # an append, not a generation
    after = inspect(index, base["embedder"], tmp_path)
    assert after["rows"] > base["chunks"]  # the dead run's uncommitted vectors, in the live collections
    assert after["docs"] == base["docs"]
    assert after["answer"] == base["before"]  # identical answer, citations, passages and scores
    assert after["new"].refused or "harbour.md" not in {c.doc_id for c in after["new"].citations}
    assert not after["intent_after"] and after["rows_after"] == base["chunks"]  # the reader took them out
    assert after["collections"] == after["live"]
    rerun_completes(base, index, tmp_path, "appended")


def test_killed_after_an_append_commit_the_new_documents_are_live(base, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(base["index"], index)
    proc, lines = start_index(base["appended"], index, pause="append-committed")
    wait_for_marker(proc, lines, "QA_TEST_PAUSED append-committed")
    kill(proc)
    after = inspect(index, base["embedder"], tmp_path)
    assert after["intent"] and not after["intent_after"] and after["rows_after"] == after["chunks"] == after["rows"]
    assert "harbour.md" in after["docs"] and after["new"].short_answer == "Ignacio Valdés"
    assert after["answer"]["short_answer"] == "Delcy Rodríguez"
    rerun_completes(base, index, tmp_path, "appended")


def test_killed_after_a_random_delay_while_appending(base, tmp_path):
    seed = int(os.environ.get("QA_CRASH_SEED", random.randrange(1 << 30)))
    delay = random.Random(seed).uniform(0.0, 4.0)
    index = tmp_path / "index"
    shutil.copytree(base["index"], index)
    proc, _ = start_index(base["appended"], index)
    deadline = time.monotonic() + 300
    while not (index / APPEND).exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(delay)
    finished = proc.poll() is not None
    if not finished:
        kill(proc)
    after = inspect(index, base["embedder"], tmp_path)
    note = f"(QA_CRASH_SEED={seed}, killed {delay:.2f}s after the append began, finished first: {finished})"
    assert not after["intent_after"] and after["rows_after"] == after["chunks"], note
    if "harbour.md" in after["docs"]:  # the kill came after the commit
        assert after["new"].short_answer == "Ignacio Valdés", note
    else:
        assert after["docs"] == base["docs"] and after["answer"] == base["before"], note
    rerun_completes(base, index, tmp_path, "appended")
