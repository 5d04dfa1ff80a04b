"""The Gradio chat over the engine. UI wiring and rendering only: answers come from :meth:`qa.QA.ask`.

Every reply is two chat messages: the answer (short answer, the quotes with ``[n]`` markers, the
question actually searched for when a follow-up was rewritten) and a collapsible "Sources" message
(headline, file name and character range of each citation, with the quoted sentence highlighted
inside its passage). A refusal says the documents do not hold the answer and lists the nearest
passages. All document text is escaped before it reaches Markdown, so a document can never inject
HTML or formatting.

>>> demo = build_app(QA())                      # doctest: +SKIP

Run it with :func:`qa.server.main` (``python app.py`` / ``qa serve``): one server, one port, for the
chat, the REST route and the OpenAI-compatible API.
"""


import dataclasses
import html
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

EXAMPLES = [
    "Who was sworn in as interim president?",
    "When did the United States launch the military strike?",
    "How many Venezuelan security personnel were killed?",
    "What did Trump say about the operation?",
]

REFUSAL = "Not found in the documents."
TITLE_CHARS = 90

CSS = """
#qa-chat mark { background: #fde68a; color: inherit; padding: 0 .1em; border-radius: 2px; }
.dark #qa-chat mark { background: #a16207; }
#qa-collection { font-size: .92em; }
#qa-collection ul { margin-top: .3em; }
"""


