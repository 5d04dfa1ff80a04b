"""Typed results that flow through the pipeline.

Everything the engine hands out is a frozen dataclass with ``to_dict()``, so callers never guess at
dictionary keys and results can be shared between threads safely.

Offsets are always character offsets into the *original* file text (``str`` indices after UTF-8
decoding), so ``document.text[c.start:c.end] == c.quote`` holds for every citation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Document:
    """A source document as read from disk.

    >>> d = Document(doc_id="a.txt", title="Headline", text="Headline\\nBody.", path="/x/a.txt")
    >>> d.to_dict()["doc_id"]
    'a.txt'
    """

    doc_id: str
    title: str
    text: str
    path: str = ""
    sha256: str = ""
    # Character ranges (start, end) of page furniture ("Back to top button", ...) that are kept in
    # ``text`` so offsets stay true, but never chunked, quoted or answered from.
    masked: tuple[tuple[int, int], ...] = ()
    # Where each page starts in ``text`` (page n at ``pages[n - 1]``), for paged formats (PDF); empty otherwise.
    pages: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["masked"] = [list(r) for r in self.masked]
        d["pages"] = list(self.pages)
        return d


@dataclass(frozen=True)
class Sentence:
    """One sentence of a document: ``doc.text[start:end] == text``."""

    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: what joins the headings of a section path into one line (:attr:`Chunk.section_text`)
SECTION_SEP = " › "


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage: consecutive sentences of one document.

    ``text == document.text[start:end]``; ``sentences`` are the sentences it holds, with absolute
    offsets. ``chunk_id`` is derived from the document id and the chunk's content, so an unchanged
    document always yields the same ids.
    """

    chunk_id: str
    doc_id: str
    title: str
    start: int
    end: int
    text: str
    sentences: tuple[Sentence, ...] = ()
    # (page number, start offset) of each page the chunk lies on, first page first (PDF); empty when
    # the document has no pages. See qa.ingest.page_at.
    pages: tuple[tuple[int, int], ...] = ()
    #: the headings the chunk's first sentence stands under, (level, words) outermost first: ((2,
    #: "Pumpkin Soup"), (3, "Ingredients")); empty when the document has none (Markdown ``#`` headings)
    section: tuple[tuple[int, str], ...] = ()
    #: where the words of each heading of ``section`` stand in the document, (start, end): a heading's
    #: version or date answers for the entries under it and is quoted there (:mod:`qa.answer.headed`)
    section_spans: tuple[tuple[int, int], ...] = ()
    #: the header row of the table the chunk starts inside when that row lies in an earlier chunk (a
    #: table longer than a chunk): its column names, without which a row cannot say which cell is which
    table_head: str = ""

    @property
    def section_text(self) -> str:
        """The section's headings as one line: "Pumpkin Soup › Ingredients" ("" without one)."""
        return SECTION_SEP.join(t for _, t in self.section)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["sentences"] = [s.to_dict() for s in self.sentences]
        d["pages"] = [list(p) for p in self.pages]
        d["section"] = [list(h) for h in self.section]
        d["section_spans"] = [list(h) for h in self.section_spans]
        return d


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and the ranks each retriever gave it (1-based)."""

    chunk: Chunk
    score: float
    dense_rank: int | None = None
    sparse_rank: int | None = None

    def to_dict(self) -> dict[str, Any]:
        c = self.chunk
        return {
            "chunk_id": c.chunk_id,
            "doc_id": c.doc_id,
            "title": c.title,
            "start": c.start,
            "end": c.end,
            "text": c.text,
            "score": round(self.score, 6),
            "dense_rank": self.dense_rank,
            "sparse_rank": self.sparse_rank,
        }


@dataclass(frozen=True)
class Citation:
    """A verbatim quote backing an answer.

    ``quote == original_file_text[start:end]``. When the quote holds the short answer,
    ``answer_start``/``answer_end`` give the answer's own offsets (for highlighting).
    """

    n: int
    doc_id: str
    title: str
    start: int
    end: int
    quote: str
    score: float = 0.0
    chunk_id: str = ""
    answer_start: int | None = None
    answer_end: int | None = None
    # The PDF page the quote starts on (1-based); None for documents without pages.
    page: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["score"] = round(self.score, 6)
        return d


@dataclass(frozen=True)
class GeneratedSentence:
    """One sentence an LLM wrote, and what the support check made of it (see :mod:`qa.support`).

    ``cited`` are the passage numbers the model gave; ``citations`` the answer's citation numbers
    it was resolved to (the supporting sentences, quoted verbatim). ``reason`` is "supported" for a
    kept sentence, otherwise why it was not kept.
    """

    text: str
    cited: tuple[int, ...] = ()
    kept: bool = False
    reason: str = ""
    support: float = 0.0
    citations: tuple[int, ...] = ()
    #: shown to the user: kept, or (``QA_LLM_UNSUPPORTED=mark``) shown marked as unsupported
    shown: bool = False

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["cited"], d["citations"], d["support"] = list(self.cited), list(self.citations), round(self.support, 6)
        return d


@dataclass(frozen=True)
class Generation:
    """How an LLM answer came about: the model, each sentence it wrote, which were kept.

    ``used`` is True when the answer is the model's checked sentences; False when the extractive
    answer (or the refusal) stood, ``fallback_reason`` saying why.
    """

    model: str
    used: bool = False
    sentences: tuple[GeneratedSentence, ...] = ()
    fallback_reason: str = ""
    threshold: float = 0.0
    unsupported: str = "drop"

    @property
    def generated(self) -> int:
        return len(self.sentences)

    @property
    def dropped(self) -> int:
        """Sentences not kept (dropped, or shown marked as unsupported)."""
        return sum(1 for s in self.sentences if not s.kept)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model, "used": self.used, "generated": self.generated, "dropped": self.dropped,
            "fallback_reason": self.fallback_reason, "threshold": self.threshold, "unsupported": self.unsupported,
            "sentences": [s.to_dict() for s in self.sentences],
        }


@dataclass(frozen=True)
class Answer:
    """The engine's reply to one question.

    ``text`` is what a user sees: the short answer (if any) and the supporting quotes with [n]
    markers; every character of it other than fixed framing comes from the documents.

    >>> a = Answer(question="q", text="Not found in the documents.", refused=True)
    >>> a.to_dict()["refused"]
    True
    """

    question: str
    text: str
    short_answer: str | None = None
    refused: bool = False
    citations: tuple[Citation, ...] = ()
    passages: tuple[Hit, ...] = ()
    # Where the short answer sits: (doc_id, start, end) in the original file.
    answer_doc_id: str | None = None
    answer_start: int | None = None
    answer_end: int | None = None
    confidence: float = 0.0
    # The question actually searched for: cut to the length limit, a follow-up resolved against the
    # earlier turns (qa.conversation); what a chat shows as "Searched for".
    searched_question: str = ""
    notices: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    #: set by the LLM answerer (qa.llm_answer): the sentences generated, kept and dropped, and why
    generation: Generation | None = None

    def to_dict(self) -> dict[str, Any]:
        d = self._base_dict()
        if self.generation is not None:
            d["generation"] = self.generation.to_dict()
        return d

    def _base_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "searched_question": self.searched_question or self.question,
            "text": self.text,
            "short_answer": self.short_answer,
            "refused": self.refused,
            "confidence": round(self.confidence, 6),
            "answer_doc_id": self.answer_doc_id,
            "answer_start": self.answer_start,
            "answer_end": self.answer_end,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [h.to_dict() for h in self.passages],
            "notices": list(self.notices),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }


# =================================================================================================
# Back from to_dict() (e.g. a conversation kept in the browser): the inverse of each to_dict()
# =================================================================================================


def _fields(cls: type, d: dict[str, Any]) -> dict[str, Any]:
    names = set(cls.__dataclass_fields__)  # type: ignore[attr-defined]
    return {k: v for k, v in d.items() if k in names}


def citation_from_dict(d: dict[str, Any]) -> Citation:
    return Citation(**_fields(Citation, d))


def hit_from_dict(d: dict[str, Any]) -> Hit:
    chunk = Chunk(chunk_id=d["chunk_id"], doc_id=d["doc_id"], title=d.get("title", ""), start=d["start"],
                  end=d["end"], text=d.get("text", ""))
    return Hit(chunk, float(d.get("score", 0.0)), d.get("dense_rank"), d.get("sparse_rank"))


def generation_from_dict(d: dict[str, Any]) -> Generation:
    sentences = tuple(GeneratedSentence(**{**_fields(GeneratedSentence, s), "cited": tuple(s.get("cited", ())),
                                           "citations": tuple(s.get("citations", ()))}) for s in d.get("sentences", ()))
    return Generation(**{**_fields(Generation, d), "sentences": sentences})


def answer_from_dict(d: dict[str, Any]) -> Answer:
    """An :class:`Answer` from ``Answer.to_dict()`` (passages keep their text, not their sentences)."""
    gen = d.get("generation")
    return Answer(**{**_fields(Answer, d), "citations": tuple(citation_from_dict(c) for c in d.get("citations", ())),
                     "passages": tuple(hit_from_dict(h) for h in d.get("passages", ())),
                     "notices": tuple(d.get("notices", ())), "timings": dict(d.get("timings", {})),
                     "generation": generation_from_dict(gen) if gen else None})
