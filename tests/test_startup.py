"""Start-up and errors, through real subprocesses of ``python app.py`` and ``qa``.

What can be wrong before a model loads is checked first and said in one ``error: ...`` line with a
non-zero exit, before any model library is imported (a probe in the child process says which were;
no timing): a port in use, a
documents folder named on the command line (or in ``QA_SEEDS_DIR``) that is not there, an index
folder that cannot be created or written, a malformed gold file, a bad log level. In each case the
index folder named is left uncreated: nothing was loaded or built. Bad flags and missing files are
click's usage errors, one line too (exit 2, naming the command's ``--help``); ``--debug`` /
``QA_DEBUG=1`` shows the traceback. By default the libraries' DEBUG and INFO chatter (bm25s,
chromadb, httpx, ...) stays off stderr.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from qa.config import Config
from qa.startup import StartupError, check_folders, configure_logging, explicit_folders, reserve_port
from tests.conftest import ROOT, SEEDS
from tests.webserver import free_port

QA = str(Path(sys.executable).parent / "qa")
APP = [sys.executable, str(ROOT / "app.py")]
#: the libraries whose import alone takes seconds, which a start-up error must come before. Not
#: onnxruntime: the query path warms its models in a background thread while the index opens (a
#: cold-start saving), so it may be imported by the time an index error is printed, without delaying it
MODEL_LIBRARIES = ("torch", "transformers", "sentence_transformers")
ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0
INTERIM_Q = "Who was sworn in as interim president?"


def _probe_folder() -> Path:
    """A ``sitecustomize`` that, at the child's exit, writes which model libraries it imported to the
    file named by ``QA_TEST_MODULES_OUT`` (world-readable and -writable: some children run as nobody)."""
    import atexit
    import shutil

    folder = Path(tempfile.mkdtemp(prefix="qa-probe-"))
    atexit.register(shutil.rmtree, folder, True)  # gone with the test run
    (folder / "sitecustomize.py").write_text(
        "import atexit, os, sys\n"
        "def _report():\n"
        "    out = os.environ.get('QA_TEST_MODULES_OUT')\n"
        "    if out:\n"
        "        try:\n"
        f"            open(out, 'w').write(' '.join(m for m in {MODEL_LIBRARIES!r} if m in sys.modules))\n"
        "        except OSError:\n"
        "            pass\n"
        "atexit.register(_report)\n", encoding="utf-8")
    (folder / "sitecustomize.py").chmod(0o644)
    folder.chmod(0o1777)
    return folder


_PROBE = _probe_folder()


def run(args: list[str], timeout: float = 120, **env: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run ``args`` with the caller's environment less its QA_* start-up settings, plus ``env``; with
    the model libraries the child imported."""
    clean = {k: v for k, v in os.environ.items()
             if k not in ("QA_PORT", "QA_HOST", "QA_SEEDS_DIR", "QA_INDEX_DIR", "QA_LOG_LEVEL", "QA_DEBUG")}
    out = Path(tempfile.mktemp(prefix="modules-", dir=_PROBE))
    path = os.pathsep.join(p for p in (str(_PROBE), clean.get("PYTHONPATH", "")) if p)
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                       env={**clean, "PYTHONPATH": path, "QA_TEST_MODULES_OUT": str(out), **env})
    loaded = out.read_text().split() if out.is_file() else ["(no report: the probe did not run)"]
    out.unlink(missing_ok=True)
    return r, loaded


def assert_one_error_line(r: subprocess.CompletedProcess, loaded: list[str], *fragments: str) -> str:
    """Exit status 2, nothing on stdout, stderr one ``error: ...`` line naming ``fragments``, and no
    model library imported before it."""
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr and r.stdout == "", r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    for f in fragments:
        assert f in lines[0], lines[0]
    assert not loaded, f"{loaded} imported before: {lines[0]}"
    return lines[0]


