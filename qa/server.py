"""One server, one port: the Gradio chat, a REST route and an OpenAI-compatible API.

Routes (beside the Gradio app mounted at ``/``):

* ``POST /api/ask`` — ``{"question": "...", "history": [{"role", "content"}, ...]?}`` →
  ``Answer.to_dict()`` (400 with ``{"error": ...}`` for an empty question).
* ``GET /api/stats`` — what the collection holds.
* ``POST /v1/chat/completions`` — OpenAI chat completions, plain or streamed (``"stream": true``,
  server-sent events ending in ``data: [DONE]``). The reply's content is the answer with a
  "Sources:" list; ``citations`` (and the full ``answer``) travel beside ``choices``, and in the
  last streamed chunk. Earlier messages make follow-ups work as in the chat.
* ``GET /v1/models`` — the one model, ``qa``.
* Gradio's named endpoints ``/chat`` (the chat reply) and ``/ask`` (``Answer.to_dict()``) for
  ``gradio_client``, and ``/upload``.

Defaults bind 127.0.0.1:7860. Host, port, basic auth (``user:password``), the upload size limit,
the request body limit of the REST and OpenAI routes and the keep-alive timeout come from flags or
``QA_HOST``, ``QA_PORT``, ``QA_AUTH``, ``QA_MAX_UPLOAD_BYTES``, ``QA_MAX_BODY_BYTES``,
``QA_KEEP_ALIVE``. With auth on, every route (the page, Gradio's API, REST, OpenAI) needs HTTP
basic credentials; OpenAI clients may send ``Authorization: Bearer user:password`` (their
``api_key``) instead.

A body over the limit gets 413 with a JSON error before anything parses it (Content-Length is
checked first; a chunked body is counted as it arrives). When the vector store (a Chroma server,
``QA_CHROMA_URL``) cannot be reached, the routes answer 503 with a JSON error naming it and saying
how to start it; one warning is logged per outage, and answers resume by themselves once it is back.

>>> from qa import QA
>>> server = ServerThread(create_app(QA()), port=0).start()   # doctest: +SKIP
>>> server.url                                                 # doctest: +SKIP
'http://127.0.0.1:40123/'
"""


import argparse
import base64
import hmac
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

MODEL_ID = "qa"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
#: request body limit of the REST and OpenAI routes (a question is cut to 2000 characters anyway)
DEFAULT_MAX_BODY_BYTES = 1_048_576
#: seconds an idle keep-alive connection stays open; well above an HTTP client's own pool expiry
#: (httpx: 5 s), so a pooled connection is never closed by the server just as the client reuses it
DEFAULT_KEEP_ALIVE_S = 30.0


@dataclass(frozen=True)
class ServeSettings:
    """Where and how the server listens. Build it with :meth:`resolve` (flags > QA_* env > defaults)."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    auth: tuple[str, str] | None = None
    max_upload_bytes: int | None = None
    #: request body limit of /api/* and /v1/* (413 above it); Gradio's upload route has its own
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    #: uvicorn's timeout_keep_alive: seconds an idle keep-alive connection is kept open
    keep_alive_s: float = DEFAULT_KEEP_ALIVE_S

    @classmethod
    def resolve(cls, host: str | None = None, port: int | None = None, auth: str | None = None,
                max_upload_bytes: int | None = None, max_body_bytes: int | None = None,
                keep_alive_s: float | None = None) -> "ServeSettings":
        from qa.uploads import DEFAULT_MAX_UPLOAD_BYTES

        env = os.environ
        host = host or env.get("QA_HOST") or DEFAULT_HOST
        try:
            port = int(port if port is not None else env.get("QA_PORT") or DEFAULT_PORT)
            limit = int(max_upload_bytes if max_upload_bytes is not None else env.get("QA_MAX_UPLOAD_BYTES") or DEFAULT_MAX_UPLOAD_BYTES)
            body = int(max_body_bytes if max_body_bytes is not None else env.get("QA_MAX_BODY_BYTES") or DEFAULT_MAX_BODY_BYTES)
        except ValueError as e:
            raise ValueError(f"port, upload limit and body limit must be whole numbers ({e})") from None
        try:
            keep_alive = float(keep_alive_s if keep_alive_s is not None else env.get("QA_KEEP_ALIVE") or DEFAULT_KEEP_ALIVE_S)
        except ValueError as e:
            raise ValueError(f"the keep-alive timeout must be a number of seconds ({e})") from None
        if not 0 <= port <= 65535:
            raise ValueError(f"port {port} is out of range")
        if limit < 1:
            raise ValueError("the upload limit must be at least 1 byte")
        if body < 1:
            raise ValueError("the request body limit must be at least 1 byte")
        if not keep_alive > 0:
            raise ValueError("the keep-alive timeout must be more than 0 seconds")
        return cls(host=host, port=port, auth=parse_auth(auth if auth is not None else env.get("QA_AUTH")), max_upload_bytes=limit,
                   max_body_bytes=body, keep_alive_s=keep_alive)


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``"user:password"`` → ``("user", "password")``; empty → no auth.

    >>> parse_auth("ann:s3:cret")
    ('ann', 's3:cret')
    """
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ValueError("auth must look like user:password (both non-empty)")
    return user, password


