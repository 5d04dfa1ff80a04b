"""The span reader on ONNX Runtime: onnxruntime + tokenizers + numpy, no torch.

:class:`OnnxReader` is a :class:`qa.reader.model.TransformersReader` (same spec, artifact folder,
metadata, settings, :class:`~qa.reader.model.ReadSpan` output) whose forward pass runs on an ONNX
export of the fp32 reader: the base encoder with the artifact merged, start and end logits for every
position ([CLS] included, so the "no answer" score is there). The export is built once per content
of the artifact and base model (:mod:`qa.runtime.export`, with torch) and cached in
``<index_dir>/.onnx/``; a replaced artifact has another hash and gets a new export.

Windows are cut by the ``tokenizers`` library from the same ``tokenizer.json`` with the settings
transformers' fast tokenizer applies for :func:`qa.reader.features.make_windows` (``only_second``
truncation with stride, overflowing windows in order), so windows, offsets and logits are the torch
reader's. ``quantize`` (``QA_READER_INT8=1``) reads with ONNX Runtime's dynamic int8, per-channel
weights, made once from the fp32 export beside it: on 500 dev-half questions read whole, F1 81.0 vs
81.5 fp32, the same top span on 92 % of reads, twice as fast (benchmarks/RESULTS.md). Off by default.
With ``onnx=False`` every call goes to the torch reader instead (``QA_ONNX=0``).

Questions from concurrent threads share forward passes (:class:`qa.runtime.batching.Batcher`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.reader.features import MAX_QUESTION_TOKENS, Windows, best_spans
from qa.reader.model import ReaderError, ReadSpan, TransformersReader
from qa.runtime import cache as c

log = logging.getLogger(__name__)

#: the int8 twin of an export's fp32 graph (QA_READER_INT8=1)
INT8_MODEL_FILE = c.INT8_MODEL_FILE
_BASE_FILES = ("config.json", "tokenizer.json", "model.safetensors", "pytorch_model.bin")


def reader_exportable(reader: TransformersReader) -> str:
    """"" when ``reader`` (an artifact over a local BERT folder) can run here, else why not."""
    from qa.reader.artifacts import ARTIFACT_FILE, META_FILE, base_model_path

    art = reader.artifact_dir()
    if art is None:
        return "not a reader artifact folder (a transformers model name or folder)"
    try:
        meta = json.loads((art / META_FILE).read_text(encoding="utf-8"))
        base = Path(base_model_path(meta.get("hyperparameters", {}).get("base_model") or ""))
        model_type = json.loads((base / "config.json").read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError, TypeError, AttributeError):
        return "artifact or base model folder unreadable"
    if not (art / ARTIFACT_FILE).is_file() or not (base / "tokenizer.json").is_file():
        return "no artifact tensors or no tokenizer.json in the base model"
    if model_type != "bert":
        return f"base model type {model_type!r}"
    return ""


def length_groups(lengths: Sequence[int], waste: float = 0.1, max_rows: int = 16) -> list[list[int]]:
    """Indices of ``lengths`` in groups to run together: sorted by length, a group grows while
    padding its rows to its longest adds at most ``waste`` (a share of its real tokens).

    >>> length_groups([60, 120, 118, 61])
    [[0, 3], [2, 1]]
    """
    order = sorted(range(len(lengths)), key=lambda k: lengths[k])
    groups: list[list[int]] = []
    for k in order:
        g = groups[-1] if groups else None
        if g is not None and len(g) < max_rows:
            real = sum(lengths[i] for i in g) + lengths[k]
            if lengths[k] * (len(g) + 1) <= real * (1 + waste):
                g.append(k)
                continue
        groups.append([k])
    return groups


def split_groups(groups: list[list[int]], parts: int) -> list[list[int]]:
    """``groups`` with the largest split in halves until there are ``parts`` (to use idle cores).

    >>> split_groups([[0, 1, 2, 3]], 2)
    [[0, 1], [2, 3]]
    """
    groups = [list(g) for g in groups]
    while len(groups) < parts:
        big = max(range(len(groups)), key=lambda i: len(groups[i]), default=None)
        if big is None or len(groups[big]) < 2:
            break
        g = groups.pop(big)
        groups[big:big] = [g[: len(g) // 2], g[len(g) // 2 :]]
    return groups


class OnnxReader(TransformersReader):
    """A trained reader artifact, run on ONNX Runtime (or on torch with ``onnx=False``)."""

    def __init__(self, spec: str, *, cache_dirs: Sequence[Path] = (), onnx: bool = True, batch_wait_ms: float = 2.0, **kw: Any):
        self.onnx = onnx
        super().__init__(spec, **kw)
        self.cache_dirs = [Path(p) for p in cache_dirs]
        self._session: Any = None
        self._qtok: Any = None
        self._wtok: Any = None
        from qa.runtime.batching import Batcher

        from qa.runtime.embedder import parallel_passes

        self._batcher = Batcher(self._read_many, max_items=48, wait_ms=batch_wait_ms, size=lambda item: len(item[1]),
                                parallel=parallel_passes())
        self.export_dir: Path | None = None

    @property
    def quantize(self) -> bool:
        """int8 in effect: ONNX Runtime's int8 twin. The torch fallback (``onnx=False``, set by the
        engine's config) reads in fp32, so it also takes the fp32 calibration."""
        return self._int8 and self.onnx

    @quantize.setter
    def quantize(self, value: bool) -> None:
        self._int8 = bool(value)

    def use_cache_dirs(self, dirs: Sequence[Path]) -> None:
        """Where exports are looked up (the first is where a new one is written)."""
        if self._session is None:
            self.cache_dirs = [Path(p) for p in dirs]

    # --- loading --------------------------------------------------------------------------------

    def _key(self) -> str:
        from qa.reader.artifacts import base_model_path

        art = self.artifact_dir()
        assert art is not None
        meta = json.loads((art / "reader.json").read_text(encoding="utf-8"))
        base = Path(base_model_path(meta.get("hyperparameters", {}).get("base_model") or ""))
        # the graph is the weights merged at the artifact's scale: reader.json's other fields (its
        # calibration, history, command) change nothing exported, so recalibrating keeps the export
        files = [p for p in art.iterdir() if p.suffix == ".safetensors" and p.is_file()]
        files += [base / f for f in _BASE_FILES if (base / f).is_file()]
        recipe = {k: meta.get(k) for k in ("format", "finetune", "scale", "rank", "alpha", "base_model")}
        recipe["base_folder"] = str(meta.get("hyperparameters", {}).get("base_model") or "")
        return c.content_key(files, extra="reader|" + json.dumps(recipe, sort_keys=True))

    def _ensure_cache_dirs(self) -> None:
        if not self.cache_dirs:
            from qa.config import Config
            from qa.runtime import cache_dirs

            self.cache_dirs = cache_dirs(Config.resolve())

    def preload(self) -> None:
        """Load in a background thread if the export is cached (see :func:`qa.runtime.preload`)."""
        import threading

        from qa.runtime.embedder import _quietly

        if self._session is None and self.onnx:
            self._ensure_cache_dirs()
            if c.find_export("reader", self._key(), self.cache_dirs):
                # not a daemon: a process that ends while ONNX Runtime is still creating the session
                # aborts ("terminate called without an active exception"); exit waits the ~0.3 s instead
                threading.Thread(target=_quietly, args=(self.load,), name="qa-onnx-preload", daemon=False).start()

    def ensure_export(self) -> Path:
        """The cached export for this reader's contents; exported (with torch) when missing."""
        self._ensure_cache_dirs()
        key = self._key()
        found = c.find_export("reader", key, self.cache_dirs)
        if found is None:
            log.warning("exporting the span reader %s to ONNX (once per artifact; imports torch)", self.spec)
            from qa.runtime.export import export_reader

            fp32 = TransformersReader(self.spec, **{k: v for k, v in self._overrides.items() if v is not None})
            found = export_reader(fp32, key, self.cache_dirs)
        if self.quantize:
            c.int8_twin(found)  # made now (``qa index`` calls this), not by the first question
        return found

    def load(self) -> None:
        if not self.onnx:
            return super().load()
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            from tokenizers import Tokenizer

            from qa.runtime.embedder import open_session

            art = self.artifact_dir()
            if art is None or not (art / "reader.json").is_file():
                raise ReaderError(f"reader artifact missing in {art}; train one with `qa train-reader`, or set QA_READER=rules")
            self.meta = json.loads((art / "reader.json").read_text(encoding="utf-8"))
            for key in ("max_length", "stride", "max_answer_tokens"):
                if self._overrides[key] is None and key in self.meta:
                    setattr(self, key, int(self.meta[key]))
            folder = self.ensure_export()
            qtok = Tokenizer.from_file(str(folder / c.TOKENIZER_FILE))
            qtok.no_padding()
            qtok.no_truncation()
            wtok = Tokenizer.from_file(str(folder / c.TOKENIZER_FILE))
            wtok.no_padding()
            wtok.enable_truncation(self.max_length, stride=self.stride, strategy="only_second")
            model_file = c.int8_twin(folder) if self.quantize else folder / c.MODEL_FILE
            session = open_session(model_file)
            self._qtok, self._wtok, self.export_dir = qtok, wtok, folder
            self._session = session

    # --- reading --------------------------------------------------------------------------------

    def windows(self, questions: Sequence[str], contexts: Sequence[str]) -> Windows:
        """What :func:`qa.reader.features.make_windows` gives, cut by ``tokenizers`` alone."""
        self.load()
        limit = min(MAX_QUESTION_TOKENS, self.max_length // 4)
        clipped = []
        for q in questions:
            offsets = self._qtok.encode(q, add_special_tokens=False).offsets
            clipped.append(q if len(offsets) <= limit else q[: offsets[limit - 1][1]])
        ids, types, masks, pairs, offs = [], [], [], [], []
        for i, enc in enumerate(self._wtok.encode_batch(list(zip(clipped, contexts)))):
            for e in [enc, *enc.overflowing]:
                ids.append(e.ids)
                types.append(e.type_ids)
                masks.append(e.attention_mask)
                pairs.append(i)
                offs.append([tuple(o) if s == 1 else None for o, s in zip(e.offsets, e.sequence_ids)])
        return Windows(input_ids=ids, token_type_ids=types, attention_mask=masks, pair_index=pairs, offsets=offs)

    def logits(self, win: Windows, workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Start and end logits of every window (rows padded to the longest; padding is -inf).

        Windows run in groups of similar length (:func:`length_groups`): padding four windows of
        60-120 tokens to 120 would cost a third more work for nothing. With ``workers`` > 1 (a lone
        question: the other cores are idle) the groups are split to run side by side. In int8 each
        window is its own group, so its logits are the same whatever it is read with."""
        from qa.reader.features import pad_batch

        width = max(len(r) for r in win.input_ids)
        s_all = np.full((len(win.input_ids), width), -np.inf, dtype=np.float32)
        e_all = s_all.copy()

        def run(group: list[int]) -> None:
            feeds = {name: pad_batch([getattr(win, name)[k] for k in group])
                     for name in ("input_ids", "token_type_ids", "attention_mask")}
            s, e = self._session.run(None, feeds)
            for row, k in enumerate(group):
                n = len(win.input_ids[k])
                s_all[k, :n], e_all[k, :n] = s[row, :n], e[row, :n]

        if self.quantize:
            # dynamic int8 scales each activation tensor by its max over the whole batch, so a window
            # read beside others would get other logits (an answer that depends on who else asked):
            # in int8 every window runs alone, which also pads nothing
            groups = [[k] for k in range(len(win.input_ids))]
        else:
            groups = split_groups(length_groups([len(r) for r in win.input_ids]), workers)
        if len(groups) > 1 and workers > 1:
            list(self._pool(workers).map(run, groups))
        else:
            for g in groups:
                run(g)
        return s_all, e_all

    def _pool(self, workers: int) -> Any:
        if getattr(self, "_executor", None) is None:
            from concurrent.futures import ThreadPoolExecutor

            self._executor = ThreadPoolExecutor(workers, thread_name_prefix="qa-reader")
        return self._executor

    def reads_at_once(self) -> int:
        """Passages read side by side in one call, one per core (:func:`~qa.runtime.embedder.parallel_passes`):
        a caller that may leave passages unread (:meth:`qa.answer.reader.ReaderAnswerer._worth_reading`) reads this many per round."""
        from qa.runtime.embedder import parallel_passes

        return parallel_passes()

    def read(self, question: str, passages: Sequence[str], top: int = 3) -> list[list[ReadSpan]]:
        if not self.onnx:
            return super().read(question, passages, top)
        if not passages:
            return []
        self.load()
        return self._batcher((question, list(passages), top))

    def _read_many(self, items: list[tuple[str, list[str], int]]) -> list[list[list[ReadSpan]]]:
        questions = [q for q, ps, _ in items for _ in ps]
        contexts = [p for _, ps, _ in items for p in ps]
        win = self.windows(questions, contexts)
        from qa.runtime.embedder import parallel_passes

        # alone (no other pass running), this pass may use every core
        s, e = self.logits(win, workers=parallel_passes() if self._batcher.running() <= 1 else 1)
        found: list[list[ReadSpan]] = [[] for _ in contexts]
        owner = [k for k, (_, ps, _) in enumerate(items) for _ in ps]
        for k, p in enumerate(win.pair_index):
            n = len(win.input_ids[k])
            null = float(s[k, 0] + e[k, 0])
            for score, a, b in best_spans(s[k, :n], e[k, :n], win.offsets[k], self.max_answer_tokens, top=items[owner[p]][2]):
                found[p].append(ReadSpan(a, b, score, null))
        out: list[list[list[ReadSpan]]] = [[] for _ in items]
        for p, spans in enumerate(found):
            seen, keep = set(), []
            for sp in sorted(spans, key=lambda x: -x.score):
                if (sp.start, sp.end) not in seen:
                    seen.add((sp.start, sp.end))
                    keep.append(sp)
            out[owner[p]].append(keep[: items[owner[p]][2]])
        return out
