"""Export the embedding model and the span reader to ONNX (fp32). This module imports torch.

It runs once per model content (at ``qa index``, or on first use when no export is cached); every
later process answers with :mod:`qa.runtime.embedder` and :mod:`qa.runtime.reader`, which import
neither torch nor transformers.

The exporter is torch's TorchScript-based one (``torch.onnx.export(..., dynamo=False)``): it works
offline with only the ``onnx`` package, while the dynamo exporter also needs ``onnxscript``. Each
export is checked against torch before it is published: the same inputs (two batches of different
lengths, with padding) through both, the largest difference recorded in ``export.json`` and the
export refused if it is over :data:`CHECK_TOLERANCE`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from qa.runtime import cache as c

log = logging.getLogger(__name__)

#: largest |torch - onnx| accepted right after export (embeddings are unit vectors; logits ~10)
CHECK_TOLERANCE = 1e-3
OPSET = 17
_AXES = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
         "token_type_ids": {0: "batch", 1: "tokens"}}
_PROBE = [
    ("Who was sworn in as interim president?", "Delcy Rodríguez was formally sworn in as interim president on Monday."),
    ("When?", "It happened on January 3, 2026, hours before dawn; " * 12),
    ("Where did it break out?", "Heavy gunfire broke out in Caracas."),
]


def _quiet_transformers() -> None:
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def _torch_export(module: Any, out: Path, outputs: list[str]) -> None:
    import warnings

    import torch

    x = torch.ones(2, 8, dtype=torch.long)
    axes = dict(_AXES, **{name: {0: "batch", 1: "tokens"} if name != "embedding" else {0: "batch"} for name in outputs})
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")  # the tracer's TracerWarnings about shape-dependent Python code
        torch.onnx.export(module, (x, x, torch.zeros_like(x)), str(out), input_names=list(_AXES), output_names=outputs,
                          dynamic_axes=axes, opset_version=OPSET, dynamo=False)
    _drop_nan_guards(out)


def _drop_nan_guards(path: Path) -> int:
    """Remove the ``Where(IsNaN(softmax), 0, softmax)`` that torch's attention export puts after every
    softmax, and return how many went. It guards rows whose keys are all masked, which our inputs never
    have: every window and every sentence attends to its [CLS] token. So the graph computes the same
    values, bit for bit, and a reader pass of ~180 tokens takes ~15 instead of ~19 ms here (the guards
    and the masks feeding them were a fifth of its kernel time)."""
    import onnx

    model = onnx.load(str(path))
    nodes = model.graph.node
    users: dict[str, list[Any]] = {}
    for n in nodes:
        for name in n.input:
            users.setdefault(name, []).append(n)
    dropped = []
    for isnan in [n for n in nodes if n.op_type == "IsNaN"]:
        after = users.get(isnan.output[0], [])
        if len(after) != 1 or after[0].op_type != "Where" or after[0].input[2] != isnan.input[0]:
            continue  # not the guard's shape: leave it
        guard = after[0]
        if any(o.name == guard.output[0] for o in model.graph.output):
            continue
        for user in users.get(guard.output[0], []):
            for k, name in enumerate(user.input):
                if name == guard.output[0]:
                    user.input[k] = isnan.input[0]
        dropped += [isnan, guard]
    for n in dropped:
        nodes.remove(n)
    used = {name for n in nodes for name in n.input} | {o.name for o in model.graph.output}
    for n in dropped[1::2]:  # the guards' zeros, when nothing else reads them
        zero = next((z for z in nodes if z.op_type == "Constant" and z.output[0] == n.input[1]), None)
        if zero is not None and zero.output[0] not in used:
            nodes.remove(zero)
    if dropped:
        onnx.save(model, str(path))
    return len(dropped) // 2


def _feeds(tokenizer_file: Path, pairs: bool) -> dict[str, np.ndarray]:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_file))
    tok.no_padding()
    tok.enable_truncation(128)
    encs = tok.encode_batch(_PROBE if pairs else [q + " " + p for q, p in _PROBE])
    width = max(len(e.ids) for e in encs)
    out = {k: np.zeros((len(encs), width), np.int64) for k in _AXES}
    for i, e in enumerate(encs):
        n = len(e.ids)
        out["input_ids"][i, :n], out["attention_mask"][i, :n], out["token_type_ids"][i, :n] = e.ids, 1, e.type_ids
    return out


def _check(module: Any, folder: Path, pairs: bool) -> float:
    """Largest |torch - onnxruntime| over every output, on probe batches with padding."""
    import onnxruntime as ort
    import torch

    feeds = _feeds(folder / c.TOKENIZER_FILE, pairs)
    sess = ort.InferenceSession(str(folder / c.MODEL_FILE), providers=["CPUExecutionProvider"])
    worst = 0.0
    for rows in (slice(0, 3), slice(2, 3)):
        part = {k: v[rows] for k, v in feeds.items()}
        with torch.inference_mode():
            ref = module(*(torch.from_numpy(part[k]) for k in _AXES))
        ref = ref if isinstance(ref, tuple) else (ref,)
        got = sess.run(None, part)
        mask = part["attention_mask"].astype(bool)
        for r, g in zip(ref, got):
            r = r.float().numpy()
            diff = np.abs(r - g)[mask] if r.ndim == 2 and r.shape == mask.shape else np.abs(r - g)
            worst = max(worst, float(diff.max()))
    return worst


def _finish(folder: Path, module: Any, pairs: bool, meta: dict[str, Any]) -> None:
    worst = _check(module, folder, pairs)
    if worst > CHECK_TOLERANCE:
        raise RuntimeError(f"ONNX export differs from torch by {worst:.2e} (> {CHECK_TOLERANCE}); not using it")
    import torch

    c.write_meta(folder, dict(meta, checked_max_abs_diff=worst, torch=torch.__version__, opset=OPSET,
                              exporter="torch.onnx.export (TorchScript, dynamo=False)",
                              created=time.strftime("%Y-%m-%dT%H:%M:%S%z")))


def export_embedder(model_dir: Path, max_seq_length: int, key: str, caches: list[Path]) -> Path:
    """Export a BERT-style sentence-transformers folder as one graph: encoder, mean pooling over
    the attention mask, L2 normalisation (what its Pooling and Normalize modules do)."""
    import torch
    from transformers import AutoModel

    _quiet_transformers()
    bert = AutoModel.from_pretrained(str(model_dir)).eval()

    class Pooled(torch.nn.Module):
        def __init__(self, m: Any):
            super().__init__()
            self.m = m

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            h = self.m(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(h.dtype)
            v = (h * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(v, p=2, dim=1)

    module = Pooled(bert).eval()
    dim = int(bert.config.hidden_size)

    def write(tmp: Path) -> None:
        _torch_export(module, tmp / c.MODEL_FILE, ["embedding"])
        shutil.copy2(model_dir / c.TOKENIZER_FILE, tmp / c.TOKENIZER_FILE)
        _finish(tmp, module, False, {"kind": "embedder", "source": str(model_dir), "key": key,
                                     "dimension": dim, "max_seq_length": max_seq_length})

    return _publish("embedder", key, caches, write, str(model_dir))


def export_reader(reader: Any, key: str, caches: list[Path]) -> Path:
    """Export a span reader (a :class:`qa.reader.model.TransformersReader`, loaded fp32 with its
    artifact merged) to a graph with start and end logits for every position, [CLS] included."""
    import torch

    _quiet_transformers()
    reader.load()
    model = reader._model  # fp32: the reader is built with quantize=False for export

    class Logits(torch.nn.Module):
        def __init__(self, m: Any):
            super().__init__()
            self.m = m

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.m(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.start_logits, out.end_logits

    module = Logits(model).eval()
    tokenizer_json = Path(reader._tokenizer.name_or_path) / c.TOKENIZER_FILE
    art = reader.artifact_dir()

    def write(tmp: Path) -> None:
        _torch_export(module, tmp / c.MODEL_FILE, ["start_logits", "end_logits"])
        if tokenizer_json.is_file():
            shutil.copy2(tokenizer_json, tmp / c.TOKENIZER_FILE)
        else:  # a tokenizer that lives only in transformers' memory: save its fast form
            reader._tokenizer.backend_tokenizer.save(str(tmp / c.TOKENIZER_FILE))
        if art is not None:
            shutil.copy2(art / "reader.json", tmp / "reader.json")
        settings = {k: getattr(reader, k) for k in ("max_length", "stride", "max_answer_tokens")}
        (tmp / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
        _finish(tmp, module, True, {"kind": "reader", "source": str(art or reader.spec), "key": key, **settings})

    return _publish("reader", key, caches, write, str(art or reader.spec))


def _publish(kind: str, key: str, caches: list[Path], write: Any, source: str) -> Path:
    """Export into the first cache, copy into the others (best effort), drop older exports of ``source``."""
    t0 = time.perf_counter()
    folder = c.publish(caches[0], f"{kind}-{key}", write)
    log.info("exported the %s to %s in %.1fs", kind, folder, time.perf_counter() - t0)
    prune(caches[0], kind, source, keep=folder)
    for other in caches[1:]:
        shared = c.share(folder, other)
        if shared is not None:
            prune(other, kind, source, keep=shared)
    return folder


def prune(cache: Path, kind: str, source: str, keep: Path) -> None:
    """Drop older exports of the same source (a replaced artifact's), keeping ``keep``."""
    for p in cache.glob(f"{kind}-*"):
        if p == keep or not c.is_complete(p):
            continue
        try:
            if c.read_meta(p).get("source") == source:
                shutil.rmtree(p, ignore_errors=True)
        except (OSError, ValueError):
            continue
