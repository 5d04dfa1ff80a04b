"""Retrieval: dense (over chunks and over sentences) and BM25, fused by rank or normalised score.

Dense sides read a :class:`~qa.store.backend.VectorCollection`, whose scores are cosine similarity
whatever the vector store (higher is better): no store's own convention reaches this module.

:meth:`HybridRetriever.search` returns typed :class:`~qa.types.Hit` objects that keep the rank each
side gave a chunk. Nothing here imports llama-index (its core is ~380 modules, about a second of a
``qa ask``): the sides pass :class:`~qa.store.records.Scored` nodes read from the store, and
:meth:`qa.QA.as_retriever` wraps the hybrid retriever as a llama-index ``BaseRetriever``
(:class:`qa.llama.QARetriever`) for llama-index apps. A side's ``retrieve`` takes the question as a
string or as a llama-index ``QueryBundle`` (what such apps, and the benchmarks, pass).

Why not llama-index's ``QueryFusionRetriever``: it fuses by ``node.hash`` (text *and* metadata, so
one chunk read from Chroma and from BM25 can count as two), drops the per-retriever ranks we report,
and its constructor reaches for ``Settings.llm`` (OpenAI by default, which fails offline).

>>> hybrid = HybridRetriever(dense, bm25, top_k=5)                       # doctest: +SKIP
>>> [h.chunk.doc_id for h in hybrid.search("Who was sworn in?")]         # doctest: +SKIP
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from qa.pointers import asked_item, asked_term, definition, holds_item
from qa.ingest import node_to_chunk
from qa.store.backend import VectorCollection
from qa.store.records import Scored, StoredNode, query_text, read_nodes, row_node
from qa.store.snapshot import SnapshotPolicy
from qa.types import Hit

#: the constant of reciprocal rank fusion (Cormack et al., 2009)
RRF_K = 60.0
#: (chunk dense, BM25, sentence dense) weights per fusion mode; see HybridRetriever
DEFAULT_WEIGHTS = {"rrf": (1.0, 2.0, 1.0), "relative": (0.25, 0.25, 0.5)}


@runtime_checkable
class Retriever(Protocol):
    """Finds the passages most likely to answer a question."""

    def search(self, question: str, top_k: int | None = None) -> list[Hit]:
        """Best hits first."""


class DenseRetriever:
    """Dense search over the stored *chunk* vectors; a node's score is its cosine similarity."""

    def __init__(self, chunks: VectorCollection, embed_query: Callable[[str], Any], top_k: int = 20):
        self.chunks = chunks
        self.embed_query = embed_query
        self.top_k = top_k

    def retrieve(self, question: Any) -> list[Scored]:
        found = self.chunks.query(self.embed_query(query_text(question)), self.top_k)
        return [Scored(row_node(m.id, m.metadata, m.document), m.score) for m in found]


class SentenceDenseRetriever:
    """Dense search over the stored *sentence* vectors, returning the chunks they belong to.

    A 110-word chunk's vector blurs the one sentence that answers; searching sentences finds it,
    and the chunk gives the answerer its context. Ranked by each chunk's best sentence (its cosine
    similarity is the chunk's score).

    The collection's size is read once, on the first question, and kept: a committed state never
    changes under a retriever (a sync writes a new generation, an append a new manifest, and the
    engine then builds a new retriever), and the embedded Chroma's ``count()`` grows with the
    collection (18 ms at 310k sentences).

    ``nodes`` reads the chunks' nodes by id. ``keep_doc`` (a document id -> bool) leaves out
    sentences of other documents (those of an append not yet committed); when it drops some, more
    sentences are asked for until ``top_k`` chunks are found or the collection runs out, so the
    result is what the committed collection alone gives.
    """

    def __init__(self, sentences: VectorCollection, nodes: Callable[[list[str]], list[StoredNode]], embed_query: Any,
                 top_k: int = 20, keep_doc: Callable[[str], bool] | None = None):
        self.sentences = sentences
        self.nodes = nodes
        self.embed_query = embed_query
        self.top_k = top_k
        self.keep_doc = keep_doc
        self._count: int | None = None

    def _size(self) -> int:
        if self._count is None:
            self._count = int(self.sentences.count())
        return self._count

    def retrieve(self, question: Any) -> list[Scored]:
        n = min(self.top_k * 3, max(1, self._size()))
        qvec = self.embed_query(query_text(question))
        while True:
            got = self.sentences.query(qvec, n)
            best: dict[str, float] = {}
            dropped = 0
            for m in got:
                if self.keep_doc is not None and not self.keep_doc(m.metadata.get("doc_id", "")):
                    dropped += 1
                    continue
                best.setdefault(m.metadata["chunk_id"], m.score)
                if len(best) >= self.top_k:
                    break
            if len(best) >= self.top_k or not dropped or len(got) < n:
                break
            n *= 4  # uncommitted sentences took places: ask for more
        if not best:
            return []
        nodes = {nd.node_id: nd for nd in self.nodes(list(best))}
        return [Scored(nodes[cid], score) for cid, score in best.items() if cid in nodes]


