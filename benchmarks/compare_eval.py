"""Are two `qa eval --json` reports the same, apart from timing? (the torch and ONNX paths)

    QA_ONNX=0 qa eval --gold gold/seeds.jsonl --json torch.json                   # torch reads in fp32
    QA_ONNX=1 QA_READER_INT8=0 qa eval --gold gold/seeds.jsonl --json onnx.json   # the ONNX path in fp32
    python benchmarks/compare_eval.py torch.json onnx.json

Compares every figure of ``overall`` and the breakdowns, and every question's prediction, refusal,
citations and scores; latency and timing fields are left out, confidences are compared to 1e-4.
Prints the differences (none: "identical") and exits 1 if there are any.
"""

from __future__ import annotations

import json
import sys
from typing import Any

SKIP = ("latency", "_ms", "seconds", "timings", "date", "started", "commit", "command", "elapsed")


def _skip(key: str) -> bool:
    return any(s in key for s in SKIP)


def diff(a: Any, b: Any, where: str = "", tol: float = 1e-4) -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if not _skip(str(k)):
                out += diff(a.get(k), b.get(k), f"{where}.{k}", tol)
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} vs {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in diff(x, y, f"{where}[{i}]", tol)]
    if isinstance(a, float) and isinstance(b, float):
        return [] if abs(a - b) <= tol else [f"{where}: {a} vs {b}"]
    return [] if a == b else [f"{where}: {a!r} vs {b!r}"]


def main(argv: list[str]) -> int:
    a, b = (json.load(open(p, encoding="utf-8")) for p in argv[:2])
    found = diff({k: v for k, v in a.items() if k != "meta"}, {k: v for k, v in b.items() if k != "meta"})
    n = len(a.get("questions", []))
    print(f"{argv[0]} vs {argv[1]}: {n} questions, " + ("identical" if not found else f"{len(found)} differences"))
    for d in found[:40]:
        print("  " + d)
    overall = a.get("overall", {})
    keys = [k for k in ("exact_match", "f1", "correct_with_citation", "refusal_accuracy", "doc_hit@1", "paragraph_recall@1") if k in overall]
    print("  " + ", ".join(f"{k} {overall[k]} / {b['overall'].get(k)}" for k in keys))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
