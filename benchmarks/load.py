"""Load test: N concurrent clients asking ``POST /api/ask`` on loopback.

    python benchmarks/load.py                                  # own server over seeds/ + index/, 32 clients
    python benchmarks/load.py --clients 32 --requests 640 --duration 120 --json load.json
    python benchmarks/load.py --url http://127.0.0.1:7860/     # a server that is already running

Each client is a thread with its own HTTP connection (httpx), asking the gold-set questions
(``gold/seeds.jsonl``) round-robin from a shared counter, until ``--requests`` have been sent or
``--duration`` seconds have passed, whichever comes first. Without ``--url`` the script starts the
real server (``qa.server.create_app``: Gradio chat, REST and OpenAI routes) in this process on a
free loopback port, after bringing the index up to date and loading the model, so start-up is not
measured.

Reported (printed table, and JSON with ``--json``): requests completed, errors (any non-200 status,
a body that is not an answer, a timeout or a connection error; the first few are quoted), elapsed
seconds, throughput (completed requests per second over the whole run), latency p50/p95/p99, mean
and max in milliseconds (client side: request sent to body read), and answer consistency: the same
question must get the same answer text every time it is asked.

Connections are pooled (one per client) and kept alive for at most 5 s idle, well under the
server's keep-alive timeout (``QA_KEEP_ALIVE``, 30 s), so the server never closes a connection just
as a client reuses it. Should a pooled connection still drop before any response (the server
restarted, a proxy closed it), the question is sent once more on a fresh connection: asking is
read-only, so that is safe; it is counted under ``retries`` and its latency includes both tries.

:func:`run_load` is what ``tests/test_load.py`` calls.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "gold" / "seeds.jsonl"


def gold_questions(path: Path = GOLD) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["question"] for line in f if line.strip()]


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (0-100) with linear interpolation between closest ranks."""
    if not values:
        return float("nan")
    xs = sorted(values)
    k = (len(xs) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


@dataclass
class LoadReport:
    url: str
    clients: int
    requested: int
    duration_limit_s: float
    completed: int = 0
    errors: int = 0
    elapsed_s: float = 0.0
    throughput_rps: float = 0.0
    latency_ms: dict[str, float] = field(default_factory=dict)
    status_counts: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    questions: int = 0
    inconsistent_questions: list[str] = field(default_factory=list)
    refused: int = 0
    stopped_by: str = ""
    retries: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def table(self) -> str:
        lat = self.latency_ms
        rows = [
            ("url", self.url),
            ("clients", str(self.clients)),
            ("requests completed", f"{self.completed} of {self.requested} (stopped by {self.stopped_by})"),
            ("errors", str(self.errors)),
            ("elapsed", f"{self.elapsed_s:.1f} s"),
            ("throughput", f"{self.throughput_rps:.1f} req/s"),
            ("latency p50 / p95 / p99", f"{lat.get('p50', 0):.0f} / {lat.get('p95', 0):.0f} / {lat.get('p99', 0):.0f} ms"),
            ("latency mean / max", f"{lat.get('mean', 0):.0f} / {lat.get('max', 0):.0f} ms"),
            ("answers consistent", "yes" if not self.inconsistent_questions else f"NO: {len(self.inconsistent_questions)} questions"),
            ("answers that were refusals", str(self.refused)),
            ("retried after a dropped connection", str(self.retries)),
        ]
        w = max(len(k) for k, _ in rows)
        lines = [f"| {'figure'.ljust(w)} | value |", f"|{'-' * (w + 2)}|-------|"]
        lines += [f"| {k.ljust(w)} | {v} |" for k, v in rows]
        for s in self.error_samples:
            lines.append(f"  error: {s}")
        return "\n".join(lines)


def run_load(url: str, questions: list[str], clients: int = 32, requests: int = 320, duration: float = 60.0,
             timeout: float = 120.0, route: str = "api/ask") -> LoadReport:
    """Send up to ``requests`` questions from ``clients`` threads, for at most ``duration`` seconds."""
    import httpx

    if not questions:
        raise ValueError("no questions to ask")
    url = url if url.endswith("/") else url + "/"
    report = LoadReport(url=url, clients=clients, requested=requests, duration_limit_s=duration, questions=len(questions))
    lock = threading.Lock()
    next_index = [0]
    latencies: list[float] = []
    answers: dict[str, set[str]] = {}
    statuses: dict[str, int] = {}
    errors: list[str] = []
    refused = [0]
    retried = [0]
    start_gate = threading.Barrier(clients + 1)
    deadline = [0.0]

    def take() -> int | None:
        with lock:
            if next_index[0] >= requests or time.monotonic() >= deadline[0]:
                return None
            i = next_index[0]
            next_index[0] += 1
            return i

    def post(http: Any, q: str) -> Any:
        """One question; once more on a fresh connection if the pooled one dropped before any response."""
        try:
            return http.post(url + route, json={"question": q})
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.ConnectError):
            with lock:
                retried[0] += 1
            return http.post(url + route, json={"question": q})

    def client() -> None:
        # keepalive_expiry (5 s) well under the server's keep-alive timeout (QA_KEEP_ALIVE, 30 s)
        with httpx.Client(timeout=timeout, limits=httpx.Limits(max_connections=1, keepalive_expiry=5.0)) as http:
            start_gate.wait()
            while (i := take()) is not None:
                q = questions[i % len(questions)]
                t0 = time.perf_counter()
                problem = None
                status = "exception"
                try:
                    r = post(http, q)
                    status = str(r.status_code)
                    body = r.json() if r.status_code == 200 else None
                    if r.status_code != 200:
                        problem = f"HTTP {r.status_code}: {r.text[:200]}"
                    elif not isinstance(body, dict) or not isinstance(body.get("text"), str) or "citations" not in body:
                        problem = f"not an answer: {r.text[:200]}"
                except Exception as e:  # noqa: BLE001 - every failure is counted, none stops the run
                    problem = f"{type(e).__name__}: {e}"
                    body = None
                ms = (time.perf_counter() - t0) * 1000
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1
                    if problem:
                        errors.append(f"{q!r}: {problem}")
                    else:
                        latencies.append(ms)
                        answers.setdefault(q, set()).add(body["text"])
                        refused[0] += bool(body.get("refused"))

    threads = [threading.Thread(target=client, name=f"load-client-{n}", daemon=True) for n in range(clients)]
    for t in threads:
        t.start()
    t_start = time.monotonic()
    deadline[0] = t_start + duration
    start_gate.wait()
    for t in threads:
        t.join()
    report.elapsed_s = time.monotonic() - t_start
    report.completed = len(latencies)
    report.errors = len(errors)
    report.error_samples = errors[:5]
    report.status_counts = dict(sorted(statuses.items()))
    report.throughput_rps = report.completed / report.elapsed_s if report.elapsed_s else 0.0
    report.latency_ms = {
        "p50": percentile(latencies, 50), "p95": percentile(latencies, 95), "p99": percentile(latencies, 99),
        "mean": sum(latencies) / len(latencies) if latencies else float("nan"), "max": max(latencies, default=float("nan")),
    }
    report.inconsistent_questions = sorted(q for q, texts in answers.items() if len(texts) > 1)
    report.refused = refused[0]
    report.retries = retried[0]
    report.stopped_by = "request count" if next_index[0] >= requests else "duration"
    return report


