"""Running a question set through the engine and scoring every answer.

Questions go through the engine's public :meth:`qa.QA.ask` (open retrieval, the gold set); in
gold-paragraph mode through :func:`answer_from_paragraph`, which gives the engine's answerer one
paragraph instead of retrieved passages. Question sets are read (and checked) before the engine
is built, so a bad file fails before any model loads.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.eval.datasets import GoldQuestion, SquadSet, leave_out_trained, load_gold, load_squads, sample_questions
from qa.eval.provenance import engine_meta
from qa.eval.results import EvalReport, QuestionResult, score_answer
from qa.types import Answer, Document, Hit

if TYPE_CHECKING:
    from qa.config import Config
    from qa.embed import Embedder

#: (questions done so far, total) — the same shape as the store's progress callback
Progress = Callable[[int, int], None]
log = logging.getLogger(__name__)


def score_asked(q: GoldQuestion, ask: Callable[[], Answer], *, retrieval: bool = True) -> QuestionResult:
    """``ask()`` the engine for ``q`` and score the answer; a question the engine rejects
    (:class:`qa.guards.InvalidQuestion`) scores as failed, with the reason."""
    from qa.guards import InvalidQuestion

    t0 = time.perf_counter()
    try:
        answer = ask()
    except InvalidQuestion as e:
        return score_answer(q, None, latency_ms=(time.perf_counter() - t0) * 1000, retrieval=retrieval,
                            error=f"invalid question: {e}")
    # engines that do not time themselves (test doubles) get the wall time
    wall = None if "total_ms" in answer.timings else (time.perf_counter() - t0) * 1000
    return score_answer(q, answer, latency_ms=wall, retrieval=retrieval)


def ask_and_score(engine: Any, q: GoldQuestion, top_k: int | None) -> QuestionResult:
    """``engine.ask`` one question (retrieval, then the answerer) and score the answer."""
    return score_asked(q, lambda: engine.ask(q.question, top_k=top_k))


def run_questions(questions: Sequence[GoldQuestion], one: Callable[[GoldQuestion], QuestionResult],
                  progress: Progress | None = None) -> list[QuestionResult]:
    """``one(question)`` for every question in order, reporting progress after each."""
    results: list[QuestionResult] = []
    if progress:
        progress(0, len(questions))
    for i, q in enumerate(questions, 1):
        results.append(one(q))
        if progress:
            progress(i, len(questions))
    return results


def evaluate_gold(
    engine: Any, gold_path: str | Path, *, top_k: int | None = None, limit: int | None = None,
    progress: Progress | None = None, sample: int | None = None, seed: int = 0,
    questions: Sequence[GoldQuestion] | None = None,
) -> EvalReport:
    """Ask every question of a gold set (:func:`qa.eval.datasets.load_gold`) and score the answers.

    ``engine`` is a :class:`qa.QA` (anything with ``ask(question, top_k=)`` returning an Answer).
    ``sample`` draws a seeded sample of N questions (:func:`sample_questions`); ``limit`` then keeps
    the first N questions in file order. ``questions``: the file already loaded (the CLI checks it
    before it builds the engine).
    """
    loaded = list(questions) if questions is not None else load_gold(gold_path)
    chosen = sample_questions(loaded, sample, seed)[:limit]
    results = run_questions(chosen, lambda q: ask_and_score(engine, q, top_k), progress)
    cfg = getattr(engine, "config", None)
    depth = top_k or (cfg.top_k if cfg is not None else max((r.passages for r in results), default=0))
    meta = {"mode": "gold", "gold": str(gold_path), "top_k": depth, "limit": limit, **engine_meta(engine)}
    if sample is not None:
        meta.update(sample=sample, seed=seed)
    manifest = getattr(getattr(engine, "store", None), "manifest", None)
    if manifest is not None:  # a source the collection lacks can never be cited: its recall is 0 by construction
        meta["unknown_sources"] = sorted({s for q in chosen for s in q.sources} - set(manifest.documents))
    return EvalReport.build(results, meta=meta, retrieval_depth=depth)


def default_squad_index_dir(corpus: str | Path | Sequence[str | Path] | Sequence[Document],
                            config: Config | None = None) -> Path:
    """``<index_dir>/eval/squad-<first 10 hex of the paragraphs' digest>``: one index per set of
    paragraphs (their ids and texts), whichever files they come from: ``--squad dev-half.json`` and
    ``--squad dev-half.json --squad dev-half-unanswerable.json`` (the same paragraphs) share one.
    ``corpus``: the documents, a corpus JSONL, or the SQuAD files whose paragraphs are indexed."""
    from qa.config import Config

    cfg = config or Config.resolve()
    return _index_dir(cfg, _paragraphs_digest(_corpus_documents(corpus)))


def _index_dir(config: Config, digest: str) -> Path:
    return config.index_dir / "eval" / f"squad-{digest}"


def _corpus_documents(corpus: str | Path | Sequence[str | Path] | Sequence[Document]) -> Sequence[Document]:
    from qa.ingest import load_jsonl

    items = [corpus] if isinstance(corpus, (str, Path)) else list(corpus)
    if all(isinstance(d, Document) for d in items):
        return items  # type: ignore[return-value]
    files = [Path(f) for f in items]  # type: ignore[arg-type]
    if len(files) == 1 and files[0].suffix.lower() == ".jsonl":
        return list(load_jsonl(files[0]))
    return list(load_squads(files).paragraphs.values())


def _paragraphs_digest(docs: Sequence[Document]) -> str:
    h = hashlib.sha256()
    for d in sorted(docs, key=lambda d: d.doc_id):
        h.update(d.doc_id.encode() + b"\0" + d.text.encode() + b"\0")
    return h.hexdigest()[:10]


def _index_corpus(engine: Any, docs: Sequence[Document], digest: str, progress: Progress | None) -> Any:
    """Index ``docs`` (whose :func:`_paragraphs_digest` is ``digest``), recording what they are as the
    index's source: a later ``qa --index <this folder> ask`` then opens it as the corpus it is, instead
    of re-syncing it with the documents folder."""
    source = f"squad:{len(docs)} paragraphs (sha256 {digest})"  # the content, whatever the files
    made = engine.store.manifest_path.exists()
    # another source: other paragraphs in a folder given with index_dir, or an index from before sources
    legacy = made and engine.store.external_source() != source
    if legacy:
        log.info("re-indexing %s: it holds other paragraphs, or predates eval indexes recording theirs", engine.config.index_dir)
    return engine.index_documents(docs, progress=progress, rebuild=legacy, source=source)


def answer_from_paragraph(engine: Any, question: str, paragraph: Document) -> Answer:
    """Answer ``question`` reading only ``paragraph`` (no retrieval): its chunks are the passages.

    Retrieval is what this leaves out, so everything else is the engine's own: its question guard
    (:func:`qa.guards.clean_question`), its index's chunker (:meth:`qa.store.IndexStore.chunk`, so
    the indexed sentence vectors are found), its embedder and store, its answerer. Sentence vectors
    the index lacks (a paragraph not in the corpus, or whose text differs) are embedded on the spot.
    """
    from qa.answer.unmentioned import unmentioned_refusal
    from qa.guards import clean_question, store_errors

    t0 = time.perf_counter()
    cfg = engine.config
    q, _ = clean_question(question, cfg.max_question_chars)
    chunks = engine.store.chunk(paragraph)
    qvec = engine.embedder.embed_query(q)
    with store_errors(cfg.chroma_url):
        vectors = dict(engine.store.sentence_vectors(chunks))
    missing = [(c.chunk_id, i, s.text) for c in chunks for i, s in enumerate(c.sentences) if (c.chunk_id, i) not in vectors]
    if missing:
        for (cid, i, _), vec in zip(missing, engine.embedder.embed_texts([t for _, _, t in missing])):
            vectors[(cid, i)] = vec
    hits = [Hit(chunk=c, score=1.0) for c in chunks]
    engine.store.bm25()  # loaded once: what the collection mentions (no retrieval here loads it)
    names = engine.unmentioned(q)
    answer = unmentioned_refusal(q, hits, names) if names else engine.answerer.answer(q, hits, qvec, vectors)
    total = (time.perf_counter() - t0) * 1000
    return dataclasses.replace(answer, question=question, searched_question=q, timings={"total_ms": total})


def _squad_questions(paths: Sequence[Path], corpus_path: str | Path | None,
                     articles: Sequence[str] | None) -> tuple[SquadSet, list[GoldQuestion], list[Document]]:
    """The SQuAD set, its questions (only ``articles``' when given) and the documents to index."""
    from qa.ingest import load_jsonl

    corpus_docs = list(load_jsonl(corpus_path)) if corpus_path else []
    squad = load_squads(paths, corpus=corpus_docs)
    questions = list(squad.questions)
    if articles:
        wanted = set(articles)
        unknown = wanted - {q.extra.get("title") for q in questions}
        if unknown:
            raise ValueError(f"no such article in {', '.join(p.name for p in paths)}: {', '.join(sorted(unknown))}")
        questions = [q for q in questions if q.extra.get("title") in wanted]
    return squad, questions, (corpus_docs if corpus_path else list(squad.paragraphs.values()))


def _squad_meta(squad: SquadSet, paths: Sequence[Path], corpus_path: str | Path | None, docs: Sequence[Document],
                opts: dict[str, Any], trained_on: Sequence[str], left_out: dict[str, int]) -> dict[str, Any]:
    """How a SQuAD run was made: files, corpus, options, and the reader-training questions left out."""
    gold_paragraph = opts["gold_paragraph"]
    meta: dict[str, Any] = {
        "mode": "squad-gold-paragraph" if gold_paragraph else "squad-open",
        "squad": ", ".join(str(p) for p in paths), "squad_version": squad.version,
        "corpus": str(corpus_path) if corpus_path else ", ".join(str(p) for p in paths),
        "corpus_documents": len(docs), "limit": opts["limit"], "top_k": None if gold_paragraph else opts["top_k"],
    }
    if len(paths) > 1:
        meta["squad_files"] = {p.name: sum(1 for q in squad.questions if q.extra.get("file") == p.name) for p in paths}
    if opts["sample"] is not None:
        meta.update(sample=opts["sample"], seed=opts["seed"])
    meta["index"] = opts["sync"].summary()
    meta.update(engine_meta(opts["engine"]))
    if opts["articles"]:
        meta["articles"] = sorted(set(opts["articles"]))
    # the left-out rule, always stated: how many titles the reader's metadata names, which of them
    # were in the evaluated files, and how many questions that removed
    meta["reader_training_articles"] = len(set(trained_on))
    meta["left_out_articles"] = sorted(left_out)
    meta["excluded_reader_training_questions"] = sum(left_out.values())
    if opts["gold_missing"]:
        # these questions cannot reach paragraph recall: say so instead of a silently low figure
        meta["gold_paragraphs_not_in_corpus"] = opts["gold_missing"]
    return meta


def evaluate_squad(
    squad_path: str | Path | Sequence[str | Path], corpus_path: str | Path | None = None, limit: int | None = None,
    gold_paragraph: bool = False, index_dir: str | Path | None = None, *, top_k: int = 10, config: Config | None = None,
    embedder: Embedder | None = None, answerer: Any = None, progress: Progress | None = None,
    index_progress: Progress | None = None, articles: Sequence[str] | None = None, sample: int | None = None, seed: int = 0,
) -> EvalReport:
    """Evaluate on SQuAD v1.1/v2.0 files (:func:`load_squads`): answerable questions score EM/F1,
    unanswerable ones should be refused.

    Open retrieval (default): each question is asked of an index of ``corpus_path`` (JSONL
    paragraphs whose ids are :func:`qa.eval.datasets.paragraph_id`) or of the files' own
    paragraphs, ``top_k`` passages. ``gold_paragraph=True``: read against its own paragraph only
    (:func:`answer_from_paragraph`), no retrieval figures. Questions: ``articles`` only; never those
    of the reader's training articles (stated in the report); then a seeded ``sample``, then the
    first ``limit`` in file order. The index lives in ``index_dir`` (:func:`default_squad_index_dir`),
    collection ``squad``; ``config`` gives model and answerer settings, ``answerer`` replaces its answerer.
    """
    from qa import QA
    from qa.config import Config

    paths = [Path(squad_path)] if isinstance(squad_path, (str, Path)) else [Path(p) for p in squad_path]
    if not paths:
        raise ValueError("no SQuAD file given")
    squad, questions, docs = _squad_questions(paths, corpus_path, articles)  # read and checked before any model loads
    base = config or Config.resolve()
    digest = _paragraphs_digest(docs)
    idx = Path(index_dir) if index_dir else _index_dir(base, digest)
    cfg = dataclasses.replace(base, index_dir=idx, collection="squad", top_k=max(1, top_k))
    engine = QA(config=cfg, embedder=embedder, answerer=answerer, auto_index=False)
    trained_on = tuple(getattr(getattr(engine.answerer, "reader", None), "trained_on", lambda: ())())
    questions, left_out = leave_out_trained(questions, trained_on)
    questions = sample_questions(questions, sample, seed)[:limit]
    sync = _index_corpus(engine, docs, digest, index_progress)
    gold_missing = sorted({q.sources[0] for q in questions} - {d.doc_id for d in docs})

    def one(q: GoldQuestion) -> QuestionResult:
        if gold_paragraph:
            paragraph = squad.paragraphs[q.sources[0]]
            return score_asked(q, lambda: answer_from_paragraph(engine, q.question, paragraph), retrieval=False)
        return ask_and_score(engine, q, top_k)

    results = run_questions(questions, one, progress)
    opts = {"gold_paragraph": gold_paragraph, "limit": limit, "top_k": top_k, "sample": sample, "seed": seed, "sync": sync,
            "engine": engine, "articles": articles, "gold_missing": len(gold_missing)}
    meta = _squad_meta(squad, paths, corpus_path, docs, opts, trained_on, left_out)
    return EvalReport.build(results, meta=meta, retrieval_depth=None if gold_paragraph else top_k, paragraphs=True)
