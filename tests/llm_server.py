"""A scripted OpenAI-compatible chat server for the LLM answerer's tests.

It speaks ``POST /v1/chat/completions`` (plain JSON, or server-sent events with ``"stream": true``)
and ``GET /v1/models`` on 127.0.0.1, on a free port, in a background thread. Each request takes the
next scripted :class:`Reply` (status, delay, text, a raw body for malformed replies); when the script
is empty, ``default`` (a function of the request body) answers. Every request body is recorded.

>>> with ScriptedLLM() as llm:                                   # doctest: +SKIP
...     llm.push(Reply("Delcy Rodríguez was sworn in as interim president [1]."))
...     answerer = build_llm_answerer(config_for(llm.base_url), embedder, fallback)
"""


import asyncio
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    text: str = ""
    status: int = 200
    #: seconds before the response starts
    delay: float = 0.0
    #: seconds between streamed pieces
    piece_delay: float = 0.0
    #: streamed: after this many pieces, wait ``stall`` seconds (a model that stops mid-reply)
    stall_after: int | None = None
    stall: float = 0.0
    #: sent as the body instead of a completion (malformed replies); status still applies
    raw: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _completion(text: str, model: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop", "logprobs": None}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _chunk(cid: str, model: str, delta: dict[str, Any], finish: str | None = None) -> str:
    body = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def pieces(text: str, size: int = 3) -> list[str]:
    """``text`` cut into pieces of ``size`` words (whitespace kept), as a model streams tokens."""
    words = re.findall(r"\S+\s*|\s+", text)
    return ["".join(words[i:i + size]) for i in range(0, len(words), size)] or [""]


def passages_of(body: dict[str, Any]) -> dict[int, str]:
    """The numbered passages of a request's prompt: {n: text}."""
    user = next((m.get("content", "") for m in body.get("messages", []) if m.get("role") == "user"), "")
    if isinstance(user, list):
        user = " ".join(p.get("text", "") for p in user if isinstance(p, dict))
    found = re.findall(r"^\[(\d+)\] \(from: [^\n]*\)\n([^\n]*)", user, re.M)
    return {int(n): text for n, text in found}


class ScriptedLLM:
    """The server; ``base_url`` is its ``.../v1``. Use as a context manager, or start()/stop()."""

    def __init__(self, default: Callable[[dict[str, Any]], Reply] | None = None, model: str = "scripted"):
        self.replies: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self.default = default or (lambda body: Reply("The answer is not in the passages."))
        self.model = model
        self._lock = threading.Lock()
        self.thread: Any = None

    def push(self, *replies: Reply | str) -> "ScriptedLLM":
        with self._lock:
            self.replies.extend(r if isinstance(r, Reply) else Reply(r) for r in replies)
        return self

    def _next(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(body)
            if self.replies:
                return self.replies.popleft()
        return self.default(body)

    def app(self) -> Any:
        from fastapi import FastAPI, Request
        from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse

        app = FastAPI()

        @app.get("/v1/models")
        async def models() -> Any:
            return {"object": "list", "data": [{"id": self.model, "object": "model", "created": 0, "owned_by": "test"}]}

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> Any:
            body = await request.json()
            reply = self._next(body)
            if reply.delay:
                await asyncio.sleep(reply.delay)
            if reply.raw is not None:
                return PlainTextResponse(reply.raw, status_code=reply.status, headers=reply.headers,
                                         media_type="application/json")
            if reply.status != 200:
                err = {"error": {"message": f"scripted error {reply.status}", "type": "server_error", "code": reply.status}}
                return JSONResponse(err, status_code=reply.status, headers=reply.headers)
            if not body.get("stream"):
                return JSONResponse(_completion(reply.text, body.get("model", self.model)))
            return StreamingResponse(self._events(reply, body.get("model", self.model)), media_type="text/event-stream")

        return app

    async def _events(self, reply: Reply, model: str) -> Any:
        cid = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        yield _chunk(cid, model, {"role": "assistant", "content": ""})
        for i, piece in enumerate(pieces(reply.text)):
            if reply.piece_delay:
                await asyncio.sleep(reply.piece_delay)
            if reply.stall_after is not None and i == reply.stall_after:
                await asyncio.sleep(reply.stall)
            yield _chunk(cid, model, {"content": piece})
        yield _chunk(cid, model, {}, "stop")
        yield "data: [DONE]\n\n"

    def start(self) -> "ScriptedLLM":
        import uvicorn

        from tests.webserver import free_port

        self.port = free_port()
        config = uvicorn.Config(self.app(), host="127.0.0.1", port=self.port, log_level="critical", lifespan="off",
                                timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=f"scripted-llm-{self.port}", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the scripted LLM server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self.thread is not None:
            self.server.should_exit = True
            self.server.force_exit = True  # slow scripted replies must not hold up the test run
            self.thread.join(5)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> "ScriptedLLM":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def echo_best_sentence(body: dict[str, Any], extra: str = "") -> Reply:
    """A default reply for end-to-end runs: passage [1]'s sentence sharing most words with the
    question, cited [1], then ``extra`` (e.g. a hallucinated sentence, to count drops)."""
    user = next((m.get("content", "") for m in body.get("messages", []) if m.get("role") == "user"), "")
    question = user.rsplit("Question:", 1)[-1].split("\n", 1)[0]
    q_words = {w.lower() for w in re.findall(r"\w{4,}", question)}
    passages = passages_of(body)
    if not passages:
        return Reply("The answer is not in the passages.")
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", passages[min(passages)]) if len(s.split()) >= 4]
    best = max(sentences or [passages[min(passages)]], key=lambda s: len(q_words & {w.lower() for w in re.findall(r"\w{4,}", s)}))
    best = best.rstrip()
    end = len(best.rstrip(".!?”\"'’"))
    return Reply(f"{best[:end]} [1]{best[end:] or '.'} {extra}".strip())
