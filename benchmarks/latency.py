"""Cold start and warm `ask` latency on the seeds.

    python benchmarks/latency.py [--runs 50]

Cold start: a new process (`qa ask ... --json`) from launch to the printed answer, index already
built, measured 3 times. Warm: `engine.ask` p50/p95 over the questions below, after one warm-up
round, with the query-vector cache emptied before every question. Import costs of the heavy modules are measured in fresh processes to say what dominates.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "Who was sworn in as interim president?",
    "When did the United States launch the military strike?",
    "How many Venezuelan security personnel were killed?",
    "Where did the intense firefights break out?",
    "What did Trump say about the speed of the operation?",
    "How much is the bounty on Maduro?",
    "What is the capital of France?",
    "Why did tensions escalate in Caracas?",
]


def timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=50, help="warm rounds over the question list")
    args = ap.parse_args()
    py = sys.executable
    subprocess.run([py, "-m", "qa.cli", "index"], check=True, capture_output=True, cwd=ROOT)

    imports = {}
    for mod in ("torch", "sentence_transformers", "chromadb", "llama_index.core", "qa.engine"):
        imports[mod] = min(timed([py, "-c", f"import {mod}"]) for _ in range(2))
    baseline = min(timed([py, "-c", "pass"]) for _ in range(2))
    cold = [timed([py, "-m", "qa.cli", "ask", QUESTIONS[0], "--json"]) for _ in range(3)]

    from qa import QA

    engine = QA()
    for q in QUESTIONS:
        engine.ask(q)
    lat = []
    stages: dict[str, list[float]] = {}
    for _ in range(args.runs):
        for q in QUESTIONS:
            engine.embedder.clear()  # a repeated question would skip the model: measure the real path
            a = engine.ask(q)
            lat.append(a.timings["total_ms"])
            for k, v in a.timings.items():
                stages.setdefault(k, []).append(v)
    lat.sort()
    result = {
        "cold_start_s": {"min": round(min(cold), 2), "median": round(statistics.median(cold), 2)},
        "python_startup_s": round(baseline, 2),
        "import_s": {k: round(v - baseline, 2) for k, v in imports.items()},
        "warm_ask_ms": {
            "p50": round(lat[len(lat) // 2], 1),
            "p95": round(lat[int(len(lat) * 0.95)], 1),
            "n": len(lat),
        },
        "warm_stage_median_ms": {k: round(statistics.median(v), 2) for k, v in stages.items()},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
