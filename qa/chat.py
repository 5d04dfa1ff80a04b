"""The chat backend: what the Gradio chat and the HTTP routes call (no web framework in here).

A conversation is typed data: the earlier :class:`~qa.types.Answer`s of the session (the web keeps
them in a ``gr.State``; REST and OpenAI clients send their earlier turns). The last one makes a
follow-up ("When was she sworn in?") searchable; nothing is ever read back from rendered text.

>>> backend = ChatBackend(QA())                                   # doctest: +SKIP
>>> first = backend.ask("Who was sworn in as interim president?")   # doctest: +SKIP
>>> backend.ask("What office was she sworn in to?", [first]).searched_question   # doctest: +SKIP
'What office was Delcy Rodríguez sworn in to?'
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from qa import render
from qa.followup import Turn, rewrite
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


def aligned(turns: Sequence[Answer | None], history: Sequence[Any]) -> list[Answer | None]:
    """The session's answers, one per exchange still in ``history`` (the chat's undo and retry drop
    exchanges from the history; the answers kept beside it are cut to match)."""
    n = len(exchanges(history))
    return list(turns[:n]) + [None] * (n - len(turns))


def previous_turn(answers: Sequence[Answer | None]) -> Turn | None:
    """What a follow-up refers back to: the last answer's searched question and short answer."""
    last = answers[-1] if answers else None
    if last is None:
        return None
    return Turn(question=last.searched_question or last.question, answer=last.short_answer)


# =================================================================================================
# The backend
# =================================================================================================


def _store_outage() -> Any:
    from qa.pipeline import StoreOutage

    return StoreOutage(log)


@dataclasses.dataclass(frozen=True)
class Prepared:
    """A question ready to search: what to echo back, what to search for, the notices so far."""

    echo: str
    searched: str
    notices: tuple[str, ...]


