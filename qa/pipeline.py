"""The engine: one class that wires ingest → store → retrieve → answer.

>>> from qa import QA
>>> engine = QA()                                                  # doctest: +SKIP
>>> a = engine.ask("Who was sworn in as interim president?")       # doctest: +SKIP
>>> a.short_answer, a.citations[0].doc_id                          # doctest: +SKIP
('Delcy Rodríguez', '001_08e073e419b132d4.txt')

``QA()`` reads the project's ``seeds/`` and keeps ``index/`` in step with it (only changed documents
are re-embedded). Pass other folders, a :class:`~qa.config.Config`, or set ``QA_*`` variables.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import operator
import os
import re
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from qa.answer import Answerer, ExtractiveAnswerer, ReaderAnswerer
from qa.config import Config
from qa.embed import CachedEmbedder, Embedder, SentenceTransformerEmbedder, as_llama_embedding
from qa.ingest import LoadReport, load_documents
from qa.store import IndexError_, IndexStore, Progress, SyncReport
from qa.types import Answer, Document, Hit

log = logging.getLogger(__name__)


class InvalidQuestion(ValueError):
    """The question cannot be asked as given (empty, not text); the message says why."""


class NoDocuments(RuntimeError):
    """The documents folder is missing or holds no readable document."""


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
    """``text`` with lone surrogates (which no UTF-8 encoder accepts, e.g. from a JSON ``"\\ud800"``
    escape or an undecodable command-line byte) replaced by U+FFFD, so it can be echoed back."""
    return _SURROGATE.sub("\ufffd", text)


def clean_question(question: Any, limit: int) -> tuple[str, list[str]]:
    """``question`` made askable: cut to ``limit`` characters FIRST (so cleaning a 5 MB question
    costs what cleaning ``limit`` characters does), then control and invisible characters become
    spaces and runs of whitespace one space. A cut drops the word it split and adds a notice.

    Raises :class:`InvalidQuestion` for a question that is not text or is empty once cleaned.

    >>> clean_question("Who\\x00 was   sworn in?", 2000)
    ('Who was sworn in?', [])
    >>> q, notes = clean_question("why " * 1000, 20); q, notes[0][:26]
    ('why why why why why', 'The question was 4,000 cha')
    """
    if not isinstance(question, str):
        raise InvalidQuestion(f"a question must be text, not {type(question).__name__}")
    stripped = question.lstrip()  # C speed: leading blanks do not use up the window
    raw, rest = stripped[:limit], stripped[limit:limit + 1]
    cut = len(stripped) > limit and not stripped[limit:].isspace()
    split_word = cut and not raw[-1:].isspace() and not rest.isspace()
    q = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in raw)
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
    from qa.store import IndexError_

    d = Path(index_dir)
    for p in (d, d / "chroma", d / "chroma" / "chroma.sqlite3", d / "manifest.json"):
        if p.exists() and not os.access(p, os.W_OK):
            raise IndexError_(
                f"the index folder {d} is read-only ({p.name if p != d else 'the folder'} cannot be written); "
                f"qa needs write access to it (Chroma opens its database for writing): make it writable, "
                f"or copy it and point QA_INDEX_DIR at the copy"
            )


def make_answerer(config: Config, embedder: Embedder | None = None) -> Answerer:
    """The answerer ``config.answerer`` names (:mod:`qa.answerers`): by default the extractive one
    with the trained span reader (or the rules-based cutter); ``llm`` checks an LLM's sentences."""
    from qa.answerers import build_answerer

    return build_answerer(config, embedder)


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


