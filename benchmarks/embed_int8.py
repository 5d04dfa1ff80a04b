"""Questions embedded in int8 against fp32: does dense retrieval find the same paragraphs?

The SQuAD dev paragraphs are embedded once in fp32 (as ``qa index`` does); a seeded sample of
dev-half questions is embedded by the fp32 export and by its int8 twin (``query_int8``), one
question per pass as the engine does; for each, the paragraph ranked first (recall@1) and in the
top 5 (recall@5) by cosine, and the median ms per question.

    python benchmarks/embed_int8.py --squad ../shared/benchmarks/squad-v1.1/dev-half.json \\
        --corpus ../shared/benchmarks/squad-v1.1/paragraphs-all.jsonl --n 1500 [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def questions(path: str, n: int, seed: int) -> list[tuple[str, str]]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    pairs = [(qa["question"], p["context"]) for a in data for p in a["paragraphs"] for qa in p["qas"]]
    random.Random(seed).shuffle(pairs)
    return pairs[:n]


def measure(embed, qs: list[str], paragraphs: np.ndarray, gold: np.ndarray) -> dict:
    times, vectors = [], []
    for q in qs:
        t = time.perf_counter()
        vectors.append(embed(q))
        times.append((time.perf_counter() - t) * 1000)
    top = np.argsort(-(np.stack(vectors) @ paragraphs.T), axis=1)[:, :5]
    return {"recall_at_1": round(100 * float((top[:, 0] == gold).mean()), 2),
            "recall_at_5": round(100 * float((top == gold[:, None]).any(1).mean()), 2),
            "ms_per_question_median": round(statistics.median(times), 2)}, np.stack(vectors)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--squad", required=True)
    ap.add_argument("--corpus", required=True, help="paragraphs-all.jsonl (id, title, text)")
    ap.add_argument("--n", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json")
    args = ap.parse_args()
    from qa.config import Config
    from qa.runtime import make_embedder

    texts = [json.loads(line)["text"] for line in Path(args.corpus).read_text(encoding="utf-8").splitlines() if line.strip()]
    where = {t: i for i, t in enumerate(texts)}
    sample = [(q, c) for q, c in questions(args.squad, args.n, args.seed) if c in where]
    gold = np.array([where[c] for _, c in sample])
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = make_embedder(Config.resolve(index_dir=tmp, query_int8=False))
        int8 = make_embedder(Config.resolve(index_dir=tmp, query_int8=True))
        paragraphs = fp32.embed_texts(texts)
        out = {"questions": len(sample), "paragraphs": len(texts)}
        out["fp32"], v32 = measure(fp32.embed_query, [q for q, _ in sample], paragraphs, gold)
        out["int8"], v8 = measure(int8.embed_query, [q for q, _ in sample], paragraphs, gold)
        out["int8"]["min_cosine_to_fp32"] = round(float((v8 * v32).sum(1).min()), 4)
    for k in ("fp32", "int8"):
        print(f"{k}: " + ", ".join(f"{a} {b}" for a, b in out[k].items()))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
