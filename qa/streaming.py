"""Streaming answers: checked sentences shown as they complete, in the web chat and on /v1.

An answerer that can stream (``answerer.stream(...)``, e.g. :class:`qa.llm_answer.LLMAnswerer`)
yields :class:`StreamEvent`s: ``"sentence"`` pieces, each already checked against the passage it
cites, then one ``"answer"`` with the final :class:`~qa.types.Answer` (whose ``text`` is the
pieces joined). Other answerers are served as before: one final answer.

:func:`ask_stream` is :meth:`qa.QA.ask` that streams (a ``"ready"`` event comes right after
retrieval, so a bad question or an unreachable store raises before anything is sent);
:func:`chat_stream` adds the chat's follow-up rewriting; :func:`chat_messages` and
:func:`openai_events` render the stream for Gradio and for OpenAI clients.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
import uuid
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


def chat_stream(backend: Any, question: str, history: Sequence[Any] = (), previous: Any = None) -> Iterator[StreamEvent]:
    """:meth:`qa.web.ChatBackend.ask`, streamed: follow-ups rewritten, store outages recorded once."""
    from qa.followup import rewrite
    from qa.pipeline import StoreUnavailable, clean_question, scrub_text

    limit = getattr(getattr(backend.engine, "config", None), "max_question_chars", 2000)
    q, notices = clean_question(question, limit)
    if previous is None and history:
        previous = backend.previous_turn(history)
    searched = rewrite(q, previous) if previous is not None else q
    started = time.monotonic()
    events = ask_stream(backend.engine, searched)
    try:
        first = next(events)
    except StoreUnavailable as e:
        backend.outage.failed(e)
        raise
    backend.outage.ok(started)
    yield first
    echo = scrub_text(question) if len(question) <= len(q) + 64 else q
    for event in events:
        if event.kind == "answer" and event.answer is not None:
            event = dataclasses.replace(event, answer=dataclasses.replace(
                event.answer, question=echo, notices=tuple(notices) + event.answer.notices))
        yield event


def chat_messages(backend: Any, question: str, history: Sequence[Any] = ()) -> Iterator[list[dict[str, Any]]]:
    """The Gradio chat reply, growing: the checked sentences so far, then the full reply (answer and
    sources) — what :meth:`qa.web.ChatBackend.reply` returns, streamed."""
    from qa.pipeline import InvalidQuestion, StoreUnavailable
    from qa.web import _md_escape, log, render_messages

    shown = ""
    try:
        for event in chat_stream(backend, question, history):
            if event.kind == "sentence":
                shown += event.text
                yield [{"role": "assistant", "content": _md_escape(shown)}]
            elif event.kind == "answer" and event.answer is not None:
                messages = render_messages(event.answer, asked=event.answer.question)
                backend.answers.put(messages[0]["content"], event.answer)
                yield messages
    except InvalidQuestion as e:
        log.warning("rejected a chat question: %s", e)
        yield [{"role": "assistant", "content": f"*{_md_escape(str(e))}*"}]
    except StoreUnavailable as e:  # logged once per outage by chat_stream
        yield [{"role": "assistant", "content": f"*{_md_escape(str(e))}*"}]


def openai_events(first: StreamEvent, events: Iterator[StreamEvent]) -> Iterator[str]:
    """Server-sent events of a streamed OpenAI chat completion: the role, each checked sentence as
    it completes, the rest of the reply (sources, notices; the whole reply when the extractive
    answer stood), a final chunk with ``citations`` and the full ``answer``, then ``[DONE]`` — the
    same content as the plain reply."""
    from qa.server import MODEL_ID, _citations, _usage, plain_reply

    cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())

    def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant", "content": ""})
    shown = ""
    for ev in _chain(first, events):
        if ev.kind == "sentence":
            shown += ev.text
            yield event({"content": ev.text})
        elif ev.kind == "answer" and ev.answer is not None:
            content = plain_reply(ev.answer)
            rest = content[len(shown):] if content.startswith(shown) else ("\n\n" if shown else "") + content
            if rest:
                yield event({"content": rest})
            yield event({}, "stop", citations=_citations(ev.answer), answer=ev.answer.to_dict(),
                        usage=_usage(ev.answer.question, shown + rest))
    yield "data: [DONE]\n\n"


def _chain(first: StreamEvent, rest: Iterator[StreamEvent]) -> Iterator[StreamEvent]:
    yield first
    yield from rest


async def openai_stream_response(backend: Any, question: str, previous: Any) -> Any:
    """A StreamingResponse for ``/v1/chat/completions`` with ``"stream": true``. Retrieval runs
    before it is returned, so a bad question (400) or an unreachable store (503) raises here."""
    from fastapi.responses import StreamingResponse
    from starlette.concurrency import run_in_threadpool

    events = chat_stream(backend, question, (), previous)
    first = await run_in_threadpool(next, events, None)
    if first is None:  # pragma: no cover - chat_stream always yields "ready" first
        first = StreamEvent("ready")
    return StreamingResponse(openai_events(first, events), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
