"""BM25 over chunk nodes with bm25s, scoring and saving exactly as llama-index's ``BM25Retriever``.

``BM25Retriever`` (llama-index-retrievers-bm25) is a thin layer over bm25s, but importing it imports
llama-index's core (~380 modules, about a second), which a process that only answers questions
must not pay. :class:`BM25Index` makes the same bm25s calls with the same arguments (PyStemmer's
English stemmer, bm25s's English stopwords for the corpus, none removed from the question, the
token pattern ``(?u)\\b\\w\\w+\\b``), so its scores are the retriever's, and it reads and writes the
same folder (bm25s's files, the corpus as llama-index metadata dicts, ``retriever.json``): a
``bm25/`` saved by either loads in the other.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa.store.records import Scored, StoredNode, query_text

#: BM25Retriever's defaults (from_defaults(similarity_top_k=10) is what the store always built)
TOKEN_PATTERN = r"(?u)\b\w\w+\b"
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
        """The index saved in ``folder`` (by :meth:`save` or by ``BM25Retriever.persist``)."""
        import bm25s

        args = json.loads((folder / PERSIST_FILE).read_text(encoding="utf-8"))
        if args.get("corpus_weight_mask"):  # never written by the store; refused rather than ignored
            raise ValueError("a BM25 folder with a corpus weight mask")
        bm25 = bm25s.BM25.load(str(folder), load_corpus=True, show_progress=False)
        if bm25.corpus is None:
            raise ValueError(f"no corpus in {folder}")
        return cls(bm25, bm25.corpus, int(args.get("similarity_top_k", DEFAULT_TOP_K)))

    def save(self, folder: Path) -> None:
        """bm25s's files, the corpus and ``retriever.json``, as ``BM25Retriever.persist`` writes them."""
        self.bm25.save(str(folder), corpus=self.corpus, show_progress=False)
        args = {"similarity_top_k": self.similarity_top_k, "verbose": False, "corpus_weight_mask": None}
        (folder / PERSIST_FILE).write_text(json.dumps(args, indent=2), encoding="utf-8")

    def retrieve(self, question: Any) -> list[Scored]:
        """The ``similarity_top_k`` best chunks for ``question`` (a string, or a llama-index
        ``QueryBundle``: developers' code passes those), zero scores included, as BM25Retriever."""
        import bm25s

        tokens = bm25s.tokenize(query_text(question), stemmer=self.stemmer, token_pattern=TOKEN_PATTERN, show_progress=False)
        indexes, scores = self.bm25.retrieve(tokens, k=self.similarity_top_k, show_progress=False)
        out = []
        for idx, score in zip(indexes[0], scores[0]):
            # bm25s gives the corpus record itself when it holds the corpus (loaded), else its index
            entry = idx if isinstance(idx, dict) else self.corpus[int(idx)]
            out.append(Scored(StoredNode.from_row(entry), float(score)))
        return out
