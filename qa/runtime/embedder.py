"""Sentence embeddings on ONNX Runtime: onnxruntime + tokenizers + numpy, no torch.

:class:`OnnxEmbedder` gives what :class:`qa.embed.SentenceTransformerEmbedder` gives (same name,
dimension and vectors: equal to 1e-5, measured ~2e-7) for a sentence-transformers folder made of a
BERT Transformer, mean Pooling and (optionally) Normalize, which is what all-MiniLM-L6-v2 is. The
graph (encoder, masked mean pooling, L2 normalisation in one) is exported once by
:mod:`qa.runtime.export` and cached in ``<index_dir>/.onnx/`` under the model's content hash.

Hand-written rather than fastembed: fastembed (0.9) runs the same kind of graph with the same
pooling, but importing it pulls huggingface_hub, requests, PIL and loguru (+1.0-1.4 s measured on
this machine against 0.5 s for onnxruntime + tokenizers), a third of the 2 s cold-start budget, and
its tokenizer truncates at the tokenizer's 512 rather than the model's 256 tokens.

Queries from concurrent threads share forward passes (:class:`qa.runtime.batching.Batcher`).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.runtime import cache as c

log = logging.getLogger(__name__)

#: the files of a sentence-transformers folder whose contents decide the export
_SOURCE_FILES = ("config.json", "tokenizer.json", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json")
_WEIGHTS = ("model.safetensors", "pytorch_model.bin")


def exportable(model_dir: str | Path) -> str:
    """"" when ``model_dir`` is a sentence-transformers folder this module can run (BERT encoder,
    mean pooling, fast tokenizer), else why not (the model then takes the torch path)."""
    d = Path(model_dir)
    try:
        modules = json.loads((d / "modules.json").read_text(encoding="utf-8"))
        types = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling = json.loads((d / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        cfg = json.loads((d / "config.json").read_text(encoding="utf-8"))
        seq = json.loads((d / "sentence_bert_config.json").read_text(encoding="utf-8")).get("max_seq_length")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return "not a local sentence-transformers folder"
    if types not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        return f"modules {types}"
    if not pooling.get("pooling_mode_mean_tokens") or sum(bool(v) for k, v in pooling.items() if k.startswith("pooling_mode")) != 1:
        return "pooling other than mean"
    if cfg.get("model_type") != "bert":
        return f"model type {cfg.get('model_type')!r}"
    if not isinstance(seq, int) or not (d / "tokenizer.json").is_file() or not any((d / w).is_file() for w in _WEIGHTS):
        return "no max_seq_length, tokenizer.json or weights"
    return ""


def embedder_key(model_dir: Path) -> tuple[str, int]:
    seq = int(json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))["max_seq_length"])
    files = [model_dir / f for f in _SOURCE_FILES + _WEIGHTS if (model_dir / f).is_file()]
    return c.content_key(files, extra=f"embedder|seq={seq}"), seq


def onnx_threads() -> int:
    """ONNX Runtime threads per pass: ``QA_ONNX_THREADS``, default 1."""
    return max(1, int(os.environ.get("QA_ONNX_THREADS", "0") or 0) or 1)


def parallel_passes() -> int:
    """Passes that run at once: one per core for one-thread passes.

    One thread per pass, several passes at once, rather than one pass over every core: on a 2-core
    machine shared with other jobs a pass split over both cores waits at every layer for the thread
    that was descheduled (measured here: 4 reader windows 362 ms on one thread, 410-630 ms on two),
    and concurrent requests fill the cores anyway."""
    return max(1, (os.cpu_count() or 1) // onnx_threads())


def session_options() -> Any:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = onnx_threads()
    so.inter_op_num_threads = 1
    # idle pool threads would spin for a while after each pass, taking the CPU from the request
    # threads (tokenising, retrieving) that have work to do on a 2-core machine
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.log_severity_level = 3
    return so


#: ONNX Runtime graph rewrites left out. Its fused SkipLayerNormalization kernel (1.32, CPU, fp32) takes
#: ~0.30 ms where the Add + LayerNormalization it replaces take ~0.04 (one [1, 150, 384] input, here): a
#: seventh of an int8 reader pass. Measured on 1,500 dev-half questions, int8, whole paragraphs: F1
#: 81.1 -> 81.2, the same top span as fp32 on 91.2 % of reads either way, 16.9 -> 14.3 ms a read.
SLOW_FUSIONS = ("SkipLayerNormFusion",)


def open_session(model_file: Path | str) -> Any:
    """An ONNX Runtime CPU session with :func:`session_options`, without :data:`SLOW_FUSIONS`."""
    import onnxruntime as ort

    return ort.InferenceSession(str(model_file), session_options(), providers=["CPUExecutionProvider"],
                                disabled_optimizers=list(SLOW_FUSIONS))


def pad(encodings: Sequence[Any]) -> dict[str, np.ndarray]:
    """``tokenizers`` encodings as right-padded int64 inputs (pad id 0, mask 0)."""
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for i, e in enumerate(encodings):
        n = len(e.ids)
        ids[i, :n], mask[i, :n], types[i, :n] = e.ids, 1, e.type_ids
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def _quietly(fn: Callable[[], None]) -> None:
    """Run ``fn``, dropping any error: the caller's own load will raise it where it can be seen."""
    try:
        fn()
    except Exception:  # noqa: BLE001
        log.debug("background load failed", exc_info=True)


