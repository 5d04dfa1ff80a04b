"""One real server for the web tests (test_web.py and test_browser.py share it).

The engine (real model, real Chroma) reads a private copy of the seeds and a temporary index, is
built once per session, and serves the Gradio chat, /api/ask and /v1/chat/completions on a free
loopback port. Tests may add documents to it (uploads, written to its own documents folder, never
to the seeds); they use topics of their own, so the seed answers stay the same. :class:`ServerThread`
runs any app the same way (tests, docs/screenshots.py, benchmarks/load.py).
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
ARTIFACTS = ROOT / "test-artifacts"

INTERIM_Q = "Who was sworn in as interim president?"
INTERIM_DOC = "001_08e073e419b132d4.txt"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class ServerThread:
    """Run an ASGI app with uvicorn in a background thread (tests, screenshots, benchmarks).

    >>> with ServerThread(app, port=0) as server:     # doctest: +SKIP
    ...     httpx.post(server.url + "api/ask", json={"question": "..."})
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning",
                 keep_alive_s: float | None = None):
        import uvicorn

        from qa.config import DEFAULT_KEEP_ALIVE_S

        self.host = host
        self.port = port or free_port(host)
        if keep_alive_s is None:  # the app's own setting (create_app keeps it), else the default
            settings = getattr(getattr(app, "state", None), "qa_settings", None)
            keep_alive_s = getattr(settings, "keep_alive_s", DEFAULT_KEEP_ALIVE_S)
        # open event streams (a browser tab, a gradio_client heartbeat) must not hold up stop()
        self.config = uvicorn.Config(app, host=host, port=self.port, log_level=log_level, lifespan="on",
                                     timeout_graceful_shutdown=2, timeout_keep_alive=keep_alive_s)
        self.server = uvicorn.Server(self.config)
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self, timeout: float = 60) -> "ServerThread":
        self.thread = threading.Thread(target=self.server.run, name=f"qa-server-{self.port}", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError(f"the server did not start on {self.host}:{self.port} (port in use?)")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"the server did not start within {timeout:.0f}s")
            time.sleep(0.05)
        return self

    def stop(self, timeout: float = 15) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout)

    def __enter__(self) -> "ServerThread":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


@dataclass
class LiveServer:
    url: str
    engine: Any
    seeds_dir: Path
    documents_dir: Path
    index_dir: Path
    backend: Any
    thread: Any

    def stop(self) -> None:
        self.thread.stop()


_live: LiveServer | None = None


def live_server(tmp_path_factory: Any) -> LiveServer:
    """The session's server, started on first use."""
    global _live
    if _live is None:
        from qa import QA
        from qa.config import ServeSettings
        from qa.server import create_app, prepare_engine

        base = tmp_path_factory.mktemp("web")
        seeds = base / "seeds"
        shutil.copytree(SEEDS, seeds)
        engine = QA(seeds_dir=seeds, documents_dir=base / "documents", index_dir=base / "index")
        prepare_engine(engine)
        port = free_port()
        app = create_app(engine, ServeSettings(host="127.0.0.1", port=port, max_upload_bytes=64 * 1024))
        thread = ServerThread(app, host="127.0.0.1", port=port).start()
        _live = LiveServer(thread.url, engine, seeds, base / "documents", base / "index", app.state.qa_backend, thread)
    return _live


def stop_live_server() -> None:
    global _live
    if _live is not None:
        _live.stop()
        _live = None
