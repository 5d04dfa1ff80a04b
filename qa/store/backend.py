"""What a vector store must offer the index: the :class:`VectorBackend` Protocol, and backends by name.

The generation protocol (:mod:`qa.store.generations`, :mod:`qa.store.append`) and retrieval
(:mod:`qa.retrieve`) are written against these few operations only, so another vector store is one
class that implements them plus a :func:`register_backend` call. Scores are backend-neutral:
:meth:`VectorCollection.query` returns *cosine similarity* (higher is better, in [-1, 1]; 1 for the
same direction), whatever the store computes internally; a backend converts its own convention
(Chroma's cosine *distance*, for instance) in one place, its own module.

Collections hold rows of (id, vector, metadata, document). Metadata values are str, int, float or
bool (what every store can filter on); the document is the row's text, or None.

>>> backend = make_backend("chroma", Path("index"))           # doctest: +SKIP
>>> col = backend.create("qa_x_chunks", {"qa_index_id": "x"})  # doctest: +SKIP
>>> col.query(vector, 5)[0].score                              # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

#: the backend used when none is named (``QA_VECTOR_BACKEND`` names another)
DEFAULT_BACKEND = "chroma"
BACKEND_ENV = "QA_VECTOR_BACKEND"


class IndexUnusable(RuntimeError):
    """The index (its folder, manifest or vector store) cannot be used as it is; the message says what to do.

    Raised by backends too (a server that cannot be reached), hence defined here.
    """


@dataclass(frozen=True)
class Records:
    """Rows read by :meth:`VectorCollection.get` (parallel lists; ``vectors`` empty unless asked for)."""

    ids: list[str]
    metadatas: list[dict[str, Any]]
    documents: list[str | None]
    vectors: list[np.ndarray]


@dataclass(frozen=True)
class Match:
    """One row found by :meth:`VectorCollection.query`; ``score`` is cosine similarity (higher is better)."""

    id: str
    score: float
    metadata: dict[str, Any]
    document: str | None


@runtime_checkable
class VectorCollection(Protocol):
    """One named collection of vectors with cosine similarity."""

    @property
    def name(self) -> str: ...

    def add(self, ids: Sequence[str], vectors: np.ndarray | Sequence[Sequence[float]],
            metadatas: Sequence[Mapping[str, Any]], documents: Sequence[str | None] | None = None) -> None:
        """Add rows (the caller batches: a backend may refuse very large batches)."""

    def get(self, ids: Sequence[str] | None = None, where: Mapping[str, Any] | None = None,
            vectors: bool = False) -> Records:
        """The rows with ``ids`` (missing ones left out) or whose metadata equals ``where``; all when neither."""

    def delete(self, ids: Sequence[str]) -> None:
        """Delete rows by id (absent ids are fine)."""

    def count(self) -> int: ...

    def query(self, vector: np.ndarray | Sequence[float], n: int) -> list[Match]:
        """The ``n`` rows most similar to ``vector``, best first (score: cosine similarity)."""

    def refresh(self) -> None:
        """Make rows another process added visible to this one (a no-op where that is always so)."""


@runtime_checkable
class VectorBackend(Protocol):
    """A place that holds named collections (one per side and generation of an index)."""

    @property
    def where(self) -> str:
        """Where the vectors live, for messages."""

    @property
    def shared(self) -> bool:
        """Other indexes' collections may live here too (a server): only this index's names are touched."""

    @property
    def local_folder(self) -> Path | None:
        """The folder inside index_dir holding this backend's data (moved aside when damaged), or None."""

    def names(self) -> list[str]: ...

    def create(self, name: str, metadata: Mapping[str, Any]) -> VectorCollection:
        """Open the collection ``name``, creating it (with ``metadata``) when missing."""

    def open(self, name: str) -> VectorCollection:
        """Open an existing collection (raises when it is missing)."""

    def drop(self, name: str) -> None:
        """Delete a collection (a missing one is fine)."""

    def metadata(self, name: str) -> dict[str, Any]: ...

    def damage(self) -> str:
        """Why the local data cannot be used ("" when sound or when there is none)."""

    def close(self) -> None:
        """Forget open clients (before the local folder is moved aside)."""


#: name -> factory(index_dir, url) -> backend
_FACTORIES: dict[str, Callable[[Path, str], VectorBackend]] = {}


def register_backend(name: str, factory: Callable[[Path, str], VectorBackend]) -> None:
    """Make ``factory(index_dir, url)`` available as ``QA_VECTOR_BACKEND=name``."""
    _FACTORIES[name] = factory


def _chroma(index_dir: Path, url: str) -> VectorBackend:
    from qa.store.chroma import ChromaBackend  # lazy: chromadb costs ~1 s to import

    return ChromaBackend(index_dir / "chroma", url)


register_backend("chroma", _chroma)


def backend_name(name: str = "") -> str:
    """``name``, else ``QA_VECTOR_BACKEND``, else the default; refuses a name nobody registered."""
    chosen = (name or os.environ.get(BACKEND_ENV, "") or DEFAULT_BACKEND).strip().lower()
    if chosen not in _FACTORIES:
        raise ValueError(f"unknown vector backend {chosen!r} ({BACKEND_ENV}); known: {', '.join(sorted(_FACTORIES))}")
    return chosen


def make_backend(name: str, index_dir: Path, url: str = "") -> VectorBackend:
    """The backend registered as ``name`` (see :func:`backend_name`) for ``index_dir`` (and server ``url``)."""
    return _FACTORIES[backend_name(name)](Path(index_dir), url)
