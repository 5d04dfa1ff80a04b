"""The web chat's "Documents" panel and collection chooser (UI-only events).

Each browser session picks the collection its chat asks, uploads to and lists
(:class:`SessionCollections`, by Gradio's session hash, beside the chat: the ``/chat`` endpoint keeps
its two inputs and, called without a page, asks the default collection). The panel lists the chosen
collection's documents (:meth:`qa.documents.DocumentLibrary.list`: title, file name, source, pages,
passages), deletes a user document (seeds are read only: they are never offered) and creates a
collection by name (:meth:`qa.collections.Collections.create`). Every name and title is escaped.
"""

import html
import logging
import threading
from typing import Any

from qa import render
from qa.chat import ChatBackend

log = logging.getLogger(__name__)

DEFAULT = "default"


class SessionCollections:
    """The collection each open page chose, by session id (none chosen: the default one). Thread-safe."""

    def __init__(self, size: int = 1000):
        self.size = size
        self._chosen: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, session: str | None) -> str:
        with self._lock:
            return self._chosen.get(session or "", DEFAULT)

    def put(self, session: str | None, name: str) -> None:
        with self._lock:
            self._chosen.pop(session or "", None)
            self._chosen[session or ""] = name
            while len(self._chosen) > self.size:
                self._chosen.pop(next(iter(self._chosen)))

    def drop(self, session: str | None) -> None:
        with self._lock:
            self._chosen.pop(session or "", None)


