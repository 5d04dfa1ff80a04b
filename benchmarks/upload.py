"""Benchmark: what one upload costs (``QA.add_document``), on a small and on a larger collection.

    python benchmarks/upload.py --paragraphs ../shared/benchmarks/squad-v1.1/paragraphs-all.jsonl

Two collections, each indexed first (not timed as part of an upload): (a) the seeds, (b) a folder of
``--folder-docs`` SQuAD paragraphs (default 300), one ``.txt`` document each, written into a
temporary folder. Into each, documents of ``--sizes`` bytes (default 256 kB and 1 MB) are uploaded
through ``engine.add_document`` (the web upload's path), one after the other. Upload texts are SQuAD
paragraphs that are *not* in the folder, joined by blank lines up to the size. The real packaged
model embeds; a counting wrapper records how many texts it embeds.

For each upload it prints: the upload's chunks, the texts embedded (its chunks plus each of their
sentences), chunks copied (0: nothing of the collection is copied), seconds in all, of which
embedding (``prepare_append``, no lock held) and writing + committing (``commit_append``, under the
writer lock), seconds per MB, and how long the background BM25 rebuild took after it returned
(``wait_bm25``; the old BM25 answers meanwhile). Figures move with the machine's load: the load
average before and after, and this process's CPU seconds, are printed too. ``--json FILE`` keeps
everything. Work folders are under ``--workdir`` (default a new temporary folder), removed at the end
unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


class CountingEmbedder:
    """Wraps an embedder and counts the texts it embeds (questions excluded)."""

    def __init__(self, inner):
        self.inner = inner
        self.texts = 0

    @property
    def name(self):
        return self.inner.name

    @property
    def dimension(self):
        return self.inner.dimension

    @property
    def batch_size(self):
        return getattr(self.inner, "batch_size", 64)

    def embed_texts(self, texts, progress=None):
        self.texts += len(texts)
        return self.inner.embed_texts(texts, progress)

    def embed_query(self, text):
        return self.inner.embed_query(text)


def parse_size(s: str) -> int:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kKmM]?)[bB]?", s.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {s!r} (e.g. 256k, 1m, 50000)")
    return int(float(m.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[m.group(2).lower()])


def read_paragraphs(path: Path) -> list[dict]:
    if not path.is_file():
        sys.exit(f"paragraphs file not found: {path} (a JSONL of {{\"id\", \"title\", \"text\"}} per line, e.g. SQuAD's)")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def upload_text(paragraphs: list[dict], size: int) -> tuple[str, list[dict]]:
    """Paragraphs joined by blank lines up to ``size`` UTF-8 bytes; returns the text and what is left."""
    parts: list[str] = []
    used = 0
    i = 0
    while i < len(paragraphs) and used < size:
        p = paragraphs[i]["text"].strip() + "\n\n"
        n = len(p.encode("utf-8"))
        if used + n > size:
            p = p.encode("utf-8")[: size - used].decode("utf-8", "ignore")
            n = len(p.encode("utf-8"))
        parts.append(p)
        used += n
        i += 1
    if used < size:
        sys.exit(f"not enough paragraphs left for a {size:,}-byte upload")
    return "".join(parts), paragraphs[i:]


def load_average() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        return "?"


def run_collection(label: str, seeds: Path, index: Path, uploads: list[tuple[str, str]]) -> dict:
    from qa import QA
    from qa.answer import ExtractiveAnswerer
    from qa.config import Config
    from qa.runtime import make_embedder

    config = Config.resolve(seeds_dir=seeds, index_dir=index)
    emb = CountingEmbedder(make_embedder(config))  # the engine's own embedder (ONNX Runtime unless QA_ONNX=0)
    engine = QA(config=config, embedder=emb, answerer=ExtractiveAnswerer())  # rules: no reader to load
    t0 = time.perf_counter()
    report = engine.index()
    engine.store.wait_bm25()
    built = time.perf_counter() - t0
    engine.ask("warm up the model")
    out = {"collection": label, "documents": report.documents, "chunks": engine.store.count(),
           "index_seconds": round(built, 1), "uploads": []}
    print(f"\n{label}: {report.documents} documents, {out['chunks']} chunks (indexed in {built:.0f} s)", flush=True)

    store = engine.store
    phases: dict[str, float] = {}
    for method in ("prepare_append", "commit_append"):
        real = getattr(store, method)

        def timed(*a, _real=real, _m=method, **k):
            t = time.perf_counter()
            try:
                return _real(*a, **k)
            finally:
                phases[_m] = time.perf_counter() - t

        setattr(store, method, timed)

    for name, text in uploads:
        data = text.encode("utf-8")
        mb = len(data) / (1024 * 1024)
        before_chunks = store.count()
        texts0 = emb.texts
        steps: list[tuple[float, int, int]] = []
        phases.clear()
        load0, cpu0 = load_average(), time.process_time()
        t = time.perf_counter()
        added = engine.add_document(name, data, progress=lambda d, n: steps.append((time.perf_counter() - t, d, n)))
        seconds = time.perf_counter() - t
        cpu = time.process_time() - cpu0
        tb = time.perf_counter()
        engine.store.wait_bm25()
        bm25_seconds = time.perf_counter() - tb
        hits = engine.retrieve(text.split("\n\n")[len(text.split("\n\n")) // 2][:200])
        row = {
            "upload": name, "bytes": len(data), "chunks_before": before_chunks, "chunks": added.chunks,
            "texts_embedded": emb.texts - texts0, "chunks_copied": added.report.chunks_copied,
            "appended": added.report.appended, "seconds": round(seconds, 2),
            "embed_seconds": round(phases.get("prepare_append", 0.0), 2),
            "commit_seconds": round(phases.get("commit_append", 0.0), 2),
            "seconds_per_mb": round(seconds / mb, 1), "bm25_background_seconds": round(bm25_seconds, 2),
            "progress_updates": len(steps), "first_progress_s": round(steps[1][0], 2) if len(steps) > 1 else None,
            "cpu_seconds": round(cpu, 1), "load_before": load0, "load_after": load_average(),
            "found_by_a_passage": bool(hits) and hits[0].chunk.doc_id == name,
        }
        row["embedder"] = type(emb.inner).__name__
        out["uploads"].append(row)
        print(f"  {name}: {len(data) / 1024:,.0f} kB, {row['chunks']} chunks, {row['texts_embedded']} texts embedded, "
              f"{row['chunks_copied']} copied; {seconds:.1f} s (embed {row['embed_seconds']} s, write+commit "
              f"{row['commit_seconds']} s) = {row['seconds_per_mb']} s/MB; BM25 rebuilt in the background in "
              f"{bm25_seconds:.1f} s; {len(steps)} progress updates; load {load0} -> {row['load_after']}", flush=True)
    store.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--paragraphs", type=Path, default=ROOT.parent / "shared/benchmarks/squad-v1.1/paragraphs-all.jsonl")
    ap.add_argument("--folder-docs", type=int, default=300, help="documents of the larger collection (default 300)")
    ap.add_argument("--sizes", default="256k,1m", help="upload sizes, comma-separated (default 256k,1m)")
    ap.add_argument("--only", choices=("seeds", "folder"), help="one collection only")
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    paragraphs = read_paragraphs(args.paragraphs)
    folder_paras, rest = paragraphs[: args.folder_docs], paragraphs[args.folder_docs :]
    uploads = []
    for size in sizes:
        text, rest = upload_text(rest, size)
        uploads.append((f"upload-{size // 1024}k.txt", text))
    work = args.workdir or Path(tempfile.mkdtemp(prefix="qa-upload-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"work folder {work}; machine: {os.cpu_count()} CPUs, load {load_average()}", flush=True)
    results = []
    try:
        if args.only in (None, "seeds"):
            seeds = work / "seeds"
            shutil.copytree(ROOT / "seeds", seeds)
            results.append(run_collection("(a) the seeds", seeds, work / "seeds-index", uploads))
        if args.only in (None, "folder"):
            folder = work / "folder"
            folder.mkdir()
            for p in folder_paras:
                name = re.sub(r"[^A-Za-z0-9._-]+", "_", p["id"]) + ".txt"
                (folder / name).write_text(f"{p.get('title', '').replace('_', ' ')}\n\n{p['text']}\n", encoding="utf-8")
            results.append(run_collection(f"(b) {len(folder_paras)} SQuAD paragraphs", folder, work / "folder-index", uploads))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print("\n| collection | chunks before | upload | chunks | texts embedded | copied | seconds | s/MB | BM25 in background |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        for u in r["uploads"]:
            print(f"| {r['collection']} | {u['chunks_before']:,} | {u['bytes'] / 1024:,.0f} kB | {u['chunks']:,} | "
                  f"{u['texts_embedded']:,} | {u['chunks_copied']} | {u['seconds']:.1f} | {u['seconds_per_mb']:.0f} | "
                  f"{u['bm25_background_seconds']:.1f} s |")
    if args.json:
        args.json.write_text(json.dumps({"load_end": load_average(), "results": results}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
