"""Vector backends by name: ``"chroma"`` (the default), or any registered with :func:`register_backend`.

Chosen by the ``backend`` argument of :class:`~qa.store.IndexStore` (the engine passes
``Config.vector_backend``), else ``QA_VECTOR_BACKEND``, else Chroma.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from qa.store.backend import VectorBackend
from qa.store.chroma import ChromaBackend

#: the backend used when none is named (``QA_VECTOR_BACKEND`` names another)
DEFAULT_BACKEND = "chroma"
BACKEND_ENV = "QA_VECTOR_BACKEND"

#: name -> factory(index_dir, url) -> backend
_FACTORIES: dict[str, Callable[[Path, str], VectorBackend]] = {}


def register_backend(name: str, factory: Callable[[Path, str], VectorBackend]) -> None:
    """Make ``factory(index_dir, url)`` available as ``QA_VECTOR_BACKEND=name``."""
    _FACTORIES[name] = factory


def _chroma(index_dir: Path, url: str) -> VectorBackend:
    return ChromaBackend(index_dir / "chroma", url)  # chromadb itself is imported when a client opens


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
