"""Shared fixtures.

Unit tests use :class:`HashEmbedder` (deterministic, no model, no torch). Tests marked
``integration`` use the real packaged all-MiniLM-L6-v2 model and a real Chroma store; the engine
over the seeds is built once per session in a temporary index folder (the project's own index/ is
never touched by tests). Every test gets its own empty user documents folder (``QA_DOCUMENTS_DIR``):
uploads never land in the checkout's documents/, and a developer's own uploads there never reach
a test's index.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.fakes import HashEmbedder

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
GOLD = ROOT / "gold" / "seeds.jsonl"


@pytest.fixture(autouse=True)
def private_documents_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's user documents folder (not created: the first upload creates it)."""
    folder = tmp_path_factory.mktemp("user") / "documents"
    monkeypatch.setenv("QA_DOCUMENTS_DIR", str(folder))
    return folder


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
    engine = QA(seeds_dir=SEEDS, index_dir=index_dir)
    engine.index()
    return engine


def seed_text(doc_id: str) -> str:
    """The original file text, exactly as offsets index it."""
    return (SEEDS / doc_id).read_bytes().decode("utf-8")
