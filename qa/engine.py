"""The engine: one class that wires ingest → store → retrieve → answer.

>>> from qa import QA
>>> engine = QA()                                                  # doctest: +SKIP
>>> a = engine.ask("Who was sworn in as interim president?")       # doctest: +SKIP
>>> a.short_answer, a.citations[0].doc_id                          # doctest: +SKIP
('Delcy Rodríguez', '001_08e073e419b132d4.txt')
>>> b = engine.ask("When was she sworn in?", history=[Turn.of(a)])  # doctest: +SKIP
>>> b.searched_question                                            # doctest: +SKIP
'When was Delcy Rodríguez sworn in?'

``QA()`` reads the project's ``seeds/`` and keeps ``index/`` in step with it (only changed documents
are re-embedded). Pass other folders, a :class:`~qa.config.Config`, or set ``QA_*`` variables.
:meth:`QA.ask` and :meth:`QA.ask_stream` share one preparation (:meth:`QA._prepare`: the question
cleaned, a follow-up resolved against ``history`` (:mod:`qa.conversation`), passages retrieved).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.answer.extractive import Answerer
from qa.answer.question import with_roles_both_ways
from qa.answer.unmentioned import unmentioned, unmentioned_refusal
from qa.answerers import build_answerer
from qa.config import Config
from qa.conversation import Turn, resolve
from qa.embed import CachedEmbedder, Embedder
from qa.guards import (
    InvalidQuestion, NoDocuments, StoreUnavailable, check_document, check_top_k, clean_question,
    UnknownCollection, require_writable_index, scrub_text, store_errors,
)
from qa.ingest import LoadReport
from qa.store import IndexStore, Progress, SyncReport
from qa.streaming import StreamEvent
from qa.types import Answer, Document, Hit
from qa.uploads import load_collection

__all__ = ["QA", "InvalidQuestion", "NoDocuments", "Prepared", "StoreUnavailable"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    """A question made ready to answer: cleaned, its follow-up resolved, its passages retrieved."""

    #: what the user asked, as it may be echoed back
    question: str
    #: what is searched for and answered: the cleaned question, a follow-up resolved
    searched_for: str
    notices: tuple[str, ...]
    hits: tuple[Hit, ...]
    question_vector: Any
    sentence_vectors: Mapping[tuple[str, int], Any]
    #: prepare_ms, embed_ms, retrieve_ms
    timings: Mapping[str, float]
    started: float  # time.perf_counter() when asked
    retrieved: float  # time.perf_counter() when retrieval ended: answer_ms counts from here
    #: the question's names no document holds (qa.answer.unmentioned): the answer is then a refusal
    unmentioned: tuple[str, ...] = ()

    def refusal(self) -> Answer:
        """The refusal of a question naming what no document mentions, saying what."""
        return unmentioned_refusal(self.searched_for, self.hits, self.unmentioned)

    def finish(self, answer: Answer) -> Answer:
        """``answer`` stamped with what was asked and searched for, the notices and the timings."""
        t = time.perf_counter()
        timings = {**self.timings, "answer_ms": (t - self.retrieved) * 1000, "total_ms": (t - self.started) * 1000}
        return dataclasses.replace(answer, question=self.question, searched_question=self.searched_for,
                                   notices=self.notices + answer.notices, timings=timings)

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "searched_for": self.searched_for, "notices": list(self.notices),
                "hits": [h.to_dict() for h in self.hits], "timings": dict(self.timings)}


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
        self.store = IndexStore(config.index_dir, self.embedder, config.chunking(), collection=config.collection, chroma_url=config.chroma_url,
                                backend=config.vector_backend)
        # by name (qa.answerers): the extractive answerer with the span reader by default, or "llm"
        self.answerer: Answerer = answerer or build_answerer(config, self.embedder)
        bind_reader(self.answerer, config)  # its ONNX export lives beside this index
        self.auto_index = auto_index
        self.last_load: LoadReport | None = None
        self._retriever: Any = None
        self._lock = threading.RLock()
        #: (mtime_ns, size, inode) of manifest.json when this engine last opened or wrote the index
        self._stamp: tuple[int, int, int] | None = None
        #: why this engine no longer answers (its collection was deleted); None while it does
        self._retired: str | None = None

    # --- indexing ------------------------------------------------------------------------------

    def load(self) -> LoadReport:
        """Read the documents folder (no indexing)."""
        folder = self.config.seeds_dir
        if not folder.is_dir():
            raise NoDocuments(f"documents folder not found: {folder} (set QA_SEEDS_DIR or pass seeds_dir)")
        report = load_collection(folder, self.config.documents_dir)  # the seeds and the user's documents, same rules
        if not report.documents:
            why = f" ({'; '.join(report.warnings[:3])})" if report.warnings else ""
            raise NoDocuments(f"no readable documents (.txt, .md, .pdf, .docx, .html) in {folder}{why}")
        self.last_load = report
        return report

    def index(self, progress: Progress | None = None, rebuild: bool = False, check_store: bool = True) -> SyncReport:
        """Bring the index in line with the documents folder; returns what changed (see ``IndexStore.sync``)."""
        return self.index_documents(self.load().documents, progress=progress, rebuild=rebuild, check_store=check_store)

    def index_documents(self, documents: Sequence[Document], progress: Progress | None = None, rebuild: bool = False,
                        check_store: bool = True, source: str = "") -> SyncReport:
        """Make the index hold exactly ``documents`` (corpora that are not a folder, e.g. JSONL: name it in ``source``)."""
        if not documents:
            raise NoDocuments("no documents to index")
        if isinstance(documents, Sequence):
            for d in documents:  # a list is checked before anything is written
                check_document(d)
        else:  # a stream is checked as it is read (a failed sync leaves the previous index in place)
            documents = (check_document(d) for d in documents)
        require_writable_index(self.config.index_dir)
        with self._lock:
            result = self.store.sync(documents, progress=progress, rebuild=rebuild, check_store=check_store, source=source)
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

    def retire(self, why: str) -> None:
        """Stop answering: every later question, listing or upload raises
        :class:`qa.guards.UnknownCollection` with ``why`` (its collection was deleted, so what
        it holds in memory must not be answered from)."""
        with self._lock:
            self._retired = why
            self._retriever = None

    def _ensure_ready(self) -> Any:
        if self._retired is not None:
            raise UnknownCollection(self._retired)
        retriever = self._retriever
        if retriever is not None:
            self._follow_other_writers()
            return self._retriever
        with self._lock:
            if self._retriever is None:
                # an index built from another source (`qa index --source FILE.jsonl`) is opened, not re-synced
                if self.auto_index and self.config.seeds_dir.is_dir() and not self.store.external_source():
                    report = self.index(check_store=False)  # up to date: the saved snapshot answers, Chroma unopened
                    if report.changed:
                        log.info("index: %s", report.summary())
                else:
                    require_writable_index(self.config.index_dir)
                    self.store.open()
                    self._retriever = self._build_retriever()
                    self._stamp = self._manifest_stamp()
            return self._retriever

    def _build_retriever(self) -> Any:
        from qa.retrieve import build_retriever

        return build_retriever(self.store, self.embedder.embed_query, self.config.top_k, self.config.fusion_candidates,
                               mode=self.config.fusion, rrf_k=self.config.rrf_k)

    # --- asking --------------------------------------------------------------------------------

    def _clean_question(self, question: Any) -> tuple[str, list[str]]:
        return clean_question(question, self.config.max_question_chars)

    def _top_k(self, top_k: Any) -> int:
        return check_top_k(top_k, self.config.top_k)

    def _store_errors(self) -> contextlib.AbstractContextManager[None]:
        return store_errors(self.config.chroma_url)

    def retrieve(self, question: str, top_k: int | None = None) -> list[Hit]:
        """The best passages for ``question`` (hybrid dense + BM25, fused by reciprocal rank)."""
        q, _ = self._clean_question(question)
        k = self._top_k(top_k)
        with self._store_errors(), self.store.reading():  # a delete waits for reads under way (qa.store.change)
            return self._ensure_ready().search(with_roles_both_ways(q), k)

    def _searched_for(self, q: str, history: Sequence[Turn]) -> tuple[str, list[str]]:
        """``q`` resolved against ``history`` (checked: typed turns only), cleaned again when it changed."""
        for turn in history:
            if not isinstance(turn, Turn):
                raise TypeError(f"history holds qa.conversation.Turn objects (Turn.of(answer)), not {type(turn).__name__}")
        searched = resolve(q, history)
        return self._clean_question(searched) if searched != q else (q, [])

    def _prepare(self, question: str, top_k: int | None, history: Sequence[Turn]) -> Prepared:
        """What :meth:`ask` and :meth:`ask_stream` both do before answering: clean the question
        (:class:`InvalidQuestion`), resolve a follow-up, retrieve (:class:`StoreUnavailable`)."""
        t0 = time.perf_counter()
        q, notices = self._clean_question(question)
        searched, more = self._searched_for(q, history)
        k = self._top_k(top_k)
        with self._store_errors(), self.store.reading():  # a delete waits for reads under way (qa.store.change)
            retriever = self._ensure_ready()
            t1 = time.perf_counter()
            query = with_roles_both_ways(searched)  # "CTO" finds "Chief Technology Officer"
            qvec = self.embedder.embed_query(query)
            t2 = time.perf_counter()
            hits = retriever.search(query, k)
            t3 = time.perf_counter()
            vectors = self.store.sentence_vectors([h.chunk for h in hits])
            unknown = self.unmentioned(searched)
        echo = scrub_text(question) if len(question) <= len(q) + 64 else q
        timings = {"prepare_ms": (t1 - t0) * 1000, "embed_ms": (t2 - t1) * 1000, "retrieve_ms": (t3 - t2) * 1000}
        return Prepared(question=echo, searched_for=searched, notices=tuple(notices + more), hits=tuple(hits),
                        question_vector=qvec, sentence_vectors=vectors, timings=timings, started=t0, retrieved=t3,
                        unmentioned=unknown)

    def unmentioned(self, question: str) -> tuple[str, ...]:
        """The names in ``question`` that no document of the collection holds (:mod:`qa.answer.unmentioned`);
        none while BM25 is still taking in an upload's chunks, so a new document's words are never unknown."""
        known = self.store.bm25_if_complete()
        return tuple(unmentioned(question, known.knows)) if hasattr(known, "knows") else ()

    def ask(self, question: str, top_k: int | None = None, *, history: Sequence[Turn] = ()) -> Answer:
        """Answer ``question`` from the documents, with verbatim citations (or a refusal).

        ``history`` holds the earlier turns, oldest first (:class:`qa.conversation.Turn`; ``Turn.of``
        an earlier answer): a follow-up ("When was she sworn in?") is searched for with its pronouns
        resolved, and the answer's ``searched_question`` says what was searched for.
        """
        p = self._prepare(question, top_k, history)
        if p.unmentioned:
            return p.finish(p.refusal())
        answer = self.answerer.answer(p.searched_for, list(p.hits), p.question_vector, p.sentence_vectors)
        return p.finish(answer)

    def ask_stream(self, question: str, top_k: int | None = None, *, history: Sequence[Turn] = ()) -> Iterator[StreamEvent]:
        """:meth:`ask`, streamed: "ready" once retrieval is done (a bad question or an unreachable
        store raises before it), each checked "sentence" as it completes (answerers that stream),
        then the "answer" — the same Answer :meth:`ask` returns."""
        p = self._prepare(question, top_k, history)
        yield StreamEvent("ready")
        stream = getattr(self.answerer, "stream", None)
        if p.unmentioned:
            yield StreamEvent("answer", answer=p.finish(p.refusal()))
            return
        if not callable(stream):
            answer = self.answerer.answer(p.searched_for, list(p.hits), p.question_vector, p.sentence_vectors)
            yield StreamEvent("answer", answer=p.finish(answer))
            return
        for event in stream(p.searched_for, list(p.hits), p.question_vector, p.sentence_vectors):
            if event.kind == "answer" and event.answer is not None:
                event = dataclasses.replace(event, answer=p.finish(event.answer))
            yield event

    # --- llama-index views ---------------------------------------------------------------------

    def as_retriever(self) -> Any:
        """A llama-index ``BaseRetriever`` over this collection (hybrid, reciprocal-rank fused)."""
        from qa.llama import QARetriever  # here, not at the top: answering never loads llama-index

        self._ensure_ready()  # an index problem is raised here, not at the first query
        return QARetriever(engine=self)

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
        docs = self.store.manifest.documents if self.store.manifest else {}
        return {"index_dir": str(self.config.index_dir), "seeds_dir": str(self.config.seeds_dir),
                "documents_dir": str(self.config.documents_dir), "model": self.embedder.name,
                "documents": len(docs), "chunks": chunks, "titles": {k: v.get("title", "") for k, v in docs.items()}}

    # --- uploads -------------------------------------------------------------------------------

    @property
    def documents(self) -> Any:  # list, add, replace, delete (a qa.documents.DocumentLibrary; not imported here)
        from qa.documents import DocumentLibrary
        return DocumentLibrary(self)

    def add_document(
        self, name: str, data: bytes, progress: Progress | None = None, max_bytes: int | None = None,
    ) -> Any:
        """Add one file (.txt, .md, .pdf, .docx, .html, ...) to the documents folder and index it at once.

        ``name`` is reduced to a safe base name (``[A-Za-z0-9._-]``); the file must be non-empty, under
        ``max_bytes`` (default 2 MB), text UTF-8 (:func:`qa.uploads.check_upload`). Written atomically, it never replaces a
        different file of the same name (the same bytes again are a no-op), and only it is embedded.
        On any problem :class:`qa.uploads.InvalidDocument` says why and nothing changes (a file
        whose indexing fails is removed again). Returns :class:`qa.uploads.AddedDocument`; the
        document is citable as soon as this returns and stays in the collection across restarts.

        Costs what the document's own chunks cost: its chunks and sentences are embedded without
        holding any lock (``progress`` gets passages embedded, of how many), then added to the live
        collections in place; nothing else is re-read or re-embedded, and BM25 is rebuilt in the
        background (the dense retrievers find the new document meanwhile). The same path as the web
        chat's and the REST API's uploads (:meth:`qa.documents.DocumentLibrary.add_new`), which
        replace a file of the same name instead of refusing it.
        """
        from qa.documents import DocumentLibrary

        return DocumentLibrary(self, max_bytes).add_new(name, data, progress)
