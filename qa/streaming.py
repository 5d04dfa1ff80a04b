"""Streaming answers: checked sentences shown as they complete, in the web chat and on /v1.

An answerer that can stream (``answerer.stream(...)``, e.g. :class:`qa.llm_answer.LLMAnswerer`)
yields :class:`StreamEvent`s: ``"sentence"`` pieces, each already checked against the passage it
cites, then one ``"answer"`` with the final :class:`~qa.types.Answer` (whose ``text`` is the
pieces joined). Other answerers are served as before: one final answer.

:func:`ask_stream` is :meth:`qa.QA.ask` that streams (a ``"ready"`` event comes right after
retrieval, so a bad question or an unreachable store raises before anything is sent);
:meth:`qa.chat.ChatBackend.stream` adds follow-ups, and the chat (:mod:`qa.web`) and the OpenAI
route (:mod:`qa.openai_api`) render the stream with :mod:`qa.render`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from qa.types import Answer


@dataclass(frozen=True)
class StreamEvent:
    """``kind``: "ready" (retrieval done), "sentence" (``text``: the next checked piece of the
    answer text, with its leading space) or "answer" (``answer``: the final Answer)."""

    kind: str
    text: str = ""
    answer: Answer | None = None


def can_stream(engine: Any) -> bool:
    """Does ``engine``'s answerer stream checked sentences?"""
    return callable(getattr(getattr(engine, "answerer", None), "stream", None)) and hasattr(engine, "store")


def ask_stream(engine: Any, question: str, top_k: int | None = None) -> Iterator[StreamEvent]:
    """:meth:`qa.QA.ask`, streamed: "ready", checked "sentence" pieces, then the "answer"."""
    t0 = time.perf_counter()
    q, notices = engine._clean_question(question)
    k = engine._top_k(top_k) if hasattr(engine, "_top_k") else (top_k or engine.config.top_k)
    guard = engine._store_errors() if hasattr(engine, "_store_errors") else contextlib.nullcontext()
    with guard:
        retriever = engine._ensure_ready()
        t1 = time.perf_counter()
        qvec = engine.embedder.embed_query(q)
        t2 = time.perf_counter()
        hits = retriever.search(q, k)
        t3 = time.perf_counter()
        vectors = engine.store.sentence_vectors([h.chunk for h in hits])
    yield StreamEvent("ready")
    for event in engine.answerer.stream(q, hits, qvec, vectors):
        if event.kind != "answer" or event.answer is None:
            yield event
            continue
        t4 = time.perf_counter()
        timings = {"prepare_ms": (t1 - t0) * 1000, "embed_ms": (t2 - t1) * 1000, "retrieve_ms": (t3 - t2) * 1000,
                   "answer_ms": (t4 - t3) * 1000, "total_ms": (t4 - t0) * 1000}
        from qa.pipeline import scrub_text

        echo = scrub_text(question) if len(question) <= len(q) + 64 else q
        yield dataclasses.replace(event, answer=dataclasses.replace(
            event.answer, question=echo, searched_question=q, notices=tuple(notices) + event.answer.notices, timings=timings))
