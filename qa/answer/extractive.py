"""Answering without an LLM: pick the sentence that answers, cut the short answer out of it.

:class:`ExtractiveAnswerer` types the question (:mod:`qa.answer.question`), scores every sentence of
the retrieved passages (:mod:`qa.answer.scoring`, with rule-based spans from
:mod:`qa.answer.spans`) and composes the cited answer (:mod:`qa.answer.compose`). When the best
score is under the refusal threshold the answer is :data:`~qa.answer.compose.REFUSAL` with the
nearest passages.

>>> answerer = ExtractiveAnswerer(refusal_threshold=0.42)                      # doctest: +SKIP
>>> answer = answerer.answer(question, hits, question_vector, sentence_vectors)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from qa.answer.compose import compose, refusal
from qa.answer.question import content_terms, question_type
from qa.answer.scoring import Candidate, Weights, rank_sentences
from qa.types import Answer, Hit


#: the note of a question without a word to look for (only question words, pronouns, "happen")
NOTHING_ASKED = ("The question names nothing to look for: ask about someone or something by name, "
                 "e.g. “Who signed the contract?” rather than “Who did it?”")


@runtime_checkable
class Answerer(Protocol):
    """Turns retrieved passages into a cited :class:`~qa.types.Answer`."""

    def answer(
        self,
        question: str,
        hits: Sequence[Hit],
        question_vector: np.ndarray | None,
        sentence_vectors: Mapping[tuple[str, int], np.ndarray],
    ) -> Answer:
        """Answer ``question`` from ``hits`` only."""


# Not frozen: benchmarks and the engine's runtime binding adjust an answerer after it is built
# (dataclasses.replace for calibration grids, the reader's ONNX cache folders).
@dataclass
class ExtractiveAnswerer:
    """The default answerer: sentence ranking plus rule-based short-answer cutting (no LLM)."""

    refusal_threshold: float = 0.35
    corroboration_margin: float = 0.08
    max_citations: int = 3
    w_semantic: float = Weights.w_semantic
    w_lexical: float = Weights.w_lexical
    w_type: float = Weights.w_type
    w_rank: float = Weights.w_rank
    headline_penalty: float = Weights.headline_penalty
    w_unseen: float = Weights.w_unseen

    @property
    def weights(self) -> Weights:
        return Weights(w_semantic=self.w_semantic, w_lexical=self.w_lexical, w_type=self.w_type, w_rank=self.w_rank,
                       headline_penalty=self.headline_penalty, w_unseen=self.w_unseen)

    def to_dict(self) -> dict[str, Any]:
        return {"refusal_threshold": self.refusal_threshold, "corroboration_margin": self.corroboration_margin,
                "max_citations": self.max_citations, **self.weights.to_dict()}

    def answer(
        self,
        question: str,
        hits: Sequence[Hit],
        question_vector: np.ndarray | None,
        sentence_vectors: Mapping[tuple[str, int], np.ndarray],
    ) -> Answer:
        if not content_terms(question):  # "Who?", "Who said it?" asked first: any sentence fits as well as another
            return dataclasses.replace(refusal(question, hits), notices=(NOTHING_ASKED,))
        qtype = question_type(question)
        cands = self.rank(question, qtype, hits, question_vector, sentence_vectors)
        return self.compose(question, hits, cands)

    def compose(self, question: str, hits: Sequence[Hit], cands: Sequence[Candidate]) -> Answer:
        """The cited answer from ranked candidates (best first): :func:`qa.answer.compose.compose`."""
        return compose(question, hits, cands, refusal_threshold=self.refusal_threshold,
                       corroboration_margin=self.corroboration_margin, max_citations=self.max_citations)

    def rank(
        self,
        question: str,
        qtype: str,
        hits: Sequence[Hit],
        question_vector: np.ndarray | None,
        sentence_vectors: Mapping[tuple[str, int], np.ndarray],
    ) -> list[Candidate]:
        """Every sentence of ``hits`` with its features and score, best first."""
        return rank_sentences(question, qtype, hits, question_vector, sentence_vectors, self.weights)
