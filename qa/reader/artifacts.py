"""A reader artifact on disk: its files, the base model it adapts, and writing it (the pair of loading).

Loading is :mod:`qa.reader.model` (torch) and :mod:`qa.runtime.reader` (ONNX); both take the names here.
Kept apart from :mod:`qa.reader.train` so that loading a reader never imports training code; the writer
imports torch and safetensors only when called.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

#: the trained tensors (LoRA adapters, or whole encoder layers for a full fine-tune), fp16
ARTIFACT_FILE = "adapter.safetensors"
#: hyperparameters, training data, validation scores, licence and the reproduce command
META_FILE = "reader.json"


def base_model_path(name: str = "") -> str:
    """The folder (or model name) of the encoder a reader adapts; "" is the packaged all-MiniLM-L6-v2."""
    if name:
        return name
    from qa.config import PACKAGED_MODEL
    from qa.embed import resolve_model

    return resolve_model(PACKAGED_MODEL)[1]


def save_artifact(model, cfg, out: Path, meta: dict[str, Any]) -> Path:
    """Write the trained tensors (fp16), the model card and ``reader.json``, each by rename (a kill keeps the old)."""
    import torch
    from safetensors.torch import save_file

    from qa.reader.checkpoint import trained_state

    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.to(torch.float16).cpu().contiguous() for k, v in trained_state(model).items()}
    tmp = out / (ARTIFACT_FILE + ".tmp")
    save_file(state, str(tmp), metadata={"format": "qa-reader-lora"})
    os.replace(tmp, out / ARTIFACT_FILE)
    meta = dict(meta, tensors=len(state), params=int(sum(v.numel() for v in state.values())))
    (out / "README.md").write_text(model_card(meta), encoding="utf-8")
    tmpm = out / (META_FILE + ".tmp")
    tmpm.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmpm, out / META_FILE)
    return out


def model_card(meta: dict[str, Any]) -> str:
    """A human-readable README for the artifact folder, from its metadata."""
    td = meta.get("training_data", {})
    val = meta.get("validation", {})
    hp = meta.get("hyperparameters", {})
    return "\n".join([
        f"# qa span reader ({meta.get('finetune', 'lora')} fine-tune + span head over {meta.get('base_model')})",
        "",
        f"- **Base model**: {meta.get('base_model')}; the trained tensors (LoRA rank {meta.get('rank')} or whole layers) are "
        "loaded into it at load time, so nothing is downloaded.",
        f"- **Training data**: {td.get('file')}: {td.get('train_questions')} questions of "
        f"{len(td.get('train_articles', []))} articles ({', '.join(td.get('train_articles', []))}).",
        f"- **Held out** (validation, and the only SQuAD questions `qa eval` scores this reader on): "
        f"{td.get('validation_questions')} questions of {', '.join(td.get('validation_articles', []))}.",
        f"- **Validation** (gold paragraph, {val.get('n')} questions): EM {val.get('em')} / F1 {val.get('f1')} after {meta.get('steps')} steps "
        f"({meta.get('trained_seconds')} s on CPU).",
        f"- **Licence**: {meta.get('licence')}",
        f"- **Reproduce**: `{meta.get('command')}` (seed {hp.get('seed')}; every hyperparameter is in reader.json).",
        "",
    ])
