"""llama-index adapters: the engine's retriever as a ``BaseRetriever``, and the engine as a query
engine whose responses carry our citations.

The only module that imports llama-index on the query side, and only :meth:`qa.QA.as_retriever` and
:meth:`qa.QA.as_query_engine` import it: answering never does (llama-index's core is ~380 modules,
about a second of a new process).
"""

from __future__ import annotations

from typing import Any

from llama_index.core.base.response.schema import Response
from llama_index.core.query_engine import CustomQueryEngine
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from llama_index.core.vector_stores.utils import metadata_dict_to_node

from qa.store.records import StoredNode


def to_text_node(node: StoredNode) -> Any:
    """The llama-index node of a stored chunk: the ``TextNode`` (id, text, metadata, templates,
    relationships) that llama-index itself reads from the row."""
    text_node = metadata_dict_to_node(dict(node.row), text=node.text)
    text_node.id_ = node.node_id
    return text_node


class QARetriever(BaseRetriever):
    """``engine.as_retriever()``: the engine's hybrid retriever (:class:`qa.retrieve.HybridRetriever`)
    for llama-index apps; a node's score is its fused score.

    ``dense``, ``sparse`` and ``sentences`` are the hybrid's sides (benchmarks time them one by one).
    """

    def __init__(self, hybrid: Any = None, engine: Any = None):
        super().__init__()
        self._hybrid, self.engine = hybrid, engine

    @property
    def hybrid(self) -> Any:
        """The engine's current retriever (rebuilt by every upload or sync: a retriever made before
        an upload finds the new document), or the one given."""
        return self.engine._ensure_ready() if self.engine is not None else self._hybrid

    def retrieve(self, str_or_query_bundle: Any) -> list[NodeWithScore]:
        _check_query(str_or_query_bundle)  # before llama-index wraps it (None would be a pydantic error)
        return super().retrieve(str_or_query_bundle)

    async def aretrieve(self, str_or_query_bundle: Any) -> list[NodeWithScore]:
        _check_query(str_or_query_bundle)
        return await super().aretrieve(str_or_query_bundle)

    @property
    def dense(self) -> Any:
        return self.hybrid.dense

    @property
    def sparse(self) -> Any:
        return self.hybrid.sparse

    @property
    def sentences(self) -> Any:
        return self.hybrid.sentences

    def search(self, question: str, top_k: int | None = None) -> Any:
        """The hybrid's typed hits (:meth:`qa.retrieve.HybridRetriever.search`)."""
        return self.hybrid.search(question, top_k)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        if self.engine is None:
            fused = self._hybrid.fused(query_bundle.query_str)
        else:  # as QA.retrieve: the question cleaned (InvalidQuestion when empty), reads guarded against deletes
            q, _ = self.engine._clean_question(query_bundle.query_str)
            with self.engine._store_errors(), self.engine.store.reading():
                fused = self.hybrid.fused(q)
        return [NodeWithScore(node=to_text_node(node), score=hit.score) for node, hit in fused]


def _check_query(query: Any) -> None:
    from qa.guards import InvalidQuestion

    text = query.query_str if isinstance(query, QueryBundle) else query
    if not isinstance(text, str):
        raise InvalidQuestion(f"a question is text (or a QueryBundle), not {type(text).__name__}")


class QAQueryEngine(CustomQueryEngine):
    """``engine.as_query_engine()``: answers with :meth:`qa.QA.ask`, no LLM involved.

    >>> r = QA().as_query_engine().query("Who was sworn in as interim president?")   # doctest: +SKIP
    >>> r.source_nodes[0].node.metadata["doc_id"]                                     # doctest: +SKIP
    '001_08e073e419b132d4.txt'
    """

    engine: Any

    def custom_query(self, query_str: str) -> Response:
        answer = self.engine.ask(query_str)
        if answer.citations:
            nodes = [
                NodeWithScore(
                    node=TextNode(id_=f"{c.chunk_id}@{c.start}", text=c.quote, start_char_idx=c.start, end_char_idx=c.end,
                                  metadata=c.to_dict()),
                    score=c.score,
                )
                for c in answer.citations
            ]
        else:  # a refusal: the nearest passages, so the caller can see what was searched
            nodes = [
                NodeWithScore(node=TextNode(id_=h.chunk.chunk_id, text=h.chunk.text, metadata=h.to_dict() | {"text": ""}), score=h.score)
                for h in answer.passages
            ]
        return Response(response=answer.text, source_nodes=nodes, metadata={"answer": answer.to_dict()})
