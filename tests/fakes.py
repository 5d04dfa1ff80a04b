"""Deterministic stand-ins for the models (embedder, LLM, span reader) and the store, for fast unit tests."""

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


class NoTieEmbedder(HashEmbedder):
    """The hashing embedder plus a little noise seeded by the text: no two rows score exactly alike
    (exact ties are the one thing two exact searches may order differently)."""

    def _vec(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.md5(text.encode()).digest()[:4], "little")
        v = super()._vec(text) + 0.05 * np.random.default_rng(seed).standard_normal(self.dimension).astype(np.float32)
        return (v / np.linalg.norm(v)).astype(np.float32)


class FakeLLM:
    """A llama-index-style chat LLM with scripted replies (no HTTP): ``chat`` returns the next reply,
    ``stream_chat`` yields it in pieces of ``piece_words`` words. A reply that is an exception is raised."""

    def __init__(self, *replies, piece_words: int = 2):
        self.replies = list(replies)
        self.piece_words = piece_words
        self.calls: list = []

    def _next(self, messages):
        self.calls.append(messages)
        reply = self.replies.pop(0) if self.replies else "The answer is not in the passages."
        if isinstance(reply, BaseException):
            raise reply
        return reply

    def chat(self, messages, **kw):
        from llama_index.core.llms import ChatMessage, ChatResponse

        return ChatResponse(message=ChatMessage(role="assistant", content=self._next(messages)))

    def stream_chat(self, messages, **kw):
        from llama_index.core.llms import ChatMessage, ChatResponse

        text = self._next(messages)
        words = re.findall(r"\S+\s*", text)
        sent = ""
        for i in range(0, len(words), self.piece_words):
            delta = "".join(words[i:i + self.piece_words])
            sent += delta
            yield ChatResponse(message=ChatMessage(role="assistant", content=sent), delta=delta)


# --- an in-memory vector backend, and the crash-test hook -------------------------------------------


class MemoryStorage:
    """What an :class:`InMemoryBackend` holds: kept apart from the backend, so that a new store over
    the same storage is a "reopen" (as a new process over the same folder would be)."""

    def __init__(self):
        #: collection name -> (metadata, rows: id -> (vector, metadata, document)), in insertion order
        self.collections: dict[str, tuple[dict, dict]] = {}


class InMemoryCollection:
    """A collection of :class:`InMemoryBackend`: exact cosine similarity by numpy, insertion order on ties."""

    def __init__(self, name: str, rows: dict):
        self._name = name
        self.rows = rows

    @property
    def name(self) -> str:
        return self._name

    def add(self, ids, vectors, metadatas, documents=None) -> None:
        docs = list(documents) if documents is not None else [None] * len(ids)
        for i, v, md, doc in zip(ids, vectors, metadatas, docs):
            self.rows.setdefault(str(i), (np.asarray(v, dtype=np.float32).copy(), dict(md), doc))  # an existing id is kept, as Chroma does

    def get(self, ids=None, where=None, vectors=False):
        from qa.store.backend import Records

        keys = [i for i in ids if i in self.rows] if ids is not None else list(self.rows)
        if where:
            keys = [k for k in keys if all(self.rows[k][1].get(f) == v for f, v in where.items())]
        return Records(ids=keys, metadatas=[dict(self.rows[k][1]) for k in keys], documents=[self.rows[k][2] for k in keys],
                       vectors=[self.rows[k][0].copy() for k in keys] if vectors else [])

    def delete(self, ids) -> None:
        for i in ids:
            self.rows.pop(i, None)

    def count(self) -> int:
        return len(self.rows)

    def query(self, vector, n: int):
        from qa.store.backend import Match

        keys = list(self.rows)
        if not keys:
            return []
        m = np.stack([self.rows[k][0] for k in keys])
        q = np.asarray(vector, dtype=np.float32)
        norms = np.linalg.norm(m, axis=1) * (np.linalg.norm(q) or 1.0)
        scores = (m @ q) / np.where(norms == 0, 1.0, norms)
        order = sorted(range(len(keys)), key=lambda j: -scores[j])[: max(1, int(n))]
        return [Match(id=keys[j], score=float(scores[j]), metadata=dict(self.rows[keys[j]][1]), document=self.rows[keys[j]][2])
                for j in order]

    def refresh(self) -> None:
        pass


class InMemoryBackend:
    """A :class:`qa.store.backend.VectorBackend` in this process's memory (tests: the store's contract
    runs against it and against Chroma). ``fail`` (a callable of the operation name) can raise to
    stand in for a store that breaks mid-write."""

    def __init__(self, storage: MemoryStorage | None = None, shared: bool = False):
        self.storage = storage if storage is not None else MemoryStorage()
        self._shared = shared

    where = "memory"
    local_folder = None

    @property
    def shared(self) -> bool:
        return self._shared

    def names(self) -> list[str]:
        return list(self.storage.collections)

    def create(self, name: str, metadata) -> InMemoryCollection:
        meta, rows = self.storage.collections.setdefault(name, (dict(metadata), {}))
        return InMemoryCollection(name, rows)

    def open(self, name: str) -> InMemoryCollection:
        if name not in self.storage.collections:
            raise KeyError(f"collection {name} does not exist")
        return InMemoryCollection(name, self.storage.collections[name][1])

    def drop(self, name: str) -> None:
        self.storage.collections.pop(name, None)

    def metadata(self, name: str) -> dict:
        return dict(self.storage.collections[name][0])

    def damage(self) -> str:
        return ""

    def close(self) -> None:
        pass


#: storage per index folder for the registered "memory" backend (``QA_VECTOR_BACKEND=memory``)
MEMORY_STORAGE: dict[str, MemoryStorage] = {}


def register_memory_backend() -> None:
    """Register ``"memory"``: one :class:`MemoryStorage` per index folder, so a new store over the same
    folder (an engine, a CLI run in this process) sees what an earlier one wrote."""
    from qa.store import register_backend

    def factory(index_dir, url=""):
        return InMemoryBackend(MEMORY_STORAGE.setdefault(str(index_dir.resolve()), MemoryStorage()))

    register_backend("memory", factory)


def install_pause_hook() -> None:
    """In a process the crash tests start: with ``QA_TEST_PAUSE_AT=<point>`` (see
    :func:`qa.store.generations.checkpoint`), say so on stderr at that point and wait to be killed."""
    import os
    import sys
    import time

    from qa.store import generations

    def pause(point: str) -> None:
        if os.environ.get("QA_TEST_PAUSE_AT") == point:
            print(f"QA_TEST_PAUSED {point}", file=sys.stderr, flush=True)
            time.sleep(float(os.environ.get("QA_TEST_PAUSE_SECONDS", "3600")))

    generations.checkpoint = pause


class ScriptedReader:
    """Proposes the given (text, span score) pairs wherever they occur, each window with one null score."""

    def __init__(self, spans: list[tuple[str, float]], null: float = 0.0):
        self.spans, self.null = spans, null

    def knows_no_answer(self) -> bool:
        return True

    def read(self, question, passages, top=3):
        from qa.reader.model import ReadSpan

        out = []
        for p in passages:
            found = [ReadSpan(p.find(t), p.find(t) + len(t), s, self.null) for t, s in self.spans if t in p]
            out.append(sorted(found, key=lambda r: -r.score)[:top])
        return out
