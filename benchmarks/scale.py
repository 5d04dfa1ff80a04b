"""Benchmark: how this project scales (issue 5) — ingest throughput, query latency vs collection size,
embedded vs server Chroma, measured in one run.

    python benchmarks/scale.py \\
        --paragraphs ../shared/benchmarks/squad-v1.1/paragraphs-all.jsonl \\
        --squad ../shared/benchmarks/squad-v1.1/dev-half.json \\
        --sizes 1000,10000,100000 --out benchmarks/RESULTS.md --json /tmp/qa-scale.json

Three parts, one after the other in one command (so ratios are fair on a noisy shared machine), each
measured in fresh subprocesses so that peak memory is each step's own:

1. **Ingest throughput** on the SQuAD paragraphs (one document each): this project's indexing, the
   path ``qa index --source FILE.jsonl`` takes (``IndexStore.sync`` over the streamed
   ``qa.ingest.load_jsonl``, which also builds the BM25 index a ready engine needs), against the naive llama-index
   ingestion of the same paragraphs with the same model (``VectorStoreIndex.from_documents`` over a
   ``ChromaVectorStore``, default ``SentenceSplitter``, the model wrapped by
   ``qa.embed.as_llama_embedding``, ``Settings.llm = None``; the pipeline of ``compare.py``).
   This project also embeds every *sentence* and builds BM25, so it does more work per chunk.
2. **Query latency vs collection size**: p50/p95 of warm ``engine.ask`` (cache of question vectors
   emptied before each question, so each pays for its embedding), of retrieval alone
   (``engine.retrieve``), and of each retrieval stage (chunk-dense, sentence-dense, BM25), at each
   size in ``--sizes`` (chunks), plus the build time and peak RSS of the building and the querying
   process. Larger collections are synthesised from the paragraphs: the paragraphs again and again
   with distinct ids (``<id>~r3`` is the 4th copy) until the size is reached; the paragraphs of the
   sampled questions come first, so every size holds every answer. **Embedding** goes through a
   deduplicating embedder (:class:`DedupEmbedder`): each distinct text is embedded once (its vector
   comes from part 1's real embedding run, saved under the work folder), and a repeat gets the same
   vector plus a small seeded random perturbation (``--jitter``, norm relative to the unit vector;
   0 gives exact duplicates, a degenerate case for an approximate-nearest-neighbour graph). Questions
   are always embedded by the real model.
3. **Embedded vs server Chroma** on the same collection (``--server-size``): the same index built
   into a ``chroma run`` server on a free loopback port (``Config.chroma_url``) and into the embedded
   store, the same questions asked of both back to back; the server is stopped afterwards.

Each question is timed ``--latency-rounds`` times (default 2) and keeps its fastest time per figure,
after ``--warmup`` questions that are not scored: every round is a fresh querying process per
collection, and the collections take turns in alternating order (small to large, then large to
small), so a drift in outside load on a shared machine hits every size alike. Indexes are built under a temporary folder in /tmp
(``--workdir``), removed at the end unless ``--keep``.

SQuAD is not part of this project: get SQuAD v1.1 from https://rajpurkar.github.io/SQuAD-explorer/
(``--squad``: a SQuAD v1.1 JSON file such as dev-v1.1.json), and a paragraphs JSONL
(``--paragraphs``: one ``{"id": "<title>#<index>", "title", "text"}`` per line, every paragraph of
that file). Internal modes (``_ingest``, ``_build``, ``_query``) are what it runs in subprocesses.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import compare  # noqa: E402  (the naive pipeline, question sampling, machine info, the SQuAD message)

COLLECTION = "scale"
MARKER = compare.SECTIONS_MARKER
HEADING = "## Scale (issue 5)"
GOAL_RATIO = 2.0


def _log(msg: str) -> None:
    print(f"[scale {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _pct(values: Sequence[float], p: float) -> float | None:
    from qa.eval.metrics import percentile

    return percentile(list(values), p) if values else None


# =================================================================================================
# Embedders: record real vectors (part 1), replay them deduplicated (parts 2 and 3)
# =================================================================================================


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


class RecordingEmbedder:
    """Passes everything to the real model and keeps a copy of each text's vector (for the cache)."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.vectors: dict[str, np.ndarray] = {}

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @property
    def batch_size(self) -> int:
        return int(getattr(self.inner, "batch_size", 64))

    def embed_texts(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        out = self.inner.embed_texts(texts, progress)
        for t, v in zip(texts, out):
            self.vectors[_key(t)] = v
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)

    def save(self, path: Path) -> None:
        keys = sorted(self.vectors)
        np.savez(path, keys=np.array(keys), vectors=np.stack([self.vectors[k] for k in keys]).astype(np.float32))


class DedupEmbedder:
    """A :class:`qa.embed.Embedder` that embeds each distinct text once per process.

    Vectors come from ``cache`` (a file written by :meth:`RecordingEmbedder.save`) or, for a text
    not in it, from the real model (loaded only then). The first occurrence of a text gets its
    vector as is; the k-th repeat gets it plus seeded Gaussian noise of norm ``jitter`` (then
    re-normalised), so a synthetic collection of repeated paragraphs is a cloud of near-duplicates
    rather than exact duplicates. Questions (``embed_query``) always go to the real model.
    """

    def __init__(self, cache: Path | None, jitter: float, model: Any = None):
        from qa.embed import SentenceTransformerEmbedder

        self._inner = model or SentenceTransformerEmbedder()
        self.name = self._inner.name  # resolving the name does not load the model
        self.batch_size = 64
        self.jitter = jitter
        self._vec: dict[str, np.ndarray] = {}
        if cache is not None and cache.is_file():
            data = np.load(cache)
            self._vec = dict(zip(data["keys"].tolist(), data["vectors"]))
        self._seen: dict[str, int] = {}
        self.lock = threading.Lock()
        self.texts = self.misses = 0

    @property
    def dimension(self) -> int:
        if self._vec:
            return int(next(iter(self._vec.values())).shape[0])
        return self._inner.dimension

    def embed_texts(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        keys = [_key(t) for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts) if k not in self._vec}.items())
        if missing:
            vecs = self._inner.embed_texts([t for _, t in missing])
            self._vec.update({k: v for (k, _), v in zip(missing, vecs)})
            self.misses += len(missing)
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for i, k in enumerate(keys):
            v = self._vec[k]
            n = self._seen.get(k, 0)
            self._seen[k] = n + 1
            if n and self.jitter > 0:
                rng = np.random.default_rng([int(k[:15], 16), n])
                noise = rng.standard_normal(v.shape[0]).astype(np.float32)
                v = v + noise * (self.jitter / float(np.linalg.norm(noise)))
                v = v / float(np.linalg.norm(v))
            out[i] = v
        self.texts += len(texts)
        if progress:
            progress(len(texts))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self._inner.embed_query(text)


