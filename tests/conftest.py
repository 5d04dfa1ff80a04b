"""Shared fixtures.

Unit tests use :class:`HashEmbedder` (deterministic, no model, no torch). Tests marked
``integration`` use the real packaged all-MiniLM-L6-v2 model and a real Chroma store; the engine
over the seeds is built once per session in a temporary index folder (the project's own index/ is
never touched by tests). Every test gets its own empty user documents folder (``QA_DOCUMENTS_DIR``;
engines of session and module fixtures, built before it is set, get one for the session, and the
shared ones pass a folder of their own): uploads never land in the checkout's documents/, a
developer's own uploads there never reach a test's index, and a run that changes it fails.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes import HashEmbedder

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
# uploads of engines built before any test's own folder is set (session and module fixtures run
# before function ones) land here, never in the checkout's documents/; removed at the end
_SESSION_DOCUMENTS = Path(tempfile.mkdtemp(prefix="qa-tests-")) / "documents"
os.environ["QA_DOCUMENTS_DIR"] = str(_SESSION_DOCUMENTS)

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
GOLD = ROOT / "gold" / "seeds.jsonl"


@pytest.fixture(autouse=True)
def private_documents_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """This test's user documents folder (not created: the first upload creates it).

    Set with a MonkeyPatch of its own: a test calling ``monkeypatch.undo()`` on the shared fixture
    must not send its next upload into the checkout's documents/.
    """
    folder = tmp_path_factory.mktemp("user") / "documents"
    patch = pytest.MonkeyPatch()
    patch.setenv("QA_DOCUMENTS_DIR", str(folder))
    yield folder
    patch.undo()


def _listing(folder: Path) -> list[str] | None:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else None


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.qa_documents_before = _listing(ROOT / "documents")  # type: ignore[attr-defined]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when a test wrote into the checkout's documents/ (a test that started an engine
    without the private folder, e.g. in a subprocess with a cleaned environment)."""
    before = getattr(session.config, "qa_documents_before", None)
    shutil.rmtree(_SESSION_DOCUMENTS.parent, ignore_errors=True)
    after = _listing(ROOT / "documents")
    if after != before:
        print(f"\nerror: the tests changed {ROOT / 'documents'}: {before} -> {after}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def hash_embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    """A private copy of the seed articles that a test may edit."""
    dst = tmp_path / "seeds"
    shutil.copytree(SEEDS, dst)
    return dst


@pytest.fixture(scope="session")
def seed_engine(tmp_path_factory: pytest.TempPathFactory):
    """The real engine (real model, real Chroma) over the seeds, indexed once per session."""
    from qa import QA

    index_dir = tmp_path_factory.mktemp("seed-index")
    engine = QA(seeds_dir=SEEDS, documents_dir=index_dir.parent / "seed-documents", index_dir=index_dir)  # no uploads: none
    engine.index()
    return engine


def indexed_engine(root: Path, files: dict[str, str]):
    """The real engine (real model, real Chroma) over ``files`` (name: text) written to ``root``/docs, indexed."""
    from qa import QA

    docs = root / "docs"
    docs.mkdir()
    for name, text in files.items():
        (docs / name).write_text(text, encoding="utf-8")
    engine = QA(seeds_dir=docs, documents_dir=root / "uploads", index_dir=root / "index")
    engine.index()
    return engine


def seed_text(doc_id: str) -> str:
    """The original file text, exactly as offsets index it."""
    return (SEEDS / doc_id).read_bytes().decode("utf-8")
