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
