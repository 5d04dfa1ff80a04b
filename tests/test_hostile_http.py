"""Hostile battery, HTTP part: oversized bodies, a vector store that goes away, and small API edges.

Like ``tests/test_hostile.py``: the real engine (real model, real Chroma) on a private copy of the
seed index, served by the real server (``qa.server.create_app`` under uvicorn) on a loopback port,
called over real HTTP with ``http.client``, ``requests`` and ``httpx``.

* Bodies over the limit (1 MB by default, ``QA_MAX_BODY_BYTES``) get 413 with a JSON error at once,
  with or without Content-Length (chunked), on ``/api/ask`` and ``/v1/chat/completions``; the same
  connection and the server keep answering. A long question within the limit is cut, and only the
  cut text comes back.
* A Chroma server (``QA_CHROMA_URL``) killed under traffic: every request gets an answer or a 503
  JSON error naming the store and how to start it, one warning is logged for the outage (not one per
  request, no traceback), and answers come back by themselves once it runs again on the same port.
* Gradio ``/chat`` with a null message, ``top_k`` validation, one warning line (no traceback) for
  rejected input, and idle keep-alive connections outliving uvicorn's old 5 s default.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import SEEDS
from tests.test_hostile import INTERIM, INTERIM_Q, assert_sensible, copy_seed_engine, corpus_texts

pytestmark = pytest.mark.integration

MB = 1024 * 1024
JSON = {"content-type": "application/json"}
QUICK_S = 10.0  # a refused body must not be read, parsed or answered: well under this even on a busy machine


@pytest.fixture(scope="module")
def site(seed_engine, tmp_path_factory):
    """A server with the default settings (1 MB body limit) over a private copy of the seed index."""
    from qa.config import ServeSettings
    from qa.server import create_app
    from tests.webserver import ServerThread, free_port

    engine = copy_seed_engine(seed_engine, tmp_path_factory.mktemp("hostile-http"))
    port = free_port()
    settings = ServeSettings(host="127.0.0.1", port=port, max_upload_bytes=64 * 1024)
    assert settings.max_body_bytes == MB and settings.keep_alive_s == 30
    server = ServerThread(create_app(engine, settings), host="127.0.0.1", port=port).start()
    yield {"engine": engine, "url": server.url, "port": port, "texts": corpus_texts(engine.config.seeds_dir)}
    server.stop()


def _answers(site: dict, conn: http.client.HTTPConnection | None = None) -> None:
    """The server (on ``conn`` if given, else a new connection) still answers the interim question."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", site["port"], timeout=120)
    try:
        conn.request("POST", "/api/ask", body=json.dumps({"question": INTERIM_Q}), headers=JSON)
        r = conn.getresponse()
        body = r.read()
        assert r.status == 200, body[:300]
        assert json.loads(body)["short_answer"] == INTERIM
    finally:
        if own:
            conn.close()


def _ask_body(route: str, question: str) -> bytes:
    if route == "/api/ask":
        return json.dumps({"question": question}).encode()
    return json.dumps({"messages": [{"role": "user", "content": question}]}).encode()


def _check_413(route: str, status: int, body: bytes, size: int | None) -> None:
    assert status == 413, body[:300]
    err = json.loads(body)["error"]
    if route.startswith("/v1/"):
        assert err["type"] == "invalid_request_error" and err["code"] == "request_too_large"
        err = err["message"]
    assert "1,048,576-byte limit" in err and "QA_MAX_BODY_BYTES" in err
    if size is not None:
        assert f"{size:,} bytes" in err
    assert len(body) < 1000  # nothing of the question comes back


