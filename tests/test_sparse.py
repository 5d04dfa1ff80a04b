"""BM25 read from its saved folder without bm25s (qa.store.sparse.SavedBM25): the same positions and
scores as bm25s's own load + tokenize + retrieve, for every question of the gold set and for
questions made to stress it (stopwords only, unknown words, repeats, punctuation, non-ASCII), and a
query path that never imports bm25s or scipy."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest

from qa.ingest import load_documents
from qa.store.sparse import BM25Index, SavedBM25

from tests.conftest import GOLD, ROOT, SEEDS
from tests.test_store import make_store

ODD = ["", "the of and", "zzqx qqq", "oil oil oil reserves", "Nicolás Maduro's capture?!", "U.S. 2026 — 15,000",
       "WHO WAS SWORN IN", "running runs ran", "a"]


def _questions() -> list[str]:
    gold = [json.loads(line)["question"] for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    words = " ".join(gold).split()
    rng = random.Random(7)
    soup = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 12))) for _ in range(60)]
    return gold + ODD + soup


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    index = tmp_path_factory.mktemp("sparse") / "index"
    store = make_store(index)
    store.sync(load_documents(SEEDS).documents)
    store.close(timeout=30)
    return index / "bm25"


def test_the_saved_folder_scores_as_bm25s_does(folder):
    import bm25s

    ours = BM25Index.load(folder)
    assert isinstance(ours.bm25, SavedBM25)
    theirs = BM25Index(bm25s.BM25.load(str(folder), load_corpus=True, show_progress=False), ours.corpus)
    for k in (1, 5, ours.similarity_top_k, ours.bm25.scores["num_docs"]):
        ours.similarity_top_k = theirs.similarity_top_k = k
        for q in _questions():
            a, b = ours.retrieve(q), theirs.retrieve(q)
            assert [(s.node.node_id, s.score) for s in a] == [(s.node.node_id, s.score) for s in b], (k, q)


def test_folders_it_does_not_read_are_read_by_bm25s(folder, tmp_path):
    import shutil

    other = tmp_path / "bm25"
    shutil.copytree(folder, other)
    params = json.loads((other / "params.index.json").read_text())
    (other / "params.index.json").write_text(json.dumps(params | {"method": "bm25+"}))
    assert SavedBM25.load(other) is None


def test_answering_from_the_folder_imports_neither_bm25s_nor_scipy(folder):
    code = (f"import sys\nfrom pathlib import Path\nfrom qa.store.sparse import BM25Index\n"
            f"hits = BM25Index.load(Path({str(folder)!r})).retrieve('Who was sworn in as interim president?')\n"
            "assert hits and hits[0].score > 0\n"
            "print(sorted({m.partition('.')[0] for m in sys.modules} & {'bm25s', 'scipy'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_index_knows_the_words_its_chunks_hold_one_wrong_letter_forgiven(folder):
    """Both readers of the folder (numpy and bm25s) say alike which words a document holds."""
    import bm25s

    ours = BM25Index.load(folder)
    theirs = BM25Index(bm25s.BM25.load(str(folder), load_corpus=True, show_progress=False), ours.corpus)
    for index in (ours, theirs):
        assert index.knows("Maduro") and index.knows("Venezuelan") and index.knows("Rodriguez")
        assert index.knows("Venezeulan") and index.knows("Madurro")  # swapped or doubled letters: a typo
        assert not index.knows("Zanzibar") and not index.knows("Westfield")
    for index in (ours, theirs):
        assert index.knows("Mexican") and index.knows("Venezuela")  # a demonym, a country: the same name
