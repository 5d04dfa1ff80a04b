"""From ranked candidates to a cited :class:`~qa.types.Answer`: shared by every answerer.

The extractive and reader answerers rank sentences (:mod:`qa.answer.scoring`) and hand the ranked
:class:`~qa.answer.scoring.Candidate` list to :func:`compose`: under the refusal threshold the
answer is :data:`REFUSAL` with the nearest passages; otherwise the best sentence is quoted verbatim
with [1], corroborating sentences of other documents follow, and the best sentence's span is the
short answer. The LLM answerer (:mod:`qa.llm_answer`) cites the sentences it kept with :func:`cite`
and carries the extractive short answer over with :func:`carry_short_answer`.

Everything a user reads, apart from fixed framing (quote marks, [n] markers, :data:`REFUSAL`), is
a slice of a document.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING

from qa.types import Answer, Citation, Hit, Sentence

if TYPE_CHECKING:  # annotations only: REFUSAL stays importable without numpy (qa.render uses it)
    from qa.answer.scoring import Candidate

#: the fixed refusal every answerer and every front end shows (the one place it is written)
REFUSAL = "Not found in the documents."


def norm(s: str) -> str:
    """``s`` lower-cased, without accents and punctuation: two spans that say the same thing compare equal."""
    s = unicodedata.normalize("NFKD", s)
    return re.sub(r"\W+", " ", "".join(ch for ch in s if not unicodedata.combining(ch))).strip().lower()


def refusal(question: str, hits: Sequence[Hit], confidence: float = 0.0) -> Answer:
    """The refusal, with the nearest passages so a reader can look for themself."""
    return Answer(question=question, text=REFUSAL, refused=True, passages=tuple(hits), confidence=confidence)


def cite(n: int, hit: Hit, sentence: Sentence, score: float, answer: tuple[int, int] | None = None) -> Citation:
    """Citation ``[n]``: ``sentence`` of ``hit`` quoted verbatim; ``answer`` the short answer's
    document offsets when the quote holds it."""
    from qa.ingest.chunking import page_at  # lazily: the front ends import REFUSAL without the ingest code

    ch = hit.chunk
    a_start, a_end = answer if answer is not None else (None, None)
    return Citation(n=n, doc_id=ch.doc_id, title=ch.title, start=sentence.start, end=sentence.end, quote=sentence.text,
                    score=score, chunk_id=ch.chunk_id, answer_start=a_start, answer_end=a_end,
                    page=page_at(ch.pages, sentence.start))  # a PDF's page, from the pages the chunk carries


def corroborating(cands: Sequence[Candidate], margin: float, max_citations: int) -> list[Candidate]:
    """The best candidate and those that back it up: within ``margin`` of its score, from another
    document, each sentence once, at most ``max_citations`` in all."""
    best = cands[0]
    chosen = [best] if best.backs is None else [best, best.backs]  # a heading's answer, then the entry it is for
    for c in cands[1:]:
        if len(chosen) >= max_citations or c.score < best.score - margin:
            break
        if any(c.sentence.start == x.sentence.start and c.doc_id == x.doc_id for x in chosen):
            continue
        # corroboration: another document that states an answer of the asked type. A *different*
        # answer must be as well supported by the question's own words, or "Who is the foreign
        # minister?" would also offer the interior minister.
        if c.doc_id == best.doc_id or (best.span is not None and c.span is None):
            continue
        if best.span is not None and c.span is not None:
            same = norm(c.span.text(c.sentence.text)) == norm(best.span.text(best.sentence.text))
            if not same and c.lexical < best.lexical - 0.05:
                continue
        chosen.append(c)
    return chosen


def _citation(n: int, c: Candidate) -> Citation:
    span = (c.sentence.start + c.span.start, c.sentence.start + c.span.end) if c.span is not None else None
    return cite(n, c.hit, c.sentence, c.score, span)


def answer_text(short: str | None, chosen: Sequence[Candidate], citations: Sequence[Citation]) -> str:
    """What the user reads: the short answer (with other documents' different answers), a blank
    line, then each quote with its marker."""
    lines = []
    if short:
        others: list[str] = []
        for cit, c in zip(citations[1:], chosen[1:]):
            if c.span is not None:
                alt = c.span.text(c.sentence.text)
                if norm(alt) != norm(short) and alt not in others:
                    others.append(f"{alt} [{cit.n}]")
        lines.append(short + (" [1]; " + "; ".join(others) if others else ""))
        lines.append("")
    lines += [f"{in_quotes(c.quote)} [{c.n}]" for c in citations]
    return "\n".join(lines)


_OPENING_MARKS = "\"'“‘«„‚「『‹″"


def in_quotes(quote: str) -> str:
    """A quote framed in typographic quotation marks, unless it opens with a quotation mark of its
    own (a sentence of direct speech): framed again it would read “"We will…" he said.”

    >>> in_quotes("Delcy Rodríguez was sworn in.")
    '“Delcy Rodríguez was sworn in.”'
    >>> in_quotes('"We will fight," he said.')
    '"We will fight," he said.'
    """
    return quote if quote[:1] in _OPENING_MARKS else f"“{quote}”"


def compose(
    question: str, hits: Sequence[Hit], cands: Sequence[Candidate], *,
    refusal_threshold: float, corroboration_margin: float = 0.08, max_citations: int = 3,
) -> Answer:
    """The cited answer from ranked candidates (best first): refusal, short answer, corroboration."""
    if not cands or cands[0].score < refusal_threshold:
        return refusal(question, hits, cands[0].score if cands else 0.0)
    chosen = corroborating(cands, corroboration_margin, max_citations)
    citations = [_citation(n, c) for n, c in enumerate(chosen, 1)]
    best = chosen[0]
    short = best.short()
    return Answer(
        question=question, text=answer_text(short, chosen, citations), short_answer=short, refused=False,
        citations=tuple(citations), passages=tuple(hits), answer_doc_id=best.doc_id if short else None,
        answer_start=citations[0].answer_start, answer_end=citations[0].answer_end, confidence=best.score,
    )


def carry_short_answer(citations: list[Citation], fallback: Answer) -> tuple[str | None, str | None, int | None, int | None]:
    """Where a citation in ``citations`` holds ``fallback``'s short answer, mark it there (in place)
    and return (short answer, doc_id, start, end); else four Nones. An LLM answer keeps the
    extractive short answer only when one of its own quotes contains it."""
    if fallback.refused or not fallback.short_answer or fallback.answer_start is None or fallback.answer_end is None:
        return None, None, None, None
    for i, c in enumerate(citations):
        if c.doc_id == fallback.answer_doc_id and c.start <= fallback.answer_start and fallback.answer_end <= c.end:
            citations[i] = dataclasses.replace(c, answer_start=fallback.answer_start, answer_end=fallback.answer_end)
            return fallback.short_answer, c.doc_id, fallback.answer_start, fallback.answer_end
    return None, None, None, None
