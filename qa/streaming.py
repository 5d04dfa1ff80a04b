"""Streaming answers: checked sentences shown as they complete, in the web chat and on /v1.

An answerer that can stream (``answerer.stream(...)``, e.g. :class:`qa.llm_answer.LLMAnswerer`)
yields :class:`StreamEvent`s: ``"sentence"`` pieces, each already checked against the passage it
cites, then one ``"answer"`` with the final :class:`~qa.types.Answer` (whose ``text`` is the
pieces joined). Other answerers are served as before: one final answer.

:meth:`qa.QA.ask_stream` (and :func:`ask_stream`) is :meth:`qa.QA.ask` that streams, from the same
preparation, follow-ups included (a ``"ready"`` event comes right after retrieval, so a bad question
or an unreachable store raises before anything is sent); :meth:`qa.chat.ChatBackend.stream` logs
store outages once, and the chat (:mod:`qa.web`) and the OpenAI route (:mod:`qa.openai_api`) render
the stream with :mod:`qa.render`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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


def ask_stream(engine: Any, question: str, top_k: int | None = None, *, history: Sequence[Any] = ()) -> Iterator[StreamEvent]:
    """:meth:`qa.QA.ask_stream`: "ready", checked "sentence" pieces, then the "answer" (``history``:
    the earlier :class:`qa.conversation.Turn`\ s, a follow-up resolved against them)."""
    return engine.ask_stream(question, top_k, history=history)
