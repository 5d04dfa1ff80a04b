"""BM25 over chunk nodes with bm25s, scoring and saving exactly as llama-index's ``BM25Retriever``.

``BM25Retriever`` (llama-index-retrievers-bm25) is a thin layer over bm25s, but importing it imports
llama-index's core (~380 modules, about a second), which a process that only answers questions
must not pay. :class:`BM25Index` makes the same bm25s calls with the same arguments (PyStemmer's
English stemmer, bm25s's English stopwords for the corpus, none removed from the question, the
token pattern ``(?u)\\b\\w\\w+\\b``), so its scores are the retriever's, and it reads and writes the
same folder (bm25s's files, the corpus as llama-index metadata dicts, ``retriever.json``): a
``bm25/`` saved by either loads in the other. A saved folder is read and queried by
:class:`SavedBM25` with numpy alone (the same results as bm25s), so answering never imports bm25s.
"""

from __future__ import annotations

import bisect
import importlib.util
import json
import re
import sys
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from qa.store.records import Scored, StoredNode, query_text

#: BM25Retriever's defaults (from_defaults(similarity_top_k=10) is what the store always built), and a
#: version number as one term ("3.8.0" had none: each part is one character), so that "When was version
#: 3.8.0 released?" finds the changelog's section (changing it rebuilds indexes: chunking.CHUNKER_VERSION 10)
TOKEN_PATTERN = r"(?u)\b\d+(?:\.\d+)+\b|\b\w\w+\b"
CORPUS_STOPWORDS = "en"
DEFAULT_TOP_K = 10
#: written next to bm25s's files, as BM25Retriever.persist writes it (its constructor's arguments)
PERSIST_FILE = "retriever.json"


def corpus_entry(node: StoredNode) -> dict[str, Any]:
    """The BM25 corpus record of ``node``: ``node_to_metadata_dict(node) | {"node_id": ...}`` as
    BM25Retriever stores it (the row's flat metadata, its ``_node_content`` with the text put back)."""
    content = json.loads(node.row["_node_content"])
    content["id_"], content["text"] = node.node_id, node.text
    return {**node.row, "_node_content": json.dumps(content, ensure_ascii=False), "node_id": node.node_id}