class OnnxEmbedder:
    """A sentence-transformers folder, run on ONNX Runtime (the export is built on first use)."""

    def __init__(self, name: str, model_dir: str | Path, cache_dirs: Sequence[Path], batch_size: int = 64,
                 batch_wait_ms: float = 2.0, query_int8: bool = False):
        self.name = name
        self.model_dir = Path(model_dir)
        self.cache_dirs = [Path(p) for p in cache_dirs]
        self.batch_size = batch_size
        #: questions on the export's dynamic int8 twin, one per pass; documents always in fp32
        self.query_int8 = query_int8
        self._dimension: int | None = None
        self._session: Any = None  # fp32: documents (and questions unless query_int8)
        self._query_session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()
        self._fp32_lock = threading.Lock()
        from qa.runtime.batching import Batcher

        self._queries = Batcher(self._embed_many, max_items=32, wait_ms=batch_wait_ms, parallel=parallel_passes())
        #: where the export was found or built (for reports)
        self.export_dir: Path | None = None

    def load(self) -> None:
        """What answering needs: the tokenizer and the questions' session. A process that only
        answers never loads the fp32 graph when questions run in int8 (a quarter of the bytes)."""
        if self._query_session is not None:
            return
        with self._lock:
            if self._query_session is not None:
                return
            from tokenizers import Tokenizer

            folder = self.ensure_export()
            meta = c.read_meta(folder)
            tok = Tokenizer.from_file(str(folder / c.TOKENIZER_FILE))
            tok.no_padding()  # tokenizer.json may carry fixed padding/truncation: sentence-transformers ignores it
            tok.enable_truncation(int(meta["max_seq_length"]))
            self._dimension = int(meta["dimension"])
            self._tokenizer, self.export_dir = tok, folder
            self._query_session = self._open(c.int8_twin(folder)) if self.query_int8 else self._fp32()

    def _open(self, model_file: Path) -> Any:
        return open_session(model_file)

    def _fp32(self) -> Any:
        """The fp32 session (documents are always embedded in fp32), opened on first need."""
        if self._session is None:
            with self._fp32_lock:  # not self._lock: load() holds that one when it calls here
                if self._session is None:
                    self._session = self._open((self.export_dir or self.ensure_export()) / c.MODEL_FILE)
        return self._session

    def preload(self) -> None:
        """Load in a background thread if the export is cached (see :func:`qa.runtime.preload`)."""
        if self._query_session is None and c.find_export("embedder", embedder_key(self.model_dir)[0], self.cache_dirs):
            # not a daemon: a process that ends while ONNX Runtime is still creating the session
            # aborts ("terminate called without an active exception"); exit waits the ~0.3 s instead
            threading.Thread(target=_quietly, args=(self.load,), name="qa-onnx-preload", daemon=False).start()

    def ensure_export(self) -> Path:
        """The cached export for this model's contents; exported (with torch) when missing."""
        key, seq = embedder_key(self.model_dir)
        found = c.find_export("embedder", key, self.cache_dirs)
        if found is None:
            log.warning("exporting the embedding model %s to ONNX (once per model; imports torch)", self.name)
            from qa.runtime.export import export_embedder

            found = export_embedder(self.model_dir, seq, key, self.cache_dirs)
        if self.query_int8:
            c.int8_twin(found)  # made now (``qa index`` calls this), not by the first question
        return found

    @property
    def dimension(self) -> int:
        if self._dimension is None:  # from the export's record: opening the index needs no session
            self._dimension = int(c.read_meta(self.ensure_export())["dimension"])
        return self._dimension

    def _run(self, texts: Sequence[str], session: Any = None) -> np.ndarray:
        feeds = pad(self._tokenizer.encode_batch(list(texts)))
        return (session or self._fp32()).run(None, feeds)[0].astype(np.float32, copy=False)

    def _embed_many(self, texts: list[str]) -> list[np.ndarray]:
        """Questions of concurrent callers in one pass; in int8 one pass each, since dynamic int8
        would scale each question by the others in its batch (a vector that depends on who else asked)."""
        if self.query_int8:
            return [self._run([t], self._query_session)[0] for t in texts]
        return list(self._run(texts, self._query_session))

    def embed_texts(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        self.load()
        self._fp32()
        assert self._dimension is not None
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        # batches of similar length: padding a 10-token sentence to a 250-token chunk costs 25x
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        out = np.empty((len(texts), self._dimension), dtype=np.float32)

        def one(idx: list[int]) -> list[int]:
            out[idx] = self._run([texts[j] for j in idx])
            return idx

        workers = min(parallel_passes(), len(batches))
        if workers == 1:
            done = map(one, batches)
        else:  # one-thread passes side by side: ONNX Runtime runs them outside the GIL
            from concurrent.futures import ThreadPoolExecutor

            pool = ThreadPoolExecutor(workers, thread_name_prefix="qa-embed")
            done = pool.map(one, batches)
        try:
            for idx in done:
                if progress:
                    progress(len(idx))
        finally:
            if workers > 1:
                pool.shutdown()
        return out

    def embed_query(self, text: str) -> np.ndarray:
        self.load()
        return np.asarray(self._queries(text), dtype=np.float32)
