"""The OpenAI-compatible routes: ``POST /v1/chat/completions`` (plain or streamed) and ``GET /v1/models``.

The reply's content is :func:`qa.render.plain_text` of the answer (answer, sources, notices);
``citations`` and the full ``answer`` (``Answer.to_dict()``) travel beside ``choices``, and in the
last streamed chunk. A ``collection`` field (an extension, as in ``/api/ask``) names the collection
asked; none, or ``"default"``, is the default one. Earlier user and assistant messages make
follow-ups work as in the chat: they become typed turns (:func:`turns_from_messages`) for
:meth:`qa.QA.ask`.

>>> parse_chat_messages([{"role": "user", "content": "Who?"}])
('Who?', [])
"""


import dataclasses
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from qa.chat import ChatBackend
from qa.conversation import Turn, resolve
from qa.render import REFUSAL, plain_text
from qa.types import Answer

MODEL_ID = "qa"
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class RequestError(ValueError):
    """A request body that cannot be used; the message says why (sent back with status 400)."""


def content_text(content: Any) -> str:
    """The text of a message's ``content``: a string, or the text parts of a list."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for p in content:
            if isinstance(p, str):
                parts.append(p)
            elif isinstance(p, dict) and p.get("type") in ("text", "input_text") and isinstance(p.get("text"), str):
                parts.append(p["text"])
        return "\n".join(parts)
    raise RequestError("message content must be a string or a list of text parts")


def parse_chat_messages(messages: Any) -> tuple[str, list[tuple[str, str]]]:
    """The question (the last user message) and the earlier (role, text) turns of an OpenAI
    ``messages`` list; system and tool messages are ignored."""
    if not isinstance(messages, list) or not messages:
        raise RequestError("'messages' must be a non-empty list of {role, content} objects")
    turns: list[tuple[str, str]] = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or "role" not in m:
            raise RequestError(f"messages[{i}] must be an object with 'role' and 'content'")
        if m["role"] in ("user", "assistant"):
            turns.append((m["role"], content_text(m.get("content"))))
    last_user = max((i for i, (r, _) in enumerate(turns) if r == "user"), default=None)
    if last_user is None:
        raise RequestError("'messages' holds no user message to answer")
    question = turns[last_user][1]
    if not question.strip():
        raise RequestError("the last user message is empty: ask a question about the documents")
    return question, turns[:last_user]


def turns_from_messages(messages: list[tuple[str, str]]) -> list[Turn]:
    """The turns of an OpenAI conversation: each user message and the assistant reply after it.

    A client sends its history as text only; the reply it got from this route is
    :func:`qa.render.plain_text`, whose first line is the answer's text (a name, a sentence; a quote
    or the refusal when there was no short answer), so that line stands for the short answer. What
    each turn searched for is computed again from the turns before it, never read from the reply.
    """
    turns: list[Turn] = []
    question: str | None = None
    for role, text in messages:
        if role == "user":
            question = text
        elif role == "assistant" and question is not None:
            first = next((ln.strip() for ln in (text or "").splitlines() if ln.strip()), "")
            refused = first.startswith(REFUSAL)
            short = None if refused or first.startswith(("“", '"')) else first
            answer = Answer(question=question, text=text, short_answer=short, refused=refused)
            turns.append(Turn(question=question, searched_for=resolve(question, turns), answer=answer))
            question = None
    return turns


@dataclass(frozen=True)
class Options:
    """What a request asks of the reply. ``stream``, ``max_tokens`` (``max_completion_tokens``; counted
    in words, as ``usage`` is) and ``stop`` (up to 4 strings) are honoured: the content is cut and
    ``finish_reason`` says "length" or "stop". ``n`` must be 1. ``temperature``, ``top_p``, the
    penalties and ``seed`` are checked, then change nothing: the answer is deterministic."""

    stream: bool = False
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()

    def cut(self, content: str) -> tuple[str, str]:
        """(the content as sent, finish_reason): cut before the first stop string, then after
        ``max_tokens`` words.

        >>> Options(max_tokens=2, stop=("!",)).cut("one two three!")
        ('one two', 'length')
        """
        finish = "stop"
        at = min((i for i in (content.find(x) for x in self.stop) if i >= 0), default=-1)
        if at >= 0:
            content = content[:at]
        words = list(re.finditer(r"\S+", content))
        if self.max_tokens is not None and len(words) > self.max_tokens:
            content, finish = content[: words[self.max_tokens - 1].end()], "length"
        return content, finish


def _check_number(body: dict[str, Any], name: str, low: float, high: float) -> None:
    v = body.get(name)
    if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not low <= v <= high):
        raise RequestError(f"'{name}' must be a number from {low:g} to {high:g}")


def parse_options(body: dict[str, Any]) -> Options:
    """The request's :class:`Options`; :class:`RequestError` for a value OpenAI would refuse too
    (or one qa cannot give: ``n`` > 1, a JSON ``response_format``)."""
    for name, low, high in (("temperature", 0, 2), ("top_p", 0, 1), ("presence_penalty", -2, 2), ("frequency_penalty", -2, 2)):
        _check_number(body, name, low, high)
    for name, kind, what in (("stream", bool, "true or false"), ("model", str, "a string"), ("seed", int, "a whole number")):
        v = body.get(name)
        if v is not None and (not isinstance(v, kind) or (kind is int and isinstance(v, bool))):
            raise RequestError(f"'{name}' must be {what}")
    n = body.get("n")
    if n is not None and (isinstance(n, bool) or n != 1):
        raise RequestError("'n' must be 1: qa gives one answer per question")
    fmt = body.get("response_format")
    if fmt is not None and not (isinstance(fmt, dict) and fmt.get("type") == "text"):
        raise RequestError("'response_format' must be {\"type\": \"text\"}: qa answers in text, with citations beside it")
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise RequestError("'max_tokens' must be a whole number of at least 1")
    stop = body.get("stop")
    stops = (stop,) if isinstance(stop, str) else tuple(stop) if isinstance(stop, list) else stop
    if stops is not None and not (isinstance(stops, tuple) and len(stops) <= 4 and all(isinstance(x, str) for x in stops)):
        raise RequestError("'stop' must be a string or a list of up to 4 strings")
    return Options(stream=bool(body.get("stream")), max_tokens=limit, stop=tuple(x for x in stops or () if x))


def _citations(answer: Answer) -> list[dict[str, Any]]:
    return [c.to_dict() for c in answer.citations]


def _usage(question: str, content: str) -> dict[str, int]:
    p, c = len(question.split()), len(content.split())
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def completion_body(answer: Answer, options: Options = Options()) -> dict[str, Any]:
    content, finish = options.cut(plain_text(answer))
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL_ID,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish, "logprobs": None}],
        "usage": _usage(answer.question, content),
        "citations": _citations(answer),
        "answer": answer.to_dict(),
    }


def _chunker() -> Callable[..., str]:
    """One streamed completion's chunk writer (same id and time on every chunk)."""
    cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())

    def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    return event