@pytest.fixture
def held_port():
    """A loopback port another program listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


# --- the port ------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["app.py --port", "qa serve --port", "app.py QA_PORT"])
def test_a_port_in_use_fails_at_once_before_anything_loads(held_port, tmp_path, how):
    index = tmp_path / "index"
    if how == "app.py --port":
        r, s = run([*APP, "--index", str(index), "--port", str(held_port)])
    elif how == "qa serve --port":
        r, s = run([QA, "--index", str(index), "serve", "--port", str(held_port)])
    else:
        r, s = run([*APP, "--index", str(index)], QA_PORT=str(held_port))
    assert_one_error_line(r, s, f"port {held_port} is in use", "--port", "QA_PORT")
    assert not index.exists()  # the index was not built, no model loaded


def test_reserve_port_holds_the_port_and_names_bad_hosts():
    sock = reserve_port("127.0.0.1", 0)
    try:
        port = sock.getsockname()[1]
        with pytest.raises(StartupError, match=f"port {port} is in use"):
            reserve_port("127.0.0.1", port)  # taken from the start, before the server serves on it
    finally:
        sock.close()
    reserve_port("127.0.0.1", port).close()  # free again once closed
    with pytest.raises(StartupError, match="not an address of this machine.*QA_HOST"):
        reserve_port("no-such-host.invalid", 0)


@pytest.mark.integration
def test_a_second_app_is_refused_while_the_first_loads_and_the_first_serves(tmp_path):
    """The first app holds its port from the start (while it indexes and loads the models), serves
    on that very socket, and logs no library chatter; a second one on the port fails at once. A SIGTERM
    stops it even while a gradio_client connection is open."""
    import httpx

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("QA_PORT", "QA_HOST", "QA_SEEDS_DIR", "QA_INDEX_DIR", "QA_LOG_LEVEL", "QA_DEBUG")}
    env["QA_SHUTDOWN_GRACE"] = "1"
    log = tmp_path / "first.log"
    with log.open("w") as err:
        first = subprocess.Popen([*APP, "--index", str(tmp_path / "index"), "--port", str(port)], cwd=ROOT, env=env,
                                 stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 60
        while True:  # the port is taken as soon as the settings are read, long before the model loads
            try:
                reserve_port("127.0.0.1", port).close()
            except StartupError:
                break
            assert first.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        assert "chat on" not in log.read_text()  # still loading
        r, s = run([*APP, "--index", str(tmp_path / "other-index"), "--port", str(port)])
        assert_one_error_line(r, s, f"port {port} is in use")
        assert not (tmp_path / "other-index").exists()
        deadline = time.monotonic() + 300
        while f"chat on http://127.0.0.1:{port}/" not in log.read_text():
            assert first.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        stats = httpx.get(f"http://127.0.0.1:{port}/api/stats", timeout=60).json()
        assert stats["documents"] == 5 and stats["index_dir"] == str(tmp_path / "index")
        from gradio_client import Client

        # a user's gradio_client keeps an event stream open; it held a SIGTERM for minutes (a user's report)
        Client(f"http://127.0.0.1:{port}/", verbose=False).predict("Who was sworn in as interim president?", api_name="/ask")
    finally:
        first.terminate()
        first.wait(timeout=60)  # the grace is 1 s (QA_SHUTDOWN_GRACE), then open connections are closed
    text = log.read_text()
    assert "address already in use" not in text and "Traceback" not in text, text
    assert not [line for line in text.splitlines() if " DEBUG " in line], text


# --- the folders ---------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["qa --seeds ask", "qa --seeds index", "qa --seeds serve", "app.py --seeds",
                                 "QA_SEEDS_DIR qa ask", "QA_SEEDS_DIR app.py", "qa --documents ask", "app.py --documents"])
def test_a_named_documents_folder_that_is_missing_is_an_error(tmp_path, how):
    missing, index = tmp_path / "no-such-folder", tmp_path / "index"
    flag = "--documents" if "--documents" in how else "--seeds"
    folders = [] if how.startswith("QA_") else [flag, str(missing)]
    env = {"QA_SEEDS_DIR": str(missing)} if how.startswith("QA_") else {}
    tail = {"ask": ["ask", INTERIM_Q], "index": ["index"], "serve": ["serve", "--port", "0"]}
    if "app.py" in how:
        args = [*APP, *folders, "--index", str(index), "--port", "0"]
    else:
        args = [QA, *folders, "--index", str(index), *tail[how.split()[-1]]]
    r, s = run(args, **env)
    line = assert_one_error_line(r, s, f"documents folder not found: {missing}")
    assert ("--seeds or QA_SEEDS_DIR" if flag == "--seeds" else "--documents") in line
    assert not index.exists()


@pytest.mark.parametrize("how", ["documents is the seeds", "documents around the seeds", "documents inside the seeds",
                                 "index inside the documents"])
def test_folders_that_overlap_are_refused_and_the_seeds_stay_untouched(tmp_path, how):
    """`qa --documents seeds documents delete <seed>` deleted a shipped seed, and `--documents .` read the
    seeds twice and the index's own files as documents."""
    seeds = ROOT / "seeds"
    before = sorted((p.name, p.stat().st_mtime_ns) for p in seeds.iterdir())
    folders = {"documents is the seeds": ["--documents", str(seeds)],
               "documents around the seeds": ["--documents", str(ROOT)],
               "documents inside the seeds": ["--seeds", str(tmp_path), "--documents", str(tmp_path / "mine")],
               "index inside the documents": ["--documents", str(tmp_path)]}[how]
    index = tmp_path / "index" if how == "index inside the documents" else tmp_path / "elsewhere" / "index"
    for args in (["documents", "delete", "004_3184abc0dc7d57db.txt"], ["ask", INTERIM_Q]):
        r, loaded = run([QA, *folders, "--index", str(index), *args])
        line = assert_one_error_line(r, loaded, "folder")
        assert "seeds folder" in line or "inside the documents folder" in line, line
    assert sorted((p.name, p.stat().st_mtime_ns) for p in seeds.iterdir()) == before
    assert not index.exists()


