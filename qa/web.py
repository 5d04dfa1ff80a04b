"""The Gradio chat over a :class:`qa.chat.ChatBackend`: UI wiring only.

Every reply is two chat messages, rendered by :mod:`qa.render`: the answer (short answer, the quotes
with ``[n]`` markers, the question actually searched for when a follow-up was rewritten) and a
collapsible "Sources" message. The session's turns (:class:`qa.conversation.Turn`) are kept as
typed data beside the chat (:class:`qa.chat.SessionTurns`, one per exchange, by Gradio's session):
follow-ups and likes read them, never the rendered text.

Beside the chat (:mod:`qa.web_panels`, UI-only events; ``/chat`` keeps its two inputs): the
conversations kept in the browser (:mod:`qa.web_state`, messages and typed turns), the editable
"Searched for" of a rewritten follow-up, the document view a source's "Open document" fills, and the
"Documents" panel (:mod:`qa.web_documents`: the collection this page asks, uploads to and lists; deleting);
``[n]`` links and following new answers are a few lines of page script (:mod:`qa.web_js`).

>>> demo = build_app(ChatBackend(QA()))            # doctest: +SKIP

Served by :func:`qa.server.create_app` (``python app.py`` / ``qa serve``): one server, one port, for
the chat, the REST route and the OpenAI-compatible API.
"""

import dataclasses
import logging
import os
from collections.abc import Iterator
from typing import Any

from qa import render, web_state
from qa.chat import ChatBackend, SessionTurns, aligned, answered, chat_error, copy_text, exchanges
from qa.conversation import Turn
from qa.guards import UnknownCollection

log = logging.getLogger(__name__)

EXAMPLES = [
    "Who was sworn in as interim president?",
    "When did the United States launch the military strike?",
    "How many Venezuelan security personnel were killed?",
    "What did Trump say about the operation?",
]

INTRO = ("# Ask the documents\n"
         "Every answer quotes the documents word for word, with [n] markers pointing to its sources. "
         "When the documents do not hold the answer, it says so and shows the nearest passages.")

CSS = """
#qa-chat mark { background: #fde68a; color: inherit; padding: 0 .1em; border-radius: 2px; }
.dark #qa-chat mark { background: #a16207; }
#qa-chat small { opacity: .8; }
#qa-chat .qa-rel { font-size: .85em; opacity: .85; cursor: help; white-space: nowrap; }
#qa-chat .qa-flash { outline: 2px solid #f59e0b; border-radius: 3px; }
#qa-docview { max-height: 520px; overflow-y: auto; font-size: .92em; }
#qa-docview .qa-doc-text { white-space: pre-wrap; line-height: 1.5; }
#qa-docview .qa-doc-gap { opacity: .6; }
#qa-docview mark { background: #fde68a; color: inherit; }
.dark #qa-docview mark { background: #a16207; }
#qa-chats { max-height: 220px; overflow-y: auto; }
#qa-collection { font-size: .92em; }
#qa-collection ul { margin-top: .3em; }
#qa-doc-list { font-size: .88em; }
#qa-doc-list .qa-docs-wrap { max-height: 320px; overflow: auto; }
#qa-doc-list table { width: 100%; border-collapse: collapse; }
#qa-doc-list td, #qa-doc-list th { padding: .2em .3em; border-bottom: 1px solid #e5e7eb; vertical-align: top; }
"""


Turns = list[Turn | None]  # one per exchange of the chat history (None: no answer)


