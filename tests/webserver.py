"""One real server for the web tests (test_web.py and test_browser.py share it).

The engine (real model, real Chroma) reads a private copy of the seeds and a temporary index, is
built once per session, and serves the Gradio chat, /api/ask and /v1/chat/completions on a free
loopback port. Tests may add documents to it (uploads); they use topics of their own, so the seed
answers stay the same.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
ARTIFACTS = ROOT / "test-artifacts"

INTERIM_Q = "Who was sworn in as interim president?"
INTERIM_DOC = "001_08e073e419b132d4.txt"


@dataclass
class LiveServer:
    url: str
    engine: Any
    seeds_dir: Path
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
        from qa.server import ServerThread, ServeSettings, create_app, free_port, prepare_engine

        base = tmp_path_factory.mktemp("web")
        seeds = base / "seeds"
        shutil.copytree(SEEDS, seeds)
        engine = QA(seeds_dir=seeds, index_dir=base / "index")
        prepare_engine(engine)
        port = free_port()
        app = create_app(engine, ServeSettings(host="127.0.0.1", port=port, max_upload_bytes=64 * 1024))
        thread = ServerThread(app, host="127.0.0.1", port=port).start()
        _live = LiveServer(thread.url, engine, seeds, base / "index", app.state.qa_backend, thread)
    return _live


def stop_live_server() -> None:
    global _live
    if _live is not None:
        _live.stop()
        _live = None