class QA:
    """The question-answering engine (thread-safe ``ask``).

    >>> engine = QA(seeds_dir="my_docs", index_dir="/tmp/my_index", top_k=5)   # doctest: +SKIP
    >>> engine.index().summary()                                              # doctest: +SKIP
    'added 3: a.txt, b.md, c.txt; +12/-0 chunks in 1.2s'
    """

    def __init__(
        self,
        seeds_dir: str | Path | None = None,
        index_dir: str | Path | None = None,
        *,
        config: Config | None = None,
        embedder: Embedder | None = None,
        answerer: Answerer | None = None,
        auto_index: bool = True,
        **overrides: Any,
    ):
        if config is None:
            config = Config.resolve(seeds_dir=seeds_dir, index_dir=index_dir, **overrides)
        elif seeds_dir or index_dir or overrides:
            raise TypeError("pass either config or individual settings, not both")
        self.config = config
        from qa.runtime import bind_reader, make_embedder

        self.embedder: Embedder = CachedEmbedder(embedder or make_embedder(config))
        self.store = IndexStore(config.index_dir, self.embedder, config.chunking(), collection=config.collection, chroma_url=config.chroma_url)
        self.answerer: Answerer = answerer or make_answerer(config, self.embedder)
        bind_reader(self.answerer, config)  # its ONNX export lives beside this index
        self.auto_index = auto_index
        self.last_load: LoadReport | None = None
        self._retriever: Any = None
        self._lock = threading.RLock()
        #: (mtime_ns, size, inode) of manifest.json when this engine last opened or wrote the index
        self._stamp: tuple[int, int, int] | None = None

    # --- indexing ------------------------------------------------------------------------------

    def load(self) -> LoadReport:
        """Read the documents folder (no indexing)."""
        folder = self.config.seeds_dir
        if not folder.is_dir():
            raise NoDocuments(f"documents folder not found: {folder} (set QA_SEEDS_DIR or pass seeds_dir)")
        report = load_documents(folder)
        if not report.documents:
            why = f" ({'; '.join(report.warnings[:3])})" if report.warnings else ""
            raise NoDocuments(f"no readable .txt or .md documents in {folder}{why}")
        self.last_load = report
        return report

    def index(self, progress: Progress | None = None, rebuild: bool = False) -> SyncReport:
        """Bring the index in line with the documents folder; returns what changed."""
        report = self.load()
        return self.index_documents(report.documents, progress=progress, rebuild=rebuild)

    def index_documents(self, documents: Sequence[Document], progress: Progress | None = None, rebuild: bool = False) -> SyncReport:
        """Make the index hold exactly ``documents`` (for corpora that are not a folder, e.g. JSONL)."""
        if not documents:
            raise NoDocuments("no documents to index")
        if isinstance(documents, Sequence):
            for d in documents:  # a list is checked before anything is written
                check_document(d)
        else:  # a stream is checked as it is read (a failed sync leaves the previous index in place)
            documents = (check_document(d) for d in documents)
        require_writable_index(self.config.index_dir)
        with self._lock:
            result = self.store.sync(documents, progress=progress, rebuild=rebuild)
            if result.changed or self._retriever is None:
                self._retriever = self._build_retriever()
            if result.appended:  # a sync returns with BM25 complete (evaluations, `qa index`); only uploads do not wait
                self.store.wait_bm25()
            self._stamp = self._manifest_stamp()
            return result

    def _manifest_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = self.store.manifest_path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _follow_other_writers(self) -> None:
        """Reopen when another process (``qa index`` in a second shell) committed a new generation.

        The writer drops the generation this engine had open, so without this a running server
        would fail every question until restarted. One ``stat`` per question; reopening only when
        manifest.json was replaced.
        """
        stamp = self._manifest_stamp()
        if stamp == self._stamp or stamp is None:
            return
        with self._lock:
            stamp = self._manifest_stamp()
            if stamp == self._stamp or stamp is None:
                return
            from qa.store import Manifest

            try:
                live = Manifest.load(self.store.manifest_path)
            except (ValueError, TypeError, KeyError, OSError):
                return  # mid-replace or broken: keep answering from what is open
            mine = self.store.manifest
            if mine is None or live.generation != mine.generation or live.chunk_ids() != mine.chunk_ids():
                log.info("index replaced by another process (generation %s): reopening", live.generation)
                self.store.open()
                self._retriever = self._build_retriever()
            self._stamp = stamp

    def _ensure_ready(self) -> Any:
        retriever = self._retriever
        if retriever is not None:
            self._follow_other_writers()
            return self._retriever
        with self._lock:
            if self._retriever is None:
                # an index built from another source (`qa index --source FILE.jsonl`) is opened, not re-synced
                if self.auto_index and self.config.seeds_dir.is_dir() and not self.store.external_source():
                    report = self.index()
                    if report.changed:
                        log.info("index: %s", report.summary())
                else:
                    require_writable_index(self.config.index_dir)
                    self.store.open()
                    self._retriever = self._build_retriever()
                    self._stamp = self._manifest_stamp()
            return self._retriever

    def _build_retriever(self) -> Any:
        from llama_index.core import VectorStoreIndex

        from qa.retrieve import FilteredRetriever, HybridRetriever, SentenceDenseRetriever

        n = max(self.config.fusion_candidates, self.config.top_k)
        embed_model = as_llama_embedding(self.embedder)
        # transformations given: llama-index's default (a SentenceSplitter) would load tiktoken's
        # 100k-token BPE table on every start (~0.4 s CPU) for an index that is only queried here
        vindex = VectorStoreIndex.from_vector_store(self.store.vector_store(), embed_model=embed_model, transformations=[embed_model])
        # only chunks of the documents this manifest lists: an append under way (or one a crash
        # interrupted) has vectors in the live collections that are not committed
        docs = self.store.manifest.documents if self.store.manifest is not None else None

        def keep(node: Any) -> bool:
            return docs is None or node.metadata.get("doc_id") in docs

        dense = FilteredRetriever(lambda k: vindex.as_retriever(similarity_top_k=k), n, keep)
        sparse = self.store.bm25_retriever(n)  # follows the background rebuild after an append
        sentences = SentenceDenseRetriever(self.store.sentences_collection, self.store.vector_store(), self.embedder.embed_query, top_k=n,
                                           keep_doc=None if docs is None else docs.__contains__)
        return HybridRetriever(dense, sparse, top_k=self.config.top_k, sentences=sentences, mode=self.config.fusion, rrf_k=self.config.rrf_k,
                               allowed=keep)

    # --- asking --------------------------------------------------------------------------------

    def _clean_question(self, question: Any) -> tuple[str, list[str]]:
        return clean_question(question, self.config.max_question_chars)

    def _top_k(self, top_k: Any) -> int:
        return check_top_k(top_k, self.config.top_k)

    @contextlib.contextmanager
    def _store_errors(self) -> Iterator[None]:
        """Turn "the Chroma server cannot be reached", whatever chromadb raised, into :class:`StoreUnavailable`."""
        try:
            yield
        except StoreUnavailable:
            raise
        except Exception as e:
            cause = unreachable_cause(e) if self.config.chroma_url else None
            if cause is None:
                raise
            raise StoreUnavailable(self.config.chroma_url, cause) from e

    def retrieve(self, question: str, top_k: int | None = None) -> list[Hit]:
        """The best passages for ``question`` (hybrid dense + BM25, fused by reciprocal rank)."""
        q, _ = self._clean_question(question)
        k = self._top_k(top_k)
        with self._store_errors():
            return self._ensure_ready().search(q, k)

    def ask(self, question: str, top_k: int | None = None) -> Answer:
        """Answer ``question`` from the documents, with verbatim citations (or a refusal)."""
        t0 = time.perf_counter()
        q, notices = self._clean_question(question)
        k = self._top_k(top_k)
        with self._store_errors():
            retriever = self._ensure_ready()
            t1 = time.perf_counter()
            qvec = self.embedder.embed_query(q)
            t2 = time.perf_counter()
            hits = retriever.search(q, k)
            t3 = time.perf_counter()
            vectors = self.store.sentence_vectors([h.chunk for h in hits])
        answer = self.answerer.answer(q, hits, qvec, vectors)
        t4 = time.perf_counter()
        timings = {
            "prepare_ms": (t1 - t0) * 1000,
            "embed_ms": (t2 - t1) * 1000,
            "retrieve_ms": (t3 - t2) * 1000,
            "answer_ms": (t4 - t3) * 1000,
            "total_ms": (t4 - t0) * 1000,
        }
        return dataclasses.replace(
            answer, question=scrub_text(question) if len(question) <= len(q) + 64 else q, searched_question=q,
            notices=tuple(notices) + answer.notices, timings=timings,
        )

    # --- llama-index views ---------------------------------------------------------------------

    def as_retriever(self) -> Any:
        """A llama-index ``BaseRetriever`` over this collection (hybrid, reciprocal-rank fused)."""
        return self._ensure_ready()

    def as_query_engine(self) -> Any:
        """A llama-index query engine whose ``Response`` carries this engine's citations.

        ``response.response`` is the answer text, ``response.source_nodes`` the cited sentences
        (offsets and ids in metadata), ``response.metadata["answer"]`` the full ``Answer.to_dict()``.
        """
        from qa.llama import QAQueryEngine

        return QAQueryEngine(engine=self)

    # --- inspection ----------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        with self._store_errors():
            self._ensure_ready()
            chunks = self.store.count()
        m = self.store.manifest
        docs = m.documents if m else {}
        return {
            "index_dir": str(self.config.index_dir),
            "seeds_dir": str(self.config.seeds_dir),
            "model": self.embedder.name,
            "documents": len(docs),
            "chunks": chunks,
            "titles": {k: v.get("title", "") for k, v in docs.items()},
        }

    # --- uploads -------------------------------------------------------------------------------

    def add_document(
        self, name: str, data: bytes, progress: Progress | None = None, max_bytes: int | None = None,
    ) -> Any:
        """Add one uploaded ``.txt``/``.md`` file to the documents folder and index it at once.

        ``name`` is reduced to a safe base name (``[A-Za-z0-9._-]``); the file must be non-empty
        UTF-8 text under ``max_bytes`` (default 2 MB). It is written atomically, never replaces a
        different file of the same name (the same bytes again are a no-op), and only it is embedded.
        On any problem :class:`qa.uploads.InvalidDocument` says why and nothing changes (a file
        whose indexing fails is removed again). Returns :class:`qa.uploads.AddedDocument`; the
        document is citable as soon as this returns and stays in the collection across restarts.

        Costs what the document's own chunks cost: only the new file is read, and its chunks and
        sentences are embedded without holding any lock (``progress`` gets passages embedded, of
        how many), then added to the live collections in place (:meth:`IndexStore.commit_append`);
        nothing else is re-read, copied or re-embedded, and BM25 is rebuilt in the background (the
        dense retrievers find the new document meanwhile). Other changes in the documents folder are
        left to the next :meth:`index`. An index that cannot take an append (none yet, another
        source, an old format) is synced as a whole instead.
        """
        from qa import uploads
        from qa.ingest import load_document
        from qa.store import AppendRefused

        checked = uploads.check_upload(name, data, uploads.DEFAULT_MAX_UPLOAD_BYTES if max_bytes is None else max_bytes)
        folder = self.config.seeds_dir
        with self._lock:
            if not folder.is_dir():
                raise NoDocuments(f"documents folder not found: {folder}")
            created = uploads.write_new_file(folder, checked.name, checked.data)
            whole = not created or self._retriever is None  # nothing new, or the folder was never synced
        report: Any = None
        try:
            loaded = load_document(folder, checked.name)
            if not loaded.documents:
                why = [w for w in loaded.warnings if w.startswith(checked.name)]
                raise uploads.InvalidDocument(why[0] if why else f"{checked.name}: could not be read as a document")
            doc = check_document(loaded.documents[0])
            if not whole:
                require_writable_index(self.config.index_dir)
                try:
                    prepared = self.store.prepare_append([doc], progress=progress)  # the slow part: no lock held
                    with self._lock:
                        report = self.store.commit_append(prepared)
                        self._retriever = self._build_retriever()
                        self._stamp = self._manifest_stamp()
                except AppendRefused as e:
                    log.info("upload %s: indexing the documents folder (%s)", checked.name, e)
            if report is None:
                with self._lock:
                    report = self.index(progress=progress)
        except BaseException:
            if created:
                (folder / checked.name).unlink(missing_ok=True)
                self._forget_upload(checked.name)
            raise
        entry = (self.store.manifest.documents if self.store.manifest else {}).get(checked.name, {})
        return uploads.AddedDocument(
            doc_id=checked.name, title=doc.title, chunks=len(entry.get("chunks", ())), created=created, report=report,
        )

    def _forget_upload(self, doc_id: str) -> None:
        """After a failed upload whose file was removed again: if the document got committed (by this
        upload or by a sync that saw the file meanwhile), sync the folder so that it is dropped."""
        from qa.store import Manifest

        try:
            live = Manifest.load(self.store.manifest_path)
        except (ValueError, TypeError, KeyError, OSError):
            return
        if doc_id not in live.documents:
            return
        try:
            with self._lock:
                self.index()
        except Exception:  # pragma: no cover - the original error matters more
            log.exception("re-indexing after a failed upload")
