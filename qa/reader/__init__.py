"""The trained extractive reader: a span head plus low-rank adapters over the packaged MiniLM.

* :mod:`qa.reader.train` trains it (``qa train-reader``) and writes a small artifact;
* :mod:`qa.reader.model` loads it (or any transformers QA model) behind the :class:`SpanReader` Protocol;
* :class:`qa.answer.ReaderAnswerer` uses it to cut short answers and to decide refusals.
"""

from qa.reader.model import ReadSpan, ReaderError, SpanReader, TransformersReader, load_reader

__all__ = ["ReadSpan", "ReaderError", "SpanReader", "TransformersReader", "load_reader"]