def document_table(docs: list[Any], collection: str) -> str:
    """The documents as an HTML table (every title and name escaped)."""
    name = html.escape(collection)
    if not docs:
        return f"<p class='qa-docs-none'>The collection <b>{name}</b> holds no documents yet: add one below.</p>"
    rows = []
    for d in docs:
        source = "seed (read only)" if d.source == "seeds" else "your document"
        rows.append(f"<tr><td>{html.escape(render.short_title(d.title or d.file_name, 60))}<br>"
                    f"<code>{html.escape(d.file_name)}</code></td><td>{source}</td>"
                    f"<td>{d.pages if d.pages else '–'}</td><td>{d.chunks}</td></tr>")
    return (f"<p><b>{name}</b>: {render.counted(len(docs), 'document')}</p><div class='qa-docs-wrap'>"
            "<table class='qa-docs'><thead><tr><th>Document</th><th>Source</th><th>Pages</th><th>Passages</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def _sid(request: Any) -> str | None:
    return getattr(request, "session_hash", None)


def backend_picker(backend: ChatBackend, shelf: Any, chosen: SessionCollections) -> Any:
    """``backend_of(request)``: ``backend`` over the engine of the collection the request's page chose."""
    from qa.collections import InvalidCollection, UnknownCollection

    def backend_of(request: Any, strict: bool = False) -> ChatBackend:
        """``strict``: an upload, which must not land in another collection than the one chosen."""
        import gradio as gr

        name = chosen.get(_sid(request))
        if name == DEFAULT:
            return backend
        try:
            return backend.for_engine(shelf.get(name))
        except (UnknownCollection, InvalidCollection):  # deleted meanwhile (REST, CLI): never another one instead
            gone = f"the collection {name!r} was deleted (in another window or from the command line)"
            if strict:
                raise gr.Error(f"Nothing was added: {gone}. Choose a collection under Documents, then add the files "
                               "again.", print_exception=False) from None
            raise UnknownCollection(gone) from None

    return backend_of


def _panel_backend(backend_of: Any, backend: ChatBackend, chosen: SessionCollections, request: Any,
                   status: str) -> tuple[ChatBackend, str]:
    """The backend the documents panel shows, and its status: the panel is where a page whose
    collection was deleted elsewhere visibly goes back to the default one."""
    from qa.guards import UnknownCollection

    try:
        return backend_of(request), status
    except UnknownCollection as e:
        chosen.put(_sid(request), DEFAULT)
        return backend, f"**{render.md_escape(str(e)).capitalize()}:** this page is back on the default collection."


def document_functions(backend: ChatBackend, shelf: Any, chosen: SessionCollections) -> dict[str, Any]:
    """Handlers: the backend of a request's collection, the panel's refresh, choosing, creating
    and deleting. Each panel handler returns (chooser, table, delete choices, collection note, status)."""
    import gradio as gr

    from qa.collections import InvalidCollection, UnknownCollection, check_name
    from qa.documents import DocumentLibrary, SeedDocument, UnknownDocument
    from qa.guards import StoreUnavailable

    backend_of = backend_picker(backend, shelf, chosen)

    def panel(request: Any, status: str = "") -> tuple[Any, ...]:
        b, status = _panel_backend(backend_of, backend, chosen, request, status)
        name = chosen.get(_sid(request))
        try:
            docs = DocumentLibrary(b.engine).list()
            note = render.collection_note(b.engine.stats()) if docs else f"The collection **{name}** is empty."
        except StoreUnavailable as e:
            docs, note, status = [], "", f"**Could not read the collection:** {render.md_escape(str(e))}"
        users = [(f"{d.file_name} ({render.short_title(d.title, 40)})", d.doc_id) for d in docs if d.source == "documents"]
        return (gr.Dropdown(choices=shelf.names(), value=name), document_table(docs, name),
                gr.Dropdown(choices=users, value=None), note, status)

    def refresh(request: gr.Request) -> tuple[Any, ...]:
        return panel(request)

    def choose(name: Any, request: gr.Request) -> tuple[Any, ...]:
        try:
            shelf.info(check_name(name))
        except (InvalidCollection, UnknownCollection) as e:
            return panel(request, f"**Not switched:** {render.md_escape(str(e))}")
        chosen.put(_sid(request), name)
        return panel(request, f"Now asking, listing and adding to the collection **{render.md_escape(name)}**.")

    def create(name: Any, request: gr.Request) -> tuple[Any, ...]:
        name = name.strip() if isinstance(name, str) else name
        try:
            shelf.create(check_name(name))
        except (InvalidCollection, UnknownCollection, OSError) as e:
            return panel(request, f"**Not created:** {render.md_escape(str(e))}")
        chosen.put(_sid(request), name)
        return panel(request, f"Created the collection **{render.md_escape(name)}**: it is empty, add documents to it.")

    def delete(doc_id: Any, request: gr.Request, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        if not isinstance(doc_id, str) or not doc_id:
            return panel(request, "Pick one of your documents to delete.")
        progress(0, desc=f"Deleting {doc_id}")
        try:
            DocumentLibrary(backend_of(request).engine).delete(doc_id)
        except (SeedDocument, UnknownDocument, StoreUnavailable, OSError) as e:
            log.warning("web: document %r not deleted: %s", doc_id[:200], e)
            return panel(request, f"**Not deleted:** {render.md_escape(str(e))}")
        return panel(request, f"**Deleted** {render.md_code(doc_id)}: it is no longer cited.")

    def forget(request: gr.Request) -> None:
        chosen.drop(_sid(request))

    return {"backend_of": backend_of, "docs_refresh": refresh, "docs_choose": choose, "docs_create": create,
            "docs_delete": delete, "docs_forget": forget}


def documents_panel() -> dict[str, Any]:
    """The "Documents" accordion: the collection chooser, a new collection, the list, deleting."""
    import gradio as gr

    c: dict[str, Any] = {}
    with gr.Accordion("Documents", open=False, elem_id="qa-documents"):
        c["choice"] = gr.Dropdown(choices=[DEFAULT], value=DEFAULT, label="Collection (this page asks it)",
                                  elem_id="qa-collection-choice", interactive=True)
        with gr.Row():
            c["new_name"] = gr.Textbox(placeholder="new-collection-name", show_label=False, elem_id="qa-new-collection",
                                       scale=3, container=False)
            c["create"] = gr.Button("Create", elem_id="qa-create-collection", size="sm", scale=1)
        c["pick"] = gr.Dropdown(choices=[], label="Delete one of your documents (seeds are read only)",
                                elem_id="qa-doc-pick", interactive=True)
        c["delete"] = gr.Button("Delete document", elem_id="qa-doc-delete", variant="stop", size="sm")
        gr.Markdown("To replace one of your documents, add a file with the same name (*Add documents*).",
                    elem_classes=["qa-hint"])
        c["status"] = gr.Markdown(elem_id="qa-doc-status")
        c["table"] = gr.HTML(elem_id="qa-doc-list")
    return c


def wire_documents(demo: Any, panel: dict[str, Any], note: Any, upload: Any, fn: dict[str, Any]) -> None:
    """The panel's events (private: no API endpoint); the list follows uploads (``upload``: the upload's event) too."""
    outs = [panel["choice"], panel["table"], panel["pick"], note, panel["status"]]
    private = {"api_visibility": "private"}
    demo.load(fn["docs_refresh"], outputs=outs, show_progress="hidden", **private)
    panel["choice"].input(fn["docs_choose"], inputs=[panel["choice"]], outputs=outs, **private)
    panel["create"].click(fn["docs_create"], inputs=[panel["new_name"]], outputs=outs, **private)
    panel["new_name"].submit(fn["docs_create"], inputs=[panel["new_name"]], outputs=outs, **private)
    panel["delete"].click(fn["docs_delete"], inputs=[panel["pick"]], outputs=outs, concurrency_limit=1, **private)
    upload.then(fn["docs_refresh"], outputs=outs, show_progress="hidden", **private)
    demo.unload(fn["docs_forget"])
