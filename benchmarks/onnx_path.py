"""Today's torch path against the ONNX Runtime path, side by side in one run.

    python benchmarks/onnx_path.py                       # everything, defaults below
    python benchmarks/onnx_path.py --cold 5 --warm-rounds 10 --requests 192 --ingest 300 --json /tmp/onnx.json

"torch" is ``QA_ONNX=0``: sentence-transformers embedder, torch reader (fp32 by default; ``QA_READER_INT8=1``
in the environment makes it int8, as the default was before reader v2). "onnx" is the default now:
embedder and fp32 reader on ONNX Runtime.
Every figure is measured for both paths in the same run, alternating, so the ratio holds however
busy the machine is; CPU seconds (all threads of the process) are given beside wall time because
they move much less when other jobs compete for the cores.

* **cold start**: a new ``qa ask QUESTION --json`` process, launch to printed answer, index built
  and exports cached; ``--cold`` runs per path, the order flipped every round.
* **warm ask**: both engines in this process, the latency questions of benchmarks/latency.py asked
  alternately, query-vector cache emptied before each; p50/p95 of ``total_ms`` and the stages.
* **load**: ``benchmarks/load.py`` (32 clients on ``/api/ask``, its own server) once per path.
* **ingest**: ``qa index --source`` of the first ``--ingest`` SQuAD paragraphs into a fresh index.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
PATHS = {"torch": {"QA_ONNX": "0"}, "onnx": {"QA_ONNX": "1"}}
#: only for the load test: what micro-batching brings
VARIANTS = {"onnx_unbatched": {"QA_ONNX": "1", "QA_ONNX_BATCH": "0"}}
PARAGRAPHS = ROOT.parent / "shared" / "benchmarks" / "squad-v1.1" / "paragraphs-all.jsonl"


def _env(path: str) -> dict[str, str]:
    return {**os.environ, "ANONYMIZED_TELEMETRY": "False", **{**PATHS, **VARIANTS}[path]}


def timed_run(cmd: list[str], path: str) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system of the child) and stdout of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=_env(path))
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} ({path}) failed: {proc.stderr[-1500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout


def cold_start(runs: int, question: str) -> dict[str, Any]:
    py = sys.executable
    for path in PATHS:  # index up to date, exports cached: what `qa index` leaves behind
        timed_run([py, "-m", "qa.cli", "index", "--quiet"], path)
    out: dict[str, dict[str, list[float]]] = {p: {"wall": [], "cpu": []} for p in PATHS}
    answers: dict[str, set[str]] = {p: set() for p in PATHS}
    for r in range(runs):
        for path in (list(PATHS) if r % 2 == 0 else list(PATHS)[::-1]):
            wall, cpu, stdout = timed_run([py, "-m", "qa.cli", "ask", question, "--json"], path)
            out[path]["wall"].append(wall)
            out[path]["cpu"].append(cpu)
            answers[path].add(json.loads(stdout).get("short_answer") or "")
    return {p: {"wall_median_s": statistics.median(v["wall"]), "wall_min_s": min(v["wall"]),
                "cpu_median_s": statistics.median(v["cpu"]), "runs": runs, "answers": sorted(answers[p])}
            for p, v in out.items()}


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round((len(xs) - 1) * p / 100)))]


def warm(rounds: int) -> dict[str, Any]:
    from latency import QUESTIONS

    from qa import QA
    from qa.config import Config

    engines = {}
    for path, env in PATHS.items():
        overrides = {"onnx": env["QA_ONNX"] == "1"}
        engines[path] = QA(config=Config.resolve(**overrides))
        for q in QUESTIONS:  # warm-up: models loaded, caches of the store filled
            engines[path].ask(q)
    stats: dict[str, dict[str, list[float]]] = {p: {} for p in PATHS}
    for r in range(rounds):
        for q in QUESTIONS:
            for path in (list(PATHS) if r % 2 == 0 else list(PATHS)[::-1]):
                engine = engines[path]
                engine.embedder.clear()
                c0 = time.process_time()
                a = engine.ask(q)
                cpu_ms = (time.process_time() - c0) * 1000
                for k, v in {**a.timings, "cpu_ms": cpu_ms}.items():
                    stats[path].setdefault(k, []).append(v)
    return {p: {"p50_ms": _pct(v["total_ms"], 50), "p95_ms": _pct(v["total_ms"], 95), "n": len(v["total_ms"]),
                "stage_median_ms": {k: statistics.median(x) for k, x in v.items()}} for p, v in stats.items()}


def load(clients: int, requests: int) -> dict[str, Any]:
    """One run per path, plus the ONNX path with micro-batching off (``QA_ONNX_BATCH=0``)."""
    out = {}
    for path in (*PATHS, "onnx_unbatched"):
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
            target = Path(f.name)
        cmd = [sys.executable, str(ROOT / "benchmarks" / "load.py"), "--clients", str(clients), "--requests", str(requests),
               "--duration", "300", "--json", str(target)]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=_env(path))
        data = json.loads(target.read_text()) if target.stat().st_size else {"error": proc.stderr[-1500:]}
        target.unlink()
        out[path] = {k: data.get(k) for k in ("completed", "errors", "elapsed_s", "throughput_rps", "latency_ms",
                                             "inconsistent_questions", "retries", "error")}
    return out


def ingest(paragraphs: int, rounds: int = 2) -> dict[str, Any]:
    """``qa index --source`` of the first paragraphs into fresh indexes; ``rounds`` per path, the
    order flipped every round; the median round is reported (the faster of two)."""
    if not PARAGRAPHS.is_file():
        return {"skipped": f"{PARAGRAPHS} not found"}
    runs: dict[str, list[dict[str, float]]] = {p: [] for p in PATHS}
    with tempfile.TemporaryDirectory(prefix="qa-ingest-") as tmp:
        src = Path(tmp) / "paragraphs.jsonl"
        with open(PARAGRAPHS, encoding="utf-8") as f:
            src.write_text("".join(line for _, line in zip(range(paragraphs), f)), encoding="utf-8")
        for r in range(rounds):
            for path in (list(PATHS) if r % 2 == 0 else list(PATHS)[::-1]):
                idx = Path(tmp) / f"index-{path}-{r}"
                cmd = [sys.executable, "-m", "qa.cli", "--index", str(idx), "index", "--source", str(src), "--quiet"]
                wall, cpu, stdout = timed_run(cmd, path)
                chunks = int(stdout.split("embedded ")[1].split(" chunks")[0])
                runs[path].append({"chunks": chunks, "wall_s": wall, "cpu_s": cpu})
    out = {}
    for path, rs in runs.items():
        mid = sorted(rs, key=lambda x: x["wall_s"])[(len(rs) - 1) // 2]
        out[path] = {"paragraphs": paragraphs, "chunks": mid["chunks"], "wall_s": mid["wall_s"], "cpu_s": mid["cpu_s"],
                     "chunks_per_s": mid["chunks"] / mid["wall_s"], "rounds": rs}
    return out


def _ratio(a: float | None, b: float | None) -> str:
    return f"{b / a:.2f}×" if a and b is not None else ""


def table(res: dict[str, Any]) -> str:
    rows = []
    c, w, ld, ing = res.get("cold", {}), res.get("warm", {}), res.get("load", {}), res.get("ingest", {})
    if c:
        rows.append(("cold start, new process to printed answer, median (s)", c["torch"]["wall_median_s"], c["onnx"]["wall_median_s"]))
        rows.append(("cold start, fastest run (s)", c["torch"]["wall_min_s"], c["onnx"]["wall_min_s"]))
        rows.append(("cold start, CPU seconds, median", c["torch"]["cpu_median_s"], c["onnx"]["cpu_median_s"]))
    if w:
        rows.append(("warm ask p50 (ms)", w["torch"]["p50_ms"], w["onnx"]["p50_ms"]))
        rows.append(("warm ask p95 (ms)", w["torch"]["p95_ms"], w["onnx"]["p95_ms"]))
        for k in ("embed_ms", "retrieve_ms", "answer_ms", "cpu_ms"):
            rows.append((f"warm ask, median {k.replace('_ms', '')} (ms)", w["torch"]["stage_median_ms"].get(k), w["onnx"]["stage_median_ms"].get(k)))
    if ld and "torch" in ld:
        rows.append((f"load: {res['args']['clients']} clients on /api/ask, throughput (req/s)", ld["torch"]["throughput_rps"], ld["onnx"]["throughput_rps"]))
        rows.append(("load: latency p50 (ms)", ld["torch"]["latency_ms"]["p50"], ld["onnx"]["latency_ms"]["p50"]))
        rows.append(("load: latency p95 (ms)", ld["torch"]["latency_ms"]["p95"], ld["onnx"]["latency_ms"]["p95"]))
        rows.append(("load: errors", ld["torch"]["errors"], ld["onnx"]["errors"]))
        if ld.get("onnx_unbatched", {}).get("throughput_rps"):
            rows.append(("load: ONNX path without micro-batching, throughput (req/s)", ld["torch"]["throughput_rps"], ld["onnx_unbatched"]["throughput_rps"]))
    if ing and "torch" in ing:
        rows.append((f"ingest, {ing['torch']['paragraphs']} SQuAD paragraphs ({ing['torch']['chunks']} chunks), wall (s)", ing["torch"]["wall_s"], ing["onnx"]["wall_s"]))
        rows.append(("ingest, chunks/s", ing["torch"]["chunks_per_s"], ing["onnx"]["chunks_per_s"]))
        rows.append(("ingest, CPU seconds", ing["torch"]["cpu_s"], ing["onnx"]["cpu_s"]))
    fmt = lambda v: "" if v is None else (f"{v:.3g}" if isinstance(v, float) and v < 10 else f"{v:.1f}" if isinstance(v, float) else str(v))
    lines = ["| figure | torch path (today) | ONNX path | ONNX ÷ torch |", "|---|---:|---:|---:|"]
    lines += [f"| {name} | {fmt(a)} | {fmt(b)} | {_ratio(a, b) if isinstance(a, (int, float)) and a else ''} |" for name, a, b in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cold", type=int, default=5, help="cold starts per path (default 5)")
    ap.add_argument("--warm-rounds", type=int, default=10, help="rounds over the 8 latency questions per path (default 10)")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--requests", type=int, default=192, help="requests per load run (default 192)")
    ap.add_argument("--ingest", type=int, default=300, help="SQuAD paragraphs to index per path (default 300; 0 skips)")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: cold,warm,load,ingest")
    ap.add_argument("--json", dest="json_out", type=Path)
    args = ap.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    res: dict[str, Any] = {"args": vars(args) | {"json_out": str(args.json_out)}, "cpus": os.cpu_count(),
                           "loadavg_start": os.getloadavg(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    question = "Who was sworn in as interim president?"
    steps = [("cold", lambda: cold_start(args.cold, question)), ("warm", lambda: warm(args.warm_rounds)),
             ("load", lambda: load(args.clients, args.requests)), ("ingest", lambda: ingest(args.ingest))]
    for name, step in steps:
        if name in skip or (name == "ingest" and not args.ingest):
            continue
        t = time.perf_counter()
        res[name] = step()
        res[f"{name}_seconds"] = time.perf_counter() - t
        print(f"{name}: done in {res[f'{name}_seconds']:.0f}s (load average {os.getloadavg()[0]:.1f})", file=sys.stderr)
        if args.json_out:
            args.json_out.write_text(json.dumps(res, indent=1, default=str), encoding="utf-8")
    res["loadavg_end"] = os.getloadavg()
    print(table(res))
    print(f"\nload average (1/5/15 min) at start {res['loadavg_start']}, at end {res['loadavg_end']}; {res['cpus']} CPUs")
    if args.json_out:
        args.json_out.write_text(json.dumps(res, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
