"""Deterministic stand-ins for the model, for fast unit tests."""

from __future__ import annotations

import hashlib
import re

import numpy as np


class HashEmbedder:
    """Bag-of-words hashed into 256 dims: deterministic, shares words → similar vectors."""

    def __init__(self, name: str = "test/hash-embedder", dimension: int = 256):
        self.name = name
        self.dimension = dimension
        self.calls = 0
        self.texts_embedded = 0

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dimension, dtype=np.float32)
        for w in re.findall(r"\w+", text.lower()):
            h = int.from_bytes(hashlib.md5(w.encode()).digest()[:4], "little")
            v[h % self.dimension] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def embed_texts(self, texts, progress=None):
        self.calls += 1
        self.texts_embedded += len(texts)
        out = np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)
        if progress:
            progress(len(texts))
        return out

    def embed_query(self, text):
        self.calls += 1
        return self._vec(text)
