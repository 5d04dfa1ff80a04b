"""Scored questions and whole evaluations: :class:`QuestionResult` (one answer against its gold
question) and :class:`EvalReport` (the figures of :data:`qa.eval.registry.METRICS` plus breakdowns)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from qa.answer.question import ALIASES, CHECKED, QUESTION_WORDS, looks_like, question_type, question_word
import qa.eval.metrics as m
from qa.eval.datasets import GoldQuestion
from qa.eval.registry import summarize
from qa.types import Answer


@dataclass(frozen=True)
class QuestionResult:
    """How the engine did on one question.

    >>> r = score_answer(GoldQuestion("q1", "Who?", ("Ann",)), Answer(question="Who?", text="", refused=True))
    >>> r.passed, r.reason
    (False, 'refused an answerable question (confidence 0.00)')
    """

    id: str
    question: str
    answers: tuple[str, ...]
    sources: tuple[str, ...]
    unanswerable: bool
    prediction: str
    refused: bool
    #: EM/F1/containment: None for unanswerable questions
    em: float | None
    f1: float | None
    contains: bool | None
    citation_precision_answer: float | None
    citation_precision_source: float | None
    citation_recall: float | None
    #: does at least one citation quote contain a gold answer?
    cited_answer: bool
    citations: int
    cited_docs: tuple[str, ...]
    #: 1-based ranks in answer.passages; None = not retrieved (or retrieval not measured)
    source_rank: int | None
    answer_rank: int | None
    passages: int
    latency_ms: float | None
    confidence: float
    passed: bool
    #: why it failed ("" when passed)
    reason: str
    type: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: the question-word class (:func:`qa.answer.question.question_word`)
    qword: str | None = None
    #: the engine's answer type for the question (:func:`qa.answer.question.question_type`), if available
    answer_type: str | None = None
    #: when/who/how many, answered (not refused): does the prediction *not* look like the asked type?
    #: None when not checked
    wrong_type: bool | None = None
    #: LLM answerer only: sentences the model wrote, and how many the support check did not keep
    generated: int | None = None
    dropped: int | None = None
    #: the answer is the model's checked sentences (False: the extractive answer or refusal stood)
    llm_used: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        for k in ("answers", "sources", "cited_docs"):
            d[k] = list(d[k])
        d["extra"] = dict(self.extra)
        for k in ("f1", "citation_precision_answer", "citation_precision_source", "citation_recall", "latency_ms", "confidence"):
            if d[k] is not None:
                d[k] = round(d[k], 6)
        return d


def engine_answer_type(question: str) -> str | None:
    """The engine's own answer type for ``question`` (:func:`qa.answer.question.question_type`)."""
    return question_type(question)


def wrong_type(qword: str, refused: bool, prediction: str) -> bool | None:
    """For a when/who/how many question answered (not refused): True if ``prediction`` does not
    look like the asked type (:func:`qa.answer.question.looks_like`). None when not checked.

    >>> wrong_type("when", False, "in the spring"), wrong_type("when", False, "Paris")
    (False, True)
    >>> wrong_type("when", True, ""), wrong_type("what", False, "Paris")
    (None, None)
    """
    if refused or qword not in CHECKED:
        return None
    return not looks_like(qword, prediction)


def _reasons(gold: GoldQuestion, ans: Answer, *, cont: bool | None, em: float | None, cited_answer: bool,
             answer_rank: int | None, retrieval: bool, error: str) -> list[str]:
    """Why a question failed (empty: it passed)."""
    reasons: list[str] = []
    if error:
        reasons.append(error)
    elif gold.unanswerable:
        if not ans.refused:
            reasons.append(f"answered an unanswerable question (confidence {ans.confidence:.2f})")
    elif ans.refused:
        reasons.append(f"refused an answerable question (confidence {ans.confidence:.2f})")
    else:
        if not (cont or em):
            reasons.append("prediction matches no gold answer")
        if not cited_answer:
            reasons.append("no citation quotes a gold answer")
    if reasons and not gold.unanswerable and retrieval and ans.passages and answer_rank is None:
        # tells a retrieval miss apart from a reading mistake
        reasons.append("no retrieved passage holds a gold answer")
    return reasons