# =================================================================================================
# The synthetic corpus
# =================================================================================================


def corpus_order(paragraphs: Path, first_ids: Sequence[str]) -> list[Any]:
    """The paragraphs as qa Documents, those of ``first_ids`` first (so a small size holds every answer)."""
    from qa.ingest import load_jsonl

    docs = list(load_jsonl(paragraphs))
    rank = {d: i for i, d in enumerate(dict.fromkeys(first_ids))}
    return sorted(docs, key=lambda d: (0, rank[d.doc_id]) if d.doc_id in rank else (1, 0))  # stable


def synthetic_documents(base: Sequence[Any], target_chunks: int) -> Iterator[Any]:
    """Documents of ``base`` in turn, copy r > 0 with id ``<id>~r<r>``, until ``target_chunks`` chunks."""
    from qa.config import Config
    from qa.ingest import chunk_document, parse_document

    cfg = Config.resolve()
    per_doc = [len(chunk_document(d, cfg.chunk_words, cfg.chunk_overlap)) for d in base]
    total, r = 0, 0
    while True:
        for d, n in zip(base, per_doc):
            if total >= target_chunks:
                return
            yield d if r == 0 else parse_document(f"{d.doc_id}~r{r}", d.text, path=d.path, title=d.title or None)
            total += n
        r += 1


# =================================================================================================
# Subprocess workers
# =================================================================================================


def _peak_rss_mib() -> float:
    return compare._peak_rss_mib()


