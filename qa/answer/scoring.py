"""Sentence scoring: which sentence of the retrieved passages answers the question, and where in it.

Every sentence of the retrieved passages is scored by

* meaning: cosine between the question and the sentence vector (computed at index time);
* shared terms: IDF-weighted share of the question's content words found in the sentence;
* answer type: whether the sentence holds the kind of thing asked for (a person for "who", a date
  for "when", ...) *that is not already in the question* (:func:`best_span`);
* passage rank: the retriever's fused rank of the chunk the sentence comes from;

less a share for question words found nowhere in the passages, and a small penalty for headlines.
The result is a list of :class:`Candidate`, best first, that :mod:`qa.answer.compose` turns into
a cited answer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qa.answer.question import ENTITY, ORG, PERSON, PLACE, STOPWORDS, TOKEN, content_terms, head_noun, stem
from qa.answer.spans import TYPE_ACCEPTS, Span, is_title_case, spans_of
from qa.answer.labels import labelled, line_label
from qa.answer.tables import column_names, table_span
from qa.ingest.chunking import heading_of, under
from qa.types import SECTION_SEP, Chunk, Hit, Sentence


# Mutable on purpose: ranking fills in the features one pass at a time, and the trained reader
# (qa.answer.reader) re-scores and re-cuts the candidates it reads in place.
@dataclass
class Candidate:
    """One sentence of a retrieved passage, its features, its score and its best short-answer span."""

    hit_rank: int
    hit: Hit
    index: int
    sentence: Sentence
    semantic: float = 0.0
    lexical: float = 0.0
    type_fit: float = 0.0
    score: float = 0.0
    span: Span | None = None
    span_fit: float = 0.0
    matched: set[str] = field(default_factory=set)
    #: the reader's span score (start + end logit) for its best span in this sentence, if read
    reader_score: float | None = None
    #: the entry this candidate's answer is for, cited after it (a heading's version: :mod:`qa.answer.headed`)
    backs: Candidate | None = None

    @property
    def doc_id(self) -> str:
        return self.hit.chunk.doc_id

    def short(self) -> str | None:
        """The span's text, or None when the sentence has no short answer."""
        return self.span.text(self.sentence.text) if self.span is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "hit_rank": self.hit_rank, "chunk_id": self.hit.chunk.chunk_id, "index": self.index,
            "sentence": self.sentence.to_dict(), "semantic": self.semantic, "lexical": self.lexical,
            "type_fit": self.type_fit, "score": self.score, "span": self.span.to_dict() if self.span else None,
            "span_fit": self.span_fit, "matched": sorted(self.matched), "reader_score": self.reader_score,
        }


@dataclass(frozen=True)
class Weights:
    """How much each feature counts in a sentence's score (calibrated on the gold set)."""

    w_semantic: float = 0.55
    w_lexical: float = 0.30
    w_type: float = 0.10
    w_rank: float = 0.05
    headline_penalty: float = 0.05
    w_unseen: float = 0.15
    #: a question word found in the headings a sentence stands under counts this much of one in it
    w_heading: float = 0.5

    def to_dict(self) -> dict[str, Any]:
        return {"w_semantic": self.w_semantic, "w_lexical": self.w_lexical, "w_type": self.w_type, "w_rank": self.w_rank,
                "headline_penalty": self.headline_penalty, "w_unseen": self.w_unseen, "w_heading": self.w_heading}


def _answerable(sentence: str) -> bool:
    """Can the sentence answer: three words or more, or two with a number ("Serves 4."), a label
    ("Monday: closed") or a name ("Daniel Price", an e-mail signature's first line), and no heading."""
    words = sentence.split()
    return (len(words) >= 3 or (len(words) == 2 and (any(ch.isdigit() for ch in sentence) or labelled(sentence) is not None
                                                     or _NAME_LINE.fullmatch(sentence.strip()) is not None)
                                and _NUMBERED_TITLE.fullmatch(sentence.strip()) is None)) \
        and heading_of(sentence) is None


#: a section's number and one-word title, a PDF's heading: "3. Troubleshooting" (what it says is under it)
_NUMBERED_TITLE = re.compile(r"\d{1,2}(?:\.\d{1,2})*\.?\s+[A-Z][\w-]*")


#: a line that is a person's name and nothing else: "Daniel Price" (what "Who is the account manager?" asks for)
_NAME_LINE = re.compile(r"(?:Dr\.?\s+|Prof\.?\s+)?[A-Z][a-zà-ÿ’'-]+\s+[A-Z][a-zà-ÿ’'-]+")