@dataclasses.dataclass
class ChatBackend:
    """What the UI and the routes call: follow-ups, asking, feedback, uploads. Mutable on purpose:
    the web wiring sets ``upload_root`` (Gradio's upload folder) once it is known."""

    engine: Any
    max_upload_bytes: int | None = None
    #: logs one warning per vector-store outage (not one per failed question) and one when it is back
    outage: Any = dataclasses.field(default_factory=_store_outage)
    #: uploads are read only from inside this folder (Gradio's upload cache): a client can name any
    #: path in the FileData it sends, and the server must never read a file it did not receive
    upload_root: str | None = None

    def prepare(self, question: str, previous: Turn | None) -> Prepared:
        """Cut and clean ``question``, then rewrite it as a follow-up of ``previous``."""
        from qa.pipeline import clean_question, scrub_text

        # cut to the length limit, then cleaned, before anything else reads it: a 1 MB question
        # costs what a 2000-character one does, and only the cut text is ever echoed back
        limit = getattr(getattr(self.engine, "config", None), "max_question_chars", 2000)
        q, notices = clean_question(question, limit)
        searched = rewrite(q, previous) if previous is not None else q
        echo = scrub_text(question) if len(question) <= len(q) + 64 else q
        return Prepared(echo=echo, searched=searched, notices=tuple(notices))

    def ask(self, question: str, history: Sequence[Answer | None] = (), previous: Turn | None = None) -> Answer:
        """Answer ``question`` after the earlier answers ``history`` (or an explicit ``previous``
        turn): follow-ups are rewritten. The Answer's ``question`` is what was typed,
        ``searched_question`` what was searched for."""
        from qa.pipeline import StoreUnavailable

        p = self.prepare(question, previous if previous is not None else previous_turn(history))
        started = time.monotonic()
        try:
            answer = self.engine.ask(p.searched)
        except StoreUnavailable as e:
            self.outage.failed(e)
            raise
        self.outage.ok(started)
        return dataclasses.replace(answer, question=p.echo, notices=p.notices + answer.notices)

    def stream(self, question: str, history: Sequence[Answer | None] = (), previous: Turn | None = None) -> Iterator[Any]:
        """:meth:`ask`, streamed (:func:`qa.streaming.ask_stream`): "ready", checked "sentence"
        pieces, then the "answer". Raises before the first event for a bad question or a store outage."""
        from qa.pipeline import StoreUnavailable
        from qa.streaming import ask_stream

        p = self.prepare(question, previous if previous is not None else previous_turn(history))
        started = time.monotonic()
        events = ask_stream(self.engine, p.searched)
        try:
            first = next(events)
        except StoreUnavailable as e:
            self.outage.failed(e)
            raise
        self.outage.ok(started)
        yield first
        for event in events:
            if event.kind == "answer" and event.answer is not None:
                event = dataclasses.replace(event, answer=dataclasses.replace(
                    event.answer, question=p.echo, notices=p.notices + event.answer.notices))
            yield event

    def reply(self, question: str, history: Sequence[Answer | None] = ()) -> tuple[Messages, Answer | None]:
        """The chat reply (answer and sources messages) and the Answer (None when refused as invalid)."""
        from qa.pipeline import InvalidQuestion, StoreUnavailable

        try:
            answer = self.ask(question, history)
        except InvalidQuestion as e:
            log.warning("rejected a chat question: %s", e)
            return render.render_error(str(e)), None
        except StoreUnavailable as e:  # logged once per outage by ask
            return render.render_error(str(e)), None
        return render.render_messages(answer, asked=answer.question), answer

    def reply_stream(self, question: str, history: Sequence[Answer | None] = ()) -> Iterator[tuple[Messages, Answer | None]]:
        """:meth:`reply`, growing: the checked sentences so far, then the full reply."""
        from qa.pipeline import InvalidQuestion, StoreUnavailable

        shown = ""
        try:
            for event in self.stream(question, history):
                if event.kind == "sentence":
                    shown += event.text
                    yield [{"role": "assistant", "content": render.md_escape(shown)}], None
                elif event.kind == "answer" and event.answer is not None:
                    yield render.render_messages(event.answer, asked=event.answer.question), event.answer
        except InvalidQuestion as e:
            log.warning("rejected a chat question: %s", e)
            yield render.render_error(str(e)), None
        except StoreUnavailable as e:  # logged once per outage by stream
            yield render.render_error(str(e)), None

    def feedback(self, question: str, answer: Answer | None, liked: bool) -> str:
        """Record a like/dislike on ``answer`` (asked as ``question``); returns a status line."""
        from qa.feedback import append_feedback, feedback_record

        if answer is None:  # e.g. after a restart: ask again (answers are deterministic)
            answer = self.ask(question)
        path = append_feedback(self.engine.config.index_dir, feedback_record(answer.to_dict(), liked, asked=question))
        return f"Thanks: your {'like' if liked else 'dislike'} was saved to {path.name}."

    def upload(self, paths: Sequence[str], progress: Callable[..., Any] | None = None) -> str:
        """Add uploaded files; returns a Markdown status line per file."""
        from qa.uploads import DEFAULT_MAX_UPLOAD_BYTES, InvalidDocument, read_received_file

        limit = self.max_upload_bytes or DEFAULT_MAX_UPLOAD_BYTES
        lines = []
        for p in paths or []:
            path = Path(str(p))
            name = path.name
            try:
                data = read_received_file(path, self.upload_root, limit)

                def step(done: int, total: int, _name: str = name) -> None:
                    if progress is not None:
                        progress((done, total), desc=f"Embedding {_name}", unit="passages")

                if progress is not None:
                    progress(0, desc=f"Checking {name}")
                lines.append(render.upload_line(name, self.engine.add_document(name, data, progress=step, max_bytes=limit)))
            except InvalidDocument as e:
                lines.append(render.upload_line(name, error=str(e)))
            except OSError as e:
                lines.append(render.upload_line(name, error=f"{name}: {e.strerror or e}"))
        return "\n\n".join(lines) or "No file received."
