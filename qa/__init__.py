"""qa: answer questions from a document collection, quoting its sources.

>>> from qa import QA, Turn
>>> answer = QA().ask("Who was sworn in as interim president?")   # doctest: +SKIP
>>> QA().ask("When was she sworn in?", history=[Turn.of(answer)])  # doctest: +SKIP

Heavy modules (torch, sentence-transformers, chromadb, llama-index) load on first use, not on import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qa.types import Answer, Chunk, Citation, Document, Hit, Sentence

__all__ = ["QA", "Answer", "Chunk", "Citation", "Config", "Document", "Hit", "Sentence", "InvalidQuestion", "NoDocuments", "Turn"]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from qa.config import Config
    from qa.conversation import Turn
    from qa.engine import QA
    from qa.guards import InvalidQuestion, NoDocuments


def __getattr__(name: str) -> Any:
    if name == "QA":
        from qa.engine import QA

        return QA
    if name in ("InvalidQuestion", "NoDocuments"):
        from qa import guards

        return getattr(guards, name)
    if name == "Turn":
        from qa.conversation import Turn

        return Turn
    if name == "Config":
        from qa.config import Config

        return Config
    raise AttributeError(f"module 'qa' has no attribute {name!r}")
