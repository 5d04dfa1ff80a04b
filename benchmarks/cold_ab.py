"""Cold ``qa ask --json`` of two checkouts of this project, alternating, on the same index.

    git clone -q . /tmp/before && git -C /tmp/before checkout -q 0d097db
    python benchmarks/cold_ab.py --before /tmp/before --runs 7

Both run with this interpreter (the same installed packages) on this checkout's seeds and index;
``python -m qa.cli`` imports the ``qa`` package of the checkout it runs in. Each run is a new
process, launch to printed answer; the order flips every round so a busy machine slows both alike.
Prints each run and the medians; both must give the same answer.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "Who was sworn in as interim president?"


def cold_ask(checkout: Path) -> tuple[float, str]:
    cmd = [sys.executable, "-m", "qa.cli", "--seeds", str(ROOT / "seeds"), "--index", str(ROOT / "index"), "ask", QUESTION, "--json"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")} | {"ANONYMIZED_TELEMETRY": "False"}
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=checkout, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{checkout}: {proc.stderr[-1500:]}")
    answer = json.loads(proc.stdout)
    return wall, f"{answer['short_answer']} / {answer['citations'][0]['doc_id']}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", type=Path, required=True, help="the other checkout (e.g. a clone at an older commit)")
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    sides = {"before": args.before.resolve(), "after": ROOT}
    cold_ask(ROOT)  # the index up to date and its exports made: what `qa index` leaves behind
    times: dict[str, list[float]] = {k: [] for k in sides}
    for i in range(args.runs):
        for name in (("before", "after") if i % 2 == 0 else ("after", "before")):
            wall, said = cold_ask(sides[name])
            times[name].append(wall)
            print(f"{name:6} {wall:5.2f} s  {said}", flush=True)
    for name, ts in times.items():
        print(f"{name}: median {statistics.median(ts):.2f} s, fastest {min(ts):.2f} s ({len(ts)} runs)")


if __name__ == "__main__":
    main()
