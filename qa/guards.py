"""What the engine checks before it works, and the errors it raises when it cannot.

* a question: :func:`clean_question` (cut, control characters removed; :class:`InvalidQuestion`
  when nothing is left), :func:`check_top_k`, :func:`scrub_text` for echoing it back;
* a document: :func:`check_document`; an index folder: :func:`require_writable_index`;
* the vector store: :class:`StoreUnavailable` when a Chroma server cannot be reached
  (:func:`unreachable_cause` finds that in any exception), :class:`StoreOutage` logging one line per
  outage; :class:`NoDocuments` for a missing or empty documents folder.

No model, no chromadb: the web, REST and CLI layers import these without loading the engine.
"""

from __future__ import annotations

import contextlib
import logging
import operator
import os
import re
import threading
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qa.store import IndexError_
from qa.types import Document

# the engine's logger: an outage is the engine's news, wherever it is noticed
log = logging.getLogger("qa.engine")


class InvalidQuestion(ValueError):
    """The question cannot be asked as given (empty, not text); the message says why."""


class NoDocuments(RuntimeError):
    """The documents folder is missing or holds no readable document."""


class UnknownCollection(KeyError):
    """No collection of this name (never made, or deleted)."""

    def __str__(self) -> str:  # KeyError quotes its message; this one is read by people
        return str(self.args[0]) if self.args else ""


class StoreUnavailable(IndexError_):
    """The Chroma server holding the vectors cannot be reached (down, restarting, wrong address).

    ``url`` is the server; the message says how to start it. Transient: the engine reconnects by
    itself on the next question once the server answers again (the web server answers 503).
    """

    def __init__(self, url: str, cause: BaseException | None = None):
        from qa.config import parse_chroma_url

        self.url = url
        try:
            host, port, _ = parse_chroma_url(url)
        except ValueError:  # pragma: no cover - validated when the config was built
            host, port = "HOST", "PORT"
        why = f" ({type(cause).__name__}: {_first_line(cause)})" if cause is not None else ""
        super().__init__(
            f"the vector store, the Chroma server at {url}, is unreachable{why}; start it with "
            f"`chroma run --path DIR --host {host} --port {port}` (DIR: the folder it was started with before), "
            f"or unset QA_CHROMA_URL to use the embedded store; answers resume by themselves once it is back"
        )


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:200] if text else ""