def theme() -> Any:
    """Gradio's default theme with local system fonts (nothing fetched from the internet)."""
    import gradio as gr

    return gr.themes.Default(
        font=["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
    )


def _text_only(message: Any) -> None:
    """Refuse a question that is not text (e.g. null over the API: Gradio itself cannot record it)."""
    import gradio as gr

    if not isinstance(message, str):
        log.warning("rejected a chat question: a question must be text, not %s", type(message).__name__)
        raise gr.Error(f"a question must be text, not {type(message).__name__}", print_exception=False)


def api_functions(backend: ChatBackend, backend_of: Any = None, shelf: Any = None) -> dict[str, Any]:
    """The handlers of the structured ask (``/ask``: the default collection; ``/ask_in_collection``:
    the one named, from ``shelf``, a :class:`qa.collections.Collections`) and of uploads
    (``/upload``: into the collection the page chose, ``backend_of(request)``)."""
    import gradio as gr

    backend_of = backend_of or (lambda request, strict=False: backend)

    def ask(question: str) -> dict:
        """The structured answer: Answer.to_dict() (short answer, citations with offsets, passages)."""
        return ask_in_collection(question, "")

    def ask_in_collection(question: str, collection: str) -> dict:
        """The structured answer from the collection named (as ``/api/ask``'s "collection"; "" or
        "default": the default one). A second endpoint, not a second argument of ``/ask``: a raw
        HTTP client sending one value to ``/ask`` must keep working."""
        from qa.collections import InvalidCollection, UnknownCollection
        from qa.guards import InvalidQuestion, NoDocuments, StoreUnavailable

        try:
            chosen = backend
            if collection not in (None, "", "default") and shelf is not None:
                chosen = backend.for_engine(shelf.get(collection))
            return chosen.ask(question).to_dict()
        except (InvalidQuestion, UnknownCollection, InvalidCollection) as e:  # the client's mistake: one warning line
            log.warning("rejected a question on /ask: %s", e)
            raise gr.Error(str(e), print_exception=False) from None
        except NoDocuments:
            raise gr.Error(f"collection {collection!r} has no documents yet: add one first", print_exception=False) from None
        except StoreUnavailable as e:  # logged once per outage by backend.ask
            raise gr.Error(str(e), print_exception=False) from None

    def on_upload(files: list[str] | str | None, request: gr.Request, progress: gr.Progress = gr.Progress()) -> tuple[str, str]:
        paths = [files] if isinstance(files, str) else list(files or [])
        chosen = backend_of(request, strict=True)
        status = chosen.upload(paths, progress=progress)
        return status, render.collection_note(chosen.engine.stats())

    return {"ask": ask, "ask_in_collection": ask_in_collection, "upload": on_upload}


def _chosen(backend_of: Any, request: Any) -> tuple[Any, list[dict[str, Any]]]:
    """(the backend of the page's collection, []), or (None, the chat's reply saying the collection
    was deleted elsewhere): a question is never answered from another collection instead."""
    try:
        return backend_of(request), []
    except UnknownCollection as e:
        return None, render.render_error(chat_error(e))


def chat_functions(backend: ChatBackend, sessions: SessionTurns, backend_of: Any = None, shelf: Any = None) -> dict[str, Any]:
    """The event handlers of the chat: reply (plain or streamed), like, page closed; and
    :func:`api_functions`. ``backend_of(request)``: the backend of the collection the page chose
    (:mod:`qa.web_documents`; default: ``backend``)."""
    import gradio as gr

    backend_of = backend_of or (lambda request: backend)

    from qa.streaming import can_stream

    def kept(history: Any, request: gr.Request | None) -> Turns:
        session = getattr(request, "session_hash", None)
        return aligned(sessions.get(session), history if isinstance(history, list) else [])

    def respond(message: str, history: list[dict[str, Any]], request: gr.Request) -> list[dict[str, Any]]:
        """Answer a question from the documents (follow-ups use the earlier turns); returns the
        answer message and the sources message."""
        _text_only(message)
        turns = kept(history, request)
        chosen, gone = _chosen(backend_of, request)
        if gone:
            return gone
        messages, turn = chosen.reply(message, answered(turns))
        sessions.put(getattr(request, "session_hash", None), turns + [turn])
        return messages

    def respond_streaming(message: str, history: list[dict[str, Any]], request: gr.Request) -> Iterator[list[dict[str, Any]]]:
        """As ``respond``, shown sentence by sentence: each checked before it appears (LLM answerer)."""
        _text_only(message)
        turns = kept(history, request)
        chosen, gone = _chosen(backend_of, request)
        for messages, turn in [(gone, None)] if gone else chosen.reply_stream(message, answered(turns)):
            sessions.put(getattr(request, "session_hash", None), turns + [turn])  # the full reply's turn comes last
            yield messages

    def on_like(history: list[dict[str, Any]], data: gr.LikeData, request: gr.Request) -> None:
        if data.liked not in (True, False):
            return
        i = data.index[0] if isinstance(data.index, (list, tuple)) else int(data.index)
        found = [(k, ex) for k, ex in enumerate(exchanges(history)) if ex[0] < i]
        if not found:
            gr.Info("Nothing to record: that message is not an answer.")
            return
        k, (_, question, _, _) = found[-1]
        gr.Info(backend_of(request).feedback(question, kept(history, request)[k], bool(data.liked)))

    def on_copy(history: list[dict[str, Any]], data: gr.CopyData, request: gr.Request) -> str:
        """An answer copied with the message's copy button: its plain text, for the clipboard."""
        return copy_text(kept(history, request), data.value)

    def forget(request: gr.Request) -> None:
        """The page closed: its session's turns go."""
        sessions.drop(getattr(request, "session_hash", None))

    return {"chat": respond_streaming if can_stream(backend.engine) else respond, "like": on_like, "copy": on_copy, "forget": forget,
            **api_functions(backend, backend_of, shelf)}


def _side_column(backend: ChatBackend, fn: dict[str, Any]) -> dict[str, Any]:
    """The column beside the chat: conversations, the document view, the collection and uploads."""
    import gradio as gr

    from qa.ingest import document_suffixes  # every type the folder reader reads, .markdown and .text too
    from qa.uploads import DEFAULT_MAX_UPLOAD_BYTES
    from qa.web_documents import documents_panel
    from qa.web_panels import doc_placeholder

    limit = backend.max_upload_bytes or DEFAULT_MAX_UPLOAD_BYTES
    shown_limit = f"{limit / 2**20:g} MB" if limit >= 2**20 else f"{limit / 1024:g} KB"
    c: dict[str, Any] = {}
    with gr.Accordion("Conversations", open=True, elem_id="qa-conversations"):
        c["new"] = gr.Button("New chat", elem_id="qa-new-chat", size="sm")
        c["chats"] = gr.Radio(choices=[], show_label=False, elem_id="qa-chats", container=False)
    with gr.Accordion("Document", open=False, elem_id="qa-docview-box") as c["docbox"]:
        c["docview"] = gr.HTML(doc_placeholder(), elem_id="qa-docview")
        c["doc_open"] = gr.Button("Open document", elem_id="qa-doc-open", visible="hidden")
    c["collection"] = gr.Markdown(render.collection_note(backend.engine.stats()), elem_id="qa-collection")
    c["upload"] = gr.UploadButton(
        "Add documents", file_types=list(document_suffixes()), file_count="multiple", elem_id="qa-upload", size="md",
    )
    gr.Markdown(f"PDF, Word (.docx), HTML, Markdown or UTF-8 text, up to {shown_limit} each, into the collection "
                "chosen under Documents. Added documents are kept and can be cited at once; a file with the same "
                "name as one of your documents replaces it.", elem_classes=["qa-hint"])
    c["upload_status"] = gr.Markdown(elem_id="qa-upload-status")
    c["docs"] = documents_panel()
    return c


def _wire_panels(demo: Any, chat: Any, side: dict[str, Any], rewrite: dict[str, Any], fn: dict[str, Any]) -> None:
    """Conversations kept in the browser, the editable rewrite, the document view (UI-only events)."""
    import gradio as gr

    from qa import web_js

    secret = os.environ.get("QA_WEB_SECRET") or None  # set it to keep conversations across server restarts
    store = gr.BrowserState(web_state.new_store(), storage_key="qa-conversations", secret=secret)
    chatbot, shown = chat.chatbot, [chat.chatbot, chat.chatbot_state]  # the chat, and the ChatInterface's copy of it
    panels = [store, side["chats"], rewrite["row"], rewrite["text"]]
    private = {"api_visibility": "private", "show_progress": "hidden"}
    tab = gr.Textbox(visible=False, elem_id="qa-tab-chat")  # this tab's conversation (sessionStorage)
    keep_tab = {"fn": None, "inputs": [store], "js": web_js.KEEP_TAB_CHAT, **private}
    demo.load(fn["restore"], inputs=[store, tab], outputs=[*shown, *panels], js=web_js.TAB_CHAT, **private).then(
        **keep_tab).then(None, js=web_js.INSTALL, **private)
    doc = [side["docview"], side["docbox"]]
    side["chats"].input(fn["switch"], inputs=[side["chats"], store], outputs=[*shown, *panels], **private).then(
        **keep_tab).then(fn["doc_reset"], outputs=doc, **private)
    side["new"].click(fn["new"], inputs=[store], outputs=[*shown, *panels], **private).then(**keep_tab).then(
        fn["doc_reset"], outputs=doc, **private)
    chatbot.change(fn["kept"], inputs=[chatbot, store], outputs=panels, trigger_mode="always_last", **private)
    rewrite["ask"].click(fn["ask_instead"], inputs=[rewrite["text"], chatbot], outputs=shown, api_visibility="private")
    side["doc_open"].click(fn["open_document"], inputs=[side["docview"]], outputs=[side["docview"], side["docbox"]],
                           js=web_js.DOC_REQUEST, **private).then(None, js=web_js.SHOW_CITED, **private)


def _question_typed(message: Any) -> Any:
    """Gradio's check before a question is sent: an empty one stays in the box with a note, instead
    of an empty bubble and a reply saying it was empty."""
    import gradio as gr

    return gr.validate(bool(str(message or "").strip()), "Type a question about the documents first.")


def build_app(backend: ChatBackend, collections: Any = None) -> Any:
    """The Gradio Blocks: chat (api_name "chat"), structured answers (api_name "ask"), uploads
    (api_name "upload"), like/dislike feedback, a note of what the collection holds, and the
    UI-only panels (:mod:`qa.web_panels`: conversations, editable rewrite, document view;
    :mod:`qa.web_documents`: documents and the page's collection, from ``collections``, a
    :class:`qa.collections.Collections`; default: a new one beside ``backend.engine``)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr
    from gradio.utils import get_upload_folder

    from qa.collections import Collections
    from qa.web_documents import SessionCollections, document_functions, wire_documents
    from qa.web_panels import conversation_functions

    if backend.upload_root is None:  # the same engine and outage log, reading uploads only from Gradio's folder
        backend = dataclasses.replace(backend, upload_root=get_upload_folder())
    sessions = SessionTurns()
    shelf = collections or Collections.of(backend.engine)
    docs = document_functions(backend, shelf, SessionCollections())
    fn = chat_functions(backend, sessions, docs["backend_of"], shelf) | conversation_functions(backend, sessions) | docs
    engine = backend.engine
    with gr.Blocks(title="qa: answers with sources", fill_height=True) as demo:
        gr.Markdown(INTRO)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                chatbot = gr.Chatbot(
                    elem_id="qa-chat", label="Chat", height=620, layout="bubble",
                    latex_delimiters=[], allow_tags=False, sanitize_html=True,
                    feedback_options=("Like", "Dislike"), buttons=["copy"],
                    placeholder="Ask a question about the documents, or pick an example.",
                )
                chat = gr.ChatInterface(
                    fn["chat"], chatbot=chatbot, examples=EXAMPLES, api_name="chat",
                    api_description="Answer a question from the documents: the answer message and its sources.",
                    textbox=gr.Textbox(placeholder="Ask a question about the documents…", elem_id="qa-question", label="Question",
                                       show_label=False, submit_btn=True, stop_btn=False),
                    concurrency_limit=4, fill_height=False, validator=_question_typed,
                )
                with gr.Row(visible=False, elem_id="qa-rewrite-row") as row:
                    text = gr.Textbox(label="Searched for (edit it and ask again)", elem_id="qa-rewrite", scale=4)
                    ask = gr.Button("Ask this instead", elem_id="qa-ask-rewrite", scale=1)
            with gr.Column(scale=1, min_width=260):
                side = _side_column(backend, fn)
        uploaded = _wire_chat(demo, chatbot, side, fn, engine)
        wire_documents(demo, side["docs"], side["collection"], uploaded, fn)
        _wire_panels(demo, chat, side, {"row": row, "text": text, "ask": ask}, fn)
    return demo


def _wire_chat(demo: Any, chatbot: Any, side: dict[str, Any], fn: dict[str, Any], engine: Any) -> Any:
    """Likes, copying as plain text, uploads, the structured ``/ask`` and the collection note;
    returns the upload's event (the documents panel follows it)."""
    import gradio as gr

    chatbot.like(fn["like"], inputs=[chatbot], outputs=None, api_visibility="undocumented")
    # the copy button copies a message's Markdown; an answer is then replaced on the clipboard by
    # its plain text (no **, <mark> or backslash escapes), as `qa ask` prints it
    copied = gr.Textbox(visible=False, elem_id="qa-copied")
    chatbot.copy(fn["copy"], inputs=[chatbot], outputs=[copied], api_visibility="private", queue=False).then(
        None, inputs=[copied], outputs=None, js="(text) => { if (text) navigator.clipboard.writeText(text); return []; }")
    uploaded = side["upload"].upload(fn["upload"], inputs=[side["upload"]], outputs=[side["upload_status"], side["collection"]],
                                     api_name="upload", concurrency_limit=1)
    gr.api(fn["ask"], api_name="ask")
    gr.api(fn["ask_in_collection"], api_name="ask_in_collection")
    # documents may have been added since the app was built (uploads, another process): the
    # note is refreshed on every page load
    demo.load(lambda: render.collection_note(engine.stats()), inputs=None, outputs=[side["collection"]],
              api_visibility="private", queue=False, show_progress="hidden")
    demo.unload(fn["forget"])
    return uploaded
