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

Defaults bind 127.0.0.1:7860. Host, port, basic auth (``user:password``) and the upload size limit
come from flags or ``QA_HOST``, ``QA_PORT``, ``QA_AUTH``, ``QA_MAX_UPLOAD_BYTES``. With auth on,
every route (the page, Gradio's API, REST, OpenAI) needs HTTP basic credentials; OpenAI clients
may send ``Authorization: Bearer user:password`` (their ``api_key``) instead.

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


@dataclass(frozen=True)
class ServeSettings:
    """Where and how the server listens. Build it with :meth:`resolve` (flags > QA_* env > defaults)."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    auth: tuple[str, str] | None = None
    max_upload_bytes: int | None = None

    @classmethod
    def resolve(cls, host: str | None = None, port: int | None = None, auth: str | None = None,
                max_upload_bytes: int | None = None) -> "ServeSettings":
        from qa.uploads import DEFAULT_MAX_UPLOAD_BYTES

        env = os.environ
        host = host or env.get("QA_HOST") or DEFAULT_HOST
        try:
            port = int(port if port is not None else env.get("QA_PORT") or DEFAULT_PORT)
            limit = int(max_upload_bytes if max_upload_bytes is not None else env.get("QA_MAX_UPLOAD_BYTES") or DEFAULT_MAX_UPLOAD_BYTES)
        except ValueError as e:
            raise ValueError(f"port and upload limit must be whole numbers ({e})") from None
        if not 0 <= port <= 65535:
            raise ValueError(f"port {port} is out of range")
        if limit < 1:
            raise ValueError("the upload limit must be at least 1 byte")
        return cls(host=host, port=port, auth=parse_auth(auth if auth is not None else env.get("QA_AUTH")), max_upload_bytes=limit)


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

    from qa import web
    from qa.followup import previous_turn
    from qa.pipeline import InvalidQuestion

    settings = settings or ServeSettings.resolve()
    demo = demo or web.build_app(engine, max_upload_bytes=settings.max_upload_bytes)
    backend: web.ChatBackend = demo.qa_backend

    app = FastAPI(title="qa", docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json")

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
            return JSONResponse({"error": str(e)}, status_code=400)
        return answer.to_dict()

    @app.get("/api/stats")
    async def api_stats() -> Any:
        """What the collection holds: documents, chunks, titles, index folder."""
        return await run_in_threadpool(engine.stats)

    @app.get("/v1/models")
    async def models() -> Any:
        return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "qa"}]}

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Any:
        """OpenAI-compatible chat completions over the documents (plain or streamed)."""
        try:
            body = await _json(request)
            question, turns = parse_chat_messages(body.get("messages"))
            answer = await run_in_threadpool(backend.ask, question, (), previous_turn(turns))
        except (RequestError, InvalidQuestion) as e:
            return _openai_error(str(e))
        if body.get("stream"):
            return StreamingResponse(completion_chunks(answer, question), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        return completion_body(answer, question)

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
    if settings.auth:
        app.add_middleware(BasicAuthMiddleware, username=settings.auth[0], password=settings.auth[1])
    app.state.qa_backend = backend
    app.state.qa_demo = demo
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

    def __init__(self, app: Any, host: str = DEFAULT_HOST, port: int = 0, log_level: str = "warning"):
        import uvicorn

        self.host = host
        self.port = port or free_port(host)
        # open event streams (a browser tab, a gradio_client heartbeat) must not hold up stop()
        self.config = uvicorn.Config(app, host=host, port=self.port, log_level=log_level, lifespan="on",
                                     timeout_graceful_shutdown=2)
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
    uvicorn.Server(uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning", lifespan="on")).run()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="app.py", description="Serve the qa web chat, REST and OpenAI-compatible APIs.")
    p.add_argument("--host", help=f"interface to bind [QA_HOST; default {DEFAULT_HOST}]")
    p.add_argument("--port", type=int, help=f"port [QA_PORT; default {DEFAULT_PORT}]")
    p.add_argument("--auth", metavar="USER:PASSWORD", help="require HTTP basic auth [QA_AUTH; default off]")
    p.add_argument("--max-upload", type=int, metavar="BYTES", help="size limit per uploaded document [QA_MAX_UPLOAD_BYTES; default 2 MB]")
    p.add_argument("--seeds", help="documents folder [QA_SEEDS_DIR; default seeds/]")
    p.add_argument("--index", help="index folder [QA_INDEX_DIR; default index/]")
    return p


def main(argv: Sequence[str] | None = None, **engine_options: Any) -> None:
    """``python app.py [--host H] [--port P] [--auth U:P] [--max-upload N] [--seeds D] [--index D]``."""
    from qa.pipeline import QA

    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("qa").setLevel(logging.INFO)  # also when `qa` configured logging first (WARNING)
    for noisy in ("httpx", "chromadb", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        settings = ServeSettings.resolve(args.host, args.port, args.auth, args.max_upload)
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
