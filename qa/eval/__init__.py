"""Evaluation (``qa eval``): how well the engine answers, quotes, refuses and retrieves.

Two question sets are supported:

* a **gold set** over the engine's own documents (``gold/seeds.jsonl``): :func:`evaluate_gold`;
* **SQuAD v1.1 and 2.0** (the official JSON format; several files may be combined, e.g. the dev
  half's answerable questions with SQuAD 2.0's unanswerable ones on the same paragraphs):
  :func:`evaluate_squad`, either *open retrieval* over a paragraph corpus, or *gold paragraph*
  (each question read against its own paragraph only, which measures the answerer alone). A SQuAD
  2.0 question with ``is_impossible: true`` (or no answers) is unanswerable: the right behaviour is
  a refusal.

>>> from qa import QA
>>> from qa import eval as ev
>>> report = ev.evaluate_gold(QA(), "gold/seeds.jsonl")    # doctest: +SKIP
>>> print(ev.format_report(report))                        # doctest: +SKIP
>>> ev.write_markdown_report(report, "eval-report")        # doctest: +SKIP

The package, by layer (each imports only those above it; nothing in the engine imports any of them):

* :mod:`qa.eval.metrics` — pure scoring functions and the :class:`~qa.eval.metrics.Metric` unit
  (no engine import: ``qa.reader.train`` uses its EM/F1);
* :mod:`qa.eval.registry` — every figure as one registered Metric, and ``summarize``;
* :mod:`qa.eval.datasets` — gold JSONL and SQuAD v1.1/v2.0 loaders, checked before any model loads;
* :mod:`qa.eval.results` — ``QuestionResult`` (one scored answer) and ``EvalReport``;
* :mod:`qa.eval.provenance` — what ran: answerer, reader, refusal threshold, git commit;
* :mod:`qa.eval.runner` — questions through the engine's public ``ask`` (gold, SQuAD open, gold paragraph);
* :mod:`qa.eval.report`, :mod:`qa.eval.chart` — console table, report.md, chart.png.

Every public name of those modules is also reachable here (``qa.eval.evaluate_gold``), loaded on
first use, so ``from qa.eval.metrics import f1`` never loads the rest.

Definitions (every rate is a fraction in [0, 1]; the console and Markdown show percentages):

* **prediction** — the string scored for EM/F1/containment: ``answer.short_answer`` if there is
  one, else the first citation's quote, else ``""`` (a refusal).
* **exact_match / f1** — the official SQuAD v1.1 rules (:func:`normalize_answer`, token F1, max over
  the gold answers), averaged over answerable questions.
* **contains** — some normalised gold answer occurs in the normalised prediction at word boundaries
  (no letter or digit touching it: "1" is not found in "2015"); false for an empty prediction. The
  same test decides whether a quote or a passage "contains a gold answer".
* **passed** (per question) — answerable: not refused, EM or containment true, and at least one
  citation quote contains a gold answer. Unanswerable: refused. **correct_with_citation** is the
  share of answerable questions that passed.
* **citation_precision_answer** — share of an answer's citations whose quote contains a gold answer.
  **citation_precision_source** — share of its citations whose document is a gold source. Both are
  ``None`` for refusals and unanswerable questions (nothing to judge), 0 for an answer without
  citations; the source variant is ``None`` when the question lists no gold sources.
* **citation_recall** — share of the gold sources cited at least once (a refusal cites none: 0);
  ``None`` for unanswerable questions and questions without gold sources.
* **refusal_accuracy** — share of all questions where ``refused == unanswerable``;
  **unanswerable_refused** (= **refusal_recall**) — share of unanswerable questions refused;
  **answerable_refused** — the count of answerable questions refused, **answerable_refused_rate**
  their share; **refusal_precision** — share of the refusals made that were on unanswerable
  questions (None when nothing was refused).
* **exact_match_all / f1_all** — the SQuAD 2.0 way, over *all* questions: an unanswerable question
  scores 1 when refused and 0 when answered; an answerable one scores its EM/F1 (0 when refused).
* **question word** (per question ``qword``, table "by question type"): the class of the question's
  first wh-word (:func:`qa.answer.question.question_word`: when, who, how many, how much, where, what,
  which, why, how, other). **wrong_type** — for when/who/how many, an answer that was not refused
  whose prediction does not look like the asked type (:func:`qa.answer.question.looks_like`); None
  when not checked. ``answer_type`` is the engine's own typing (:func:`qa.answer.question.question_type`).
* **retrieval** — ``doc_hit@k``/``doc_mrr``: rank of the first gold source among the *distinct
  documents* of ``answer.passages`` (a paragraph split into two chunks counts once);
  ``answer_hit@k``/``answer_mrr`` rank passages (chunks) as the answerer read them: the first
  whose normalised text contains a gold answer; for SQuAD also ``paragraph_recall@k``/``paragraph_mrr`` (the passage's doc id is the
  question's paragraph id). A question whose target is not retrieved counts 0 for MRR. ``@k`` for a
  ``k`` deeper than the passages asked for is ``None`` (not measurable). Averaged over answerable
  questions (with gold sources, for the doc-level figures).
* **latency_p50_ms / latency_p95_ms** — percentiles (linear interpolation) of
  ``answer.timings["total_ms"]``.
"""

from __future__ import annotations

import importlib
from typing import Any

#: the public names of each submodule, loaded on first use (``qa.eval.f1`` loads only the metrics)
_EXPORTS: dict[str, tuple[str, ...]] = {
    "metrics": (
        "Metric", "MetricResult", "citation_precision_answer", "citation_precision_source", "citation_recall",
        "contains", "contains_normalized", "count_true", "exact_match", "f1", "gold_norms", "hit_at_k", "mean",
        "mean_reciprocal_rank", "normalize_answer", "occurs_at_boundary", "percentile", "prediction_of",
        "rank_of_answer", "rank_of_source", "refusal_correct", "refusal_precision", "refusal_recall", "total",
    ),
    "registry": (
        "BY_KEY", "METRICS", "kind_of", "label_of", "summarize",
    ),
    "datasets": (
        "GoldFormatError", "GoldQuestion", "MAX_LISTED_PROBLEMS", "SQUAD_URL", "SquadSet", "gold_line_problem",
        "leave_out_trained", "load_gold", "load_squad", "load_squads", "paragraph_id", "sample_questions",
        "score_predictions", "squad_missing_message",
    ),
    "results": (
        "EvalReport", "QuestionResult", "engine_answer_type", "group_figures", "score_answer", "wrong_type",
    ),
    "provenance": (
        "describe_answerer", "describe_reader", "engine_meta", "git_commit",
    ),
    "runner": (
        "Progress", "answer_from_paragraph", "ask_and_score", "default_squad_index_dir", "evaluate_gold",
        "evaluate_squad", "run_questions", "score_asked",
    ),
    "report": (
        "CHART_KEYS", "chart_items", "chart_title", "console_symbols", "describe_run", "format_overall",
        "format_question_types", "format_report", "format_value", "write_markdown_report", "wrong_type_cell",
    ),
    "chart": (
        "COLOUR_NAMES", "Canvas", "NAME_AXIS", "PALETTE", "VALUE_AXIS", "chart_with_matplotlib", "fit", "glyph",
        "render_bar_chart_png", "write_chart",
    ),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'qa.eval' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"qa.eval.{module}"), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