def test_the_default_user_documents_folder_may_be_missing(tmp_path, monkeypatch):
    """Uploads create it; QA_DOCUMENTS_DIR names the default one (each test has its own, not created)."""
    monkeypatch.setenv("QA_DOCUMENTS_DIR", str(tmp_path / "not-yet"))
    check_folders(Config.resolve(index_dir=tmp_path / "index"), explicit_folders({}))
    with pytest.raises(StartupError, match="--documents"):
        check_folders(Config.resolve(index_dir=tmp_path / "index"), explicit_folders({"documents_dir": str(tmp_path / "not-yet")}))
    (tmp_path / "f").write_text("x")
    with pytest.raises(StartupError, match="a file, not a folder"):
        check_folders(Config.resolve(seeds_dir=tmp_path / "f", index_dir=tmp_path / "index"), {"seeds_dir"})


@pytest.mark.parametrize("where", ["under-a-file", "a-file"])
def test_an_index_folder_that_cannot_be_created_is_an_error(tmp_path, where):
    (tmp_path / "plain-file").write_text("not a folder")
    index = tmp_path / "plain-file" / "index" if where == "under-a-file" else tmp_path / "plain-file"
    r, s = run([QA, "ask", INTERIM_Q], QA_INDEX_DIR=str(index))
    assert_one_error_line(r, s, f"the index folder {index}", "QA_INDEX_DIR",
                          "cannot be created" if where == "under-a-file" else "a file, not a folder")
    r, s = run([*APP, "--port", "0"], QA_INDEX_DIR=str(index))
    assert_one_error_line(r, s, f"the index folder {index}")


@pytest.mark.parametrize("env, words", [
    ({"QA_ANSWERER": "llm", "QA_LLM_MODEL": "x"}, "needs QA_LLM_BASE_URL"),
    ({"QA_ANSWERER": "llm", "QA_LLM_MODEL": "x", "QA_LLM_BASE_URL": "not-a-url"}, "expected http(s)://HOST:PORT/v1"),
    ({"QA_ANSWERER": "lmm"}, "unknown answerer 'lmm'"),
])
def test_an_answerer_setting_qa_ask_cannot_use_is_one_error_line(tmp_path, env, words):
    """`qa serve` and `qa eval` said so in one line; `qa ask` printed a traceback (exit 1)."""
    r, s = run([QA, "--index", str(tmp_path / "index"), "ask", INTERIM_Q], **env)
    assert_one_error_line(r, s, words)


