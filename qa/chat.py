"""The chat backend: what the Gradio chat and the HTTP routes call (no web framework in here).

A conversation is typed data: the earlier turns of the session (:class:`qa.conversation.Turn`,
each closing an :class:`~qa.types.Answer`). The web keeps them per session (:class:`SessionTurns`),
REST clients send back earlier answers, the OpenAI route turns the client's messages into turns;
:meth:`qa.QA.ask` resolves a follow-up ("When was she sworn in?") against them. Nothing is read
back from rendered text.

>>> backend = ChatBackend(QA())                                   # doctest: +SKIP
>>> first = backend.ask("Who was sworn in as interim president?")   # doctest: +SKIP
>>> backend.ask("What office was she sworn in to?", [Turn.of(first)]).searched_question   # doctest: +SKIP
'What office was Delcy Rodríguez sworn in to?'
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from qa import render
from qa.conversation import Turn
from qa.guards import InvalidQuestion, NoDocuments, StoreUnavailable, UnknownCollection
from qa.types import Answer

log = logging.getLogger(__name__)

Messages = list[dict[str, Any]]


# =================================================================================================
# Chat history (Gradio's message shapes) and the typed turns kept beside it
# =================================================================================================


def message_text(message: Any) -> str:
    """The text of a chat message in any of Gradio's shapes (str, dict, list of content parts)."""
    if isinstance(message, dict):
        content = message.get("content")
    else:
        content = getattr(message, "content", message)
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text", "")) if content.get("type", "text") == "text" else ""
    if isinstance(content, (list, tuple)):
        return "\n".join(message_text({"content": c}) for c in content if isinstance(c, (str, dict)))
    return ""


def _role(message: Any) -> str:
    return message.get("role", "") if isinstance(message, dict) else getattr(message, "role", "")


def _is_thought(message: Any) -> bool:
    meta = message.get("metadata") if isinstance(message, dict) else getattr(message, "metadata", None)
    return bool(meta and (meta.get("title") if isinstance(meta, dict) else getattr(meta, "title", None)))


def exchanges(history: Sequence[Any]) -> list[tuple[int, str, int, str]]:
    """(user index, question, answer index, answer text) for each exchange in a chat history;
    the answer is the first non-thought assistant message after the question."""
    out: list[tuple[int, str, int, str]] = []
    q_idx, question, done = -1, None, True
    for i, m in enumerate(history):
        role = _role(m)
        if role == "user":
            q_idx, question, done = i, message_text(m), False
        elif role == "assistant" and not done and question is not None and not _is_thought(m):
            out.append((q_idx, question, i, message_text(m)))
            done = True
    return out


def aligned(turns: Sequence[Turn | None], history: Sequence[Any]) -> list[Turn | None]:
    """The session's turns, one per exchange still in ``history`` (the chat's undo and retry drop
    exchanges from the history; the turns kept beside it are cut to match; None: no answer, e.g. an
    invalid question, or an exchange from before a restart)."""
    n = len(exchanges(history))
    return list(turns[:n]) + [None] * (n - len(turns))


def answered(turns: Sequence[Turn | None]) -> list[Turn]:
    """The turns that hold an answer: what a follow-up can refer back to."""
    return [t for t in turns if t is not None]


def copy_text(turns: Sequence[Turn | None], copied: Any) -> str:
    """What the chat's copy button should put on the clipboard: the plain text
    (:func:`qa.render.plain_text`) of the turn whose reply was copied (the answer message, its
    sources, or both: the chat copies a reply's messages together), found by rendering the session's
    turns again (no text is parsed); "" for anything else, e.g. a question."""
    text = message_text({"content": copied}).strip()
    for turn in reversed([t for t in turns if t is not None]):
        messages = render.render_messages(turn.answer, asked=turn.answer.question)
        if text and any(m["content"].strip() and m["content"].strip() in text for m in messages):
            return render.plain_text(turn.answer)
    return ""