# =================================================================================================
# Basic auth (pure ASGI, so streaming responses and Gradio's event stream pass through untouched)
# =================================================================================================


class BasicAuthMiddleware:
    """Require HTTP basic credentials (or ``Bearer user:password``) on every request."""

    def __init__(self, app: Any, username: str, password: str, realm: str = "qa"):
        self.app = app
        self.expected = f"{username}:{password}".encode()
        self.realm = realm

    def _ok(self, header: bytes | None) -> bool:
        if not header:
            return False
        scheme, _, value = header.partition(b" ")
        scheme = scheme.lower()
        if scheme == b"basic":
            try:
                given = base64.b64decode(value.strip(), validate=True)
            except (ValueError, TypeError):
                return False
        elif scheme == b"bearer":
            given = value.strip()
        else:
            return False
        return hmac.compare_digest(given, self.expected)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers") or []).get(b"authorization")
        if self._ok(header):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        from starlette.responses import PlainTextResponse

        response = PlainTextResponse(
            "Authentication required.", status_code=401,
            headers={"WWW-Authenticate": f'Basic realm="{self.realm}", charset="UTF-8"'},
        )
        await response(scope, receive, send)


# =================================================================================================
# Request body limit (pure ASGI: the body is counted before any route reads or parses it)
# =================================================================================================


def _error_body(path: str, message: str, kind: str, code: str) -> dict[str, Any]:
    """The JSON error of a route: OpenAI's shape on /v1, ``{"error": message}`` elsewhere."""
    if path.startswith("/v1/"):
        return {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return {"error": message}


class BodyLimitMiddleware:
    """Answer 413 with a JSON error when a request body to ``prefixes`` is over ``max_bytes``.

    A Content-Length over the limit is refused before a byte of the body is read; otherwise the
    body (chunked, or with a Content-Length) is read and counted as it arrives, refused as soon as
    the count passes the limit, and else handed to the route unchanged. The rest of a refused body
    is discarded by the server as it arrives (the connection stays usable). Other paths, e.g.
    Gradio's upload route (which has its own limit), pass through untouched.
    """

    def __init__(self, app: Any, max_bytes: int, prefixes: tuple[str, ...] = ("/api/", "/v1/")):
        self.app = app
        self.max_bytes = max_bytes
        self.prefixes = prefixes

    async def _refuse(self, scope: dict, send: Any, size: int | None) -> None:
        path = scope.get("path", "")
        told = f"the request body ({size:,} bytes)" if size is not None else "the request body"
        message = f"{told} is over the {self.max_bytes:,}-byte limit of this server (QA_MAX_BODY_BYTES): send a shorter question"
        log.warning("refused %s %s: %s", scope.get("method", ""), path, message)
        body = json.dumps(_error_body(path, message, "invalid_request_error", "request_too_large")).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers") or []:
            if name == b"content-length":
                try:
                    size = int(value)
                except ValueError:
                    size = None
                if size is not None and size > self.max_bytes:
                    await self._refuse(scope, send, size)
                    return
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: nobody to answer
                return
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > self.max_bytes:
                await self._refuse(scope, send, None)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # then the real stream (a disconnect, for streamed answers)

        await self.app(scope, replay, send)


# =================================================================================================
# OpenAI-compatible helpers
# =================================================================================================


class RequestError(ValueError):
    """A request body that cannot be used; the message says why (sent back with status 400)."""


def _content_text(content: Any) -> str:
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
            turns.append((m["role"], _content_text(m.get("content"))))
    last_user = max((i for i, (r, _) in enumerate(turns) if r == "user"), default=None)
    if last_user is None:
        raise RequestError("'messages' holds no user message to answer")
    question = turns[last_user][1]
    if not question.strip():
        raise RequestError("the last user message is empty: ask a question about the documents")
    return question, turns[:last_user]


def plain_reply(answer: Any) -> str:
    """The answer as plain text for chat clients: answer, quotes, then sources."""
    lines = [answer.text]
    searched = answer.searched_question
    if searched and " ".join(searched.split()) != " ".join(answer.question.split()):
        lines += ["", f"(Searched for: {searched})"]
    if answer.refused and answer.passages:
        lines += ["", "Nearest passages:"]
        for h in answer.passages[:3]:
            snippet = " ".join(h.chunk.text.split())
            lines.append(f"- {h.chunk.title} ({h.chunk.doc_id}, characters {h.chunk.start}-{h.chunk.end}): "
                         f"{snippet[:200]}{'…' if len(snippet) > 200 else ''}")
    if answer.citations:
        lines += ["", "Sources:"]
        for c in answer.citations:
            lines.append(f"[{c.n}] {c.title} — {c.doc_id}, characters {c.start}-{c.end}")
    for n in answer.notices:
        lines += ["", f"Note: {n}"]
    return "\n".join(lines)


def _citations(answer: Any) -> list[dict[str, Any]]:
    return [c.to_dict() for c in answer.citations]


def _usage(question: str, content: str) -> dict[str, int]:
    p, c = len(question.split()), len(content.split())
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def completion_body(answer: Any, question: str) -> dict[str, Any]:
    content = plain_reply(answer)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL_ID,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop", "logprobs": None}],
        "usage": _usage(question, content),
        "citations": _citations(answer),
        "answer": answer.to_dict(),
    }