def _candidates(hits: Sequence[Hit]) -> list[Candidate]:
    """Every sentence of ``hits`` that can answer (:func:`_answerable`), in passage order."""
    return [Candidate(r, hit, i, s) for r, hit in enumerate(hits) for i, s in enumerate(hit.chunk.sentences)
            if _answerable(s.text)]


def section_of(chunk: Chunk, index: int) -> str:
    """The headings sentence ``index`` of ``chunk`` stands under: the chunk's section, then the
    headings among its own sentences before it.

    >>> from qa.types import Sentence
    >>> sents = (Sentence(0, 9, "Serves 4."), Sentence(10, 24, "### Ingredients"), Sentence(25, 35, "- 1 kg pumpkin"))
    >>> section_of(Chunk("c", "d.md", "Recipes", 0, 35, "", sents, section=((2, "Pumpkin Soup"), (3, "Method"))), 2)
    'Pumpkin Soup › Ingredients'
    """
    path = list(chunk.section)
    for s in chunk.sentences[:index]:
        heading = heading_of(s.text)
        if heading is not None:
            path = under(path, heading)
    return SECTION_SEP.join(t for _, t in path)


def _idf(cands: Sequence[Candidate], q_terms: set[str]) -> tuple[list[set[str]], dict[str, float]]:
    """Each candidate's content terms, and the IDF of the question's terms over the candidate pool.

    A word in every retrieved sentence says little. Only sentences sharing a word with the question
    count, so passages of unrelated documents that retrieval brings along (a recipe beside the
    news) cannot shift the scores that decide refusals.
    """
    df: dict[str, int] = {}
    sent_terms = []
    n = 0
    for c in cands:
        terms = set(content_terms(c.sentence.text))
        sent_terms.append(terms)
        n += bool(terms & q_terms)
        for t in terms & q_terms:
            df[t] = df.get(t, 0) + 1
    return sent_terms, {t: math.log(1 + (n + 1) / (df.get(t, 0) + 0.5)) for t in q_terms}


def _passage_terms(hit: Hit) -> set[str]:
    return set(content_terms(hit.chunk.title + " " + hit.chunk.section_text + " " + hit.chunk.text))


_ACRONYM = re.compile(r"\b[A-Z]{2,6}\b")
_WORD = re.compile(r"[^\W\d_][\w’'-]*")
_CAPITALISED_RUN = re.compile(r"\b[A-Z][\w’'-]*(?:\s+(?:of|and|for|&)?\s*[A-Z][\w’'-]*)+")


def spelled_out(acronym: str, text: str) -> bool:
    """Does ``text`` spell ``acronym`` out as capitalised words ("Chief Financial Officer" for "CFO";
    "of", "and", "for" are skipped, as acronyms skip them), or, for three letters or more, as
    consecutive words in any case ("clean air delivery rate" for "CADR")?

    >>> spelled_out("CFO", "said Marcus Oyelaran, Chief Financial Officer."), spelled_out("CFO", "Chief Executive Officer")
    (True, False)
    >>> spelled_out("EU", "member states of the European Union"), spelled_out("CADR", "its clean air delivery rate is 320")
    (True, True)
    """
    for m in _CAPITALISED_RUN.finditer(text):
        words = [w for w in m.group().split() if w[0].isupper()]
        for i in range(len(words) - len(acronym) + 1):
            if "".join(w[0] for w in words[i : i + len(acronym)]) == acronym:
                return True
    if len(acronym) < 3:  # two lower-case words spell too many things
        return False
    words = _WORD.findall(text)  # "clean air delivery rate" for "CADR"
    return any("".join(w[0] for w in words[i : i + len(acronym)]).upper() == acronym for i in range(len(words) - len(acronym) + 1))


