"""Evaluation: how well the engine answers, quotes, refuses and retrieves.

Two question sets are supported:

* a **gold set** over the engine's own documents (``gold/seeds.jsonl``): :func:`evaluate_gold`;
* **SQuAD v1.1 and 2.0** (the official JSON format; several files may be combined, e.g. the dev
  half's answerable questions with SQuAD 2.0's unanswerable ones on the same paragraphs):
  :func:`evaluate_squad`, either *open retrieval* over a paragraph corpus, or *gold paragraph*
  (each question read against its own paragraph only, which measures the answerer alone). A SQuAD
  2.0 question with ``is_impossible: true`` (or no answers) is unanswerable: the right behaviour is
  a refusal.

>>> from qa import QA
>>> report = evaluate_gold(QA(), "gold/seeds.jsonl")       # doctest: +SKIP
>>> print(format_report(report))                           # doctest: +SKIP
>>> write_markdown_report(report, "eval-report")           # doctest: +SKIP

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
  first wh-word (:func:`qa.answer_types.question_word`: when, who, how many, how much, where, what,
  which, why, how, other). **wrong_type** — for when/who/how many, an answer that was not refused
  whose prediction does not look like the asked type (:func:`qa.answer_types.looks_like`); None
  when not checked. ``answer_type`` is the engine's own typing (:func:`qa.answer.question_type`).
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

import dataclasses
import hashlib
import json
import re
import string
import struct
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.answer_types import ALIASES, CHECKED, QUESTION_WORDS, looks_like, question_word
from qa.types import Answer, Document, Hit

if TYPE_CHECKING:
    from qa.config import Config
    from qa.embed import Embedder

#: (questions done so far, total) — the same shape as :data:`qa.store.Progress`
Progress = Callable[[int, int], None]

#: where users get SQuAD; shown when a --squad file is missing
SQUAD_URL = "https://rajpurkar.github.io/SQuAD-explorer/"

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


def _occurs_at_boundary(haystack: str, needle: str) -> bool:
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


def _contains_norm(haystack_norm: str, gold_norms: Iterable[str]) -> bool:
    if not haystack_norm:
        return False
    return any(g and _occurs_at_boundary(haystack_norm, g) for g in gold_norms)


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
    return _contains_norm(normalize_answer(pred), [normalize_answer(g) for g in _golds(golds)])


def prediction_of(answer: Answer) -> str:
    """The string scored for EM/F1: the short answer, else the first quote, else "" (refusal)."""
    if answer.refused:
        return ""
    if answer.short_answer is not None:
        return answer.short_answer
    if answer.citations:
        return answer.citations[0].quote
    return ""


# =================================================================================================
# Citations, refusals, retrieval, latency
# =================================================================================================


def citation_precision_answer(answer: Answer, golds: Iterable[str], unanswerable: bool = False) -> float | None:
    """Share of the answer's citations whose quote contains a gold answer (as in :func:`contains`).

    ``None`` for a refusal, an unanswerable question or no usable gold answer; 0.0 for an answer
    that cites nothing.
    """
    gold_norms = [g for g in (normalize_answer(x) for x in golds) if g]
    if answer.refused or unanswerable or not gold_norms:
        return None
    if not answer.citations:
        return 0.0
    good = sum(1 for c in answer.citations if _contains_norm(normalize_answer(c.quote), gold_norms))
    return good / len(answer.citations)


def citation_precision_source(answer: Answer, sources: Iterable[str], unanswerable: bool = False) -> float | None:
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


def citation_recall(answer: Answer, sources: Iterable[str], unanswerable: bool = False) -> float | None:
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


def rank_of_source(passages: Sequence[Hit], sources: Iterable[str]) -> int | None:
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


def rank_of_answer(passages: Sequence[Hit], golds: Iterable[str]) -> int | None:
    """1-based rank of the first passage whose normalised text contains a normalised gold answer."""
    gold_norms = [g for g in (normalize_answer(x) for x in golds) if g]
    if not gold_norms:
        return None
    for r, h in enumerate(passages, 1):
        if _contains_norm(normalize_answer(h.chunk.text), gold_norms):
            return r
    return None


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


def _mean(values: Iterable[float | bool | None]) -> float | None:
    vs = [float(v) for v in values if v is not None]
    return sum(vs) / len(vs) if vs else None


# =================================================================================================
# Question sets
# =================================================================================================


class GoldFormatError(ValueError):
    """A gold or SQuAD file cannot be read; the message names the file (and line) and what is wrong."""


@dataclass(frozen=True)
class GoldQuestion:
    """One question to evaluate.

    >>> q = GoldQuestion(id="g1", question="Who?", answers=("Ann",), sources=("a.txt",))
    >>> q.to_dict()["answers"]
    ['Ann']
    """

    id: str
    question: str
    answers: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    unanswerable: bool = False
    #: the gold line's "type" (for the per-type breakdown), if any
    type: str | None = None
    #: the other keys of the gold line, kept as they were
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "question": self.question, "answers": list(self.answers), "sources": list(self.sources),
            "unanswerable": self.unanswerable, "type": self.type, "extra": dict(self.extra),
        }


_GOLD_KEYS = ("id", "question", "answers", "sources", "unanswerable")


def _str_list(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(x, str) for x in value):
        return tuple(value)
    return None


def load_gold(path: str | Path) -> list[GoldQuestion]:
    """Read a gold set: JSONL, one object per line with ``id``, ``question``, ``answers`` (list of
    str), ``sources`` (list of doc ids) and ``unanswerable`` (bool). Other keys are kept (``type``
    feeds the per-type breakdown). Blank lines are skipped.

    Raises :class:`GoldFormatError` naming ``path:line`` for a malformed line, a duplicate id, or an
    answerable question without answers.
    """
    path = Path(path)
    out: list[GoldQuestion] = []
    seen: dict[str, int] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                rec = json.loads(line)
            except ValueError as e:
                raise GoldFormatError(f"{where}: not valid JSON ({e})") from None
            if not isinstance(rec, dict):
                raise GoldFormatError(f"{where}: expected a JSON object, got {type(rec).__name__}")
            missing = [k for k in _GOLD_KEYS if k not in rec]
            if missing:
                raise GoldFormatError(f"{where}: missing key(s) {', '.join(missing)} (each line needs {', '.join(_GOLD_KEYS)})")
            qid, question = rec["id"], rec["question"]
            if not isinstance(qid, (str, int)) or isinstance(qid, bool) or str(qid) == "":
                raise GoldFormatError(f"{where}: 'id' must be a non-empty string")
            qid = str(qid)
            if not isinstance(question, str) or not question.strip():
                raise GoldFormatError(f"{where}: 'question' must be a non-empty string")
            answers, sources = _str_list(rec["answers"]), _str_list(rec["sources"])
            if answers is None:
                raise GoldFormatError(f"{where}: 'answers' must be a list of strings")
            if sources is None:
                raise GoldFormatError(f"{where}: 'sources' must be a list of document ids (strings)")
            if not isinstance(rec["unanswerable"], bool):
                raise GoldFormatError(f"{where}: 'unanswerable' must be true or false")
            if not rec["unanswerable"] and not any(normalize_answer(a) for a in answers):
                raise GoldFormatError(f"{where}: an answerable question needs at least one non-empty answer")
            if qid in seen:
                raise GoldFormatError(f"{where}: duplicate id {qid!r} (first on line {seen[qid]})")
            seen[qid] = lineno
            qtype = rec.get("type")
            extra = {k: v for k, v in rec.items() if k not in _GOLD_KEYS and k != "type"}
            out.append(GoldQuestion(
                id=qid, question=question, answers=answers, sources=sources, unanswerable=rec["unanswerable"],
                type=None if qtype is None else str(qtype), extra=extra,
            ))
    if not out:
        raise GoldFormatError(f"{path}: no questions")
    return out


@dataclass(frozen=True)
class SquadSet:
    """SQuAD questions (file order, files in the order given) and their paragraphs keyed by id.

    A paragraph's id is ``"<title>#<index>"`` (:func:`paragraph_id`); the same paragraph in several
    files (or in a ``corpus``) keeps one id, see :func:`load_squads`.
    """

    questions: tuple[GoldQuestion, ...]
    paragraphs: Mapping[str, Document]
    version: str = ""
    files: tuple[str, ...] = ()


def paragraph_id(title: str, index: int) -> str:
    """The id of paragraph ``index`` (0-based) of article ``title``: the ``id`` of paragraphs-all.jsonl.

    >>> paragraph_id("Super_Bowl_50", 0)
    'Super_Bowl_50#0'
    """
    return f"{title}#{index}"


def _squad_data(path: Path) -> tuple[list[Any], str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise GoldFormatError(f"{path}: not a SQuAD JSON file ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise GoldFormatError(f"{path}: not a SQuAD JSON file (expected an object with a 'data' list)")
    return data["data"], str(data.get("version", ""))


def load_squad(path: str | Path) -> SquadSet:
    """Read an official SQuAD v1.1 or v2.0 JSON file (``data[].paragraphs[].qas[]``).

    Each question's only source is its paragraph (:func:`paragraph_id`); its answers are the
    ``answers[].text`` strings (duplicates kept, as the official script does). A question with
    ``is_impossible: true`` or no answers is unanswerable (SQuAD 2.0).
    """
    return load_squads([path])


def load_squads(paths: Sequence[str | Path], corpus: Iterable[Document] = ()) -> SquadSet:
    """Read several SQuAD files (v1.1 or v2.0) as one set: questions in file order, files in order.

    Paragraph ids: a paragraph already known, by its title and text, keeps its id — from the
    ``corpus`` (e.g. paragraphs-all.jsonl, so open-retrieval paragraph recall finds it) or from an
    earlier file. That matters because a SQuAD 2.0 file that holds only some of an article's
    paragraphs numbers them differently from the v1.1 file (dev-half-unanswerable.json's
    ``1973_oil_crisis`` paragraph 5 is dev-half.json's paragraph 7). A new paragraph gets
    ``"<title>#<index in its file>"``, with ``~2``, ``~3`` … added if another paragraph holds that id.
    A question id given twice (e.g. the same file twice) is an error.

    >>> s = load_squads(["dev-half.json", "dev-half-unanswerable.json"])   # doctest: +SKIP
    """
    from qa.ingest import parse_document

    by_key: dict[tuple[str, str], str] = {}
    by_text: dict[str, str] = {}
    text_of: dict[str, str] = {}
    for d in corpus:
        by_key.setdefault((d.title or "", d.text), d.doc_id)
        by_text.setdefault(d.text, d.doc_id)
        text_of.setdefault(d.doc_id, d.text)
    questions: list[GoldQuestion] = []
    paragraphs: dict[str, Document] = {}
    seen_ids: dict[str, str] = {}
    versions: list[str] = []
    files: list[str] = []
    for raw_path in paths:
        path = Path(raw_path)
        data, version = _squad_data(path)
        versions.append(version)
        files.append(str(path))
        try:
            for article in data:
                title = str(article["title"])
                for i, para in enumerate(article["paragraphs"]):
                    context = str(para["context"])
                    pid = by_key.get((title, context)) or by_text.get(context)
                    if pid is None:
                        pid = base = paragraph_id(title, i)
                        n = 1
                        while pid in text_of and text_of[pid] != context:
                            n += 1
                            pid = f"{base}~{n}"
                        by_key[(title, context)] = pid
                        by_text.setdefault(context, pid)
                        text_of[pid] = context
                    if pid not in paragraphs:
                        paragraphs[pid] = parse_document(pid, context, path=f"{path}#{pid}", title=title)
                    for qa in para["qas"]:
                        qid = str(qa["id"])
                        if qid in seen_ids:
                            raise GoldFormatError(f"{path}: question id {qid!r} is also in {seen_ids[qid]} (the same file given twice?)")
                        seen_ids[qid] = str(path)
                        answers = tuple(str(a["text"]) for a in qa["answers"])
                        questions.append(GoldQuestion(
                            id=qid, question=str(qa["question"]), answers=answers, sources=(pid,),
                            unanswerable=bool(qa.get("is_impossible", False)) or not answers,
                            extra={"title": title, "paragraph": pid, "file": path.name},
                        ))
        except (KeyError, TypeError, AttributeError) as e:
            raise GoldFormatError(f"{path}: not in the SQuAD v1.1/v2.0 format (data[].paragraphs[].qas[]): missing {e}") from None
    return SquadSet(questions=tuple(questions), paragraphs=paragraphs, version=", ".join(dict.fromkeys(versions)), files=tuple(files))


def score_predictions(squad_json_path: str | Path, predictions: Mapping[str, str]) -> dict[str, float]:
    """Score ``{question_id: answer_text}`` the way the official evaluate-v1.1.py does.

    Returns ``{"exact_match": %, "f1": %, "count": questions}``; a question without a prediction
    scores 0 (it stays in the denominator).
    """
    path = Path(squad_json_path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
    except (ValueError, KeyError, TypeError) as e:
        raise GoldFormatError(f"{path}: not a SQuAD JSON file ({e})") from None
    em = f1_sum = 0.0
    total = 0
    for article in data:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                total += 1
                if qa["id"] not in predictions:
                    continue
                golds = [a["text"] for a in qa["answers"]]
                em += exact_match(predictions[qa["id"]], golds)
                f1_sum += f1(predictions[qa["id"]], golds)
    if total == 0:
        return {"exact_match": 0.0, "f1": 0.0, "count": 0}
    return {"exact_match": 100.0 * em / total, "f1": 100.0 * f1_sum / total, "count": total}


# =================================================================================================
# Results
# =================================================================================================


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
    #: the question-word class (:func:`qa.answer_types.question_word`)
    qword: str | None = None
    #: the engine's answer type for the question (:func:`qa.answer.question_type`), if available
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
    """The engine's own answer type for ``question`` (:func:`qa.answer.question_type`), or None
    where the engine cannot be imported."""
    try:
        from qa.answer import question_type
    except ImportError:  # pragma: no cover - only without the engine's dependencies
        return None
    return question_type(question)


def wrong_type(qword: str, refused: bool, prediction: str) -> bool | None:
    """For a when/who/how many question answered (not refused): True if ``prediction`` does not
    look like the asked type (:func:`qa.answer_types.looks_like`). None when not checked.

    >>> wrong_type("when", False, "in the spring"), wrong_type("when", False, "Paris")
    (False, True)
    >>> wrong_type("when", True, ""), wrong_type("what", False, "Paris")
    (None, None)
    """
    if refused or qword not in CHECKED:
        return None
    return not looks_like(qword, prediction)


def score_answer(
    gold: GoldQuestion, answer: Answer | None, *, latency_ms: float | None = None, retrieval: bool = True, error: str = ""
) -> QuestionResult:
    """Score one answer against its gold question (``answer=None`` with ``error`` when asking failed).

    ``retrieval=False`` leaves the ranks out (gold-paragraph reading retrieves nothing).
    """
    ans = answer if answer is not None else Answer(question=gold.question, text="")
    pred = prediction_of(ans) if answer is not None else ""
    if latency_ms is None and "total_ms" in ans.timings:
        latency_ms = float(ans.timings["total_ms"])
    gold_norms = [g for g in (normalize_answer(a) for a in gold.answers) if g]
    cited_answer = any(_contains_norm(normalize_answer(c.quote), gold_norms) for c in ans.citations)
    if gold.unanswerable:
        em = f1_score = None
        cont: bool | None = None
    else:
        em, f1_score, cont = exact_match(pred, gold.answers), f1(pred, gold.answers), contains(pred, gold.answers)
    s_rank = a_rank = None
    if retrieval and not gold.unanswerable:
        s_rank = rank_of_source(ans.passages, gold.sources)
        a_rank = rank_of_answer(ans.passages, gold.answers)

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
    if reasons and not gold.unanswerable and retrieval and ans.passages and a_rank is None:
        # tells a retrieval miss apart from a reading mistake
        reasons.append("no retrieved passage holds a gold answer")
    return QuestionResult(
        id=gold.id, question=gold.question, answers=gold.answers, sources=gold.sources, unanswerable=gold.unanswerable,
        prediction=pred, refused=ans.refused, em=em, f1=f1_score, contains=cont,
        citation_precision_answer=citation_precision_answer(ans, gold.answers, gold.unanswerable),
        citation_precision_source=citation_precision_source(ans, gold.sources, gold.unanswerable),
        citation_recall=citation_recall(ans, gold.sources, gold.unanswerable),
        cited_answer=cited_answer, citations=len(ans.citations), cited_docs=tuple(dict.fromkeys(c.doc_id for c in ans.citations)),
        source_rank=s_rank, answer_rank=a_rank, passages=len(ans.passages) if retrieval else 0,
        latency_ms=latency_ms, confidence=float(ans.confidence), passed=not reasons, reason="; ".join(reasons),
        type=gold.type, extra=dict(gold.extra), qword=question_word(gold.question),
        answer_type=engine_answer_type(gold.question),
        wrong_type=None if answer is None else wrong_type(question_word(gold.question), ans.refused, pred),
        generated=ans.generation.generated if ans.generation is not None else None,
        dropped=ans.generation.dropped if ans.generation is not None else None,
        llm_used=ans.generation.used if ans.generation is not None else None,
    )


#: (key, label, kind) of the overall figures, in display order; kind: rate | mrr | ms | count
METRICS: tuple[tuple[str, str, str], ...] = (
    ("questions", "questions", "count"),
    ("answerable", "answerable", "count"),
    ("unanswerable", "unanswerable", "count"),
    ("exact_match", "exact match (EM)", "rate"),
    ("f1", "F1", "rate"),
    ("contains", "gold answer in prediction", "rate"),
    ("correct_with_citation", "correct with citation (passed)", "rate"),
    ("citation_precision_answer", "citation precision (quote has answer)", "rate"),
    ("citation_precision_source", "citation precision (gold source)", "rate"),
    ("citation_recall", "citation recall (gold sources cited)", "rate"),
    ("exact_match_all", "EM, all questions (SQuAD 2.0 style)", "rate"),
    ("f1_all", "F1, all questions (SQuAD 2.0 style)", "rate"),
    ("refusal_accuracy", "refusal accuracy", "rate"),
    ("refusal_precision", "refusal precision", "rate"),
    ("refusal_recall", "refusal recall", "rate"),
    ("unanswerable_refused", "unanswerable refused", "rate"),
    ("answerable_refused_rate", "answerable refused", "rate"),
    ("answerable_refused", "answerable refused (count)", "count"),
    ("doc_hit@1", "doc hit@1", "rate"),
    ("doc_hit@3", "doc hit@3", "rate"),
    ("doc_hit@5", "doc hit@5", "rate"),
    ("doc_mrr", "doc MRR", "mrr"),
    ("answer_hit@1", "answer-in-passage hit@1", "rate"),
    ("answer_hit@3", "answer-in-passage hit@3", "rate"),
    ("answer_hit@5", "answer-in-passage hit@5", "rate"),
    ("answer_mrr", "answer-in-passage MRR", "mrr"),
    ("paragraph_recall@1", "paragraph recall@1", "rate"),
    ("paragraph_recall@3", "paragraph recall@3", "rate"),
    ("paragraph_recall@5", "paragraph recall@5", "rate"),
    ("paragraph_recall@10", "paragraph recall@10", "rate"),
    ("paragraph_mrr", "paragraph MRR", "mrr"),
    ("generated_sentences", "LLM sentences generated", "count"),
    ("dropped_sentences", "LLM sentences dropped (not kept)", "count"),
    ("llm_answers", "answers from the LLM (not the fallback)", "count"),
    ("latency_p50_ms", "latency p50 (ms)", "ms"),
    ("latency_p95_ms", "latency p95 (ms)", "ms"),
)
_KIND = {k: kind for k, _, kind in METRICS}
_LABEL = {k: label for k, label, _ in METRICS}


def refusal_precision(results: Iterable[Any]) -> float | None:
    """Of the refusals made, the share on unanswerable questions (None: nothing was refused).

    ``results`` are anything with ``refused`` and ``unanswerable`` (:class:`QuestionResult`).
    """
    refused = [r for r in results if r.refused]
    return sum(1 for r in refused if r.unanswerable) / len(refused) if refused else None


def refusal_recall(results: Iterable[Any]) -> float | None:
    """Of the unanswerable questions, the share refused (None: no unanswerable question)."""
    unans = [r for r in results if r.unanswerable]
    return sum(1 for r in unans if r.refused) / len(unans) if unans else None


def summarize(
    results: Sequence[QuestionResult], *, retrieval_depth: int | None = None, paragraphs: bool = False
) -> dict[str, Any]:
    """The overall figures of ``results`` (see the module docstring for each definition).

    ``retrieval_depth`` is the number of passages asked for (top_k); None leaves the retrieval
    figures out. ``paragraphs`` adds the SQuAD paragraph-recall figures.
    """
    ans = [r for r in results if not r.unanswerable]
    unans = [r for r in results if r.unanswerable]
    out: dict[str, Any] = {
        "questions": len(results),
        "answerable": len(ans),
        "unanswerable": len(unans),
        "exact_match": _mean(r.em for r in ans),
        "f1": _mean(r.f1 for r in ans),
        "contains": _mean(r.contains for r in ans),
        "correct_with_citation": _mean(r.passed for r in ans),
        "citation_precision_answer": _mean(r.citation_precision_answer for r in ans),
        "citation_precision_source": _mean(r.citation_precision_source for r in ans),
        "citation_recall": _mean(r.citation_recall for r in ans),
        "exact_match_all": _mean(float(r.refused) if r.unanswerable else r.em for r in results),
        "f1_all": _mean(float(r.refused) if r.unanswerable else r.f1 for r in results),
        "refusal_accuracy": _mean(refusal_correct(r.refused, r.unanswerable) for r in results),
        "refusal_precision": refusal_precision(results),
        "refusal_recall": refusal_recall(results),
        "unanswerable_refused": _mean(r.refused for r in unans),
        "answerable_refused_rate": _mean(r.refused for r in ans),
        "answerable_refused": sum(1 for r in ans if r.refused),
    }
    if retrieval_depth is not None:
        with_sources = [r for r in ans if r.sources]

        def at(ranks: list[int | None], k: int) -> float | None:
            return hit_at_k(ranks, k) if k <= retrieval_depth else None

        doc_ranks = [r.source_rank for r in with_sources]
        answer_ranks = [r.answer_rank for r in ans]
        for k in (1, 3, 5):
            out[f"doc_hit@{k}"] = at(doc_ranks, k)
        out["doc_mrr"] = mean_reciprocal_rank(doc_ranks)
        for k in (1, 3, 5):
            out[f"answer_hit@{k}"] = at(answer_ranks, k)
        out["answer_mrr"] = mean_reciprocal_rank(answer_ranks)
        if paragraphs:
            for k in (1, 3, 5, 10):
                out[f"paragraph_recall@{k}"] = at(doc_ranks, k)
            out["paragraph_mrr"] = mean_reciprocal_rank(doc_ranks)
    generated = [r for r in results if r.generated is not None]
    if generated:  # the LLM answerer ran: what it wrote and what the support check dropped
        out["generated_sentences"] = sum(r.generated for r in generated)
        out["dropped_sentences"] = sum(r.dropped or 0 for r in generated)
        out["llm_answers"] = sum(1 for r in generated if r.llm_used)
    latencies = [r.latency_ms for r in results if r.latency_ms is not None]
    out["latency_p50_ms"] = percentile(latencies, 50)
    out["latency_p95_ms"] = percentile(latencies, 95)
    return out


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
    ) -> "EvalReport":
        """Summarise ``results`` into a report."""
        return cls(
            overall=summarize(results, retrieval_depth=retrieval_depth, paragraphs=paragraphs),
            results=tuple(results), meta=dict(meta or {}),
        )

    @property
    def failures(self) -> list[QuestionResult]:
        return [r for r in self.results if not r.passed]

    def by_type(self) -> dict[str, dict[str, Any]]:
        """Per-type figures (for gold sets whose lines carry ``type``); empty when none do."""
        types = sorted({r.type for r in self.results if r.type is not None})
        out: dict[str, dict[str, Any]] = {}
        for t in types:
            rs = [r for r in self.results if r.type == t]
            ans = [r for r in rs if not r.unanswerable]
            out[t] = {
                "questions": len(rs),
                "unanswerable": len(rs) - len(ans),
                "passed": _mean(r.passed for r in rs),
                "exact_match": _mean(r.em for r in ans),
                "f1": _mean(r.f1 for r in ans),
                "contains": _mean(r.contains for r in ans),
                "refused": _mean(r.refused for r in rs),
            }
        return out

    def by_question_type(self) -> dict[str, dict[str, Any]]:
        """Per question-word figures (when, who, how many, … other: :data:`qa.answer_types.QUESTION_WORDS`
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
        "exact_match": _mean(r.em for r in ans),
        "f1": _mean(r.f1 for r in ans),
        "refused": _mean(r.refused for r in results),
        "wrong_type": sum(1 for r in answered if not looks_like(kind, r.prediction)) if checked else None,
        "wrong_type_checked": len(answered) if checked else None,
    }


# =================================================================================================
# Running
# =================================================================================================


def _invalid_question_type() -> type[Exception]:
    try:
        from qa.pipeline import InvalidQuestion

        return InvalidQuestion
    except ImportError:  # pragma: no cover - only without the engine's dependencies
        return ValueError


def _ask(engine: Any, q: GoldQuestion, top_k: int | None) -> QuestionResult:
    t0 = time.perf_counter()
    try:
        answer = engine.ask(q.question, top_k=top_k)
    except _invalid_question_type() as e:
        return score_answer(q, None, latency_ms=(time.perf_counter() - t0) * 1000, error=f"invalid question: {e}")
    # engines that do not time themselves (test doubles) get the wall time
    wall = None if "total_ms" in answer.timings else (time.perf_counter() - t0) * 1000
    return score_answer(q, answer, latency_ms=wall)


def git_commit(root: str | Path | None = None) -> tuple[str, bool | None]:
    """(``git rev-parse --short HEAD`` of the project, whether tracked files have uncommitted
    changes); ("unknown", None) without git or outside a repository."""
    import subprocess

    if root is None:
        from qa.config import project_root

        root = project_root()
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10)
        if head.returncode != 0 or not head.stdout.strip():
            return "unknown", None
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=30)
        return head.stdout.strip(), (bool(status.stdout.strip()) if status.returncode == 0 else None)
    except (OSError, subprocess.SubprocessError):
        return "unknown", None


