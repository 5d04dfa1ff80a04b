"""One server, one port: the Gradio chat, a REST route and an OpenAI-compatible API.

Routes (beside the Gradio app mounted at ``/``):

* ``POST /api/ask`` — ``{"question": "...", "history": [...]?}`` → ``Answer.to_dict()`` (400 with
  ``{"error": ...}`` for an empty question). ``history`` holds the earlier turns, oldest first: each
  an earlier reply of this route as it came (``Answer.to_dict()``: its ``question``,
  ``searched_question``, ``short_answer``, ``refused`` and ``text`` are read), or ``{"role",
  "content"}`` chat messages (as on the OpenAI route).
* ``GET /api/stats`` — what the collection holds.
* ``POST /v1/chat/completions`` and ``GET /v1/models`` — OpenAI-compatible (:mod:`qa.openai_api`).
* Gradio's named endpoints ``/chat`` (the chat reply) and ``/ask`` (``Answer.to_dict()``) for
  ``gradio_client``, and ``/upload`` (:mod:`qa.web`).

The chat, REST and OpenAI routes share one :class:`qa.chat.ChatBackend`, built here: this module
wires :mod:`qa.web` and :mod:`qa.openai_api`, neither of which imports the other or this one.

Host, port, auth and limits come from :class:`qa.config.ServeSettings` (flags > ``QA_*`` env >
defaults). With auth on, every route (the page, Gradio's API, REST, OpenAI) needs HTTP basic
credentials; OpenAI clients may send ``Authorization: Bearer user:password`` (their ``api_key``).

A body over the limit gets 413 with a JSON error before anything parses it (Content-Length is
checked first; a chunked body is counted as it arrives). When the vector store (a Chroma server,
``QA_CHROMA_URL``) cannot be reached, the routes answer 503 with a JSON error naming it and saying
how to start it; one warning is logged per outage, and answers resume by themselves once it is back.
"""


import base64
import hmac
import json
import logging
import os
import time
from typing import Any

from qa.chat import ChatBackend
from qa.config import DEFAULT_MAX_UPLOAD_BYTES, ServeSettings
from qa.conversation import Turn
from qa.http_errors import add_fallback_routes, error_body, unauthorized
from qa.openai_api import RequestError, add_openai_routes, content_text, turns_from_messages
from qa.types import Answer

log = logging.getLogger(__name__)


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
        await unauthorized(scope.get("path", ""), self.realm)(scope, receive, send)


# =================================================================================================
# Request body limit (pure ASGI: the body is counted before any route reads or parses it)
# =================================================================================================


class BodyLimitMiddleware:
    """Answer 413 with a JSON error when a request body to ``prefixes`` is over ``max_bytes``.

    A Content-Length over the limit is refused before a byte of the body is read; otherwise the
    body (chunked, or with a Content-Length) is read and counted as it arrives, refused as soon as
    the count passes the limit, and else handed to the route unchanged. The rest of a refused body
    is discarded by the server as it arrives (the connection stays usable). Other paths, e.g.
    Gradio's upload route (which has its own limit), pass through untouched.
    """

    def __init__(self, app: Any, max_bytes: int, prefixes: tuple[str, ...] = ("/api/", "/v1/"), exempt: tuple[str, ...] = (),
                 hint: str = "(QA_MAX_BODY_BYTES): send a shorter question"):
        self.app = app
        self.max_bytes = max_bytes
        self.prefixes = prefixes
        #: paths under ``prefixes`` that another instance limits (uploads: /api/documents)
        self.exempt = exempt
        self.hint = hint

    async def _refuse(self, scope: dict, send: Any, size: int | None) -> None:
        path = scope.get("path", "")
        told = f"the request body ({size:,} bytes)" if size is not None else "the request body"
        message = f"{told} is over the {self.max_bytes:,}-byte limit of this server {self.hint}"
        log.warning("refused %s %s: %s", scope.get("method", ""), path, message)
        body = json.dumps(error_body(path, message, "invalid_request_error", "request_too_large")).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(self.prefixes) or (self.exempt and path.startswith(self.exempt)):
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
# The app
# =================================================================================================


async def read_json(request: Any) -> dict[str, Any]:
    """The request body as a JSON object, else :class:`RequestError` saying why."""
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise RequestError("the request body must be JSON") from None
    except RecursionError:  # e.g. 100 000 nested brackets: Python's parser gives up
        raise RequestError("the request body is nested too deeply") from None
    if not isinstance(body, dict):
        raise RequestError("the request body must be a JSON object")
    return body