class BM25Index:
    """A bm25s index and its corpus; :meth:`retrieve` gives the ``similarity_top_k`` best nodes.

    ``similarity_top_k`` is a plain attribute (a caller sets it on a copy, as on the retriever);
    ``bm25`` is the ``bm25s.BM25`` object and ``corpus`` its records, one per chunk.
    """

    def __init__(self, bm25: Any, corpus: Sequence[dict[str, Any]], similarity_top_k: int = DEFAULT_TOP_K):
        import Stemmer

        self.bm25 = bm25
        self.corpus = corpus
        self.stemmer = Stemmer.Stemmer("english")
        num_docs = int(bm25.scores.get("num_docs") or 0)
        # as BM25Retriever: bm25s refuses k above the number of documents
        self.similarity_top_k = min(similarity_top_k, num_docs) if num_docs else similarity_top_k

    @classmethod
    def build(cls, nodes: Sequence[StoredNode], similarity_top_k: int = DEFAULT_TOP_K) -> BM25Index:
        """Index ``nodes`` by their embedding text (title and text), as ``BM25Retriever.from_defaults``."""
        import bm25s
        import Stemmer

        if not nodes:
            raise ValueError("No nodes added to the retriever kindly add more data.")
        tokens = bm25s.tokenize([n.embed_content() for n in nodes], stopwords=CORPUS_STOPWORDS,
                                stemmer=Stemmer.Stemmer("english"), token_pattern=TOKEN_PATTERN, show_progress=False)
        bm25 = bm25s.BM25()
        bm25.index(tokens, show_progress=False)
        return cls(bm25, [corpus_entry(n) for n in nodes], similarity_top_k)

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        """The index saved in ``folder`` (by :meth:`save` or by ``BM25Retriever.persist``): read by
        :class:`SavedBM25` (no bm25s import) where it can, else by bm25s."""
        args = json.loads((folder / PERSIST_FILE).read_text(encoding="utf-8"))
        if args.get("corpus_weight_mask"):  # never written by the store; refused rather than ignored
            raise ValueError("a BM25 folder with a corpus weight mask")
        bm25: Any = SavedBM25.load(folder)
        if bm25 is None:
            import bm25s

            bm25 = bm25s.BM25.load(str(folder), load_corpus=True, show_progress=False)
        if bm25.corpus is None:
            raise ValueError(f"no corpus in {folder}")
        return cls(bm25, bm25.corpus, int(args.get("similarity_top_k", DEFAULT_TOP_K)))

    def save(self, folder: Path) -> None:
        """bm25s's files, the corpus and ``retriever.json``, as ``BM25Retriever.persist`` writes them."""
        self.bm25.save(str(folder), corpus=self.corpus, show_progress=False)
        args = {"similarity_top_k": self.similarity_top_k, "verbose": False, "corpus_weight_mask": None}
        (folder / PERSIST_FILE).write_text(json.dumps(args, indent=2), encoding="utf-8")

    def knows(self, word: str) -> bool:
        """Does a chunk hold ``word``, or (from five letters on) a word one letter off it or sharing all
        but its last three letters, as the index stems words, accents aside? A misspelt name
        ("Venezeulan", "Shirly"), a demonym ("Mexican" of "Mexico") or an unaccented one
        ("Schrodinger") is known; "Westfield" is not "Eastfield"."""
        vocab, ordered = self._vocab_by_length()
        for form in dict.fromkeys((_unaccented(self.stemmer.stemWord(word.lower())), _unaccented(word.lower()))):
            if form in vocab.get(len(form), ()):
                return True
            if len(form) >= 5 and (_begins_one(ordered, form[: max(5, len(form) - 3)]) or any(
                    _one_off(form, v) for n in (len(form) - 1, len(form), len(form) + 1) for v in vocab.get(n, ()))):
                return True
        return False

    def _vocab_by_length(self) -> tuple[dict[int, set[str]], list[str]]:
        """The vocabulary (accents aside) by word length, and sorted (for the words a beginning starts)."""
        if getattr(self, "_by_length", None) is None:
            vocab = {_unaccented(v) for v in (self.bm25.vocab if isinstance(self.bm25, SavedBM25) else self.bm25.vocab_dict)}
            by_length: dict[int, set[str]] = {}
            for v in vocab:
                by_length.setdefault(len(v), set()).add(v)
            self._by_length = (by_length, sorted(vocab))
        return self._by_length

    def retrieve(self, question: Any) -> list[Scored]:
        """The ``similarity_top_k`` best chunks for ``question`` (a string, or a llama-index
        ``QueryBundle``: developers' code passes those), zero scores included, as BM25Retriever."""
        if isinstance(self.bm25, SavedBM25):
            indexes, scores = self.bm25.top(query_text(question), self.similarity_top_k, self.stemmer)
        else:
            import bm25s

            tokens = bm25s.tokenize(query_text(question), stemmer=self.stemmer, token_pattern=TOKEN_PATTERN, show_progress=False)
            found, scored = self.bm25.retrieve(tokens, k=self.similarity_top_k, show_progress=False)
            indexes, scores = list(found[0]), list(scored[0])
        out = []
        for idx, score in zip(indexes, scores):
            # bm25s gives the corpus record itself when it holds the corpus (loaded), else its index
            entry = idx if isinstance(idx, dict) else self.corpus[int(idx)]
            out.append(Scored(StoredNode.from_row(entry), float(score)))
        return out


def _begins_one(ordered: list[str], beginning: str) -> bool:
    """Does a word of the sorted list ``ordered`` begin with ``beginning``?"""
    i = bisect.bisect_left(ordered, beginning)
    return i < len(ordered) and ordered[i].startswith(beginning)