def _write(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def ingest_main(argv: Sequence[str]) -> None:
    """Part 1: one system indexes every paragraph with the real model; wall, CPU, chunks/s."""
    ap = argparse.ArgumentParser(prog="scale.py _ingest")
    ap.add_argument("--system", choices=("naive", "qa"), required=True)
    ap.add_argument("--paragraphs", type=Path, required=True)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--workdir", type=Path, required=True)
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--result", type=Path, required=True)
    a = ap.parse_args(argv)
    compare._quiet_chroma()
    from qa.embed import SentenceTransformerEmbedder

    out: dict[str, Any] = {"system": a.system, "load_start": os.getloadavg()[0]}
    t0 = time.perf_counter()
    model = SentenceTransformerEmbedder()
    model.embed_query("warm up")
    out["model_load_s"] = time.perf_counter() - t0
    folder = a.workdir / f"ingest-{a.system}"
    shutil.rmtree(folder, ignore_errors=True)

    if a.system == "naive":
        from llama_index.core import Settings

        from qa.embed import as_llama_embedding

        Settings.llm = None  # no LLM anywhere (llama-index then uses its MockLLM)
        docs = compare.naive_read_jsonl(a.paragraphs)
        if a.limit:
            docs = docs[: a.limit]
        t0, c0 = time.perf_counter(), time.process_time()
        pipe = compare.NaivePipeline.build(docs, folder, as_llama_embedding(model))
        out["wall_s"], out["cpu_s"] = time.perf_counter() - t0, time.process_time() - c0
        out["documents"] = len(docs)
        out["chunks"] = int(pipe.retriever._vector_store._collection.count())
        out["texts_embedded"] = out["chunks"]
        out["sentences"] = 0
    else:
        from itertools import islice

        from qa.config import Config
        from qa.ingest import load_jsonl
        from qa.store import IndexStore

        rec = RecordingEmbedder(model)
        store = IndexStore(folder, rec, Config.resolve().chunking(), collection=COLLECTION)
        source = f"jsonl:{a.paragraphs.resolve()}"
        docs_iter = load_jsonl(a.paragraphs)
        if a.limit:
            docs_iter = islice(docs_iter, a.limit)
        # what `qa index --source FILE.jsonl` does: a streamed sync, which builds BM25 too (timed apart)
        bm25_timer = _time_bm25(store)
        t0, c0 = time.perf_counter(), time.process_time()
        report = store.sync(docs_iter, source=source)
        store.bm25()  # the one the sync built: nothing to do
        out["wall_s"], out["cpu_s"] = time.perf_counter() - t0, time.process_time() - c0
        out["bm25_wall_s"] = bm25_timer[0]
        out["sync_wall_s"], out["sync_cpu_s"] = out["wall_s"] - bm25_timer[0], out["cpu_s"] - bm25_timer[1]
        out["documents"] = report.documents
        out["chunks"] = store.count()
        out["sentences"] = int(store.sentences_collection.count())
        out["texts_embedded"] = out["chunks"] + out["sentences"]
        if a.cache:
            rec.save(a.cache)
    out["chunks_per_s"] = out["chunks"] / out["wall_s"]
    out["index_mib"] = compare._dir_mib(folder)
    out["peak_rss_mib"] = _peak_rss_mib()
    out["load_end"] = os.getloadavg()[0]
    shutil.rmtree(folder, ignore_errors=True)
    _write(a.result, out)


def build_main(argv: Sequence[str]) -> None:
    """Parts 2/3: build the synthetic collection of ``--size`` chunks with the deduplicating embedder."""
    ap = argparse.ArgumentParser(prog="scale.py _build")
    ap.add_argument("--paragraphs", type=Path, required=True)
    ap.add_argument("--first", type=Path, required=True, help="JSON list of paragraph ids to put first")
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--index-dir", type=Path, required=True)
    ap.add_argument("--chroma-url", default="")
    ap.add_argument("--cache", type=Path, required=True)
    ap.add_argument("--jitter", type=float, required=True)
    ap.add_argument("--result", type=Path, required=True)
    a = ap.parse_args(argv)
    compare._quiet_chroma()
    from qa.config import Config
    from qa.store import IndexStore

    out: dict[str, Any] = {"size": a.size, "server": bool(a.chroma_url), "load_start": os.getloadavg()[0]}
    emb = DedupEmbedder(a.cache, a.jitter)
    base = corpus_order(a.paragraphs, json.loads(a.first.read_text(encoding="utf-8")))
    cfg = Config.resolve(chroma_url=a.chroma_url or None)
    store = IndexStore(a.index_dir, emb, cfg.chunking(), collection=COLLECTION, chroma_url=cfg.chroma_url)
    bm25_timer = _time_bm25(store)
    t0, c0 = time.perf_counter(), time.process_time()
    report = store.sync(synthetic_documents(base, a.size), source=f"synthetic:{a.paragraphs.name}:{a.size}")
    store.bm25()  # built by the sync: nothing to do
    out["build_s"], out["build_cpu_s"] = time.perf_counter() - t0, time.process_time() - c0
    out["sync_s"], out["bm25_s"] = out["build_s"] - bm25_timer[0], bm25_timer[0]
    out["documents"] = report.documents
    out["chunks"] = store.count()
    out["sentences"] = int(store.sentences_collection.count())
    out["texts"], out["embedded_by_model"] = emb.texts, emb.misses
    out["index_mib"] = compare._dir_mib(a.index_dir)
    out["peak_rss_mib"] = _peak_rss_mib()
    out["load_end"] = os.getloadavg()[0]
    _write(a.result, out)


def _time_bm25(store: Any) -> list[float]:
    """Time the BM25 build inside ``store.sync`` (which builds it at index time): [wall s, CPU s], summed."""
    spent = [0.0, 0.0]
    build = store._build_bm25

    def timed(*args: Any, **kwargs: Any) -> Any:
        t, c = time.perf_counter(), time.process_time()
        try:
            return build(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - t
            spent[1] += time.process_time() - c

    store._build_bm25 = timed
    return spent


def query_main(argv: Sequence[str]) -> None:
    """Parts 2/3: open a built collection in a fresh process and time the questions."""
    ap = argparse.ArgumentParser(prog="scale.py _query")
    ap.add_argument("--squad", type=Path, required=True)
    ap.add_argument("--sample", type=int, required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--warmup", type=int, required=True)
    ap.add_argument("--latency-rounds", type=int, required=True)
    ap.add_argument("--index-dir", type=Path, required=True)
    ap.add_argument("--chroma-url", default="")
    ap.add_argument("--result", type=Path, required=True)
    a = ap.parse_args(argv)
    compare._quiet_chroma()
    from llama_index.core.schema import QueryBundle

    from qa import QA

    out: dict[str, Any] = {"server": bool(a.chroma_url), "load_start": os.getloadavg()[0]}
    questions, warm = compare.sample_squad(a.squad, a.sample, a.seed, a.warmup)
    engine = QA(index_dir=a.index_dir, collection=COLLECTION, auto_index=False, chroma_url=a.chroma_url or None)
    t0 = time.perf_counter()
    engine.embedder.embed_query("warm up")  # load the model first: opening is timed on its own
    out["model_load_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    out["chunks"] = engine.stats()["chunks"]  # opens the collections and loads BM25
    out["open_s"] = time.perf_counter() - t0
    out["answerer"] = type(engine.answerer).__name__
    retriever = engine.as_retriever()
    clear = engine.embedder.clear

    def one(q: str) -> dict[str, float]:
        m: dict[str, float] = {}
        clear()  # a cached question vector would skip the model: measure the real path
        t, c = time.perf_counter(), time.process_time()
        ans = engine.ask(q)
        m["ask_ms"], m["ask_cpu_ms"] = (time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000
        for k in ("embed_ms", "retrieve_ms", "answer_ms"):
            m[k] = float(ans.timings.get(k, float("nan")))
        m["ask_minus_embed_ms"] = m["ask_ms"] - m["embed_ms"]  # what the collection's size can change
        clear()
        t = time.perf_counter()
        engine.retrieve(q)  # public API: embeds the question, then hybrid retrieval
        m["retrieval_ms"] = (time.perf_counter() - t) * 1000
        bundle = QueryBundle(q)  # the question vector is cached now: stages without the model
        for name, part in (("chunk_dense_ms", retriever.dense), ("bm25_ms", retriever.sparse), ("sentence_dense_ms", retriever.sentences)):
            if part is not None:
                t = time.perf_counter()
                part.retrieve(bundle)
                m[name] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        retriever.search(q, engine.config.top_k)
        m["fused_ms"] = (time.perf_counter() - t) * 1000
        m["refused"] = float(ans.refused)
        return m

    for q in warm:
        one(q.question)
    rounds = [[one(q.question) for q in questions] for _ in range(a.latency_rounds)]
    best = [{k: min(r[i][k] for r in rounds) for k in rounds[0][i]} for i in range(len(questions))]
    keys = [k for k in best[0] if k != "refused"]
    out["p50"] = {k: _pct([b[k] for b in best], 50) for k in keys}
    out["p95"] = {k: _pct([b[k] for b in best], 95) for k in keys}
    out["refused"] = int(sum(b["refused"] for b in best))
    out["questions"] = len(questions)
    out["sample_digest"] = compare.sample_digest(questions)
    out["per_question"] = [{"id": q.id, **b} for q, b in zip(questions, best)]
    out["peak_rss_mib"] = _peak_rss_mib()
    out["load_end"] = os.getloadavg()[0]
    _write(a.result, out)


# =================================================================================================
# The Chroma server
# =================================================================================================


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ChromaServer:
    """``chroma run --path DIR --host 127.0.0.1 --port N``, started and stopped by this benchmark."""

    def __init__(self, path: Path, log_path: Path):
        self.path, self.port = path, free_port()
        exe = Path(sys.executable).with_name("chroma")
        self.cmd = [str(exe if exe.exists() else shutil.which("chroma") or "chroma"), "run", "--path", str(path),
                    "--host", "127.0.0.1", "--port", str(self.port)]
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 60
        import urllib.request

        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chroma run exited ({self.proc.returncode}); see {log_path}")
            try:
                with urllib.request.urlopen(self.url + "/api/v2/heartbeat", timeout=2):
                    return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"chroma run did not answer on {self.url} within 60 s; see {log_path}")

    def peak_rss_mib(self) -> float | None:
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# =================================================================================================
# The report
# =================================================================================================


def _f(v: Any, fmt: str = "{:.1f}") -> str:
    return "—" if v is None else fmt.format(v)


def _r(a: Any, b: Any) -> str:
    return "—" if not a or b is None else f"{b / a:.2f}×"


def build_markdown(res: dict[str, Any]) -> str:
    meta, m = res["meta"], res["meta"]["machine"]
    L: list[str] = [HEADING, "", "Written by `benchmarks/scale.py` (one command, one run). Command (from the repository root):", "",
                    "```bash", meta["command"], "```", ""]
    L += [f"- **date**: {meta['date']} (total run {meta.get('total_s', 0) / 60:.1f} min{'; INCOMPLETE: ' + meta['incomplete'] if meta.get('incomplete') else ''})",
          f"- **machine**: {m['cpu']}; {m['ram']} RAM; {m['os']}; **python** {m['python']}",
          f"- **code**: commit {m['commit']}",
          f"- **load average** (1 min) at each step: " + "; ".join(f"{k} {v[0]:.1f}→{v[1]:.1f}" for k, v in meta["loads"].items()),
          f"- **questions**: {meta['sample']} of `{meta['squad_name']}`, `random.Random({meta['seed']})` (ids fingerprint `{meta.get('digest', '?')}`), "
          f"{meta['warmup']} unscored warm-up questions, each timed {meta['latency_rounds']} times "
          f"(one fresh process per round and collection, collections in alternating order), fastest kept; "
          f"question-vector cache emptied before each `ask`",
          f"- **answerer**: " + ", ".join(sorted({f"`{v}`" for v in meta.get("answerers", {}).values()}) or ["?"])
          + f" in every querying process (`QA_READER={meta.get('reader')}`)", ""]

    ing = res.get("ingest", {})
    if ing:
        n, q = ing.get("naive"), ing.get("qa")
        L += ["### 1. Ingest throughput", "",
              f"All {meta['paragraphs_n']} paragraphs of `{meta['paragraphs_name']}`, one document each, the real model "
              f"(all-MiniLM-L6-v2, CPU), model load not counted, each system in a fresh process.", "",
              "| | naive llama-index | this project (qa) | qa ÷ naive |", "|---|---:|---:|---:|"]

        def row(label: str, key: str, fmt: str = "{:.1f}") -> None:
            a_, b_ = (n or {}).get(key), (q or {}).get(key)
            L.append(f"| {label} | {_f(a_, fmt)} | {_f(b_, fmt)} | {_r(a_, b_)} |")

        row("chunks indexed", "chunks", "{:.0f}")
        row("sentences embedded and stored as well", "sentences", "{:.0f}")
        row("texts embedded (chunks + sentences)", "texts_embedded", "{:.0f}")
        row("wall time, documents → ready retriever (s)", "wall_s")
        row("CPU time, all threads (s)", "cpu_s")
        row("chunks/s (wall)", "chunks_per_s")
        if q:
            L.append(f"| of which: sync (chunk, embed, write) / BM25 build (s) | | {q['sync_wall_s']:.1f} / {q['bm25_wall_s']:.1f} | |")
            L.append(f"| texts embedded per second (wall) | {_f((n or {}).get('texts_embedded', 0) / (n or {}).get('wall_s', 1) if n else None)} "
                     f"| {q['texts_embedded'] / q['wall_s']:.1f} | |")
        row("index on disk (MiB)", "index_mib")
        row("peak RSS of the process (MiB)", "peak_rss_mib", "{:.0f}")
        L += ["", "The two chunk differently (qa: whole sentences up to 110 words; naive: SentenceSplitter, 1024 tokens), "
              "so chunks/s compares unlike units; this project also embeds and stores every sentence "
              "(about 3 per chunk) and builds BM25, which is why it indexes fewer chunks per second. "
              "Wall/CPU time per *text embedded* is the like-for-like figure for the model's work.", ""]

    sizes = res.get("sizes", [])
    if sizes:
        base = sizes[0]
        L += ["### 2. Query latency vs collection size", "",
              f"Synthetic collections: the {meta['paragraphs_n']} paragraphs repeated with distinct ids (`<id>~r3`), "
              f"gold paragraphs of the questions first. Vectors from a deduplicating embedder: each distinct text embedded once "
              f"(real model), repeats get its vector plus seeded noise of norm {meta['jitter']} (cosine to the original ≈ "
              f"{1 / (1 + meta['jitter'] ** 2) ** 0.5:.3f}); questions embedded by the real model. Embedded Chroma. "
              f"Latencies in ms, p50 / p95 over the questions; ratio = this size ÷ the smallest.", "",
              "| chunks (sentences) | " + " | ".join(f"{s['build']['chunks']:,} ({s['build']['sentences']:,})" for s in sizes) + " |",
              "|---|" + "---:|" * len(sizes)]

        def lat(label: str, key: str) -> None:
            cells = []
            for s in sizes:
                qq = s.get("query")
                if not qq or key not in qq["p50"]:
                    cells.append("—")
                    continue
                cell = f"{qq['p50'][key]:.1f} / {qq['p95'][key]:.1f}"
                if s is not base and base.get("query"):
                    cell += f" ({qq['p50'][key] / base['query']['p50'][key]:.2f}× / {qq['p95'][key] / base['query']['p95'][key]:.2f}×)"
                cells.append(cell)
            L.append(f"| {label} | " + " | ".join(cells) + " |")

        lat("**warm `ask`**, total", "ask_ms")
        lat("`ask`: embed the question", "embed_ms")
        lat("`ask`: retrieve", "retrieve_ms")
        lat("`ask`: answer (sentence vectors + answerer)", "answer_ms")
        lat("`ask` minus the question's embedding", "ask_minus_embed_ms")
        lat("retrieval alone, `engine.retrieve` (incl. embedding)", "retrieval_ms")
        lat("stage: chunk-dense (Chroma)", "chunk_dense_ms")
        lat("stage: sentence-dense (Chroma + node fetch)", "sentence_dense_ms")
        lat("stage: BM25", "bm25_ms")
        lat("stage: fused search (all three + fusion, vector cached)", "fused_ms")
        L.append("| `ask` CPU time, all threads, p50 / p95 | " + " | ".join(
            f"{s['query']['p50']['ask_cpu_ms']:.0f} / {s['query']['p95']['ask_cpu_ms']:.0f}" if s.get("query") else "—" for s in sizes) + " |")
        L.append("| build: sync / BM25 / total (s) | " + " | ".join(
            f"{s['build']['sync_s']:.0f} / {s['build']['bm25_s']:.0f} / {s['build']['build_s']:.0f}" for s in sizes) + " |")
        L.append("| open index in a new process, model loaded (s) | " + " | ".join(_f((s.get("query") or {}).get("open_s"), "{:.2f}") for s in sizes) + " |")
        L.append("| peak RSS, building process (MiB) | " + " | ".join(f"{s['build']['peak_rss_mib']:.0f}" for s in sizes) + " |")
        L.append("| peak RSS, querying process (MiB) | " + " | ".join(_f((s.get("query") or {}).get("peak_rss_mib"), "{:.0f}") for s in sizes) + " |")
        L.append("| index on disk (MiB) | " + " | ".join(f"{s['build']['index_mib']:.0f}" for s in sizes) + " |")
        L.append("| refused (of the questions) | " + " | ".join(str((s.get("query") or {}).get("refused", "—")) for s in sizes) + " |")
        L.append("")
        verdict = res.get("verdict")
        if verdict:
            L += [verdict, ""]
        L += slowed_rounds_note(res)
        if meta.get("not_run"):
            L += [f"Not run: {meta['not_run']}", ""]

    srv = res.get("server")
    if srv:
        e, s_ = srv.get("embedded"), srv.get("server")
        L += ["### 3. Embedded vs server Chroma", "",
              f"The {srv['size']:,}-chunk collection built twice, into the embedded store and into `chroma run` on a loopback port "
              f"(`Config.chroma_url`), the same questions asked of each, in alternating rounds. ms, p50 / p95.", "",
              "| | embedded (PersistentClient) | server (HttpClient) | server ÷ embedded (p50) |", "|---|---:|---:|---:|"]
        for label, key in (("warm `ask`, total", "ask_ms"), ("`ask` minus the question's embedding", "ask_minus_embed_ms"),
                           ("`ask`: retrieve", "retrieve_ms"), ("`ask`: answer", "answer_ms"),
                           ("stage: chunk-dense", "chunk_dense_ms"), ("stage: sentence-dense", "sentence_dense_ms"), ("stage: BM25", "bm25_ms")):
            if e and s_:
                L.append(f"| {label} | {e['p50'][key]:.1f} / {e['p95'][key]:.1f} | {s_['p50'][key]:.1f} / {s_['p95'][key]:.1f} | "
                         f"{_r(e['p50'][key], s_['p50'][key])} |")
        if e and s_:
            L.append(f"| build (s) | {srv['build_embedded']['build_s']:.0f} | {srv['build_server']['build_s']:.0f} | "
                     f"{_r(srv['build_embedded']['build_s'], srv['build_server']['build_s'])} |")
            L.append(f"| peak RSS, querying process (MiB) | {e['peak_rss_mib']:.0f} | {s_['peak_rss_mib']:.0f} (+ server {_f(srv.get('server_peak_rss_mib'), '{:.0f}')}) | |")
        L.append("")
        if srv.get("error"):
            L += [f"Server part failed: {srv['error']}", ""]

    L += ["### How to read this", "",
          "- Ratios within one table were measured minutes apart in one command; absolute times move with the load of this shared "
          "2-core machine (load averages above), ratios much less. CPU-time rows move least.",
          "- Repeated paragraphs are an approximation of a large corpus: BM25 sees the same texts many times (its cost grows with the "
          "postings of the question's terms, as in a real corpus), the vector indexes see near-duplicates rather than 100k unrelated "
          "points (with `--jitter 0.1` the 60 nearest sentences still belonged to 20 distinct chunks at 100k, as at 1k, for the "
          "questions checked; with 0, exact copies would crowd them).",
          "- Full figures, per question: the JSON written by `--json`; its headline figures below.", "",
          "<details><summary>Headline figures as JSON</summary>", "", "```json", compact_json(summary_json(res)), "```", "",
          "</details>", ""]
    return "\n".join(L)


def compact_json(d: dict[str, Any]) -> str:
    """Valid JSON, one line per top-level key (one per element for lists of objects)."""
    lines = []
    for k, v in d.items():
        if isinstance(v, list) and v and isinstance(v[0], dict):
            inner = ",\n".join("  " + json.dumps(x, ensure_ascii=False) for x in v)
            lines.append(f" {json.dumps(k)}: [\n{inner}\n ]")
        else:
            lines.append(f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}")
    return "{\n" + ",\n".join(lines) + "\n}"


def summary_json(res: dict[str, Any]) -> dict[str, Any]:
    """The figures of the tables, without the per-question records."""
    def q(d: dict[str, Any] | None) -> dict[str, Any] | None:
        if not d:
            return None
        r = lambda x: None if x is None else round(x, 2)  # noqa: E731
        return {"p50_ms": {k: r(v) for k, v in d["p50"].items()}, "p95_ms": {k: r(v) for k, v in d["p95"].items()},
                "round_p50_ask_ms": [r(x) for x in d.get("round_p50_ask_ms", [])], "open_s": r(d.get("open_s")),
                "peak_rss_mib": r(d.get("peak_rss_mib")), "refused": d.get("refused"), "questions": d.get("questions")}

    keep = ("chunks", "sentences", "build_s", "build_cpu_s", "sync_s", "bm25_s", "peak_rss_mib", "index_mib", "texts", "embedded_by_model")
    out: dict[str, Any] = {"meta": {k: v for k, v in res["meta"].items() if k not in ("machine",)}}
    if res.get("ingest"):
        out["ingest"] = {k: {kk: (round(vv, 2) if isinstance(vv, float) else vv) for kk, vv in v.items()} for k, v in res["ingest"].items()}
    if res.get("sizes"):
        out["sizes"] = [{"size": s["size"], "build": {k: (round(s["build"][k], 2) if isinstance(s["build"].get(k), float) else s["build"].get(k)) for k in keep},
                         "query": q(s.get("query"))} for s in res["sizes"]]
    if res.get("server"):
        sv = res["server"]
        out["server"] = {"size": sv["size"], "embedded": q(sv.get("embedded")), "server": q(sv.get("server")),
                         "server_process_peak_rss_mib": sv.get("server_peak_rss_mib"), "error": sv.get("error"),
                         "build_s": {k: (sv.get(b) or {}).get("build_s") for k, b in (("embedded", "build_embedded"), ("server", "build_server"))}}
    if res.get("verdict"):
        out["verdict"] = res["verdict"]
    return out


def slowed_rounds_note(res: dict[str, Any]) -> list[str]:
    """Name the querying processes that were slow as a whole (outside load), so nobody reads them as size effects."""
    procs: list[tuple[str, float]] = []
    for s in res.get("sizes", []):
        for i, v in enumerate((s.get("query") or {}).get("round_p50_ask_ms", [])):
            procs.append((f"{s['build']['chunks']:,} chunks round {i + 1}", v))
    srv = res.get("server") or {}
    for key in ("embedded", "server"):
        for i, v in enumerate((srv.get(key) or {}).get("round_p50_ask_ms", [])):
            procs.append((f"{key} {srv.get('size', 0):,} round {i + 1}", v))
    if not procs:
        return []
    fastest = min(v for _, v in procs)
    slow = [(n, v) for n, v in procs if v > 3 * fastest]
    if not slow:
        return []
    return [
        f"**Slowed processes.** Querying processes whose `ask` p50 was over 3× the fastest one's ({fastest:.0f} ms): "
        + "; ".join(f"{n} ({v:.0f} ms)" for n, v in slow)
        + ". In them embedding the question took about 350 ms instead of 10-20 ms, with CPU time close to wall time: "
        "most likely torch's two threads spin-waiting while another job holds the other core (a higher-priority model "
        "training shared these 2 cores while this was written), in phases of a minute or more, so whole processes are hit. A size whose every round was "
        "slowed keeps slowed `ask`, embed and `engine.retrieve` figures; the question's embedding does not depend on "
        "the collection, so compare sizes on the rows without it (`ask` minus the embedding, retrieve, the stages, "
        "answer), which these phases did not move.", ""]


def write_section(path: Path, section: str) -> None:
    """Put ``section`` at the end of ``path`` under the marker, replacing an earlier Scale section."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if MARKER not in text:
        text = text.rstrip("\n") + ("\n\n" if text else "") + MARKER + "\n"
    head, _, tail = text.partition(MARKER)
    # keep other benchmarks' sections below the marker; drop the old Scale one (up to the next "## ")
    kept: list[str] = []
    skipping = False
    for line in tail.splitlines():
        if line.startswith("## "):
            skipping = line.strip() == HEADING
        if not skipping:
            kept.append(line)
    body = "\n".join(kept).strip("\n")
    out = head + MARKER + "\n\n" + (body + "\n\n" if body else "") + section.rstrip("\n") + "\n"
    path.write_text(out, encoding="utf-8")


def merge_rounds(passes: list[dict[str, Any]]) -> dict[str, Any]:
    """One size's query processes (one per round) → per question the fastest time of each figure."""
    first = passes[0]
    per_q: list[dict[str, Any]] = []
    for i, q in enumerate(first["per_question"]):
        rows = [p["per_question"][i] for p in passes]
        assert all(r["id"] == q["id"] for r in rows), "rounds saw different questions"
        per_q.append({k: (q[k] if k == "id" else min(r[k] for r in rows)) for k in q})
    keys = [k for k in per_q[0] if k not in ("id", "refused")]
    return {
        "rounds": len(passes),
        "p50": {k: _pct([b[k] for b in per_q], 50) for k in keys},
        "p95": {k: _pct([b[k] for b in per_q], 95) for k in keys},
        "round_p50_ask_ms": [p["p50"]["ask_ms"] for p in passes],
        "refused": int(sum(b["refused"] for b in per_q)),
        "questions": len(per_q),
        "sample_digest": first["sample_digest"],
        "answerer": first["answerer"],
        "chunks": first["chunks"],
        "open_s": min(p["open_s"] for p in passes),
        "model_load_s": min(p["model_load_s"] for p in passes),
        "peak_rss_mib": max(p["peak_rss_mib"] for p in passes),
        "loads": [(p["load_start"], p["load_end"]) for p in passes],
        "per_question": per_q,
    }


STAGES = ("embed_ms", "chunk_dense_ms", "sentence_dense_ms", "bm25_ms", "answer_ms")


def verdict(lo: dict[str, Any], hi: dict[str, Any]) -> str:
    """Is the issue's goal met (largest size at most GOAL_RATIO × the smallest), and which stage grows."""
    ql, qh = lo["query"], hi["query"]
    ratio = qh["p50"]["ask_ms"] / ql["p50"]["ask_ms"]
    ratio95 = qh["p95"]["ask_ms"] / ql["p95"]["ask_ms"]
    rest = qh["p50"]["ask_minus_embed_ms"] / ql["p50"]["ask_minus_embed_ms"]
    grow = {k: qh["p50"][k] - ql["p50"][k] for k in STAGES}
    top = max(grow, key=lambda k: grow[k])
    name = lambda k: k.removesuffix("_ms").replace("_", "-")  # noqa: E731
    return (
        f"**Goal (issue 5): {hi['build']['chunks']:,} chunks cost at most {GOAL_RATIO:.0f}× the "
        f"{lo['build']['chunks']:,}-chunk latency.** Warm `ask` p50 ratio **{ratio:.2f}×** (p95 {ratio95:.2f}×): "
        f"**{'met' if ratio <= GOAL_RATIO else 'NOT met'}**. Without the question's embedding (which does not depend on the "
        f"collection): {rest:.2f}×. Growth of the p50 by stage: "
        + ", ".join(f"{name(k)} {v:+.1f} ms ({qh['p50'][k] / ql['p50'][k]:.1f}×)" for k, v in grow.items())
        + f"; the stage that grows most is **{name(top)}**."
    )


# =================================================================================================
# The command
# =================================================================================================


def _run(cmd: list[str], what: str, timeout: float | None = None, env: dict[str, str] | None = None) -> bool:
    _log(what)
    try:
        proc = subprocess.run(cmd, cwd=ROOT, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        _log(f"{what}: stopped after {timeout:.0f}s")
        return False
    if proc.returncode != 0:
        _log(f"{what}: failed (exit {proc.returncode})")
    return proc.returncode == 0


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    modes = {"_ingest": ingest_main, "_build": build_main, "_query": query_main}
    if argv[:1] and argv[0] in modes:
        return modes[argv[0]](argv[1:])

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--paragraphs", type=Path, default=None, help="Paragraphs JSONL (e.g. paragraphs-all.jsonl); required unless --render.")
    ap.add_argument("--squad", type=Path, default=None,
                    help="SQuAD v1.1 JSON to sample questions from (default: dev-half.json next to --paragraphs).")
    ap.add_argument("--sizes", default="1000,10000,100000", help="Collection sizes in chunks, comma-separated (default 1000,10000,100000).")
    ap.add_argument("--parts", default="ingest,sizes,server", help="Which parts to run (default ingest,sizes,server).")
    ap.add_argument("--server-size", type=int, default=10000, help="Collection size for embedded vs server Chroma (default 10000).")
    ap.add_argument("--sample", type=int, default=100, help="Questions to sample (default 100).")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--latency-rounds", type=int, default=2)
    ap.add_argument("--reader", default="rules",
                    help="QA_READER for the querying processes (default rules: the extractive answerer, the committed "
                         "default; 'default' leaves the environment as it is).")
    ap.add_argument("--jitter", type=float, default=0.1, help="Noise norm added to repeated texts' vectors (default 0.1; 0: exact duplicates).")
    ap.add_argument("--ingest-limit", type=int, default=0, help="Ingest only the first N paragraphs (development; default all).")
    ap.add_argument("--step-timeout", type=float, default=25 * 60, help="Seconds one build or query step may take (default 1500).")
    ap.add_argument("--workdir", type=Path, default=None, help="Where indexes go (default a new folder in /tmp).")
    ap.add_argument("--keep", action="store_true", help="Keep the work folder.")
    ap.add_argument("--out", type=Path, default=None, help="Write the Markdown section into this file (e.g. benchmarks/RESULTS.md).")
    ap.add_argument("--json", dest="json_out", type=Path, default=None, help="Write every figure as JSON.")
    ap.add_argument("--render", type=Path, default=None,
                    help="Measure nothing: render the Markdown of an earlier --json file (into --out if given).")
    a = ap.parse_args(argv)
    if a.render:
        res = json.loads(a.render.read_text(encoding="utf-8"))
        if a.out:
            write_section(a.out, build_markdown(res))
        print(build_markdown(res))
        return

    if a.paragraphs is None:
        ap.error("--paragraphs is required (a JSONL of SQuAD paragraphs; see --help)")
    squad = a.squad or a.paragraphs.parent / "dev-half.json"
    for path, what in ((a.paragraphs, "paragraph corpus (--paragraphs)"), (squad, "SQuAD file (--squad)")):
        if not path.is_file():
            raise SystemExit(compare._missing(path, what).replace("--corpus", "--paragraphs"))
    sizes = sorted(int(x) for x in a.sizes.split(",") if x.strip())
    parts = {p.strip() for p in a.parts.split(",")}
    started = time.perf_counter()
    workdir = a.workdir or Path(tempfile.mkdtemp(prefix="qa-scale-", dir="/tmp"))
    workdir.mkdir(parents=True, exist_ok=True)
    _log(f"indexes go to {workdir}")
    py, me = sys.executable, str(Path(__file__).resolve())
    questions, _ = compare.sample_squad(squad, a.sample, a.seed, a.warmup)
    first = workdir / "first.json"
    first.write_text(json.dumps([s for q in questions for s in q.sources]), encoding="utf-8")
    cache = workdir / "vectors.npz"
    loads: dict[str, tuple[float, float]] = {}
    res: dict[str, Any] = {"meta": {
        "command": "python benchmarks/scale.py " + " ".join(shlex.quote(x) for x in argv),
        "date": _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"), "machine": compare.machine_info(),
        "sample": a.sample, "seed": a.seed, "reader": a.reader, "warmup": a.warmup, "latency_rounds": a.latency_rounds, "jitter": a.jitter,
        "squad_name": squad.name, "paragraphs_name": a.paragraphs.name, "digest": compare.sample_digest(questions),
        "paragraphs_n": sum(1 for line in open(a.paragraphs, encoding="utf-8") if line.strip()), "loads": loads,
    }}
    qargs = ["--squad", str(squad.resolve()), "--sample", str(a.sample), "--seed", str(a.seed), "--warmup", str(a.warmup),
             "--latency-rounds", "1"]  # rounds are separate processes, interleaved across sizes

    def save() -> None:
        res["meta"]["total_s"] = time.perf_counter() - started
        if a.json_out:
            a.json_out.parent.mkdir(parents=True, exist_ok=True)
            a.json_out.write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
        if a.out:
            write_section(a.out, build_markdown(res))

    env = dict(os.environ)
    if a.reader != "default":
        env["QA_READER"] = a.reader  # the answerer is part of every `ask`: the same one at every size

    def step(name: str, cmd: list[str], result: Path) -> dict[str, Any] | None:
        l0 = os.getloadavg()[0]
        ok = _run(cmd, name, a.step_timeout, env)
        loads[name] = (l0, os.getloadavg()[0])
        return json.loads(result.read_text(encoding="utf-8")) if ok and result.exists() else None

    def slug(name: str) -> str:
        return "".join(ch if ch.isalnum() else "-" for ch in name)

    def build(size: int, index_dir: Path, url: str, name: str) -> dict[str, Any] | None:
        r = workdir / f"{slug(name)}.json"
        shutil.rmtree(index_dir, ignore_errors=True)  # always from scratch (a kept --workdir may hold one)
        return step(name, [py, me, "_build", "--paragraphs", str(a.paragraphs.resolve()), "--first", str(first), "--size", str(size),
                           "--index-dir", str(index_dir), "--chroma-url", url, "--cache", str(cache), "--jitter", str(a.jitter),
                           "--result", str(r)], r)

    def query(index_dir: Path, url: str, name: str) -> dict[str, Any] | None:
        r = workdir / f"{slug(name)}.json"
        got = step(name, [py, me, "_query", *qargs, "--index-dir", str(index_dir), "--chroma-url", url, "--result", str(r)], r)
        if got:
            res["meta"].setdefault("answerers", {})[name] = got.get("answerer")
        return got

    def interleaved(targets: list[tuple[Any, Path, str]], label: str) -> dict[Any, dict[str, Any]]:
        passes: dict[Any, list[dict[str, Any]]] = {key: [] for key, _, _ in targets}
        for r in range(a.latency_rounds):
            for key, index_dir, url in (targets if r % 2 == 0 else targets[::-1]):
                got = query(index_dir, url, label.format(key) + f", round {r + 1}/{a.latency_rounds}")
                if got:
                    passes[key].append(got)
        return {key: merge_rounds(p) for key, p in passes.items() if p}

    try:
        if "ingest" in parts or not cache.exists():
            res["ingest"] = {}
            for system in ("naive", "qa"):  # qa second: it records the vectors the later parts replay
                r = workdir / f"ingest-{system}.json"
                cmd = [py, me, "_ingest", "--system", system, "--paragraphs", str(a.paragraphs.resolve()), "--workdir", str(workdir),
                       "--limit", str(a.ingest_limit), "--result", str(r)] + (["--cache", str(cache)] if system == "qa" else [])
                got = step(f"ingest {system}", cmd, r)
                if got is None:
                    raise SystemExit(f"ingest {system} failed; see above")
                res["ingest"][system] = got
                save()
            if "ingest" not in parts:
                res.pop("ingest")

        if "sizes" in parts:
            res["sizes"] = []
            for size in sizes:
                index_dir = workdir / f"size-{size}"
                b = build(size, index_dir, "", f"build {size}")
                if b is None:
                    res["meta"]["not_run"] = (f"the {size:,}-chunk collection did not finish building within "
                                              f"{a.step_timeout / 60:.0f} min (or failed); larger sizes skipped")
                    shutil.rmtree(index_dir, ignore_errors=True)
                    break
                res["sizes"].append({"size": size, "build": b, "query": None, "dir": str(index_dir)})
                save()
            # Every size is queried once per round, in alternating order (small→large, then large→small, ...),
            # each time by a fresh process; a question keeps its fastest time over the rounds. A slow drift
            # in outside load then hits every size alike, and a burst cannot decide one size's figures.
            got = interleaved([(s["size"], Path(s["dir"]), "") for s in res["sizes"]], f"query {{}}")
            for s in res["sizes"]:
                s["query"] = got.get(s["size"])
            save()
            done = [s for s in res["sizes"] if s.get("query")]
            if len(done) >= 2:
                res["verdict"] = verdict(done[0], done[-1])
                save()
            for s in res["sizes"]:
                if s["size"] != a.server_size and not a.keep:
                    shutil.rmtree(s["dir"], ignore_errors=True)

        if "server" in parts:
            srv: dict[str, Any] = {"size": a.server_size}
            res["server"] = srv
            emb_dir = workdir / f"size-{a.server_size}"
            if not (emb_dir / "manifest.json").exists():
                srv["build_embedded"] = build(a.server_size, emb_dir, "", f"build {a.server_size} (embedded, for the server comparison)")
            else:
                srv["build_embedded"] = next((s["build"] for s in res.get("sizes", []) if s["size"] == a.server_size), None)
            server = None
            shutil.rmtree(workdir / "chroma-server", ignore_errors=True)
            try:
                server = ChromaServer(workdir / "chroma-server", workdir / "chroma-server.log")
                srv["url"] = server.url
                srv_dir = workdir / f"server-{a.server_size}"
                srv["build_server"] = build(a.server_size, srv_dir, server.url, f"build {a.server_size} (server)")
                got = interleaved([("embedded", emb_dir, ""), ("server", srv_dir, server.url)], f"query {a.server_size} ({{}})")
                srv["embedded"], srv["server"] = got.get("embedded"), got.get("server")
                srv["server_peak_rss_mib"] = server.peak_rss_mib()
            except Exception as e:  # report what failed; keep the rest of the results
                srv["error"] = f"{type(e).__name__}: {e}"
            finally:
                if server is not None:
                    server.stop()
            save()
    finally:
        res["meta"]["load_end"] = os.getloadavg()[0]
        save()
        if a.keep:
            _log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if a.out:
        _log(f"wrote {a.out}")
    print(build_markdown(res))


if __name__ == "__main__":
    main()
