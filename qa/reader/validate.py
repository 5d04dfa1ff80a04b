"""Validation of a reader during training: read each question's own paragraph, score EM/F1.

Training-side only (imports the evaluation metrics); the engine reads through :mod:`qa.reader.model`.
"""

from __future__ import annotations

from qa.reader.data import Example


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
    from qa.eval.metrics import exact_match, f1

    if not examples:
        return {"em": 0.0, "f1": 0.0, "n": 0}
    em = sum(exact_match(preds[e.qid], e.answers) for e in examples) / len(examples)
    f = sum(f1(preds[e.qid], e.answers) for e in examples) / len(examples)
    return {"em": round(100 * em, 2), "f1": round(100 * f, 2), "n": len(examples)}
