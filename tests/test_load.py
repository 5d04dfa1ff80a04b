"""A short load test against the real server: 32 concurrent clients on /api/ask.

The server is the one the web tests share (``tests/webserver.py``: real model, real Chroma, Gradio,
REST and OpenAI routes on a loopback port). ``benchmarks/load.py``'s :func:`run_load` sends 160
gold-set questions from 32 threads at once (time-bounded); every request must succeed with an
answer, the same question must always get the same answer, and the server must still answer
correctly afterwards on both APIs.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tests import webserver
from tests.conftest import ROOT
from tests.webserver import INTERIM_DOC, INTERIM_Q

pytestmark = [pytest.mark.integration, pytest.mark.load]

CLIENTS = 32
REQUESTS = 160
DURATION_S = 240  # a bound for a very slow machine; 160 requests take 10-30 s on 2 busy cores


def _load_module():
    spec = importlib.util.spec_from_file_location("qa_bench_load", ROOT / "benchmarks" / "load.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")  # the same server as test_web's: started once, stopped at the end
def live(tmp_path_factory):
    server = webserver.live_server(tmp_path_factory)
    yield server
    webserver.stop_live_server()


def test_percentile_interpolates():
    load = _load_module()
    assert load.percentile([5.0], 99) == 5.0
    assert load.percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert load.percentile(list(map(float, range(101))), 95) == 95.0


def test_32_clients_no_errors_and_the_server_still_answers(live):
    import httpx

    load = _load_module()
    questions = load.gold_questions()
    report = load.run_load(live.url, questions, clients=CLIENTS, requests=REQUESTS, duration=DURATION_S, timeout=120)
    print("\n" + report.table())
    assert report.errors == 0, report.error_samples
    assert report.status_counts == {"200": report.completed}
    assert report.completed == REQUESTS or (report.stopped_by == "duration" and report.completed >= CLIENTS)
    assert report.inconsistent_questions == []
    assert report.throughput_rps > 0 and report.latency_ms["p50"] <= report.latency_ms["p95"] <= report.latency_ms["p99"]

    r = httpx.post(live.url + "api/ask", json={"question": INTERIM_Q}, timeout=60)
    assert r.status_code == 200 and r.json()["short_answer"] == "Delcy Rodríguez"
    assert r.json()["citations"][0]["doc_id"] == INTERIM_DOC
    r = httpx.post(live.url + "v1/chat/completions", json={"messages": [{"role": "user", "content": INTERIM_Q}]}, timeout=60)
    assert r.status_code == 200 and r.json()["answer"]["short_answer"] == "Delcy Rodríguez"
