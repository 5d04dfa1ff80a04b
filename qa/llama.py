"""llama-index adapters: the engine as a query engine whose responses carry our citations."""

from __future__ import annotations

from typing import Any

from llama_index.core.base.response.schema import Response
from llama_index.core.query_engine import CustomQueryEngine
from llama_index.core.schema import NodeWithScore, TextNode


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
