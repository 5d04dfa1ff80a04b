"""Low-rank adapters for ``nn.Linear``: train a few small matrices, ship them, merge them at load time.

A rank-r adapter on a d_in x d_out linear layer adds ``(alpha / r) * B @ A`` to its weight, with ``A``
(r x d_in) and ``B`` (d_out x r). Training touches only A and B (plus LayerNorms and the span head), so
the artifact is a few MB instead of the 90 MB encoder, and after merging inference costs nothing extra.
Hand-written (about 60 lines) rather than a ``peft`` dependency: we need exactly this and nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import torch
from torch import nn

#: The linear layers of a BERT encoder block that get an adapter (names as in transformers' BertLayer).
DEFAULT_TARGETS = ("query", "key", "value", "attention.output.dense", "intermediate.dense", "output.dense")


class LoRALinear(nn.Module):
    """A frozen ``nn.Linear`` plus a trainable low-rank update.

    >>> layer = LoRALinear(nn.Linear(8, 4), rank=2, alpha=4)
    >>> layer(torch.zeros(1, 8)).shape
    torch.Size([1, 4])
    """

    def __init__(self, base: nn.Linear, rank: int, alpha: float, dropout: float = 0.0):
        super().__init__()
        self.base = base
        self.rank = rank
        self.scale = alpha / rank
        self.lora_A = nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank))
        # B starts at zero so the adapted model starts exactly at the base model
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        base.weight.requires_grad_(False)
        if base.bias is not None:
            base.bias.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (self.dropout(x) @ self.lora_A.T @ self.lora_B.T) * self.scale

    def delta(self) -> torch.Tensor:
        return (self.lora_B @ self.lora_A) * self.scale


def _matches(name: str, targets: Iterable[str]) -> bool:
    return any(name == t or name.endswith("." + t) for t in targets)


def add_adapters(
    model: nn.Module, rank: int, alpha: float, dropout: float = 0.0, targets: Iterable[str] = DEFAULT_TARGETS
) -> list[str]:
    """Wrap every targeted linear layer of ``model.bert.encoder`` in a :class:`LoRALinear`; return their names."""
    targets = tuple(targets)
    wrapped = []
    for name, module in list(model.named_modules()):
        if ".encoder." not in name or not isinstance(module, nn.Linear) or not _matches(name, targets):
            continue
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        setattr(parent, child, LoRALinear(module, rank, alpha, dropout))
        wrapped.append(name)
    return wrapped


def adapter_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """The tensors that make up the artifact: adapter matrices, LayerNorms and the span head."""
    state = {}
    for name, param in model.named_parameters():
        if "lora_A" in name or "lora_B" in name or "LayerNorm" in name or name.startswith("qa_outputs."):
            state[name] = param.detach().clone()
    return state


def merge_into(model: nn.Module, state: Mapping[str, torch.Tensor], scale: float) -> int:
    """Apply an artifact to a plain (unwrapped) model in place: W += scale * B @ A; copy the rest.

    Returns how many tensors were applied; raises ``KeyError`` when the artifact names a layer the
    model does not have (a different architecture).
    """
    params = dict(model.named_parameters())
    applied = 0
    for name, tensor in state.items():
        if name.endswith(".lora_A"):
            stem = name[: -len(".lora_A")]
            weight = params[stem + ".weight"]
            b = state[stem + ".lora_B"].float()
            with torch.no_grad():
                weight += (b @ tensor.float()) * scale
            applied += 1
        elif name.endswith(".lora_B"):
            continue
        else:
            target = params[name.replace(".base.", ".")]
            with torch.no_grad():
                target.copy_(tensor.to(target.dtype))
            applied += 1
    return applied