def _earlier_answer(item: dict[str, Any]) -> Answer | None:
    """An earlier reply of ``/api/ask`` sent back in ``history``, as the Answer it was (the fields a
    follow-up needs; typed, checked, nothing parsed); None for an entry that is not one."""
    question, searched, short, text = (item.get(k) for k in ("question", "searched_question", "short_answer", "text"))
    if not isinstance(question, str) or not all(isinstance(v or "", str) for v in (searched, short, text)):
        return None
    return Answer(question=question, text=text or "", short_answer=short or None, refused=bool(item.get("refused")),
                  searched_question=searched or question)


def rest_history(history: Any) -> list[Turn]:
    """The turns of ``history`` on ``/api/ask``: earlier ``Answer.to_dict()`` replies, or
    ``{role, content}`` chat messages (turned into turns as on the OpenAI route), not both. An entry
    that is neither is a :class:`RequestError` naming it (it was once ignored, so a client's broken
    history went unnoticed: the follow-up was simply not resolved)."""
    what = "'history' must be a list of earlier answers (each with its 'question') or of {role, content} messages"
    if not isinstance(history, list):
        raise RequestError(what)
    messages = bool(history) and isinstance(history[0], dict) and "role" in history[0]
    texts: list[tuple[str, str]] = []
    for i, h in enumerate(history):
        ok = isinstance(h, dict) and (isinstance(h.get("role"), str) and "content" in h if messages
                                      else "role" not in h and _earlier_answer(h) is not None)
        if not ok:
            raise RequestError(f"history[{i}] is not {'a {role, content} message' if messages else 'an earlier answer'}: {what}")
        if messages:
            try:
                texts.append((h["role"], content_text(h.get("content"))))
            except RequestError as e:
                raise RequestError(f"history[{i}]: {e}") from None
    if messages:
        return turns_from_messages(texts)
    return [Turn.of(a) for a in map(_earlier_answer, history) if a is not None]


def _handlers(backend: ChatBackend) -> tuple[Any, Any]:
    """``rejected(request, e)`` (a client's mistake: one line, no traceback) and
    ``unavailable(request, e)`` (503 naming the store; the outage is logged once by ``backend``)."""
    from fastapi.responses import JSONResponse

    def rejected(request: Any, e: Exception) -> None:
        log.warning("rejected %s %s: %s", request.method, request.url.path, str(e)[:300])

    def unavailable(request: Any, e: Any) -> Any:
        body = error_body(request.url.path, str(e), "server_error", "store_unavailable")
        if isinstance(body["error"], dict):
            body["error"]["store"] = e.url
        else:
            body["store"] = e.url
        return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})

    return rejected, unavailable


def add_rest_routes(app: Any, backend: ChatBackend, rejected: Any, unavailable: Any) -> None:
    """``POST /api/ask`` and ``GET /api/stats``."""
    from fastapi import Request
    from fastapi.responses import JSONResponse
    from starlette.concurrency import run_in_threadpool

    from qa.documents_api import ask_in_collection, error_status
    from qa.guards import InvalidQuestion, NoDocuments, StoreUnavailable

    @app.post("/api/ask")
    async def api_ask(request: Request) -> Any:
        """Answer a question: ``{"question": "...", "history": [...]}`` → ``Answer.to_dict()``."""
        try:
            body = await read_json(request)
            question = body.get("question")
            if not isinstance(question, str):
                raise RequestError("'question' must be a string")
            history = rest_history(body.get("history") or [])
            collection = body.get("collection")  # a named collection (qa/collections.py); none: the default one
            if collection not in (None, "", "default"):
                answer = await run_in_threadpool(ask_in_collection, request.app.state.qa_collections, collection, question, history)
            else:
                answer = await run_in_threadpool(backend.ask, question, history)
        except (RequestError, InvalidQuestion) as e:
            rejected(request, e)
            return JSONResponse({"error": str(e)}, status_code=400)
        except StoreUnavailable as e:
            return unavailable(request, e)
        except (LookupError, ValueError, NoDocuments) as e:  # an unknown or invalid collection, an empty one
            if not error_status(e):
                raise
            rejected(request, e)
            return JSONResponse({"error": str(e)}, status_code=error_status(e))
        return answer.to_dict()

    @app.get("/api/stats")
    async def api_stats(request: Request) -> Any:
        """What the collection holds: documents, chunks, titles, folders."""
        started = time.monotonic()
        try:
            stats = await run_in_threadpool(backend.engine.stats)
        except StoreUnavailable as e:
            backend.outage.failed(e)
            return unavailable(request, e)
        backend.outage.ok(started)
        return stats


