"""The query path on ONNX Runtime: embedder and span reader without torch or transformers.

With the packaged models (and any local sentence-transformers folder of the same shape, and any
reader artifact folder over a local BERT base), answering imports onnxruntime, tokenizers and numpy
only. Exports are built once per model content (:mod:`qa.runtime.export`, which imports torch) and
cached in ``<index_dir>/.onnx/`` (:mod:`qa.runtime.cache`). Other models (a sentence-transformers
or transformers model by hub name, another architecture) take the torch path, which is also the
path of ``QA_ONNX=0`` (config ``onnx``) and of training.

>>> emb = make_embedder(Config.resolve())          # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from qa.config import PACKAGED_MODEL, Config
from qa.runtime.cache import cache_dir_for

log = logging.getLogger(__name__)


def onnx_enabled(config: Config | None = None) -> bool:
    """The ``onnx`` setting of ``config``, else of ``QA_ONNX`` (default on)."""
    if config is not None and hasattr(config, "onnx"):
        return bool(config.onnx)
    return os.environ.get("QA_ONNX", "1").strip().lower() not in ("0", "false", "no", "off")


def cache_dirs(config: Config) -> list[Path]:
    """Where exports are looked up: the index folder's own ``.onnx/``, then the per-user shared
    cache (so an evaluation index under ``index/eval/``, or a test's temporary index, reuses the
    exports instead of running torch again); new exports are written to the first and copied to
    the second."""
    from qa.runtime.cache import shared_cache

    return [cache_dir_for(config.index_dir), shared_cache()]


def make_embedder(config: Config) -> Any:
    """The embedder ``config.model`` names: on ONNX Runtime when it can be, else sentence-transformers."""
    from qa.embed import SentenceTransformerEmbedder, resolve_model

    if onnx_enabled(config) and config.device == "cpu":
        name, folder = resolve_model(config.model) if config.model == PACKAGED_MODEL else (config.model, config.model)
        from qa.runtime.embedder import OnnxEmbedder, exportable

        why = exportable(folder)
        if not why:
            return OnnxEmbedder(name, folder, cache_dirs(config), batch_size=config.embed_batch_size,
                                query_int8=config.query_int8)
        log.warning("embedding model %s takes the slow torch path (sentence-transformers, ~4 s to import): %s; "
                    "only BERT sentence-transformers folders with mean pooling run on ONNX Runtime", config.model, why)
    return SentenceTransformerEmbedder(config.model, device=config.device, batch_size=config.embed_batch_size)


def bind_reader(answerer: Any, config: Config) -> None:
    """Point an answerer's ONNX reader (if it has one) at this engine's export cache and runtime."""
    reader = getattr(answerer, "reader", None)
    if reader is None or not hasattr(reader, "use_cache_dirs"):
        return
    reader.use_cache_dirs(cache_dirs(config))
    reader.onnx = onnx_enabled(config)


def prepare_exports(engine: Any) -> list[Path]:
    """Build the ONNX exports an engine answers with, if missing (``qa index`` calls this, so the
    first ``qa ask`` after it needs no torch). Returns the export folders; [] on the torch path."""
    out = []
    for obj in (getattr(engine.embedder, "inner", engine.embedder), getattr(engine.answerer, "reader", None)):
        ensure = getattr(obj, "ensure_export", None)
        if ensure is not None and getattr(obj, "onnx", True):
            out.append(ensure())
    return out


def preload(engine: Any) -> None:
    """Start loading the engine's ONNX sessions in background threads when their exports are
    cached (never exporting there): ONNX Runtime builds a session outside the GIL, so on two cores
    this overlaps with importing chromadb and bm25s and opening the index (``qa ask``)."""
    for obj in (getattr(engine.embedder, "inner", engine.embedder), getattr(engine.answerer, "reader", None)):
        start = getattr(obj, "preload", None)
        if start is not None and getattr(obj, "onnx", True):
            start()