# ------------------------------------------------------------------------------------------------
# Request bodies over the limit
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["/api/ask", "/v1/chat/completions"])
@pytest.mark.parametrize("megabytes", [5, 50])
def test_oversized_body_with_content_length_gets_413_at_once(site, route, megabytes):
    body = _ask_body(route, ("Who was sworn in as interim president? " * (megabytes * MB // 39 + 1))[:megabytes * MB])
    conn = http.client.HTTPConnection("127.0.0.1", site["port"], timeout=120)
    try:
        t0 = time.monotonic()
        conn.request("POST", route, body=body, headers=JSON)  # Content-Length is set from the bytes
        r = conn.getresponse()
        data = r.read()
        elapsed = time.monotonic() - t0
        _check_413(route, r.status, data, len(body))
        assert elapsed < QUICK_S, f"{elapsed:.1f}s for a refused {megabytes} MB body"
        _answers(site, conn)  # the same keep-alive connection carries on
    finally:
        conn.close()
    _answers(site)


@pytest.mark.parametrize("route", ["/api/ask", "/v1/chat/completions"])
@pytest.mark.parametrize("megabytes", [5, 50])
def test_oversized_chunked_body_without_content_length_gets_413(site, route, megabytes):
    piece = b'"Who was sworn in as interim president? ' * 1600  # ~64 kB; the JSON never ends
    pieces = megabytes * MB // len(piece) + 1

    def body():
        yield b'{"question": ' if route == "/api/ask" else b'{"messages": [{"role": "user", "content": '
        for _ in range(pieces):
            yield piece

    conn = http.client.HTTPConnection("127.0.0.1", site["port"], timeout=120)
    try:
        t0 = time.monotonic()
        conn.request("POST", route, body=body(), headers={**JSON, "Transfer-Encoding": "chunked"}, encode_chunked=True)
        r = conn.getresponse()
        data = r.read()
        elapsed = time.monotonic() - t0
        _check_413(route, r.status, data, None)
        assert elapsed < QUICK_S, f"{elapsed:.1f}s for a refused {megabytes} MB chunked body"
        _answers(site, conn)
    finally:
        conn.close()
    _answers(site)


def test_oversized_streamed_body_through_requests(site):
    """``requests`` with a generator body (chunked transfer), as a client library streams a file."""
    import requests

    def body():
        yield b'{"question": "'
        for _ in range(80):  # 5 MB
            yield b"x" * 65536
        yield b'"}'

    t0 = time.monotonic()
    r = requests.post(site["url"] + "api/ask", data=body(), headers=JSON, timeout=120)
    assert time.monotonic() - t0 < QUICK_S
    _check_413("/api/ask", r.status_code, r.content, None)
    _answers(site)


def test_a_body_at_the_limit_is_read(site):
    """Just under the limit is a normal request: the question is answered (and cut)."""
    question = INTERIM_Q + " " + "x" * (MB - 200)
    body = _ask_body("/api/ask", question)
    assert MB - 200 < len(body) <= MB
    conn = http.client.HTTPConnection("127.0.0.1", site["port"], timeout=120)
    try:
        conn.request("POST", "/api/ask", body=body, headers=JSON)
        r = conn.getresponse()
        data = r.read()
    finally:
        conn.close()
    assert r.status == 200, data[:300]
    d = json.loads(data)
    assert d["short_answer"] == INTERIM
    assert len(data) < 100_000 and len(d["question"]) <= 2000


def test_gradio_routes_are_not_under_the_body_limit(site):
    """Only /api and /v1 are limited: Gradio's routes (its upload has its own limit) pass through."""
    import httpx

    data = json.dumps({"data": [INTERIM_Q + " " + "x" * (2 * MB)]}).encode()
    r = httpx.post(site["url"] + "gradio_api/call/ask", content=data, headers=JSON, timeout=120)
    assert r.status_code == 200, r.text[:300]


@pytest.mark.parametrize("route", ["/api/ask", "/v1/chat/completions"])
def test_long_question_within_the_limit_is_cut_and_not_echoed(site, route):
    import httpx

    question = (INTERIM_Q + " ") * 5200  # ~200 kB, under the 1 MB body limit
    assert 150_000 < len(question) < MB
    t0 = time.monotonic()
    r = httpx.post(site["url"] + route.lstrip("/"), content=_ask_body(route, question), headers=JSON, timeout=120)
    assert r.status_code == 200, r.text[:300]
    assert len(r.content) < 60_000, f"{len(r.content):,} bytes came back for a {len(question):,}-character question"
    assert time.monotonic() - t0 < 60
    d = r.json() if route == "/api/ask" else r.json()["answer"]
    assert_sensible(d, site["texts"])
    assert len(d["question"]) <= 2000 and len(d["searched_question"]) <= 2000
    assert d["question"] == d["searched_question"]  # the cut, cleaned text, never the raw input
    assert any(f"The question was {len(question):,} characters long" in n for n in d["notices"])
    if route != "/api/ask":
        assert r.json()["usage"]["prompt_tokens"] <= 2000


def test_the_engine_cuts_before_it_cleans(site):
    """A 5 MB question costs what a 2000-character one does (the cut comes first) and is echoed cut."""
    from qa import InvalidQuestion

    engine = site["engine"]
    junk = "\x00\u200b\x07 " * 1_250_000 + INTERIM_Q  # 5 M characters of control and invisible characters first
    t0 = time.perf_counter()
    with pytest.raises(InvalidQuestion, match="empty in its first 2,000 characters"):
        engine.ask(junk)
    assert time.perf_counter() - t0 < 1.0
    t0 = time.perf_counter()
    q, notices = engine._clean_question("Who\x00 was sworn in as interim president? " * 125_000)  # 5 M characters
    assert time.perf_counter() - t0 < 0.5 and len(q) <= 2000 and "\x00" not in q and "only its first" in notices[0]
    a = engine.ask("  " + (INTERIM_Q + " ") * 130_000)
    assert a.short_answer == INTERIM and len(a.question) <= 2000 and a.question == a.searched_question
    assert any("only its first" in n for n in a.notices)
    b = engine.ask(INTERIM_Q + " " * 1_000_000)  # only blanks cut off: nothing worth a notice
    assert b.short_answer == INTERIM and not any("only its first" in n for n in b.notices)


def test_body_limit_and_keep_alive_settings(monkeypatch):
    from click.testing import CliRunner

    from qa import cli
    from qa.config import ServeSettings

    monkeypatch.setenv("QA_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("QA_KEEP_ALIVE", "12.5")
    s = ServeSettings.resolve()
    assert (s.max_body_bytes, s.keep_alive_s) == (2048, 12.5)
    assert ServeSettings.resolve(max_body_bytes=10, keep_alive_s=3).max_body_bytes == 10
    monkeypatch.setenv("QA_MAX_BODY_BYTES", "0")
    with pytest.raises(ValueError, match="body limit"):
        ServeSettings.resolve()
    monkeypatch.setenv("QA_MAX_BODY_BYTES", "lots")
    with pytest.raises(ValueError, match="whole numbers"):
        ServeSettings.resolve()
    monkeypatch.delenv("QA_MAX_BODY_BYTES")
    monkeypatch.delenv("QA_KEEP_ALIVE")
    assert (ServeSettings.resolve().max_body_bytes, ServeSettings.resolve().keep_alive_s) == (MB, 30)
    seen = {}
    monkeypatch.setattr(cli, "run_server", lambda engine_opts, **flags: seen.update(flags))
    assert CliRunner().invoke(cli.main, ["serve", "--max-body", "4096", "--keep-alive", "60"]).exit_code == 0
    assert (seen["max_body_bytes"], seen["keep_alive_s"]) == (4096, 60)
    assert ServeSettings.resolve(**seen).max_body_bytes == 4096  # the flags are ServeSettings' own names


def test_a_small_limit_from_settings_applies(site, seed_engine):
    import httpx

    from qa.config import ServeSettings
    from qa.server import create_app
    from tests.webserver import ServerThread, free_port

    port = free_port()
    app = create_app(site["engine"], ServeSettings(host="127.0.0.1", port=port, max_body_bytes=100))
    with ServerThread(app, host="127.0.0.1", port=port) as server:
        assert server.config.timeout_keep_alive == 30
        r = httpx.post(server.url + "api/ask", json={"question": INTERIM_Q}, timeout=60)
        assert r.status_code == 200
        r = httpx.post(server.url + "api/ask", json={"question": INTERIM_Q * 3}, timeout=60)
        assert r.status_code == 413 and "100-byte limit" in r.json()["error"]
        assert httpx.get(server.url + "api/stats", timeout=60).status_code == 200  # GET: no body, not refused


# ------------------------------------------------------------------------------------------------
# Small ones: null chat message, top_k, rejected input logging, keep-alive
# ------------------------------------------------------------------------------------------------


def _gradio_call(url: str, endpoint: str, payload: bytes) -> tuple[str, object]:
    import httpx

    r = httpx.post(url + f"gradio_api/call/{endpoint}", content=payload, headers=JSON, timeout=60)
    assert r.status_code == 200, r.text
    events = httpx.get(url + f"gradio_api/call/{endpoint}/{r.json()['event_id']}", timeout=120).text
    kind = re.search(r"^event: (\w+)", events, re.M).group(1)
    return kind, json.loads(re.search(r"^data: (.*)$", events, re.M).group(1))


@pytest.mark.parametrize("message", ["null", "5", '{"text": "Who?"}', "[]"])
def test_gradio_chat_with_a_message_that_is_not_text(site, message, capfd):
    """null reached Gradio's own history code ('NoneType' object has no attribute 'get'); other
    values are turned into text by the Textbox and answered (or refused) like any question."""
    kind, data = _gradio_call(site["url"], "chat", f'{{"data": [{message}, []]}}'.encode())
    assert "NoneType' object has no attribute" not in json.dumps(data)
    if message == "null":
        assert kind == "error" and data["error"] == "a question must be text, not NoneType", data
    else:
        assert kind == "complete" and data[0][0]["role"] == "assistant", data
    assert "Traceback" not in capfd.readouterr().err
    kind, data = _gradio_call(site["url"], "chat", json.dumps({"data": [INTERIM_Q, []]}).encode())
    assert kind == "complete" and data[0][0]["content"].startswith(f"**{INTERIM}**")


def test_gradio_chat_with_null_history(site):
    kind, data = _gradio_call(site["url"], "chat", json.dumps({"data": [INTERIM_Q, None]}).encode())
    assert kind in ("complete", "error")  # Gradio may refuse the null history itself; never a crash
    kind, data = _gradio_call(site["url"], "chat", json.dumps({"data": [INTERIM_Q, []]}).encode())
    assert kind == "complete"


@pytest.mark.parametrize("top_k, message", [
    ("3", "must be an integer"), (3.0, "must be an integer"), (True, "must be an integer"), (False, "must be an integer"),
    (0, "at least 1"), (-1, "at least 1"), ([3], "must be an integer"), (b"3", "must be an integer"),
], ids=["digit-string", "float", "true", "false", "zero", "negative", "list", "bytes"])
def test_top_k_must_be_a_whole_number_of_at_least_one(site, top_k, message):
    engine = site["engine"]
    with pytest.raises(ValueError, match=message):
        engine.ask(INTERIM_Q, top_k=top_k)
    with pytest.raises(ValueError, match=message):
        engine.retrieve(INTERIM_Q, top_k=top_k)


def test_top_k_valid_values(site):
    import numpy as np

    engine = site["engine"]
    assert len(engine.ask(INTERIM_Q, top_k=1).passages) == 1
    assert len(engine.ask(INTERIM_Q, top_k=np.int64(2)).passages) == 2
    assert engine.ask(INTERIM_Q, top_k=None).short_answer == INTERIM
    assert len(engine.retrieve(INTERIM_Q, top_k=3)) == 3


def test_rejected_input_logs_one_warning_line_and_no_traceback(site, caplog, capfd):
    import httpx

    caplog.set_level(logging.WARNING)
    capfd.readouterr()
    url = site["url"]
    assert httpx.post(url + "api/ask", content=b"{not json", headers=JSON, timeout=60).status_code == 400
    assert httpx.post(url + "api/ask", json={"question": " "}, timeout=60).status_code == 400
    assert httpx.post(url + "v1/chat/completions", json={"messages": []}, timeout=60).status_code == 400
    assert httpx.post(url + "api/ask", content=b"x" * (2 * MB), headers=JSON, timeout=60).status_code == 413
    kind, _ = _gradio_call(url, "ask", b'{"data": [""]}')
    assert kind == "error"
    kind, _ = _gradio_call(url, "ask", b'{"data": [null]}')
    assert kind == "error"
    kind, data = _gradio_call(url, "chat", b'{"data": ["\\u0000", []]}')
    assert kind == "complete" and "the question is empty" in data[0][0]["content"]
    time.sleep(0.3)  # the event stream answered; let the worker finish logging
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("qa")]
    rejected = [r for r in warnings if "rejected" in r.getMessage() or "refused" in r.getMessage()]
    assert len(rejected) == 7, [r.getMessage() for r in warnings]
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in rejected)
    assert not [r for r in caplog.records if r.exc_info]
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize("method, path, status, allow", [
    ("GET", "/api/ask", 405, "POST"),
    ("DELETE", "/api/documents", 405, "GET, POST"),
    ("POST", "/v1/models", 405, "GET"),
    ("GET", "/api/nothing-here", 404, None),
    ("POST", "/v1/completions", 404, None),
])
def test_a_wrong_method_or_path_gets_the_apis_own_json_error(site, method, path, status, allow):
    """`GET /api/ask` answered the chat's {"detail": "Not Found"}; a client of either API reads one shape."""
    import httpx

    r = httpx.request(method, f"http://127.0.0.1:{site['port']}{path}", timeout=30)
    assert r.status_code == status, r.text
    assert r.headers.get("allow") == allow
    err = r.json()["error"]
    if path.startswith("/v1/"):  # OpenAI's shape, so an OpenAI client shows the message
        assert err["type"] == "invalid_request_error" and err["code"] in ("method_not_allowed", "not_found")
        err = err["message"]
    assert path in err and (allow or "/api/docs") in err


def test_an_idle_keep_alive_connection_outlives_uvicorns_old_default(site):
    """uvicorn closes idle connections after 5 s by default, as long as an HTTP client keeps them in
    its pool (httpx: 5 s): a pooled connection could be closed just as it was reused. The server
    keeps them 30 s now."""
    conn = http.client.HTTPConnection("127.0.0.1", site["port"], timeout=120)
    try:
        _answers(site, conn)
        sock = conn.sock
        time.sleep(6.5)
        _answers(site, conn)
        assert conn.sock is sock  # the same socket: the server did not close it
    finally:
        conn.close()


def test_load_client_retries_a_dropped_connection_once():
    """benchmarks/load.py resends a question whose pooled connection dropped before any response
    (asking is read-only), and counts it."""
    import socket

    from tests.test_load import _load_module

    load = _load_module()
    # a server that drops the first connection after reading the request, then answers properly
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    port = srv.getsockname()[1]
    answer = json.dumps({"text": "ok", "citations": [], "refused": False}).encode()

    def serve():
        for n in range(2):
            c, _ = srv.accept()
            with c:
                c.recv(65536)
                if n == 0:
                    continue  # close without a response
                c.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n"
                          b"content-length: " + str(len(answer)).encode() + b"\r\n\r\n" + answer)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    report = load.run_load(f"http://127.0.0.1:{port}/", ["Q?"], clients=1, requests=1, duration=30, timeout=10)
    t.join(10)
    srv.close()
    assert report.errors == 0 and report.completed == 1 and report.retries == 1, report.error_samples


# ------------------------------------------------------------------------------------------------
# The Chroma server goes away under traffic, and comes back
# ------------------------------------------------------------------------------------------------


def _start_chroma(data: Path, port: int, log: Path) -> subprocess.Popen:
    import httpx

    binary = Path(sys.executable).parent / "chroma"
    if not binary.exists():
        binary = Path(shutil.which("chroma") or binary)
    proc = subprocess.Popen(
        [str(binary), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=open(log, "ab"), stderr=subprocess.STDOUT, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"chroma run exited with {proc.returncode}: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("chroma run did not answer its heartbeat within 60 s")
        time.sleep(0.2)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=30)


def _check_503(route: str, r, url: str, port: int) -> None:
    assert r.status_code == 503, (r.status_code, r.headers.get("content-type"), r.text[:300])
    assert r.headers["content-type"].startswith("application/json")
    err = r.json()["error"]
    if route.startswith("v1/"):
        assert err["code"] == "store_unavailable" and err["store"] == url
        err = err["message"]
    else:
        assert r.json()["store"] == url
    assert url in err and f"chroma run --path" in err and f"--port {port}" in err


@pytest.mark.crash
def test_chroma_server_killed_under_traffic_503_one_warning_then_recovers(tmp_path, caplog, capfd):
    """The vectors live in a real `chroma run`; it is SIGKILLed while clients ask, then restarted on
    the same port and folder. The rules answerer and a hashing embedder keep it fast: the store is
    what is under test (tests/test_chroma_server.py checks answers equal the embedded store's)."""
    import httpx

    from qa import QA
    from qa.answer import ExtractiveAnswerer
    from qa.config import Config
    from qa.config import ServeSettings
    from qa.server import create_app
    from tests.webserver import ServerThread, free_port
    from tests.fakes import HashEmbedder

    caplog.set_level(logging.WARNING)
    data, log = tmp_path / "chroma-data", tmp_path / "chroma.log"
    chroma_port = free_port()
    chroma_url = f"http://127.0.0.1:{chroma_port}"
    chroma = _start_chroma(data, chroma_port, log)
    server = None
    try:
        engine = QA(config=Config.resolve(seeds_dir=SEEDS, index_dir=tmp_path / "index", chroma_url=chroma_url),
                    embedder=HashEmbedder(), answerer=ExtractiveAnswerer())
        engine.index()
        port = free_port()
        server = ServerThread(create_app(engine, ServeSettings(host="127.0.0.1", port=port)), host="127.0.0.1", port=port).start()
        url = server.url
        ask = {"api/ask": {"question": INTERIM_Q}, "v1/chat/completions": {"messages": [{"role": "user", "content": INTERIM_Q}]}}
        assert httpx.post(url + "api/ask", json=ask["api/ask"], timeout=60).json()["short_answer"] == INTERIM

        # traffic while the server is killed: every reply is an answer or a 503 JSON error, never a 500
        seen: list[tuple[str, int, str]] = []
        stop = threading.Event()

        def client(route: str) -> None:
            with httpx.Client(timeout=60) as http:
                while not stop.is_set():
                    r = http.post(url + route, json=ask[route])
                    seen.append((route, r.status_code, r.headers.get("content-type", "")))

        clients = [threading.Thread(target=client, args=(route,), daemon=True) for route in ask for _ in range(2)]
        for t in clients:
            t.start()
        time.sleep(1.0)
        _stop(chroma)
        time.sleep(1.5)
        stop.set()
        for t in clients:
            t.join(60)
        statuses = {s for _, s, _ in seen}
        assert statuses <= {200, 503}, [x for x in seen if x[1] not in (200, 503)][:5]
        assert 503 in statuses and all(ct.startswith("application/json") for _, _, ct in seen)

        for _ in range(3):  # while it is down: 503 with the store and the way out, on every route
            for route in ask:
                _check_503(route, httpx.post(url + route, json=ask[route], timeout=60), chroma_url, chroma_port)
            _check_503("api/stats", httpx.get(url + "api/stats", timeout=60), chroma_url, chroma_port)
        kind, payload = _gradio_call(url, "ask", json.dumps({"data": [INTERIM_Q]}).encode())
        assert kind == "error" and chroma_url in payload["error"]
        kind, payload = _gradio_call(url, "chat", json.dumps({"data": [INTERIM_Q, []]}).encode())
        assert kind == "complete" and chroma_url in payload[0][0]["content"]

        down = [r for r in caplog.records if r.levelno >= logging.WARNING and "unreachable" in r.getMessage()]
        assert len(down) == 1, [r.getMessage() for r in down]
        assert chroma_url in down[0].getMessage() and down[0].exc_info is None
        assert not [r for r in caplog.records if r.exc_info or r.name.startswith("uvicorn")]
        err = capfd.readouterr().err
        assert "Traceback" not in err, err[-3000:]

        # the same server, port and folder again: answers come back without restarting qa
        chroma = _start_chroma(data, chroma_port, log)
        deadline = time.monotonic() + 60
        while True:
            r = httpx.post(url + "api/ask", json=ask["api/ask"], timeout=60)
            if r.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert r.status_code == 200 and r.json()["short_answer"] == INTERIM
        r = httpx.post(url + "v1/chat/completions", json=ask["v1/chat/completions"], timeout=60)
        assert r.status_code == 200 and r.json()["answer"]["short_answer"] == INTERIM
        assert httpx.get(url + "api/stats", timeout=60).json()["documents"] == 5
        back = [r for r in caplog.records if "reachable again" in r.getMessage()]
        assert len(back) == 1
        assert len([r for r in caplog.records if "unreachable" in r.getMessage()]) == 1

        # a second outage is logged again, once
        _stop(chroma)
        for _ in range(3):
            assert httpx.post(url + "api/ask", json=ask["api/ask"], timeout=60).status_code == 503
        assert len([r for r in caplog.records if "unreachable" in r.getMessage()]) == 2
    finally:
        if server is not None:
            server.stop()
        _stop(chroma)
