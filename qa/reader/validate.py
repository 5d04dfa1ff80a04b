"""Validation of a reader during training: read each question's own paragraph as the engine does, score EM/F1.

The engine reads a sentence with its neighbours, not a whole paragraph, and trusts a span by its margin
over the window's "no answer" score. Validating on whole 192-token paragraph windows picked the wrong
checkpoints: a reader trained on sentence windows scored lower there as training went on (59.1 -> 52.0
F1 on 400 dev questions over 200 steps) while `qa eval --gold-paragraph` on the engine did not drop
(58.0 -> 58.3 on 300). So ``neighbours >= 0`` (the default in training) cuts each paragraph into the
engine's windows and keeps the span with the best margin; ``neighbours < 0`` reads whole paragraphs.

Training-side only (imports the evaluation metrics); the engine reads through :mod:`qa.reader.model`.
"""

from __future__ import annotations

from dataclasses import replace

from qa.reader.data import Example, _sentence_spans, _windows

#: what `reader.json` records as the validation reading, so a resumed run knows whether its best score compares
MODE_WINDOWS = "sentence windows, best margin over no-answer"
MODE_PARAGRAPH = "whole paragraph, best span score"


def validation_mode(neighbours: int) -> str:
    return MODE_WINDOWS if neighbours >= 0 else MODE_PARAGRAPH


def _best_spans(tokenizer, model, examples: list[Example], max_length: int, stride: int, batch_size: int,
                max_answer_tokens: int, margin: bool) -> dict[int, tuple[float, int, int]]:
    """Per example index: (score, char start, char end) of its best span over its token windows."""
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
            if not spans:
                continue
            top = spans[0]
            if margin:  # [CLS] at position 0 holds the window's "no answer" score
                top = (top[0] - float(s[row, 0] + e[row, 0]), top[1], top[2])
            if win.pair_index[k] not in best or top[0] > best[win.pair_index[k]][0]:
                best[win.pair_index[k]] = top
    return best


def predict(tokenizer, model, examples: list[Example], max_length: int, stride: int, batch_size: int = 32,
            max_answer_tokens: int = 30, neighbours: int = -1) -> dict[str, str]:
    """Each question's predicted answer text ("" when no span was found)."""
    if neighbours < 0:
        best = _best_spans(tokenizer, model, examples, max_length, stride, batch_size, max_answer_tokens, margin=False)
        return {ex.qid: (ex.context[best[i][1] : best[i][2]] if i in best else "") for i, ex in enumerate(examples)}
    cache: dict[str, list[tuple[int, int]]] = {}
    parts: list[Example] = []
    owner: list[int] = []
    for i, ex in enumerate(examples):
        for a, b in _windows(_sentence_spans(ex.context, cache), neighbours) or [(0, len(ex.context))]:
            parts.append(replace(ex, context=ex.context[a:b]))
            owner.append(i)
    best = _best_spans(tokenizer, model, parts, max_length, stride, batch_size, max_answer_tokens, margin=True)
    chosen: dict[int, tuple[float, str]] = {}
    for j, (sc, a, b) in best.items():
        i = owner[j]
        if i not in chosen or sc > chosen[i][0]:
            chosen[i] = (sc, parts[j].context[a:b])
    return {ex.qid: (chosen[i][1] if i in chosen else "") for i, ex in enumerate(examples)}


def score(examples: list[Example], preds: dict[str, str]) -> dict[str, float]:
    from qa.eval.metrics import exact_match, f1

    if not examples:
        return {"em": 0.0, "f1": 0.0, "n": 0}
    em = sum(exact_match(preds[e.qid], e.answers) for e in examples) / len(examples)
    f = sum(f1(preds[e.qid], e.answers) for e in examples) / len(examples)
    return {"em": round(100 * em, 2), "f1": round(100 * f, 2), "n": len(examples)}