def test_an_index_folder_the_system_refuses_to_create_is_one_error_line():
    """Under /proc the folder looks creatable (its parent is a writable folder to root) but mkdir fails."""
    r, s = run([QA, "ask", INTERIM_Q], QA_INDEX_DIR="/proc/qa-no-index")
    assert_one_error_line(r, s, "the index folder /proc/qa-no-index", "QA_INDEX_DIR")


def test_an_index_folder_that_cannot_be_written_is_an_error():
    """As a user that really cannot write (as root: ``nobody``, through setpriv)."""
    import shutil
    import tempfile

    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if ROOT_USER else []
    base = Path(tempfile.mkdtemp(prefix="qa-locked-"))
    base.chmod(0o755)
    (base / "locked").mkdir()
    (base / "locked").chmod(0o555)
    try:
        if prefix:
            probe = subprocess.run([*prefix, sys.executable, "-c", "import qa.cli"], capture_output=True, cwd=base) if shutil.which("setpriv") else None
            if probe is None or probe.returncode != 0:
                pytest.skip("root writes anywhere, and setpriv cannot run this checkout's Python as nobody")
        r, s = run([*prefix, QA, "--index", str(base / "locked" / "index"), "ask", INTERIM_Q], HOME=str(base))
        assert_one_error_line(r, s, "cannot be created", "cannot be written", "QA_INDEX_DIR")
        r, s = run([*prefix, QA, "--index", str(base / "locked"), "ask", INTERIM_Q], HOME=str(base))
        assert_one_error_line(r, s, "read-only")
    finally:
        shutil.rmtree(base)


def test_an_unreadable_index_is_one_line(tmp_path):
    index = tmp_path / "index"
    index.mkdir()
    (index / "manifest.json").write_text("{not json", encoding="utf-8")
    r, s = run([QA, "--index", str(index), "ask", INTERIM_Q])
    assert_one_error_line(r, s, f"index manifest {index / 'manifest.json'} is unreadable", "qa index --rebuild")
    r, s = run([*APP, "--index", str(index), "--port", "0"])
    assert_one_error_line(r, s, "is unreadable", "qa index --rebuild")
    assert (index / "manifest.json").read_text(encoding="utf-8") == "{not json"  # left for the user


# --- the gold file, flags, log level, --debug ----------------------------------------------------


def test_a_bad_gold_file_fails_before_anything_loads(tmp_path):
    gold = tmp_path / "gold.jsonl"
    good = {"id": "g1", "question": "Who?", "answers": ["X"], "sources": ["a.txt"], "unanswerable": False}
    gold.write_text(json.dumps(good) + "\n{oops\n", encoding="utf-8")
    r, s = run([QA, "--index", str(tmp_path / "index"), "eval", "--gold", str(gold)])
    assert r.returncode == 2 and "Traceback" not in r.stderr and not s, (s, r.stderr)
    assert r.stderr.startswith("error: ") and f"{gold}:2: not valid JSON" in r.stderr, r.stderr
    assert not (tmp_path / "index").exists()


@pytest.mark.parametrize("args, fragments", [
    ([QA, "--no-such-flag", "ask", "x"], ["No such option '--no-such-flag'", "(see qa --help)"]),
    ([*APP, "--port", "lots"], ["Invalid value for '--port'", "(see app.py --help)"]),
    ([QA, "ask", "--top-k", "0", "x"], ["Invalid value for '--top-k'", "(see qa ask --help)"]),
    ([QA, "--log-level", "LOUD", "ask", "x"], ["Invalid value for '--log-level'"]),
    ([QA, "ask"], ["Missing argument 'QUESTION...'"]),
    ([QA, "no-such-command"], ["No such command 'no-such-command'"]),
    ([QA, "eval", "--gold", "no-such-gold.jsonl"], ["'no-such-gold.jsonl' does not exist", "(see qa eval --help)"]),
], ids=["unknown", "port", "top-k", "log-level", "no-question", "no-command", "missing-file"])
def test_bad_flags_and_missing_files_are_one_line(args, fragments):
    r, s = run(args)
    assert_one_error_line(r, s, *fragments)


