"""Retrieval: dense (Chroma) and BM25, fused by reciprocal rank.

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


class HybridRetriever(BaseRetriever):
    """Reciprocal-rank fusion of a dense and a sparse llama-index retriever.

    ``weights`` scale each side's 1/(k + rank) contribution.
    """

    def __init__(self, dense: Any, sparse: Any | None, top_k: int = 5, weights: tuple[float, float] = (1.0, 1.0)):
        super().__init__()
        self.dense = dense
        self.sparse = sparse
        self.top_k = top_k
        self.weights = weights

    def _fuse(self, question: str, top_k: int) -> list[tuple[NodeWithScore, Hit]]:
        bundle = QueryBundle(question)
        ranked: list[list[NodeWithScore]] = [self.dense.retrieve(bundle)]
        ranked.append(self.sparse.retrieve(bundle) if self.sparse is not None else [])
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
                ranks.setdefault(nid, [None, None])[side] = rank
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