def _unaccented(word: str) -> str:
    """``word`` without its accents: "schrödinger" -> "schrodinger"."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", word) if not unicodedata.combining(ch))


def _one_off(a: str, b: str) -> bool:
    """Are ``a`` and ``b`` one substitution, insertion, deletion or swap of neighbours apart?"""
    if len(a) == len(b):  # one letter changed, or two next to each other swapped ("Ghandi" for "Gandhi")
        diff = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return len(long_) - len(short) == 1 and any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


#: bm25s scoring methods whose saved per-token scores are the whole score (BM25L and BM25+ add a
#: non-occurrence term per query token; their folders are read by bm25s)
_PLAIN_METHODS = ("robertson", "lucene", "atire")


@lru_cache(maxsize=1)
def query_stopwords() -> frozenset[str]:
    """bm25s's English stopwords (``bm25s.tokenize``'s default, removed from questions), read from
    its ``stopwords`` module without importing the package (whose ``__init__`` imports scipy)."""
    if "bm25s.stopwords" in sys.modules:
        return frozenset(sys.modules["bm25s.stopwords"].STOPWORDS_EN)
    package = importlib.util.find_spec("bm25s")  # locates the package; runs none of it
    if package is None or not package.submodule_search_locations:
        raise ImportError("bm25s is not installed")
    spec = importlib.util.spec_from_file_location("_qa_bm25s_stopwords",
                                                  Path(list(package.submodule_search_locations)[0]) / "stopwords.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return frozenset(module.STOPWORDS_EN)


class SavedBM25:
    """A BM25 index saved by bm25s, read and queried with numpy alone: importing bm25s (and scipy)
    took ~0.25 s, a quarter of a new process's first answer.

    :meth:`top` gives what ``bm25s.BM25.load(folder, load_corpus=True).retrieve(bm25s.tokenize(text,
    stemmer=..., token_pattern=TOKEN_PATTERN), k)`` gives with bm25s's numpy selection: the same query
    tokens (lowercased, split by the pattern, bm25s's English stopwords out, PyStemmer's stems, stems
    the index never saw dropped, repeats kept), the same float32 sums of the saved per-token scores
    (``np.add.at`` token by token, as bm25s), the same top ``k`` (``argpartition``, then ``argsort``).
    ``tests/test_sparse.py`` checks it against bm25s. (With JAX installed bm25s would
    select with ``jax.lax.top_k``, which may order exact ties differently.)
    """

    def __init__(self, params: dict[str, Any], vocab: dict[str, int], data: np.ndarray, indices: np.ndarray,
                 indptr: np.ndarray, corpus: list[Any]):
        self.params = params
        self.vocab = vocab
        self.data, self.indices, self.indptr = data, indices, indptr
        self.corpus = corpus
        self.dtype = np.dtype(params.get("dtype", "float32"))
        #: as ``bm25s.BM25.scores`` (what callers read of it)
        self.scores = {"num_docs": int(params["num_docs"])}
        self._split = re.compile(TOKEN_PATTERN).findall

    @classmethod
    def load(cls, folder: Path) -> SavedBM25 | None:
        """The index in ``folder`` (bm25s's file names), or None where it needs bm25s itself."""
        params = json.loads((folder / "params.index.json").read_text(encoding="utf-8"))
        if params.get("method") not in _PLAIN_METHODS or (folder / "nonoccurrence_array.index.npy").exists():
            return None
        corpus_file = folder / "corpus.jsonl"
        if not corpus_file.exists():
            return None
        vocab = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))
        arrays = [np.load(folder / f"{name}.csc.index.npy", allow_pickle=False) for name in ("data", "indices", "indptr")]
        with open(corpus_file, encoding="utf-8") as f:
            corpus = [json.loads(line) for line in f]
        return cls(params, vocab, *arrays, corpus=corpus)

    def token_ids(self, text: str, stemmer: Any) -> list[int]:
        stop = query_stopwords()
        words = [w for w in self._split(text.lower()) if w not in stop]
        unique = list(dict.fromkeys(words))  # stemmed once each, as bm25s.tokenize does
        stems = dict(zip(unique, stemmer.stemWords(unique)))
        return [self.vocab[stems[w]] for w in words if stems[w] in self.vocab]

    def top(self, text: str, k: int, stemmer: Any) -> tuple[list[int], list[float]]:
        """The ``k`` best documents' positions in the corpus and their scores, best first."""
        n = self.scores["num_docs"]
        if k > n:
            raise ValueError(f"k of {k} is larger than the number of available scores, which is {n}")
        scores = np.zeros(n, dtype=self.dtype)
        for t in self.token_ids(text, stemmer):
            start, end = self.indptr[t], self.indptr[t + 1]
            np.add.at(scores, self.indices[start:end], self.data[start:end])
        part = np.argpartition(scores, -k).take(indices=range(-k, 0))
        part_scores = np.take(scores, part)
        order = np.flip(np.argsort(part_scores))
        return part[order].tolist(), part_scores[order].tolist()