class FilteredRetriever:
    """The results of ``make(k)`` (a retriever of the ``k`` best) that ``keep`` accepts.

    When ``keep`` drops results (chunks of an append not yet committed), more are asked for (k × 4)
    until ``top_k`` are kept or the store runs out: the result is what the committed chunks alone give.
    """

    def __init__(self, make: Callable[[int], Any], top_k: int, keep: Callable[[Any], bool]):
        self.make = make
        self.top_k = top_k
        self.keep = keep
        self._by_k: dict[int, Any] = {top_k: make(top_k)}

    def retrieve(self, question: Any) -> list[Scored]:
        k = self.top_k
        while True:
            inner = self._by_k.get(k)
            if inner is None:
                inner = self._by_k.setdefault(k, self.make(k))
            got = inner.retrieve(question)
            kept = [n for n in got if self.keep(n.node)]
            if len(kept) >= self.top_k or len(kept) == len(got) or len(got) < k:
                return kept[: self.top_k]
            k *= 4


class LatestBM25:
    """BM25 that answers with the newest build the store holds for its generation.

    ``latest()`` returns the store's (:class:`~qa.store.sparse.BM25Index`, corpus key, generation); a
    build of another generation is never used (``initial`` answers instead). After an append the store
    rebuilds BM25 in the background: the next question uses it, nothing else is rebuilt. Each build is
    used through a shallow copy whose ``similarity_top_k`` is ``top_k`` (at most its number of chunks).
    """

    def __init__(self, latest: Callable[[], tuple[Any, str, str]], top_k: int, generation: str, initial: Any):
        self.latest = latest
        self.top_k = top_k
        self.generation = generation
        self.initial = initial
        self._sized: tuple[Any, Any] = (None, None)  # (build, its copy)

    def current(self) -> Any:
        bm, _, gen = self.latest()
        if bm is None or gen != self.generation:
            bm = self.initial
        src, sized = self._sized
        if src is not bm:
            sized = copy.copy(bm)
            sized.similarity_top_k = min(self.top_k, int(bm.bm25.scores.get("num_docs", self.top_k)) or 1)
            self._sized = (bm, sized)
        return sized

    @property
    def bm25(self) -> Any:
        return self.current().bm25

    @property
    def corpus(self) -> Any:
        return self.current().corpus

    def retrieve(self, question: Any) -> list[Scored]:
        return self.current().retrieve(question)


class HybridRetriever:
    """Fusion of dense (chunk), sparse (BM25) and sentence-level dense retrievers.

    ``mode="rrf"`` (default) is reciprocal rank fusion: each side adds ``weight / (k + rank)``.
    ``mode="relative"`` adds each side's *normalised score* instead: chunk cosine (as the dense sides
    report it), BM25 divided by
    the query's best BM25 score, best-sentence cosine (a chunk a side did not return gets that
    side's lowest returned score). Measured on a 600-question sample of the SQuAD dev half over all
    2067 paragraphs (paragraph recall@1): BM25 alone 0.74, chunk-dense 0.62, sentence-dense 0.70;
    RRF (k=60) with equal weights 0.75, with BM25 weighted 2 and k=10 (the engine's defaults) 0.77;
    relative scores 0.80. On a second sample of 400: RRF 0.77 (recall@5 0.95), relative 0.79 (0.97).

    Hits report the dense rank (chunk or sentence, whichever was higher) and the sparse rank.
    """

    def __init__(
        self,
        dense: Any,
        sparse: Any | None,
        top_k: int = 5,
        weights: tuple[float, float, float] | None = None,
        sentences: Any | None = None,
        mode: str = "rrf",
        rrf_k: float = RRF_K,
        allowed: Callable[[Any], bool] | None = None,
    ):
        if mode not in ("relative", "rrf"):
            raise ValueError(f"fusion mode must be 'relative' or 'rrf', not {mode!r}")
        self.dense = dense
        self.sparse = sparse
        self.sentences = sentences
        self.top_k = top_k
        self.weights = weights or DEFAULT_WEIGHTS[mode]
        self.mode = mode
        self.rrf_k = rrf_k
        #: a node -> bool: only chunks of the committed documents are ever returned (None: all)
        self.allowed = allowed

    @staticmethod
    def _normalised(side: int, results: list[Scored]) -> list[float]:
        scores = [float(n.score or 0.0) for n in results]
        if side == 1:  # the dense sides are cosine similarities already; BM25 is scaled by its best
            top = max(scores, default=0.0)
            return [x / top if top > 0 else 0.0 for x in scores]
        return scores

    def fused(self, question: str, top_k: int | None = None) -> list[tuple[StoredNode, Hit]]:
        """The ``top_k`` best chunks, each as its stored node and its :class:`~qa.types.Hit`."""
        top_k = top_k or self.top_k
        ranked: list[list[Scored]] = [self.dense.retrieve(question)]
        # BM25 gives zero-score hits when no term matches: they are not evidence
        ranked.append([n for n in self.sparse.retrieve(question) if (n.score or 0.0) > 0] if self.sparse is not None else [])
        ranked.append(self.sentences.retrieve(question) if self.sentences is not None else [])
        if self.allowed is not None:
            ranked = [[n for n in side if self.allowed(n.node)] for side in ranked]
        ranks: dict[str, list[int | None]] = {}
        nodes: dict[str, StoredNode] = {}
        per_side: list[dict[str, float]] = []
        for side, results in enumerate(ranked):
            values = self._normalised(side, results) if self.mode == "relative" else [1.0 / (self.rrf_k + r) for r in range(1, len(results) + 1)]
            got: dict[str, float] = {}
            for rank, (scored, value) in enumerate(zip(results, values), 1):
                nid = scored.node.node_id
                got.setdefault(nid, value)
                r = ranks.setdefault(nid, [None, None])
                slot = 1 if side == 1 else 0
                r[slot] = rank if r[slot] is None else min(r[slot], rank)
                nodes.setdefault(nid, scored.node)
            per_side.append(got)
        fused: dict[str, float] = {}
        for side, got in enumerate(per_side):
            if not got:
                continue
            floor = min(got.values()) if self.mode == "relative" else 0.0
            for nid in nodes:
                fused[nid] = fused.get(nid, 0.0) + self.weights[side] * got.get(nid, floor)
        order = _pointed_first(question, sorted(fused, key=lambda n: (-fused[n], n)), nodes, top_k)
        return [(nodes[nid], Hit(chunk=node_to_chunk(nodes[nid]), score=fused[nid], dense_rank=ranks[nid][0],
                                 sparse_rank=ranks[nid][1])) for nid in order]

    def search(self, question: str, top_k: int | None = None) -> list[Hit]:
        return [h for _, h in self.fused(question, top_k)]