def describe_answerer(answerer: Any) -> dict[str, Any]:
    """Which answerer and reader ran, and the refusal threshold the answerer object actually uses.

    >>> from qa.answer import ExtractiveAnswerer
    >>> describe_answerer(ExtractiveAnswerer(refusal_threshold=0.3))
    {'answerer': 'ExtractiveAnswerer', 'reader': 'rules', 'refusal_threshold': 0.3}
    """
    out: dict[str, Any] = {"answerer": type(answerer).__name__}
    reader = getattr(answerer, "reader", None)
    if reader is None:
        out["reader"] = "rules"
    else:
        out["reader"] = str(getattr(reader, "spec", type(reader).__name__))
        art = None
        try:
            art = reader.artifact_dir() if hasattr(reader, "artifact_dir") else None
        except Exception:  # noqa: BLE001 - a report must not fail on a reader's metadata
            art = None
        if art is not None:
            out["reader_artifact"] = str(art)
            meta: dict[str, Any] = dict(getattr(reader, "meta", None) or {})
            if not meta:
                try:
                    meta = json.loads((Path(art) / "reader.json").read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    meta = {}
            td = meta.get("training_data") or {}
            for key, value in (("reader_trained_at", meta.get("trained_at")), ("reader_training_file", td.get("file")),
                               ("reader_base_model", meta.get("base_model"))):
                if value:
                    out[key] = value
        if getattr(reader, "quantize", None) is not None:
            out["reader_int8"] = bool(reader.quantize)
    threshold = getattr(answerer, "refusal_threshold", None)
    out["refusal_threshold"] = float(threshold) if isinstance(threshold, (int, float)) else threshold
    if callable(getattr(answerer, "describe", None)):  # e.g. the LLM answerer: model, endpoint, support threshold
        out.update(answerer.describe())
    return out


def _engine_meta(engine: Any) -> dict[str, Any]:
    cfg = getattr(engine, "config", None)
    emb = getattr(engine, "embedder", None)
    meta: dict[str, Any] = {}
    if cfg is not None:
        meta.update(index_dir=str(cfg.index_dir), collection=cfg.collection, model=getattr(emb, "name", cfg.model))
    answerer = getattr(engine, "answerer", None)
    if answerer is not None:
        meta.update(describe_answerer(answerer))
    elif cfg is not None:
        meta["refusal_threshold"] = None  # not known: no answerer object to read it from
    meta["git_commit"], meta["git_dirty"] = git_commit()
    return meta


def sample_questions(questions: Sequence[GoldQuestion], n: int | None, seed: int = 0) -> list[GoldQuestion]:
    """A seeded random sample of ``n`` questions, kept in their original order (all when ``n`` is
    None or not smaller). The same ``questions``, ``n`` and ``seed`` always give the same sample.

    >>> qs = [GoldQuestion(str(i), "q?") for i in range(10)]
    >>> [q.id for q in sample_questions(qs, 3, seed=1)] == [q.id for q in sample_questions(qs, 3, seed=1)]
    True
    >>> len(sample_questions(qs, 3)), len(sample_questions(qs, None)), len(sample_questions(qs, 50))
    (3, 10, 10)
    """
    import random

    if n is None or n >= len(questions):
        return list(questions)
    picked = sorted(random.Random(seed).sample(range(len(questions)), n))
    return [questions[i] for i in picked]


def leave_out_trained(questions: Sequence[GoldQuestion], trained_on: Iterable[str]) -> tuple[list[GoldQuestion], dict[str, int]]:
    """Leave out the questions of articles a reader was trained on.

    Returns the questions kept and ``{title: questions left out}`` for the training articles that
    are actually among ``questions`` (empty when the reader's metadata names none of them, e.g. a
    reader trained on train.json evaluated on dev files). A set lookup per question: a metadata list
    of 442 titles costs nothing.

    >>> qs = [GoldQuestion("1", "q?", extra={"title": "A"}), GoldQuestion("2", "q?", extra={"title": "B"})]
    >>> kept, left = leave_out_trained(qs, ["B", "Z"])
    >>> [q.id for q in kept], left
    (['1'], {'B': 1})
    """
    trained = set(trained_on)
    if not trained:
        return list(questions), {}
    kept: list[GoldQuestion] = []
    left: Counter[str] = Counter()
    for q in questions:
        title = q.extra.get("title")
        if title in trained:
            left[title] += 1
        else:
            kept.append(q)
    return kept, dict(sorted(left.items()))


def evaluate_gold(
    engine: Any, gold_path: str | Path, *, top_k: int | None = None, limit: int | None = None,
    progress: Progress | None = None, sample: int | None = None, seed: int = 0,
) -> EvalReport:
    """Ask every question of a gold set (:func:`load_gold`) and score the answers.

    ``engine`` is a :class:`qa.QA` (anything with ``ask(question, top_k=)`` returning an Answer).
    ``sample`` draws a seeded sample of N questions (:func:`sample_questions`); ``limit`` then keeps
    the first N questions in file order.
    """
    questions = sample_questions(load_gold(gold_path), sample, seed)[:limit]
    results: list[QuestionResult] = []
    if progress:
        progress(0, len(questions))
    for i, q in enumerate(questions, 1):
        results.append(_ask(engine, q, top_k))
        if progress:
            progress(i, len(questions))
    cfg = getattr(engine, "config", None)
    depth = top_k or (cfg.top_k if cfg is not None else max((r.passages for r in results), default=0))
    meta = {"mode": "gold", "gold": str(gold_path), "top_k": depth, "limit": limit, **_engine_meta(engine)}
    if sample is not None:
        meta.update(sample=sample, seed=seed)
    return EvalReport.build(results, meta=meta, retrieval_depth=depth)


def default_squad_index_dir(corpus_file: str | Path | Sequence[str | Path], config: Config | None = None) -> Path:
    """``<index_dir>/eval/squad-<first 10 hex of the corpus file's SHA-256>``: one index per corpus.

    Several files (SQuAD files whose paragraphs are the corpus): the SHA-256 of their SHA-256s.
    """
    from qa.config import Config

    cfg = config or Config.resolve()
    files = [corpus_file] if isinstance(corpus_file, (str, Path)) else list(corpus_file)
    if len(files) == 1:
        digest = hashlib.sha256(Path(files[0]).read_bytes()).hexdigest()[:10]
    else:
        digest = hashlib.sha256(b"".join(hashlib.sha256(Path(f).read_bytes()).digest() for f in files)).hexdigest()[:10]
    return cfg.index_dir / "eval" / f"squad-{digest}"


def answer_from_paragraph(engine: Any, question: str, paragraph: Document) -> Answer:
    """Answer ``question`` reading only ``paragraph`` (no retrieval): its chunks are the passages.

    Sentence vectors come from the index when the paragraph was indexed; any that are missing
    (paragraph not in the corpus, or its text differs) are embedded on the spot.
    """
    from qa.ingest import chunk_document

    t0 = time.perf_counter()
    q = " ".join(question.split())
    cfg = engine.config
    chunks = chunk_document(paragraph, cfg.chunk_words, cfg.chunk_overlap)
    qvec = engine.embedder.embed_query(q)
    vectors = dict(engine.store.sentence_vectors(chunks))
    missing = [(c.chunk_id, i, s.text) for c in chunks for i, s in enumerate(c.sentences) if (c.chunk_id, i) not in vectors]
    if missing:
        for (cid, i, _), vec in zip(missing, engine.embedder.embed_texts([t for _, _, t in missing])):
            vectors[(cid, i)] = vec
    hits = [Hit(chunk=c, score=1.0) for c in chunks]
    answer = engine.answerer.answer(q, hits, qvec, vectors)
    total = (time.perf_counter() - t0) * 1000
    return dataclasses.replace(answer, question=question, searched_question=q, timings={"total_ms": total})


def evaluate_squad(
    squad_path: str | Path | Sequence[str | Path],
    corpus_path: str | Path | None = None,
    limit: int | None = None,
    gold_paragraph: bool = False,
    index_dir: str | Path | None = None,
    *,
    top_k: int = 10,
    config: Config | None = None,
    embedder: Embedder | None = None,
    answerer: Any = None,
    progress: Progress | None = None,
    index_progress: Progress | None = None,
    articles: Sequence[str] | None = None,
    sample: int | None = None,
    seed: int = 0,
) -> EvalReport:
    """Evaluate on one or more SQuAD v1.1/v2.0 files (:func:`load_squads`), e.g. dev-half.json with
    dev-half-unanswerable.json: answerable questions score EM/F1, unanswerable ones should be refused.

    * Open retrieval (default): every question is asked of an index of ``corpus_path`` (a JSONL of
      ``{"id", "title", "text"}`` paragraphs whose ids are :func:`paragraph_id`, e.g.
      paragraphs-all.jsonl), or of the SQuAD files' own paragraphs when no corpus is given, with
      ``top_k`` passages (10, so paragraph recall@10 is measurable).
    * ``gold_paragraph=True``: each question is read against its own paragraph only
      (:func:`answer_from_paragraph`); no retrieval figures.

    Which questions: ``articles`` keeps only the questions of those article titles. Questions from
    the articles a trained reader learned from (its ``reader.json``, ``training_data.train_articles``)
    are always left out — only those actually in the files, so a reader trained on train.json leaves
    out nothing from the dev files — and the report says which and how many
    (``left_out_articles``, ``excluded_reader_training_questions``): a reader is never scored on its
    own training questions. Then ``sample`` draws a seeded sample of N questions across all files
    (:func:`sample_questions`, file order kept), and ``limit`` keeps the first N in file order
    (articles, then paragraphs, then questions, files in the order given), so runs with the same
    options compare the same questions.

    The index lives in ``index_dir`` (default :func:`default_squad_index_dir`), collection
    ``squad``, separate from the engine's own documents; a second run only re-embeds what changed.
    ``config`` supplies the model and answerer settings (default ``Config.resolve()``); ``answerer``
    replaces the answerer the config names.

    >>> report = evaluate_squad(["dev-half.json", "dev-half-unanswerable.json"], sample=500)   # doctest: +SKIP
    """
    from qa.config import Config
    from qa.ingest import load_jsonl
    from qa.pipeline import QA

    paths = [Path(squad_path)] if isinstance(squad_path, (str, Path)) else [Path(p) for p in squad_path]
    if not paths:
        raise ValueError("no SQuAD file given")
    corpus_docs = list(load_jsonl(corpus_path)) if corpus_path else []
    squad = load_squads(paths, corpus=corpus_docs)
    questions = list(squad.questions)
    if articles:
        wanted = set(articles)
        unknown = wanted - {q.extra.get("title") for q in questions}
        if unknown:
            raise ValueError(f"no such article in {', '.join(p.name for p in paths)}: {', '.join(sorted(unknown))}")
        questions = [q for q in questions if q.extra.get("title") in wanted]
    docs = corpus_docs if corpus_path else list(squad.paragraphs.values())
    base = config or Config.resolve()
    idx = Path(index_dir) if index_dir else default_squad_index_dir(corpus_path or paths, base)
    cfg = dataclasses.replace(base, index_dir=idx, collection="squad", top_k=max(1, top_k))
    engine = QA(config=cfg, embedder=embedder, answerer=answerer, auto_index=False)
    trained_on = tuple(getattr(getattr(engine.answerer, "reader", None), "trained_on", lambda: ())())
    questions, left_out = leave_out_trained(questions, trained_on)
    questions = sample_questions(questions, sample, seed)[:limit]
    sync = engine.index_documents(docs, progress=index_progress)

    corpus_ids = {d.doc_id for d in docs}
    gold_missing = sorted({q.sources[0] for q in questions} - corpus_ids)
    results: list[QuestionResult] = []
    if progress:
        progress(0, len(questions))
    for i, q in enumerate(questions, 1):
        if gold_paragraph:
            answer = answer_from_paragraph(engine, q.question, squad.paragraphs[q.sources[0]])
            results.append(score_answer(q, answer, retrieval=False))
        else:
            results.append(_ask(engine, q, top_k))
        if progress:
            progress(i, len(questions))
    meta: dict[str, Any] = {
        "mode": "squad-gold-paragraph" if gold_paragraph else "squad-open",
        "squad": ", ".join(str(p) for p in paths), "squad_version": squad.version,
        "corpus": str(corpus_path) if corpus_path else ", ".join(str(p) for p in paths),
        "corpus_documents": len(docs), "limit": limit, "top_k": None if gold_paragraph else top_k,
    }
    if len(paths) > 1:
        meta["squad_files"] = {p.name: sum(1 for q in squad.questions if q.extra.get("file") == p.name) for p in paths}
    if sample is not None:
        meta.update(sample=sample, seed=seed)
    meta["index"] = sync.summary()
    meta.update(_engine_meta(engine))
    if articles:
        meta["articles"] = sorted(set(articles))
    # the left-out rule, always stated: how many titles the reader's metadata names, which of them
    # were in the evaluated files, and how many questions that removed
    meta["reader_training_articles"] = len(set(trained_on))
    meta["left_out_articles"] = sorted(left_out)
    meta["excluded_reader_training_questions"] = sum(left_out.values())
    if gold_missing:
        # these questions cannot reach paragraph recall: say so instead of a silently low figure
        meta["gold_paragraphs_not_in_corpus"] = len(gold_missing)
    return EvalReport.build(results, meta=meta, retrieval_depth=None if gold_paragraph else top_k, paragraphs=True)


def squad_missing_message(path: str | Path) -> str:
    """What to tell a user whose --squad file does not exist."""
    from qa.config import project_root

    shared = project_root().parent / "shared" / "benchmarks" / "squad-v1.1"
    return (
        f"SQuAD file not found: {path}\n"
        f"Get SQuAD v1.1 from its authors' site, {SQUAD_URL} (the dev set is dev-v1.1.json), "
        f"and pass its path to --squad.\n"
        f"For development, the project's own copy is in ../shared/benchmarks/squad-v1.1/ ({shared}): "
        f"dev-half.json, with paragraphs-all.jsonl for --corpus."
    )


# =================================================================================================
# Console and Markdown reports
# =================================================================================================


def format_value(key: str, value: Any) -> str:
    """A figure as shown to people: rates as percentages, MRR to 3 places, latency in ms."""
    if value is None:
        return "—"
    kind = _KIND.get(key, "count")
    if kind == "rate":
        return f"{100 * value:.1f}%"
    if kind == "mrr":
        return f"{value:.3f}"
    if kind == "ms":
        return f"{value:,.0f} ms"
    return str(value)


def _clip(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def describe_run(meta: Mapping[str, Any]) -> list[str]:
    """What ran, one line each: answerer and reader, refusal threshold, commit; for SQuAD, what was
    left out as the reader's training data."""
    lines: list[str] = []
    if "answerer" in meta:
        reader = meta.get("reader", "rules")
        extra = f" ({meta['reader_artifact']})" if meta.get("reader_artifact") and meta["reader_artifact"] != reader else ""
        lines.append(f"answerer: {meta['answerer']}, reader {reader}{extra}")
    if "refusal_threshold" in meta:
        lines.append(f"refusal threshold: {meta['refusal_threshold']}")
    if meta.get("llm_model"):
        lines.append(f"LLM: {meta['llm_model']} at {meta.get('llm_base_url')}, support threshold {meta.get('support_threshold')}, "
                     f"unsupported sentences {meta.get('unsupported')}, fallback {meta.get('fallback')}")
    if "git_commit" in meta:
        lines.append(f"commit: {meta['git_commit']}{' (with uncommitted changes)' if meta.get('git_dirty') else ''}")
    if "excluded_reader_training_questions" in meta:
        n, titles = meta["excluded_reader_training_questions"], meta.get("left_out_articles") or []
        named = meta.get("reader_training_articles")
        if n:
            lines.append(f"left out: {n} questions of {len(titles)} article(s) the reader was trained on ({', '.join(titles)})")
        elif named:
            lines.append(f"left out: none (the reader's metadata names {named} training articles, none of them in the evaluated files)")
        else:
            lines.append("left out: none (the reader's metadata names no training articles)")
    return lines


def format_overall(report: EvalReport) -> str:
    """The overall figures, one per line, then what ran."""
    lines = [f"Overall ({report.meta.get('mode', 'eval')})"]
    for key, label, _ in METRICS:
        if key in report.overall:
            lines.append(f"  {label:<40} {format_value(key, report.overall[key]):>10}")
    if report.meta.get("gold_paragraphs_not_in_corpus"):
        lines.append(f"  note: {report.meta['gold_paragraphs_not_in_corpus']} gold paragraphs are not in the corpus")
    lines += [f"  {line}" for line in describe_run(report.meta)]
    return "\n".join(lines)


def _wrong_type_cell(s: Mapping[str, Any]) -> str:
    if s.get("wrong_type") is None:
        return "—"
    return f"{s['wrong_type']} of {s['wrong_type_checked']}"


def format_question_types(report: EvalReport) -> str:
    """The per question-word table (count, EM, F1, refused, wrong type)."""
    lines = ["By question type (first wh-word; wrong type: answers not looking like a time / name / number)",
             f"  {'type':<9} {'n':>5} {'unans':>5} {'EM':>7} {'F1':>7} {'refused':>8} {'wrong type':>12}"]
    for t, s in report.by_question_type().items():
        lines.append(
            f"  {t:<9} {s['questions']:>5} {s['unanswerable']:>5} {format_value('exact_match', s['exact_match']):>7} "
            f"{format_value('f1', s['f1']):>7} {format_value('contains', s['refused']):>8} {_wrong_type_cell(s):>12}"
        )
    return "\n".join(lines)


def format_report(report: EvalReport, *, rows: int | None = None, symbols: tuple[str, str] = ("✓", "✗"), width: int = 120) -> str:
    """A console table: overall figures, per-type figures, then one row per question, failures first.

    ``rows`` caps the per-question rows (None: all); ``symbols`` are the passed/failed marks.
    """
    parts = [format_overall(report)]
    types = report.by_type()
    if types:
        t_lines = ["", "By type", f"  {'type':<14} {'n':>4} {'passed':>8} {'EM':>7} {'F1':>7} {'refused':>8}"]
        for t, s in types.items():
            t_lines.append(
                f"  {_clip(t, 14):<14} {s['questions']:>4} {format_value('contains', s['passed']):>8} "
                f"{format_value('exact_match', s['exact_match']):>7} {format_value('f1', s['f1']):>7} "
                f"{format_value('contains', s['refused']):>8}"
            )
        parts.append("\n".join(t_lines))
    if report.results:
        parts.append("\n" + format_question_types(report))
    ordered = sorted(report.results, key=lambda r: r.passed)  # stable: failures first, file order kept
    shown = ordered if rows is None else ordered[:rows]
    if shown:
        id_w = min(24, max(4, max(len(r.id) for r in shown)))
        rest = max(40, width - id_w - 8)
        pred_w, gold_w = rest * 3 // 10, rest * 2 // 10
        reason_w = rest - pred_w - gold_w - 2
        q_lines = ["", f"Questions ({len(report.failures)} failed of {len(report.results)}; failures first)",
                   f"  {'id':<{id_w}} ok {'prediction':<{pred_w}} {'gold':<{gold_w}} reason"]
        for r in shown:
            pred = "(refused)" if r.refused else r.prediction
            gold = "(unanswerable)" if r.unanswerable else " | ".join(dict.fromkeys(r.answers))
            mark = symbols[0] if r.passed else symbols[1]
            q_lines.append(
                f"  {_clip(r.id, id_w):<{id_w}} {mark:<2} {_clip(pred, pred_w):<{pred_w}} {_clip(gold, gold_w):<{gold_w}} "
                f"{_clip(r.reason, reason_w)}"
            )
        if len(shown) < len(ordered):
            q_lines.append(f"  … {len(ordered) - len(shown)} more rows (see --json or --report)")
        parts.append("\n".join(q_lines))
    o = report.overall
    parts.append(
        f"\n{o['questions']} questions: {format_value('correct_with_citation', o.get('correct_with_citation'))} correct with citation, "
        f"EM {format_value('exact_match', o.get('exact_match'))}, F1 {format_value('f1', o.get('f1'))}, "
        f"refusal accuracy {format_value('refusal_accuracy', o.get('refusal_accuracy'))}"
        + (f", refusal precision {format_value('refusal_precision', o.get('refusal_precision'))} / "
           f"recall {format_value('refusal_recall', o.get('refusal_recall'))}, "
           f"EM/F1 all (SQuAD 2.0) {format_value('exact_match_all', o.get('exact_match_all'))} / "
           f"{format_value('f1_all', o.get('f1_all'))}" if o.get("unanswerable") else "")
    )
    return "\n".join(parts)


#: the figures drawn in chart.png, in order (rates only, so one 0-100 axis fits all)
CHART_KEYS = (
    "exact_match", "f1", "contains", "correct_with_citation", "citation_precision_answer", "citation_precision_source",
    "citation_recall", "refusal_accuracy", "doc_hit@5", "answer_hit@5", "paragraph_recall@10", "refusal_precision",
    "refusal_recall",
)
#: bar colours (the "tab10"-like palette, then two more)
PALETTE: tuple[tuple[int, int, int], ...] = (
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
    (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207), (0, 0, 128), (128, 64, 0),
)
_COLOUR_NAMES = ("blue", "orange", "green", "red", "purple", "brown", "pink", "grey", "olive", "cyan", "navy", "rust")


def chart_items(report: EvalReport) -> list[tuple[str, str, float]]:
    """(key, label, percentage) of the figures :func:`write_markdown_report` draws."""
    return [(k, _LABEL[k], 100.0 * report.overall[k]) for k in CHART_KEYS if report.overall.get(k) is not None]


# A 3x5 pixel font: enough for the value labels and bar numbers (no other text is drawn).
_FONT = {
    "0": ("111", "101", "101", "101", "111"), "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"), "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"), "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"), "7": ("111", "001", "001", "001", "001"),
    "8": ("111", "101", "111", "101", "111"), "9": ("111", "101", "111", "001", "111"),
    ".": ("000", "000", "000", "000", "010"), "%": ("101", "001", "010", "100", "101"),
    "-": ("000", "000", "111", "000", "000"), " ": ("000", "000", "000", "000", "000"),
}


