"""Where a reader artifact's files are and which base model it adapts: shared by loading and training.

Kept apart from :mod:`qa.reader.train` so that loading a reader never imports training code.
"""

from __future__ import annotations

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