def start_server(seeds: str | None, index: str | None) -> tuple[Any, str]:
    """The real server over ``seeds``/``index`` (project defaults), in this process, on a free port."""
    from qa import QA
    from qa.config import ServeSettings
    from qa.server import create_app, prepare_engine

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the test scaffolding's server thread
    from tests.webserver import ServerThread, free_port

    options = {k: v for k, v in {"seeds_dir": seeds, "index_dir": index}.items() if v}
    engine = QA(**options)
    prepare_engine(engine)
    port = free_port()
    app = create_app(engine, ServeSettings(host="127.0.0.1", port=port))
    server = ServerThread(app, host="127.0.0.1", port=port).start()
    return server, server.url


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="a running server (default: start one in this process)")
    ap.add_argument("--clients", type=int, default=32, help="concurrent clients (default 32)")
    ap.add_argument("--requests", type=int, default=320, help="requests to send in all (default 320)")
    ap.add_argument("--duration", type=float, default=120.0, help="stop sending after this many seconds (default 120)")
    ap.add_argument("--timeout", type=float, default=120.0, help="per-request timeout in seconds (default 120)")
    ap.add_argument("--questions", type=Path, default=GOLD, help="gold-format JSONL whose questions are asked (default gold/seeds.jsonl)")
    ap.add_argument("--warmup", type=int, default=8, help="sequential requests before measuring (default 8)")
    ap.add_argument("--seeds", help="documents folder for the server started here")
    ap.add_argument("--index", help="index folder for the server started here")
    ap.add_argument("--json", dest="json_out", type=Path, help="write the report as JSON here")
    args = ap.parse_args(argv)
    if args.clients < 1 or args.requests < 1 or args.duration <= 0:
        ap.error("--clients, --requests and --duration must be positive")

    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    server = None
    url = args.url
    if not url:
        print("starting the server (index up to date, model loaded)...", file=sys.stderr)
        server, url = start_server(args.seeds, args.index)
    try:
        questions = gold_questions(args.questions)
        if args.warmup:
            run_load(url, questions, clients=1, requests=args.warmup, duration=args.duration, timeout=args.timeout)
        report = run_load(url, questions, clients=args.clients, requests=args.requests, duration=args.duration, timeout=args.timeout)
    finally:
        if server is not None:
            server.stop()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(report.table())
    if load:
        print(f"  machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min)")
    if args.json_out:
        data = report.to_dict() | {"cpus": os.cpu_count(), "loadavg": list(load) if load else None,
                                   "command": " ".join(["python", "benchmarks/load.py", *(argv if argv is not None else sys.argv[1:])])}
        args.json_out.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
        print(f"wrote {args.json_out}", file=sys.stderr)
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
