"""The trained extractive reader: a span head plus low-rank adapters over the packaged MiniLM.

* :mod:`qa.reader.train` trains it (``qa train-reader``) and writes a small artifact;
* :mod:`qa.reader.model` reads with it (or any transformers QA model) behind the :class:`SpanReader` Protocol;
* :func:`qa.reader.loader.load_reader` picks ONNX Runtime (:mod:`qa.runtime.reader`) or torch for it;
* :class:`qa.answer.reader.ReaderAnswerer` uses it to cut short answers and to decide refusals.
"""

from qa.reader.loader import load_reader
from qa.reader.model import ReadSpan, ReaderError, SpanReader, TransformersReader

__all__ = ["ReadSpan", "ReaderError", "SpanReader", "TransformersReader", "load_reader"]
