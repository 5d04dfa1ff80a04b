"""REST routes for the documents and collections a user owns (``/api/documents``, ``/api/collections``).

    GET    /api/documents[?collection=NAME]             {"collection", "documents": [DocumentInfo...]}
    POST   /api/documents  (multipart: file, collection?)  201 added / 200 replaced or unchanged
    DELETE /api/documents/{doc_id}[?collection=NAME]    {"collection", "deleted": doc_id}
    GET    /api/collections                             {"collections": [CollectionInfo...]}
    POST   /api/collections  {"name": NAME}             201 {"collection": CollectionInfo}
    DELETE /api/collections/{name}                      {"deleted": name}

A POST of a file whose name is already in the collection replaces it (``"replaced": true``). Errors
are ``{"error": message}`` like the rest of the API: 400 a bad request or name, 403 a shipped seed,
404 an unknown document or collection, 409 a collection that exists, 413 over the upload limit, 415
a type the collection cannot read, 503 the vector store unreachable. The work (embedding an upload)
runs in a worker thread, never on the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile  # route annotations are resolved from these globals
from starlette.concurrency import run_in_threadpool

from qa.collections import Collections, InvalidCollection, UnknownCollection
from qa.documents import DocumentLibrary, SeedDocument, TooLarge, UnknownDocument, UnsupportedType
from qa.guards import NoDocuments, StoreUnavailable
from qa.uploads import InvalidDocument

__all__ = ["add_document_routes", "ask_in_collection", "documents_router", "error_status"]

log = logging.getLogger("qa.server")

#: bytes of multipart framing allowed above the upload limit (headers, boundary, the collection field)
MULTIPART_SLACK = 64 * 1024


def error_status(e: Exception) -> int:
    """The HTTP status of an exception of the documents API (0: not one of ours)."""
    for kind, status in ((SeedDocument, 403), (TooLarge, 413), (UnsupportedType, 415), (UnknownDocument, 404),
                         (UnknownCollection, 404), (InvalidCollection, 400), (InvalidDocument, 400), (NoDocuments, 404)):
        if isinstance(e, kind):
            return 409 if isinstance(e, InvalidCollection) and "exists" in str(e) else status
    return 0


def _reply(call: Callable[[], Any], ok: int | Callable[[Any], int] = 200) -> Any:
    """Run ``call`` (in a worker thread) and turn its result or our exceptions into a JSON response."""
    from fastapi.responses import JSONResponse

    try:
        result = call()
    except StoreUnavailable as e:
        return JSONResponse({"error": str(e), "store": e.url}, status_code=503, headers={"Retry-After": "5"})
    except Exception as e:
        status = error_status(e)
        if not status:
            raise
        log.warning("documents API refused (%d): %s", status, str(e)[:300])
        return JSONResponse({"error": str(e)}, status_code=status)
    status = ok(result) if callable(ok) else ok
    return JSONResponse(result, status_code=status)


def _missing_file() -> Any:
    raise InvalidDocument("send the document as the multipart form field 'file'")


def _missing_name() -> Any:
    raise InvalidCollection('send the new collection as a JSON body: {"name": "contracts"}')


def _one_file_only(names: list[Any]) -> Any:
    raise InvalidDocument(f"send one file per request (this one has {len(names)}: {', '.join(map(str, names))}); "
                          "nothing was added")


def documents_router(collections: Collections, max_upload_bytes: int | None = None) -> Any:
    """The documents routes over ``collections`` (the default collection when a request names none)."""
    from qa.config import DEFAULT_MAX_UPLOAD_BYTES

    limit = max_upload_bytes or DEFAULT_MAX_UPLOAD_BYTES
    router = APIRouter()

    def library(name: str | None) -> DocumentLibrary:
        return DocumentLibrary(collections.get(name or None), max_bytes=limit)

    @router.get("/api/documents")
    async def list_documents(collection: str | None = Query(None)) -> Any:
        """The documents of a collection: id, title, file name, source (seeds or documents), size, chunks, pages."""
        def run() -> dict[str, Any]:
            docs = library(collection).list()
            return {"collection": collection or "default", "documents": [d.to_dict() for d in docs]}

        return await run_in_threadpool(_reply, run)

    @router.post("/api/documents")
    async def add_document(request: Request, file: UploadFile | None = File(None), collection: str | None = Form(None)) -> Any:
        """Add a file (multipart field ``file``); a file of the same name replaces it (``replaced``)."""
        if file is None:
            return _reply(_missing_file)
        sent = [f.filename for f in (await request.form()).getlist("file") if hasattr(f, "filename")]  # parsed once, cached
        if len(sent) > 1:  # one file a request: a second one must not be dropped without a word
            return _reply(lambda: _one_file_only(sent))
        data = await file.read(limit + 1)  # never more than one byte past the limit in memory
        name = file.filename or ""

        def run() -> dict[str, Any]:
            lib = library(collection)
            change = lib.add(name, data)
            return {"collection": collection or "default", **change.to_dict(), "document": lib.get(change.doc_id).to_dict()}

        return await run_in_threadpool(_reply, run, lambda r: 201 if r.get("created") else 200)

    @router.delete("/api/documents/{doc_id:path}")
    async def delete_document(doc_id: str, collection: str | None = Query(None)) -> Any:
        """Delete a document of the user documents folder (a shipped seed: 403)."""
        def run() -> dict[str, Any]:
            library(collection).delete(doc_id)
            return {"collection": collection or "default", "deleted": doc_id}

        return await run_in_threadpool(_reply, run)

    _collection_routes(router, collections)
    return router


def _collection_routes(router: Any, collections: Collections) -> None:
    """List, create and delete collections on ``router``."""
    @router.get("/api/collections")
    async def list_collections() -> Any:
        return await run_in_threadpool(_reply, lambda: {"collections": [c.to_dict() for c in collections.list()]})

    @router.post("/api/collections")
    async def create_collection(request: Request) -> Any:
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            body = None
        name = body.get("name") if isinstance(body, dict) else None
        if name is None:
            return _reply(_missing_name)
        return await run_in_threadpool(_reply, lambda: {"collection": collections.create(name).to_dict()}, 201)

    @router.delete("/api/collections/{name}")
    async def delete_collection(name: str) -> Any:
        def run() -> dict[str, Any]:
            collections.delete(name)
            return {"deleted": name}

        return await run_in_threadpool(_reply, run)


def add_document_routes(app: Any, collections: Collections, max_upload_bytes: int | None = None) -> Collections:
    """Register the routes on ``app`` over ``collections`` (kept as ``app.state.qa_collections``); the chat
    is given the same object, so a named collection has one engine whichever way it is used."""
    app.state.qa_collections = collections
    app.include_router(documents_router(collections, max_upload_bytes))
    return collections


def ask_in_collection(collections: Collections, name: Any, question: str, history: Any) -> Any:
    """``/api/ask`` with a ``collection``: that collection's engine answers (its errors: :func:`error_status`)."""
    try:
        return collections.get(name).ask(question, history=list(history))
    except NoDocuments:  # its message names a server folder
        raise NoDocuments(f"collection {name!r} has no documents yet: add one first") from None