def _pointed_first(question: str, order: list[str], nodes: dict[str, StoredNode], top_k: int) -> list[str]:
    """The ``top_k`` first of ``order``, with the best chunk holding what the question points at by
    form among them (:mod:`qa.pointers`), in the last place if it ranked lower: the line defining "the
    Landlord" ranked seventh (every clause of a user's contract says "the Landlord"), and "## 5.
    Thursday evening session" nowhere for "What was agenda item 5?" ("5" is no term)."""
    term, item = asked_term(question), asked_item(question)
    if (term is None and item is None) or top_k < 2:
        return order[:top_k]
    defines = definition(term) if term else None
    found = next((nid for nid in order if (defines.search(nodes[nid].text) if defines else holds_item(nodes[nid].text, item))), None)
    if found is None or found in order[:top_k]:
        return order[:top_k]
    return order[: top_k - 1] + [found]


def build_retriever(store: Any, embed_query: Callable[[str], Any], top_k: int, candidates: int, mode: str = "rrf",
                    rrf_k: float = RRF_K, snapshot: SnapshotPolicy | None = None) -> HybridRetriever:
    """The engine's retriever over an open :class:`~qa.store.IndexStore`: chunk-dense, BM25 and
    sentence-dense, each giving ``max(candidates, top_k)``, fused into ``top_k`` hits.

    Only chunks of the documents the store's manifest lists are returned: an append under way (or one
    a crash interrupted) has rows in the live collections that are not committed. ``snapshot`` says
    when the committed rows are read into memory (:class:`~qa.store.snapshot.SnapshotPolicy`; the
    default: on the second question, up to MAX_SNAPSHOT_ROWS rows a collection).
    """
    n = max(candidates, top_k)
    manifest = store.manifest  # read once: the filters and the snapshot are of one committed state
    docs = manifest.documents if manifest is not None else None
    # by chunk id, not only document: after a replace the BM25 being rebuilt still holds the old chunks
    ids = None if manifest is None else set(manifest.chunk_ids())

    def keep(node: StoredNode) -> bool:
        return docs is None or (node.metadata.get("doc_id") in docs and (ids is None or node.node_id in ids))

    # this committed state's collections, answered from memory once that pays (qa.store.snapshot)
    chunks, sentence_rows = store.reader_collections(snapshot, manifest)
    dense = FilteredRetriever(lambda k: DenseRetriever(chunks, embed_query, top_k=k), n, keep)
    sparse = store.bm25_retriever(n)  # follows the background rebuild after an append
    sentences = SentenceDenseRetriever(sentence_rows, lambda ids: read_nodes(chunks, ids), embed_query, top_k=n,
                                       keep_doc=None if docs is None else docs.__contains__)
    return HybridRetriever(dense, sparse, top_k=top_k, sentences=sentences, mode=mode, rrf_k=rrf_k, allowed=keep)