def test_qa_alone_and_help_still_print_usage():
    r, _ = run([QA])  # click's help, on stderr with status 2
    assert "Usage: qa [OPTIONS] COMMAND" in r.stderr and "error:" not in r.stderr and "Traceback" not in r.stderr
    r, _ = run([QA, "ask", "--help"])
    assert r.returncode == 0 and "Usage: qa ask [OPTIONS] QUESTION..." in r.stdout


def test_a_bad_log_level_variable_is_one_line(tmp_path):
    r, s = run([QA, "--index", str(tmp_path / "index"), "ask", INTERIM_Q], QA_LOG_LEVEL="LOUD")
    assert_one_error_line(r, s, "log level 'LOUD'", "QA_LOG_LEVEL")
    r, s = run([*APP, "--port", "0"], QA_LOG_LEVEL="LOUD")
    assert_one_error_line(r, s, "log level 'LOUD'")


@pytest.mark.parametrize("how", ["--debug", "QA_DEBUG"])
def test_debug_shows_the_traceback_of_a_user_error(tmp_path, how):
    missing = str(tmp_path / "no-such-folder")
    if how == "--debug":
        r, _ = run([QA, "--debug", "--seeds", missing, "ask", INTERIM_Q])
    else:
        r, _ = run([*APP, "--seeds", missing, "--port", "0"], QA_DEBUG="1")
    assert r.returncode == 1 and "Traceback" in r.stderr and "StartupError: documents folder not found" in r.stderr


_CHATTER = """
import logging, sys
from qa.startup import configure_logging
configure_logging(*sys.argv[1:2])
import bm25s  # sets its own logger to DEBUG when imported
for name in ("bm25s", "chromadb.config", "httpx", "gradio", "urllib3.connectionpool", "onnxruntime"):
    logging.getLogger(name).debug("%s debug", name)
    logging.getLogger(name).info("%s info", name)
logging.getLogger("chromadb").warning("chromadb warning")
logging.getLogger("qa.engine").warning("qa warning")
"""


def test_library_chatter_is_off_by_default_and_on_with_debug():
    r, _ = run([sys.executable, "-c", _CHATTER])
    assert r.returncode == 0 and r.stderr.splitlines() == ["WARNING chromadb: chromadb warning", "WARNING qa.engine: qa warning"], r.stderr
    r, _ = run([sys.executable, "-c", _CHATTER], QA_LOG_LEVEL="debug")
    assert "DEBUG bm25s: bm25s debug" in r.stderr and "INFO httpx: httpx info" in r.stderr, r.stderr
    r, _ = run([sys.executable, "-c", _CHATTER, "INFO"])
    assert "bm25s" not in r.stderr and "httpx" not in r.stderr and "qa warning" in r.stderr, r.stderr


def test_configure_logging_levels(monkeypatch):
    monkeypatch.delenv("QA_LOG_LEVEL", raising=False)
    monkeypatch.delenv("QA_DEBUG", raising=False)
    assert configure_logging() == logging.WARNING and logging.getLogger("chromadb").level == logging.WARNING
    monkeypatch.setenv("QA_LOG_LEVEL", "info")
    assert configure_logging() == logging.INFO and logging.getLogger("bm25s").level == logging.WARNING
    assert configure_logging("DEBUG") == logging.DEBUG and logging.getLogger("bm25s").level == logging.NOTSET
    monkeypatch.delenv("QA_LOG_LEVEL")
    assert configure_logging(debug_flag=True) == logging.DEBUG
    configure_logging()  # leave the defaults for the next test


@pytest.mark.integration
def test_qa_ask_prints_no_library_chatter(tmp_path):
    """A real `qa ask` that builds its index (chromadb, bm25s and the ONNX models all load): nothing
    on stderr but qa's own warnings (the one-time ONNX exports, where their cache is empty)."""
    r, _ = run([QA, "--seeds", str(SEEDS), "--index", str(tmp_path / "index"), "ask", INTERIM_Q], timeout=600)
    assert r.returncode == 0 and "Delcy Rodríguez" in r.stdout, r.stderr
    assert all(line.startswith("WARNING qa.") for line in r.stderr.splitlines()), r.stderr
