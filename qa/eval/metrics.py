"""The metrics of ``qa eval``: pure functions and metric units, no engine, no I/O.

Nothing here imports the engine (``qa.reader.train`` scores its validation set with
:func:`exact_match` and :func:`f1` without pulling in the store, the retriever or the answerer).
Answers and per-question results are read by duck typing (``answer.citations``, ``result.em``), so
any object with those attributes can be scored.

A figure of the report is one :class:`Metric` in :data:`METRICS`: which questions it counts, the
per-question score, how the scores aggregate, and when it applies. A new figure is one entry there
(the console table, report.md and the JSON pick it up); the haystack-style
``metric.run(results) -> MetricResult(score, individual_scores)`` scores it on its own.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

# =================================================================================================
# SQuAD v1.1 normalisation and answer metrics (the official evaluate-v1.1.py, step for step)
# =================================================================================================

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(s: str) -> str:
    """Lower-case, remove ASCII punctuation, remove the articles a/an/the, collapse whitespace.

    The official SQuAD v1.1 rules in their order, so figures are comparable with published ones.

    >>> normalize_answer("The  Denver Broncos!")
    'denver broncos'
    >>> normalize_answer("an apple, a pear")
    'apple pear'
    """
    s = s.lower()
    s = "".join(ch for ch in s if ch not in _PUNCTUATION)
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


def _golds(golds: str | Iterable[str]) -> list[str]:
    return [golds] if isinstance(golds, str) else list(golds)


def _exact_one(pred: str, gold: str) -> float:
    return 1.0 if normalize_answer(pred) == normalize_answer(gold) else 0.0


def _f1_one(pred: str, gold: str) -> float:
    pred_tokens = normalize_answer(pred).split()
    gold_tokens = normalize_answer(gold).split()
    common = Counter(pred_tokens) & Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def exact_match(pred: str, golds: str | Iterable[str]) -> float:
    """1.0 if the normalised prediction equals some normalised gold answer, else 0.0 (0.0 without golds).

    >>> exact_match("the Broncos", ["Denver Broncos", "Broncos"])
    1.0
    """
    return max((_exact_one(pred, g) for g in _golds(golds)), default=0.0)


def f1(pred: str, golds: str | Iterable[str]) -> float:
    """Token F1 between normalised prediction and gold answer, the best over the gold answers.

    >>> round(f1("Denver Broncos team", ["Denver Broncos"]), 3)
    0.8
    """
    return max((_f1_one(pred, g) for g in _golds(golds)), default=0.0)


def occurs_at_boundary(haystack: str, needle: str) -> bool:
    """``needle`` in ``haystack`` with no letter or digit touching it on either side.

    Not whole whitespace tokens: the official normalisation keeps non-ASCII punctuation, so
    "cabello—long" and "“no way”" must still yield "cabello" and "no way"; but "1" is not in "2015".
    """
    start = 0
    while True:
        i = haystack.find(needle, start)
        if i < 0:
            return False
        j = i + len(needle)
        left_ok = i == 0 or not (haystack[i - 1].isalnum() and needle[0].isalnum())
        right_ok = j == len(haystack) or not (haystack[j].isalnum() and needle[-1].isalnum())
        if left_ok and right_ok:
            return True
        start = i + 1


def contains_normalized(haystack_norm: str, gold_norms: Iterable[str]) -> bool:
    """:func:`contains` on text already normalised (the scorer normalises each quote once)."""
    if not haystack_norm:
        return False
    return any(g and occurs_at_boundary(haystack_norm, g) for g in gold_norms)


def gold_norms(golds: Iterable[str]) -> list[str]:
    """The normalised gold answers that are not empty once normalised."""
    return [g for g in (normalize_answer(x) for x in golds) if g]


def contains(pred: str, golds: str | Iterable[str]) -> bool:
    """Does some normalised gold answer occur in the normalised prediction, at word boundaries?

    "At word boundaries": no letter or digit touches it on either side, so "1" is not found in
    "2015" while "Cabello" is found in "Cabello—long". False for an empty prediction and for gold
    answers that normalise to nothing.

    >>> contains("Vice President Delcy Rodríguez, 56,", ["Delcy Rodríguez"])
    True
    >>> contains("2015", ["1"])
    False
    """
    return contains_normalized(normalize_answer(pred), [normalize_answer(g) for g in _golds(golds)])


def prediction_of(answer: Any) -> str:
    """The string scored for EM/F1: the short answer, else the first quote, else "" (refusal)."""
    if answer.refused:
        return ""
    if answer.short_answer is not None:
        return answer.short_answer
    if answer.citations:
        return answer.citations[0].quote
    return ""


# =================================================================================================
# Citations, refusals, retrieval ranks (one answer)
# =================================================================================================


def citation_precision_answer(answer: Any, golds: Iterable[str], unanswerable: bool = False) -> float | None:
    """Share of the answer's citations whose quote contains a gold answer (as in :func:`contains`).

    ``None`` for a refusal, an unanswerable question or no usable gold answer; 0.0 for an answer
    that cites nothing.
    """
    norms = gold_norms(golds)
    if answer.refused or unanswerable or not norms:
        return None
    if not answer.citations:
        return 0.0
    good = sum(1 for c in answer.citations if contains_normalized(normalize_answer(c.quote), norms))
    return good / len(answer.citations)


def citation_precision_source(answer: Any, sources: Iterable[str], unanswerable: bool = False) -> float | None:
    """Share of the answer's citations whose ``doc_id`` is a gold source.

    ``None`` for a refusal, an unanswerable question or a question without gold sources; 0.0 for an
    answer that cites nothing.
    """
    gold = set(sources)
    if answer.refused or unanswerable or not gold:
        return None
    if not answer.citations:
        return 0.0
    return sum(1 for c in answer.citations if c.doc_id in gold) / len(answer.citations)


def citation_recall(answer: Any, sources: Iterable[str], unanswerable: bool = False) -> float | None:
    """Share of the gold sources cited at least once (a refusal cites none, so 0.0).

    ``None`` for an unanswerable question or a question without gold sources.
    """
    gold = set(sources)
    if unanswerable or not gold:
        return None
    cited = {c.doc_id for c in answer.citations}
    return len(gold & cited) / len(gold)


def refusal_correct(refused: bool, unanswerable: bool) -> bool:
    """An unanswerable question should be refused, an answerable one should not."""
    return refused == unanswerable


def rank_of_source(passages: Sequence[Any], sources: Iterable[str]) -> int | None:
    """1-based rank, among distinct documents, of the first gold source (None: not retrieved).

    Counted per document, not per passage: a paragraph split into two chunks is one candidate, so
    ``doc_hit@k`` is the usual paragraph recall@k.
    """
    gold = set(sources)
    seen: list[str] = []
    for h in passages:
        if h.chunk.doc_id not in seen:
            seen.append(h.chunk.doc_id)
        if h.chunk.doc_id in gold:
            return len(seen)
    return None


def rank_of_answer(passages: Sequence[Any], golds: Iterable[str]) -> int | None:
    """1-based rank of the first passage whose normalised text contains a normalised gold answer."""
    norms = gold_norms(golds)
    if not norms:
        return None
    for r, h in enumerate(passages, 1):
        if contains_normalized(normalize_answer(h.chunk.text), norms):
            return r
    return None


# =================================================================================================
# Aggregates (over questions)
# =================================================================================================


def hit_at_k(ranks: Iterable[int | None], k: int) -> float | None:
    """Share of ranks that are ``<= k`` (None ranks are misses); None for no questions."""
    rs = list(ranks)
    if not rs:
        return None
    return sum(1 for r in rs if r is not None and r <= k) / len(rs)


def mean_reciprocal_rank(ranks: Iterable[int | None]) -> float | None:
    """Mean of 1/rank, a miss counting 0; None for no questions."""
    rs = list(ranks)
    if not rs:
        return None
    return sum(1.0 / r for r in rs if r) / len(rs)


def percentile(values: Iterable[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) by linear interpolation between closest ranks (numpy's default).

    >>> percentile([10, 20, 30, 40], 50)
    25.0
    """
    vs = sorted(float(v) for v in values)
    if not vs:
        return None
    pos = (len(vs) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(vs) - 1)
    return vs[lo] + (vs[hi] - vs[lo]) * (pos - lo)


