"""Retrieval: dense (Chroma, over chunks and over sentences) and BM25, fused by reciprocal rank.

:class:`HybridRetriever` is a llama-index ``BaseRetriever``, so llama-index apps can use it as is;
its own :meth:`HybridRetriever.search` returns typed :class:`~qa.types.Hit` objects that keep the rank
each side gave a chunk.

Why not llama-index's ``QueryFusionRetriever``: it fuses by ``node.hash`` (text *and* metadata, so
one chunk read from Chroma and from BM25 can count as two), drops the per-retriever ranks we report,
and its constructor reaches for ``Settings.llm`` (OpenAI by default, which fails offline).

>>> hybrid = HybridRetriever(dense, bm25, top_k=5)                       # doctest: +SKIP
>>> [h.chunk.doc_id for h in hybrid.search("Who was sworn in?")]         # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle

from qa.ingest import node_to_chunk
from qa.types import Hit

#: the constant of reciprocal rank fusion (Cormack et al., 2009)
RRF_K = 60.0


@runtime_checkable
class Retriever(Protocol):
    """Finds the passages most likely to answer a question."""

    def search(self, question: str, top_k: int | None = None) -> list[Hit]:
        """Best hits first."""


class SentenceDenseRetriever(BaseRetriever):
    """Dense search over the stored *sentence* vectors, returning the chunks they belong to.

    A 110-word chunk's vector blurs the one sentence that answers; searching sentences finds it,
    and the chunk gives the answerer its context. Ranked by each chunk's best sentence.
    """

    def __init__(self, sentences: Any, vector_store: Any, embed_query: Any, top_k: int = 20):
        super().__init__()
        self.sentences = sentences
        self.vector_store = vector_store
        self.embed_query = embed_query
        self.top_k = top_k

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        n = min(self.top_k * 3, max(1, self.sentences.count()))
        got = self.sentences.query(query_embeddings=[self.embed_query(query_bundle.query_str).tolist()], n_results=n, include=["metadatas", "distances"])
        best: dict[str, float] = {}
        for md, dist in zip(got["metadatas"][0], got["distances"][0]):
            cid = md["chunk_id"]
            if cid not in best:
                best[cid] = 1.0 - float(dist)  # cosine space: distance = 1 - cosine
            if len(best) >= self.top_k:
                break
        if not best:
            return []
        nodes = {nd.node_id: nd for nd in self.vector_store.get_nodes(node_ids=list(best))}
        return [NodeWithScore(node=nodes[cid], score=score) for cid, score in best.items() if cid in nodes]


class HybridRetriever(BaseRetriever):
    """Reciprocal-rank fusion of dense, sparse and (optionally) sentence-level dense retrievers.

    ``weights`` scale each side's 1/(k + rank) contribution. Hits report the dense (chunk or
    sentence, whichever ranked it higher) and the sparse rank.
    """

    def __init__(self, dense: Any, sparse: Any | None, top_k: int = 5, weights: tuple[float, ...] = (1.0, 1.0, 1.0), sentences: Any | None = None):
        super().__init__()
        self.dense = dense
        self.sparse = sparse
        self.sentences = sentences
        self.top_k = top_k
        self.weights = weights

    def _fuse(self, question: str, top_k: int) -> list[tuple[NodeWithScore, Hit]]:
        bundle = QueryBundle(question)
        ranked: list[list[NodeWithScore]] = [self.dense.retrieve(bundle)]
        ranked.append(self.sparse.retrieve(bundle) if self.sparse is not None else [])
        ranked.append(self.sentences.retrieve(bundle) if self.sentences is not None else [])
        fused: dict[str, float] = {}
        ranks: dict[str, list[int | None]] = {}
        nodes: dict[str, Any] = {}
        for side, results in enumerate(ranked):
            for rank, nws in enumerate(results, 1):
                nid = nws.node.node_id
                # BM25 gives zero-score hits when no term matches: they are not evidence
                if side == 1 and not (nws.score or 0.0) > 0:
                    continue
                fused[nid] = fused.get(nid, 0.0) + self.weights[side] / (RRF_K + rank)
                r = ranks.setdefault(nid, [None, None])
                slot = 1 if side == 1 else 0
                r[slot] = rank if r[slot] is None else min(r[slot], rank)
                nodes.setdefault(nid, nws.node)
        order = sorted(fused, key=lambda n: (-fused[n], n))[:top_k]
        out = []
        for nid in order:
            hit = Hit(chunk=node_to_chunk(nodes[nid]), score=fused[nid], dense_rank=ranks[nid][0], sparse_rank=ranks[nid][1])
            out.append((NodeWithScore(node=nodes[nid], score=fused[nid]), hit))
        return out

    def search(self, question: str, top_k: int | None = None) -> list[Hit]:
        return [h for _, h in self._fuse(question, top_k or self.top_k)]

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [n for n, _ in self._fuse(query_bundle.query_str, self.top_k)]
