"""qa: answer questions from a document collection, quoting its sources.

>>> from qa import QA
>>> answer = QA().ask("Who was sworn in as interim president?")   # doctest: +SKIP

Heavy modules (torch, sentence-transformers, chromadb, llama-index) load on first use, not on import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qa.types import Answer, Chunk, Citation, Document, Hit, Sentence

__all__ = ["QA", "Answer", "Chunk", "Citation", "Config", "Document", "Hit", "Sentence", "InvalidQuestion", "NoDocuments"]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from qa.config import Config
    from qa.pipeline import QA, InvalidQuestion, NoDocuments


def __getattr__(name: str) -> Any:
    if name in ("QA", "InvalidQuestion", "NoDocuments"):
        from qa import pipeline

        return getattr(pipeline, name)
    if name == "Config":
        from qa.config import Config

        return Config
    raise AttributeError(f"module 'qa' has no attribute {name!r}")
