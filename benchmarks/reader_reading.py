"""A reader alone, without the engine: F1/EM reading each question's whole paragraph, or only the
window that holds the answer (the sentence with one neighbour each side), and optionally the same
reader in ONNX Runtime int8 beside fp32 (F1, the share of reads with the same top span, ms per read).
With ``--unanswerable`` (SQuAD 2.0's unanswerable questions on the same paragraphs), how well the
reader's own no-answer margin (best span score minus the [CLS] score) tells them from the answerable
ones: ROC AUC, and the share refused where 10 % of answerable questions are.

    python benchmarks/reader_reading.py --squad ../shared/benchmarks/squad-v1.1/dev-half.json --n 500 \\
        --reader packaged --reader /path/to/other/reader [--answer-window] [--int8] \\
        [--unanswerable ../shared/benchmarks/squad-v2.0/dev-half-unanswerable.json]

Seeded sample (``random.Random(seed)`` over the questions in file order). Runs on ONNX Runtime (fp32).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def sample(path: str, n: int, seed: int):
    from qa.reader.data import examples_of, read_squad

    examples = examples_of(read_squad(path))
    random.Random(seed).shuffle(examples)
    return examples[:n]


def read_all(reader, examples, answer_window: bool):
    """(F1, EM, spans, ms per read) of ``reader``'s best span on each example."""
    from qa.eval.metrics import exact_match, f1
    from qa.reader.data import _sentence_spans, positive_window

    cache: dict = {}
    f = e = 0.0
    spans = []
    t = time.perf_counter()
    for ex in examples:
        if answer_window:
            ex = positive_window(ex, _sentence_spans(ex.context, cache), 1)
        best = reader.read(ex.question, [ex.context], top=1)[0]
        pred = ex.context[best[0].start : best[0].end] if best else ""
        spans.append((best[0].start, best[0].end) if best else None)
        f += f1(pred, ex.answers)
        e += exact_match(pred, ex.answers)
    ms = 1000 * (time.perf_counter() - t) / len(examples)
    return 100 * f / len(examples), 100 * e / len(examples), spans, ms


def unanswerable_sample(path: str, n: int, seed: int) -> list[tuple[str, str]]:
    import json

    rows = [(q["question"], p["context"]) for a in json.loads(Path(path).read_text(encoding="utf-8"))["data"]
            for p in a["paragraphs"] for q in p["qas"]]
    random.Random(seed).shuffle(rows)
    return rows[:n]


def margins(reader, pairs: list[tuple[str, str]]) -> list[float]:
    """The best span's margin over the no-answer score, per (question, paragraph)."""
    out = []
    for q, ctx in pairs:
        best = reader.read(q, [ctx], top=1)[0]
        out.append(best[0].margin if best and best[0].margin is not None else float("-inf"))
    return out


def refusal_report(reader, examples, unanswerable: list[tuple[str, str]]) -> str:
    pos = margins(reader, [(e.question, e.context) for e in examples])
    neg = margins(reader, unanswerable)
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    auc = wins / (len(pos) * len(neg))
    cut = sorted(pos)[len(pos) // 10]  # refusing below this refuses 10 % of answerable questions
    refused = 100 * sum(n < cut for n in neg) / len(neg)
    return f"no-answer margin: ROC AUC {auc:.3f}; at 10 % answerable refused, {refused:.1f} % of {len(neg)} unanswerable refused"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--squad", required=True)
    ap.add_argument("--reader", action="append", default=[], help="reader spec (repeat); default: packaged")
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--answer-window", action="store_true", help="read only the window holding the answer")
    ap.add_argument("--int8", action="store_true", help="also read with the int8 twin and compare")
    ap.add_argument("--unanswerable", default="", help="SQuAD 2.0 unanswerable questions: how well the margin refuses them")
    args = ap.parse_args(argv)
    from qa.runtime.reader import OnnxReader

    examples = sample(args.squad, args.n, args.seed)
    what = "answer's sentence ±1" if args.answer_window else "whole paragraph"
    for spec in args.reader or ["packaged"]:
        f, e, spans, ms = read_all(OnnxReader(spec), examples, args.answer_window)
        print(f"{spec}: {what}, {len(examples)} q: F1 {f:.1f} EM {e:.1f} ({ms:.1f} ms/read, fp32)", flush=True)
        if args.int8:
            f8, e8, spans8, ms8 = read_all(OnnxReader(spec, quantize=True), examples, args.answer_window)
            same = 100 * sum(a == b for a, b in zip(spans, spans8)) / len(spans)
            print(f"{spec}: int8: F1 {f8:.1f} EM {e8:.1f} ({ms8:.1f} ms/read); same top span {same:.1f} %", flush=True)
        if args.unanswerable:
            print(f"{spec}: " + refusal_report(OnnxReader(spec), examples, unanswerable_sample(args.unanswerable, args.n, args.seed)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
