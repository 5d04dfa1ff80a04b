"""The web chat's panels beside the chat: the kept conversations (:mod:`qa.web_state`, in the
browser), the editable "Searched for" of a rewritten follow-up, and the document view.

All of them are UI-only events (``api_visibility="private"``): the ``/chat`` endpoint API clients
call keeps its two inputs (message, history).
"""


import html
import logging
import re
from typing import Any
from urllib.parse import unquote

from qa import render, web_state
from qa.browser_id import browser_of
from qa.chat import ChatBackend, SessionTurns, aligned

log = logging.getLogger(__name__)

NO_DOCUMENT = "<p class='qa-doc-none'>That document is not in the collection.</p>"


def parse_doc_request(request: Any) -> tuple[str, int, int, str | None] | None:
    """``"<doc id, URL-quoted>:<start>:<end>[:<fingerprint>]"`` (what an "Open document" link
    carries: :func:`qa.render.doc_link`), or None.

    >>> parse_doc_request("a%20b.txt:3:9:0a1b2c3d4e"), parse_doc_request("a.txt:3:9"), parse_doc_request("../x")
    (('a b.txt', 3, 9, '0a1b2c3d4e'), ('a.txt', 3, 9, None), None)
    """
    if not isinstance(request, str) or request.count(":") < 2:
        return None
    parts = request.rsplit(":", 3)
    fp = parts.pop() if len(parts) == 4 and re.fullmatch(r"[0-9a-f]{10}", parts[3]) else None
    if len(parts) == 4:  # the document id itself held a ":" (never: ids are URL-quoted)
        parts = [":".join(parts[:2]), *parts[2:]]
    doc, start, end = parts
    try:
        return unquote(doc), int(start), int(end), fp
    except ValueError:
        return None


def _text_at(chunks: list[Any], start: int, end: int) -> str:
    """The document's text at ``[start, end)``, from its chunks (which may overlap; "" where a gap
    of text kept out of the index lies in between)."""
    out, pos = [], start
    for c in sorted(chunks, key=lambda c: c.start):
        if c.end <= pos:
            continue
        if c.start > pos or pos >= end:
            break
        out.append(c.text[pos - c.start:min(end, c.end) - c.start])
        pos = min(end, c.end)
    return "".join(out) if pos >= end else ""


def _cited_place(chunks: list[Any], start: int, end: int, fp: str | None) -> tuple[int, int, str]:
    """Where a link's quote stands in the document as it is now: its offsets when the text there is
    still the quoted one, else the sentence holding that text (the document was replaced and the
    sentence moved), else nowhere, with a note saying so."""
    if fp is None:
        return start, end, ""
    if render.quote_fingerprint(_text_at(chunks, start, end)) == fp:
        return start, end, ""
    moved = next(((x.start, x.end) for c in chunks for x in c.sentences if render.quote_fingerprint(x.text) == fp), None)
    if moved:
        return moved[0], moved[1], ""
    return 0, 0, "<p class='qa-doc-none'>This document has changed since that answer: the quoted text is no longer in it.</p>"


def conversation_functions(backend: ChatBackend, sessions: SessionTurns) -> dict[str, Any]:
    """Handlers: restore (page load), switch, new chat, kept (after each chat change), ask the
    edited rewrite instead, open a document. Those that set the chat return its messages twice:
    for the chatbot and for the ChatInterface's own copy of the history, which its next question
    reads."""
    import gradio as gr

    stores = web_state.BrowserStores()  # other tabs' conversations are merged in, never overwritten

    def sid(request: Any) -> str | None:
        return getattr(request, "session_hash", None)

    def panels(store: dict[str, Any], turns: list[Any]) -> tuple[Any, Any, Any, Any]:
        rewrite = web_state.rewrite_of(turns)
        chats = gr.Radio(choices=web_state.choices(store), value=store["current"])
        return store, chats, gr.Row(visible=bool(rewrite)), gr.Textbox(value=rewrite)

    def shown(store: Any, request: gr.Request) -> tuple[Any, ...]:
        store, chat = web_state.current(stores.merged(store, browser_of(request)))
        turns = web_state.turns_of(chat)
        sessions.put(sid(request), turns)
        return (chat["messages"], chat["messages"], *panels(store, aligned(turns, chat["messages"])))

    def restore(store: Any, tab: Any, request: gr.Request) -> tuple[Any, ...]:
        """The page's load: this tab's conversation after a reload; a new tab gets a new one (two
        tabs writing one conversation would each overwrite the other's turns)."""
        store = stores.merged(store, browser_of(request))
        if isinstance(tab, str) and tab in store["chats"]:
            return shown(web_state.switch(store, tab), request)
        return shown(web_state.new_chat(store, reuse=False)[0], request)

    def switch(cid: Any, store: Any, request: gr.Request) -> tuple[Any, ...]:
        return shown(web_state.switch(store, cid), request)

    def new(store: Any, request: gr.Request) -> tuple[Any, ...]:
        return shown(web_state.new_chat(store)[0], request)

    def kept(history: Any, store: Any, request: gr.Request) -> tuple[Any, ...]:
        if not sessions.has(sid(request)):  # before the page's conversation was restored: nothing to keep yet
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        history = history if isinstance(history, list) else []
        turns = aligned(sessions.get(sid(request)), history)
        return panels(stores.merged(web_state.save(store, history, turns), browser_of(request), sid(request)), turns)

    def ask_instead(text: Any, history: Any, request: gr.Request) -> tuple[list[Any], list[Any]]:
        """The edited "Searched for", asked as a standalone question (no earlier turns)."""
        history = list(history) if isinstance(history, list) else []
        if not isinstance(text, str) or not text.strip():
            # a toast, the chat untouched: a raised gr.Error also put an "Error" overlay over the chat
            # that hid every message and caught every click until the next question
            gr.Warning("Type the question to ask.")
            return gr.skip(), gr.skip()
        turns = aligned(sessions.get(sid(request)), history)
        messages, turn = backend.reply(text.strip())
        sessions.put(sid(request), turns + [turn])
        history = history + [{"role": "user", "content": text.strip()}] + messages
        return history, history

    return {"restore": restore, "switch": switch, "new": new, "kept": kept, "ask_instead": ask_instead,
            **document_functions(backend)}


def document_functions(backend: ChatBackend) -> dict[str, Any]:
    """Handlers of the document view: open a cited document, empty the view."""
    import gradio as gr

    def open_document(req: Any) -> tuple[str, Any]:
        """The document view of a cited document: only documents the index holds, from its text."""
        parsed = parse_doc_request(req)
        found = backend.document(parsed[0]) if parsed else None
        if parsed is None or found is None:
            log.warning("document view: no document for %r", str(req)[:200])
            return NO_DOCUMENT, gr.Accordion(open=True)
        doc_id, start, end, fp = parsed
        start, end, note = _cited_place(found[1], start, end, fp)
        view = note + render.render_document(doc_id, found[0], found[1], start, end)
        return view, gr.Accordion(open=True, label=f"Document: {render.short_title(found[0] or doc_id, 60)}")

    def doc_reset() -> tuple[str, Any]:
        """Another conversation: the document view starts empty again."""
        return doc_placeholder(), gr.Accordion(open=False, label="Document")

    return {"open_document": open_document, "doc_reset": doc_reset}


def doc_placeholder() -> str:
    return f"<p class='qa-doc-none'>{html.escape('Click “Open document” under a source to read the whole document here.')}</p>"
