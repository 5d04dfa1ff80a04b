"""What a vector store must offer the index: the :class:`VectorBackend` Protocol and its neutral scores.

The generation protocol (:mod:`qa.store.generations`, :mod:`qa.store.append`) and retrieval
(:mod:`qa.retrieve`) are written against these few operations only, so another vector store is one
class that implements them plus a :func:`qa.store.registry.register_backend` call. Scores are backend-neutral:
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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

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
class CollectionReader(Protocol):
    """The read half of :class:`VectorCollection`: what retrieval uses (an in-memory snapshot,
    :mod:`qa.store.snapshot`, offers it too)."""

    @property
    def name(self) -> str: ...

    def get(self, ids: Sequence[str] | None = None, where: Mapping[str, Any] | None = None,
            vectors: bool = False) -> Records:
        """The rows with ``ids`` (missing ones left out) or whose metadata equals ``where``; all when neither."""

    def count(self) -> int: ...

    def query(self, vector: np.ndarray | Sequence[float], n: int) -> list[Match]:
        """The ``n`` rows most similar to ``vector``, best first (score: cosine similarity)."""


@runtime_checkable
class VectorCollection(CollectionReader, Protocol):
    """One named collection of vectors with cosine similarity: the reads of :class:`CollectionReader`, and these."""

    def add(self, ids: Sequence[str], vectors: np.ndarray | Sequence[Sequence[float]],
            metadatas: Sequence[Mapping[str, Any]], documents: Sequence[str | None] | None = None) -> None:
        """Add rows (the caller batches: a backend may refuse very large batches)."""

    def delete(self, ids: Sequence[str]) -> None:
        """Delete rows by id (absent ids are fine)."""

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