def completion_chunks(answer: Any, question: str, words_per_chunk: int = 6) -> Iterator[str]:
    """Server-sent events of a streamed completion: role, content pieces, then a final chunk with
    ``finish_reason``, ``citations`` and the full ``answer``, then ``[DONE]``."""
    cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
    content = plain_reply(answer)

    def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant", "content": ""})
    pieces = content.split(" ")
    for i in range(0, len(pieces), words_per_chunk):
        text = " ".join(pieces[i:i + words_per_chunk])
        if i + words_per_chunk < len(pieces):
            text += " "
        yield event({"content": text})
    yield event({}, "stop", citations=_citations(answer), answer=answer.to_dict(), usage=_usage(question, content))
    yield "data: [DONE]\n\n"


def _openai_error(message: str, status: int = 400) -> Any:
    from fastapi.responses import JSONResponse

    return JSONResponse({"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}, status_code=status)


# =================================================================================================
# The app
# =================================================================================================


def create_app(engine: Any, settings: ServeSettings | None = None, demo: Any = None) -> Any:
    """A FastAPI app with the REST and OpenAI routes and the Gradio chat mounted at ``/``."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, StreamingResponse
    from starlette.concurrency import run_in_threadpool

    from qa import streaming, web
    from qa.followup import previous_turn
    from qa.pipeline import InvalidQuestion, StoreUnavailable

    settings = settings or ServeSettings.resolve()
    demo = demo or web.build_app(engine, max_upload_bytes=settings.max_upload_bytes)
    backend: web.ChatBackend = demo.qa_backend

    app = FastAPI(title="qa", docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json")

    def rejected(request: Request, e: Exception) -> None:  # the client's mistake: one line, no traceback
        log.warning("rejected %s %s: %s", request.method, request.url.path, str(e)[:300])

    def unavailable(request: Request, e: StoreUnavailable) -> Any:
        """503 naming the store and what to do (the outage is logged once, by ``backend.outage``)."""
        body = _error_body(request.url.path, str(e), "server_error", "store_unavailable")
        if isinstance(body["error"], dict):
            body["error"]["store"] = e.url
        else:
            body["store"] = e.url
        return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})

    async def _json(request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            raise RequestError("the request body must be JSON") from None
        except RecursionError:  # e.g. 100 000 nested brackets: Python's parser gives up
            raise RequestError("the request body is nested too deeply") from None
        if not isinstance(body, dict):
            raise RequestError("the request body must be a JSON object")
        return body

    @app.post("/api/ask")
    async def api_ask(request: Request) -> Any:
        """Answer a question: ``{"question": "..."}`` → ``Answer.to_dict()``."""
        try:
            body = await _json(request)
            question = body.get("question")
            if not isinstance(question, str):
                raise RequestError("'question' must be a string")
            history = body.get("history") or []
            if not isinstance(history, list):
                raise RequestError("'history' must be a list of {role, content} messages")
            turns = [(m.get("role", ""), _content_text(m.get("content"))) for m in history if isinstance(m, dict)]
            answer = await run_in_threadpool(backend.ask, question, (), previous_turn(turns))
        except (RequestError, InvalidQuestion) as e:
            rejected(request, e)
            return JSONResponse({"error": str(e)}, status_code=400)
        except StoreUnavailable as e:
            return unavailable(request, e)
        return answer.to_dict()

    @app.get("/api/stats")
    async def api_stats(request: Request) -> Any:
        """What the collection holds: documents, chunks, titles, index folder."""
        started = time.monotonic()
        try:
            stats = await run_in_threadpool(engine.stats)
        except StoreUnavailable as e:
            backend.outage.failed(e)
            return unavailable(request, e)
        backend.outage.ok(started)
        return stats

    @app.get("/v1/models")
    async def models() -> Any:
        return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "qa"}]}

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Any:
        """OpenAI-compatible chat completions over the documents (plain or streamed)."""
        try:
            body = await _json(request)
            question, turns = parse_chat_messages(body.get("messages"))
            if body.get("stream") and streaming.can_stream(engine):  # each sentence checked before it is sent
                return await streaming.openai_stream_response(backend, question, previous_turn(turns))
            answer = await run_in_threadpool(backend.ask, question, (), previous_turn(turns))
        except (RequestError, InvalidQuestion) as e:
            rejected(request, e)
            return _openai_error(str(e))
        except StoreUnavailable as e:
            return unavailable(request, e)
        if body.get("stream"):
            return StreamingResponse(completion_chunks(answer, answer.question), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        return completion_body(answer, answer.question)

    mb = (settings.max_upload_bytes or 0) * 4 or None  # Gradio's hard cap; the friendly check is ours
    gr.mount_gradio_app(
        app, demo, path="/", server_name=settings.host, server_port=settings.port,
        css=web.CSS, theme=web.theme(), footer_links=["api", "settings"], max_file_size=mb, show_error=True,
        ssr_mode=False, mcp_server=False,
    )
    # Gradio checks that a FileData path sent to an event lies in its upload folder only once the
    # Blocks "has launched", which mount_gradio_app never marks: without this, any client could name
    # a server file ({"path": "/root/secret.txt"}) and Gradio would copy it in for the upload event
    demo.has_launched = True
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.auth:
        app.add_middleware(BasicAuthMiddleware, username=settings.auth[0], password=settings.auth[1])
    app.state.qa_backend = backend
    app.state.qa_demo = demo
    app.state.qa_settings = settings
    return app


def free_port(host: str = DEFAULT_HOST) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class ServerThread:
    """Run an ASGI app with uvicorn in a background thread (tests, screenshots, notebooks).

    >>> with ServerThread(app, port=0) as server:     # doctest: +SKIP
    ...     httpx.post(server.url + "api/ask", json={"question": "..."})
    """

    def __init__(self, app: Any, host: str = DEFAULT_HOST, port: int = 0, log_level: str = "warning",
                 keep_alive_s: float | None = None):
        import uvicorn

        self.host = host
        self.port = port or free_port(host)
        if keep_alive_s is None:  # the app's own setting (create_app keeps it), else the default
            settings = getattr(getattr(app, "state", None), "qa_settings", None)
            keep_alive_s = getattr(settings, "keep_alive_s", DEFAULT_KEEP_ALIVE_S)
        # open event streams (a browser tab, a gradio_client heartbeat) must not hold up stop()
        self.config = uvicorn.Config(app, host=host, port=self.port, log_level=log_level, lifespan="on",
                                     timeout_graceful_shutdown=2, timeout_keep_alive=keep_alive_s)
        self.server = uvicorn.Server(self.config)
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self, timeout: float = 60) -> "ServerThread":
        self.thread = threading.Thread(target=self.server.run, name=f"qa-server-{self.port}", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError(f"the server did not start on {self.host}:{self.port} (port in use?)")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"the server did not start within {timeout:.0f}s")
            time.sleep(0.05)
        return self

    def stop(self, timeout: float = 15) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout)

    def __enter__(self) -> "ServerThread":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


# =================================================================================================
# Entry point: `python app.py` and `qa serve`
# =================================================================================================


class _IndexLog:
    """Log indexing progress (chunks embedded) every 10%."""

    def __init__(self) -> None:
        self.next = 0.0

    def __call__(self, done: int, total: int) -> None:
        if total and done / total >= self.next:
            log.info("embedding: %d/%d chunks", done, total)
            self.next = done / total + 0.1


def prepare_engine(engine: Any) -> dict[str, Any]:
    """Bring the index up to date and load the model once, before the first request."""
    started = time.perf_counter()
    report = engine.index(progress=_IndexLog())
    if report.changed:
        log.info("index: %s", report.summary())
    engine.embedder.embed_query("warm up")  # load the model now, not on the first question
    stats = engine.stats()
    log.info("index %s: %d chunks from %d documents (documents in %s; ready in %.1fs)",
             stats["index_dir"], stats["chunks"], stats["documents"], stats["seeds_dir"], time.perf_counter() - started)
    return stats


def serve(engine: Any, settings: ServeSettings | None = None) -> None:
    """Prepare the engine, then serve chat, REST and OpenAI routes on one port until interrupted."""
    import uvicorn

    settings = settings or ServeSettings.resolve()
    prepare_engine(engine)
    app = create_app(engine, settings)
    loopback = settings.host in ("127.0.0.1", "localhost", "::1")
    if not loopback and not settings.auth:
        log.warning("listening on %s without auth: anyone who can reach this machine can read and add documents "
                    "(set --auth user:password or QA_AUTH)", settings.host)
    shown = "[::1]" if settings.host == "::1" else settings.host
    log.info("chat on http://%s:%d/  (REST: POST /api/ask; OpenAI: POST /v1/chat/completions; auth: %s)",
             shown, settings.port, "basic" if settings.auth else "off")
    uvicorn.Server(uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning", lifespan="on",
                                  timeout_keep_alive=settings.keep_alive_s)).run()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="app.py", description="Serve the qa web chat, REST and OpenAI-compatible APIs.")
    p.add_argument("--host", help=f"interface to bind [QA_HOST; default {DEFAULT_HOST}]")
    p.add_argument("--port", type=int, help=f"port [QA_PORT; default {DEFAULT_PORT}]")
    p.add_argument("--auth", metavar="USER:PASSWORD", help="require HTTP basic auth [QA_AUTH; default off]")
    p.add_argument("--max-upload", type=int, metavar="BYTES", help="size limit per uploaded document [QA_MAX_UPLOAD_BYTES; default 2 MB]")
    p.add_argument("--max-body", type=int, metavar="BYTES",
                   help="request body limit of the REST and OpenAI routes, 413 above it [QA_MAX_BODY_BYTES; default 1 MB]")
    p.add_argument("--keep-alive", type=float, metavar="SECONDS",
                   help=f"idle keep-alive connection timeout [QA_KEEP_ALIVE; default {DEFAULT_KEEP_ALIVE_S:g}]")
    p.add_argument("--seeds", help="documents folder [QA_SEEDS_DIR; default seeds/]")
    p.add_argument("--index", help="index folder [QA_INDEX_DIR; default index/]")
    return p


def main(argv: Sequence[str] | None = None, **engine_options: Any) -> None:
    """``python app.py [--host H] [--port P] [--auth U:P] [--max-upload N] [--max-body N] [--keep-alive S] [--seeds D] [--index D]``."""
    from qa.pipeline import QA

    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("qa").setLevel(logging.INFO)  # also when `qa` configured logging first (WARNING)
    for noisy in ("httpx", "chromadb", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        settings = ServeSettings.resolve(args.host, args.port, args.auth, args.max_upload, args.max_body, args.keep_alive)
    except ValueError as e:
        raise SystemExit(f"error: {e}") from None
    options = {k: v for k, v in {"seeds_dir": args.seeds, "index_dir": args.index, **engine_options}.items() if v}
    from qa.pipeline import NoDocuments
    from qa.store import IndexError_

    try:
        engine = QA(**options)
        serve(engine, settings)
    except (NoDocuments, IndexError_, ValueError) as e:  # a bad folder or index: one line, no traceback
        raise SystemExit(f"error: {e}") from None
    except KeyboardInterrupt:  # pragma: no cover
        pass


if __name__ == "__main__":  # pragma: no cover
    main()