def mean(values: Iterable[float | bool | None]) -> float | None:
    """Mean of the values that are not None (booleans count 0/1); None when there are none."""
    vs = [float(v) for v in values if v is not None]
    return sum(vs) / len(vs) if vs else None


def refusal_precision(results: Iterable[Any]) -> float | None:
    """Of the refusals made, the share on unanswerable questions (None: nothing was refused).

    ``results`` are anything with ``refused`` and ``unanswerable`` (:class:`qa.eval.results.QuestionResult`).
    """
    refused = [r for r in results if r.refused]
    return sum(1 for r in refused if r.unanswerable) / len(refused) if refused else None


def refusal_recall(results: Iterable[Any]) -> float | None:
    """Of the unanswerable questions, the share refused (None: no unanswerable question)."""
    unans = [r for r in results if r.unanswerable]
    return sum(1 for r in unans if r.refused) / len(unans) if unans else None


# =================================================================================================
# Metric units: one figure of the report each
# =================================================================================================

#: what a figure needs before it is reported: nothing, retrieval (a depth), SQuAD paragraphs, the LLM answerer
NEEDS = ("", "retrieval", "paragraphs", "llm")


def _every(_: Any) -> bool:
    return True


def count_true(scores: Sequence[Any]) -> int:
    """How many scores are true (a count figure such as "answerable refused")."""
    return sum(1 for s in scores if s)


