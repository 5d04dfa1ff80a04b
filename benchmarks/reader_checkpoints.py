"""Compare reader artifacts and training checkpoints the way training validates them (the engine's windows).

Each source is an artifact folder (``adapter.safetensors``) or a ``checkpoint.pt`` of ``qa train-reader``;
``--average`` also scores the uniform average of all their weights (a "model soup"). The questions are
the sample ``qa train-reader --limit-val N --seed S`` validates on, so the figures compare with its log.

    python benchmarks/reader_checkpoints.py qa/reader/artifact /root/reader-v3/checkpoint/checkpoint.pt \\
        --squad ../shared/benchmarks/squad-v1.1/dev-half.json --limit 400 --seed 1 --average

Full fine-tunes only (LoRA artifacts need their adapters merged: load them through the engine instead).
"""

from __future__ import annotations

import argparse
import random


def weights(src: str) -> dict:
    import torch
    from safetensors.torch import load_file

    if src.endswith(".pt"):
        return {k: v.float() for k, v in torch.load(src, weights_only=False)["model"].items()}
    return {k: v.float() for k, v in load_file(f"{src}/adapter.safetensors").items()}


def main() -> None:
    import torch

    from qa.reader.data import examples_of, read_squad
    from qa.reader.train import TrainConfig, build_model
    from qa.reader.validate import predict, score

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sources", nargs="+")
    ap.add_argument("--squad", required=True)
    ap.add_argument("--limit", type=int, default=400)
    ap.add_argument("--seed", type=int, default=1, help="the training run's --seed (its sample is Random(seed + 1))")
    ap.add_argument("--neighbours", type=int, default=1, help="-1 reads whole paragraphs (the old validation)")
    ap.add_argument("--average", action="store_true")
    args = ap.parse_args()
    examples = examples_of(read_squad(args.squad))
    val = random.Random(args.seed + 1).sample(examples, min(args.limit, len(examples)))
    tokenizer, model, _ = build_model(TrainConfig(squad=args.squad, out="/tmp/unused", finetune="full"))
    params = dict(model.named_parameters())
    states = {src: weights(src) for src in args.sources}
    if args.average and len(states) > 1:
        keys = next(iter(states.values()))
        states["average of all"] = {k: sum(s[k] for s in states.values()) / len(states) for k in keys}
    for name, state in states.items():
        with torch.no_grad():
            for k, v in state.items():
                params[k].copy_(v)
        preds = predict(tokenizer, model, val, 192, 96, neighbours=args.neighbours)
        print(f"{name}: {score(val, preds)}", flush=True)


if __name__ == "__main__":
    main()