def completion_chunks(answer: Answer, words_per_chunk: int = 6, options: Options = Options()) -> Iterator[str]:
    """Server-sent events of a streamed completion: role, content pieces, then a final chunk with
    ``finish_reason``, ``citations`` and the full ``answer``, then ``[DONE]``."""
    event = _chunker()
    content, finish = options.cut(plain_text(answer))
    yield event({"role": "assistant", "content": ""})
    pieces = content.split(" ")
    for i in range(0, len(pieces), words_per_chunk):
        text = " ".join(pieces[i:i + words_per_chunk])
        if i + words_per_chunk < len(pieces):
            text += " "
        yield event({"content": text})
    yield event({}, finish, citations=_citations(answer), answer=answer.to_dict(), usage=_usage(answer.question, content))
    yield "data: [DONE]\n\n"


def checked_chunks(events: Iterator[Any], options: Options = Options()) -> Iterator[str]:
    """Server-sent events of a completion whose answerer streams (:meth:`ChatBackend.stream`): the
    role, each checked sentence as it completes, the rest of the reply (sources, notices; the whole
    reply when the extractive answer stood), a final chunk with ``citations`` and the full
    ``answer``, then ``[DONE]`` — the same content as the plain reply."""
    event = _chunker()
    yield event({"role": "assistant", "content": ""})
    shown, sent, finish = "", "", "stop"  # shown: the checked sentences; sent: what the options let through
    for ev in events:
        if ev.kind == "sentence":
            shown += ev.text
        elif ev.kind == "answer" and ev.answer is not None:
            content = plain_text(ev.answer)
            shown += content[len(shown):] if content.startswith(shown) else ("\n\n" if shown else "") + content
        cut, finish = options.cut(shown)
        if len(cut) > len(sent):
            yield event({"content": cut[len(sent):]})
            sent = cut
        if ev.kind == "answer" and ev.answer is not None:
            yield event({}, finish, citations=_citations(ev.answer), answer=ev.answer.to_dict(),
                        usage=_usage(ev.answer.question, sent))
    yield "data: [DONE]\n\n"


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest


