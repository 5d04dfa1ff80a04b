"""Answerers by name: ``QA_ANSWERER`` (config ``answerer``) picks one from this registry.

* ``extractive`` (default): sentence ranking with the trained span reader, or the rules-based
  cutter with ``QA_READER=rules`` (:mod:`qa.answer.reader`, :mod:`qa.answer.extractive`); every word shown is from the documents.
* ``llm``: an OpenAI-compatible LLM whose every sentence is checked against the passage it cites,
  the extractive answerer as its fallback (:mod:`qa.llm_answer`).

A factory takes the config and the engine's embedder (None when built without an engine) and is
called only when its name is chosen: nothing here imports a model client or opens a connection.

>>> register_answerer("mine", lambda config, embedder: MyAnswerer())   # doctest: +SKIP
>>> QA(config=Config.resolve(answerer="mine"))                         # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from qa.answer.extractive import Answerer, ExtractiveAnswerer
from qa.answer.reader import ReaderAnswerer
from qa.config import Config

AnswererFactory = Callable[[Config, Any], Answerer]
log = logging.getLogger(__name__)

_REGISTRY: dict[str, AnswererFactory] = {}


def register_answerer(name: str, factory: AnswererFactory) -> None:
    """Make ``factory(config, embedder)`` available as ``QA_ANSWERER=name``."""
    _REGISTRY[name.strip().lower()] = factory


def answerer_names() -> list[str]:
    return sorted(_REGISTRY)


def build_answerer(config: Config, embedder: Any = None) -> Answerer:
    """The answerer ``config.answerer`` names (a clear error for an unknown name)."""
    name = (config.answerer or "extractive").strip().lower()
    factory = _REGISTRY.get(name)
    if factory is None:
        raise ValueError(f"unknown answerer {config.answerer!r} (QA_ANSWERER): choose one of {', '.join(answerer_names())}")
    return factory(config, embedder)


def extractive_answerer(config: Config, embedder: Any = None) -> Answerer:
    """The trained span reader (default) or, with ``QA_READER=rules``, the rules-based cutter."""
    from qa.reader.loader import load_reader
    from qa.runtime import onnx_enabled

    # the config's onnx (not only QA_ONNX's): the reader's calibration is chosen here, by its precision
    reader = load_reader(config.reader, quantize=config.reader_int8, onnx=onnx_enabled(config))
    if reader is None:
        return ExtractiveAnswerer(refusal_threshold=config.refusal_threshold, corroboration_margin=config.corroboration_margin)
    settings = reader_settings(reader)
    threshold = settings.pop("refusal_threshold", DEFAULT_READER_THRESHOLD)
    if config.reader_refusal_threshold is not None:  # QA_READER_REFUSAL_THRESHOLD wins over the calibration
        threshold = config.reader_refusal_threshold
    elif config.refusal_threshold != Config.refusal_threshold:  # on another scale: it would refuse all or nothing
        log.warning("refusal_threshold (QA_REFUSAL_THRESHOLD) %s is the rules answerer's (QA_READER=rules); the reader "
                    "refuses under reader_refusal_threshold (QA_READER_REFUSAL_THRESHOLD), now %.4g",
                    config.refusal_threshold, threshold)
    return ReaderAnswerer(reader=reader, refusal_threshold=threshold, corroboration_margin=config.corroboration_margin, **settings)


#: the refusal threshold of a reader that was never calibrated (the window reader's, 0.61)
DEFAULT_READER_THRESHOLD = 0.61


def reader_settings(reader: Any) -> dict[str, Any]:
    """How the answerer uses ``reader``: whole passages if it was trained on them, and the weights and
    threshold calibrated for it (``reader.answerer_settings()``), known ReaderAnswerer fields only."""
    import dataclasses

    known = {f.name for f in dataclasses.fields(ReaderAnswerer)} | {"refusal_threshold"}
    given = getattr(reader, "answerer_settings", dict)()
    settings = {k: v for k, v in given.items() if k in known and k not in ("reader", "passages")}
    settings["passages"] = bool(getattr(reader, "reads_passages", lambda: False)())
    return settings


def llm_answerer(config: Config, embedder: Any = None) -> Answerer:
    """An OpenAI-compatible LLM, checked sentence by sentence; the extractive answerer as fallback."""
    from qa.llm_answer import build_llm_answerer

    return build_llm_answerer(config, embedder, fallback=extractive_answerer(config, embedder))


register_answerer("extractive", extractive_answerer)
register_answerer("llm", llm_answerer)