def create_app(engine: Any, settings: ServeSettings | None = None, backend: ChatBackend | None = None) -> Any:
    """A FastAPI app with the REST and OpenAI routes and the Gradio chat mounted at ``/``, all
    over one :class:`ChatBackend` (``app.state.qa_backend``)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr
    from fastapi import FastAPI
    from gradio.utils import get_upload_folder

    from qa import web
    from qa.collections import Collections
    from qa.browser_id import BrowserCookieMiddleware
    from qa.security_headers import SecurityHeadersMiddleware
    from qa.documents_api import MULTIPART_SLACK, add_document_routes

    settings = settings or ServeSettings.resolve()
    backend = backend or ChatBackend(engine, max_upload_bytes=settings.max_upload_bytes, upload_root=get_upload_folder())
    collections = Collections.of(backend.engine)  # one engine per collection, shared by the chat and REST
    demo = web.build_app(backend, collections)
    app = FastAPI(title="qa", docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json")
    rejected, unavailable = _handlers(backend)
    add_rest_routes(app, backend, rejected, unavailable)
    add_openai_routes(app, backend, read_json, rejected, unavailable)
    add_document_routes(app, collections, settings.max_upload_bytes)  # /api/documents, /api/collections (qa/documents_api.py)
    add_fallback_routes(app)  # a wrong method or path under /api/ or /v1/: 405 / 404 in the API's shape
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
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, exempt=("/api/documents",))
    # a document upload is multipart: the upload limit plus room for its framing
    app.add_middleware(BodyLimitMiddleware, max_bytes=(settings.max_upload_bytes or DEFAULT_MAX_UPLOAD_BYTES) + MULTIPART_SLACK,
                       prefixes=("/api/documents",), hint="for one document (QA_MAX_UPLOAD_BYTES)")
    app.add_middleware(BrowserCookieMiddleware)  # the tabs of one browser share their conversations (qa.browser_id)
    app.add_middleware(SecurityHeadersMiddleware)  # no other site's images or form targets in the page
    if settings.auth:
        app.add_middleware(BasicAuthMiddleware, username=settings.auth[0], password=settings.auth[1])
    app.state.qa_backend = backend
    app.state.qa_demo = demo
    app.state.qa_settings = settings
    return app


# =================================================================================================
# Serving: `qa serve` and `python app.py`
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
    log.info("index %s: %d chunks from %d documents (documents in %s; uploads go to %s; ready in %.1fs)",
             stats["index_dir"], stats["chunks"], stats["documents"], stats["seeds_dir"],
             stats.get("documents_dir", stats["seeds_dir"]), time.perf_counter() - started)
    return stats


def serve(engine: Any, settings: ServeSettings | None = None, sock: Any = None) -> None:
    """Prepare the engine, then serve chat, REST and OpenAI routes on one port until interrupted.

    ``sock``: the socket bound by :func:`qa.startup.reserve_port`; without one the port is bound
    here, before the index and the model load, so a port in use fails at once (StartupError).
    """
    import dataclasses

    import uvicorn

    from qa.startup import QuietShutdown, reserve_port

    settings = settings or ServeSettings.resolve()
    sock = sock or reserve_port(settings.host, settings.port)
    try:
        settings = dataclasses.replace(settings, port=sock.getsockname()[1])  # --port 0: the port chosen
        prepare_engine(engine)
        app = create_app(engine, settings)
        loopback = settings.host in ("127.0.0.1", "localhost", "::1")
        if not loopback and not settings.auth:
            log.warning("listening on %s without auth: anyone who can reach this machine can read and add documents "
                        "(set --auth user:password or QA_AUTH)", settings.host)
        shown = "[::1]" if settings.host == "::1" else settings.host
        log.info("chat on http://%s:%d/  (REST: POST /api/ask; OpenAI: POST /v1/chat/completions; auth: %s)",
                 shown, settings.port, "basic" if settings.auth else "off")
        # a stop (SIGTERM, Ctrl-C) waits at most shutdown_grace_s: an open event stream (a browser tab,
        # a gradio_client connection) never ends by itself, and without a bound the server never stops
        logging.getLogger("uvicorn.error").addFilter(QuietShutdown(settings.shutdown_grace_s))
        uvicorn.Server(uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning", lifespan="on",
                                      timeout_keep_alive=settings.keep_alive_s,
                                      timeout_graceful_shutdown=settings.shutdown_grace_s)).run(sockets=[sock])
    finally:
        sock.close()