def openai_error(message: str, status: int = 400) -> Any:
    from fastapi.responses import JSONResponse

    return JSONResponse({"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}, status_code=status)


async def _complete(backend: ChatBackend, question: str, history: list[Turn], options: Options) -> Any:
    """The completion for ``question``: a StreamingResponse or the body. Retrieval runs before a
    stream is returned, so a bad question (400) or an unreachable store (503) raises here."""
    from fastapi.responses import StreamingResponse
    from starlette.concurrency import run_in_threadpool

    from qa.streaming import can_stream

    if options.stream and can_stream(backend.engine):  # each sentence checked before it is sent
        events = backend.stream(question, history)
        first = await run_in_threadpool(next, events)
        return StreamingResponse(checked_chunks(_chain(first, events), options), media_type="text/event-stream",
                                 headers=SSE_HEADERS)
    answer = await run_in_threadpool(backend.ask, question, history)
    if options.stream:
        return StreamingResponse(completion_chunks(answer, options=options), media_type="text/event-stream", headers=SSE_HEADERS)
    return completion_body(answer, options)


def collection_backend(request: Any, backend: ChatBackend, name: Any) -> ChatBackend:
    """The backend answering from the request body's ``collection``: the default one for none (or
    "default"); an unknown or bad name raises the collections' own errors (404 / 400)."""
    if name in (None, "", "default"):
        return backend
    if not isinstance(name, str):
        raise RequestError("'collection' must be a string: a collection's name (GET /api/collections)")
    return dataclasses.replace(backend, engine=request.app.state.qa_collections.get(name))


def add_openai_routes(app: Any, backend: ChatBackend, read_json: Callable[[Any], Awaitable[dict[str, Any]]],
                      rejected: Callable[[Any, Exception], None], unavailable: Callable[[Any, Exception], Any]) -> None:
    """Add ``/v1/models`` and ``/v1/chat/completions`` to ``app``; ``read_json``, ``rejected`` and
    ``unavailable`` are the server's shared body reader and error answers."""
    from fastapi import Request
    from starlette.concurrency import run_in_threadpool

    from qa.documents_api import error_status
    from qa.guards import InvalidQuestion, NoDocuments, StoreUnavailable

    model = {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "qa"}

    @app.get("/v1/models")
    async def models() -> Any:
        return {"object": "list", "data": [model]}

    @app.get("/v1/models/{model_id}")
    async def one_model(model_id: str) -> Any:  # what OpenAI clients' models.retrieve() asks
        return model if model_id == MODEL_ID else openai_error(f"no model {model_id!r}: this server has one, {MODEL_ID!r}", 404)

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Any:
        """OpenAI-compatible chat completions over the documents (plain or streamed)."""
        try:
            body = await read_json(request)
            question, turns = parse_chat_messages(body.get("messages"))
            options = parse_options(body)
            # a collection's engine is built on its first question (models, index): off the event loop
            chosen = await run_in_threadpool(collection_backend, request, backend, body.get("collection"))
            return await _complete(chosen, question, turns_from_messages(turns), options)
        except (RequestError, InvalidQuestion) as e:
            rejected(request, e)
            return openai_error(str(e))
        except StoreUnavailable as e:
            return unavailable(request, e)
        except (LookupError, ValueError, NoDocuments) as e:  # an unknown or invalid collection, an empty one
            if not error_status(e):
                raise
            rejected(request, e)
            empty = isinstance(e, NoDocuments) and body.get("collection")  # its own message names a server folder
            return openai_error(f"collection {body['collection']!r} has no documents yet: add one first" if empty else str(e),
                                error_status(e))
