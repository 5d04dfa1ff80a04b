"""Every figure of ``qa eval``, registered once: the console table, report.md, the chart and the
JSON ``overall`` all read :data:`METRICS` (display order = report order).

Adding a figure: write its per-question score (and aggregate, if not the mean) as a
:class:`~qa.eval.metrics.Metric` entry below. Definitions of each figure: :mod:`qa.eval`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from qa.eval.metrics import Metric, count_true, percentile, refusal_correct, total


def _answerable(r: Any) -> bool:
    return not r.unanswerable


def _unanswerable(r: Any) -> bool:
    return bool(r.unanswerable)


def _with_sources(r: Any) -> bool:
    return not r.unanswerable and bool(r.sources)


def _hit(rank: int | None, k: int) -> float:
    return 1.0 if rank is not None and rank <= k else 0.0


def _reciprocal(rank: int | None) -> float:
    return 1.0 / rank if rank else 0.0


def _one(_: Any) -> int:
    return 1


def _hits(prefix: str, label: str, attr: str, over: Any, ks: Sequence[int], needs: str) -> list[Metric]:
    """``{prefix}@k`` for each k: the share of questions whose target ranks k or better."""
    return [Metric(f"{prefix}@{k}", f"{label}@{k}", "rate", lambda r, k=k: _hit(getattr(r, attr), k), over, depth=k, needs=needs)
            for k in ks]


def _mrr(key: str, label: str, attr: str, over: Any, needs: str) -> Metric:
    return Metric(key, label, "mrr", lambda r: _reciprocal(getattr(r, attr)), over, needs=needs)


def _percentile(q: float) -> Any:
    return partial(percentile, q=q)


#: the figures, in display order (each ``Metric(key, label, kind, score, over, aggregate, depth, needs)``)
METRICS: tuple[Metric, ...] = (
    Metric("questions", "questions", "count", _one, aggregate=total),
    Metric("answerable", "answerable", "count", _one, _answerable, total),
    Metric("unanswerable", "unanswerable", "count", _one, _unanswerable, total),
    Metric("exact_match", "exact match (EM)", "rate", lambda r: r.em, _answerable),
    Metric("f1", "F1", "rate", lambda r: r.f1, _answerable),
    Metric("contains", "gold answer in prediction", "rate", lambda r: r.contains, _answerable),
    Metric("correct_with_citation", "correct with citation (passed)", "rate", lambda r: r.passed, _answerable),
    Metric("citation_precision_answer", "citation precision (quote has answer)", "rate",
           lambda r: r.citation_precision_answer, _answerable),
    Metric("citation_precision_source", "citation precision (gold source)", "rate",
           lambda r: r.citation_precision_source, _answerable),
    Metric("citation_recall", "citation recall (gold sources cited)", "rate", lambda r: r.citation_recall, _answerable),
    Metric("exact_match_all", "EM, all questions (SQuAD 2.0 style)", "rate",
           lambda r: float(r.refused) if r.unanswerable else r.em),
    Metric("f1_all", "F1, all questions (SQuAD 2.0 style)", "rate", lambda r: float(r.refused) if r.unanswerable else r.f1),
    Metric("refusal_accuracy", "refusal accuracy", "rate", lambda r: refusal_correct(r.refused, r.unanswerable)),
    Metric("refusal_precision", "refusal precision", "rate", lambda r: r.unanswerable, lambda r: bool(r.refused)),
    Metric("refusal_recall", "refusal recall", "rate", lambda r: r.refused, _unanswerable),
    Metric("unanswerable_refused", "unanswerable refused", "rate", lambda r: r.refused, _unanswerable),
    Metric("answerable_refused_rate", "answerable refused", "rate", lambda r: r.refused, _answerable),
    Metric("answerable_refused", "answerable refused (count)", "count", lambda r: r.refused, _answerable, count_true),
    *_hits("doc_hit", "doc hit", "source_rank", _with_sources, (1, 3, 5), "retrieval"),
    _mrr("doc_mrr", "doc MRR", "source_rank", _with_sources, "retrieval"),
    *_hits("answer_hit", "answer-in-passage hit", "answer_rank", _answerable, (1, 3, 5), "retrieval"),
    _mrr("answer_mrr", "answer-in-passage MRR", "answer_rank", _answerable, "retrieval"),
    *_hits("paragraph_recall", "paragraph recall", "source_rank", _with_sources, (1, 3, 5, 10), "paragraphs"),
    _mrr("paragraph_mrr", "paragraph MRR", "source_rank", _with_sources, "paragraphs"),
    Metric("generated_sentences", "LLM sentences generated", "count", lambda r: r.generated,
           lambda r: r.generated is not None, total, needs="llm"),
    Metric("dropped_sentences", "LLM sentences dropped (not kept)", "count", lambda r: r.dropped or 0,
           lambda r: r.generated is not None, total, needs="llm"),
    Metric("llm_answers", "answers from the LLM (not the fallback)", "count", lambda r: r.llm_used,
           lambda r: r.generated is not None, count_true, needs="llm"),
    Metric("latency_p50_ms", "latency p50 (ms)", "ms", lambda r: r.latency_ms, lambda r: r.latency_ms is not None,
           _percentile(50)),
    Metric("latency_p95_ms", "latency p95 (ms)", "ms", lambda r: r.latency_ms, lambda r: r.latency_ms is not None,
           _percentile(95)),
)

BY_KEY: dict[str, Metric] = {m.key: m for m in METRICS}


def kind_of(key: str) -> str:
    """How figure ``key`` is shown (rate, mrr, ms, count); count for keys not registered."""
    m = BY_KEY.get(key)
    return m.kind if m is not None else "count"


def label_of(key: str) -> str:
    """The label of figure ``key`` (the key itself for keys not registered)."""
    m = BY_KEY.get(key)
    return m.label if m is not None else key


def summarize(results: Sequence[Any], *, retrieval_depth: int | None = None, paragraphs: bool = False) -> dict[str, Any]:
    """The overall figures of ``results``: every registered metric that applies (see :mod:`qa.eval`).

    ``retrieval_depth`` is the number of passages asked for (top_k); None leaves the retrieval
    figures out. ``paragraphs`` adds the SQuAD paragraph-recall figures.
    """
    return {
        m.key: m.run(results, retrieval_depth=retrieval_depth).score
        for m in METRICS if m.applies(results, retrieval_depth=retrieval_depth, paragraphs=paragraphs)
    }


__all__ = ["METRICS", "BY_KEY", "kind_of", "label_of", "summarize"]
