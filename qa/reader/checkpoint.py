"""Training checkpoints for ``qa train-reader --resume``: a pair, saved atomically and loaded back.

A checkpoint holds the trained tensors, the optimiser and schedule, torch's RNG and the loop's position,
so a stopped run continues where it stopped (a kill mid-save keeps the previous checkpoint).
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Any


def trained_state(model) -> dict[str, Any]:
    """The tensors the artifact ships: whatever training changed (adapters, or whole encoder layers)."""
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def checkpoint_dir(cfg) -> Path:
    return Path(cfg.checkpoint_dir) if cfg.checkpoint_dir else Path(cfg.out) / "checkpoint"


def save_checkpoint(cfg, model, opt, sched, state: dict[str, Any]) -> None:
    """Everything ``--resume`` needs, written atomically (a kill mid-save keeps the previous one)."""
    import torch

    d = checkpoint_dir(cfg)
    d.mkdir(parents=True, exist_ok=True)
    blob = {
        "model": trained_state(model),
        "opt": opt.state_dict(),
        "sched": sched.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "state": state,
        "config": asdict(cfg),
    }
    tmp = d / "checkpoint.pt.tmp"
    torch.save(blob, tmp)
    os.replace(tmp, d / "checkpoint.pt")


def load_checkpoint(cfg, model, opt, sched) -> dict[str, Any]:
    import torch

    path = checkpoint_dir(cfg) / "checkpoint.pt"
    if not path.is_file():
        raise SystemExit(f"--resume: no checkpoint at {path}; start without --resume")
    blob = torch.load(path, weights_only=False, map_location="cpu")  # a GPU run resumes on a CPU too
    params = dict(model.named_parameters())
    with torch.no_grad():
        for k, v in blob["model"].items():
            params[k].copy_(v)
    opt.load_state_dict(blob["opt"])
    sched.load_state_dict(blob["sched"])
    torch.set_rng_state(blob["torch_rng"])  # the optimiser state follows the parameters' device on load
    return blob["state"]