def total(scores: Sequence[Any]) -> int:
    """The sum of integer scores (questions, LLM sentences)."""
    return sum(scores)


@dataclass(frozen=True)
class MetricResult:
    """A metric over a set of questions: the figure and each counted question's own score."""

    score: float | int | None
    individual_scores: tuple[Any, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "individual_scores": list(self.individual_scores)}


@dataclass(frozen=True)
class Metric:
    """One figure: which questions it counts (``over``), each one's ``score`` and the ``aggregate``.

    ``kind`` decides how it is shown (rate: percent, mrr: 3 places, ms, count). ``depth``: a
    retrieval figure at rank ``k``, not measurable (None) deeper than the passages asked for.
    ``needs``: reported only when retrieval ran, SQuAD paragraphs were scored, or the LLM answered.

    >>> m = Metric("em", "EM", "rate", lambda r: r["em"])
    >>> m.run([{"em": 1.0}, {"em": 0.0}]).to_dict()
    {'score': 0.5, 'individual_scores': [1.0, 0.0]}
    """

    key: str
    label: str
    kind: str
    score: Callable[[Any], Any]
    over: Callable[[Any], bool] = _every
    aggregate: Callable[[Sequence[Any]], Any] = mean
    depth: int | None = None
    needs: str = ""

    def to_dict(self) -> dict[str, Any]:
        """What the figure is (its functions are code, not data)."""
        return {"key": self.key, "label": self.label, "kind": self.kind, "depth": self.depth, "needs": self.needs}

    def applies(self, results: Sequence[Any], *, retrieval_depth: int | None, paragraphs: bool) -> bool:
        """Is this figure part of a report on ``results`` run this way?"""
        if self.needs == "retrieval":
            return retrieval_depth is not None
        if self.needs == "paragraphs":
            return retrieval_depth is not None and paragraphs
        if self.needs == "llm":
            return any(getattr(r, "generated", None) is not None for r in results)
        return True

    def run(self, results: Iterable[Any], *, retrieval_depth: int | None = None) -> MetricResult:
        """The figure over ``results`` (haystack's evaluator shape: score and individual scores)."""
        scores = tuple(self.score(r) for r in results if self.over(r))
        if self.depth is not None and retrieval_depth is not None and self.depth > retrieval_depth:
            return MetricResult(None, scores)
        return MetricResult(self.aggregate(scores), scores)
