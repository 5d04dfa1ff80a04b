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
    arts = td.get("train_articles", [])
    where = meta.get("trained_on", {}).get("device") or "CPU"  # train() records it ("cpu", or the GPU's name)
    trained = "whole encoder layers" if meta.get("finetune") == "full" else f"LoRA rank {meta.get('rank')} adapters"
    if hp.get("val_squad"):
        held = (f"- **Validation file**: {td.get('validation_file')} (no question of it is trained on, so `qa eval` scores "
                f"every one of its questions); validated on a seeded {td.get('validation_questions')} of them.")
    else:
        held = (f"- **Held out** (validation, and the only SQuAD questions `qa eval` scores this reader on): "
                f"{td.get('validation_questions')} questions of {', '.join(td.get('validation_articles', []))}.")
    reading = "whole paragraphs" if int(hp.get("context_sentences", 1)) < 0 else f"a sentence with {hp.get('context_sentences', 1)} neighbour(s) each side"
    return "\n".join([
        f"# qa span reader ({meta.get('finetune', 'lora')} fine-tune + span head over {meta.get('base_model')})",
        "",
        f"- **Base model**: {meta.get('base_model')}; the trained tensors ({trained}, fp16) are loaded into it at load time, "
        "so nothing is downloaded.",
        f"- **Training data**: {td.get('file')}: {td.get('train_questions')} questions and {td.get('negative_windows', 0)} "
        f"\"no answer\" windows, {len(arts)} articles ({', '.join(arts[:8])}{', ...' if len(arts) > 8 else ''}); reads {reading}.",
        held,
        f"- **Validation** ({val.get('n')} questions, {meta.get('validation_mode', 'gold paragraph')}): EM {val.get('em')} / "
        f"F1 {val.get('f1')} after {meta.get('steps')} steps ({meta.get('trained_seconds')} s on {where}).",
        f"- **Licence**: {meta.get('licence')}",
        f"- **Reproduce**: `{meta.get('command')}` (seed {hp.get('seed')}; every hyperparameter is in reader.json).",
        "",
    ])