def theme() -> Any:
    """Gradio's default theme with local system fonts (nothing fetched from the internet)."""
    import gradio as gr

    return gr.themes.Default(
        font=["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
    )


# =================================================================================================
# Rendering (pure functions: Answer → Markdown)
# =================================================================================================


def _md_escape(text: str) -> str:
    """Document text shown as literal text: no HTML, no Markdown formatting.

    >>> _md_escape("<b>*x*</b>")
    '&lt;b&gt;\\\\*x\\\\*&lt;/b&gt;'
    """
    escaped = html.escape(text, quote=False)
    for ch in "\\`*_{}[]()#+!|~>$":
        escaped = escaped.replace(ch, "\\" + ch)
    # a line that starts like a list item or heading underline stays text
    escaped = re.sub(r"(?m)^(\s*)([-=])", r"\1\\\2", escaped)
    escaped = re.sub(r"(?m)^(\s*\d+)\.", r"\1\\.", escaped)
    return escaped


def _md_code(text: str) -> str:
    """``text`` as a Markdown code span (file names: shown literally, never formatted).

    >>> _md_code("a_b.txt"), _md_code("x`y")
    ('`a_b.txt`', '``x`y``')
    """
    text = _flat(text)
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md_unescape(text: str) -> str:
    """Undo :func:`_md_escape` (to read back what a reply said)."""
    return html.unescape(re.sub(r"\\(.)", r"\1", text))


def _flat(text: str) -> str:
    return " ".join(text.split())


def _short_title(title: str, limit: int = TITLE_CHARS) -> str:
    title = _flat(title)
    return title if len(title) <= limit else title[:limit].rsplit(" ", 1)[0] + "…"


def _passage_for(answer: Any, citation: Any) -> Any:
    """The retrieved chunk a citation was taken from (or one that contains it)."""
    hits = getattr(answer, "passages", ()) or ()
    for h in hits:
        if citation.chunk_id and h.chunk.chunk_id == citation.chunk_id:
            return h.chunk
    for h in hits:
        c = h.chunk
        if c.doc_id == citation.doc_id and c.start <= citation.start and citation.end <= c.end:
            return c
    return None


def _ws(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def highlight_in_passage(chunk_text: str, chunk_start: int, start: int, end: int,
                         answer_span: tuple[int, int] | None = None, context: int = 400) -> str:
    """The passage as escaped Markdown with ``[start, end)`` (absolute offsets) in ``<mark>`` and
    the short answer inside it in bold; at most ``context`` characters of the passage on each side.

    >>> highlight_in_passage("A b.\\nAnn won. C d.", 100, 105, 113, (105, 108))
    'A b. <mark>**Ann** won.</mark> C d.'
    """
    s, e = start - chunk_start, end - chunk_start
    if not (0 <= s <= e <= len(chunk_text)):
        return f"<mark>{_md_escape(_flat(chunk_text))}</mark>"
    quote = chunk_text[s:e]
    if answer_span and start <= answer_span[0] < answer_span[1] <= end:
        a0, a1 = answer_span[0] - start, answer_span[1] - start
        inner = (_md_escape(_ws(quote[:a0])) + f"**{_md_escape(_flat(quote[a0:a1]))}**"
                 + _md_escape(_ws(quote[a1:])))
    else:
        inner = _md_escape(_ws(quote))
    before, after = _ws(chunk_text[:s]).lstrip(), _ws(chunk_text[e:]).rstrip()
    if len(before) > context:
        before = "… " + before[-context:].split(" ", 1)[-1]
    if len(after) > context:
        after = after[:context].rsplit(" ", 1)[0] + " …"
    return _md_escape(before) + f"<mark>{inner}</mark>" + _md_escape(after)


def render_main(answer: Any, asked: str | None = None) -> str:
    """The answer message: short answer, quotes with [n], "Searched for" and notices."""
    lines: list[str] = []
    if answer.refused:
        lines += [f"**{REFUSAL}**", "",
                  "The documents do not hold the answer to this question."
                  + (" The nearest passages are listed below." if answer.passages else "")]
    else:
        if answer.short_answer:
            lines += [f"**{_md_escape(_flat(answer.short_answer))}**", ""]
        generation = getattr(answer, "generation", None)
        if generation is not None and generation.used:  # an LLM's checked sentences; quotes are in the sources
            lines += [_md_escape(answer.text), ""]
        else:
            for c in answer.citations:
                lines += [f"> “{_md_escape(_flat(c.quote))}” [{c.n}]", ""]
    searched = getattr(answer, "searched_question", "") or ""
    if asked is not None and searched and _flat(searched) != _flat(asked):
        lines += ["", f"*Searched for: {_md_escape(searched)}*"]
    for n in answer.notices:
        lines += ["", f"*{_md_escape(n)}*"]
    return "\n".join(lines).strip()


def render_sources(answer: Any) -> str:
    """The sources message: for each citation the headline, file, characters and the passage
    with the quoted sentence highlighted; for a refusal the nearest passages."""
    blocks: list[str] = []
    if answer.refused:
        for i, h in enumerate(answer.passages[:3], 1):
            c = h.chunk
            text = _flat(c.text)
            if len(text) > 400:
                text = text[:400].rsplit(" ", 1)[0] + " …"
            blocks.append(
                f"**{i}. {_md_escape(_short_title(c.title))}**  \n"
                f"{_md_code(c.doc_id)}, characters {c.start}–{c.end}\n\n{_md_escape(text)}"
            )
        return "\n\n".join(blocks)
    for c in answer.citations:
        chunk = _passage_for(answer, c)
        span = (c.answer_start, c.answer_end) if c.answer_start is not None and c.answer_end is not None else None
        if chunk is not None:
            body = highlight_in_passage(chunk.text, chunk.start, c.start, c.end, span)
        else:
            body = f"<mark>{_md_escape(_flat(c.quote))}</mark>"
        blocks.append(
            f"**[{c.n}] {_md_escape(_short_title(c.title))}**  \n"
            f"{_md_code(c.doc_id)}, characters {c.start}–{c.end}\n\n{body}"
        )
    return "\n\n".join(blocks)


def sources_title(answer: Any) -> str:
    if answer.refused:
        return f"Nearest passages ({min(3, len(answer.passages))})"
    n = len(answer.citations)
    docs = len({c.doc_id for c in answer.citations})
    return f"Sources: {n} quote{'s' if n != 1 else ''} from {docs} document{'s' if docs != 1 else ''}"


def render_messages(answer: Any, asked: str | None = None) -> list[dict[str, Any]]:
    """The reply as chat messages: the answer, then the collapsible sources (open for a refusal)."""
    out: list[dict[str, Any]] = [{"role": "assistant", "content": render_main(answer, asked)}]
    sources = render_sources(answer)
    if sources:
        meta: dict[str, Any] = {"title": sources_title(answer)}
        if not answer.refused:
            meta["status"] = "done"  # collapsed until opened
        out.append({"role": "assistant", "content": sources, "metadata": meta})
    return out


def render_answer(answer: Any, asked: str | None = None) -> str:
    """The whole reply as one Markdown string (answer, then sources)."""
    parts = [render_main(answer, asked)]
    sources = render_sources(answer)
    if sources:
        parts.append(f"**{sources_title(answer)}**\n\n{sources}")
    return "\n\n".join(parts)


def collection_note(stats: dict[str, Any], limit: int = 12) -> str:
    """What the collection holds: counts and titles (escaped)."""
    titles = stats.get("titles", {})
    n, chunks = stats.get("documents", len(titles)), stats.get("chunks", 0)
    lines = [f"**The collection holds {n} document{'s' if n != 1 else ''}** ({chunks} passages):", ""]
    for doc_id, title in list(sorted(titles.items()))[:limit]:
        lines.append(f"- {_md_escape(_short_title(title or doc_id, 80))} — {_md_code(doc_id)}")
    if len(titles) > limit:
        lines.append(f"- … and {len(titles) - limit} more")
    return "\n".join(lines)


# =================================================================================================
# Chat history helpers
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


def _cache_key(text: str) -> str:
    return _flat(text)


class AnswerLog:
    """The last answers shown, by their rendered text (for likes and follow-ups); thread-safe."""

    def __init__(self, size: int = 2000):
        self.size = size
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, rendered: str, answer: Any) -> None:
        with self._lock:
            key = _cache_key(rendered)
            self._items[key] = answer
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get(self, rendered: str) -> Any:
        with self._lock:
            return self._items.get(_cache_key(rendered))


def read_main_reply(text: str) -> tuple[str | None, str | None]:
    """(short answer, searched question) read back from a rendered answer message."""
    short = searched = None
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if lines and lines[0].startswith("**") and lines[0].endswith("**") and REFUSAL not in lines[0]:
        short = _md_unescape(lines[0][2:-2])
    for ln in lines:
        m = re.fullmatch(r"\*Searched for: (.*)\*", ln)
        if m:
            searched = _md_unescape(m.group(1))
    return short, searched


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


# =================================================================================================
# The app
# =================================================================================================


def _store_outage() -> Any:
    from qa.pipeline import StoreOutage

    return StoreOutage(log)


@dataclasses.dataclass
class ChatBackend:
    """What the UI calls: follow-up rewriting, asking, feedback, uploads (no Gradio in here)."""

    engine: Any
    max_upload_bytes: int | None = None
    answers: AnswerLog = dataclasses.field(default_factory=AnswerLog)
    #: logs one warning per vector-store outage (not one per failed question) and one when it is back
    outage: Any = dataclasses.field(default_factory=lambda: _store_outage())
    #: uploads are read only from inside this folder (Gradio's upload cache): a client can name any
    #: path in the FileData it sends, and the server must never read a file it did not receive
    upload_root: str | None = None

    def previous_turn(self, history: Sequence[Any]) -> Any:
        from qa.followup import Turn

        ex = exchanges(history)
        if not ex:
            return None
        _, question, _, text = ex[-1]
        prev = self.answers.get(text)
        if prev is not None:
            return Turn(question=prev.searched_question or question, answer=prev.short_answer)
        short, searched = read_main_reply(text)
        return Turn(question=searched or question, answer=short)

    def ask(self, question: str, history: Sequence[Any] = (), previous: Any = None) -> Any:
        """Answer ``question`` in the context of ``history`` (chat messages) or ``previous`` (a
        :class:`qa.followup.Turn`): follow-ups are rewritten. The Answer's ``question`` is what was
        typed, ``searched_question`` what was searched for."""
        from qa.followup import rewrite
        from qa.pipeline import StoreUnavailable, clean_question, scrub_text

        # cut to the length limit, then cleaned, before anything else reads it: a 1 MB question
        # costs what a 2000-character one does, and only the cut text is ever echoed back
        limit = getattr(getattr(self.engine, "config", None), "max_question_chars", 2000)
        q, notices = clean_question(question, limit)
        if previous is None and history:
            previous = self.previous_turn(history)
        searched = rewrite(q, previous) if previous is not None else q
        started = time.monotonic()
        try:
            answer = self.engine.ask(searched)
        except StoreUnavailable as e:
            self.outage.failed(e)
            raise
        self.outage.ok(started)
        echo = scrub_text(question) if len(question) <= len(q) + 64 else q
        return dataclasses.replace(answer, question=echo, notices=tuple(notices) + answer.notices)

    def reply(self, question: str, history: Sequence[Any] = ()) -> list[dict[str, Any]]:
        from qa.pipeline import InvalidQuestion, StoreUnavailable

        try:
            answer = self.ask(question, history)
        except InvalidQuestion as e:
            log.warning("rejected a chat question: %s", e)
            return [{"role": "assistant", "content": f"*{_md_escape(str(e))}*"}]
        except StoreUnavailable as e:  # logged once per outage by ask
            return [{"role": "assistant", "content": f"*{_md_escape(str(e))}*"}]
        messages = render_messages(answer, asked=answer.question)
        self.answers.put(messages[0]["content"], answer)
        return messages

    def feedback(self, history: Sequence[Any], index: Any, liked: bool) -> str:
        """Record a like/dislike on the reply at ``index`` of ``history``; returns a status line."""
        from qa.feedback import append_feedback, feedback_record

        i = index[0] if isinstance(index, (list, tuple)) else int(index)
        chosen = None
        for ex in exchanges(history):
            if ex[0] < i:
                chosen = ex
        if chosen is None:
            return "Nothing to record: that message is not an answer."
        _, question, _, text = chosen
        answer = self.answers.get(text)
        if answer is None:  # e.g. after a restart: ask again (answers are deterministic)
            _, searched = read_main_reply(text)
            answer = dataclasses.replace(self.engine.ask(searched or question), question=question)
        path = append_feedback(self.engine.config.index_dir, feedback_record(answer.to_dict(), liked, asked=question))
        return f"Thanks: your {'like' if liked else 'dislike'} was saved to {path.name}."

    def upload(self, paths: Sequence[str], progress: Callable[..., Any] | None = None) -> str:
        """Add uploaded files; returns a Markdown status line per file."""
        from qa.uploads import DEFAULT_MAX_UPLOAD_BYTES, InvalidDocument

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
                added = self.engine.add_document(name, data, progress=step, max_bytes=limit)
                if added.created:
                    lines.append(f"**Added** {_md_code(added.doc_id)} ({added.chunks} passage{'s' if added.chunks != 1 else ''}): "
                                 f"“{_md_escape(_short_title(added.title, 80))}”. You can ask about it now.")
                else:
                    lines.append(f"**Already there:** {_md_code(added.doc_id)} is in the collection.")
            except InvalidDocument as e:
                lines.append(f"**Not added:** {_md_escape(str(e))}")
            except OSError as e:
                lines.append(f"**Not added:** {_md_escape(name)}: {_md_escape(e.strerror or str(e))}")
        return "\n\n".join(lines) or "No file received."


def read_received_file(path: Path, root: str | None, limit: int) -> bytes:
    """The bytes of an uploaded file, read only if it lies inside ``root`` once links are resolved,
    is a regular file, and holds at most ``limit`` bytes (counted while reading, not from ``st_size``).

    Raises :class:`qa.uploads.InvalidDocument` otherwise, naming the file but never its server path.
    """
    import os
    import stat

    from qa.uploads import InvalidDocument

    name = path.name
    if root is not None:
        real, base = os.path.realpath(path), os.path.realpath(root)
        if os.path.commonpath([real, base]) != base or real == base:
            raise InvalidDocument(f"{name}: not a file received by this server's upload; upload it through the app")
    # O_NONBLOCK: a FIFO must never hang the server; O_NOFOLLOW: the checked path is the opened one
    flags = os.O_RDONLY | os.O_NONBLOCK | (os.O_NOFOLLOW if root is not None else 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise InvalidDocument(f"{name}: cannot be read ({e.strerror or e})") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise InvalidDocument(f"{name}: not a regular file")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise InvalidDocument(f"{name}: over the {limit:,}-byte limit for one document")
    return data


def build_app(engine: Any, max_upload_bytes: int | None = None, backend: ChatBackend | None = None) -> Any:
    """The Gradio Blocks: chat (api_name "chat"), structured answers (api_name "ask"), uploads
    (api_name "upload"), like/dislike feedback, and a note of what the collection holds."""
    import os

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    from gradio.utils import get_upload_folder

    backend = backend or ChatBackend(engine, max_upload_bytes=max_upload_bytes)
    if backend.upload_root is None:
        backend.upload_root = get_upload_folder()

    def respond(message: str, history: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Answer a question from the documents (follow-ups use the history); returns the answer
        message and the sources message."""
        if not isinstance(message, str):  # e.g. null over the API: Gradio itself cannot record it
            log.warning("rejected a chat question: a question must be text, not %s", type(message).__name__)
            raise gr.Error(f"a question must be text, not {type(message).__name__}", print_exception=False)
        return backend.reply(message, history if isinstance(history, list) else [])

    def respond_streaming(message: str, history: list[dict[str, Any]]) -> Any:
        """As ``respond``, shown sentence by sentence: each checked before it appears (LLM answerer)."""
        from qa.streaming import chat_messages

        if not isinstance(message, str):
            log.warning("rejected a chat question: a question must be text, not %s", type(message).__name__)
            raise gr.Error(f"a question must be text, not {type(message).__name__}", print_exception=False)
        yield from chat_messages(backend, message, history if isinstance(history, list) else [])

    from qa.streaming import can_stream

    chat_fn = respond_streaming if can_stream(engine) else respond

    def ask(question: str) -> dict:
        """The structured answer: Answer.to_dict() (short answer, citations with offsets, passages)."""
        from qa.pipeline import InvalidQuestion, StoreUnavailable

        try:
            return backend.ask(question).to_dict()
        except InvalidQuestion as e:  # the client's mistake: one warning line, no traceback
            log.warning("rejected a question on /ask: %s", e)
            raise gr.Error(str(e), print_exception=False) from None
        except StoreUnavailable as e:  # logged once per outage by backend.ask
            raise gr.Error(str(e), print_exception=False) from None

    def on_like(history: list[dict[str, Any]], data: gr.LikeData) -> None:
        if data.liked not in (True, False):
            return
        gr.Info(backend.feedback(history, data.index, bool(data.liked)))

    def on_upload(files: list[str] | str | None, progress: gr.Progress = gr.Progress()) -> tuple[str, str]:
        paths = [files] if isinstance(files, str) else list(files or [])
        status = backend.upload(paths, progress=progress)
        return status, collection_note(engine.stats())

    from qa.uploads import DEFAULT_MAX_UPLOAD_BYTES

    limit = max_upload_bytes or DEFAULT_MAX_UPLOAD_BYTES
    shown_limit = f"{limit / 2**20:g} MB" if limit >= 2**20 else f"{limit / 1024:g} KB"
    with gr.Blocks(title="qa: answers with sources", fill_height=True) as demo:
        gr.Markdown(
            "# Ask the documents\n"
            "Every answer quotes the documents word for word, with [n] markers pointing to its sources. "
            "When the documents do not hold the answer, it says so and shows the nearest passages."
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                chatbot = gr.Chatbot(
                    elem_id="qa-chat", label="Chat", height=620, layout="bubble",
                    latex_delimiters=[], allow_tags=False, sanitize_html=True,
                    feedback_options=("Like", "Dislike"), buttons=["copy"],
                    placeholder="Ask a question about the documents, or pick an example.",
                )
                gr.ChatInterface(
                    chat_fn, chatbot=chatbot, examples=EXAMPLES, api_name="chat",
                    api_description="Answer a question from the documents: the answer message and its sources.",
                    textbox=gr.Textbox(placeholder="Ask a question about the documents…", elem_id="qa-question",
                                       show_label=False, submit_btn=True, stop_btn=False),
                    concurrency_limit=4, fill_height=False,
                )
            with gr.Column(scale=1, min_width=260):
                collection = gr.Markdown(collection_note(engine.stats()), elem_id="qa-collection")
                upload = gr.UploadButton(
                    "Add .txt or .md documents", file_types=[".txt", ".md"], file_count="multiple",
                    elem_id="qa-upload", size="md",
                )
                gr.Markdown(f"UTF-8 text, up to {shown_limit} each. Added documents are kept and can be cited at once.",
                            elem_classes=["qa-hint"])
                upload_status = gr.Markdown(elem_id="qa-upload-status")
        chatbot.like(on_like, inputs=[chatbot], outputs=None, api_visibility="undocumented")
        upload.upload(on_upload, inputs=[upload], outputs=[upload_status, collection], api_name="upload",
                      concurrency_limit=1)
        gr.api(ask, api_name="ask")
        # documents may have been added since the app was built (uploads, another process): the
        # note is refreshed on every page load
        demo.load(lambda: collection_note(engine.stats()), inputs=None, outputs=[collection],
                  api_visibility="private", queue=False, show_progress="hidden")
    demo.qa_backend = backend  # for tests and servers that need the same answer log
    return demo


def main(argv: Sequence[str] | None = None) -> None:
    """`python app.py` / `qa serve`: see :func:`qa.server.main`."""
    from qa.server import main as server_main

    server_main(argv)
