"""Question/passage pairs to token windows and back: shared by training and inference.

Long passages are cut into overlapping windows (``max_length`` tokens, ``stride`` tokens of overlap),
the usual SQuAD recipe. Offsets map every context token back to characters of the passage, so a span
the model picks is a verbatim slice of the document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Windows:
    """Tokenised windows plus what is needed to map predictions back to passage characters."""

    input_ids: list[list[int]]
    token_type_ids: list[list[int]]
    attention_mask: list[list[int]]
    #: for each window, the index of the (question, passage) pair it came from
    pair_index: list[int]
    #: for each window, per token: (char_start, char_end) in the passage, or None outside the passage
    offsets: list[list[tuple[int, int] | None]]


#: longer questions are cut to this many tokens, so a window always has room for the passage
MAX_QUESTION_TOKENS = 64


def clip_question(tokenizer, question: str, max_tokens: int = MAX_QUESTION_TOKENS) -> str:
    """``question`` cut after its first ``max_tokens`` word pieces (a 2000-character question would
    otherwise leave no room for the passage, and "only_second" truncation cannot cut the question)."""
    enc = tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
    offsets = enc["offset_mapping"]
    return question if len(offsets) <= max_tokens else question[: offsets[max_tokens - 1][1]]


def make_windows(
    tokenizer, questions: Sequence[str], contexts: Sequence[str], max_length: int, stride: int
) -> Windows:
    questions = [clip_question(tokenizer, q, min(MAX_QUESTION_TOKENS, max_length // 4)) for q in questions]
    enc = tokenizer(
        list(questions),
        list(contexts),
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=False,
    )
    offsets = []
    for i, mapping in enumerate(enc["offset_mapping"]):
        seq = enc.sequence_ids(i)
        offsets.append([tuple(o) if s == 1 else None for o, s in zip(mapping, seq)])
    return Windows(
        input_ids=enc["input_ids"],
        token_type_ids=enc["token_type_ids"],
        attention_mask=enc["attention_mask"],
        pair_index=list(enc["overflow_to_sample_mapping"]),
        offsets=offsets,
    )


def pad_batch(rows: Sequence[Sequence[int]], pad: int = 0) -> np.ndarray:
    """Pad to the longest row (not to max_length): most SQuAD windows are far shorter than 256 tokens."""
    width = max(len(r) for r in rows)
    out = np.full((len(rows), width), pad, dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def window_logits(model, win: Windows, ks: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Start and end logits of windows ``ks`` (rows padded to the longest), in one forward pass."""
    import torch

    device = next(model.parameters()).device  # cpu on the query path; a GPU while training

    def batch(rows: list[list[int]]) -> "torch.Tensor":
        return torch.from_numpy(pad_batch([rows[k] for k in ks])).to(device)

    with torch.inference_mode():
        out = model(input_ids=batch(win.input_ids), token_type_ids=batch(win.token_type_ids), attention_mask=batch(win.attention_mask))
    return out.start_logits.float().cpu().numpy(), out.end_logits.float().cpu().numpy()


def best_spans(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    offsets: Sequence[tuple[int, int] | None],
    max_answer_tokens: int = 30,
    n_best: int = 20,
    top: int = 1,
) -> list[tuple[float, int, int]]:
    """Best ``top`` (score, char_start, char_end) spans of one window; score = start + end logit.

    Among the ``n_best`` best starts and ``n_best`` best ends, every pair with the end not before the
    start and at most ``max_answer_tokens`` long, best first (equal scores: starts in logit order,
    then ends), one per distinct character span."""
    valid = np.array([o is not None for o in offsets[: len(start_logits)]])
    if not valid.any():
        return []
    s = np.where(valid, start_logits[: len(valid)], -np.inf)
    e = np.where(valid, end_logits[: len(valid)], -np.inf)
    starts = np.argsort(-s)[:n_best]
    ends = np.argsort(-e)[:n_best]
    starts, ends = starts[np.isfinite(s[starts])], ends[np.isfinite(e[ends])]
    i, j = np.meshgrid(starts, ends, indexing="ij")  # row-major: each start, then each end
    keep = (j >= i) & (j - i + 1 <= max_answer_tokens)
    i, j = i[keep], j[keep]
    scores = s[i] + e[j]
    firsts, lasts = i.tolist(), j.tolist()
    seen: set[tuple[int, int]] = set()
    out = []
    for k in np.argsort(-scores, kind="stable").tolist():
        a, b = offsets[firsts[k]][0], offsets[lasts[k]][1]  # type: ignore[index]
        if (a, b) in seen:
            continue
        seen.add((a, b))
        out.append((float(scores[k]), a, b))
        if len(out) >= top:
            break
    return out