def rank_sentences(
    question: str,
    qtype: str,
    hits: Sequence[Hit],
    question_vector: np.ndarray | None,
    sentence_vectors: Mapping[tuple[str, int], np.ndarray],
    weights: Weights,
) -> list[Candidate]:
    """Every sentence of ``hits`` with its features and score, best first."""
    q_terms = set(content_terms(question))
    q_lower = question.lower()
    head = head_noun(question)
    cands = _candidates(hits)
    if not cands:
        return []
    sent_terms, idf = _idf(cands, q_terms)
    q_weight = sum(idf.values()) or 1.0
    # question words found nowhere in the retrieved passages: the documents may not know this
    seen: set[str] = set()
    for hit in hits:
        seen |= _passage_terms(hit)
    unseen = sum(idf[t] for t in q_terms - seen) / q_weight
    # the rank prior counts only hits that share a word with the question, for the same reason as the IDF
    related_rank, k = {}, 0
    for r, hit in enumerate(hits):
        related_rank[r] = k
        k += bool(q_terms & _passage_terms(hit))
    w = weights
    has_headings = [any(heading_of(x.text) for x in hit.chunk.sentences) for hit in hits]
    acronyms = {stem(a): a for a in _ACRONYM.findall(question)}
    for c, terms in zip(cands, sent_terms):
        for term, acronym in acronyms.items():  # "CFO" is found in "Chief Financial Officer"
            if term not in terms and spelled_out(acronym, c.sentence.text):
                terms = terms | {term}
        vec = sentence_vectors.get((c.hit.chunk.chunk_id, c.index))
        c.semantic = float(np.dot(question_vector, vec)) if question_vector is not None and vec is not None else 0.0
        c.matched = terms & q_terms
        # the headings the sentence stands under count half: "- 1 kg pumpkin" under "Pumpkin Soup"
        headed = set(content_terms(section_of(c.hit.chunk, c.index))) & q_terms - c.matched if c.hit.chunk.section or has_headings[c.hit_rank] else set()
        headed |= set(content_terms(column_names(c.hit.chunk, c.index))) & q_terms - c.matched  # a table row: its header's
        headed |= set(content_terms(line_label(c.hit.chunk, c.index))) & q_terms - c.matched  # "AI-3: …. Owner: Mei Lin Chao."
        c.lexical = (sum(idf[t] for t in c.matched) + w.w_heading * sum(idf[t] for t in headed)) / q_weight
        c.span, c.span_fit = best_span(c.sentence.text, qtype, q_lower, q_terms, head)
        c.span = table_span(question, c.hit.chunk, c.index, c.span)  # a table row: the asked column's cell
        c.type_fit = c.span_fit if qtype in TYPE_ACCEPTS else 0.5
        prior = 1.0 / (1 + related_rank[c.hit_rank])
        c.score = (
            w.w_semantic * c.semantic + w.w_lexical * c.lexical + w.w_type * c.type_fit
            + w.w_rank * prior - w.w_unseen * unseen
        )
        # a headline summarises the article and so resembles many questions, but rarely answers one
        if c.sentence.text.strip() == c.hit.chunk.title.strip() or is_title_case(c.sentence.text):
            c.score -= w.headline_penalty
    cands.sort(key=lambda c: (-c.score, c.hit_rank, c.index))
    return cands


def best_span(sentence: str, qtype: str, q_lower: str, q_terms: set[str], head: str | None = None) -> tuple[Span | None, float]:
    """The span of ``sentence`` that best answers a ``qtype`` question, and its fit (0 without one).

    A span of an accepted kind scores its kind's fit, more near the question's words, less the more
    of the question it repeats, more when the noun asked for ("which channel") names it.
    """
    accepts = TYPE_ACCEPTS.get(qtype)
    if not accepts:
        return None, 0.0
    # where the question's words sit in the sentence: the answer is usually close to them
    anchors = [m.start() for m in TOKEN.finditer(sentence) if stem(m.group()) in q_terms]
    best: tuple[float, Span | None] = (0.0, None)
    for sp in spans_of(sentence):
        fit = accepts.get(sp.kind)
        if not fit:
            continue
        text = sp.text(sentence)
        words = [stem(w) for w in TOKEN.findall(text)]
        # an answer does not repeat the question ("Who is Maduro?" is not answered by "Maduro")
        if text.lower() in q_lower or (words and all(w in q_terms or w in STOPWORDS for w in words)):
            continue
        overlap = sum(1 for w in words if w in q_terms) / max(1, len(words))
        # a possessive ("Maduro’s security detail") modifies the answer; it is rarely the answer
        if sp.kind in (PERSON, ENTITY, ORG, PLACE) and re.search(r"[’']s$", text):
            fit *= 0.5
        dist = min((abs(a - sp.start) for a in anchors), default=len(sentence))
        proximity = 1.0 / (1.0 + dist / 40.0)
        score = fit * (0.6 + 0.4 * proximity) * (1.0 - 0.5 * overlap)
        # the noun asked for names the span: "the Telegram channel Tupy Report", "Cartel de los Soles"
        if head and (head in words or head in [stem(w) for w in TOKEN.findall(sentence[max(0, sp.start - 25) : sp.start])]):
            score = min(1.0, score * 1.3)
        if score > best[0]:
            best = (score, sp)
    return best[1], best[0]