def _chain(e: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    cur: BaseException | None = e
    while cur is not None and all(cur is not x for x in out):
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


def unreachable_cause(e: BaseException) -> BaseException | None:
    """The exception in ``e``'s chain (``e``, what it was raised from or during) that says a Chroma
    server could not be reached: a transport error (refused, reset, timed out) first, else
    chromadb's "Could not connect to tenant" or qa.store's "cannot reach the Chroma server"; None
    when nothing does."""
    try:
        import httpx

        transport: tuple[type[BaseException], ...] = (httpx.TransportError, ConnectionError, TimeoutError)
    except ImportError:  # pragma: no cover - chromadb depends on httpx
        transport = (ConnectionError, TimeoutError)
    chain = _chain(e)
    for x in chain:
        if isinstance(x, transport):
            return x
    for x in chain:
        text = str(x)
        if "Could not connect to tenant" in text or text.startswith("cannot reach the Chroma server"):
            return x
    return None


@contextlib.contextmanager
def store_errors(chroma_url: str | None) -> Iterator[None]:
    """Turn "the Chroma server at ``chroma_url`` cannot be reached", whatever chromadb raised, into
    :class:`StoreUnavailable` (nothing is turned for the embedded store, ``chroma_url`` None)."""
    try:
        yield
    except StoreUnavailable:
        raise
    except Exception as e:
        cause = unreachable_cause(e) if chroma_url else None
        if cause is None or not chroma_url:
            raise
        raise StoreUnavailable(chroma_url, cause) from e


class StoreOutage:
    """Logs one warning when the vector store becomes unreachable and one line when it is back,
    however many requests fail in between (thread-safe)."""

    def __init__(self, logger: logging.Logger | None = None):
        self.log = logger or log
        self.down_since: float | None = None
        self.failures = 0
        self._lock = threading.Lock()

    def failed(self, e: StoreUnavailable) -> None:
        with self._lock:
            self.failures += 1
            if self.down_since is not None:
                return
            self.down_since = time.monotonic()
        self.log.warning("%s (logged once per outage)", e)

    def ok(self, started: float | None = None) -> None:
        """A request that reached the store succeeded; ``started`` (``time.monotonic()``) is when it
        began: one already under way when the outage was noticed proves nothing and is ignored."""
        if self.down_since is None:  # the common case: no lock
            return
        with self._lock:
            if self.down_since is None or (started is not None and started <= self.down_since):
                return
            seconds, failures = time.monotonic() - self.down_since, self.failures
            self.down_since, self.failures = None, 0
        self.log.warning("the vector store is reachable again after %.0f s (%d request%s failed meanwhile)",
                         seconds, failures, "" if failures == 1 else "s")


_SURROGATE = re.compile("[\ud800-\udfff]")


def scrub_text(text: str) -> str:
    """``text`` as it may be echoed back: lone surrogates (which no UTF-8 encoder accepts, e.g. from a
    JSON ``"\\ud800"`` escape or an undecodable command-line byte) replaced by U+FFFD, and control and
    invisible characters (NUL, bidi overrides that would show the text reversed) dropped; line
    breaks and tabs stay.

    >>> scrub_text("\\x00Who\\u202e was\\nsworn in?\\ud800")
    'Who was\\nsworn in?\\ufffd'
    """
    text = _SURROGATE.sub("\ufffd", text)
    return text if text.isprintable() else "".join(ch for ch in text if ch.isprintable() or ch in "\n\t")


def clean_question(question: Any, limit: int) -> tuple[str, list[str]]:
    """``question`` made askable: cut to ``limit`` characters FIRST (so cleaning a 5 MB question
    costs what cleaning ``limit`` characters does), then control and invisible characters become
    spaces and runs of whitespace one space. A cut drops the word it split and adds a notice.

    Raises :class:`InvalidQuestion` for a question that is not text or is empty once cleaned.

    >>> clean_question("Who\\x00 was   sworn in?", 2000), clean_question("Ｗｈｏ was inte\\u200brim?", 2000)[0]
    (('Who was sworn in?', []), 'Who was interim?')
    >>> q, notes = clean_question("why " * 1000, 20); q, notes[0][:26]
    ('why why why why why', 'The question was 4,000 cha')
    """
    if not isinstance(question, str):
        raise InvalidQuestion(f"a question must be text, not {type(question).__name__}")
    stripped = question.lstrip()  # C speed: leading blanks do not use up the window
    raw, rest = stripped[:limit], stripped[limit:limit + 1]
    cut = len(stripped) > limit and not stripped[limit:].isspace()
    split_word = cut and not raw[-1:].isspace() and not rest.isspace()
    # full-width forms read as the plain letters ("Ｗｈｏ" is "Who"); a zero-width or bidi
    # character inside a word is dropped ("inte\u200brim" is "interim"); other controls part words
    raw = unicodedata.normalize("NFKC", raw)
    q = "".join(ch if ch.isprintable() or ch in "\n\t" else "" if unicodedata.category(ch) == "Cf" else " " for ch in raw)
    words = q.split()
    if split_word and len(words) > 1:
        words = words[:-1]  # the word the cut went through
    q = " ".join(words)
    if not q and cut:
        raise InvalidQuestion(f"the question is empty in its first {limit:,} characters (only blanks, control or "
                              f"invisible characters; the rest is not read): type a question about the documents")
    if not q:
        raise InvalidQuestion("the question is empty: type a question about the documents")
    notices = [f"The question was {len(question):,} characters long; only its first {len(q):,} were used."] if cut else []
    return q, notices


def check_top_k(top_k: Any, default: int) -> int:
    """``top_k`` as a number of passages: None means ``default``; otherwise a whole number >= 1.

    >>> check_top_k(None, 5), check_top_k(3, 5)
    (5, 3)
    """
    if top_k is None:
        return default
    if isinstance(top_k, bool) or isinstance(top_k, (str, bytes, float)):
        raise ValueError(f"top_k must be an integer of at least 1 (passages to read), not {top_k!r}")
    try:
        k = operator.index(top_k)  # int, numpy integers
    except TypeError:
        raise ValueError(f"top_k must be an integer of at least 1 (passages to read), not {type(top_k).__name__}") from None
    if k < 1:
        raise ValueError(f"top_k must be at least 1 (passages to read), not {k}")
    return k


def require_writable_index(index_dir: Path) -> None:
    """Raise :class:`qa.store.IndexError_` if an existing index folder cannot be written.

    Chroma opens its database for writing even to read, so a read-only index fails deep inside
    chromadb with "attempt to write a readonly database"; this says what is wrong instead.
    """
    d = Path(index_dir)
    for p in (d, d / "chroma", d / "chroma" / "chroma.sqlite3", d / "manifest.json"):
        if p.exists() and not os.access(p, os.W_OK):
            raise IndexError_(
                f"the index folder {d} is read-only ({p.name if p != d else 'the folder'} cannot be written); "
                f"qa needs write access to it (Chroma opens its database for writing): make it writable, "
                f"or copy it and point QA_INDEX_DIR at the copy"
            )


def check_document(d: Any) -> Document:
    """``d`` if it is a non-empty :class:`Document` under the size limit, else a clear error."""
    from qa.ingest import MAX_DOCUMENT_BYTES

    if not isinstance(d, Document):
        raise TypeError(f"index_documents takes qa.types.Document objects (see qa.ingest.parse_document), not {type(d).__name__}")
    if not d.text.strip():
        raise ValueError(f"{d.doc_id}: the document's text is empty")
    size = len(d.text.encode("utf-8", "surrogatepass"))
    if size > MAX_DOCUMENT_BYTES:
        raise ValueError(f"{d.doc_id}: {size:,} bytes is over the {MAX_DOCUMENT_BYTES:,}-byte limit for one document; split it")
    return d