class _Canvas:
    """An RGB pixel buffer with rectangles and 3x5 text, saved as PNG (zlib + struct, no deps)."""

    def __init__(self, width: int, height: int, background: tuple[int, int, int] = (255, 255, 255)):
        self.w, self.h = width, height
        self.px = bytearray(bytes(background) * (width * height))

    def rect(self, x0: int, y0: int, x1: int, y1: int, colour: tuple[int, int, int]) -> None:
        x0, x1 = max(0, min(x0, x1)), min(self.w, max(x0, x1))
        y0, y1 = max(0, min(y0, y1)), min(self.h, max(y0, y1))
        if x0 >= x1:
            return
        row = bytes(colour) * (x1 - x0)
        for y in range(y0, y1):
            i = (y * self.w + x0) * 3
            self.px[i : i + len(row)] = row

    def text(self, x: int, y: int, s: str, colour: tuple[int, int, int], scale: int = 2) -> None:
        for ch in s:
            glyph = _FONT.get(ch)
            if glyph is not None:
                for gy, bits in enumerate(glyph):
                    for gx, bit in enumerate(bits):
                        if bit == "1":
                            self.rect(x + gx * scale, y + gy * scale, x + (gx + 1) * scale, y + (gy + 1) * scale, colour)
            x += 4 * scale

    @staticmethod
    def text_width(s: str, scale: int = 2) -> int:
        return max(0, len(s) * 4 * scale - scale)

    def png(self) -> bytes:
        def chunk(tag: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

        stride = self.w * 3
        # filter type 0 (None) on every scanline
        raw = b"".join(b"\x00" + bytes(self.px[y * stride : (y + 1) * stride]) for y in range(self.h))
        header = struct.pack(">IIBBBBB", self.w, self.h, 8, 2, 0, 0, 0)  # 8-bit RGB
        return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def render_bar_chart_png(values: Sequence[float], width: int = 800, height: int = 400) -> bytes:
    """A PNG bar chart of percentages (0-100), pure Python.

    Bars are numbered 1..n under the axis and carry their value on top; gridlines every 25%.
    The labels live in the Markdown legend, since the built-in font only has digits.
    """
    c = _Canvas(width, height)
    left, right, top, bottom = 44, 16, 28, 34
    x0, x1, y0, y1 = left, width - right, top, height - bottom  # plot area; y1 is the 0% line
    ink, grid = (60, 60, 60), (225, 225, 225)

    def y_of(pct: float) -> int:
        return round(y1 - (y1 - y0) * max(0.0, min(100.0, pct)) / 100.0)

    for pct in (0, 25, 50, 75, 100):
        y = y_of(pct)
        c.rect(x0, y, x1, y + 1, grid if pct else ink)
        label = str(pct)
        c.text(x0 - 6 - c.text_width(label), y - 5, label, ink)
    c.rect(x0, y0, x0 + 1, y1 + 1, ink)
    n = max(1, len(values))
    slot = (x1 - x0) / n
    for i, v in enumerate(values):
        colour = PALETTE[i % len(PALETTE)]
        bx0 = round(x0 + slot * i + slot * 0.18)
        bx1 = round(x0 + slot * (i + 1) - slot * 0.18)
        c.rect(bx0, y_of(v), bx1, y1, colour)
        mid = (bx0 + bx1) // 2
        value_label = f"{v:.1f}"
        scale = 2 if c.text_width(value_label) <= slot - 4 else 1
        c.text(mid - c.text_width(value_label, scale) // 2, y_of(v) - 6 * scale - 2, value_label, ink, scale)
        num = str(i + 1)
        c.text(mid - c.text_width(num) // 2, y1 + 10, num, ink)
    return c.png()


def _chart_with_matplotlib(path: Path, items: Sequence[tuple[str, str, float]]) -> bool:
    """Draw the chart with matplotlib when it is installed (it is optional); False if not drawn."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception:
        return False
    try:
        fig, ax = plt.subplots(figsize=(10, 4.5))
        colours = [tuple(ch / 255 for ch in PALETTE[i % len(PALETTE)]) for i in range(len(items))]
        bars = ax.bar([f"{i + 1}. {label}" for i, (_, label, _) in enumerate(items)], [v for _, _, v in items], color=colours)
        ax.bar_label(bars, fmt="%.1f")
        ax.set_ylim(0, 105)
        ax.set_ylabel("%")
        ax.tick_params(axis="x", labelrotation=35, labelsize=8)
        for t in ax.get_xticklabels():
            t.set_horizontalalignment("right")
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return True
    except Exception:  # a broken matplotlib must not cost the report: fall back to the built-in one
        return False


def _md(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def write_markdown_report(report: EvalReport, directory: str | Path) -> tuple[Path, Path]:
    """Write ``report.md`` (overall table, per-type table, failures) and ``chart.png`` into ``directory``.

    The chart uses matplotlib if it is importable, else a built-in PNG writer. Returns both paths.
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    md_path, png_path = d / "report.md", d / "chart.png"
    items = chart_items(report)
    if not _chart_with_matplotlib(png_path, items):
        png_path.write_bytes(render_bar_chart_png([v for _, _, v in items]))

    meta = report.meta
    lines = ["# Evaluation report", ""]
    lines += [f"- {_md(line)}" for line in describe_run(meta)]
    for k, v in meta.items():
        lines.append(f"- **{k}**: {_md(v)}")
    lines += ["", "![main figures](chart.png)", "", "Bars (percent):", ""]
    for i, (_, label, v) in enumerate(items):
        lines.append(f"{i + 1}. {label}: {v:.1f}% ({_COLOUR_NAMES[i % len(_COLOUR_NAMES)]})")
    lines += ["", "## Overall", "", "| figure | value |", "|---|---:|"]
    for key, label, _ in METRICS:
        if key in report.overall:
            lines.append(f"| {label} | {format_value(key, report.overall[key])} |")
    lines += ["", "Definitions: see the docstring of `qa/evaluate.py`. Rates are over answerable questions unless "
              "the name says otherwise; refusal accuracy and the SQuAD 2.0-style EM/F1 are over all questions, refusal "
              "precision over the refusals made, refusal recall over unanswerable questions."]
    types = report.by_type()
    if types:
        lines += ["", "## By type", "", "| type | questions | unanswerable | passed | EM | F1 | contains | refused |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for t, s in types.items():
            lines.append(
                f"| {_md(t)} | {s['questions']} | {s['unanswerable']} | {format_value('contains', s['passed'])} | "
                f"{format_value('exact_match', s['exact_match'])} | {format_value('f1', s['f1'])} | "
                f"{format_value('contains', s['contains'])} | {format_value('contains', s['refused'])} |"
            )
    qtypes = report.by_question_type()
    if qtypes:
        lines += ["", "## By question type", "",
                  "First wh-word of the question. Wrong type: answers (not refusals) to when / who / how many "
                  "questions that do not look like a time / a name / a number (`qa.answer_types.looks_like`).", "",
                  "| type | questions | unanswerable | EM | F1 | refused | wrong type |", "|---|---:|---:|---:|---:|---:|---:|"]
        for t, s in qtypes.items():
            lines.append(
                f"| {_md(t)} | {s['questions']} | {s['unanswerable']} | {format_value('exact_match', s['exact_match'])} | "
                f"{format_value('f1', s['f1'])} | {format_value('contains', s['refused'])} | {_wrong_type_cell(s)} |"
            )
    atypes = report.by_answer_type()
    if atypes:
        lines += ["", "## By the engine's answer type", "", "The engine's own typing (`qa.answer.question_type`).", "",
                  "| answer type | questions | unanswerable | EM | F1 | refused | wrong type |", "|---|---:|---:|---:|---:|---:|---:|"]
        for t, s in atypes.items():
            lines.append(
                f"| {_md(t)} | {s['questions']} | {s['unanswerable']} | {format_value('exact_match', s['exact_match'])} | "
                f"{format_value('f1', s['f1'])} | {format_value('contains', s['refused'])} | {_wrong_type_cell(s)} |"
            )
    failures = report.failures
    lines += ["", f"## Failures ({len(failures)} of {len(report.results)})", ""]
    if not failures:
        lines.append("None.")
    for r in failures:
        lines += [
            f"### {_md(r.id)}{f' ({_md(r.type)})' if r.type else ''}",
            "",
            f"- **question**: {_md(r.question)}",
            f"- **prediction**: {'(refused)' if r.refused else _md(r.prediction) or '(empty)'}",
            f"- **gold**: {'(unanswerable)' if r.unanswerable else '; '.join(_md(a) for a in dict.fromkeys(r.answers))}",
            f"- **reason**: {_md(r.reason)}",
        ]
        if r.sources or r.cited_docs:
            lines.append(f"- **gold sources**: {', '.join(r.sources) or '—'}; **cited**: {', '.join(r.cited_docs) or '—'}")
        if r.source_rank is not None or r.answer_rank is not None or r.passages:
            lines.append(f"- **ranks**: gold source {r.source_rank or '—'}, answer in passage {r.answer_rank or '—'} (of {r.passages})")
        lines.append("")
    md_path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return md_path, png_path


def console_symbols(stream: Any = None) -> tuple[str, str]:
    """✓/✗ where the console can print them, else "ok"/"X"."""
    enc = getattr(stream or sys.stdout, "encoding", None) or "ascii"
    try:
        "✓✗…".encode(enc)
        return ("✓", "✗")
    except (UnicodeEncodeError, LookupError):
        return ("ok", "X")