class SessionTurns:
    """The typed turns of each open chat session, by session id (Gradio's session hash), beside the
    chat history the page holds. Kept here rather than in a ``gr.State`` input so that the chat's
    API keeps its two inputs (message, history); the oldest sessions are dropped past ``size``, and
    the web drops a session when its page closes. Thread-safe."""

    def __init__(self, size: int = 1000):
        self.size = size
        self._sessions: OrderedDict[str, list[Turn | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session: str | None) -> list[Turn | None]:
        with self._lock:
            return list(self._sessions.get(session or "", ()))

    def has(self, session: str | None) -> bool:
        with self._lock:
            return (session or "") in self._sessions

    def put(self, session: str | None, turns: list[Turn | None]) -> None:
        with self._lock:
            self._sessions[session or ""] = list(turns)
            self._sessions.move_to_end(session or "")
            while len(self._sessions) > self.size:
                self._sessions.popitem(last=False)

    def drop(self, session: str | None) -> None:
        with self._lock:
            self._sessions.pop(session or "", None)


# =================================================================================================
# The backend
# =================================================================================================


def _store_outage() -> Any:
    from qa.guards import StoreOutage

    return StoreOutage(log)


@dataclasses.dataclass(frozen=True)
class ChatBackend:
    """What the UI and the routes call: asking (follow-ups included), feedback, uploads."""

    engine: Any
    max_upload_bytes: int | None = None
    #: logs one warning per vector-store outage (not one per failed question) and one when it is back
    outage: Any = dataclasses.field(default_factory=_store_outage)
    #: uploads are read only from inside this folder (Gradio's upload cache): a client can name any
    #: path in the FileData it sends, and the server must never read a file it did not receive
    upload_root: str | None = None

    def ask(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        """:meth:`qa.QA.ask` after the earlier turns ``history``, with store outages logged once."""
        from qa.guards import StoreUnavailable

        started = time.monotonic()
        try:
            answer = self.engine.ask(question, history=list(history))
        except StoreUnavailable as e:
            self.outage.failed(e)
            raise
        self.outage.ok(started)
        return answer

    def stream(self, question: str, history: Sequence[Turn] = ()) -> Iterator[Any]:
        """:meth:`qa.QA.ask_stream`: "ready", checked "sentence" pieces, then the "answer". A bad
        question or a store outage raises before the first event."""
        from qa.guards import StoreUnavailable

        started = time.monotonic()
        events = self.engine.ask_stream(question, history=list(history))
        try:
            first = next(events)
        except StoreUnavailable as e:
            self.outage.failed(e)
            raise
        self.outage.ok(started)
        yield first
        yield from events

    def reply(self, question: str, history: Sequence[Turn] = ()) -> tuple[Messages, Turn | None]:
        """The chat reply (answer and sources messages) and its turn (None when the question could
        not be answered: invalid, or the store is down)."""
        try:
            answer = self.ask(question, history)
        except _CHAT_ERRORS as e:
            return render.render_error(chat_error(e)), None
        return render.render_messages(answer, asked=answer.question), Turn.of(answer)

    def reply_stream(self, question: str, history: Sequence[Turn] = ()) -> Iterator[tuple[Messages, Turn | None]]:
        """:meth:`reply`, growing: the checked sentences so far, then the full reply and its turn."""
        shown = ""
        try:
            for event in self.stream(question, history):
                if event.kind == "sentence":
                    shown += event.text
                    yield [{"role": "assistant", "content": render.md_escape(shown)}], None
                elif event.kind == "answer" and event.answer is not None:
                    yield render.render_messages(event.answer, asked=event.answer.question), Turn.of(event.answer)
        except _CHAT_ERRORS as e:
            yield render.render_error(chat_error(e)), None

    def feedback(self, question: str, turn: Turn | None, liked: bool) -> str:
        """Record a like/dislike on the answer of ``turn`` (asked as ``question``); returns a status line."""
        from qa.feedback import append_feedback, feedback_record

        # no turn kept (e.g. the page outlived a restart): ask again, answers are deterministic
        answer = turn.answer if turn is not None else self.ask(question)
        path = append_feedback(self.engine.config.index_dir, feedback_record(answer.to_dict(), liked, asked=question))
        return f"Thanks: your {'like' if liked else 'dislike'} was saved to {path.name}."

    def document(self, doc_id: str) -> tuple[str, list[Any]] | None:
        """(title, chunks in order) of an indexed document: the extracted text the index stores,
        which citations offset into; None for an id the index does not hold (no file is ever read)."""
        from qa.ingest.nodes import node_to_chunk

        store = getattr(self.engine, "store", None)
        if store is None:
            return None
        if store.manifest is None:
            self.engine.stats()  # opens the index
        entry = (store.manifest.documents if store.manifest else {}).get(doc_id) if isinstance(doc_id, str) else None
        if not entry:
            return None
        chunks = [node_to_chunk(n) for n in store.get_nodes(list(entry.get("chunks", ())))]
        return str(entry.get("title", "")), sorted((c for c in chunks if c.doc_id == doc_id), key=lambda c: c.start)

    def upload(self, paths: Sequence[str], progress: Callable[..., Any] | None = None) -> str:
        """Add uploaded files (any type :mod:`qa.ingest` reads: .pdf, .docx, .html, .md, .txt) with
        :meth:`qa.documents.DocumentLibrary.add`: a file of the same name as a user document replaces
        it; returns a Markdown status line per file."""
        from qa.documents import DocumentLibrary, SeedDocument
        from qa.uploads import DEFAULT_MAX_UPLOAD_BYTES, InvalidDocument, read_received_file, safe_filename

        limit = self.max_upload_bytes or DEFAULT_MAX_UPLOAD_BYTES
        library = DocumentLibrary(self.engine, max_bytes=limit)
        lines = []
        taken: dict[str, str] = {}  # stored name -> the file of this upload stored under it
        for p in paths or []:
            path = Path(str(p))
            name = path.name
            try:
                stored = safe_filename(name)
                if stored in taken:  # "report (1).txt" and "report 1.txt": one must not replace the other
                    raise InvalidDocument(f"{name}: it would be stored as {stored}, the name another file of this upload, "
                                          f"{taken[stored]}, is stored under; rename one of them and add it again")
                data = read_received_file(path, self.upload_root, limit)

                def step(done: int, total: int, _name: str = name) -> None:
                    if progress is not None:
                        progress((done, total), desc=f"Embedding {_name}", unit="passages")

                if progress is not None:
                    progress(0, desc=f"Checking {name}")
                lines.append(upload_status(name, library.add(name, data, progress=step)))
                taken[stored] = name
            except SeedDocument:
                lines.append(render.upload_line(name, error=f"{name}: already in the collection as a shipped seed "
                                                            "document, which is read only: rename your file"))
            except InvalidDocument as e:
                lines.append(render.upload_line(name, error=str(e)))
            except OSError as e:
                lines.append(render.upload_line(name, error=f"{name}: {e.strerror or e}"))
        return "\n\n".join(lines) or "No file received."

    def for_engine(self, engine: Any) -> "ChatBackend":
        """The same backend (outage log, upload folder, limit) over another collection's engine."""
        return self if engine is self.engine else dataclasses.replace(self, engine=engine)


_CHAT_ERRORS = (InvalidQuestion, StoreUnavailable, NoDocuments, UnknownCollection)


def chat_error(e: Exception) -> str:
    """What the chat says instead of an answer when a question cannot be answered: the user's
    mistake, an unreachable store, an empty or deleted collection (no server path, no traceback)."""
    if isinstance(e, InvalidQuestion):
        log.warning("rejected a chat question: %s", e)
    if isinstance(e, NoDocuments):
        return ("This collection has no documents yet: add some with Add documents (PDF, Word, HTML, Markdown or "
                "text files), then ask.")
    if isinstance(e, UnknownCollection):
        return f"{str(e)[:1].upper()}{str(e)[1:]}: choose another collection under Documents."
    return str(e)  # StoreUnavailable: logged once per outage by ask


def upload_status(name: str, change: Any) -> str:
    """The status line of a :class:`qa.documents.DocumentChange` from an upload."""
    if getattr(change, "replaced", False):
        given = f" {render.md_code(name)}" if name != change.doc_id else ""
        return (f"**Replaced** {render.md_code(change.doc_id)} with the uploaded file{given} "
                f"({render.counted(change.chunks, 'passage')}). You can ask about it now.")
    return render.upload_line(name, change)