def score_answer(
    gold: GoldQuestion, answer: Answer | None, *, latency_ms: float | None = None, retrieval: bool = True, error: str = ""
) -> QuestionResult:
    """Score one answer against its gold question (``answer=None`` with ``error`` when asking failed).

    ``retrieval=False`` leaves the ranks out (gold-paragraph reading retrieves nothing).
    """
    ans = answer if answer is not None else Answer(question=gold.question, text="")
    pred = m.prediction_of(ans) if answer is not None else ""
    if latency_ms is None and "total_ms" in ans.timings:
        latency_ms = float(ans.timings["total_ms"])
    norms = m.gold_norms(gold.answers)
    cited_answer = any(m.contains_normalized(m.normalize_answer(c.quote), norms) for c in ans.citations)
    em = f1_score = cont = None
    if not gold.unanswerable:
        em, f1_score, cont = m.exact_match(pred, gold.answers), m.f1(pred, gold.answers), m.contains(pred, gold.answers)
    s_rank = a_rank = None
    if retrieval and not gold.unanswerable:
        s_rank, a_rank = m.rank_of_source(ans.passages, gold.sources), m.rank_of_answer(ans.passages, gold.answers)
    reasons = _reasons(gold, ans, cont=cont, em=em, cited_answer=cited_answer, answer_rank=a_rank, retrieval=retrieval, error=error)
    gen = ans.generation
    qword = question_word(gold.question)
    return QuestionResult(
        id=gold.id, question=gold.question, answers=gold.answers, sources=gold.sources, unanswerable=gold.unanswerable,
        prediction=pred, refused=ans.refused, em=em, f1=f1_score, contains=cont,
        citation_precision_answer=m.citation_precision_answer(ans, gold.answers, gold.unanswerable),
        citation_precision_source=m.citation_precision_source(ans, gold.sources, gold.unanswerable),
        citation_recall=m.citation_recall(ans, gold.sources, gold.unanswerable),
        cited_answer=cited_answer, citations=len(ans.citations), cited_docs=tuple(dict.fromkeys(c.doc_id for c in ans.citations)),
        source_rank=s_rank, answer_rank=a_rank, passages=len(ans.passages) if retrieval else 0,
        latency_ms=latency_ms, confidence=float(ans.confidence), passed=not reasons, reason="; ".join(reasons),
        type=gold.type, extra=dict(gold.extra), qword=qword, answer_type=engine_answer_type(gold.question),
        wrong_type=None if answer is None else wrong_type(qword, ans.refused, pred),
        generated=gen.generated if gen is not None else None, dropped=gen.dropped if gen is not None else None,
        llm_used=gen.used if gen is not None else None,
    )


@dataclass(frozen=True)
class EvalReport:
    """An evaluation: overall figures, one :class:`QuestionResult` per question, and how it was run.

    >>> report = EvalReport.build([], meta={"mode": "gold"})
    >>> report.overall["questions"], report.to_dict()["meta"]["mode"]
    (0, 'gold')
    """

    overall: dict[str, Any]
    results: tuple[QuestionResult, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(
        cls, results: Sequence[QuestionResult], *, meta: Mapping[str, Any] | None = None,
        retrieval_depth: int | None = None, paragraphs: bool = False,
    ) -> EvalReport:
        """Summarise ``results`` into a report."""
        return cls(
            overall=summarize(results, retrieval_depth=retrieval_depth, paragraphs=paragraphs),
            results=tuple(results), meta=dict(meta or {}),
        )

    @property
    def failures(self) -> list[QuestionResult]:
        return [r for r in self.results if not r.passed]

    def by_type(self) -> dict[str, dict[str, Any]]:
        """Per-type figures (for gold sets whose lines carry ``type``); empty when none do. Lines
        without a type, beside typed ones, are a row of their own, "(none)", so the rows add up."""
        types = sorted({r.type for r in self.results if r.type is not None})
        out: dict[str, dict[str, Any]] = {}
        if types and any(r.type is None for r in self.results):
            types.append(None)
        for t in types:
            rs = [r for r in self.results if r.type == t]
            ans = [r for r in rs if not r.unanswerable]
            out["(none)" if t is None else t] = {
                "questions": len(rs),
                "unanswerable": len(rs) - len(ans),
                "passed": m.mean(r.passed for r in rs),
                "exact_match": m.mean(r.em for r in ans),
                "f1": m.mean(r.f1 for r in ans),
                "contains": m.mean(r.contains for r in ans),
                "refused": m.mean(r.refused for r in rs),
            }
        return out

    def by_question_type(self) -> dict[str, dict[str, Any]]:
        """Per question-word figures (when, who, how many, … other: :data:`qa.answer.question.QUESTION_WORDS`
        order, classes without questions left out); see :func:`group_figures`."""
        groups = {w: [r for r in self.results if r.qword == w] for w in QUESTION_WORDS}
        return {w: group_figures(rs, w) for w, rs in groups.items() if rs}

    def by_answer_type(self) -> dict[str, dict[str, Any]]:
        """Per figures by the engine's own answer type (:func:`qa.answer.question_type`: person, date,
        number, place, …); the wrong-type check runs for person, date and number."""
        types = sorted({r.answer_type for r in self.results if r.answer_type is not None})
        return {t: group_figures([r for r in self.results if r.answer_type == t], t) for t in types}

    def to_dict(self) -> dict[str, Any]:
        return {
            "meta": dict(self.meta),
            "overall": {k: (round(v, 6) if isinstance(v, float) else v) for k, v in self.overall.items()},
            "by_type": self.by_type(),
            "by_question_type": self.by_question_type(),
            "by_answer_type": self.by_answer_type(),
            "questions": [r.to_dict() for r in self.results],
        }


def group_figures(results: Sequence[QuestionResult], kind: str) -> dict[str, Any]:
    """Figures of one group of questions: counts, EM/F1 over its answerable questions, the share
    refused (all questions), and for a checked ``kind`` (when/who/how many, or the engine's
    date/person/number) ``wrong_type``: answers not refused whose prediction does not look like
    that kind, of ``wrong_type_checked`` such answers. Both are None for other kinds.
    """
    ans = [r for r in results if not r.unanswerable]
    checked = kind in CHECKED or kind in ALIASES
    answered = [r for r in results if not r.refused and not r.reason.startswith("invalid question")]
    return {
        "questions": len(results),
        "answerable": len(ans),
        "unanswerable": len(results) - len(ans),
        "exact_match": m.mean(r.em for r in ans),
        "f1": m.mean(r.f1 for r in ans),
        "refused": m.mean(r.refused for r in results),
        "wrong_type": sum(1 for r in answered if not looks_like(kind, r.prediction)) if checked else None,
        "wrong_type_checked": len(answered) if checked else None,
    }
